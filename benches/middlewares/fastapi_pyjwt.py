"""FastAPI + PyJWT peer of scripts/loadtest-middlewares: the bearer-token
dependency as people write it, verifying tessera's access tokens with the
keys of tessera's /.well-known/jwks.json, loaded once at start (a PyJWKSet;
PyJWKClient would rebuild the key objects on every call unless its
cache_keys option is set). Answers 200 with the subject for a valid token,
401 otherwise.

Environment: ISSUER, AUDIENCE, ALG, JWKS_URL. Run with uvicorn.
"""

import json
import os
import urllib.request

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ISSUER = os.environ["ISSUER"]
AUDIENCE = os.environ["AUDIENCE"]
ALG = os.environ["ALG"]
with urllib.request.urlopen(os.environ["JWKS_URL"]) as response:
    JWKS = jwt.PyJWKSet.from_dict(json.load(response))

bearer = HTTPBearer(auto_error=False)
app = FastAPI()


def unauthorized() -> HTTPException:
    return HTTPException(401, "invalid_token", headers={"WWW-Authenticate": "Bearer"})


async def access_token_claims(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> dict:
    if credentials is None:
        raise unauthorized()
    token = credentials.credentials
    try:
        key = JWKS[jwt.get_unverified_header(token).get("kid")]
        decoded = jwt.decode_complete(
            token,
            key.key,
            algorithms=[ALG],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=60,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except (jwt.InvalidTokenError, KeyError):
        raise unauthorized() from None
    if decoded["header"].get("typ") != "at+jwt":
        raise unauthorized()
    return decoded["payload"]


@app.get("/v1/verify")
async def verify(claims: dict = Depends(access_token_claims)) -> dict:
    return {"sub": claims["sub"]}
