// Logs in to a running `tessera serve` the way real clients do, then checks
// the access token in jose against the server's JWKS (typ at+jwt, RFC 9068).
//   siwe:  ethers Wallet + siwe SiweMessage from POST /v1/auth/challenge
//   nip98: nostr-tools nip98.getToken for POST <public_url>/v1/auth/login
//   nwt:   applesauce NostrWebTokenFactory with aud = the server audience
//
//   node server-login.mjs --base URL --method siwe|nip98|nwt
//
// Prints {peer, versions, method, skipped?, reason?, login:{status, body},
// expected_subject, access:{ok, payload, header} | {ok:false, code, message}}.
// A server without the login routes (404) is reported as skipped.
import * as jose from 'jose';
import { Wallet } from 'ethers';
import { SiweMessage } from 'siwe';
import * as nip98 from 'nostr-tools/nip98';
import { finalizeEvent } from 'nostr-tools/pure';
import { NostrWebTokenFactory } from 'applesauce-common/factories';
import { createNostrWebTokenAuthorizationHeader } from 'applesauce-common/helpers/nostr-web-token';
import { PrivateKeySigner } from 'applesauce-signers';
import { args, need, emit, peerVersion, outcome } from './common.mjs';
import { nostrIdentity } from './nostr-keys.mjs';

const opts = args(['base', 'method']);
const base = need(opts, 'base').replace(/\/$/, '');
const method = need(opts, 'method');
const versions = {
  jose: peerVersion('jose'), ethers: peerVersion('ethers'), siwe: peerVersion('siwe'),
  'nostr-tools': peerVersion('nostr-tools'), 'applesauce-common': peerVersion('applesauce-common'),
};

async function call(path, { body, headers = {}, verb = 'POST' } = {}) {
  const res = await fetch(base + path, {
    method: verb,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, body: json };
}

function done(doc) {
  emit({ peer: 'server clients', versions, method, ...doc });
  process.exit(0);
}

const info = await call('/v1/info', { verb: 'GET' });
if (info.status !== 200) done({ skipped: true, reason: `GET /v1/info answered ${info.status}` });
const { issuer, audience, jwks_uri } = info.body;
const now = Math.floor(Date.now() / 1000);

let login;
let subject;
if (method === 'siwe') {
  const wallet = Wallet.createRandom();
  subject = wallet.address;
  const ch = await call('/v1/auth/challenge', { body: { address: wallet.address } });
  if (ch.status === 404) done({ skipped: true, reason: 'POST /v1/auth/challenge answered 404 (no SIWE login in this build)' });
  if (ch.status !== 200) done({ challenge: ch, login: null, expected_subject: subject });
  // Build the message from the challenge fields, as a dapp does with siwe.
  const msg = new SiweMessage({
    domain: ch.body.domain, address: wallet.address, statement: 'Sign in to tessera interop.',
    uri: ch.body.uri, version: '1', chainId: ch.body.chain_id, nonce: ch.body.nonce,
    issuedAt: new Date(now * 1000).toISOString(),
  }).prepareMessage();
  const signature = await wallet.signMessage(msg);
  login = await call('/v1/auth/login', { body: { method: 'siwe', message: msg, signature } });
} else if (method === 'nip98') {
  const me = nostrIdentity();
  subject = me.pubkey;
  const url = info.body.login_url ?? `${issuer.replace(/\/$/, '')}/v1/auth/login`;
  const auth = await nip98.getToken(url, 'POST', (t) => finalizeEvent(t, me.secret), true);
  login = await call('/v1/auth/login', { headers: { authorization: auth } });
} else if (method === 'nwt') {
  const me = nostrIdentity();
  subject = me.pubkey;
  const event = await NostrWebTokenFactory.create({ audiences: [audience], expiration: now + 300, issuedAt: now })
    .sign(new PrivateKeySigner(me.secret));
  login = await call('/v1/auth/login', { headers: { authorization: createNostrWebTokenAuthorizationHeader(event) } });
} else {
  process.stderr.write(`unknown --method ${method}\n`);
  process.exit(2);
}
if (login.status === 404) done({ skipped: true, reason: 'POST /v1/auth/login answered 404 (no login in this build)' });

const access = login.status === 200 && login.body?.access_token
  ? await outcome(async () => {
      const set = jose.createRemoteJWKSet(new URL(jwks_uri));
      const { payload, protectedHeader } = await jose.jwtVerify(login.body.access_token, set,
        { issuer, audience, typ: 'at+jwt' });
      return { payload, header: protectedHeader };
    })
  : { ok: false, code: 'NO_ACCESS_TOKEN', message: 'the login did not return an access token' };
done({ login, expected_subject: subject, access });
