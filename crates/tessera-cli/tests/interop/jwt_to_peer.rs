//! tessera -> peer for JWTs: keys from `tessera keygen`, tokens from
//! `tessera issue` for every algorithm, and how a peer's verdict is judged.

use super::*;

/// What a peer verifier must answer for one tessera token.
#[derive(Clone, Copy, Debug, PartialEq)]
enum PeerExpect {
    Accept,
    RejectExpired,
    RejectSignature,
    RejectAudience,
    RejectTyp,
}

struct TesseraCase {
    input: Value,
    sub: String,
    expect: PeerExpect,
}

/// Keys from `tessera keygen` and tokens from `tessera issue` for every algorithm.
fn tessera_jwt_cases(dir: &TempDir) -> Vec<TesseraCase> {
    let now = unix_now();
    let mut jwks = Vec::new();
    let mut made = Vec::new();
    for alg in ALGS {
        let jwk = dir.path(&format!("{alg}.jwk"));
        tessera_ok(&["keygen", "--alg", alg, "--out", &jwk]);
        let other = dir.path(&format!("{alg}.other.jwk"));
        tessera_ok(&["keygen", "--alg", alg, "--out", &other]);
        let hmac = alg.starts_with("HS");
        let (public, other_public) = if hmac {
            (jwk.clone(), other.clone())
        } else {
            let p = format!("{jwk}.pub");
            jwks.push(
                serde_json::from_str::<Value>(&std::fs::read_to_string(&p).unwrap()).unwrap(),
            );
            (p, format!("{other}.pub"))
        };
        let pem = (!hmac).then(|| {
            let pem = dir.path(&format!("{alg}.pem"));
            tessera_ok(&["keygen", "--alg", alg, "--pem", "--out", &pem]);
            pem
        });
        made.push((alg, jwk, public, other_public, pem));
    }
    let jwks_path = dir.write("jwks.json", &json!({ "keys": jwks }).to_string());

    let mut cases = Vec::new();
    for (alg, jwk, public, other_public, pem) in made {
        let hmac = alg.starts_with("HS");
        let sub = format!("tessera/{alg}");
        let issue = |key: &str, extra: &[&str]| {
            let mut args = vec![
                "issue",
                "--key",
                key,
                "--alg",
                alg,
                "--sub",
                &sub,
                "--aud",
                AUD,
                "--aud",
                "https://other.example",
                "--iss",
                ISS,
                "--claim",
                "role=admin",
                "--claim",
                "n=5",
                "--jti",
            ];
            args.extend_from_slice(extra);
            tessera_ok(&args).trim().to_owned()
        };
        let jwks = (!hmac).then(|| jwks_path.clone());
        let mut push = |what: &str,
                        token: String,
                        jwk: Option<&str>,
                        jwks: Option<&str>,
                        pem: Option<&str>,
                        aud: &str,
                        typ: Option<&str>,
                        expect| {
            cases.push(TesseraCase {
                input: json!({
                    "id": format!("tessera->peer {alg} {what}"),
                    "alg": alg, "token": token, "jwk": jwk, "jwks": jwks, "pem": pem,
                    "aud": aud, "iss": ISS, "typ": typ,
                }),
                sub: sub.clone(),
                expect,
            });
        };
        let token = issue(&jwk, &[]);
        push(
            "jwk",
            token.clone(),
            Some(&public),
            jwks.as_deref(),
            None,
            AUD,
            None,
            PeerExpect::Accept,
        );
        if let Some(pem) = &pem {
            let pem_token = issue(pem, &[]);
            let pem_pub = format!("{pem}.pub");
            push(
                "pem",
                pem_token,
                None,
                None,
                Some(&pem_pub),
                AUD,
                None,
                PeerExpect::Accept,
            );
        }
        let typed = issue(&jwk, &["--typ", "at+jwt"]);
        push(
            "typ_at+jwt",
            typed,
            Some(&public),
            jwks.as_deref(),
            None,
            AUD,
            Some("at+jwt"),
            PeerExpect::Accept,
        );
        push(
            "typ_required_but_absent",
            token.clone(),
            Some(&public),
            None,
            None,
            AUD,
            Some("at+jwt"),
            PeerExpect::RejectTyp,
        );
        let old = (now - 7200).to_string();
        let expired = issue(&jwk, &["--now", &old, "--ttl", "1h"]);
        push(
            "expired",
            expired,
            Some(&public),
            jwks.as_deref(),
            None,
            AUD,
            None,
            PeerExpect::RejectExpired,
        );
        push(
            "tampered",
            tamper(&token),
            Some(&public),
            jwks.as_deref(),
            None,
            AUD,
            None,
            PeerExpect::RejectSignature,
        );
        push(
            "wrong_key",
            token.clone(),
            Some(&other_public),
            None,
            None,
            AUD,
            None,
            PeerExpect::RejectSignature,
        );
        push(
            "wrong_aud",
            token,
            Some(&public),
            jwks.as_deref(),
            None,
            OTHER_AUD,
            None,
            PeerExpect::RejectAudience,
        );
    }
    cases
}

