// fast-jwt -> tessera: a JWT for every algorithm fast-jwt signs, with keys
// made by node:crypto and written as the files an operator has (PEM, JWK
// without `kid`), tokens with and without a `kid` header.
//
//   node fast-jwt-make.mjs --out DIR --now UNIX --sub S --aud A --iss I
//
// Prints the manifest jwt-make.mjs prints (common.mjs jwtManifest).
import { createSigner } from 'fast-jwt';
import { args, need, emit, writer, jwtManifest } from './common.mjs';

const opts = args(['out', 'now', 'sub', 'aud', 'iss']);

// fast-jwt keeps the payload's `iat`, `exp` and `nbf` when no relative
// option is given; `kid` and `typ` are signer options.
function sign(alg, key, header, claims) {
  const signer = createSigner({ key, algorithm: alg, kid: header.kid, typ: header.typ });
  return signer(claims);
}

emit(await jwtManifest({
  peer: 'fast-jwt',
  out: writer(need(opts, 'out')),
  now: Number(need(opts, 'now')),
  sub: need(opts, 'sub'),
  aud: need(opts, 'aud'),
  iss: need(opts, 'iss'),
  sign,
}));
