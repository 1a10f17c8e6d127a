// Express + jose peer of scripts/loadtest-middlewares: the bearer-token
// middleware as people write it, verifying tessera's access tokens with the
// keys of tessera's /.well-known/jwks.json (createRemoteJWKSet: fetched on
// first use, cached, the imported key kept per kid). Answers 200 with the
// subject for a valid token, 401 otherwise.
// Environment: PORT, ISSUER, AUDIENCE, ALG, JWKS_URL.
import express from "express";
import { createRemoteJWKSet, jwtVerify } from "jose";

const { PORT, ISSUER, AUDIENCE, ALG, JWKS_URL } = process.env;
const jwks = createRemoteJWKSet(new URL(JWKS_URL));

async function requireAccessToken(req, res, next) {
  const [scheme, token] = (req.headers.authorization ?? "").split(" ");
  if (scheme !== "Bearer" || !token) {
    return res.status(401).json({ error: "invalid_token" });
  }
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: [ALG],
      typ: "at+jwt",
      requiredClaims: ["exp", "sub"],
      clockTolerance: 60,
    });
    req.auth = payload;
    return next();
  } catch {
    return res.status(401).json({ error: "invalid_token" });
  }
}

const app = express();
app.get("/v1/verify", requireAccessToken, (req, res) => res.json({ sub: req.auth.sub }));
app.listen(Number(PORT), "127.0.0.1");
