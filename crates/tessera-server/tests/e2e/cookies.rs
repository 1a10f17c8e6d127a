//! Cookie sessions: flags and paths, the same-origin rule on state changes,
//! rotation and logout clearing them.

use super::*;

pub(super) fn cookies(s: &Server) {
    let wallet = EthereumSecretKey::generate();
    // Setting cookies needs the same origin (hardening.rs has the refusals).
    let r = siwe_login_with(s, &wallet, json!({"cookie": true}), &[("Origin", &s.url)]);
    assert_eq!(r.status, 200);
    let body = r.json();
    assert!(
        body.get("access_token").is_none() && body.get("refresh_token").is_none(),
        "tokens come as cookies only"
    );
    let set = r.headers_named("set-cookie");
    let access = set
        .iter()
        .find(|c| c.starts_with("tessera_access="))
        .expect("access cookie");
    let refresh = set
        .iter()
        .find(|c| c.starts_with("tessera_refresh="))
        .expect("refresh cookie");
    for c in [access, refresh] {
        assert!(
            c.contains("HttpOnly") && c.contains("Secure") && c.contains("SameSite=Strict"),
            "{c}"
        );
    }
    assert!(access.contains("Path=/;"), "{access}");
    assert!(refresh.contains("Path=/v1/auth;"), "{refresh}");
    let value = |c: &str| c.split(';').next().expect("pair").to_owned();
    let jar = format!("{}; {}", value(access), value(refresh));
    let me = http(s.addr, "GET", "/v1/auth/me", &[("Cookie", &jar)], b"");
    assert_eq!(me.status, 200);
    // State changes by cookie need the same origin.
    let cross = http(
        s.addr,
        "POST",
        "/v1/auth/refresh",
        &[("Cookie", &jar), ("Origin", "https://evil.example")],
        b"",
    );
    assert_eq!(cross.status, 403);
    let bare = http(s.addr, "POST", "/v1/auth/refresh", &[("Cookie", &jar)], b"");
    assert_eq!(bare.status, 403);
    let site = http(
        s.addr,
        "POST",
        "/v1/auth/refresh",
        &[("Cookie", &jar), ("Sec-Fetch-Site", "cross-site")],
        b"",
    );
    assert_eq!(site.status, 403);
    let ok = http(
        s.addr,
        "POST",
        "/v1/auth/refresh",
        &[("Cookie", &jar), ("Origin", &s.url)],
        b"",
    );
    assert_eq!(ok.status, 200, "{:?}", String::from_utf8_lossy(&ok.body));
    let set = ok.headers_named("set-cookie");
    let access2 = set
        .iter()
        .find(|c| c.starts_with("tessera_access="))
        .expect("rotated access cookie");
    let refresh2 = set
        .iter()
        .find(|c| c.starts_with("tessera_refresh="))
        .expect("rotated refresh cookie");
    let jar2 = format!("{}; {}", value(access2), value(refresh2));
    let out = http(
        s.addr,
        "POST",
        "/v1/auth/logout",
        &[("Cookie", &jar2), ("Sec-Fetch-Site", "same-origin")],
        b"",
    );
    assert_eq!(out.status, 204);
    assert!(out
        .headers_named("set-cookie")
        .iter()
        .all(|c| c.contains("Max-Age=0")));
    assert_eq!(
        http(s.addr, "GET", "/v1/auth/me", &[("Cookie", &jar2)], b"").error(),
        "revoked"
    );
}

/// A `Cookie` header is read pair by pair as written: a pair that is not
/// `tessera_access=<value>` exactly (no `=`, another name or letter case,
/// whitespace before `=`) is no cookie, so `/v1/auth/me` answers 401
/// `malformed` ("no credential") even cross-site; a value with whitespace
/// after `=` is a cookie (the origin rule then applies: 403 cross-site)
/// whose token is refused.
#[test]
fn malformed_cookie_pairs_are_no_cookie() {
    let s = start(None, |_| {});
    let wallet = EthereumSecretKey::generate();
    let r = siwe_login_with(&s, &wallet, json!({"cookie": true}), &[("Origin", &s.url)]);
    assert_eq!(r.status, 200);
    let access = r
        .headers_named("set-cookie")
        .into_iter()
        .find_map(|c| c.split(';').next()?.strip_prefix("tessera_access="))
        .expect("access cookie")
        .to_owned();
    let me = |jar: &str, site: &str| {
        let r = http(
            s.addr,
            "GET",
            "/v1/auth/me",
            &[("Cookie", jar), ("Sec-Fetch-Site", site)],
            b"",
        );
        (r.status, r.error())
    };
    let good = format!("a=1; tessera_access={access}");
    assert_eq!(me(&good, "same-origin").0, 200);
    assert_eq!(me(&good, "cross-site"), (403, "forbidden".into()));
    for jar in [
        format!("tessera_access ={access}"),
        format!("Tessera_Access={access}"),
        format!("tessera_access{access}"),
        "tessera_access=".to_owned(),
        format!("={access}"),
    ] {
        assert_eq!(me(&jar, "cross-site"), (401, "malformed".into()), "{jar}");
    }
    let spaced = format!("tessera_access= {access}");
    assert_eq!(me(&spaced, "cross-site"), (403, "forbidden".into()));
    assert_eq!(me(&spaced, "same-origin").0, 401);
    // The refresh cookie: not one is 400 `invalid_request` (neither token
    // nor cookie).
    let r = http(
        s.addr,
        "POST",
        "/v1/auth/refresh",
        &[("Cookie", "tessera_refresh =x"), ("Origin", &s.url)],
        b"",
    );
    assert_eq!((r.status, r.error()), (400, "invalid_request".into()));
}
