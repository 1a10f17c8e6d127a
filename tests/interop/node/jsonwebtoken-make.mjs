// auth0 jsonwebtoken -> tessera: a JWT for every algorithm jsonwebtoken
// signs, with keys made by node:crypto and written as the files an operator
// has (PEM, JWK without `kid`), tokens with and without a `kid` header.
//
//   node jsonwebtoken-make.mjs --out DIR --now UNIX --sub S --aud A --iss I
//
// Prints the manifest jwt-make.mjs prints (common.mjs jwtManifest).
import jwt from 'jsonwebtoken';
import { args, need, emit, writer, jwtManifest } from './common.mjs';

const opts = args(['out', 'now', 'sub', 'aud', 'iss']);

// jsonwebtoken takes the registered claims from the payload as given
// (`iat` included), the `kid` as its `keyid` option, other header members
// through `header`.
function sign(alg, key, header, claims) {
  const { kid, ...rest } = header;
  const options = { algorithm: alg, header: rest };
  if (kid !== undefined) options.keyid = kid;
  return jwt.sign(claims, key, options);
}

emit(await jwtManifest({
  peer: 'jsonwebtoken',
  out: writer(need(opts, 'out')),
  now: Number(need(opts, 'now')),
  sub: need(opts, 'sub'),
  aud: need(opts, 'aud'),
  iss: need(opts, 'iss'),
  sign,
}));
