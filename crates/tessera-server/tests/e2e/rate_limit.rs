//! The rate limiter: 429 with `Retry-After`.

use super::*;

#[test]
fn rate_limits_answer_429_with_retry_after() {
    let s = start(None, |c| c.rate_limit_per_minute = 3);
    openapi::recording(&s);
    let mut last = None;
    for _ in 0..4 {
        last = Some(post_json(&s, "/v1/auth/challenge", &json!({}), &[]));
    }
    let r = last.expect("response");
    assert_eq!(r.status, 429);
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry));
    // Counted by route, once per refusal.
    let text = http(s.addr, "GET", "/metrics", &[], b"").text();
    assert!(
        text.lines()
            .any(|l| l == r#"tessera_rate_limited_total{route="/v1/auth/challenge"} 1"#),
        "{text}"
    );
    openapi::answers_match_the_document(&s, false);
}
