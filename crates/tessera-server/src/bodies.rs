//! The JSON bodies the routes answer with, as types: the handlers build
//! these, and `/openapi.json` takes their schemas from the same types
//! (`utoipa::ToSchema`). The request bodies are the handlers' own request
//! types (in `routes/`).
//!
//! Three bodies are written by hand for speed or by another module, and
//! have a schema type only: [`IdentityBody`] (`routes::identity_body`),
//! [`AnonymousBody`] and [`ForbiddenBody`] (`/v1/verify`), and
//! [`JwksBody`] (`tessera_core`'s key set). The e2e suite validates every
//! answer it gets against the document, so these cannot drift unnoticed.

use crate::gateway::{DenyReason, RuleRef};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error except those of `/jwt/*`: an error code of contracts.md or
/// an OAuth error name, and a human description (never a token or secret).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// The error code (`expired`, `bad_signature`, `invalid_request`,
    /// `rate_limited`, `temporarily_unavailable`, ...).
    pub error: String,
    /// For humans.
    pub error_description: String,
}

/// `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// `/readyz` when the store answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// Always `ready`.
    pub status: &'static str,
    /// The store backend: `sqlite`, `postgres` or `redis`.
    pub store: &'static str,
}

/// `/v1/info`: what a client needs to build credentials for this server.
#[derive(Debug, Serialize, ToSchema)]
pub struct Info {
    /// `iss` of the access tokens (the public URL).
    pub issuer: String,
    /// `aud` of the access tokens.
    pub audience: String,
    /// The SIWE `domain`.
    pub siwe_domain: String,
    /// The SIWE `URI`.
    pub siwe_uri: String,
    /// The default SIWE chain id.
    pub chain_id: u64,
    /// The server's Nostr public key (64 hex), signer of its Portal JWTs.
    pub nostr_pubkey: String,
    /// Where the access-token keys are published.
    pub jwks_uri: String,
    /// Where to log in (the URL a NIP-98 login event signs).
    pub login_url: String,
}

/// One public key of `/.well-known/jwks.json` (RFC 7517).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwk {
    /// `EC`, `RSA` or `OKP`.
    pub kty: String,
    /// Key id, as in the access tokens' `kid`.
    pub kid: String,
    /// `ES256`, `RS256`, `EdDSA`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig`.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Curve (EC, OKP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Coordinate / public key (EC, OKP), base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Coordinate (EC), base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Modulus (RSA), base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// Exponent (RSA), base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

/// `/.well-known/jwks.json` (written by `tessera_core`; schema only).
#[derive(Debug, Serialize, ToSchema)]
pub struct JwksBody {
    /// The current signer, newer keys not signed with yet, and retired
    /// keys whose tokens may still be alive.
    pub keys: Vec<Jwk>,
}

/// `POST /v1/auth/challenge`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeBody {
    /// The single-use nonce to put in the SIWE message.
    pub nonce: String,
    /// When the nonce stops being accepted (Unix seconds).
    pub expires_at: i64,
    /// The SIWE `domain` to sign.
    pub domain: String,
    /// The SIWE `URI` to sign.
    pub uri: String,
    /// The SIWE `Chain ID` to sign.
    pub chain_id: u64,
    /// The whole EIP-4361 message, when the request gave an `address`.
    pub message: Option<String>,
}

/// A new access/refresh pair (`/v1/auth/login`, `/v1/auth/refresh`). With
/// `"cookie": true` the two tokens are in `Set-Cookie` instead of the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPairBody {
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// Seconds the refresh token lives.
    pub refresh_expires_in: i64,
    /// The subject the tokens are for.
    pub subject: String,
    /// The access token (absent when sent as a cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// The refresh token, single use (absent when sent as a cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Who the credential is (`/v1/auth/me`, and the body of a `/v1/verify`
