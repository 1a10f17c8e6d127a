//! Admin routes without a configured admin token.

use super::*;

#[test]
fn admin_routes_are_forbidden_without_an_admin_token() {
    let s = start(None, |c| c.admin_token = None);
    openapi::recording(&s);
    let r = http(
        s.addr,
        "POST",
        "/v1/oauth/introspect",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"token=x",
    );
    assert_eq!(r.status, 403);
    openapi::answers_match_the_document(&s, false);
}
