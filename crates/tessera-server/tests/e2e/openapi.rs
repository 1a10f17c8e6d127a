//! `/openapi.json` lists exactly the routes, and each answers.

use super::*;

#[test]
fn openapi_lists_exactly_the_routes_and_each_answers() {
    let s = start(None, |_| {});
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
}
