//! Who the caller is: `identify` (every credential kind, the issuers, the session checks), the identity JSON, and `GET /v1/auth/me`.

use super::*;

// ------------------------------------------------- identity: me, verify

/// The request a NIP-98 event must match, as seen by this server or
/// reported by a gateway.
#[derive(Clone)]
pub(crate) struct SeenRequest {
    pub url: String,
    pub method: String,
    /// The body a `payload` tag is checked against; None when it is not
    /// known (a gateway that does not forward it): an event with a
    /// `payload` tag is then refused, unless `unchecked_payload`.
    pub body: Option<Bytes>,
    /// With `body` None, accept a NIP-98 `payload` tag without the body
    /// check (the matched rule's `nip98_payload_without_body =
    /// "accept_unchecked"`); everything else is still checked.
    pub unchecked_payload: bool,
}

/// The identity as the JSON body of `/v1/auth/me` and `/v1/verify`:
/// `subject`, `format`, `method`, `issuer` (the credential's own),
/// `issuer_name` (`tessera`, `nostr` or an `[[issuer]]` name), `audience`, `expires_at`,
/// `issued_at`, and for tessera's access tokens `session_id` and `amr`.
/// Written by `serde_json` (`json::to_string`: floats in `amr` as the
/// claims' own writer puts them) from borrowed fields (this is on every
/// forward-auth request; a `serde_json::Value` tree cost more than the
/// session check itself).
pub(crate) fn identity_body(found: &Authenticated) -> String {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        subject: &'a str,
        format: &'a str,
        method: &'a str,
        issuer: Option<&'a str>,
        issuer_name: &'a str,
        audience: &'a [String],
        expires_at: Option<i64>,
        issued_at: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        session_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        amr: Option<&'a tessera_core::Value>,
    }
    let id = &*found.identity;
    let access_token = found.method == "access_token";
    let claim = |name| access_token.then(|| id.claims.get(name)).flatten();
    let body = Body {
        subject: &id.subject,
        format: id.format.as_str(),
        method: found.method,
        issuer: id.issuer.as_deref(),
        issuer_name: &found.issuer,
        audience: &id.audience,
        expires_at: id.expires_at,
        issued_at: id.issued_at,
        session_id: claim("sid").and_then(|s| s.as_str()),
        amr: claim("amr"),
    };
    tessera_core::internal::json::to_string(&body)
}

