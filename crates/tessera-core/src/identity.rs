//! The outcome of a successful verification.

use crate::json::Object;

/// Which credential format was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A standard JWT (RFC 7519).
    Jwt,
    /// A Portal wallet JWT (ES256K by a Nostr key, `target_key` claim).
    Portal,
    /// A thirdweb-format wallet JWT (EIP-191 signature).
    Thirdweb,
    /// A Nostr Web Token (kind 27519).
    Nwt,
    /// A NIP-98 HTTP Auth event (kind 27235).
    Nip98,
    /// A Sign-In with Ethereum (EIP-4361) message.
    Siwe,
}

impl Format {
    /// The stable lowercase name used in JSON output and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Jwt => "jwt",
            Format::Portal => "portal",
            Format::Thirdweb => "thirdweb",
            Format::Nwt => "nwt",
            Format::Nip98 => "nip98",
            Format::Siwe => "siwe",
        }
    }
}

/// Who a credential proves, and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The verified format.
    pub format: Format,
    /// The signature algorithm (`ES256`, `ES256K`, `BIP340`, `EIP191`, ...).
    pub alg: &'static str,
    /// The issuer (for Nostr formats a 64-hex key, for Ethereum an EIP-55 address).
    pub issuer: Option<String>,
    /// The subject (64-hex Nostr key, EIP-55 address, or a JWT's `sub`).
    pub subject: String,
    /// Audiences the credential is addressed to.
    pub audience: Vec<String>,
    /// `exp`, when present.
    pub expires_at: Option<i64>,
    /// `nbf`, when present.
    pub not_before: Option<i64>,
    /// `iat` (or a Nostr event's `created_at`), when present.
    pub issued_at: Option<i64>,
    /// The credential's unique id: `jti`, or a Nostr event id.
    pub id: Option<String>,
    /// The key id that verified it, when the key has one.
    pub kid: Option<String>,
    /// Every claim, custom ones included (NWT repeated tags as arrays).
    pub claims: Object,
}
