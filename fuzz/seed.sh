#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/<target>/ from the shared test
# vectors (../shared/vectors beside the repository; VECTORS=... to point
# elsewhere). Deterministic: the same vectors give the same files, named by
# the SHA-1 of their content as libFuzzer names its own corpus entries.
#
# Each seed starts with the selector bytes its target reads first (see the
# doc comment at the top of each fuzz/fuzz_targets/*.rs).
#
#   bash fuzz/seed.sh          # rewrite fuzz/corpus/*/ seeds
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vectors="${VECTORS:-$here/../../shared/vectors}"
test -d "$vectors" || { echo "seed.sh: no vectors at $vectors (set VECTORS=...)" >&2; exit 1; }

exec "${PYTHON:-python3}" - "$vectors" "$here/corpus" <<'PY'
import base64, glob, hashlib, json, os, sys

vectors, out_root = sys.argv[1], sys.argv[2]
seeds = {}

def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    seeds.setdefault(target, set()).add(bytes(data))

def load(rel):
    with open(os.path.join(vectors, rel), encoding="utf-8") as f:
        return json.load(f)

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def piece(b):
    """One length-prefixed piece (fuzz/src/lib.rs Reader::piece)."""
    if isinstance(b, str):
        b = b.encode()
    b = b[:255]
    return bytes([len(b)]) + b

def compact(ev):
    return json.dumps(ev, separators=(",", ":"), ensure_ascii=False)

# ---------------------------------------------------------------- sources
tokens = []          # compact JWS/JWT texts
for path in sorted(glob.glob(os.path.join(vectors, "jose-cookbook/jws/*.json"))):
    d = json.load(open(path, encoding="utf-8"))
    tokens.append(d["output"]["compact"])
cb25519 = load("jose-cookbook/curve25519/jws.json")
tokens.append(cb25519["output"]["compact"])
wp_jws = load("wycheproof/json_web_signature_test.json")
for g in wp_jws["testGroups"]:
    for t in g["tests"][:2]:
        tokens.append(t["jws"])
portal = load("wallet-jwt/portal.json")["tokens"]
thirdweb = load("wallet-jwt/thirdweb.json")["tokens"]
tokens += [t["token"] for t in portal] + [t["token"] for t in thirdweb]

claims = [
    {"sub": "alice", "exp": 1795393600, "iat": 1795389000},
    {"iss": "https://issuer.example", "sub": "bob", "aud": ["https://api.example", "x"],
     "exp": 1795393600, "nbf": 1795389000, "iat": 1795389000, "jti": "j1"},
    {"sub": "carol", "aud": "tessera", "exp": "1795393600"},
    {"sub": "dave", "exp": 1795393600.5, "nbf": -1},
    {"sub": "erin", "exp": 253402300800},
    {"sub": "frank"},
]
headers = [
    {"alg": "HS256", "kid": "hs"}, {"alg": "ES512"}, {"alg": "EdDSA", "kid": "ed"},
    {"alg": "ES256K", "kid": "k1", "typ": "at+jwt"}, {"alg": "HS256", "crit": ["exp"]},
    {"alg": "none"}, {"alg": "HS256", "b64": False}, {"alg": "ES256K", "typ": "application/at+jwt"},
]

events = load("nostr/events.json")
all_events = list(events.get("valid", {}).values()) + list(events.get("invalid", {}).values())

# -------------------------------------------------------------------- jwt
for t in tokens:
    add("jwt", b"\x00\x00" + t.encode())
    add("jwt", b"\x00\x05" + t.encode())
for i, h in enumerate(headers):
    c = claims[i % len(claims)]
    signer = {"HS256": 0, "ES512": 1, "EdDSA": 2, "ES256K": 3}.get(h["alg"], 0)
    add("jwt", bytes([1 | (signer << 1), i * 9 % 128]) + piece(compact(h)) + compact(c).encode())

