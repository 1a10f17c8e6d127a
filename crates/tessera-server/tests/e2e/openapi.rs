//! `/openapi.json` lists exactly the routes, and each answers; every
//! answer the e2e scenarios get matches the document (status documented,
//! body valid against the schema of that route and status, required and
//! `X-Auth-*` headers documented); and every documented route's success
//! status is seen.

use super::*;
use std::collections::{BTreeSet, HashMap};
use tessera_testkit::http::{record, recorded, Exchange};

/// Starts recording `s`'s answers for [`answers_match_the_document`].
pub fn recording(s: &Server) {
    record(s.addr);
}

/// The media type of an answer, without parameters.
fn media_type(ex: &Exchange) -> Option<String> {
    ex.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
}

/// Compiles the schema of one media type, resolving its `$ref`s against
/// the document's components.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let wrapped = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    jsonschema::validator_for(&wrapped)
        .unwrap_or_else(|e| panic!("the document's schema does not compile: {e}: {schema}"))
}

/// Checks every answer `s` gave since [`recording`] against its own
/// `/openapi.json`. With `full`, also that every documented route's
/// success status was seen. Returns the (method, path, status) seen.
pub fn answers_match_the_document(s: &Server, full: bool) -> BTreeSet<(String, String, u16)> {
    let doc = http(s.addr, "GET", "/openapi.json", &[], b"").json();
    let mut validators: HashMap<String, jsonschema::Validator> = HashMap::new();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    let exchanges = recorded(s.addr);
    assert!(!exchanges.is_empty(), "no answers were recorded");
    for ex in &exchanges {
        let path = ex.path.split('?').next().unwrap_or_default();
        let method = ex.method.to_ascii_lowercase();
        let what = format!("{} {path} -> {}", ex.method, ex.status);
        let Some(op) = doc["paths"].get(path).and_then(|p| p.get(&method)) else {
            // Not a documented route: the router's own refusals only.
            if ![404, 405].contains(&ex.status) {
                problems.push(format!("{what}: undocumented route answered"));
            }
            continue;
        };
        let Some(response) = op["responses"].get(ex.status.to_string()) else {
            problems.push(format!("{what}: status not documented for this route"));
            continue;
        };
        seen.insert((ex.method.clone(), path.to_owned(), ex.status));
        // Headers the document says are always there.
        for (name, h) in response["headers"].as_object().into_iter().flatten() {
            let present = ex.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
            if h["required"] == true && !present {
                problems.push(format!("{what}: required header {name} missing"));
            }
        }
        // Every X-Auth-* header is documented (by name, or by prefix).
        let prefixes: Vec<String> = response["x-tessera-header-prefixes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_ascii_lowercase))
            .collect();
        for (k, _) in &ex.headers {
            let k = k.to_ascii_lowercase();
            if !k.starts_with("x-auth-") {
                continue;
            }
            let named = response["headers"]
                .as_object()
                .is_some_and(|m| m.keys().any(|n| n.eq_ignore_ascii_case(&k)));
            if !named && !prefixes.iter().any(|p| k.starts_with(p.as_str())) {
                problems.push(format!("{what}: header {k} not documented"));
            }
        }
        // The body.
        let Some(content) = response["content"].as_object() else {
            if !ex.body.is_empty() {
                problems.push(format!("{what}: a body where the document has none"));
            }
            continue;
        };
        let media = media_type(ex).unwrap_or_default();
        let Some(entry) = content
            .get(&media)
            .or_else(|| content.get("*/*"))
            .filter(|_| !media.is_empty())
        else {
            problems.push(format!(
                "{what}: content type {media:?} not documented ({:?})",
                content.keys().collect::<Vec<_>>()
            ));
            continue;
        };
        if !media.ends_with("json") {
            continue;
        }
        let body: Value = match serde_json::from_slice(&ex.body) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{what}: body is not JSON: {e}"));
                continue;
            }
        };
        let key = format!("{method} {path} {} {media}", ex.status);
        let v = validators
            .entry(key)
            .or_insert_with(|| validator(&doc, &entry["schema"]));
        for e in v.iter_errors(&body) {
            problems.push(format!("{what}: body {body} does not match: {e}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} answers do not match /openapi.json:\n{}",
        problems.len(),
        problems.join("\n")
    );
    if full {
        let mut missing = Vec::new();
        let mut documented = 0;
        for (path, ops) in doc["paths"].as_object().expect("paths") {
            for (method, op) in ops.as_object().expect("ops") {
                for status in op["responses"].as_object().expect("responses").keys() {
                    documented += 1;
                    let status: u16 = status.parse().expect("a status");
                    let key = (method.to_ascii_uppercase(), path.clone(), status);
                    if (200..300).contains(&status) && !seen.contains(&key) {
                        missing.push(format!("{} {path} {status}", key.0));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "documented successes no e2e scenario got: {missing:?}"
        );
        tessera_testkit::loud(&format!(
            "OPENAPI: {} answers checked; {} of {documented} documented (route, status) pairs seen",
            exchanges.len(),
            seen.len()
        ));
    }
    seen
}

#[test]
fn openapi_lists_exactly_the_routes_and_each_answers() {
    let s = start(None, |_| {});
    recording(&s);
    let doc = http(s.addr, "GET", "/openapi.json", &[], b"").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = 0;
    for (path, ops) in paths {
        for (method, _) in ops.as_object().expect("ops") {
            documented += 1;
            let r = http(
                s.addr,
                &method.to_ascii_uppercase(),
                path,
                &[("Content-Type", "application/json")],
                b"{}",
            );
            assert!(
                r.status != 404 && r.status != 405,
                "{method} {path} is documented but answers {}",
                r.status
            );
        }
    }
    assert_eq!(documented, tessera_server::openapi::ROUTES.len());
    // And nothing undocumented answers: probe methods the document does not
    // list on documented paths.
    for (path, ops) in paths {
        for method in ["GET", "POST", "PUT", "DELETE"] {
            if ops.get(method.to_ascii_lowercase()).is_none() {
                let r = http(s.addr, method, path, &[], b"");
                assert!(
                    r.status == 405 || r.status == 404,
                    "{method} {path} answers {} but is not documented",
                    r.status
                );
            }
        }
    }
    // The answers to `{}` (mostly refusals) match the document too.
    answers_match_the_document(&s, false);
}

#[test]
fn the_document_describes_security_bodies_and_forward_auth_headers() {
    let doc = tessera_server::openapi::document();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["nostrAuth"]["scheme"], "Nostr");
    assert_eq!(schemes["adminToken"]["type"], "http");
    assert_eq!(schemes["accessCookie"]["in"], "cookie");
    assert_eq!(schemes["refreshCookie"]["name"], "tessera_refresh");
    let verify = &doc["paths"]["/v1/verify"]["get"]["responses"]["200"]["headers"];
    for h in [
        "X-Auth-Subject",
        "X-Auth-Method",
        "X-Auth-Issuer",
        "X-Auth-Assertion",
    ] {
        assert!(verify.get(h).is_some(), "{h} is not documented");
    }
    // Every request body and every JSON answer has a schema, and every
    // `$ref` names a component.
    let text = doc.to_string();
    for (name, _) in doc["components"]["schemas"].as_object().expect("schemas") {
        assert!(text.contains(&format!("\"#/components/schemas/{name}\"")));
    }
    let mut refs = 0;
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().expect("a name");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
        refs += 1;
    }
    assert!(refs > 20, "{refs} refs");
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("ops") {
            if let Some(body) = op.get("requestBody") {
                for (_, media) in body["content"].as_object().expect("content") {
                    assert!(media.get("schema").is_some(), "{method} {path}");
                }
            }
            for (status, r) in op["responses"].as_object().expect("responses") {
                for (_, media) in r["content"].as_object().into_iter().flatten() {
                    assert!(media.get("schema").is_some(), "{method} {path} {status}");
                }
            }
        }
    }
    // The request schema types are the handlers' own: `deny_unknown_fields`
    // shows as additionalProperties false.
    assert_eq!(
        doc["components"]["schemas"]["LoginRequest"]["additionalProperties"],
        false
    );
}

/// The validator CI installs into `tests/interop/.venv` (PyPI
/// `openapi-spec-validator`, pinned in tests/interop/requirements.txt).
fn spec_validator() -> Option<std::path::PathBuf> {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/interop/.venv/bin/openapi-spec-validator");
    if bin.is_file() {
        return Some(bin);
    }
    let fix = "run `python3 -m venv tests/interop/.venv && tests/interop/.venv/bin/pip install -r tests/interop/requirements.txt`";
    if tessera_testkit::in_ci() {
        panic!("openapi-spec-validator is not installed ({fix}); CI is set, so this is a failure");
    }
    tessera_testkit::loud_skip(&format!(
        "OPENAPI VALIDATOR SKIPPED: openapi-spec-validator is not installed ({fix})"
    ));
    None
}

#[test]
fn the_served_document_passes_an_openapi_validator() {
    let Some(validator) = spec_validator() else {
        return;
    };
    let s = start(None, |_| {});
    let served = http(s.addr, "GET", "/openapi.json", &[], b"");
    assert_eq!(served.status, 200);
    let dir = tessera_testkit::TempDir::new("openapi");
    let file = dir.join("openapi.json");
    std::fs::write(&file, &served.body).expect("write the document");
    let out = std::process::Command::new(&validator)
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openapi-spec-validator: {said}");
    assert!(said.contains("OK"), "openapi-spec-validator: {said}");
    // And it does refuse a broken one: a response without its description.
    let mut broken: Value = served.json();
    broken["paths"]["/healthz"]["get"]["responses"]["200"]
        .as_object_mut()
        .expect("a response")
        .remove("description");
    std::fs::write(&file, broken.to_string()).expect("write");
    let out = std::process::Command::new(&validator)
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        !out.status.success(),
        "the validator accepted a broken document"
    );
}
