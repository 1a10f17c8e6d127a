//! The Portal-compatible REST routes `/jwt/issue` and `/jwt/verify` (admin-authenticated).

use super::*;
use crate::bodies::{PortalClaims, PortalError, PortalIssued, PortalToken, PortalVerified};
use crate::extractors::Admin;
use axum::extract::{FromRequest, FromRequestParts, Request};
use tessera_core::internal::nostr::{issue_portal, verify_portal, NostrSecretKey};
use tessera_core::NostrPublicKey;
use tessera_core::Policy;

fn portal_error(status: StatusCode, message: &str) -> Response {
    let body = PortalError {
        success: false,
        error: message.to_owned(),
    };
    (status, Json(body)).into_response()
}

/// What both routes take: the admin check, then the body's JSON as `T`
/// (strict reader), each refusal answered in Portal's error shape.
pub(crate) struct PortalRequest<T>(T);

/// A refused Portal request: `{"success":false,"error"}` with the status
/// the server's own error would have.
pub(crate) struct PortalRejection(ApiError);

impl IntoResponse for PortalRejection {
    fn into_response(self) -> Response {
        portal_error(self.0.status, &self.0.description)
    }
}

impl<T: serde::de::DeserializeOwned> FromRequest<Shared> for PortalRequest<T> {
    type Rejection = PortalRejection;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, PortalRejection> {
        let (mut parts, body) = req.into_parts();
        Admin::from_request_parts(&mut parts, state)
            .await
            .map_err(PortalRejection)?;
        let StrictJson(t) = StrictJson::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(PortalRejection)?;
        Ok(PortalRequest(t))
    }
}

/// `POST /jwt/issue`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortalIssue {
    /// The key the token is for: 64 hex or npub.
    target_key: String,
    /// Lifetime in hours, in (0, 8760].
    duration_hours: f64,
}

/// `POST /jwt/issue` `{"target_key","duration_hours"}` ->
/// `{"success":true,"data":{"token"}}`, signed by the server's Nostr key.
pub async fn portal_issue(
    State(state): State<Shared>,
    PortalRequest(req): PortalRequest<PortalIssue>,
) -> Response {
    let Ok(target) = NostrPublicKey::parse(req.target_key.trim()) else {
        return portal_error(
            StatusCode::BAD_REQUEST,
            "target_key must be a 64-hex Nostr key or npub",
        );
    };
    if !(req.duration_hours.is_finite() && req.duration_hours > 0.0 && req.duration_hours <= 8760.0)
    {
        return portal_error(
            StatusCode::BAD_REQUEST,
            "duration_hours must be a number in (0, 8760]",
        );
    }
    let seconds = (req.duration_hours * 3600.0).round() as i64;
    let secret = NostrSecretKey::from_secret(*state.keys().nostr_secret());
    match issue_portal(&secret, &target, state.clock.now(), seconds.max(1)) {
        Ok(token) => Json(PortalIssued {
            success: true,
            data: PortalToken { token },
        })
        .into_response(),
        Err(e) => portal_error(StatusCode::BAD_REQUEST, e.message()),
    }
}

/// `POST /jwt/verify`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortalVerify {
    /// The signer's key: 64 hex or npub.
    pubkey: String,
    /// The Portal JWT.
    token: String,
}

/// `POST /jwt/verify` `{"pubkey","token"}` ->
/// `{"success":true,"data":{"target_key"}}` (with `exp`/`nbf` enforced).
pub async fn portal_verify(
    State(state): State<Shared>,
    PortalRequest(req): PortalRequest<PortalVerify>,
) -> Response {
    let Ok(signer) = NostrPublicKey::parse(req.pubkey.trim()) else {
        return portal_error(
            StatusCode::BAD_REQUEST,
            "pubkey must be a 64-hex Nostr key or npub",
        );
    };
    let policy = Policy {
        leeway: state.config.leeway_seconds,
        ..Policy::default()
    };
    let start = Instant::now();
    let result = verify_portal(&req.token, &signer, &policy, state.clock.now());
    let secs = start.elapsed().as_secs_f64();
    match result {
        Ok(id) => {
            state.metrics.verification("portal", Ok(()), secs);
            let target = id.audience.first().cloned().unwrap_or_default();
            Json(PortalVerified {
                success: true,
                data: PortalClaims {
                    target_key: target,
                    pubkey: id.subject.clone(),
                },
            })
            .into_response()
        }
        Err(e) => {
            state.metrics.verification("portal", Err(e.code()), secs);
            let mut r = portal_error(
                StatusCode::UNAUTHORIZED,
                &format!("{}: {}", e.code().as_str(), e.message()),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                e.code().as_str()
            )) {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            r
        }
    }
}