# -------------------------------------------------------------------- jwk
jwk_docs = []
for path in sorted(glob.glob(os.path.join(vectors, "jose-cookbook/jwk/*.json"))):
    jwk_docs.append(json.load(open(path, encoding="utf-8")))
for g in load("wycheproof/json_web_key_test.json")["testGroups"]:
    for k in ("private", "public"):
        if isinstance(g.get(k), dict):
            jwk_docs.append(g[k])
for g in wp_jws["testGroups"]:
    for k in ("private", "public"):
        if isinstance(g.get(k), dict):
            jwk_docs.append(g[k])
jwk_docs.append(cb25519["input"]["key"])
for path in sorted(glob.glob(os.path.join(vectors, "wycheproof/*.json"))):
    d = json.load(open(path, encoding="utf-8"))
    for g in d.get("testGroups", [])[:2]:
        if isinstance(g.get("publicKeyJwk"), dict):
            jwk_docs.append(g["publicKeyJwk"])
unique = {}
for doc in jwk_docs:
    unique.setdefault(compact(doc), doc)
jwk_docs = list(unique.values())[:48]
for doc in jwk_docs:
    text = compact(doc).encode()
    if "keys" in doc:
        add("jwk", b"\x01" + text)                      # JWK Set
        for k in doc["keys"][:2]:
            add("jwk", b"\x00" + compact(k).encode())
    else:
        add("jwk", b"\x00" + text)                      # public
        if "d" in doc or "k" in doc:
            add("jwk", b"\x02" + text)                  # private
        add("jwk", b"\x01" + compact({"keys": [doc]}).encode())

# -------------------------------------------------------------------- pem
pems = []
for path in sorted(glob.glob(os.path.join(vectors, "wycheproof/*.json"))):
    d = json.load(open(path, encoding="utf-8"))
    for g in d.get("testGroups", [])[:3]:
        if isinstance(g.get("publicKeyPem"), str):
            pems.append(g["publicKeyPem"])
for i, p in enumerate(pems):
    add("pem", b"\x00" + p.encode())
    if i % 3 == 0:
        # Pinned to an algorithm (some wrong for the key), with text around.
        add("pem", bytes([8 | (i % 8)]) + b"explanatory text\n" + p.encode() + b"trailer\n")

# ------------------------------------------------------------------- json
for doc in jwk_docs[:10] + all_events + claims + headers:
    add("json", compact(doc))
