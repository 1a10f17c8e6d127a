//! auth0 `jsonwebtoken` (npm): its JWTs verified by tessera.

use super::*;

#[test]
fn jsonwebtoken_jwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    peer_to_tessera_jwt(&node, "jsonwebtoken-make.mjs", "jsonwebtoken");
}
