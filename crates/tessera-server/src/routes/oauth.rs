//! OAuth 2.0: token revocation (RFC 7009) and introspection (RFC 7662).

use super::*;
use crate::bodies::{ActiveToken, InactiveToken, Introspection};
use crate::extractors::{Admin, JsonOrForm, RevokeBucket};

// ------------------------------------------------------------ OAuth 2.0

/// RFC 7009 / RFC 7662 parameters, as a form (or a JSON object): read by
/// [`JsonOrForm`] (`serde_urlencoded`: `+` is a space, unknown parameters
/// are ignored, one given twice is refused).
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenForm {
    /// The token (required).
    #[schema(required = true)]
    token: Option<String>,
    /// `access_token` or `refresh_token` (revoke refuses anything else).
    token_type_hint: Option<String>,
}

/// `POST /v1/oauth/revoke` (RFC 7009): 200 even for unknown tokens.
///
/// Limited like login: revoking an NWT stores its id until it expires, so
/// unlimited revocations would let anyone grow the store.
pub async fn revoke(
    State(state): State<Shared>,
    _: RateLimited<RevokeBucket>,
    JsonOrForm(form): JsonOrForm<TokenForm>,
) -> Result<Response, ApiError> {
    let token = form
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("the `token` parameter is required"))?;
    match form.token_type_hint.as_deref() {
        None | Some("access_token") | Some("refresh_token") => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ApiCode::UnsupportedTokenType,
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

/// `POST /v1/oauth/introspect` (RFC 7662), admin-authenticated.
pub async fn introspect(
    State(state): State<Shared>,
    _: Admin,
    JsonOrForm(form): JsonOrForm<TokenForm>,
) -> Result<Response, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameters as the extractor reads them (`JsonOrForm`).
    fn token_form(headers: &HeaderMap, body: &[u8]) -> Result<TokenForm, ApiError> {
        JsonOrForm::parse(crate::extractors::is_json(headers), body).map(|JsonOrForm(f)| f)
    }

    fn form(body: &[u8]) -> Result<TokenForm, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        token_form(&headers, body)
    }

    fn refused(body: &[u8]) -> (StatusCode, String) {
        let e = form(body).err().expect("refused");
        (e.status, e.error.as_str().to_owned())
    }

    #[test]
    fn form_parameters_are_decoded() {
        let f = form(b"token=a%2Bb+c&token_type_hint=refresh_token&other=x&other=y").unwrap();
        assert_eq!(f.token.as_deref(), Some("a+b c"));
        assert_eq!(f.token_type_hint.as_deref(), Some("refresh_token"));
        // Escaped names, empty pairs, a pair without `=`.
        let f = form(b"&&%74oken=%C3%A9&token_type_hint").unwrap();
        assert_eq!(f.token.as_deref(), Some("\u{e9}"));
        assert_eq!(f.token_type_hint.as_deref(), Some(""));
        let f = form(b"").unwrap();
        assert!(f.token.is_none() && f.token_type_hint.is_none());
        // Without a content type the body is a form too.
        let f = token_form(&HeaderMap::new(), b"token=t").unwrap();
        assert_eq!(f.token.as_deref(), Some("t"));
    }

    /// Every refusal of the form rules: 400 `invalid_request`.
    #[test]
    fn bad_forms_are_invalid_requests() {
        let bad = (StatusCode::BAD_REQUEST, "invalid_request".to_owned());
        for body in [
            &b"token=a&token=b"[..],
            b"token_type_hint=a&token=t&token_type_hint=a",
            b"token=%zz",
            b"token=%4",
            b"token=%",
            b"token=%+1",
            b"token=\xff",
            b"token=%FF",
            b"token=%C3&x=%A9",
        ] {
            assert_eq!(refused(body), bad, "{}", String::from_utf8_lossy(body));
        }
    }
}
