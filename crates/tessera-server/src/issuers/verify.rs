//! Which issuers a credential is tried against, and the trying.

use super::{Authenticated, Check, Issuer, Issuers, JwtKeys};
use std::sync::Arc;
use tessera_core::internal::encoding::{b64_either_decode, b64url_decode, hex_encode};
use tessera_core::internal::ethereum::thirdweb::THIRDWEB_HEADER;
use tessera_core::internal::nostr::portal::PORTAL_HEADER;
use tessera_core::internal::nostr::verify_portal;
use tessera_core::internal::sha::sha256;
use tessera_core::NostrPublicKey;
use tessera_core::{Error, ErrorCode, FormatHint, Identity};

/// The request header that names the signer of a wallet-signed Portal JWT
/// (64-hex or npub): a Portal JWT does not carry its signer's key, and
/// recovering it from the signature is ambiguous, so the client names it,
/// as it does in the Portal login body (`pubkey`).
pub const PORTAL_SIGNER_HEADER: &str = "x-portal-pubkey";

/// Which issuers a bearer token is for, chosen by its shape before any
/// signature is checked (nothing here decides how it is verified beyond
/// choosing among configured issuers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerRoute {
    /// Not an issuer's: this server's own access token (built-in `tessera`).
    Tessera,
    /// The jwt issuer at this index, whose `iss` the token names.
    Jwt(usize),
    /// Portal's header and a `target_key`: the portal issuers.
    Portal,
    /// thirdweb's header and a `0x…` signature: the thirdweb issuers.
    Thirdweb,
}

/// A credential every issuer of its kind refused: the error, and the
/// names of the issuers tried (names only: no key material).
#[derive(Debug)]
pub struct IssuerRefusal {
    /// Why (of the issuer the credential was for, else of the first tried).
    pub error: Error,
    /// The issuers tried, in order.
    pub tried: Vec<Arc<str>>,
}

impl IssuerRefusal {
    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        self.error.code()
    }

    /// The message, with the issuers tried.
    pub fn message(&self) -> String {
        let names: Vec<&str> = self.tried.iter().map(|n| &**n).collect();
        format!(
            "{} (issuers tried: {})",
            self.error.message(),
            names.join(", ")
        )
    }
}

/// Codes that mean "this credential is not this issuer's": the next issuer
/// of the kind is tried. Any other refusal (expired, tampered, too long)
/// is final.
fn not_mine(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::UnknownKey
            | ErrorCode::UntrustedSigner
            | ErrorCode::AudienceMismatch
            | ErrorCode::BadSignature
    )
}

impl Issuers {
    /// Chooses the issuers a bearer token is tried against.
    pub fn route_bearer(&self, token: &str) -> BearerRoute {
        if self.list.is_empty() {
            return BearerRoute::Tessera;
        }
        let mut parts = token.splitn(3, '.');
        let (Some(h), Some(p), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return BearerRoute::Tessera;
        };
        let has = |f: fn(&Check) -> bool| self.list.iter().any(|i| f(&i.check));
        if h == THIRDWEB_HEADER && has(|c| matches!(c, Check::Thirdweb(_))) {
            // thirdweb signs `0x` + hex: the segment decodes to ASCII "0x…".
            let hex_sig = sig
                .get(..4)
                .and_then(|s| b64_either_decode(s.as_bytes()).ok())
                .is_some_and(|b| b.starts_with(b"0x"));
            if hex_sig {
                return BearerRoute::Thirdweb;
            }
        }
        let payload = || {
            b64url_decode(p.as_bytes())
                .ok()
                .and_then(|b| tessera_core::internal::json::read_object(&b).ok())
        };
        if h == PORTAL_HEADER
            && has(|c| matches!(c, Check::PortalService { .. } | Check::PortalWallet { .. }))
            && payload().is_some_and(|o| o.contains("target_key"))
        {
            return BearerRoute::Portal;
        }
        if has(|c| matches!(c, Check::Jwt { .. })) {
            if let Some(o) = payload() {
                if let Some(iss) = o.get("iss").and_then(|v| v.as_str()) {
                    let found = self.list.iter().position(
                        |i| matches!(&i.check, Check::Jwt { iss: want, .. } if want == iss),
                    );
                    if let Some(at) = found {
                        return BearerRoute::Jwt(at);
                    }
                }
            }
        }
        BearerRoute::Tessera
    }

