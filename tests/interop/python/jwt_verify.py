"""tessera -> PyJWT: verifies each JWT the harness gives with jwt.decode,
with the key from its JWK (PyJWK), from its PEM, and from a JWK Set
(PyJWKSet, selected by the token's kid).

    python jwt_verify.py --cases FILE

FILE: [{id, alg, token, jwk, pem, jwks, aud, iss}] (paths or null).
Prints {peer, version, results:[{id, pyjwk, pem, jwks}]}, each outcome
{ok: true, payload, header} or {ok: false, code, message} or {skipped, reason}.
"""
import argparse
import json

import jwt

from common import emit, outcome, peer_version, skipped

p = argparse.ArgumentParser()
p.add_argument("--cases", required=True)
a = p.parse_args()
with open(a.cases) as f:
    cases = json.load(f)

SUPPORTED = jwt.algorithms.get_default_algorithms()


def decode(c, key):
    kwargs = {"algorithms": [c["alg"]]}
    if c.get("aud"):
        kwargs["audience"] = c["aud"]
    if c.get("iss"):
        kwargs["issuer"] = c["iss"]
    payload = jwt.decode(c["token"], key, **kwargs)
    return {"payload": payload, "header": jwt.get_unverified_header(c["token"])}


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


results = []
for c in cases:
    r = {"id": c["id"]}
    if c["alg"] not in SUPPORTED:
        reason = f"PyJWT {peer_version('PyJWT')} has no {c['alg']}"
        r.update(pyjwk=skipped(reason), pem=skipped(reason), jwks=skipped(reason))
        results.append(r)
        continue
    r["pyjwk"] = (
        outcome(lambda: decode(c, jwt.PyJWK(json.loads(read(c["jwk"])), algorithm=c["alg"]).key))
        if c.get("jwk") else skipped("no JWK for this case")
    )
    r["pem"] = (
        outcome(lambda: decode(c, read(c["pem"])))
        if c.get("pem") else skipped("no PEM for this case (HMAC secrets have none)")
    )

    def from_set():
        kid = jwt.get_unverified_header(c["token"]).get("kid")
        return decode(c, jwt.PyJWKSet.from_dict(json.loads(read(c["jwks"])))[kid].key)

    r["jwks"] = outcome(from_set) if c.get("jwks") else skipped("no JWK Set for this case")
    results.append(r)

emit({"peer": "PyJWT", "version": peer_version("PyJWT"), "results": results})
