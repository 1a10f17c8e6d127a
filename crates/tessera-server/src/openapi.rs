//! The route table and the OpenAPI 3.1 document generated from it.
//!
//! The router is built from [`ROUTES`] only, and `/openapi.json` lists
//! exactly [`ROUTES`], so the two cannot drift apart; a test also calls
//! every documented route on a live router. Request and response bodies
//! are described by the schemas `utoipa` derives from the types the
//! handlers parse and answer with (`routes/` request types,
//! `crate::bodies`); the e2e suite checks every answer it gets against
//! this document, and CI runs an OpenAPI validator on it.

use crate::bodies::{
    ChallengeBody, ErrorBody, ForbiddenBody, Health, IdentityBody, Info, Introspection, JwksBody,
    PortalError, PortalIssued, PortalVerified, Ready, TokenPairBody, VerifyBody,
};
use crate::issuers::PORTAL_SIGNER_HEADER;
use crate::routes::{
    ChallengeRequest, LoginRequest, PortalIssue, PortalVerify, RefreshRequest, TokenForm,
    ACCESS_COOKIE, REFRESH_COOKIE,
};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

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

/// The component schemas met so far, by name.
#[derive(Default)]
struct Schemas(Map<String, Value>);

impl Schemas {
    /// A `$ref` to `T`'s schema, recording it (and what it refers to).
    fn of<T: ToSchema>(&mut self) -> Value {
        let mut found = Vec::new();
        T::schemas(&mut found);
        found.push((T::name().into_owned(), T::schema()));
        for (name, schema) in found {
            // The schema types serialize infallibly (plain maps and strings).
            let value = serde_json::to_value(schema).unwrap_or(Value::Null);
            self.0.insert(name, value);
        }
        json!({"$ref": format!("#/components/schemas/{}", T::name())})
    }
}

/// `application/json` content with `schema`.
fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// A header object.
fn header(description: &str, required: bool) -> Value {
    json!({"description": description, "required": required, "schema": {"type": "string"}})
}

/// What each error status means, whichever route answers it.
fn error_text(status: u16) -> &'static str {
    match status {
        400 => "malformed request (bad JSON, missing or unknown member, bad parameter)",
        401 => "credential refused or missing; `error` is the reason code, with WWW-Authenticate",
        403 => "admin routes disabled, or a cookie request from another origin",
        408 => "request not complete within request_timeout_seconds",
        413 => "request body over max_body_bytes",
        415 => "login body not application/json (and no Authorization: Nostr)",
        429 => "rate limited (rate_limit_per_minute per client), with Retry-After",
        431 => "Authorization header over max_authorization_bytes",
        500 => "internal error; details only in the server log",
        503 => "the store cannot be reached: stateful checks fail closed, with Retry-After",
        _ => "error",
    }
}

fn headers_of(status: u16) -> Value {
    let mut h = Map::new();
    if status == 401 {
        h.insert(
            "WWW-Authenticate".into(),
            header(
                "`Bearer error=\"invalid_token\", error_description=\"...\"`",
                true,
            ),
        );
    }
    if status == 429 || status == 503 {
        h.insert("Retry-After".into(), header("seconds", true));
    }
    Value::Object(h)
}

/// Portal's answers carry `WWW-Authenticate` only for a refused token
/// (not for a missing or wrong admin token).
fn portal_headers(status: u16) -> Value {
    if status == 401 {
        json!({"WWW-Authenticate": header("when the token itself is refused", false)})
    } else {
        json!({})
    }
}

/// One error response with the [`ErrorBody`] schema.
fn error(s: &mut Schemas, status: u16) -> (u16, Value) {
    let schema = s.of::<ErrorBody>();
    (
        status,
        json!({"description": error_text(status), "headers": headers_of(status), "content": json_content(schema)}),
    )
}

