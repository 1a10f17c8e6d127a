// nostr-tools -> tessera: NIP-98 HTTP Auth events (kind 27235) made by
// nostr-tools' nip98.getToken, with and without a payload hash, plus bad
// variants. The request body a payload-hash event covers is written to
// --body-out (nip98 hashes JSON.stringify(payload)).
//
//   node nip98-make.mjs --url URL --body-out FILE
//
// Prints {peer, version, signer:{pubkey,npub}, other:{pubkey,npub},
// created_at, tokens:{name: "Nostr <base64 event>"}, self_check}.
import { writeFileSync } from 'node:fs';
import * as nip98 from 'nostr-tools/nip98';
import { finalizeEvent, verifyEvent } from 'nostr-tools/pure';
import { args, need, emit, peerVersion } from './common.mjs';
import { nostrIdentity } from './nostr-keys.mjs';

const opts = args(['url', 'body-out']);
const url = need(opts, 'url');
const bodyOut = need(opts, 'body-out');

const me = nostrIdentity();
const other = nostrIdentity();
const sign = (template) => finalizeEvent(template, me.secret);
const payload = { action: 'transfer', amount: 5, memo: 'héllo & <ok>' };
writeFileSync(bodyOut, JSON.stringify(payload));

const unpack = (token) => JSON.parse(Buffer.from(token.replace(/^Nostr /, ''), 'base64').toString('utf8'));
const pack = (event) => 'Nostr ' + Buffer.from(JSON.stringify(event)).toString('base64');

const tokens = {
  get: await nip98.getToken(url, 'GET', sign, true),
  post_payload: await nip98.getToken(url, 'POST', sign, true, payload),
  post_no_payload: await nip98.getToken(url, 'POST', sign, true),
};
// Old: the same shape as getToken makes, signed 10 minutes ago.
const created = unpack(tokens.get).created_at;
tokens.stale = pack(finalizeEvent({ kind: 27235, created_at: created - 600, tags: [['u', url], ['method', 'GET']], content: '' }, me.secret));
// After signing: the URL tag changed (the id no longer matches).
const altered = unpack(tokens.get);
altered.tags[0][1] = url + '&admin=1';
tokens.tampered = pack(altered);
// The id is right, but the signature is my signature of another event.
const wrongSig = unpack(tokens.get);
wrongSig.sig = unpack(tokens.post_no_payload).sig;
tokens.sig_of_other_event = pack(wrongSig);

emit({
  peer: 'nostr-tools', version: peerVersion('nostr-tools'),
  signer: { pubkey: me.pubkey, npub: me.npub }, other: { pubkey: other.pubkey, npub: other.npub },
  created_at: created, url, payload, tokens,
  self_check: {
    get: await nip98.validateToken(tokens.get, url, 'GET').catch((e) => e.message),
    post_payload: await nip98.validateEvent(unpack(tokens.post_payload), url, 'POST', payload).catch((e) => e.message),
    verifyEvent: verifyEvent(unpack(tokens.get)),
  },
});
