"""Makes es256k_openssl.json: ES256K signatures by OpenSSL (through
`cryptography`, the backend of PyJWT and jwcrypto), which signs high-S about
half the time. Signs one token's signing input until both S halves occur.

    tests/interop/.venv/bin/python crates/tessera-core/tests/data/es256k_openssl.py EIP191_DIGEST \
        > crates/tessera-core/tests/data/es256k_openssl.json

EIP191_DIGEST is the hex EIP-191 hash of MESSAGE below, made by ethers:
    (cd tests/interop && node --input-type=module -e \
      "import {hashMessage} from 'ethers'; console.log(hashMessage('tessera issue 16'))")
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MESSAGE = "tessera issue 16"
IAT = 1_800_000_000


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def rs(der: bytes) -> tuple:
    return utils.decode_dss_signature(der)


def both_halves(sign):
    """Signs until one high-S and one low-S signature were made: {half: r||s}."""
    seen, tries = {}, 0
    while len(seen) < 2:
        r, s = rs(sign())
        tries += 1
        seen.setdefault("high_s" if s > N // 2 else "low_s", r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return seen, tries


digest = bytes.fromhex(sys.argv[1].removeprefix("0x"))
# A key whose point has even Y, so that its x-only form is the Portal signer.
while True:
    key = ec.generate_private_key(ec.SECP256K1())
    nums = key.public_key().public_numbers()
    if nums.y % 2 == 0:
        break
x, y = nums.x.to_bytes(32, "big"), nums.y.to_bytes(32, "big")

header = b64u(b'{"alg":"ES256K"}')
target = "4fa6fc4de4e8703062d3c630798ae5e6bcd8027a18753ae3e479ca1dc7f63fcb"
payload = b64u(json.dumps({"exp": IAT + 3600, "nbf": IAT, "iat": IAT, "target_key": target},
                          separators=(",", ":")).encode())
signing_input = f"{header}.{payload}".encode()
jwt_sigs, jwt_tries = both_halves(lambda: key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
eth_sigs, eth_tries = both_halves(lambda: key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))

json.dump({
    "about": "ES256K signatures made by OpenSSL (Python cryptography, as PyJWT and jwcrypto sign); "
             "high_s/low_s sign the same input. Made by es256k_openssl.py beside this file.",
    "jwk": {"kty": "EC", "crv": "secp256k1", "x": b64u(x), "y": b64u(y)},
    "nostr_xonly": x.hex(),
    "valid_at": IAT + 60,
    "tokens": {half: f"{header}.{payload}.{b64u(sig)}" for half, sig in jwt_sigs.items()},
    "eip191": {"message": MESSAGE, "digest": digest.hex(),
               **{half: sig.hex() for half, sig in eth_sigs.items()}},
    "tries": {"jwt": jwt_tries, "eip191": eth_tries},
}, sys.stdout, indent=1)
sys.stdout.write("\n")