/// The errors of `/jwt/*`: Portal's `{"success":false,"error"}` body
/// (a timeout is answered by the shared layer, with [`ErrorBody`]).
fn portal_errors(s: &mut Schemas) -> Vec<(u16, Value)> {
    let schema = s.of::<PortalError>();
    let mut out: Vec<(u16, Value)> = [400, 401, 403, 413, 431]
        .into_iter()
        .map(|status| {
            (
                status,
                json!({"description": error_text(status), "headers": portal_headers(status), "content": json_content(schema.clone())}),
            )
        })
        .collect();
    out.push(error(s, 408));
    out
}

fn ok(description: &str, content: Option<Value>) -> Value {
    let mut v = json!({"description": description});
    if let Some(c) = content {
        v["content"] = c;
    }
    v
}

fn set_cookie_headers() -> Value {
    json!({"Set-Cookie": header(&format!("with `\"cookie\": true` (or a cookie request): `{ACCESS_COOKIE}` and `{REFRESH_COOKIE}`, HttpOnly, SameSite=Strict; logout clears them"), false)})
}

/// The answer of `/v1/verify` when the credential is admitted.
fn verify_ok(s: &mut Schemas) -> Value {
    let schema = s.of::<VerifyBody>();
    json!({
        "description": "admitted: the identity (or an anonymous rule's answer, without X-Auth-*). The upstream headers: X-Auth-Subject, X-Auth-Method, X-Auth-Issuer, X-Auth-Assertion when [forward_auth] assertion_audience is set, and one X-Auth-Claim-<Name> per [forward_auth] claim_headers entry the credential has",
        "headers": {
            "X-Auth-Subject": header("the subject (absent for an anonymous rule)", false),
            "X-Auth-Method": header("how the credential was verified: access_token, nip98, nwt, portal, jwt, thirdweb, ...", false),
            "X-Auth-Issuer": header("the issuer that accepted it: tessera, nostr, or an [[issuer]] name", false),
            "X-Auth-Assertion": header("a short-lived JWT signed by tessera stating subject, method and issuer for the upstream (with [forward_auth] assertion_audience)", false),
            "X-Auth-Claim-*": header("X-Auth-Claim-<Name>: the value of a claim named in [forward_auth] claim_headers (one header per claim)", false),
        },
        "x-tessera-header-prefixes": ["X-Auth-Claim-"],
        "content": json_content(schema),
    })
}

