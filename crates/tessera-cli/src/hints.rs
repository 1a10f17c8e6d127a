//! "What to do next" for every error code.

use tessera_core::ErrorCode;

/// A next step for the person reading the error.
pub fn next_step(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Malformed => "check that the whole credential was copied, unmodified, with no spaces or line breaks",
        ErrorCode::TokenTooLarge => "the credential exceeds the size limit; issue a smaller token",
        ErrorCode::UnsupportedAlgorithm => "sign with one of HS/RS/PS 256/384/512, ES256, ES384, ES512, ES256K or EdDSA",
        ErrorCode::AlgorithmNotAllowed => "the token's `alg` differs from the algorithm the key is pinned to; pass the right key or --alg",
        ErrorCode::UnknownKey => "pass the issuer's current key set with --key (a key without a `kid`, such as a PEM file, is tried for any `kid`)",
        ErrorCode::BadSignature => "the signature does not match: the token was altered or signed by another key",
        ErrorCode::IdMismatch => "the Nostr event was altered after signing; have the client sign it again",
        ErrorCode::WrongKind => "the Nostr event has the wrong kind for this use (NWT 27519, NIP-98 27235); check --format",
        ErrorCode::Expired => "obtain a new credential, or pass --now / --leeway to evaluate another instant",
        ErrorCode::NotYetValid => "wait until `nbf`, check the clocks, or pass --now / --leeway",
        ErrorCode::AudienceMismatch => "compare --aud with the credential's `aud` (`tessera inspect` shows it)",
        ErrorCode::IssuerMismatch => "the credential comes from another issuer; check --iss",
        ErrorCode::UntrustedSigner => "the signer is not trusted for this subject or issuer; pass its key with --key",
        ErrorCode::MissingClaim => "a required claim is absent (bearer credentials need `exp`; --allow-no-exp accepts none)",
        ErrorCode::InvalidClaim => "a claim has the wrong type or value (timestamps are integer seconds); re-issue the credential",
        ErrorCode::CritUnsupported => "the token uses a JOSE extension tessera refuses; issue it without `crit`/`b64`",
        ErrorCode::UrlMismatch => "the NIP-98 event was signed for another URL; check --url (query included)",
        ErrorCode::MethodMismatch => "the NIP-98 event was signed for another HTTP method; check --method",
        ErrorCode::PayloadMismatch => "the request body differs from the NIP-98 payload hash; check --body-file",
        ErrorCode::Stale => "the NIP-98 event is outside its freshness window; sign a fresh one, or pass --now",
        ErrorCode::Replayed => "this one-time credential was already used; sign a new one",
        ErrorCode::Revoked => "the credential or its session was revoked; log in again",
        ErrorCode::NonceMismatch => "the SIWE nonce is not the one the server issued; request a new challenge",
        ErrorCode::DomainMismatch => "the SIWE message is for another domain; sign a message for this domain",
        _ => "see the error code in contracts.md",
    }
}
