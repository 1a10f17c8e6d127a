//! Interop with real peers, in both directions (issue #7, docs/interop.md).
//!
//! The peers live in `tests/interop/`: a Node project (jose, applesauce,
//! nostr-tools, ethers, siwe; pinned with a lockfile) and a Python one
//! (PyJWT). Their scripts only *make* or *check* credentials and print one
//! JSON document; every expectation and assertion is here.
//!
//! - peer -> tessera: a peer makes credentials with its own keys; each is
//!   verified by the `tessera` binary (`tessera verify`, exit code + JSON) and
//!   by the library (`tessera_core::jwt::verify`), good ones and bad variants.
//! - tessera -> peer: `tessera keygen` + `tessera issue` make credentials; the
//!   peer's verifier must accept the good ones and refuse the bad ones.
//!
//! Install the peers with `npm ci` in tests/interop and
//! `python3 -m venv tests/interop/.venv && tests/interop/.venv/bin/pip install -r tests/interop/requirements.txt`.
//! Without them every test here prints a loud SKIPPED notice and passes —
//! unless `CI` is set, where a missing peer is a failure.
//!
//! The mainstream issuers of issue #16 (auth0 jsonwebtoken, fast-jwt, PyJWT
//! ES256K halves, the older thirdweb encoding) are peers here too. One file
//! per peer; the shared harness (peers, tally, JWT and wallet cases) is in
//! harness.rs, jwt.rs, jwt_peer.rs and wallet.rs.
//!
//! Real clients through real gateways (nginx, Caddy; issue 20) are in
//! gateways.rs.
//!
//! Run alone: `cargo test -p tessera-cli --test interop -- --nocapture`.

mod harness;
mod jwt;
mod jwt_peer;
mod jwt_to_peer;
mod wallet;

mod applesauce;
mod ethers;
mod fast_jwt;
mod gateways;
mod issuer_peers;
mod jose;
mod jsonwebtoken;
mod node_crypto;
mod nostr_tools;
mod pyjwt;
mod server_logins;
mod thirdweb_legacy;
mod wallet_peers;

use harness::*;
use jwt::*;
use jwt_peer::*;
use jwt_to_peer::*;
use serde_json::{json, Value};
use tessera_core::internal::encoding::{b64url_decode, b64url_encode};
use tessera_core::internal::nostr::verify_portal;
use tessera_core::NostrPublicKey;
use tessera_core::{ErrorCode, Policy};
use wallet::*;

/// Every JWT algorithm tessera implements (formats.md §1).
const ALGS: [&str; 14] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "ES512", "ES256K", "EdDSA",
];

/// Algorithms jose 6 does not implement at all (it dropped secp256k1). Each
/// is still driven through jose, which must refuse it as "not supported";
/// if a jose upgrade starts accepting one, that case fails: remove it here.
const JOSE_LACKS: [&str; 1] = ["ES256K"];

/// The domain thirdweb-format tokens are addressed to.
const DOMAIN: &str = "api.example";
/// The URL NIP-98 events are bound to (query included).
const NIP98_URL: &str = "https://api.example/v1/things?id=1&x=%20y";
