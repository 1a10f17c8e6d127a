// Wallet formats -> their peers' own verifiers. Each case is checked the way
// that peer's users check it:
//   nwt:      nostr-tools verifyEvent + applesauce isValidNostrWebToken /
//             isNostrWebTokenActive / hasNostrWebTokenAudience
//   nip98:    nostr-tools nip98.validateEvent (signature, kind, created_at
//             against the real clock, u, method, payload when a body is given)
//   portal:   Node crypto.verify (ECDSA secp256k1, SHA-256, r||s) against the
//             point 02||x of the signer's x-only key
//   thirdweb: ethers.verifyMessage over the payload JSON bytes == `iss`
//
//   node wallet-verify.mjs --cases FILE
//
// FILE: [{id, format, token, aud, url, method, body_file, signer, now,
// expect_claims}]. `signer`, when given, is the key the credential must be
// signed by (x-only hex for Nostr formats, 0x address for thirdweb);
// `expect_claims` ({name: value}) must be found as given in the claims.
// Prints {peer, versions, results:[{id, ok, checks:{...}, claims?, error?}]}.
import { readFileSync } from 'node:fs';
import { verify as cryptoVerify } from 'node:crypto';
import {
  decodeNostrWebToken, isValidNostrWebToken, isNostrWebTokenActive, hasNostrWebTokenAudience,
  parseNostrWebTokenClaims,
} from 'applesauce-common/helpers/nostr-web-token';
import * as nip98 from 'nostr-tools/nip98';
import { verifyEvent } from 'nostr-tools/pure';
import { getAddress, verifyMessage } from 'ethers';
import { args, need, emit, peerVersion, readJson } from './common.mjs';
import { evenYPublicKey } from './nostr-keys.mjs';

const opts = args(['cases']);
const cases = readJson(need(opts, 'cases'));
const stripScheme = (t) => t.replace(/^(Nostr|Bearer) /i, '');

const check = {
  nwt(c) {
    const event = decodeNostrWebToken(stripScheme(c.token));
    if (!event) return { checks: { decode: false } };
    const checks = {
      verifyEvent: verifyEvent(event),
      isValidNostrWebToken: isValidNostrWebToken(event),
      isNostrWebTokenActive: isNostrWebTokenActive(event, c.now ?? undefined),
      hasNostrWebTokenAudience: hasNostrWebTokenAudience(event, c.aud),
    };
    if (c.signer) checks.signer = event.pubkey === c.signer;
    const claims = parseNostrWebTokenClaims(event);
    return { checks, claims, pubkey: event.pubkey };
  },
  async nip98(c) {
    const event = await nip98.unpackEventFromToken(c.token);
    const body = c.body_file ? JSON.parse(readFileSync(c.body_file, 'utf8')) : undefined;
    let validateEvent;
    try {
      validateEvent = await nip98.validateEvent(event, c.url, c.method, body);
    } catch (e) {
      validateEvent = e.message;
    }
    const checks = { validateEvent: validateEvent === true };
    if (c.signer) checks.signer = event.pubkey === c.signer;
    return { checks, error: validateEvent === true ? undefined : validateEvent, pubkey: event.pubkey };
  },
  portal(c) {
    const [h, p, s] = stripScheme(c.token).split('.');
    const header = Buffer.from(h, 'base64url').toString();
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const verified = cryptoVerify('sha256', Buffer.from(`${h}.${p}`),
      { key: evenYPublicKey(c.signer), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
    const checks = { crypto_verify: verified, header_exact: header === '{"alg":"ES256K"}' };
    if (c.aud) checks.target_key = payload.target_key === c.aud;
    return { checks, claims: payload };
  },
  thirdweb(c) {
    const [, p, s] = stripScheme(c.token).split('.');
    const json = Buffer.from(p, 'base64url').toString('utf8');
    const payload = JSON.parse(json);
    const sig = Buffer.from(s, 'base64url').toString('ascii');
    const recovered = verifyMessage(json, sig);
    const checks = { verifyMessage_is_iss: recovered === getAddress(payload.iss) };
    if (c.aud) checks.aud = payload.aud === c.aud;
    if (c.signer) checks.signer = recovered === getAddress(c.signer);
    return { checks, claims: payload, recovered };
  },
};

const results = [];
for (const c of cases) {
  try {
    const r = await check[c.format](c);
    for (const [k, v] of Object.entries(c.expect_claims ?? {})) {
      r.checks[`claim_${k}`] = JSON.stringify(r.claims?.[k]) === JSON.stringify(v);
    }
    results.push({ id: c.id, ok: Object.values(r.checks).every((v) => v === true), ...r });
  } catch (e) {
    results.push({ id: c.id, ok: false, checks: {}, error: String(e?.message ?? e) });
  }
}
emit({
  peer: 'wallet peers',
  versions: {
    'applesauce-common': peerVersion('applesauce-common'), 'nostr-tools': peerVersion('nostr-tools'),
    ethers: peerVersion('ethers'), node: process.versions.node,
  },
  results,
});
