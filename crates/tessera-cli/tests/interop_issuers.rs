//! Mainstream issuers as peers (issue #16, docs/interop.md): tokens made by
//! the libraries teams already issue with, verified by the `tessera` binary
//! and the library.
//!
//! - auth0 `jsonwebtoken` and `fast-jwt` (npm): every algorithm each signs,
//!   keys made by node:crypto and handed over as an operator has them (PEM,
//!   JWK without `kid`), tokens with and without `kid`; the same cases as
//!   jose and PyJWT in interop.rs (common/jwt_peer.rs), including a token
//!   with a `kid` against a PEM file and the audience rule (`--any-aud`).
//! - PyJWT ES256K: real OpenSSL signatures of both S halves (signed until
//!   each occurred): both accepted as standard JWTs, the high-S one refused
//!   as a Portal JWT.
//! - thirdweb's older package: wallet JWTs in its standard-base64 encoding
//!   (Node's, `=` stripped, and browsers' `btoa`), made with ethers.
//!
//! Peers and the CI rule are those of interop.rs (tests/common/harness.rs):
//! `npm ci` and the venv in tests/interop; without them the tests print a
//! loud SKIPPED notice, and fail when `CI` is set.
//!
//! Run alone: `cargo test -p tessera-cli --test interop_issuers -- --nocapture`.

mod common;

use common::harness::{s, tessera, unix_now, Peer, Tally, TempDir};
use common::jwt::{run_cases, Case, Expect, Key, AUD, ISS};
use common::jwt_peer::peer_to_tessera_jwt;
use common::wallet::{run_wallet_cases, wcase, WalletExpect};
use serde_json::json;
use tessera_core::encoding::b64url_decode;
use tessera_core::nostr::{verify_portal, NostrPublicKey};
use tessera_core::{ErrorCode, Policy};

#[test]
fn jsonwebtoken_jwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    peer_to_tessera_jwt(&node, "jsonwebtoken-make.mjs", "jsonwebtoken");
}

#[test]
fn fast_jwt_jwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    peer_to_tessera_jwt(&node, "fast-jwt-make.mjs", "fast-jwt");
}

/// secp256k1's n / 2, big-endian.
const HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Whether the ES256K signature of `token` has S above n/2.
fn high_s(token: &str) -> bool {
    let sig = b64url_decode(token.rsplit('.').next().unwrap().as_bytes()).unwrap();
    assert_eq!(sig.len(), 64, "{token}");
    sig[32..] > HALF_N[..]
}

/// The key a Portal JWT in this test vouches for.
const TARGET: &str = "4fa6fc4de4e8703062d3c630798ae5e6bcd8027a18753ae3e479ca1dc7f63fcb";

