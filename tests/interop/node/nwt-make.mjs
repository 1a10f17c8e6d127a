// applesauce -> tessera: Nostr Web Tokens (kind 27519) made by applesauce's
// NostrWebTokenFactory and signed by applesauce-signers' PrivateKeySigner,
// with several audiences and repeated custom claims, plus bad variants.
//
//   node nwt-make.mjs --now UNIX --aud A
//
// Prints {peer, version, signer:{pubkey,npub}, other:{pubkey,npub}, claims,
// tokens:{name: "Nostr <base64url event>"}, self_check}.
import { NostrWebTokenFactory } from 'applesauce-common/factories';
import {
  createNostrWebTokenAuthorizationHeader, isValidNostrWebToken, isNostrWebTokenActive, hasNostrWebTokenAudience,
} from 'applesauce-common/helpers/nostr-web-token';
import { PrivateKeySigner } from 'applesauce-signers';
import { verifyEvent } from 'nostr-tools/pure';
import { args, need, emit, peerVersion } from './common.mjs';
import { nostrIdentity } from './nostr-keys.mjs';

const opts = args(['now', 'aud']);
const now = Number(need(opts, 'now'));
const aud = need(opts, 'aud');

const me = nostrIdentity();
const other = nostrIdentity();
const signer = new PrivateKeySigner(me.secret);
const claims = { role: ['admin', 'auditor'], plan: ['pro'] };

async function make({ created = now, iat = now, nbf, exp, audiences = [aud, 'https://other.example'], subject, message = 'Log in to api.example' }) {
  const c = { audiences, issuedAt: iat, claims };
  if (exp !== undefined) c.expiration = exp;
  if (nbf !== undefined) c.notBefore = nbf;
  if (subject !== undefined) c.subject = subject;
  return NostrWebTokenFactory.create(c).message(message).created(created).sign(signer);
}

const header = (event) => createNostrWebTokenAuthorizationHeader(event);
const copy = (e) => JSON.parse(JSON.stringify(e));

const valid = await make({ nbf: now, exp: now + 600 });
const events = {
  valid,
  expired: await make({ created: now - 7200, iat: now - 7200, exp: now - 3600 }),
  not_yet_valid: await make({ nbf: now + 3600, exp: now + 7200 }),
  no_exp: await make({}),
  no_aud: await make({ audiences: [], exp: now + 600 }),
  sub_other: await make({ subject: other.pubkey, exp: now + 600 }),
};
// After signing: content changed (id no longer matches), signature altered.
const altered = copy(valid);
altered.content = 'Log in to evil.example';
events.tampered_content = altered;
const badSig = copy(valid);
badSig.sig = badSig.sig.slice(0, -2) + (badSig.sig.slice(-2) === '00' ? '01' : '00');
events.tampered_sig = badSig;

const tokens = Object.fromEntries(Object.entries(events).map(([k, e]) => [k, header(e)]));
const self_check = {
  verifyEvent: verifyEvent(copy(valid)),
  isValidNostrWebToken: isValidNostrWebToken(valid),
  isNostrWebTokenActive: isNostrWebTokenActive(valid, now),
  hasNostrWebTokenAudience: hasNostrWebTokenAudience(valid, aud),
};
emit({
  peer: 'applesauce-common', version: peerVersion('applesauce-common'),
  signers: peerVersion('applesauce-signers'), nostr_tools: peerVersion('nostr-tools'),
  signer: { pubkey: me.pubkey, npub: me.npub }, other: { pubkey: other.pubkey, npub: other.npub },
  claims, tokens, self_check,
});
