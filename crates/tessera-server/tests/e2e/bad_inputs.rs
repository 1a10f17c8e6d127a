//! Malformed and oversized requests: 400, 401, 404, 413, 431 with their
//! codes.

use super::*;

pub(super) fn bad_inputs(s: &Server) {
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[("Content-Type", "application/json")],
        b"{\"method\":",
    );
    assert_eq!(r.status, 400);
    assert!(!r.error().is_empty());
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[("Content-Type", "application/json")],
        b"{\"method\":\"siwe\",\"method\":\"portal\"}",
    );
    assert_eq!(r.status, 400, "duplicate members are refused");
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/login",
        &[],
        &vec![b'x'; 70 * 1024],
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.error(), "payload_too_large");
    let huge = format!("Bearer {}", "a".repeat(10 * 1024));
    let r = http(
        s.addr,
        "GET",
        "/v1/verify",
        &[("Authorization", &huge)],
        b"",
    );
    assert!(r.status == 431 || r.status == 401, "{}", r.status);
    let r = post_json(s, "/v1/auth/login", &json!({"method": "password"}), &[]);
    assert_eq!(r.status, 400);
    let r = post_json(
        s,
        "/v1/auth/login",
        &json!({"method": "siwe", "message": "hello", "signature": "0x00"}),
        &[],
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.error(), "malformed");
    let r = http(s.addr, "GET", "/nope", &[], b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.error(), "not_found");
    let r = post_json(s, "/v1/auth/challenge", &json!({"address": "0x12"}), &[]);
    assert_eq!(r.status, 400);
}