/// Security requirement alternatives (`{}`: none needed).
fn security(names: &[&str]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|n| {
                let mut m = Map::new();
                if !n.is_empty() {
                    m.insert((*n).to_owned(), json!([]));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// What one route takes and answers: request body, security, responses.
struct Operation {
    request: Option<Value>,
    security: Option<Value>,
    responses: Vec<(u16, Value)>,
}

fn json_request<T: ToSchema>(s: &mut Schemas, required: bool, description: &str) -> Value {
    json!({"required": required, "description": description, "content": json_content(s.of::<T>())})
}

fn operation(route: &RouteDoc, s: &mut Schemas) -> Operation {
    let errors = |s: &mut Schemas, list: &[u16]| -> Vec<(u16, Value)> {
        list.iter().map(|&status| error(s, status)).collect()
    };
    let mut op = Operation {
        request: None,
        security: None,
        responses: Vec::new(),
    };
    let success = |s: &mut Schemas, route: &RouteDoc| -> Value {
        match (route.method, route.path) {
            ("GET", "/healthz") => ok("the process runs", Some(json_content(s.of::<Health>()))),
            ("GET", "/readyz") => ok("the store answers", Some(json_content(s.of::<Ready>()))),
            ("GET", "/metrics") => ok(
                "Prometheus text exposition format 0.0.4",
                Some(json!({"text/plain": {"schema": {"type": "string"}}})),
            ),
            ("GET", "/openapi.json") => ok(
                "this OpenAPI 3.1 document",
                Some(json_content(json!({"type": "object"}))),
            ),
            ("GET", "/v1/info") => ok("server facts", Some(json_content(s.of::<Info>()))),
            ("GET", "/.well-known/jwks.json") => ok(
                "RFC 7517 key set",
                Some(json!({"application/jwk-set+json": {"schema": s.of::<JwksBody>()}})),
            ),
            ("POST", "/v1/auth/challenge") => {
                ok("a fresh nonce", Some(json_content(s.of::<ChallengeBody>())))
            }
            ("POST", "/v1/auth/login") | ("POST", "/v1/auth/refresh") => {
                let mut v = ok(
                    "a new access/refresh pair (tokens in Set-Cookie instead with \"cookie\": true)",
                    Some(json_content(s.of::<TokenPairBody>())),
                );
                v["headers"] = set_cookie_headers();
                v
            }
            ("POST", "/v1/auth/logout") | ("POST", "/v1/auth/logout-all") => {
                json!({"description": "ended; the session cookies are cleared", "headers": set_cookie_headers()})
            }
            ("GET", "/v1/auth/me") => ok(
                "the caller's identity",
                Some(json_content(s.of::<IdentityBody>())),
            ),
            ("GET", "/v1/verify") | ("POST", "/v1/verify") => verify_ok(s),
            ("POST", "/v1/oauth/revoke") => ok(
                "revoked, or nothing to revoke (RFC 7009 §2.2): empty body",
                None,
            ),
            ("POST", "/v1/oauth/introspect") => ok(
                "RFC 7662 answer",
                Some(json_content(s.of::<Introspection>())),
            ),
            ("POST", "/jwt/issue") => {
                ok("the Portal JWT", Some(json_content(s.of::<PortalIssued>())))
            }
            ("POST", "/jwt/verify") => ok(
                "the token is valid",
                Some(json_content(s.of::<PortalVerified>())),
            ),
            (m, p) => panic!("route {m} {p} has no documented answer"),
        }
    };
    op.responses.push((route.ok, success(s, route)));
    let bearer_like = ["bearerAuth", "nostrAuth", "accessCookie"];
    match (route.method, route.path) {
        ("GET", "/readyz") => op.responses.extend(errors(s, &[503])),
        ("POST", "/v1/auth/challenge") => {
            op.request = Some(json_request::<ChallengeRequest>(
                s,
                false,
                "optional; an empty body is {}",
            ));
            op.responses
                .extend(errors(s, &[400, 408, 413, 429, 500, 503]));
        }
        ("POST", "/v1/auth/login") => {
            op.request = Some(json_request::<LoginRequest>(
                s,
                false,
                "SIWE or Portal as JSON; with Authorization: Nostr (NIP-98 or NWT) optional, and the NIP-98 payload tag covers it",
            ));
            op.security = Some(security(&["nostrAuth", ""]));
            op.responses.extend(errors(
                s,
                &[400, 401, 403, 408, 413, 415, 429, 431, 500, 503],
            ));
        }
        ("POST", "/v1/auth/refresh") => {
            op.request = Some(json_request::<RefreshRequest>(
                s,
                false,
                "the refresh token, or none and the refresh cookie",
            ));
            op.security = Some(security(&["refreshCookie", ""]));
            op.responses
                .extend(errors(s, &[400, 401, 403, 408, 413, 429, 500, 503]));
        }
        ("POST", "/v1/auth/logout") => {
            op.request = Some(json_request::<RefreshRequest>(
                s,
                false,
                "the refresh token of the session to end (or the access token / cookies)",
            ));
            op.security = Some(security(&[
                "bearerAuth",
                "accessCookie",
                "refreshCookie",
                "",
            ]));
            op.responses
                .extend(errors(s, &[400, 401, 403, 408, 413, 431, 500, 503]));
        }
        ("POST", "/v1/auth/logout-all") => {
            op.security = Some(security(&["bearerAuth", "accessCookie"]));
            op.responses.extend(errors(s, &[401, 403, 431, 500, 503]));
        }
        ("GET", "/v1/auth/me") => {
            op.security = Some(security(&bearer_like));
            op.responses.extend(errors(s, &[401, 403, 431, 500, 503]));
        }
        ("GET", "/v1/verify") | ("POST", "/v1/verify") => {
            if route.method == "POST" {
                op.request = Some(
                    json!({"required": false, "description": "the original request's body, when the gateway forwards it (Traefik forwardBody, Envoy with_request_body): what a NIP-98 payload tag is checked against", "content": {"*/*": {"schema": {}}}}),
                );
            }
            // An anonymous [[rule]] needs no credential.
            op.security = Some(security(&["bearerAuth", "nostrAuth", "accessCookie", ""]));
            op.responses.extend(errors(s, &[400, 401]));
            let schemas = json!({"anyOf": [s.of::<ForbiddenBody>(), s.of::<ErrorBody>()]});
            op.responses.push((
                403,
                json!({"description": "a [[rule]] refused the credential (reason, rule), or a cookie request from another origin", "content": json_content(schemas)}),
            ));
            op.responses.extend(errors(s, &[408, 413, 431, 500, 503]));
        }
        ("POST", "/v1/oauth/revoke") | ("POST", "/v1/oauth/introspect") => {
            let schema = s.of::<TokenForm>();
            op.request = Some(json!({"required": true, "content": {
                "application/x-www-form-urlencoded": {"schema": schema.clone()},
                "application/json": {"schema": schema},
            }}));
            if route.path == "/v1/oauth/revoke" {
                op.responses
                    .extend(errors(s, &[400, 408, 413, 429, 500, 503]));
            } else {
                op.responses
                    .extend(errors(s, &[400, 401, 403, 408, 413, 431, 500, 503]));
            }
        }
        ("POST", "/jwt/issue") => {
            op.request = Some(json_request::<PortalIssue>(s, true, "what to issue"));
            op.responses.extend(portal_errors(s));
        }
        ("POST", "/jwt/verify") => {
            op.request = Some(json_request::<PortalVerify>(s, true, "what to verify"));
            op.responses.extend(portal_errors(s));
        }
        _ => {}
    }
    if route.admin {
        op.security = Some(security(&["adminToken"]));
    }
    op
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut schemas = Schemas::default();
    let mut paths = Map::new();
    for route in ROUTES {
        let spec = operation(route, &mut schemas);
        let mut responses = Map::new();
        for (status, response) in spec.responses {
            responses.insert(status.to_string(), response);
        }
        let mut op = json!({
            "summary": route.summary,
            "operationId": format!("{}{}", route.method.to_ascii_lowercase(), route.path.replace(['/', '.', '-'], "_")),
            "responses": responses,
        });
        if let Some(body) = spec.request {
            op["requestBody"] = body;
        }
        if let Some(sec) = spec.security {
            op["security"] = sec;
        }
        if matches!(route.path, "/v1/auth/me" | "/v1/verify") {
            op["parameters"] = json!([{
                "name": PORTAL_SIGNER_HEADER, "in": "header", "required": false,
                "description": "the signer's Nostr key of a Portal JWT presented as Bearer (with a portal [[issuer]])",
                "schema": {"type": "string"},
            }]);
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
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "tessera's access token (ES256 JWT), or a JWT an [[issuer]] accepts (Portal JWT, thirdweb, OIDC)"},
                "nostrAuth": {"type": "http", "scheme": "Nostr", "description": "`Authorization: Nostr <base64 event>`: a NIP-98 event bound to this request, or an NWT"},
                "adminToken": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <admin_token>` (admin routes answer 403 while admin_token is unset)"},
                "accessCookie": {"type": "apiKey", "in": "cookie", "name": ACCESS_COOKIE, "description": "the access token as a session cookie (same-origin requests only)"},
                "refreshCookie": {"type": "apiKey", "in": "cookie", "name": REFRESH_COOKIE, "description": "the refresh token as a session cookie (Path=/v1/auth; same-origin requests only)"},
            },
            "schemas": schemas.0,
        },
    })
}
