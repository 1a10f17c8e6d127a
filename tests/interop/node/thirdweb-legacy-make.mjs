// ethers -> tessera: thirdweb-format wallet JWTs encoded as the older
// thirdweb package (@thirdweb-dev/auth 4, `buildJWT`) wrote them. That
// package is not installed (it pulls in a whole wallet SDK); its encoding
// is reproduced here from its source: the admin wallet's
// `signMessage(JSON.stringify(payload))` (an EIP-191 personal_sign, done
// here by ethers, as its ethers-based wallets did), then every segment in
// standard base64 (`+`, `/`), by Node's `Buffer#toString("base64")` with
// the `=` stripped, or by browsers' `btoa`, padding kept.
//
//   node thirdweb-legacy-make.mjs --now UNIX --aud DOMAIN
//
// Prints {peer, version, admin, user, aud, tokens:{node, browser},
// checks:{...}}: the checks say the tokens really use what makes them
// differ from base64url (the harness asserts them).
import { randomUUID } from 'node:crypto';
import { Wallet, encodeBase64, toUtf8Bytes, verifyMessage } from 'ethers';
import { args, need, emit, peerVersion } from './common.mjs';

const opts = args(['now', 'aud']);
const now = Number(need(opts, 'now'));
const aud = need(opts, 'aud');

const admin = Wallet.createRandom();
const user = Wallet.createRandom();

// @thirdweb-dev/auth 4: base64encode() in src/core/functions/jwt.ts.
const nodeB64 = (s) => Buffer.from(s).toString('base64').replace(/=/g, '');
const browserB64 = (s) => btoa(s); // Latin-1 only, as in browsers

/** A token whose payload's standard base64 has `+` or `/` (and, for the
 * browser's `btoa`, padding): the filler grows until it does. */
async function make(encode, ctx, wantPadding) {
  for (let pad = 0; ; pad++) {
    const payload = {
      iss: admin.address, sub: user.address, aud, exp: now + 86400, nbf: now, iat: now,
      jti: randomUUID(), ctx: { ...ctx, filler: 'x'.repeat(pad) },
    };
    const json = JSON.stringify(payload);
    const enc = encode(json);
    if (!/[+/]/.test(enc) || (wantPadding && !enc.endsWith('='))) continue;
    const sig = await admin.signMessage(json);
    const header = encode(JSON.stringify({ alg: 'ES256', typ: 'JWT' }));
    return { token: `${header}.${enc}.${encode(sig)}`, json, sig };
  }
}

// Node: UTF-8 text in `ctx` (the signature covers the UTF-8 bytes, as
// Buffer encodes them). Browser: btoa takes Latin-1 only, so ASCII text
// with the characters (`?`, `>`, `~`) whose base64 is `+` or `/`.
const node = await make(nodeB64, { name: 'Zoë ✓', note: 'a?b>c~' }, false);
const browser = await make(browserB64, { note: 'a?b>c~' }, true);

emit({
  peer: 'ethers', version: peerVersion('ethers'),
  admin: admin.address, user: user.address, aud,
  tokens: { node: node.token, browser: browser.token },
  checks: {
    node_payload_has_std_chars: /[+/]/.test(node.token.split('.')[1]),
    node_unpadded: !node.token.includes('='),
    browser_payload_padded: browser.token.split('.')[1].endsWith('='),
    // `0x` + 130 hex digits: 132 ASCII bytes, the same text in both alphabets.
    signature_segment_same_in_both_alphabets:
      nodeB64(node.sig) === Buffer.from(node.sig).toString('base64url')
      && encodeBase64(toUtf8Bytes(node.sig)) === nodeB64(node.sig),
    recovered_is_admin: verifyMessage(node.json, node.sig) === admin.address
      && verifyMessage(browser.json, browser.sig) === admin.address,
  },
});