/// 200 with a credential). Written by hand (`routes::identity_body`);
/// schema only.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityBody {
    /// The subject: a 0x address, a Nostr key (64 hex), or an issuer's `sub`.
    pub subject: String,
    /// The credential's format (`jwt`, `nip98`, `nwt`, `portal`, ...).
    pub format: String,
    /// How it was verified (`access_token`, `nip98`, `nwt`, `portal`,
    /// `jwt`, `thirdweb`, ...).
    pub method: String,
    /// The credential's `iss`, if any.
    pub issuer: Option<String>,
    /// The issuer that accepted it (`tessera`, `nostr` or an `[[issuer]]` name).
    pub issuer_name: String,
    /// The credential's audiences.
    pub audience: Vec<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// Unix seconds.
    pub issued_at: Option<i64>,
    /// The session (tessera's access tokens only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// How the session logged in (tessera's access tokens only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

/// A `/v1/verify` 200 by an anonymous `[[rule]]`: no credential looked at,
/// no `X-Auth-*` headers. Schema only (`forward_auth.rs` writes it).
#[derive(Debug, Serialize, ToSchema)]
pub struct AnonymousBody {
    /// Always `true`.
    pub anonymous: bool,
    /// The `[[rule]]` that allowed it (null: no rules configured).
    pub rule: Option<RuleRef<'static>>,
}

/// `/v1/verify` 200: who the credential is, or an anonymous rule's answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // a schema only: the two bodies are written elsewhere
pub enum VerifyBody {
    /// A credential was verified.
    Identity(IdentityBody),
    /// An anonymous rule matched.
    Anonymous(AnonymousBody),
}

/// `/v1/verify` 403 by a `[[rule]]` (schema only: `gateway/rules.rs`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ForbiddenBody {
    /// Always `forbidden`.
    pub error: String,
    /// For humans.
    pub error_description: String,
    /// Why, as a stable code.
    pub reason: DenyReason,
    /// The `[[rule]]` that refused (null: no rule matched).
    pub rule: Option<RuleRef<'static>>,
}

/// RFC 7662 answer for a live access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveToken {
    /// `true`.
    pub active: bool,
    /// `access_token`.
    pub token_type: &'static str,
    /// Subject.
    pub sub: String,
    /// Issuer.
    pub iss: Option<String>,
    /// The first audience.
    pub aud: Option<String>,
    /// Unix seconds.
    pub exp: Option<i64>,
    /// Unix seconds.
    pub iat: Option<i64>,
    /// Unix seconds.
    pub nbf: Option<i64>,
    /// Token id.
    pub jti: Option<String>,
    /// Session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub sid: Option<serde_json::Value>,
    /// How the session logged in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub amr: Option<serde_json::Value>,
}

/// RFC 7662 answer for anything else: `{"active": false}` and nothing
/// more (which also keeps it apart from [`ActiveToken`]).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InactiveToken {
    /// `false`.
    pub active: bool,
}

/// `POST /v1/oauth/introspect`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Introspection {
    /// A live access token of this server.
    Active(Box<ActiveToken>),
    /// Not one (expired, revoked, foreign, garbage).
    Inactive(InactiveToken),
}

/// Portal's error body (`/jwt/*` answer every error so, whatever status).
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalError {
    /// `false`.
    pub success: bool,
    /// What went wrong.
    pub error: String,
}

/// `data` of `/jwt/issue`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalToken {
    /// The Portal JWT.
    pub token: String,
}

/// `POST /jwt/issue` 200.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalIssued {
    /// `true`.
    pub success: bool,
    /// The token.
    pub data: PortalToken,
}

/// `data` of `/jwt/verify`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalClaims {
    /// The key the token was issued to (its audience).
    pub target_key: String,
    /// The signer (its subject).
    pub pubkey: String,
}

/// `POST /jwt/verify` 200.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalVerified {
    /// `true`.
    pub success: bool,
    /// What the token says.
    pub data: PortalClaims,
}
