//! A JWT peer's manifest (node/jwt-make.mjs and the scripts shaped like it:
//! per algorithm the peer's key files and tokens) turned into the same
//! cases for every peer, each judged by the CLI and the library.

use super::harness::{loud, s, unix_now, Peer, Tally, TempDir};
use super::jwt::{run_cases, tamper, with_member, Case, Expect, Key, AUD, ISS, OTHER_AUD};
use serde_json::{json, Value};
use tessera_core::internal::encoding::b64url_encode;

/// The other algorithm of the same RSA key type (RS256 <-> PS256, ...).
pub fn rsa_sibling(alg: &str) -> Option<String> {
    match &alg[..2] {
        "RS" => Some(format!("PS{}", &alg[2..])),
        "PS" => Some(format!("RS{}", &alg[2..])),
        _ => None,
    }
}

/// Turns a generator manifest (node/jwt-make.mjs, python/jwt_make.py) into cases.
pub fn peer_jwt_cases(m: &Value, dir: &TempDir, peer_sub: &str) -> Vec<Case> {
    let peer = s(m, "peer");
    let mut cases = Vec::new();
    let entries = m["algs"].as_array().unwrap();
    let public_jwk_of = |alg: &str| {
        entries
            .iter()
            .find(|a| a["alg"] == alg)
            .map(|a| s(&a["files"], "public_jwk").to_owned())
    };
    for a in entries {
        let alg = s(a, "alg");
        let sub = format!("{peer_sub}/{alg}");
        assert_eq!(s(a, "sub"), sub, "{peer} did not honour --sub");
        let f = &a["files"];
        let t = &a["tokens"];
        let name = |what: &str| format!("{peer}->tessera {alg} {what}");
        let valid = || Expect::Valid { sub: sub.clone() };
        let hmac = alg.starts_with("HS");
        let primary = if hmac {
            Key::Secret(s(f, "secret_raw").into())
        } else {
            Key::File(s(f, "public_jwk").into())
        };

        // The valid token, with every key form the peer exports.
        let forms: Vec<(&str, Key)> = if hmac {
            vec![
                ("secret_raw", primary.clone()),
                ("secret_jwk_alg", Key::File(s(f, "secret_jwk_alg").into())),
            ]
        } else {
            ["public_jwk", "public_pem", "private_jwk", "private_pem"]
                .into_iter()
                .map(|k| (k, Key::File(s(f, k).into())))
                .collect()
        };
        for (form, key) in forms {
            cases.push(Case::new(
                name(&format!("valid/{form}")),
                alg,
                s(t, "valid"),
                key,
                valid(),
            ));
        }
        if hmac {
            // An `oct` JWK without `alg`, exactly as the peer exports it: an
            // HMAC key for the hash sizes its length allows.
            cases.push(Case::new(
                name("valid/secret_jwk_no_alg"),
                alg,
                s(t, "valid"),
                Key::File(s(f, "secret_jwk").into()),
                valid(),
            ));
        }

        // `kid` selects among a JWK Set; an unknown `kid` is unknown_key.
        let kid = s(a, "kid");
        let (set, rotated) = if hmac {
            let k = with_member(s(f, "secret_jwk"), &json!({"alg": alg, "kid": kid}));
            let other = std::fs::read(s(f, "other_secret_raw")).unwrap();
            let o =
                json!({"kty": "oct", "k": b64url_encode(&other), "alg": alg, "kid": "rotated-out"});
            (
                dir.write(
                    &format!("{alg}.kid.jwks"),
                    &json!({ "keys": [k] }).to_string(),
                ),
                dir.write(
                    &format!("{alg}.rotated.jwks"),
                    &json!({ "keys": [o] }).to_string(),
                ),
            )
        } else {
            let o = with_member(
                s(f, "other_public_jwk"),
                &json!({"alg": alg, "kid": "rotated-out"}),
            );
            (
                s(m, "jwks").to_owned(),
                dir.write(
                    &format!("{alg}.rotated.jwks"),
                    &json!({ "keys": [o] }).to_string(),
                ),
            )
        };
        cases.push(Case::new(
            name("kid/jwks"),
            alg,
            s(t, "kid"),
            Key::File(set),
            valid(),
        ));
        // A key without kid (PEM, the JWK as exported, a secret) is a
        // candidate for any kid (formats.md §1).
        let kidless: Vec<(&str, Key)> = if hmac {
            vec![("secret_raw", primary.clone())]
        } else {
            vec![
                ("public_pem", Key::File(s(f, "public_pem").into())),
                ("public_jwk", primary.clone()),
            ]
        };
        for (form, key) in kidless {
            cases.push(Case::new(
                name(&format!("kid/{form}_without_kid")),
                alg,
                s(t, "kid"),
                key,
                valid(),
            ));
        }
        cases.push(Case::new(
            name("wrong_key/unknown_kid"),
            alg,
            s(t, "kid"),
            Key::File(rotated),
            Expect::Code("unknown_key"),
        ));

        // Time, audience, tampering, wrong key.
        cases.push(Case::new(
            name("expired"),
            alg,
            s(t, "expired"),
            primary.clone(),
            Expect::Code("expired"),
        ));
        cases.push(Case::new(
            name("not_yet_valid"),
            alg,
            s(t, "not_yet_valid"),
            primary.clone(),
            Expect::Code("not_yet_valid"),
        ));
        cases.push(Case::new(
            name("no_exp"),
            alg,
            s(t, "no_exp"),
            primary.clone(),
            Expect::Code("missing_claim"),
        ));
        let mut c = Case::new(
            name("no_exp/allowed"),
            alg,
            s(t, "no_exp"),
            primary.clone(),
            valid(),
        );
        c.allow_no_exp = true;
        cases.push(c);
        let mut c = Case::new(
            name("wrong_aud"),
            alg,
            s(t, "valid"),
            primary.clone(),
            Expect::Code("audience_mismatch"),
        );
        c.aud = Some(OTHER_AUD);
        cases.push(c);
        // RFC 7519 §4.1.3: no expected audience refuses a token naming one,
        // unless --any-aud.
        let mut c = Case::new(
            name("aud/none_expected"),
            alg,
            s(t, "valid"),
            primary.clone(),
            Expect::Code("audience_mismatch"),
        );
        c.aud = None;
        cases.push(c);
        let mut c = Case::new(
            name("aud/any_aud"),
            alg,
            s(t, "valid"),
            primary.clone(),
            valid(),
        );
        c.aud = None;
        c.any_aud = true;
        cases.push(c);
        cases.push(Case::new(
            name("tampered"),
            alg,
            &tamper(s(t, "valid")),
            primary.clone(),
            Expect::Code("bad_signature"),
        ));
        let other = if hmac {
            Key::Secret(s(f, "other_secret_raw").into())
        } else {
            Key::File(s(f, "other_public_jwk").into())
        };
        cases.push(Case::new(
            name("wrong_key/same_alg"),
            alg,
            s(t, "valid"),
            other,
            Expect::Code("bad_signature"),
        ));
        // A key pinned to another algorithm: never tried (no HMAC from a public key either).
        let foreign = if alg == "EdDSA" { "ES256" } else { "EdDSA" };
        if let Some(path) = public_jwk_of(foreign) {
            cases.push(Case::new(
                name(&format!("wrong_key/{foreign}_key")),
                alg,
                s(t, "valid"),
                Key::File(path),
                Expect::Code("algorithm_not_allowed"),
            ));
        }
        if let Some(sib) = rsa_sibling(alg) {
            let jwk = with_member(s(f, "public_jwk"), &json!({ "alg": sib }));
            let path = dir.write(&format!("{alg}.as-{sib}.jwk"), &jwk.to_string());
            cases.push(Case::new(
                name(&format!("wrong_key/same_rsa_key_pinned_{sib}")),
                alg,
                s(t, "valid"),
                Key::File(path),
                Expect::Code("algorithm_not_allowed"),
            ));
        }
        // ECDSA S halves: a standard JWT accepts either, ES256K included
        // (formats.md §1).
        if let (Some(high), Some(low)) = (t["high_s"].as_str(), t["low_s"].as_str()) {
            cases.push(Case::new(name("low_s"), alg, low, primary.clone(), valid()));
            cases.push(Case::new(
                name("high_s"),
                alg,
                high,
                primary.clone(),
                valid(),
            ));
        }
    }
    // Algorithm names the peer signs that tessera does not implement.
    for x in m["extras"].as_array().into_iter().flatten() {
        cases.push(Case::new(
            format!("{peer}->tessera {}", s(x, "name")),
            s(x, "alg"),
            s(x, "token"),
            Key::File(s(x, "key").into()),
            Expect::Code("unsupported_algorithm"),
        ));
    }
    cases
}

pub fn peer_to_tessera_jwt(peer: &Peer, script: &str, tag: &str) {
    let dir = TempDir::new(&format!("{tag}-make"));
    let now = unix_now();
    let now_s = now.to_string();
    let m = peer.run(
        script,
        &[
            "--out",
            &dir.path("keys"),
            "--now",
            &now_s,
            "--sub",
            tag,
            "--aud",
            AUD,
            "--iss",
            ISS,
        ],
    );
    let title = format!("{} {} -> tessera, JWT", s(&m, "peer"), s(&m, "version"));
    let mut tally = Tally::new(&title);
    for u in m["unsupported"].as_array().into_iter().flatten() {
        tally.skip(
            &format!("{} {}", s(&m, "peer"), s(u, "alg")),
            s(u, "reason"),
        );
    }
    if let Some(stats) = m.get("stats") {
        loud(&format!("interop [{title}] peer stats: {stats}"));
    }
    let cases = peer_jwt_cases(&m, &dir, tag);
    run_cases(&mut tally, &cases, &m["claims"], now);
    tally.finish();
}
