// tessera -> jose: verifies each JWT the harness gives with jose.jwtVerify,
// with the key imported from its public JWK (importJWK), against a JWK Set
// (createLocalJWKSet), and from an SPKI PEM (importSPKI), as a relying
// party would.
//
//   node jwt-verify.mjs --cases FILE
//
// FILE: [{id, alg, token, jwk, jwks, pem, aud, iss, typ}] (jwk/jwks/pem:
// paths or null). Prints {peer, version, results:[{id, import_jwk, jwks,
// spki}]}, each outcome
// {ok:true, payload, header} or {ok:false, code, message} or {skipped, reason}.
import { readFileSync } from 'node:fs';
import * as jose from 'jose';
import { args, need, emit, peerVersion, readJson, outcome, skipped } from './common.mjs';

const opts = args(['cases']);
const cases = readJson(need(opts, 'cases'));

function options(c) {
  const o = { algorithms: [c.alg] };
  if (c.aud) o.audience = c.aud;
  if (c.iss) o.issuer = c.iss;
  if (c.typ) o.typ = c.typ;
  return o;
}

const results = [];
for (const c of cases) {
  const r = { id: c.id };
  r.import_jwk = c.jwk
    ? await outcome(async () => {
        const key = await jose.importJWK(readJson(c.jwk), c.alg);
        const { payload, protectedHeader } = await jose.jwtVerify(c.token, key, options(c));
        return { payload, header: protectedHeader };
      })
    : skipped('no JWK for this case');
  r.jwks = c.jwks
    ? await outcome(async () => {
        const set = jose.createLocalJWKSet(readJson(c.jwks));
        const { payload, protectedHeader } = await jose.jwtVerify(c.token, set, options(c));
        return { payload, header: protectedHeader };
      })
    : skipped('no JWK Set for this case (jose JWK Sets hold no symmetric keys)');
  r.spki = c.pem
    ? await outcome(async () => {
        const key = await jose.importSPKI(readFileSync(c.pem, 'utf8'), c.alg);
        const { payload, protectedHeader } = await jose.jwtVerify(c.token, key, options(c));
        return { payload, header: protectedHeader };
      })
    : skipped('no PEM for this case');
  results.push(r);
}
emit({ peer: 'jose', version: peerVersion('jose'), results });
