// Real clients through a real gateway (nginx auth_request or Caddy
// forward_auth) in front of `tessera serve` and an app that echoes the
// request head it received:
//   SIWE login: ethers Wallet.createRandom + siwe SiweMessage from the
//               fields of POST /v1/auth/challenge (through the gateway)
//   NIP-98:     nostr-tools nip98.getToken, for the login and for calls to
//               the app, with and without a `payload` tag
// then protected routes of the app with those credentials, without any,
// and with the spoofed headers of issue 20.
//
//   node gateway-clients.mjs --base FRONT_URL --admin-secret HEX
//
// FRONT_URL is the gateway (tessera's public_url); --admin-secret is the
// Nostr secret of the subject the /admin/* rule names. Prints
// {peer, versions, base, subjects:{siwe, nostr, admin}, cases:{name:
// {status, body, www_authenticate}}}; `body` is the text (the app's echo
// of the request head when the gateway let the request through).
// The script only reports; crates/tessera-cli/tests/interop/gateways.rs
// judges.
import { Wallet } from 'ethers';
import { SiweMessage } from 'siwe';
import * as nip98 from 'nostr-tools/nip98';
import { finalizeEvent, getPublicKey } from 'nostr-tools/pure';
import { args, need, emit, peerVersion } from './common.mjs';
import { nostrIdentity } from './nostr-keys.mjs';

const opts = args(['base', 'admin-secret']);
const base = need(opts, 'base').replace(/\/$/, '');
const adminSecret = Uint8Array.from(Buffer.from(need(opts, 'admin-secret'), 'hex'));
const versions = {
  ethers: peerVersion('ethers'), siwe: peerVersion('siwe'),
  'nostr-tools': peerVersion('nostr-tools'), node: process.versions.node,
};

/** One request through the gateway: {status, body (text), www_authenticate}. */
async function call(path, { verb = 'GET', headers = {}, body } = {}) {
  const res = await fetch(base + path, { method: verb, headers, body });
  return {
    status: res.status,
    body: await res.text(),
    www_authenticate: res.headers.get('www-authenticate'),
  };
}

const json = (r) => { try { return JSON.parse(r.body); } catch { return null; } };
const bearer = (token) => ({ authorization: `Bearer ${token}` });
const cases = {};

// ---- SIWE login with ethers + siwe, through the gateway.
const wallet = Wallet.createRandom();
const challenge = await call('/v1/auth/challenge', {
  verb: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ address: wallet.address }),
});
cases.siwe_challenge = challenge;
const ch = json(challenge) ?? {};
const message = new SiweMessage({
  domain: ch.domain, address: wallet.address, statement: 'Sign in through the gateway.',
  uri: ch.uri, version: '1', chainId: ch.chain_id, nonce: ch.nonce,
  issuedAt: new Date().toISOString(),
}).prepareMessage();
cases.siwe_login = await call('/v1/auth/login', {
  verb: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ method: 'siwe', message, signature: await wallet.signMessage(message) }),
});
const siweToken = json(cases.siwe_login)?.access_token ?? 'no-token';

// ---- The SIWE user's access token at the app.
cases.siwe_allowed = await call('/orders?id=7', { headers: bearer(siweToken) });
// Forged X-Auth-* copies: the app must see tessera's values only.
cases.siwe_forged_headers = await call('/orders?id=7', {
  headers: { ...bearer(siweToken), 'x-auth-subject': 'forged', 'x-auth-issuer': 'forged',
    'x-auth-claim-role': 'admin' },
});
cases.siwe_admin_forbidden = await call('/admin/users', { headers: bearer(siweToken) });
cases.no_credential = await call('/orders?id=7');
cases.bad_token = await call('/orders?id=7', { headers: bearer(siweToken.slice(0, -4) + 'AAAA') });
cases.public_anonymous = await call('/public/a.css', { headers: { 'x-auth-subject': 'forged' } });

// ---- NIP-98 login with nostr-tools (the admin), through the gateway.
const sign = (secret) => (t) => finalizeEvent(t, secret);
const asAdmin = sign(adminSecret);
const adminLogin = await nip98.getToken(`${base}/v1/auth/login`, 'POST', asAdmin, true);
cases.nip98_login = await call('/v1/auth/login', { verb: 'POST', headers: { authorization: adminLogin } });
const adminToken = json(cases.nip98_login)?.access_token ?? 'no-token';
cases.admin_allowed = await call('/admin/users', { headers: bearer(adminToken) });

// ---- NIP-98 requests to the app, signed by another Nostr user.
const me = nostrIdentity();
const asMe = sign(me.secret);
const orders = `${base}/orders?id=7`;
const getOrders = await nip98.getToken(orders, 'GET', asMe, true);
cases.nip98_get = await call('/orders?id=7', { headers: { authorization: getOrders } });
cases.nip98_replayed = await call('/orders?id=7', { headers: { authorization: getOrders } });
cases.nip98_admin_forbidden = await call('/admin/users', {
  headers: { authorization: await nip98.getToken(`${base}/admin/users`, 'GET', asMe, true) },
});
const payload = { action: 'transfer', amount: 5 };
const body = JSON.stringify(payload);
const post = (path, authorization) => call(path, {
  verb: 'POST', headers: { authorization, 'content-type': 'application/json' }, body,
});
// A body, and an event without a `payload` tag: nothing to compare.
cases.nip98_post_without_payload_tag = await post('/orders',
  await nip98.getToken(`${base}/orders`, 'POST', asMe, true));
// A body, and an event with a `payload` tag (nostr-tools hashes
// JSON.stringify(payload)): the gateway does not forward the body.
cases.nip98_post_payload_default = await post('/orders',
  await nip98.getToken(`${base}/orders`, 'POST', asMe, true, payload));
cases.nip98_post_payload_unchecked = await post('/upload',
  await nip98.getToken(`${base}/upload`, 'POST', asMe, true, payload));
cases.nip98_unchecked_other_url = await post('/upload',
  await nip98.getToken(`${base}/orders`, 'POST', asMe, true, payload));

// ---- The spoofs of issue 20.
// A GET-signed event sent with DELETE, plus client X-Forwarded-Method and
// X-Original-Method saying GET.
cases.spoof_method = await call('/orders?id=7', {
  verb: 'DELETE',
  headers: { authorization: await nip98.getToken(orders, 'GET', asMe, true),
    'x-forwarded-method': 'GET', 'x-original-method': 'GET' },
});
// An event signed for evil.example, with client headers naming it.
const evil = 'http://evil.example/orders?id=7';
cases.spoof_url = await call('/orders?id=7', {
  headers: { authorization: await nip98.getToken(evil, 'GET', asMe, true),
    'x-original-url': evil, 'x-forwarded-host': 'evil.example', 'x-forwarded-uri': '/orders?id=7',
    'x-forwarded-proto': 'http' },
});

emit({
  peer: 'gateway clients', versions, base,
  subjects: { siwe: wallet.address, nostr: me.pubkey, admin: getPublicKey(adminSecret) },
  cases,
});
