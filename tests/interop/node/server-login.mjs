// Logs in to a running `tessera serve` the way real clients do, then checks
// the access token in jose against the server's JWKS (typ at+jwt, RFC 9068).
//   siwe:  ethers Wallet.createRandom + siwe SiweMessage built from the
//          fields of POST /v1/auth/challenge, signed with ethers
//   nip98: nostr-tools nip98.getToken(<public_url>/v1/auth/login, 'POST', sign, true)
//   nwt:   applesauce NostrWebTokenFactory with aud = the public URL
//
//   node server-login.mjs --base PUBLIC_URL --method siwe|nip98|nwt
//
// Prints {peer, versions, method, base, info, expected_subject,
//   challenge? (siwe), server_message? (siwe: the server's ready message as
//   the siwe package parses it), login:{status, body},
//   access:{ok, payload, header} | {ok:false, code, message},
//   me:{status, body}, negatives:{name: {status, body} | jose outcome}}.
// The script only reports; crates/tessera-cli/tests/interop.rs judges.
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
  node: process.versions.node,
};
const loginUrl = `${base}/v1/auth/login`;

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

/** jose, the way an API checks tessera's access tokens: the remote JWKS,
 * issuer and audience = the public URL, typ at+jwt. */
const jwks = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
const checkAccess = (token, { audience = base } = {}) => outcome(async () => {
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks,
    { issuer: base, audience, typ: 'at+jwt' });
  return { payload, header: protectedHeader };
});

const info = await call('/v1/info', { verb: 'GET' });
const now = Math.floor(Date.now() / 1000);
const doc = { base, info };
const negatives = {};

async function siweLogin(wallet, signer = wallet) {
  const ch = await call('/v1/auth/challenge', { body: { address: wallet.address } });
  if (ch.status !== 200) return { ch };
  // Built from the challenge's fields with the siwe package, as a dapp does.
  const message = new SiweMessage({
    domain: ch.body.domain, address: wallet.address, statement: 'Sign in to tessera interop.',
    uri: ch.body.uri, version: '1', chainId: ch.body.chain_id, nonce: ch.body.nonce,
    issuedAt: new Date(now * 1000).toISOString(),
  }).prepareMessage();
  const signature = await signer.signMessage(message);
  const body = { method: 'siwe', message, signature };
  return { ch, body, login: await call('/v1/auth/login', { body }) };
}

let login;
if (method === 'siwe') {
  const wallet = Wallet.createRandom();
  doc.expected_subject = wallet.address;
  const first = await siweLogin(wallet);
  doc.challenge = first.ch;
  login = first.login ?? { status: 0, body: 'no login: the challenge failed' };
  if (typeof first.ch.body?.message === 'string') {
    // The server's ready EIP-4361 text, read by the siwe package's parser.
    doc.server_message = await outcome(async () => {
      const m = new SiweMessage(first.ch.body.message);
      return { fields: { domain: m.domain, address: m.address, uri: m.uri, version: m.version,
        chainId: m.chainId, nonce: m.nonce } };
    });
  }
  if (first.body) {
    // The same signed message again: its nonce is spent.
    negatives.replayed_message = await call('/v1/auth/login', { body: first.body });
  }
  // A message for this wallet's address, signed by another wallet.
  negatives.signed_by_other_wallet = (await siweLogin(wallet, Wallet.createRandom())).login;
} else if (method === 'nip98') {
  const me = nostrIdentity();
  doc.expected_subject = me.pubkey;
  const sign = (t) => finalizeEvent(t, me.secret);
  const auth = await nip98.getToken(loginUrl, 'POST', sign, true);
  doc.authorization = auth;
  login = await call('/v1/auth/login', { headers: { authorization: auth } });
  // The same event again, an event for another URL, one for another method.
  negatives.replayed_event = await call('/v1/auth/login', { headers: { authorization: auth } });
  negatives.other_url = await call('/v1/auth/login', {
    headers: { authorization: await nip98.getToken(`${base}/v1/auth/other`, 'POST', sign, true) },
  });
  negatives.other_method = await call('/v1/auth/login', {
    headers: { authorization: await nip98.getToken(loginUrl, 'GET', sign, true) },
  });
} else if (method === 'nwt') {
  const me = nostrIdentity();
  doc.expected_subject = me.pubkey;
  const signer = new PrivateKeySigner(me.secret);
  const nwt = async (audiences) => createNostrWebTokenAuthorizationHeader(
    await NostrWebTokenFactory.create({ audiences, expiration: now + 300, issuedAt: now }).sign(signer));
  login = await call('/v1/auth/login', { headers: { authorization: await nwt([base]) } });
  negatives.other_audience = await call('/v1/auth/login', {
    headers: { authorization: await nwt(['https://elsewhere.example']) },
  });
} else {
  process.stderr.write(`unknown --method ${method}\n`);
  process.exit(2);
}

const token = login.status === 200 ? login.body?.access_token : undefined;
doc.access = token
  ? await checkAccess(token)
  : { ok: false, code: 'NO_ACCESS_TOKEN', message: 'the login did not return an access token' };
if (token) {
  doc.me = await call('/v1/auth/me', { verb: 'GET', headers: { authorization: `Bearer ${token}` } });
  negatives.jose_other_audience = await checkAccess(token, { audience: 'https://elsewhere.example' });
}
emit({ peer: 'server clients', versions, method, ...doc, login, negatives });
