//! jose (Node): its JWTs verified by tessera, tessera's verified by it.

use super::*;

#[test]
fn jose_jwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    peer_to_tessera_jwt(&node, "jwt-make.mjs", "jose");
}

#[test]
fn tessera_jwts_verify_in_jose() {
    let Some(node) = Peer::node() else { return };
    tessera_to_peer_jwt(
        &node,
        "jwt-verify.mjs",
        "jose",
        &["import_jwk", "jwks", "spki"],
    );
}