    /// Verifies a bearer token against the issuers of its kind; `None`
    /// when it is for the built-in `tessera` issuer. `portal_signer` is the
    /// [`PORTAL_SIGNER_HEADER`] value, if any.
    pub async fn verify_bearer(
        &self,
        token: &str,
        portal_signer: Option<&str>,
    ) -> Option<Result<Authenticated, IssuerRefusal>> {
        match self.route_bearer(token) {
            BearerRoute::Tessera => None,
            BearerRoute::Jwt(at) => match self.list.get(at) {
                Some(
                    issuer @ Issuer {
                        check: Check::Jwt { keys, .. },
                        ..
                    },
                ) => Some(self.verify_jwt(issuer, keys, token).await),
                // `route_bearer` names only jwt issuers.
                _ => None,
            },
            BearerRoute::Portal => Some(self.verify_portal(token, portal_signer)),
            BearerRoute::Thirdweb => Some(self.verify_thirdweb(token)),
        }
    }

    /// A jwt issuer's keys only (chosen by the token's `iss`).
    async fn verify_jwt(
        &self,
        issuer: &Issuer,
        keys: &JwtKeys,
        token: &str,
    ) -> Result<Authenticated, IssuerRefusal> {
        let result = match keys {
            JwtKeys::Files(v) => v.verify_jwt(token),
            JwtKeys::Remote(v) => v.verify_jwt(token).await,
        };
        match result {
            Ok(identity) => Ok(accepted(identity, "jwt", issuer)),
            Err(e) => Err(refusal(e, vec![Arc::clone(&issuer.name)])),
        }
    }

    fn verify_portal(
        &self,
        token: &str,
        signer: Option<&str>,
    ) -> Result<Authenticated, IssuerRefusal> {
        let mut tried = Vec::new();
        if let Some(signer) = signer {
            let wallet = self.list.iter().find_map(|i| match &i.check {
                Check::PortalWallet { policy } => Some((i, policy)),
                _ => None,
            });
            let Some((issuer, policy)) = wallet else {
                let names = self.names_where(|c| matches!(c, Check::PortalService { .. }));
                return Err(refusal(
                    Error::new(
                        ErrorCode::UnknownKey,
                        "X-Portal-Pubkey names the signer of a wallet-signed Portal JWT, and no portal issuer takes them (wallet_signed = true); a service-signed token is sent without it",
                    ),
                    names,
                ));
            };
            tried.push(Arc::clone(&issuer.name));
            let key = NostrPublicKey::parse(signer.trim()).map_err(|_| {
                refusal(
                    Error::new(
                        ErrorCode::Malformed,
                        "X-Portal-Pubkey must be the signer's Nostr key: 64 hex digits or npub",
                    ),
                    tried.clone(),
                )
            })?;
            return match verify_portal(token, &key, policy, self.server.clock.now()) {
                Ok(mut id) => {
                    id.id = Some(hex_encode(&sha256(token.as_bytes())));
                    Ok(accepted(Arc::new(id), "portal", issuer))
                }
                Err(e) => Err(refusal(e, tried)),
            };
        }
        let mut first: Option<Error> = None;
        for issuer in &self.list {
            let Check::PortalService {
                verifier,
                server_key,
            } = &issuer.check
            else {
                continue;
            };
            tried.push(Arc::clone(&issuer.name));
            match verifier.verify_portal(token) {
                Ok(id) => {
                    return service_signed(&id, server_key, token, issuer)
                        .map_err(|e| refusal(e, tried))
                }
                Err(e) if not_mine(e.code()) => {
                    first.get_or_insert(e);
                }
                Err(e) => return Err(refusal(e, tried)),
            }
        }
        let error = first.unwrap_or_else(|| {
            Error::new(
                ErrorCode::UnknownKey,
                "no portal issuer takes service-signed tokens (signers = [...]); a wallet-signed token names its signer in X-Portal-Pubkey",
            )
        });
        if tried.is_empty() {
            tried = self.names_where(|c| matches!(c, Check::PortalWallet { .. }));
        }
        Err(refusal(error, tried))
    }

