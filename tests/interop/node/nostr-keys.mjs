// Nostr and secp256k1 key helpers shared by the wallet-format scripts.
import { createECDH, createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { npubEncode } from 'nostr-tools/nip19';

export const SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141n;

export const hex = (b) => Buffer.from(b).toString('hex');

/** A fresh Nostr identity: secret bytes, x-only pubkey hex, npub. */
export function nostrIdentity() {
  const secret = generateSecretKey();
  const pubkey = getPublicKey(secret);
  return { secret, secretHex: hex(secret), pubkey, npub: npubEncode(pubkey) };
}

/** Uncompressed point of a secp256k1 secret: {x, y} as Buffers. */
export function pointOf(secret) {
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(Buffer.from(secret));
  const u = ecdh.getPublicKey(null, 'uncompressed');
  return { x: u.subarray(1, 33), y: u.subarray(33, 65) };
}

const toBig = (b) => BigInt('0x' + Buffer.from(b).toString('hex'));
const to32 = (n) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');

/** The secret whose point has even Y (what Portal's signer does, formats.md §2). */
export function evenYSecret(secret) {
  const { y } = pointOf(secret);
  return (y[31] & 1) === 0 ? Buffer.from(secret) : to32(SECP256K1_N - toBig(secret));
}

/** A secp256k1 secret whose point has odd Y (to test the lifting rule). */
export function oddYSecret() {
  for (;;) {
    const s = Buffer.from(generateSecretKey());
    if ((pointOf(s).y[31] & 1) === 1) return s;
  }
}

/** Node KeyObject for a secp256k1 secret. */
export function privateKeyObject(secret) {
  const { x, y } = pointOf(secret);
  return createPrivateKey({
    key: { kty: 'EC', crv: 'secp256k1', d: Buffer.from(secret).toString('base64url'), x: x.toString('base64url'), y: y.toString('base64url') },
    format: 'jwk',
  });
}

/** Node KeyObject for the point `02 || x` (even Y), from a 64-hex x-only key. */
export function evenYPublicKey(xHex) {
  // SubjectPublicKeyInfo for id-ecPublicKey / secp256k1 with a compressed point.
  const prefix = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex');
  const der = Buffer.concat([prefix, Buffer.from('02' + xHex, 'hex')]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

/** ECDSA secp256k1 over SHA-256, 64-byte r||s, with the S half chosen. */
export function es256kSign(secret, message, { highS = false } = {}) {
  const sig = cryptoSign('sha256', Buffer.from(message), { key: privateKeyObject(secret), dsaEncoding: 'ieee-p1363' });
  let s = toBig(sig.subarray(32));
  if ((s > SECP256K1_N / 2n) !== highS) s = SECP256K1_N - s;
  return Buffer.concat([sig.subarray(0, 32), to32(s)]);
}
