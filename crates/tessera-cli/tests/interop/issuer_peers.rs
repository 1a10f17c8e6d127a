//! Trusted issuers with real peers (issue 19): JWTs that jose (Node) and
//! PyJWT make, verified at `/v1/verify` of a real `tessera serve` whose
//! `[[issuer]]` tables hold the peers' own exported keys (PyJWT: its RS256
//! public PEM; jose: its JWK Set file).

use super::*;
use tessera_testkit::http::{bearer, http, Resp};
use tessera_testkit::serve::Tessera;
use tessera_testkit::tessera_bin;

/// Runs a JWT generator (jwt-make.mjs / jwt_make.py) for issuer `iss`.
fn make(peer: &Peer, script: &str, dir: &TempDir, tag: &str, iss: &str) -> Value {
    let now = unix_now().to_string();
    peer.run(
        script,
        &[
            "--out",
            &dir.path(tag),
            "--now",
            &now,
            "--sub",
            tag,
            "--aud",
            AUD,
            "--iss",
            iss,
        ],
    )
}

fn entry<'a>(m: &'a Value, alg: &str) -> Option<&'a Value> {
    m["algs"].as_array()?.iter().find(|a| a["alg"] == alg)
}

fn verify(server: &Tessera, token: &str) -> Resp {
    http(
        server,
        "GET",
        "/v1/verify",
        &[("Authorization", &bearer(token))],
        b"",
    )
}

/// `Ok` when the token is accepted for `sub` under `issuer`.
fn accepted(r: &Resp, issuer: &str, sub: &str) -> Result<(), String> {
    if r.status == 200
        && r.header("x-auth-issuer") == Some(issuer)
        && r.header("x-auth-subject") == Some(sub)
    {
        Ok(())
    } else {
        Err(format!(
            "{} {:?} {}",
            r.status,
            r.header("x-auth-issuer"),
            r.text()
        ))
    }
}

fn refused(r: &Resp, code: Option<&str>) -> Result<(), String> {
    if r.status == 401 && code.is_none_or(|c| r.error() == c) {
        Ok(())
    } else {
        Err(format!(
            "expected 401 {code:?}, got {} {}",
            r.status,
            r.text()
        ))
    }
}

/// The token with another subject in its payload (signature unchanged).
fn tampered(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&b64url_decode(parts[1].as_bytes()).unwrap()).unwrap();
    payload["sub"] = json!("root");
    format!(
        "{}.{}.{}",
        parts[0],
        b64url_encode(payload.to_string().as_bytes()),
        parts[2]
    )
}

#[test]
fn peer_jwts_at_v1_verify_under_their_issuers() {
    let (Some(node), Some(python)) = (Peer::node(), Peer::python()) else {
        return;
    };
    let dir = TempDir::new("issuer-peers");
    let jose = make(&node, "jwt-make.mjs", &dir, "jose", "https://jose.example");
    let pyjwt = make(
        &python,
        "jwt_make.py",
        &dir,
        "pyjwt",
        "https://pyjwt.example",
    );
    let py_rs256 = entry(&pyjwt, "RS256").expect("PyJWT makes RS256");
    let config = format!(
        r#"
[[issuer]]
name = "jose-idp"
kind = "jwt"
iss = "https://jose.example"
audiences = ["{AUD}"]
keys = [{jwks:?}]

[[issuer]]
name = "pyjwt-idp"
kind = "jwt"
iss = "https://pyjwt.example"
audiences = ["{AUD}"]
algorithms = ["RS256"]
keys = [{pem:?}]
"#,
        jwks = s(&jose, "jwks"),
        pem = s(&py_rs256["files"], "public_pem"),
    );
    let path = dir.write("tessera.toml", &config);
    let server =
        Tessera::start_with_args(tessera_bin!(), dir.root(), None, &[], &["--config", &path]);
    let mut tally = Tally::new("jose and PyJWT -> tessera serve [[issuer]]");
    for (m, issuer, algs) in [
        (&jose, "jose-idp", &["RS256", "ES256", "EdDSA"][..]),
        (&pyjwt, "pyjwt-idp", &["RS256"][..]),
    ] {
        let peer = s(m, "peer");
        for alg in algs {
            let Some(e) = entry(m, alg) else {
                tally.skip(&format!("{peer} {alg}"), "the peer does not make it");
                continue;
            };
            let t = &e["tokens"];
            let sub = s(e, "sub");
            let case = |what: &str| format!("{peer} {alg} {what} under {issuer}");
            tally.check(
                &case("valid"),
                accepted(&verify(&server, s(t, "valid")), issuer, sub),
            );
            tally.check(
                &case("with kid"),
                accepted(&verify(&server, s(t, "kid")), issuer, sub),
            );
            tally.check(
                &case("expired"),
                refused(&verify(&server, s(t, "expired")), Some("expired")),
            );
            tally.check(
                &case("tampered"),
                refused(
                    &verify(&server, &tampered(s(t, "valid"))),
                    Some("bad_signature"),
                ),
            );
        }
    }
    // A PyJWT key the pyjwt-idp table does not hold (ES256): refused.
    if let Some(e) = entry(&pyjwt, "ES256") {
        tally.check(
            "PyJWT ES256 under pyjwt-idp (RS256 only)",
            refused(&verify(&server, s(&e["tokens"], "valid")), None),
        );
    }
    tally.finish();
}