    fn verify_thirdweb(&self, token: &str) -> Result<Authenticated, IssuerRefusal> {
        let mut tried = Vec::new();
        let mut first: Option<Error> = None;
        for issuer in &self.list {
            let Check::Thirdweb(verifier) = &issuer.check else {
                continue;
            };
            tried.push(Arc::clone(&issuer.name));
            match verifier.verify_thirdweb(token) {
                Ok(id) => return Ok(accepted(id, "thirdweb", issuer)),
                Err(e) if e.code() == ErrorCode::UntrustedSigner => {
                    first.get_or_insert(e);
                }
                Err(e) => return Err(refusal(e, tried)),
            }
        }
        let error =
            first.unwrap_or_else(|| Error::new(ErrorCode::UnknownKey, "no thirdweb issuer"));
        Err(refusal(error, tried))
    }

    /// After the built-in `nostr` issuer refused an NWT with `builtin`
    /// (not addressed to this server, naming another subject, or past its
    /// lifetime cap): the nwt issuers, in order. `None` when there are
    /// none, or when `builtin` is a final refusal (expired, tampered, ...).
    pub fn verify_nwt(
        &self,
        credential: &str,
        builtin: &Error,
    ) -> Option<Result<Authenticated, IssuerRefusal>> {
        // `invalid_claim` too: the built-in's lifetime cap is checked before
        // its audience, and an nwt issuer may allow a longer life.
        let retry = not_mine(builtin.code()) || builtin.code() == ErrorCode::InvalidClaim;
        if !retry
            || !self
                .list
                .iter()
                .any(|i| matches!(i.check, Check::Nwt { .. }))
        {
            return None;
        }
        let mut tried = vec![Arc::clone(&self.nostr)];
        // The refusal of an issuer the token was addressed to says more
        // than "not addressed to this server".
        let mut addressed: Option<Error> = None;
        for issuer in &self.list {
            let Check::Nwt { plain, delegated } = &issuer.check else {
                continue;
            };
            tried.push(Arc::clone(&issuer.name));
            let mut result = plain.verify_nostr(credential, None, FormatHint::Nwt);
            if let (Err(e), Some(d)) = (&result, delegated) {
                if e.code() == ErrorCode::UntrustedSigner {
                    result = d.verify_nostr(credential, None, FormatHint::Nwt);
                }
            }
            match result {
                Ok(id) => return Some(Ok(accepted(id, "nwt", issuer))),
                Err(e) if e.code() == ErrorCode::AudienceMismatch => {}
                Err(e) if not_mine(e.code()) => {
                    addressed.get_or_insert(e);
                }
                Err(e) => return Some(Err(refusal(e, tried))),
            }
        }
        let error = addressed.unwrap_or_else(|| builtin.clone());
        Some(Err(refusal(error, tried)))
    }

    fn names_where(&self, f: impl Fn(&Check) -> bool) -> Vec<Arc<str>> {
        self.list
            .iter()
            .filter(|i| f(&i.check))
            .map(|i| Arc::clone(&i.name))
            .collect()
    }
}

fn accepted(identity: Arc<Identity>, method: &'static str, issuer: &Issuer) -> Authenticated {
    Authenticated {
        identity,
        method,
        issuer: Arc::clone(&issuer.name),
    }
}

fn refusal(error: Error, tried: Vec<Arc<str>>) -> IssuerRefusal {
    IssuerRefusal { error, tried }
}

/// A service-signed Portal JWT vouches for `target_key`: that is the
/// subject (the signer stays the `issuer`). One addressed to this server's
/// own key is a wallet-signed token sent without its signer.
fn service_signed(
    id: &Identity,
    server_key: &str,
    token: &str,
    issuer: &Issuer,
) -> Result<Authenticated, Error> {
    let Some(target) = id.audience.first() else {
        return Err(Error::new(
            ErrorCode::MissingClaim,
            "a Portal JWT names its `target_key`",
        ));
    };
    if target == server_key {
        return Err(Error::new(
            ErrorCode::AudienceMismatch,
            "this Portal JWT vouches for this server's own key: it is a wallet-signed token; name its signer in X-Portal-Pubkey",
        ));
    }
    let mut user = id.clone();
    user.subject = target.clone();
    user.id = Some(hex_encode(&sha256(token.as_bytes())));
    Ok(accepted(Arc::new(user), "portal", issuer))
}
