//! PyJWT: its JWTs verified by tessera, tessera's verified by it, and
//! its ES256K signatures of both S halves (real OpenSSL signatures).

use super::*;

#[test]
fn pyjwt_jwts_verify_in_tessera() {
    let Some(python) = Peer::python() else { return };
    peer_to_tessera_jwt(&python, "jwt_make.py", "pyjwt");
}

#[test]
fn tessera_jwts_verify_in_pyjwt() {
    let Some(python) = Peer::python() else { return };
    tessera_to_peer_jwt(&python, "jwt_verify.py", "PyJWT", &["pyjwk", "pem", "jwks"]);
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
