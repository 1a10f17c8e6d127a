//! Wallet formats, tessera -> peer: `tessera keygen --alg nostr|ethereum`
//! and `tessera issue --format ...` checked by the peers' own verifiers
//! (node/wallet-verify.mjs), after a self-check of those verifiers.

use super::*;

// ---------------------------------------------------------------------------
// Wallet formats: tessera -> peer
// ---------------------------------------------------------------------------

/// Runs node/wallet-verify.mjs on `cases` ({id, format, token, ...}):
/// (the peers' versions, one result per case).
fn wallet_peer_run(node: &Peer, dir: &TempDir, cases: &[Value]) -> (Value, Vec<Value>) {
    let path = dir.write(
        "wallet-cases.json",
        &Value::Array(cases.to_vec()).to_string(),
    );
    let out = node.run("wallet-verify.mjs", &["--cases", &path]);
    let results = out["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), cases.len());
    (out["versions"].clone(), results)
}

/// The peers' wallet verifiers must accept what the peers themselves make and
/// refuse bad variants: a verifier that accepts everything would make the
/// tessera -> peer direction below prove nothing.
#[test]
fn wallet_peer_verifiers_self_check() {
    let Some(node) = Peer::node() else { return };
    let dir = TempDir::new("wallet-self");
    let now = unix_now();
    let now_s = now.to_string();
    let nwt = node.run("nwt-make.mjs", &["--now", &now_s, "--aud", AUD]);
    let body = dir.path("body.json");
    let nip98 = node.run("nip98-make.mjs", &["--url", NIP98_URL, "--body-out", &body]);
    let portal = node.run("portal-make.mjs", &["--now", &now_s]);
    let tw = node.run("thirdweb-make.mjs", &["--now", &now_s, "--aud", DOMAIN]);
    let tok = |m: &Value, k: &str| s(&m["tokens"], k).to_owned();
    let portal_signer = s(&portal["signer"], "pubkey");
    let portal_target = s(&portal, "target_key");
    let cases = vec![
        (
            true,
            json!({"id": "nwt valid", "format": "nwt", "token": tok(&nwt, "valid"), "aud": AUD, "now": now}),
        ),
        (
            false,
            json!({"id": "nwt other aud", "format": "nwt", "token": tok(&nwt, "valid"), "aud": OTHER_AUD, "now": now}),
        ),
        (
            false,
            json!({"id": "nwt expired", "format": "nwt", "token": tok(&nwt, "expired"), "aud": AUD, "now": now}),
        ),
        (
            false,
            json!({"id": "nwt tampered", "format": "nwt", "token": tok(&nwt, "tampered_content"), "aud": AUD, "now": now}),
        ),
        (
            true,
            json!({"id": "nip98 GET", "format": "nip98", "token": tok(&nip98, "get"), "url": NIP98_URL, "method": "GET"}),
        ),
        (
            true,
            json!({"id": "nip98 POST payload", "format": "nip98", "token": tok(&nip98, "post_payload"), "url": NIP98_URL, "method": "POST", "body_file": body}),
        ),
        (
            false,
            json!({"id": "nip98 wrong url", "format": "nip98", "token": tok(&nip98, "get"), "url": "https://api.example/", "method": "GET"}),
        ),
        (
            false,
            json!({"id": "nip98 tampered", "format": "nip98", "token": tok(&nip98, "tampered"), "url": NIP98_URL, "method": "GET"}),
        ),
        (
            true,
            json!({"id": "portal valid", "format": "portal", "token": tok(&portal, "valid"), "signer": portal_signer, "aud": portal_target}),
        ),
        (
            false,
            json!({"id": "portal tampered", "format": "portal", "token": tok(&portal, "tampered"), "signer": portal_signer}),
        ),
        (
            false,
            json!({"id": "portal odd Y", "format": "portal", "token": tok(&portal, "odd_y_unnormalised"), "signer": s(&portal, "odd_y_signer")}),
        ),
        (
            true,
            json!({"id": "thirdweb valid", "format": "thirdweb", "token": tok(&tw, "valid"), "aud": DOMAIN}),
        ),
        (
            true,
            json!({"id": "thirdweb std base64 sig", "format": "thirdweb", "token": tok(&tw, "std_base64_sig"), "aud": DOMAIN}),
        ),
        (
            false,
            json!({"id": "thirdweb tampered", "format": "thirdweb", "token": tok(&tw, "tampered"), "aud": DOMAIN}),
        ),
        (
            false,
            json!({"id": "thirdweb signed by other", "format": "thirdweb", "token": tok(&tw, "signed_by_other"), "aud": DOMAIN}),
        ),
    ];
    let input: Vec<Value> = cases.iter().map(|(_, c)| c.clone()).collect();
    let (_, results) = wallet_peer_run(&node, &dir, &input);
    let mut tally =
        Tally::new("peer wallet verifiers on peer-made credentials (harness self-check)");
    for ((accept, c), r) in cases.iter().zip(&results) {
        let ok = r["ok"] == true;
        let verdict = if ok == *accept {
            Ok(())
        } else {
            Err(format!("expected ok={accept}, got {r}"))
        };
        tally.check(s(c, "id"), verdict);
    }
    tally.finish();
}

/// The key tessera's Portal JWTs vouch for (`--aud`, the `target_key`).
const PORTAL_TARGET: &str = "4fa6fc4de4e8703062d3c630798ae5e6bcd8027a18753ae3e479ca1dc7f63fcb";
/// secp256k1 `n - 1`: its point is `-G`, whose Y is odd. A Portal signer
/// must normalise it (sign with `n - (n - 1) = 1`) so that the signature
/// verifies against `02 || x`, x being G's x (formats.md §2).
const ODD_Y_SECRET: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140";
const ODD_Y_X: &str = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
/// The user a thirdweb-format JWT is about.
const THIRDWEB_USER: &str = "0x000000000000000000000000000000000000dEaD";

/// A Nostr `Authorization` value whose event JSON `edit` changed after
/// signing (id and sig kept). NWT is base64url, NIP-98 standard base64.
fn tamper_nostr(auth: &str, url_safe: bool, edit: impl FnOnce(&mut Value)) -> String {
    let b64 = auth
        .strip_prefix("Nostr ")
        .unwrap_or_else(|| panic!("not a `Nostr ` Authorization value: {auth}"));
    let raw = tessera_core::internal::encoding::b64_either_decode(b64.as_bytes()).unwrap();
    let mut event: Value = serde_json::from_slice(&raw).unwrap();
    edit(&mut event);
    let json = serde_json::to_vec(&event).unwrap();
    if url_safe {
        format!("Nostr {}", b64url_encode(&json))
    } else {
        format!(
            "Nostr {}",
            tessera_core::internal::encoding::b64std_encode(&json)
        )
    }
}

/// The value of an event's first tag named `name`.
fn set_tag(event: &mut Value, name: &str, value: &str) {
    let tag = event["tags"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t[0] == name)
        .unwrap_or_else(|| panic!("the event has no `{name}` tag"));
    tag[1] = json!(value);
}

/// Keys from `tessera keygen --alg nostr|ethereum`, credentials from
/// `tessera issue --format nwt|nip98|portal|thirdweb`, checked by the peers'
/// own verifiers (node/wallet-verify.mjs): each valid credential must be
/// accepted (signed by the generated key, with the claims tessera was asked
/// for), and each negative control refused.
#[test]
fn tessera_wallet_credentials_verify_in_peers() {
    let Some(node) = Peer::node() else { return };
    let dir = TempDir::new("wallet-to-peer");
    // (private key file, public key as `tessera keygen` wrote it to FILE.pub)
    let keygen = |alg: &str, name: &str| {
        let path = dir.path(name);
        tessera_ok(&["keygen", "--alg", alg, "--out", &path]);
        let public = std::fs::read_to_string(format!("{path}.pub")).unwrap();
        (path, public.trim().to_owned())
    };
    let (nostr, x) = keygen("nostr", "me.nostr");
    let (_, other_x) = keygen("nostr", "other.nostr");
    let (eth, address) = keygen("ethereum", "me.eth");
    let (_, other_address) = keygen("ethereum", "other.eth");
    assert_eq!(x.len(), 64, "tessera keygen --alg nostr: {x}");
    assert!(
        address.starts_with("0x"),
        "tessera keygen --alg ethereum: {address}"
    );
    let odd_y = dir.write("odd-y.nostr", ODD_Y_SECRET);
    // nip98.validateEvent hashes JSON.stringify(body): keep the body in that form.
    let body = dir.write("body.json", "{\"action\":\"transfer\",\"amount\":5}");
    let other_body = dir.write(
        "other-body.json",
        "{\"action\":\"transfer\",\"amount\":500}",
    );
    let now = unix_now();
    let now_s = now.to_string();
    let old_s = (now - 7200).to_string();
    let issue = |format: &str, key: &str, extra: &[&str]| {
        let mut args = vec!["issue", "--format", format, "--key", key];
        args.extend_from_slice(extra);
        tessera_ok(&args).trim().to_owned()
    };

    // (None: accepted | Some(the peer check that must fail), case for wallet-verify.mjs)
    let mut cases: Vec<(Option<&str>, Value)> = Vec::new();
    let mut add =
        |refused_by: Option<&'static str>, format: &str, what: &str, token: &str, fields: Value| {
            let mut c = json!({
                "id": format!("tessera->{format} {what}"),
                "format": format, "token": token, "now": now,
            });
            for (k, v) in fields.as_object().unwrap() {
                c[k] = v.clone();
            }
            cases.push((refused_by, c));
        };

    // NWT -> verifyEvent + isValidNostrWebToken / isNostrWebTokenActive /
    // hasNostrWebTokenAudience, claims as applesauce parses them.
    let other_aud = "https://other.example";
    let nwt = issue(
        "nwt",
        &nostr,
        &[
            "--aud",
            AUD,
            "--aud",
            other_aud,
            "--ttl",
            "10m",
            "--claim",
            "role=admin",
            "--now",
            &now_s,
        ],
    );
    let nwt_claims = json!({
        "subject": x, "audiences": [AUD, other_aud], "expiration": now + 600,
        "claims": { "role": ["admin"] },
    });
    add(
        None,
        "nwt",
        "valid",
        &nwt,
        json!({"aud": AUD, "signer": x, "expect_claims": nwt_claims}),
    );
    add(
        None,
        "nwt",
        "valid, second audience",
        &nwt,
        json!({"aud": other_aud, "signer": x}),
    );
    add(
        Some("hasNostrWebTokenAudience"),
        "nwt",
        "other audience",
        &nwt,
        json!({"aud": OTHER_AUD, "signer": x}),
    );
    add(
        Some("signer"),
        "nwt",
        "another signer expected",
        &nwt,
        json!({"aud": AUD, "signer": other_x}),
    );
    let expired = issue(
        "nwt",
        &nostr,
        &["--aud", AUD, "--ttl", "1h", "--now", &old_s],
    );
    add(
        Some("isNostrWebTokenActive"),
        "nwt",
        "expired",
        &expired,
        json!({"aud": AUD, "signer": x}),
    );
    let extended = tamper_nostr(&nwt, true, |e| {
        set_tag(e, "exp", &(now + 365 * 86400).to_string())
    });
    add(
        Some("verifyEvent"),
        "nwt",
        "exp changed after signing",
        &extended,
        json!({"aud": AUD, "signer": x}),
    );

    // NIP-98 -> nip98.validateEvent (signature, kind, created_at against the
    // clock, u, method, payload hash).
    let req = |url: &str, method: &str, body: Option<&str>| json!({"url": url, "method": method, "body_file": body, "signer": x});
    let post = issue(
        "nip98",
        &nostr,
        &["--url", NIP98_URL, "--method", "POST", "--body-file", &body],
    );
    add(
        None,
        "nip98",
        "POST with payload hash",
        &post,
        req(NIP98_URL, "POST", Some(&body)),
    );
    add(
        Some("validateEvent"),
        "nip98",
        "POST, other body",
        &post,
        req(NIP98_URL, "POST", Some(&other_body)),
    );
    let other_url = "https://api.example/v1/things?id=2";
    add(
        Some("validateEvent"),
        "nip98",
        "POST, other url",
        &post,
        req(other_url, "POST", Some(&body)),
    );
    add(
        Some("validateEvent"),
        "nip98",
        "POST, other method",
        &post,
        req(NIP98_URL, "PUT", Some(&body)),
    );
    let get = issue("nip98", &nostr, &["--url", NIP98_URL, "--method", "GET"]);
    add(None, "nip98", "GET", &get, req(NIP98_URL, "GET", None));
    let mut by_other = req(NIP98_URL, "GET", None);
    by_other["signer"] = json!(other_x);
    add(
        Some("signer"),
        "nip98",
        "GET, another signer expected",
        &get,
        by_other,
    );
    let stale_s = (now - 600).to_string();
    let stale = issue(
        "nip98",
        &nostr,
        &["--url", NIP98_URL, "--method", "GET", "--now", &stale_s],
    );
    add(
        Some("validateEvent"),
        "nip98",
        "GET, 10 minutes old",
        &stale,
        req(NIP98_URL, "GET", None),
    );
    let moved = tamper_nostr(&get, false, |e| set_tag(e, "u", other_url));
    add(
        Some("validateEvent"),
        "nip98",
        "u changed after signing",
        &moved,
        req(other_url, "GET", None),
    );

    // Portal -> crypto.verify(sha256, header.payload, 02||x, r||s), header
    // exactly {"alg":"ES256K"}, target_key.
    let portal = issue(
        "portal",
        &nostr,
        &["--aud", PORTAL_TARGET, "--ttl", "1h", "--now", &now_s],
    );
    let portal_claims = json!({"target_key": PORTAL_TARGET, "iat": now, "exp": now + 3600});
    add(
        None,
        "portal",
        "valid",
        &portal,
        json!({"signer": x, "aud": PORTAL_TARGET, "expect_claims": portal_claims}),
    );
    add(
        Some("target_key"),
        "portal",
        "other target_key",
        &portal,
        json!({"signer": x, "aud": other_x}),
    );
    add(
        Some("crypto_verify"),
        "portal",
        "another signer expected",
        &portal,
        json!({"signer": other_x, "aud": PORTAL_TARGET}),
    );
    add(
        Some("crypto_verify"),
        "portal",
        "payload changed after signing",
        &tamper(&portal),
        json!({"signer": x, "aud": PORTAL_TARGET}),
    );
    let odd = issue("portal", &odd_y, &["--aud", PORTAL_TARGET, "--ttl", "1h"]);
    add(
        None,
        "portal",
        "odd-Y secret (n-1), normalised to even Y",
        &odd,
        json!({"signer": ODD_Y_X, "aud": PORTAL_TARGET}),
    );

    // thirdweb -> ethers.verifyMessage(payload JSON, signature) == iss.
    let tw = issue(
        "thirdweb",
        &eth,
        &[
            "--sub",
            THIRDWEB_USER,
            "--aud",
            DOMAIN,
            "--ttl",
            "1d",
            "--claim",
            "role=admin",
            "--now",
            &now_s,
        ],
    );
    let tw_claims = json!({
        "iss": address, "sub": THIRDWEB_USER, "aud": DOMAIN, "iat": now, "exp": now + 86400,
        "ctx": { "role": "admin" },
    });
    add(
        None,
        "thirdweb",
        "valid",
        &tw,
        json!({"aud": DOMAIN, "signer": address, "expect_claims": tw_claims}),
    );
    add(
        Some("aud"),
        "thirdweb",
        "other aud",
        &tw,
        json!({"aud": "evil.example", "signer": address}),
    );
    add(
        Some("signer"),
        "thirdweb",
        "another wallet expected",
        &tw,
        json!({"aud": DOMAIN, "signer": other_address}),
    );
    add(
        Some("verifyMessage_is_iss"),
        "thirdweb",
        "payload changed after signing",
        &tamper(&tw),
        json!({"aud": DOMAIN, "signer": address}),
    );

    let input: Vec<Value> = cases.iter().map(|(_, c)| c.clone()).collect();
    let (versions, results) = wallet_peer_run(&node, &dir, &input);
    let mut tally = Tally::new(&format!(
        "tessera -> applesauce-common {} / nostr-tools {} / node:crypto {} / ethers {}, wallet formats",
        s(&versions, "applesauce-common"),
        s(&versions, "nostr-tools"),
        s(&versions, "node"),
        s(&versions, "ethers"),
    ));
    for ((refused_by, c), r) in cases.iter().zip(&results) {
        assert_eq!(r["id"], c["id"]);
        let verdict = match refused_by {
            None if r["ok"] == true => Ok(()),
            None => Err(format!("the peer refused tessera's credential: {r}")),
            // Refused, and for the reason the case is about.
            Some(check) if r["ok"] == false && r["checks"][*check] == false => Ok(()),
            Some(check) => Err(format!(
                "expected the peer to refuse it by `{check}` failing, got {r}"
            )),
        }
        .map_err(|why| format!("{why}\n      token: {}", s(c, "token")));
        tally.check(s(c, "id"), verdict);
    }
    tally.finish();
}
