//! `fast-jwt` (npm): its JWTs verified by tessera.

use super::*;

#[test]
fn fast_jwt_jwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    peer_to_tessera_jwt(&node, "fast-jwt-make.mjs", "fast-jwt");
}
