"""PyJWT ES256K -> tessera: real PyJWT signatures of both S halves.

OpenSSL (under PyJWT's `cryptography`) signs ECDSA with a random k, and S
lands above n/2 about half the time. RFC 8812 has no low-S rule, so a
standard-JWT verifier must accept both; Portal's verifier refuses high S.
This script signs, with one secp256k1 key, until each half was seen:

- `jwt`: standard JWTs with a `kid` header and the usual claims;
- `portal`: Portal-shaped JWTs (header exactly {"alg":"ES256K"}, payload
  {exp, nbf, iat, target_key}), the key's point having even Y so that its
  x-only form is the Portal signer.

    python es256k_halves.py --out DIR --now UNIX --sub S --aud A --iss I --target HEX

Prints {peer, version, kid, files, nostr_xonly, jwt:{high_s, low_s, tries},
portal:{high_s, low_s, tries}}.
"""
import argparse
import base64
import json

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from common import emit, peer_version, writer

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MAX_TRIES = 256

p = argparse.ArgumentParser()
for name in ("out", "now", "sub", "aud", "iss", "target"):
    p.add_argument("--" + name, required=True)
a = p.parse_args()
out = writer(a.out)
now = int(a.now)


def s_is_high(token: str) -> bool:
    sig = base64.urlsafe_b64decode(token.split(".")[2] + "==")
    return int.from_bytes(sig[32:], "big") > N // 2


def both_halves(make):
    """Signs with `make()` until one token of each S half was made."""
    seen = {}
    for tries in range(1, MAX_TRIES + 1):
        t = make()
        seen.setdefault("high_s" if s_is_high(t) else "low_s", t)
        if len(seen) == 2:
            return {**seen, "tries": tries}
    raise SystemExit(f"no {'high' if 'low_s' in seen else 'low'}-S signature in {MAX_TRIES} tries")


# A key whose point has even Y: its x-only form verifies as a Portal signer.
while True:
    key = ec.generate_private_key(ec.SECP256K1())
    if key.public_key().public_numbers().y % 2 == 0:
        break
kid = "pyjwt-ES256K-halves"
pub = key.public_key()
files = {
    "public_pem": out("es256k.public.pem", pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)),
    "public_jwk": out("es256k.public.jwk", json.dumps(ECAlgorithm.to_jwk(pub, as_dict=True))),
}
claims = {"iss": a.iss, "sub": a.sub, "aud": [a.aud, "https://other.example"],
          "iat": now, "exp": now + 600}
portal_claims = {"exp": now + 600, "nbf": now, "iat": now, "target_key": a.target}

emit({
    "peer": "PyJWT",
    "version": peer_version("PyJWT"),
    "cryptography": peer_version("cryptography"),
    "kid": kid,
    "files": files,
    "nostr_xonly": pub.public_numbers().x.to_bytes(32, "big").hex(),
    "jwt": both_halves(lambda: jwt.encode(claims, key, algorithm="ES256K", headers={"kid": kid})),
    # PyJWT drops `typ` when it is None: the header is exactly {"alg":"ES256K"}.
    "portal": both_halves(lambda: jwt.encode(portal_claims, key, algorithm="ES256K", headers={"typ": None})),
})
