//! Against the server: SIWE (ethers + siwe), NIP-98 (nostr-tools) and NWT
//! (applesauce) logins to the real `tessera serve`, then the access tokens
//! in jose against the server's JWKS.

use super::*;
use tessera_testkit::serve::Tessera;
use tessera_testkit::tessera_bin;

/// `Ok` when `v[key]` is `want`.
fn field_is(v: &Value, key: &str, want: &Value) -> Result<(), String> {
    if &v[key] == want {
        Ok(())
    } else {
        Err(format!("`{key}` is {}, expected {want} in {v}", v[key]))
    }
}

/// An HTTP answer `{status, body}` that must be 401 with this error code.
fn refused(answer: &Value, code: &str) -> Result<(), String> {
    if answer["status"] == 401 && answer["body"]["error"] == code {
        Ok(())
    } else {
        Err(format!("expected 401 `{code}`, got {answer}"))
    }
}

/// Runs node/server-login.mjs for `method` and judges what it saw.
fn server_login_cases(node: &Peer, server: &Tessera, method: &str, tally: &mut Tally) {
    let base = server.url.as_str();
    let out = node.run("server-login.mjs", &["--base", base, "--method", method]);
    let want = json!(s(&out, "expected_subject"));
    let login = &out["login"];
    let access = &out["access"];
    let negatives = &out["negatives"];
    let case = |what: &str| format!("{method}: {what}");

    if method == "siwe" {
        let info = &out["info"]["body"];
        tally.check(
            "GET /v1/info names the public URL",
            field_is(&out["info"], "status", &json!(200))
                .and(field_is(info, "issuer", &json!(base)))
                .and(field_is(info, "audience", &json!(base)))
                .and(field_is(
                    info,
                    "jwks_uri",
                    &json!(format!("{base}/.well-known/jwks.json")),
                )),
        );
        let ch = &out["challenge"]["body"];
        let host = base.trim_start_matches("http://");
        let nonce_ok = ch["nonce"]
            .as_str()
            .is_some_and(|n| n.len() >= 8 && n.chars().all(|c| c.is_ascii_alphanumeric()));
        tally.check(
            &case("POST /v1/auth/challenge gives nonce, domain, uri, chain_id"),
            field_is(&out["challenge"], "status", &json!(200))
                .and(field_is(ch, "domain", &json!(host)))
                .and(field_is(ch, "uri", &json!(base)))
                .and(if ch["chain_id"].is_u64() && nonce_ok {
                    Ok(())
                } else {
                    Err(format!(
                        "nonce (EIP-4361: >= 8 alphanumerics) or chain_id unusable: {ch}"
                    ))
                }),
        );
        let parsed = &out["server_message"];
        let fields = &parsed["fields"];
        tally.check(
            &case("the challenge's ready `message` parses with the siwe package"),
            field_is(parsed, "ok", &json!(true))
                .and(field_is(fields, "address", &want))
                .and(field_is(fields, "nonce", &ch["nonce"]))
                .and(field_is(fields, "domain", &ch["domain"]))
                .and(field_is(fields, "uri", &ch["uri"]))
                .and(field_is(fields, "chainId", &ch["chain_id"]))
                .and(field_is(fields, "version", &json!("1"))),
        );
    }

    let refresh_ok = login["body"]["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 43);
    tally.check(
        &case("POST /v1/auth/login -> access + refresh token for the wallet"),
        field_is(login, "status", &json!(200))
            .and(field_is(&login["body"], "subject", &want))
            .and(field_is(&login["body"], "token_type", &json!("Bearer")))
            .and(if refresh_ok {
                Ok(())
            } else {
                Err(format!("no usable refresh_token in {login}"))
            }),
    );
    let amr = if method == "siwe" { "siwe" } else { "nostr" };
    let payload = &access["payload"];
    let has_amr = payload["amr"]
        .as_array()
        .is_some_and(|a| a.iter().any(|m| m == amr));
    tally.check(
        &case("access token verifies in jose (remote JWKS, iss = aud = public URL, typ at+jwt)"),
        field_is(access, "ok", &json!(true))
            .and(field_is(&access["header"], "typ", &json!("at+jwt")))
            .and(field_is(payload, "sub", &want))
            .and(field_is(payload, "iss", &json!(base)))
            .and(if has_amr {
                Ok(())
            } else {
                Err(format!("amr {} lacks {amr:?}", payload["amr"]))
            }),
    );
    tally.check(
        &case("GET /v1/auth/me with the access token"),
        field_is(&out["me"], "status", &json!(200)).and(field_is(
            &out["me"]["body"],
            "subject",
            &want,
        )),
    );
    tally.check(
        &case("jose refuses the access token for another audience"),
        field_is(&negatives["jose_other_audience"], "ok", &json!(false)).and(field_is(
            &negatives["jose_other_audience"],
            "code",
            &json!("ERR_JWT_CLAIM_VALIDATION_FAILED"),
        )),
    );
    let expected: &[(&str, &str)] = match method {
        "siwe" => &[
            ("replayed_message", "nonce_mismatch"),
            ("signed_by_other_wallet", "bad_signature"),
        ],
        "nip98" => &[
            ("replayed_event", "replayed"),
            ("other_url", "url_mismatch"),
            ("other_method", "method_mismatch"),
        ],
        _ => &[("other_audience", "audience_mismatch")],
    };
    for (name, code) in expected {
        tally.check(
            &case(&format!("login refused: {}", name.replace('_', " "))),
            refused(&negatives[*name], code),
        );
    }
}

#[test]
fn real_clients_log_in_to_tessera_serve() {
    let Some(node) = Peer::node() else { return };
    // The real binary on a free loopback port, with a data directory of
    // its own and the rate limiter off.
    let dir = TempDir::new("interop-serve");
    let server = Tessera::start(tessera_bin!(), dir.root(), None, &[]);
    let mut tally =
        Tally::new("ethers+siwe / nostr-tools / applesauce -> tessera serve -> jose (remote JWKS)");
    for method in ["siwe", "nip98", "nwt"] {
        server_login_cases(&node, &server, method, &mut tally);
    }
    if !tally.failures.is_empty() {
        loud(&format!(
            "tessera serve log (last lines):\n{}",
            server.log_tail()
        ));
    }
    tally.finish();
    drop(server);
}