/// The peer's own words for each refusal.
fn peer_codes(peer: &str, e: PeerExpect) -> &'static [&'static str] {
    match (peer, e) {
        ("jose", PeerExpect::RejectExpired) => &["ERR_JWT_EXPIRED"],
        ("jose", PeerExpect::RejectSignature) => &["ERR_JWS_SIGNATURE_VERIFICATION_FAILED"],
        ("jose", PeerExpect::RejectAudience | PeerExpect::RejectTyp) => {
            &["ERR_JWT_CLAIM_VALIDATION_FAILED"]
        }
        ("PyJWT", PeerExpect::RejectExpired) => &["ExpiredSignatureError"],
        ("PyJWT", PeerExpect::RejectSignature) => &["InvalidSignatureError"],
        ("PyJWT", PeerExpect::RejectAudience) => &["InvalidAudienceError"],
        _ => &[],
    }
}

fn judge_peer_outcome(peer: &str, alg: &str, c: &TesseraCase, o: &Value) -> Result<(), String> {
    if peer == "jose" && JOSE_LACKS.contains(&alg) {
        return match o["code"].as_str() {
            Some("ERR_JOSE_NOT_SUPPORTED" | "ERR_JWKS_NO_MATCHING_KEY") if o["ok"] == false => Ok(()),
            _ => Err(format!(
                "jose was expected to lack {alg} (JOSE_LACKS) but answered {o}; if jose now supports it, remove it from JOSE_LACKS"
            )),
        };
    }
    match c.expect {
        PeerExpect::Accept => {
            if o["ok"] != true {
                return Err(format!("the peer refused tessera's token: {o}"));
            }
            let p = &o["payload"];
            if p["sub"] != c.sub.as_str() || p["iss"] != ISS || p["role"] != "admin" || p["n"] != 5
            {
                return Err(format!("payload differs from what tessera signed: {p}"));
            }
            if o["header"]["alg"] != alg {
                return Err(format!("header alg {}, expected {alg}", o["header"]["alg"]));
            }
            Ok(())
        }
        e => {
            let codes = peer_codes(peer, e);
            match o["code"].as_str() {
                Some(code) if o["ok"] == false && codes.contains(&code) => Ok(()),
                _ => Err(format!(
                    "expected the peer to refuse with {codes:?}, got {o}"
                )),
            }
        }
    }
}

pub(crate) fn tessera_to_peer_jwt(peer: &Peer, script: &str, peer_name: &str, methods: &[&str]) {
    let dir = TempDir::new(&format!("to-{peer_name}"));
    let cases = tessera_jwt_cases(&dir);
    // PyJWT does not check `typ`; those cases are jose's.
    let cases: Vec<TesseraCase> = cases
        .into_iter()
        .filter(|c| peer_name == "jose" || c.expect != PeerExpect::RejectTyp)
        .collect();
    let input: Vec<Value> = cases.iter().map(|c| c.input.clone()).collect();
    let path = dir.write("cases.json", &Value::Array(input).to_string());
    let out = peer.run(script, &["--cases", &path]);
    assert_eq!(s(&out, "peer"), peer_name);
    let mut tally = Tally::new(&format!(
        "tessera -> {peer_name} {}, JWT",
        s(&out, "version")
    ));
    let results = out["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        cases.len(),
        "the peer answered a different number of cases"
    );
    for (c, r) in cases.iter().zip(results) {
        let id = s(&c.input, "id");
        assert_eq!(s(r, "id"), id);
        let alg = s(&c.input, "alg");
        for m in methods {
            let o = &r[*m];
            let case = format!("{id} [{m}]");
            if o["skipped"] == true {
                // Only inputs the case did not provide may be skipped.
                let given = match *m {
                    "import_jwk" | "pyjwk" => !c.input["jwk"].is_null(),
                    "jwks" => !c.input["jwks"].is_null(),
                    _ => !c.input["pem"].is_null(),
                };
                if given {
                    tally.check(
                        &case,
                        Err(format!("skipped though its input was given: {o}")),
                    );
                }
                continue;
            }
            let verdict = judge_peer_outcome(peer_name, alg, c, o)
                .map_err(|why| format!("{why}\n      token: {}", s(&c.input, "token")));
            if verdict.is_ok() && peer_name == "jose" && JOSE_LACKS.contains(&alg) {
                tally.skip(
                    &case,
                    &format!(
                        "jose {} does not implement {alg} (refused as not supported)",
                        s(&out, "version")
                    ),
                );
            } else {
                tally.check(&case, verdict);
            }
        }
    }
    tally.finish();
}