#[test]
fn pyjwt_es256k_signatures_of_both_s_halves_verify_in_tessera() {
    let Some(python) = Peer::python() else { return };
    let dir = TempDir::new("es256k-halves");
    let now = unix_now();
    let sub = "pyjwt-halves";
    let m = python.run(
        "es256k_halves.py",
        &[
            "--out",
            &dir.path("keys"),
            "--now",
            &now.to_string(),
            "--sub",
            sub,
            "--aud",
            AUD,
            "--iss",
            ISS,
            "--target",
            TARGET,
        ],
    );
    // Both halves were really made by PyJWT (the script signs until each
    // occurred; nothing is negated here).
    for kind in ["jwt", "portal"] {
        assert!(high_s(s(&m[kind], "high_s")), "{kind}: high_s is not high");
        assert!(!high_s(s(&m[kind], "low_s")), "{kind}: low_s is not low");
    }
    let title = format!(
        "PyJWT {} (cryptography {}) -> tessera, ES256K S halves (signed {} and {} times)",
        s(&m, "version"),
        s(&m, "cryptography"),
        m["jwt"]["tries"],
        m["portal"]["tries"]
    );
    let f = &m["files"];
    let mut jwt_cases = Vec::new();
    for half in ["high_s", "low_s"] {
        // Standard JWTs with a `kid`, against key files without one.
        for (form, key) in ["public_pem", "public_jwk"].map(|k| (k, s(f, k))) {
            jwt_cases.push(Case::new(
                format!("PyJWT->tessera ES256K {half} kid/{form}_without_kid"),
                "ES256K",
                s(&m["jwt"], half),
                Key::File(key.into()),
                Expect::Valid { sub: sub.into() },
            ));
        }
    }
    let mut tally = Tally::new(&title);
    run_cases(&mut tally, &jwt_cases, &json!({}), now);
    // Portal JWTs: the library refuses the high-S one, as Portal does, and
    // the same text is a valid standard JWT.
    let signer = NostrPublicKey::parse(s(&m, "nostr_xonly")).unwrap();
    let portal =
        |half: &str| verify_portal(s(&m["portal"], half), &signer, &Policy::default(), now);
    tally.check(
        "lib PyJWT->tessera Portal low_s",
        portal("low_s").map(drop).map_err(|e| e.to_string()),
    );
    tally.check(
        "lib PyJWT->tessera Portal high_s refused",
        match portal("high_s") {
            Err(e) if e.code() == ErrorCode::BadSignature => Ok(()),
            other => Err(format!("expected bad_signature, got {other:?}")),
        },
    );
    let pem = s(f, "public_pem");
    for half in ["high_s", "low_s"] {
        // The same Portal-shaped text is a standard JWT: either S.
        let token = s(&m["portal"], half);
        let out = tessera(&["verify", "--format", "jwt", "--key", pem, token]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        tally.check(
            &format!("cli PyJWT->tessera Portal-shaped {half} as a standard JWT"),
            if out.status.code() == Some(0) && v["format"] == "jwt" && v["alg"] == "ES256K" {
                Ok(())
            } else {
                Err(format!("exit {:?}: {v}", out.status.code()))
            },
        );
    }
    tally.finish();

    let key = format!("nostr:{}", s(&m, "nostr_xonly"));
    let valid = WalletExpect::Valid {
        format: "portal",
        subject: s(&m, "nostr_xonly").to_owned(),
        issuer: s(&m, "nostr_xonly").to_owned(),
        audience: vec![TARGET.into()],
        claims: json!({ "target_key": TARGET }),
    };
    let cases = vec![
        wcase(
            "portal low_s",
            s(&m["portal"], "low_s"),
            &["--format", "portal", "--key", &key],
            valid.clone(),
        ),
        wcase(
            "portal low_s (auto format)",
            s(&m["portal"], "low_s"),
            &["--key", &key],
            valid,
        ),
        wcase(
            "portal high_s refused (Portal requires low S)",
            s(&m["portal"], "high_s"),
            &["--format", "portal", "--key", &key],
            WalletExpect::Code("bad_signature"),
        ),
    ];
    run_wallet_cases(
        &format!(
            "PyJWT {} -> tessera, Portal-shaped ES256K",
            s(&m, "version")
        ),
        &cases,
    );
}

/// The domain thirdweb-format tokens are addressed to.
const DOMAIN: &str = "api.example";

#[test]
fn older_thirdweb_package_jwts_verify_in_tessera() {
    let Some(node) = Peer::node() else { return };
    let now = unix_now().to_string();
    let m = node.run(
        "thirdweb-legacy-make.mjs",
        &["--now", &now, "--aud", DOMAIN],
    );
    // The tokens use what sets them apart from base64url, else they would
    // prove nothing; the signature segment is the same text either way.
    for (check, want) in m["checks"].as_object().unwrap() {
        assert_eq!(want, true, "{check}: {}", m["checks"]);
    }
    let t = &m["tokens"];
    let key = format!("eth:{}", s(&m, "admin"));
    let valid = WalletExpect::Valid {
        format: "thirdweb",
        subject: s(&m, "user").to_owned(),
        issuer: s(&m, "admin").to_owned(),
        audience: vec![DOMAIN.into()],
        claims: json!({}),
    };
    let f = ["--format", "thirdweb", "--key", &key, "--aud", DOMAIN];
    let mut cases = Vec::new();
    for (name, what) in [
        ("node", "standard base64, `=` stripped"),
        ("browser", "btoa, padded"),
    ] {
        let token = s(t, name);
        cases.extend([
            wcase(&format!("legacy {what}"), token, &f, valid.clone()),
            wcase(
                &format!("legacy {what} (auto format)"),
                token,
                &f[2..],
                valid.clone(),
            ),
            wcase(
                &format!("legacy {what}, no --aud: its aud is refused"),
                token,
                &["--key", &key],
                WalletExpect::Code("audience_mismatch"),
            ),
            wcase(
                &format!("legacy {what}, --any-aud"),
                token,
                &["--key", &key, "--any-aud"],
                valid.clone(),
            ),
        ]);
    }
    let title = format!(
        "ethers {} -> tessera, thirdweb JWT (older package's encoding)",
        s(&m, "version")
    );
    run_wallet_cases(&title, &cases);
}
