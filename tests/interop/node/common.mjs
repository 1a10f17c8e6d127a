// Shared helpers for the interop scripts. Every script prints exactly one
// JSON document on stdout; the Rust harness (crates/tessera-cli/tests/interop.rs)
// reads it and owns every assertion. Diagnostics go to stderr.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** The installed version of a peer package (from its package.json; some
 * packages do not export that file, so it is read from node_modules). */
export function peerVersion(name) {
  return readJson(new URL(`../node_modules/${name}/package.json`, import.meta.url)).version;
}

/** Parses --name value options; every option is a string. */
export function args(spec) {
  const options = {};
  for (const name of spec) options[name] = { type: 'string' };
  return parseArgs({ options, strict: true }).values;
}

export function need(values, name) {
  const v = values[name];
  if (v === undefined || v === '') {
    process.stderr.write(`missing --${name}\n`);
    process.exit(2);
  }
  return v;
}

export function emit(doc) {
  process.stdout.write(JSON.stringify(doc, null, 1) + '\n');
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A writer rooted at `dir` that returns the absolute path it wrote. */
export function writer(dir) {
  mkdirSync(dir, { recursive: true });
  return (name, contents) => {
    const p = join(dir, name);
    writeFileSync(p, contents, { mode: 0o600 });
    return p;
  };
}

/** The outcome of an async check as JSON: {ok:true, ...value} or {ok:false, code, message}. */
export async function outcome(fn) {
  try {
    const value = await fn();
    return { ok: true, ...value };
  } catch (e) {
    return { ok: false, code: e?.code ?? e?.name ?? 'Error', message: String(e?.message ?? e) };
  }
}

/** A case this build cannot run yet: reported, never silently dropped. */
export function skipped(reason) {
  return { skipped: true, reason };
}

/** Every JWT algorithm tessera implements (formats.md §1): each JWT peer is
 * asked for each, so a release that gains or drops one changes what runs. */
export const JWT_ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384',
  'PS512', 'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA'];

/** The custom claims every peer JWT carries. */
export const CUSTOM_CLAIMS = { role: 'admin', n: 5, scopes: ['read', 'write'], ctx: { tenant: 't1', level: 2 } };

const CURVES = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521', ES256K: 'secp256k1' };

/** Key material made with node:crypto (for peers that take keys rather than
 * make them), written to `out` in the formats a JWT manifest names:
 * {signing, publicJwk, files}. `signing` is a PEM string or secret bytes. */
export function nodeKeyMaterial(alg, out, prefix) {
  if (alg.startsWith('HS')) {
    const len = { HS256: 32, HS384: 48, HS512: 64 }[alg];
    const secret = randomBytes(len);
    const other = randomBytes(len);
    const jwk = { kty: 'oct', k: secret.toString('base64url') };
    return {
      signing: secret,
      files: {
        secret_raw: out(`${prefix}${alg}.secret`, secret),
        secret_jwk: out(`${prefix}${alg}.secret.jwk`, JSON.stringify(jwk)),
        secret_jwk_alg: out(`${prefix}${alg}.secret-alg.jwk`, JSON.stringify({ ...jwk, alg })),
        other_secret_raw: out(`${prefix}${alg}.other.secret`, other),
      },
    };
  }
  const pair = () => {
    if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
    if (CURVES[alg]) return generateKeyPairSync('ec', { namedCurve: CURVES[alg] });
    return generateKeyPairSync('rsa', { modulusLength: 2048 });
  };
  const { publicKey, privateKey } = pair();
  const other = pair();
  const publicJwk = publicKey.export({ format: 'jwk' });
  return {
    signing: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicJwk,
    files: {
      // No `alg`, no `kid`: as node:crypto exports them.
      public_jwk: out(`${prefix}${alg}.public.jwk`, JSON.stringify(publicJwk)),
      private_jwk: out(`${prefix}${alg}.private.jwk`, JSON.stringify(privateKey.export({ format: 'jwk' }))),
      public_pem: out(`${prefix}${alg}.public.pem`, publicKey.export({ type: 'spki', format: 'pem' })),
      private_pem: out(`${prefix}${alg}.private.pem`, privateKey.export({ type: 'pkcs8', format: 'pem' })),
      other_public_jwk: out(`${prefix}${alg}.other.public.jwk`, JSON.stringify(other.publicKey.export({ format: 'jwk' }))),
    },
  };
}

/** The JWT manifest of a peer that signs with given keys (see jwt-make.mjs
 * for the shape the Rust harness reads): for every algorithm, key files and
 * the tokens `sign(alg, key, header, claims)` makes; an algorithm the peer
 * refuses is listed as unsupported with its own words. */
export async function jwtManifest({ peer, out, now, sub, aud, iss, sign }) {
  const claimsFor = (alg, t) => ({ iss, sub: `${sub}/${alg}`, aud: [aud, 'https://other.example'], ...CUSTOM_CLAIMS, ...t });
  const algs = [];
  const unsupported = [];
  const jwks = { keys: [] };
  for (const alg of JWT_ALGS) {
    const km = nodeKeyMaterial(alg, out, '');
    const kid = `${peer}-${alg}`;
    let tokens;
    try {
      const k = km.signing;
      tokens = {
        valid: await sign(alg, k, { typ: 'JWT' }, claimsFor(alg, { iat: now, nbf: now, exp: now + 600 })),
        kid: await sign(alg, k, { kid }, claimsFor(alg, { iat: now, exp: now + 600 })),
        expired: await sign(alg, k, {}, claimsFor(alg, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 })),
        not_yet_valid: await sign(alg, k, {}, claimsFor(alg, { iat: now, nbf: now + 3600, exp: now + 7200 })),
        no_exp: await sign(alg, k, {}, claimsFor(alg, { iat: now })),
      };
    } catch (e) {
      unsupported.push({ alg, reason: `${peer} ${peerVersion(peer)}: ${e.code ?? e.name ?? ''} ${e.message}`.trim() });
      continue;
    }
    if (km.publicJwk) jwks.keys.push({ ...km.publicJwk, kid, alg, use: 'sig' });
    algs.push({ alg, sub: `${sub}/${alg}`, kid, files: km.files, tokens });
  }
  return {
    peer, version: peerVersion(peer), claims: CUSTOM_CLAIMS,
    jwks: out('jwks.json', JSON.stringify(jwks)), algs, unsupported, extras: [],
  };
}
