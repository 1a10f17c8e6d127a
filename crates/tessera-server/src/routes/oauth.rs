//! OAuth 2.0: token revocation (RFC 7009) and introspection (RFC 7662).

use super::*;
use crate::bodies::{ActiveToken, InactiveToken, Introspection};

// ------------------------------------------------------------ OAuth 2.0

/// RFC 7009 / RFC 7662 parameters, as a form (or a JSON object).
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenForm {
    /// The token (required).
    #[schema(required = true)]
    token: Option<String>,
    /// `access_token` or `refresh_token` (revoke refuses anything else).
    token_type_hint: Option<String>,
}

fn token_form(headers: &HeaderMap, body: &[u8]) -> Result<TokenForm, ApiError> {
    if is_json(headers) {
        return parse_json(body);
    }
    let mut form = TokenForm {
        token: None,
        token_type_hint: None,
    };
    for (k, v) in form_urlencoded_pairs(body)? {
        let slot = match k.as_str() {
            "token" => &mut form.token,
            "token_type_hint" => &mut form.token_type_hint,
            _ => continue,
        };
        if slot.is_some() {
            return Err(ApiError::bad_request(format!("`{k}` is given twice")));
        }
        *slot = Some(v);
    }
    Ok(form)
}

fn form_urlencoded_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the form body is not UTF-8"))?;
    let mut out = Vec::new();
    for part in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        ApiError::bad_request("bad percent-encoding in the form body")
                    })?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request("the form body is not UTF-8"))
}

/// `POST /v1/oauth/revoke` (RFC 7009): 200 even for unknown tokens.
pub async fn revoke(
    State(state): State<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // Limited like login: revoking an NWT stores its id until it expires,
    // so unlimited revocations would let anyone grow the store.
    rate_limit(&state, &headers, &peer, "revoke")?;
    let body = body_bytes(body)?;
    let form = token_form(&headers, &body)?;
    let token = form
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("the `token` parameter is required"))?;
    match form.token_type_hint.as_deref() {
        None | Some("access_token") | Some("refresh_token") => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_token_type",
                "token_type_hint is access_token or refresh_token",
            ))
        }
    }
    state
        .sessions
        .revoke(&token, form.token_type_hint.as_deref())
        .await?;
    Ok(StatusCode::OK.into_response())
}

pub(super) fn require_admin(state: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.config.admin_token else {
        return Err(ApiError::forbidden(
            "admin routes are disabled: set admin_token (TESSERA_ADMIN_TOKEN) to enable them",
        ));
    };
    let auth = authorization(headers, state.config.max_authorization_bytes)?;
    let token = match credential(state, auth) {
        Ok(Some(Credential::Bearer(t))) => Some(t),
        _ => None,
    };
    match token {
        Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "this route needs `Authorization: Bearer <admin_token>`",
        )),
    }
}

/// `POST /v1/oauth/introspect` (RFC 7662), admin-authenticated.
pub async fn introspect(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let body = body_bytes(body)?;
    let form = token_form(&headers, &body)?;
    let token = form
        .token
        .ok_or_else(|| ApiError::bad_request("the `token` parameter is required"))?;
    let answer = match state.sessions.introspect(&token).await? {
        Some(id) => {
            let claim = |name| id.claims.get(name).map(|c| c.to_serde());
            Introspection::Active(Box::new(ActiveToken {
                active: true,
                token_type: "access_token",
                sub: id.subject.clone(),
                iss: id.issuer.clone(),
                aud: id.audience.first().cloned(),
                exp: id.expires_at,
                iat: id.issued_at,
                nbf: id.not_before,
                jti: id.id.clone(),
                sid: claim("sid"),
                amr: claim("amr"),
            }))
        }
        None => Introspection::Inactive(InactiveToken { active: false }),
    };
    let mut resp = Json(answer).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
