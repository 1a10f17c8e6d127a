// jose -> tessera: makes a JWT for every algorithm jose supports, with jose's
// own generated keys exported in jose's formats (JWK, SPKI/PKCS#8 PEM).
//
//   node jwt-make.mjs --out DIR --now UNIX --sub S --aud A --iss I
//
// Prints {peer, version, algs:[{alg, sub, kid, files:{...}, tokens:{...}}],
// unsupported:[{alg, reason}], extras:[...]}. Key files are written to DIR.
import * as jose from 'jose';
import { args, need, emit, peerVersion, writer } from './common.mjs';

const opts = args(['out', 'now', 'sub', 'aud', 'iss']);
const out = writer(need(opts, 'out'));
const now = Number(need(opts, 'now'));
const sub = need(opts, 'sub');
const aud = need(opts, 'aud');
const iss = need(opts, 'iss');

// Every algorithm tessera implements (formats.md §1); jose is asked for each,
// so a jose release that gains or drops one changes what runs, visibly.
const ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA'];

const custom = { role: 'admin', n: 5, scopes: ['read', 'write'], ctx: { tenant: 't1', level: 2 } };

async function sign(key, header, claims) {
  return new jose.SignJWT(claims).setProtectedHeader(header).sign(key);
}

function claimsFor(alg, t) {
  const c = { iss, sub: `${sub}/${alg}`, aud: [aud, 'https://other.example'], ...custom };
  if (t.iat !== undefined) c.iat = t.iat;
  if (t.nbf !== undefined) c.nbf = t.nbf;
  if (t.exp !== undefined) c.exp = t.exp;
  return c;
}

async function keyMaterial(alg) {
  if (alg.startsWith('HS')) {
    const secret = await jose.generateSecret(alg, { extractable: true });
    const other = await jose.generateSecret(alg, { extractable: true });
    const jwk = await jose.exportJWK(secret);
    const otherJwk = await jose.exportJWK(other);
    return {
      signing: secret,
      files: {
        secret_raw: out(`${alg}.secret`, Buffer.from(jwk.k, 'base64url')),
        // As jose exports it: {kty, k}, no `alg`.
        secret_jwk: out(`${alg}.secret.jwk`, JSON.stringify(jwk)),
        secret_jwk_alg: out(`${alg}.secret-alg.jwk`, JSON.stringify({ ...jwk, alg })),
        other_secret_raw: out(`${alg}.other.secret`, Buffer.from(otherJwk.k, 'base64url')),
      },
    };
  }
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const other = await jose.generateKeyPair(alg, { extractable: true });
  const pub = await jose.exportJWK(publicKey);
  return {
    signing: privateKey,
    publicJwk: pub,
    files: {
      // Exactly as jose exports them (no `alg`, no `kid`).
      public_jwk: out(`${alg}.public.jwk`, JSON.stringify(pub)),
      private_jwk: out(`${alg}.private.jwk`, JSON.stringify(await jose.exportJWK(privateKey))),
      public_pem: out(`${alg}.public.pem`, await jose.exportSPKI(publicKey)),
      private_pem: out(`${alg}.private.pem`, await jose.exportPKCS8(privateKey)),
      other_public_jwk: out(`${alg}.other.public.jwk`, JSON.stringify(await jose.exportJWK(other.publicKey))),
    },
  };
}

const algs = [];
const unsupported = [];
const extras = [];
const jwks = { keys: [] };

for (const alg of ALGS) {
  let km;
  try {
    km = await keyMaterial(alg);
  } catch (e) {
    unsupported.push({ alg, reason: `jose ${peerVersion('jose')}: ${e.code ?? ''} ${e.message}`.trim() });
    continue;
  }
  const kid = `jose-${alg}`;
  if (km.publicJwk) jwks.keys.push({ ...km.publicJwk, kid, alg, use: 'sig' });
  const k = km.signing;
  const tokens = {
    valid: await sign(k, { alg, typ: 'JWT' }, claimsFor(alg, { iat: now, nbf: now, exp: now + 600 })),
    kid: await sign(k, { alg, kid }, claimsFor(alg, { iat: now, exp: now + 600 })),
    expired: await sign(k, { alg }, claimsFor(alg, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 })),
    not_yet_valid: await sign(k, { alg }, claimsFor(alg, { iat: now, nbf: now + 3600, exp: now + 7200 })),
    no_exp: await sign(k, { alg }, claimsFor(alg, { iat: now })),
  };
  algs.push({ alg, sub: `${sub}/${alg}`, kid, files: km.files, tokens });

  if (alg === 'EdDSA') {
    // RFC 9864 "fully-specified" name for the same signature: jose 6 signs it.
    extras.push({
      name: 'alg_Ed25519_fully_specified',
      alg: 'Ed25519',
      token: await sign(k, { alg: 'Ed25519' }, claimsFor('EdDSA', { iat: now, exp: now + 600 })),
      key: km.files.public_jwk,
    });
  }
}

const jwksPath = out('jwks.json', JSON.stringify(jwks));
emit({ peer: 'jose', version: peerVersion('jose'), claims: custom, jwks: jwksPath, algs, unsupported, extras });
