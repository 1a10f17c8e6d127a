// ethers -> tessera: thirdweb-format wallet JWTs, signed the way thirdweb
// does: EIP-191 personal_sign (ethers Wallet.signMessage) by the admin
// wallet over the exact payload JSON; header segment is thirdweb's fixed
// `{"alg":"ES256","typ":"JWT"}`; the signature segment is base64url of the
// ASCII `0x...` signature (older thirdweb wrote standard base64).
//
//   node thirdweb-make.mjs --now UNIX --aud DOMAIN
//
// Prints {peer, version, admin, user, other, tokens:{name: jwt}, self_check}.
import { randomUUID } from 'node:crypto';
import { Wallet, verifyMessage } from 'ethers';
import { args, need, emit, peerVersion } from './common.mjs';

const opts = args(['now', 'aud']);
const now = Number(need(opts, 'now'));
const aud = need(opts, 'aud');

const HEADER = 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9';
const admin = Wallet.createRandom();
const user = Wallet.createRandom();
const other = Wallet.createRandom();

const b64url = (s) => Buffer.from(s).toString('base64url');
const b64std = (s) => Buffer.from(s).toString('base64');

async function make(over = {}, { signer = admin, enc = b64url } = {}) {
  const payload = {
    iss: admin.address, sub: user.address, aud, exp: now + 86400, nbf: now, iat: now,
    jti: randomUUID(), ctx: { role: 'admin' }, ...over,
  };
  const json = JSON.stringify(payload);
  const sig = await signer.signMessage(json);
  return { token: `${HEADER}.${b64url(json)}.${enc(sig)}`, json, sig };
}

const valid = await make();
const tokens = {
  valid: valid.token,
  std_base64_sig: (await make({}, { enc: b64std })).token,
  expired: (await make({ iat: now - 172800, nbf: now - 172800, exp: now - 86400 })).token,
  not_yet_valid: (await make({ nbf: now + 3600, exp: now + 7200 })).token,
  // Signed by a wallet that is not `iss`.
  signed_by_other: (await make({}, { signer: other })).token,
};
// Payload altered after signing (sub swapped), signature kept.
const forged = JSON.parse(valid.json);
forged.sub = other.address;
tokens.tampered = `${HEADER}.${b64url(JSON.stringify(forged))}.${b64url(valid.sig)}`;

emit({
  peer: 'ethers', version: peerVersion('ethers'),
  admin: admin.address, user: user.address, other: other.address, aud, tokens,
  self_check: { recovered_is_admin: verifyMessage(valid.json, valid.sig) === admin.address },
});