/// A JSON response from text already serialised.
pub(crate) fn json_text(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Verifies whatever credential a request carries: a tessera access token
/// (Bearer or cookie; with the session checks), a Nostr NWT for this
/// server, a NIP-98 event for `seen` (single use), or a credential of a
/// trusted `[[issuer]]` (tried only against the issuers of its kind; see
/// `crate::issuers`), with the session checks of credentials a subject
/// made (revocation by id, logout-all).
pub(crate) async fn identify(
    state: &Shared,
    headers: &HeaderMap,
    seen: impl Fn() -> SeenRequest,
) -> Result<Authenticated, ApiError> {
    let start = Instant::now();
    let auth = authorization(headers, state.config.max_authorization_bytes)?;
    let parsed = auth.map(|a| parse_authorization(a, state.config.max_authorization_bytes, false));
    // The cookie is what a browser attaches by itself: it counts only for a
    // request from the origin the request is for (the server's own, or at
    // `/v1/verify` the original request's).
    let cookie_token = match auth {
        None => cookie(headers, ACCESS_COOKIE),
        Some(_) => None,
    };
    if cookie_token.is_some() {
        let seen = seen();
        let expected = browser::origin_of(&seen.url).unwrap_or_default();
        cookie_origin_of(&expected, headers, Intent::of_method(&seen.method))?;
    }
    // The metrics label of a refusal: the format the credential was tried as.
    let mut label = match parsed {
        Some(Ok(Credential::Nostr(_))) => "nostr",
        _ => "access_token",
    };
    let issuers = &state.issuers;
    let tessera = |id: Arc<Identity>| Authenticated {
        identity: id,
        method: "access_token",
        issuer: Arc::clone(issuers.tessera()),
    };
    let result: Result<Authenticated, SessionError> = async {
        match (auth, parsed) {
            (Some(a), Some(Ok(Credential::Nostr(credential)))) => {
                // Only a Nostr credential is bound to the request.
                let seen = seen();
                let unchecked = seen.body.is_none() && seen.unchecked_payload;
                let verified = if unchecked {
                    crate::forward_auth::verify_nostr_unchecked(state, a, credential, &seen).await
                } else {
                    state
                        .sessions
                        .verify_nostr_for(a, &seen.url, &seen.method, seen.body.as_deref().unwrap_or_default())
                        .await
                };
                let id = match verified {
                    Ok(id) => id,
                    Err(e) => {
                        let core = e.code().credential()
                            .filter(|_| e.kind() == SessionErrorKind::Unauthorized)
                            .map(|code| tessera_core::Error::with_message(code, e.message().to_owned()));
                        let Some(found) = core.and_then(|c| issuers.verify_nwt(credential, &c)) else {
                            return Err(tried_builtin(e, issuers, issuers.nostr()));
                        };
                        let found = found.map_err(refused)?;
                        state.sessions.check_issued(&found.identity).await?;
                        return Ok(found);
                    }
                };
                let nostr = Arc::clone(issuers.nostr());
                if id.format == Format::Nip98 {
                    if seen.body.is_none() && !unchecked && id.claims.get("payload").is_some() {
                        return Err(SessionError::unauthorized(
                            ErrorCode::PayloadMismatch,
                            "the NIP-98 event has a `payload` tag but the gateway does not forward the request body, so it cannot be checked",
                        ));
                    }
                    state.sessions.remember_once(&id).await?;
                    return Ok(Authenticated { identity: id, method: "nip98", issuer: nostr });
                }
                Ok(Authenticated { identity: id, method: "nwt", issuer: nostr })
            }
            (_, Some(Ok(Credential::Bearer(token)))) => {
                let signer = headers
                    .get(PORTAL_SIGNER_HEADER)
                    .and_then(|v| v.to_str().ok());
                match issuers.verify_bearer(token, signer).await {
                    None => match state.sessions.check_access(token).await {
                        Ok(id) => Ok(tessera(id)),
                        Err(e) => Err(tried_builtin(e, issuers, issuers.tessera())),
                    },
                    Some(Ok(found)) => {
                        label = found.method;
                        state.sessions.check_issued(&found.identity).await?;
                        Ok(found)
                    }
                    Some(Err(r)) => {
                        label = match issuers.route_bearer(token) {
                            BearerRoute::Portal => "portal",
                            BearerRoute::Thirdweb => "thirdweb",
                            _ => "jwt",
                        };
                        Err(refused(r))
                    }
                }
            }
            (_, Some(Err(e))) => Err(e.into()),
            _ => match &cookie_token {
                Some(t) => Ok(tessera(state.sessions.check_access(t).await?)),
                None => Err(SessionError::unauthorized(
                    ErrorCode::Malformed,
                    "no credential: send `Authorization: Bearer <access token>`, `Authorization: Nostr <event>`, or the access cookie",
                )),
            },
        }
    }
    .await;
    let seconds = start.elapsed().as_secs_f64();
    match result {
        Ok(found) => {
            state.metrics.verification(found.method, Ok(()), seconds);
            Ok(found)
        }
        Err(e) => {
            if e.kind() == SessionErrorKind::Unauthorized {
                let code = e.code().credential().unwrap_or(ErrorCode::Malformed);
                state.metrics.verification(label, Err(code), seconds);
            }
            Err(e.into())
        }
    }
}

/// A built-in issuer's refusal; with `[[issuer]]` tables configured, its
/// message names the issuer tried, like the refusals of the others.
fn tried_builtin(e: SessionError, issuers: &Issuers, name: &str) -> SessionError {
    if issuers.is_empty() || e.kind() != SessionErrorKind::Unauthorized {
        return e;
    }
    match e.code().credential() {
        Some(code) => {
            SessionError::unauthorized(code, format!("{} (issuers tried: {name})", e.message()))
        }
        None => e,
    }
}

/// A credential every issuer of its kind refused, as a 401 that names the
/// issuers tried.
fn refused(r: IssuerRefusal) -> SessionError {
    SessionError::unauthorized(r.code(), r.message())
}

/// `GET /v1/auth/me`: the caller's identity. It takes the header map:
/// [`identify`] is shared with `/v1/verify` and Envoy's `Check`, whose
/// headers are the gateway's, and reads several of them (`Authorization`,
/// `Cookie`, `Origin`, `Sec-Fetch-Site`, the Portal signer).
pub async fn me(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let seen = || SeenRequest {
        url: format!("{}/v1/auth/me", state.config.public_url()),
        method: "GET".into(),
        body: Some(Bytes::new()),
        unchecked_payload: false,
    };
    let found = identify(&state, &headers, seen).await?;
    let mut resp = json_text(identity_body(&found));
    // Who the caller is must not be kept by a shared cache.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tessera_core::{Object, Value as CoreValue};

    fn identity(format: Format, issuer: Option<&str>, audience: &[&str]) -> Identity {
        let mut claims = Object::new();
        claims.insert("sid", "s-1".into());
        claims.insert("amr", CoreValue::Array(vec!["nostr".into(), "x\"y".into()]));
        let mut id = Identity::new(
            format,
            tessera_core::Algorithm::ES256,
            "quote \" backslash \\ newline \n tab \t nul \u{0} é ✓ \u{2028}",
        );
        id.issuer = issuer.map(str::to_owned);
        id.audience = audience.iter().map(|a| (*a).to_owned()).collect();
        id.expires_at = Some(1_796_155_461);
        id.claims = claims.into();
        id
    }

    fn found(identity: Identity, method: &'static str, issuer: &str) -> Authenticated {
        Authenticated {
            identity: Arc::new(identity),
            method,
            issuer: Arc::from(issuer),
        }
    }

    #[test]
    fn issuer_jwts_never_report_a_session() {
        // A trusted issuer's JWT may carry `sid`/`amr` claims: they are its
        // own, not a tessera session.
        let id = identity(Format::Jwt, Some("https://idp.example"), &["api"]);
        let body: serde_json::Value =
            serde_json::from_str(&identity_body(&found(id, "jwt", "corp"))).expect("JSON");
        assert_eq!(body["issuer_name"], "corp");
        assert_eq!(body["method"], "jwt");
        assert!(body.get("session_id").is_none() && body.get("amr").is_none());
    }

    #[test]
    fn the_identity_body_is_the_documented_json_whatever_the_strings_hold() {
        let id = identity(
            Format::Jwt,
            Some("https://iss.example/\"x\""),
            &["a", "b\\c"],
        );
        let body: serde_json::Value = serde_json::from_str(&identity_body(&found(
            id.clone(),
            "access_token",
            "tessera",
        )))
        .expect("the body is JSON");
        assert_eq!(
            body,
            json!({
                "subject": id.subject,
                "format": "jwt",
                "method": "access_token",
                "issuer": "https://iss.example/\"x\"",
                "issuer_name": "tessera",
                "audience": ["a", "b\\c"],
                "expires_at": 1_796_155_461,
                "issued_at": null,
                "session_id": "s-1",
                "amr": ["nostr", "x\"y"],
            })
        );
        // The members come in the documented order.
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "subject",
                "format",
                "method",
                "issuer",
                "issuer_name",
                "audience",
                "expires_at",
                "issued_at",
                "session_id",
                "amr"
            ]
        );
        // Only tessera's access tokens (JWT) carry session_id and amr; no
        // issuer is null, no audience an empty array.
        let nwt = identity(Format::Nwt, None, &[]);
        let body: serde_json::Value =
            serde_json::from_str(&identity_body(&found(nwt, "nwt", "nostr"))).expect("JSON");
        assert_eq!(body["issuer"], serde_json::Value::Null);
        assert_eq!(body["issuer_name"], "nostr");
        assert_eq!(body["audience"], json!([]));
        assert!(body.get("session_id").is_none() && body.get("amr").is_none());
        assert_eq!(body["method"], "nwt");
    }
}
