// Node crypto -> tessera: Portal wallet JWTs (formats.md §2) made the way
// Portal's signer makes them: header exactly {"alg":"ES256K"}, payload
// {exp,nbf,iat,target_key}, ECDSA secp256k1 over SHA-256 of header.payload,
// 64-byte r||s, low S, by a Nostr key normalised to even Y.
//
//   node portal-make.mjs --now UNIX
//
// Prints {peer, version, signer:{pubkey,npub}, other, target_key,
// odd_y_signer, tokens:{name: jwt}}.
import { args, need, emit } from './common.mjs';
import { nostrIdentity, evenYSecret, oddYSecret, es256kSign, pointOf, hex } from './nostr-keys.mjs';

const opts = args(['now']);
const now = Number(need(opts, 'now'));

const me = nostrIdentity();
const secret = evenYSecret(me.secret); // same x-only key, even Y
const other = nostrIdentity();
const target = nostrIdentity().pubkey; // the service's key the user vouches for

const b64url = (b) => Buffer.from(b).toString('base64url');
const HEADER = b64url('{"alg":"ES256K"}');

function make({ iat = now, nbf = now, exp = now + 3600, target_key = target } = {}, { key = secret, highS = false } = {}) {
  const payload = b64url(JSON.stringify({ exp, nbf, iat, target_key }));
  const input = `${HEADER}.${payload}`;
  return `${input}.${b64url(es256kSign(key, input, { highS }))}`;
}

const valid = make();
const parts = valid.split('.');
const forged = JSON.parse(Buffer.from(parts[1], 'base64url'));
forged.target_key = other.pubkey;
// A signer that did NOT normalise its odd-Y secret: tessera lifts x to even Y.
const odd = oddYSecret();
emit({
  peer: 'node:crypto', version: process.versions.node,
  signer: { pubkey: me.pubkey, npub: me.npub }, other: { pubkey: other.pubkey, npub: other.npub },
  target_key: target,
  odd_y_signer: hex(pointOf(odd).x),
  tokens: {
    valid,
    expired: make({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
    not_yet_valid: make({ nbf: now + 3600, exp: now + 7200 }),
    high_s: make({}, { highS: true }),
    tampered: `${parts[0]}.${b64url(JSON.stringify(forged))}.${parts[2]}`,
    odd_y_unnormalised: make({}, { key: odd }),
  },
});