/// `Authorization` of a bearer token or a ready `Nostr …` value.
fn verify_auth(server: &Tessera, authorization: &str) -> Resp {
    http(
        server,
        "GET",
        "/v1/verify",
        &[("Authorization", authorization)],
        b"",
    )
}

#[test]
fn wallet_peer_tokens_at_v1_verify_under_their_issuers() {
    let Some(node) = Peer::node() else { return };
    let dir = TempDir::new("issuer-wallet-peers");
    let now = unix_now().to_string();
    let tw = node.run(
        "thirdweb-make.mjs",
        &["--now", &now, "--aud", "example.com"],
    );
    let nwt = node.run("nwt-make.mjs", &["--now", &now, "--aud", AUD]);
    let portal = node.run("portal-make.mjs", &["--now", &now]);
    let config = format!(
        r#"
[[issuer]]
name = "tw"
kind = "thirdweb"
admins = ["{admin}"]
domain = "example.com"

[[issuer]]
name = "app-nostr"
kind = "nwt"
audiences = ["{AUD}"]

[[issuer]]
name = "portal-service"
kind = "portal"
signers = ["{portal_signer}"]
"#,
        admin = s(&tw, "admin"),
        portal_signer = s(&portal["signer"], "npub"),
    );
    let path = dir.write("tessera.toml", &config);
    let server =
        Tessera::start_with_args(tessera_bin!(), dir.root(), None, &[], &["--config", &path]);
    let mut tally = Tally::new("ethers, applesauce, node:crypto -> tessera serve [[issuer]]");
    let t = &tw["tokens"];
    let b = |name: &str| verify_auth(&server, &bearer(s(t, name)));
    tally.check(
        "ethers thirdweb valid under tw",
        accepted(&b("valid"), "tw", s(&tw, "user")),
    );
    tally.check(
        "ethers thirdweb std-base64 signature under tw",
        accepted(&b("std_base64_sig"), "tw", s(&tw, "user")),
    );
    tally.check(
        "ethers thirdweb expired",
        refused(&b("expired"), Some("expired")),
    );
    tally.check(
        "ethers thirdweb tampered",
        refused(&b("tampered"), Some("bad_signature")),
    );
    tally.check(
        "ethers thirdweb signed by another wallet",
        refused(&b("signed_by_other"), Some("bad_signature")),
    );

    let t = &nwt["tokens"];
    let n = |name: &str| verify_auth(&server, s(t, name));
    let signer = s(&nwt["signer"], "pubkey");
    tally.check(
        "applesauce NWT valid under app-nostr",
        accepted(&n("valid"), "app-nostr", signer),
    );
    tally.check(
        "applesauce NWT expired",
        refused(&n("expired"), Some("expired")),
    );
    tally.check(
        "applesauce NWT tampered content",
        refused(&n("tampered_content"), Some("id_mismatch")),
    );
    tally.check(
        "applesauce NWT tampered signature",
        refused(&n("tampered_sig"), Some("bad_signature")),
    );
    tally.check(
        "applesauce NWT naming another subject",
        refused(&n("sub_other"), Some("untrusted_signer")),
    );
    tally.check(
        "applesauce NWT without exp",
        refused(&n("no_exp"), Some("missing_claim")),
    );

    let t = &portal["tokens"];
    let p = |name: &str| verify_auth(&server, &bearer(s(t, name)));
    let target = s(&portal, "target_key");
    tally.check(
        "Portal (node:crypto) service-signed valid: subject target_key",
        accepted(&p("valid"), "portal-service", target),
    );
    tally.check("Portal expired", refused(&p("expired"), Some("expired")));
    tally.check(
        "Portal tampered target_key",
        refused(&p("tampered"), Some("bad_signature")),
    );
    tally.check("Portal high S", refused(&p("high_s"), None));
    tally.finish();
}