add("json", '{"a":[1,-0,2.5e-3,1E+2,true,false,null,"\\u00e9\\ud83d\\ude00\\n"]}')
add("json", '{"alg":"RS256","alg":"none"}')
add("json", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")

# ------------------------------------------------------- nostr events
for ev in all_events:
    text = compact(ev).encode()
    add("nostr_event", b"\x00" + text)
    add("nostr_event", b"\x01" + b64url(text).encode())
    add("nostr_event", b"\x01" + base64.b64encode(text))
    # Also as the verifier sees them, with their original formatting.
    add("nostr_event", b"\x00" + json.dumps(ev, ensure_ascii=True).encode())

# ---------------------------------------------------------- NWT / NIP-98
BODY = b'{"cookie":true}'
URL = "https://api.example/v1/auth/login?next=%2F"
for ev in all_events:
    add("nwt_nip98", b"\x00\x00" + compact(ev).encode())
    add("nwt_nip98", b"\x00\x21" + compact(ev).encode())
    add("nwt_nip98", bytes([1, 0, 120]) + piece(ev.get("content", "")) + compact(ev.get("tags", [])).encode())
tag_sets = [
    # NWT claims (mode 1 -> kind 27519)
    (1, [["aud", "https://api.example"], ["exp", "1795390300"], ["iat", "1795389900"], ["role", "admin"]]),
    (1, [["sub", "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"], ["exp", "1795390300"]]),
    (1, [["aud", "a"], ["aud", "b", "c"], ["nbf", "1795389000"], ["exp", "01795390300"]]),
    (1, [["exp", "1795390300"], ["exp", "1795390301"]]),
    (1, [["iss"], ["x"], []]),
    # NIP-98 (mode 5 -> kind 27235)
    (5, [["u", URL], ["method", "post"], ["payload", hashlib.sha256(BODY).hexdigest()]]),
    (5, [["u", URL], ["method", "POST"]]),
    (5, [["u", URL + "&x"], ["method", "GET"], ["payload", "00" * 32]]),
    (5, [["u", URL], ["u", URL], ["method", "POST"]]),
]
for mode, tags in tag_sets:
    for flags in (0, 0x21, 0x43):
        add("nwt_nip98", bytes([mode, flags, 120]) + piece("fuzz") + compact(tags).encode())

# ------------------------------------------------------------------ siwe
def siwe_text(f):
    """EIP-4361 text from spruceid's field objects."""
    lines = [f"{f['domain']} wants you to sign in with your Ethereum account:", f["address"], ""]
    if f.get("statement"):
        lines += [f["statement"], ""]
    else:
        lines += [""]
    lines += [f"URI: {f['uri']}", f"Version: {f['version']}", f"Chain ID: {f['chainId']}",
              f"Nonce: {f['nonce']}", f"Issued At: {f['issuedAt']}"]
    if f.get("expirationTime"):
        lines.append(f"Expiration Time: {f['expirationTime']}")
    if f.get("notBefore"):
        lines.append(f"Not Before: {f['notBefore']}")
    if f.get("requestId"):
        lines.append(f"Request ID: {f['requestId']}")
    if f.get("resources"):
        lines.append("Resources:")
        lines += [f"- {r}" for r in f["resources"]]
    return "\n".join(lines)

siwe_msgs = []
for v in load("siwe/parsing_positive.json").values():
    siwe_msgs.append(v["message"])
for v in load("siwe/parsing_negative.json").values():
    siwe_msgs.append(v)
for m in siwe_msgs:
    add("siwe", b"\x00" + m.encode())
    add("siwe", b"\x02" + m.encode())
for name in ("verification_positive.json", "verification_negative.json"):
    for v in load("siwe/" + name).values():
        if not isinstance(v.get("address"), str) or "domain" not in v:
            continue
        try:
            text = siwe_text({"version": "1", "chainId": 1, **v})
        except KeyError:
            continue
        add("siwe", b"\x01" + piece(str(v.get("signature", ""))) + text.encode())
        add("siwe", b"\x02" + text.encode())
for v in load("siwe/parsing_positive.json").values():
    for k in ("issuedAt", "expirationTime", "notBefore"):
        t = v.get("fields", {}).get(k)
        if isinstance(t, str):
            add("siwe", b"\x03" + t.encode())
for t in ("1985-04-12T23:20:50.52Z", "1990-12-31T15:59:60-08:00", "0000-01-01T00:00:00+23:59",
          "9999-12-31T23:59:59.999999999999Z", "2024-02-29T00:00:00z"):
    add("siwe", b"\x03" + t.encode())

# ---------------------------------------------------------- wallet JWTs
def wallet_seeds(tokens, token_modes, payload_modes):
    """Each token whole, then its decoded payload, behind each mode prefix."""
    for t in tokens:
        tok = t["token"]
        for mode in token_modes:
            add("wallet_jwt", mode + tok.encode())
        payload = b64url_dec(tok.split(".")[1])
        for mode in payload_modes:
            add("wallet_jwt", mode + payload)

wallet_seeds(thirdweb, [b"\x00\x10", b"\x00\x11"], [b"\x01\x10", b"\x01\x31"])
wallet_seeds(portal, [b"\x02\x00", b"\x02\x01"], [b"\x03\x00", b"\x03\x09"])

# ---------------------------------------------------------- authorization
def auth(hint, flags, value):
    add("authorization", bytes([hint, flags]) + value.encode())

for i, t in enumerate(tokens):
    auth(0, 0, "Bearer " + t)
    if i % 4 == 0:
        auth(1, 0x10, t)
for t in portal:
    auth(2, 0, "Bearer " + t["token"])
    auth(0, 4, "bearer " + t["token"])
for t in thirdweb:
    auth(3, 1, "Bearer " + t["token"])
    auth(0, 5, "Bearer " + t["token"])
for i, ev in enumerate(all_events):
    text = compact(ev).encode()
    auth(0, 2, "Nostr " + b64url(text))
    auth(4 + i % 2, 2 | 8, "nostr " + base64.b64encode(text).decode())
auth(0, 0, "Basic dXNlcjpwdw==")
auth(0, 0, "Bearer  a.b.c")

# ------------------------------------------------------------ server body
# Route indices follow ROUTES in fuzz_targets/server_body.rs.
CHALLENGE, LOGIN, REFRESH, LOGOUT, REVOKE, INTROSPECT, ISSUE, VERIFYJWT, VERIFY, LOGOUT_ALL = range(10)
JSON, FORM = 1, 2
ADMIN, NIP98, AUTH, COOKIE = 8, 16, 4, 32
siwe_example = siwe_msgs[0]
server = [
    (CHALLENGE, JSON, b"{}"),
    (CHALLENGE, JSON, b'{"address":"0x9D85ca56217D2bb651b00f15e694EB7E713637D4"}'),
    (CHALLENGE, 0, b""),
    (CHALLENGE, JSON, b'{"address":"0x9D85ca56217D2bb651b00f15e694EB7E713637D4","x":1}'),
    (LOGIN, JSON, json.dumps({"method": "siwe", "message": siwe_example,
                              "signature": "0x" + "11" * 65}).encode()),
    (LOGIN, JSON, json.dumps({"method": "portal", "token": portal[0]["token"],
                              "pubkey": portal[0]["signer_xonly"], "cookie": True}).encode()),
    (LOGIN, JSON | NIP98, b'{"cookie":true}'),
    (LOGIN, JSON | NIP98, b""),
    (LOGIN, JSON, b'{"method":"siwe","method":"portal"}'),
    (REFRESH, JSON, b'{"refresh_token":"abc"}'),
    (REFRESH, JSON | COOKIE, b'{"cookie":true}'),
    (LOGOUT, JSON | COOKIE, b""),
    (REVOKE, FORM, b"token=abc&token_type_hint=refresh_token"),
    (REVOKE, FORM, b"token=a%2Bb+c&token=d"),
    (REVOKE, JSON, b'{"token":"abc","token_type_hint":"access_token"}'),
    (INTROSPECT, FORM | ADMIN, b"token=" + tokens[0].encode()),
    (INTROSPECT, JSON | ADMIN, json.dumps({"token": portal[0]["token"]}).encode()),
    (ISSUE, JSON | ADMIN, json.dumps({"target_key": portal[0]["target_key"], "duration_hours": 1}).encode()),
    (VERIFYJWT, JSON | ADMIN, json.dumps({"pubkey": portal[0]["signer_xonly"], "token": portal[0]["token"]}).encode()),
    (VERIFY, 0, b""),
    (LOGOUT_ALL, 0, b""),
]
for route, flags, body in server:
    add("server_body", bytes([route, flags]) + body)
for route, value in ((VERIFY, "Bearer " + portal[0]["token"]),
                     (LOGIN, "Nostr " + b64url(compact(all_events[0]).encode()))):
    add("server_body", bytes([route, AUTH | JSON]) + piece(value) + b"{}")

# ------------------------------------------------------------------ write
total = 0
for target, items in sorted(seeds.items()):
    d = os.path.join(out_root, target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.remove(os.path.join(d, name))
    for data in sorted(items):
        name = "seed-" + hashlib.sha1(data).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"{target:14} {len(items):4} seeds")
print(f"{'total':14} {sum(len(v) for v in seeds.values()):4} seeds, {total} bytes")
PY
