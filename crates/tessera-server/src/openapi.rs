//! The route table and the OpenAPI 3.1 document generated from it.
//!
//! The router is built from [`ROUTES`] only, and `/openapi.json` lists
//! exactly [`ROUTES`], so the two cannot drift apart; a test also calls
//! every documented route on a live router.

use serde_json::{json, Map, Value};

/// One route: method, path, summary, whether it needs the admin token,
/// and its success status.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    /// HTTP method (upper case).
    pub method: &'static str,
    /// Path.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Requires `Authorization: Bearer <admin_token>`.
    pub admin: bool,
    /// The success status.
    pub ok: u16,
}

const fn r(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    admin: bool,
    ok: u16,
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        summary,
        admin,
        ok,
    }
}

/// Every route of the server.
pub const ROUTES: &[RouteDoc] = &[
    r("GET", "/healthz", "200 while the process runs", false, 200),
    r("GET", "/readyz", "200 when the store answers, else 503", false, 200),
    r("GET", "/metrics", "Prometheus text format", false, 200),
    r("GET", "/openapi.json", "This document", false, 200),
    r("GET", "/v1/info", "What a client needs to build credentials for this server", false, 200),
    r("GET", "/.well-known/jwks.json", "Public keys of the access-token signers (current and still-valid previous)", false, 200),
    r("POST", "/v1/auth/challenge", "A single-use SIWE nonce (and the EIP-4361 message when an address is given)", false, 200),
    r("POST", "/v1/auth/login", "Log in by SIWE, Nostr (NIP-98 or NWT in the Authorization header) or Portal; returns an access/refresh pair (or cookies)", false, 200),
    r("POST", "/v1/auth/refresh", "Rotate a refresh token (body or cookie) into a new pair", false, 200),
    r("POST", "/v1/auth/logout", "End the presented session", false, 204),
    r("POST", "/v1/auth/logout-all", "End every session of the caller's subject; its tokens, NWTs and Portal JWTs issued until now stop working", false, 204),
    r("GET", "/v1/auth/me", "The caller's identity", false, 200),
    r("GET", "/v1/verify", "Forward-auth for gateways: 200 with X-Auth-Subject/-Method/-Issuer (and X-Auth-Claim-*), 401, or 403 by [[rule]]", false, 200),
    r("POST", "/v1/verify", "Forward-auth (Envoy ext_authz forwards the original method)", false, 200),
    r("POST", "/v1/oauth/revoke", "RFC 7009 token revocation (form `token`, `token_type_hint`): an access token, a refresh token's session, or an NWT until it expires", false, 200),
    r("POST", "/v1/oauth/introspect", "RFC 7662 token introspection", true, 200),
    r("POST", "/jwt/issue", "Portal-compatible: issue a Portal JWT signed by the server's Nostr key", true, 200),
    r("POST", "/jwt/verify", "Portal-compatible: verify a Portal JWT against a signer key", true, 200),
];

fn request_body(path: &str) -> Option<Value> {
    let schema = match path {
        "/v1/auth/challenge" => {
            json!({"type": "object", "properties": {"address": {"type": "string", "description": "0x-prefixed Ethereum address"}}, "additionalProperties": false})
        }
        "/v1/auth/login" => json!({"type": "object", "properties": {
            "method": {"type": "string", "enum": ["siwe", "portal"]},
            "message": {"type": "string"}, "signature": {"type": "string"},
            "token": {"type": "string"}, "pubkey": {"type": "string"},
            "cookie": {"type": "boolean"}}, "additionalProperties": false}),
        "/v1/auth/refresh" | "/v1/auth/logout" => {
            json!({"type": "object", "properties": {"refresh_token": {"type": "string"}, "cookie": {"type": "boolean"}}, "additionalProperties": false})
        }
        "/v1/oauth/revoke" | "/v1/oauth/introspect" => {
            return Some(
                json!({"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}, "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]}}}}}}),
            )
        }
        "/jwt/issue" => {
            json!({"type": "object", "required": ["target_key", "duration_hours"], "properties": {"target_key": {"type": "string"}, "duration_hours": {"type": "number"}}})
        }
        "/jwt/verify" => {
            json!({"type": "object", "required": ["pubkey", "token"], "properties": {"pubkey": {"type": "string"}, "token": {"type": "string"}}})
        }
        _ => return None,
    };
    Some(json!({"required": false, "content": {"application/json": {"schema": schema}}}))
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut responses = Map::new();
        responses.insert(route.ok.to_string(), json!({"description": "success"}));
        let errors: &[(&str, &str)] = match route.path {
            "/healthz" | "/metrics" | "/openapi.json" | "/v1/info" | "/.well-known/jwks.json" => {
                &[]
            }
            "/readyz" => &[("503", "the store does not answer")],
            _ => &[
                (
                    "400",
                    "malformed request: {\"error\",\"error_description\"}",
                ),
                ("401", "credential refused, with WWW-Authenticate"),
                (
                    "403",
                    "admin route disabled, or cookie request from another origin",
                ),
                ("408", "request not complete within request_timeout_seconds"),
                ("413", "request body over max_body_bytes"),
                (
                    "415",
                    "login body not application/json (and no Authorization: Nostr)",
                ),
                ("429", "rate limited, with Retry-After"),
                ("431", "Authorization header too large"),
                ("503", "the store cannot be reached: failed closed"),
            ],
        };
        for (status, text) in errors {
            responses.insert((*status).to_owned(), json!({"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
        }
        let mut op = json!({
            "summary": route.summary,
            "operationId": format!("{}{}", route.method.to_ascii_lowercase(), route.path.replace(['/', '.', '-'], "_")),
            "responses": responses,
        });
        if route.admin {
            op["security"] = json!([{"adminToken": []}]);
        }
        if route.method == "POST" {
            if let Some(body) = request_body(route.path) {
                op["requestBody"] = body;
            }
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(route.method.to_ascii_lowercase(), op);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "tessera", "version": env!("CARGO_PKG_VERSION"), "description": "Token authentication for APIs whose users log in with a wallet"},
        "paths": paths,
        "components": {
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}}},
        },
    })
}
