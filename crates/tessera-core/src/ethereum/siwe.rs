//! Sign-In with Ethereum (EIP-4361): the message grammar, a builder, and
//! verification (formats.md §6).
//!
//! A [`SiweMessage`] only exists in a valid state: [`SiweMessage::parse`]
//! and [`SiweBuilder::build`] apply the same checks, and `Display` writes
//! the message back byte for byte (every field keeps the text it was given).
//!
//! Grammar choices where EIP-4361 leaves room:
//! - lines end with `\n` only, and the message has no trailing newline;
//! - the address must be written in its EIP-55 form exactly;
//! - the statement may hold any Unicode except control characters and the
//!   Unicode line and paragraph separators (a statement that looks like two
//!   lines could pass for forged fields in a wallet's display); it cannot be
//!   empty (an empty statement would print as "no statement");
//! - `Chain ID` is decimal without leading zeros (so it rebuilds exactly);
//! - a `Resources:` line must be followed by at least one `- <URI>` line.

use super::address::Address;
use super::eip191;
use super::rfc3339::Rfc3339Time;
use super::uri::{is_authority, is_pchars, is_scheme, is_uri};
use crate::error::{Error, ErrorCode, Result};
use crate::identity::{Format, Identity};
use crate::json::{Number, Object, Value};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Longest message accepted, in bytes (`token_too_large` beyond it).
pub const MAX_MESSAGE_SIZE: usize = 16 * 1024;

const HEADER_SUFFIX: &str = " wants you to sign in with your Ethereum account:";

/// A valid EIP-4361 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    scheme: Option<String>,
    domain: String,
    address: Address,
    statement: Option<String>,
    uri: String,
    chain_id: u64,
    nonce: String,
    issued_at: Rfc3339Time,
    expiration_time: Option<Rfc3339Time>,
    not_before: Option<Rfc3339Time>,
    request_id: Option<String>,
    resources: Vec<String>,
}

fn malformed(message: &'static str) -> Error {
    Error::new(ErrorCode::Malformed, message)
}

fn is_statement(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

fn is_nonce(s: &str) -> bool {
    s.len() >= 8 && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

fn parse_chain_id(s: &str) -> Result<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    match s.parse::<u64>() {
        Ok(id) if canonical => Ok(id),
        _ => Err(malformed("`Chain ID` must be a decimal integer")),
    }
}

impl SiweMessage {
    /// Starts a message with its required fields; see [`SiweBuilder`].
    pub fn builder(
        domain: impl Into<String>,
        address: Address,
        uri: impl Into<String>,
        chain_id: u64,
        nonce: impl Into<String>,
        issued_at: Rfc3339Time,
    ) -> SiweBuilder {
        SiweBuilder {
            msg: SiweMessage {
                scheme: None,
                domain: domain.into(),
                address,
                statement: None,
                uri: uri.into(),
                chain_id,
                nonce: nonce.into(),
                issued_at,
                expiration_time: None,
                not_before: None,
                request_id: None,
                resources: Vec::new(),
            },
        }
    }

    /// Parses the exact line grammar of EIP-4361 (formats.md §6). Any
    /// deviation is `malformed`; over [`MAX_MESSAGE_SIZE`] is
    /// `token_too_large`.
    pub fn parse(text: &str) -> Result<SiweMessage> {
        if text.len() > MAX_MESSAGE_SIZE {
            return Err(Error::new(
                ErrorCode::TokenTooLarge,
                "the SIWE message is too long",
            ));
        }
        let mut lines = text.split('\n');
        let mut next = || lines.next().ok_or(malformed("the SIWE message ends early"));

        let header = next()?.strip_suffix(HEADER_SUFFIX).ok_or(malformed(
            "the first line must end \"wants you to sign in with your Ethereum account:\"",
        ))?;
        let (scheme, domain) = match header.split_once("://") {
            Some((s, d)) => (Some(s.to_owned()), d.to_owned()),
            None => (None, header.to_owned()),
        };
        let address_text = next()?;
        let address = Address::parse_checksummed(address_text)?;
        if !next()?.is_empty() {
            return Err(malformed("a blank line follows the address"));
        }
        let statement = match next()? {
            "" => None,
            s => {
                if !next()?.is_empty() {
                    return Err(malformed("a blank line follows the statement"));
                }
                Some(s.to_owned())
            }
        };
        let mut field = |name: &'static str| -> Result<String> {
            next()?
                .strip_prefix(name)
                .map(str::to_owned)
                .ok_or_else(|| {
                    Error::with_message(ErrorCode::Malformed, format!("expected `{name}`"))
                })
        };
        let uri = field("URI: ")?;
        if field("Version: ")? != "1" {
            return Err(malformed("`Version` must be 1"));
        }
        let chain_id = parse_chain_id(&field("Chain ID: ")?)?;
        let nonce = field("Nonce: ")?;
        let issued_at = Rfc3339Time::parse(&field("Issued At: ")?)?;
        let mut msg = SiweMessage {
            scheme,
            domain,
            address,
            statement,
            uri,
            chain_id,
            nonce,
            issued_at,
            expiration_time: None,
            not_before: None,
            request_id: None,
            resources: Vec::new(),
        };
        // Optional fields, each at most once and in this order.
        let mut stage = 0;
        let mut resources_open = false;
        for line in lines {
            if resources_open {
                let r = line
                    .strip_prefix("- ")
                    .ok_or(malformed("only `- <URI>` lines follow `Resources:`"))?;
                msg.resources.push(r.to_owned());
            } else if let Some(v) = line.strip_prefix("Expiration Time: ").filter(|_| stage < 1) {
                msg.expiration_time = Some(Rfc3339Time::parse(v)?);
                stage = 1;
            } else if let Some(v) = line.strip_prefix("Not Before: ").filter(|_| stage < 2) {
                msg.not_before = Some(Rfc3339Time::parse(v)?);
                stage = 2;
            } else if let Some(v) = line.strip_prefix("Request ID: ").filter(|_| stage < 3) {
                msg.request_id = Some(v.to_owned());
                stage = 3;
            } else if line == "Resources:" {
                resources_open = true;
            } else {
                return Err(malformed(
                    "unexpected line: the optional fields are Expiration Time, Not Before, Request ID, Resources, in that order",
                ));
            }
        }
        if resources_open && msg.resources.is_empty() {
            return Err(malformed("`Resources:` lists at least one URI"));
        }
        msg.validate()?;
        Ok(msg)
    }

    /// The field rules shared by the parser and the builder.
    fn validate(&self) -> Result<()> {
        if let Some(s) = &self.scheme {
            if !is_scheme(s) {
                return Err(malformed("the scheme is not an RFC 3986 scheme"));
            }
        }
        if !is_authority(&self.domain, true) {
            return Err(malformed("the domain is not an RFC 3986 authority"));
        }
        if let Some(s) = &self.statement {
            if !is_statement(s) {
                return Err(malformed(
                    "the statement is empty or holds a line break or control character",
                ));
            }
        }
        if !is_uri(&self.uri) {
            return Err(malformed("`URI` is not an RFC 3986 URI"));
        }
        if !is_nonce(&self.nonce) {
            return Err(malformed("`Nonce` is at least 8 ASCII letters and digits"));
        }
        if let Some(r) = &self.request_id {
            if !is_pchars(r) {
                return Err(malformed("`Request ID` is RFC 3986 pchar text"));
            }
        }
        if !self.resources.iter().all(|r| is_uri(r)) {
            return Err(malformed("every resource is an RFC 3986 URI"));
        }
        Ok(())
    }

    /// The optional scheme before the domain (`https` in `https://example.com`).
    pub fn scheme(&self) -> Option<&str> {
        self.scheme.as_deref()
    }
    /// The RFC 3986 authority asking for the sign-in.
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// The signing account.
    pub fn address(&self) -> &Address {
        &self.address
    }
    /// The human-readable statement, when present.
    pub fn statement(&self) -> Option<&str> {
        self.statement.as_deref()
    }
    /// The URI the sign-in is for.
    pub fn uri(&self) -> &str {
        &self.uri
    }
    /// Always `"1"`.
    pub fn version(&self) -> &'static str {
        "1"
    }
    /// The EIP-155 chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }
    /// The server-issued nonce.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }
    /// `Issued At`.
    pub fn issued_at(&self) -> &Rfc3339Time {
        &self.issued_at
    }
    /// `Expiration Time`, when present.
    pub fn expiration_time(&self) -> Option<&Rfc3339Time> {
        self.expiration_time.as_ref()
    }
    /// `Not Before`, when present.
    pub fn not_before(&self) -> Option<&Rfc3339Time> {
        self.not_before.as_ref()
    }
    /// `Request ID`, when present.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// `Resources`, in order.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// Verifies a signature over this message; see [`verify`].
    pub fn verify(
        &self,
        signature: &[u8],
        expectations: &SiweExpectations<'_>,
    ) -> Result<Identity> {
        verify(self, signature, expectations)
    }

    /// The fields as a JSON object, named as in EIP-4361 / spruceid's
    /// libraries (`chainId`, `issuedAt`, …).
    pub fn to_claims(&self) -> Object {
        let mut o = Object::new();
        if let Some(s) = &self.scheme {
            o.insert("scheme", Value::from(s.as_str()));
        }
        o.insert("domain", Value::from(self.domain.as_str()));
        o.insert("address", Value::from(self.address.to_checksum()));
        if let Some(s) = &self.statement {
            o.insert("statement", Value::from(s.as_str()));
        }
        o.insert("uri", Value::from(self.uri.as_str()));
        o.insert("version", Value::from("1"));
        o.insert(
            "chainId",
            match i64::try_from(self.chain_id) {
                Ok(i) => Value::Number(Number::Int(i)),
                Err(_) => Value::from(self.chain_id.to_string()),
            },
        );
        o.insert("nonce", Value::from(self.nonce.as_str()));
        o.insert("issuedAt", Value::from(self.issued_at.as_str()));
        if let Some(t) = &self.expiration_time {
            o.insert("expirationTime", Value::from(t.as_str()));
        }
        if let Some(t) = &self.not_before {
            o.insert("notBefore", Value::from(t.as_str()));
        }
        if let Some(r) = &self.request_id {
            o.insert("requestId", Value::from(r.as_str()));
        }
        if !self.resources.is_empty() {
            o.insert(
                "resources",
                Value::Array(
                    self.resources
                        .iter()
                        .map(|r| Value::from(r.as_str()))
                        .collect(),
                ),
            );
        }
        o
    }
}

impl fmt::Display for SiweMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.scheme {
            write!(f, "{s}://")?;
        }
        write!(
            f,
            "{}{HEADER_SUFFIX}\n{}\n\n",
            self.domain,
            self.address.to_checksum()
        )?;
        if let Some(s) = &self.statement {
            writeln!(f, "{s}")?;
        }
        write!(
            f,
            "\nURI: {}\nVersion: 1\nChain ID: {}\nNonce: {}\nIssued At: {}",
            self.uri, self.chain_id, self.nonce, self.issued_at
        )?;
        if let Some(t) = &self.expiration_time {
            write!(f, "\nExpiration Time: {t}")?;
        }
        if let Some(t) = &self.not_before {
            write!(f, "\nNot Before: {t}")?;
        }
        if let Some(r) = &self.request_id {
            write!(f, "\nRequest ID: {r}")?;
        }
        if !self.resources.is_empty() {
            f.write_str("\nResources:")?;
            for r in &self.resources {
                write!(f, "\n- {r}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for SiweMessage {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SiweMessage::parse(s)
    }
}

/// Builds a [`SiweMessage`]; [`SiweBuilder::build`] applies the parser's rules.
#[derive(Debug, Clone)]
pub struct SiweBuilder {
    msg: SiweMessage,
}

impl SiweBuilder {
    /// Sets the scheme printed before the domain.
    pub fn scheme(mut self, scheme: impl Into<String>) -> Self {
        self.msg.scheme = Some(scheme.into());
        self
    }
    /// Sets the statement (one line).
    pub fn statement(mut self, statement: impl Into<String>) -> Self {
        self.msg.statement = Some(statement.into());
        self
    }
    /// Sets `Expiration Time`.
    pub fn expiration_time(mut self, t: Rfc3339Time) -> Self {
        self.msg.expiration_time = Some(t);
        self
    }
    /// Sets `Not Before`.
    pub fn not_before(mut self, t: Rfc3339Time) -> Self {
        self.msg.not_before = Some(t);
        self
    }
    /// Sets `Request ID`.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.msg.request_id = Some(id.into());
        self
    }
    /// Appends a resource URI.
    pub fn resource(mut self, uri: impl Into<String>) -> Self {
        self.msg.resources.push(uri.into());
        self
    }
    /// Checks every field (`malformed` on the first bad one) and returns the message.
    pub fn build(self) -> Result<SiweMessage> {
        self.msg.validate()?;
        Ok(self.msg)
    }
}

/// What the verifier expects of a SIWE message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiweExpectations<'a> {
    /// The domain (RFC 3986 authority) the message must name, compared exactly.
    pub domain: &'a str,
    /// The nonce the server issued for this sign-in (single use: the server
    /// spends it).
    pub nonce: &'a str,
    /// The current Unix time.
    pub now: i64,
    /// Clock-skew allowance in seconds on `Expiration Time` and `Not Before`.
    /// [`SiweExpectations::new`] sets 0: the times come from the server's own
    /// challenge, so there is no second clock to forgive.
    pub leeway: i64,
    /// The scheme of the origin the sign-in is for (`https`): a message
    /// whose first line names a scheme must name this one. `None`: any.
    pub scheme: Option<&'a str>,
    /// The URI the message must name: this URI exactly, or one under it
    /// (it, then `/`, `?` or `#`, then anything). `None`: any.
    pub uri: Option<&'a str>,
    /// The chain ids a message may name; empty: any.
    pub chain_ids: &'a [u64],
    /// When set, `Issued At` may be at most this many seconds in the past
    /// (the life of the nonce the message carries, plus skew).
    pub issued_at_max_age: Option<i64>,
    /// When set, `Issued At` may be at most this many seconds in the future
    /// (the signer's clock skew).
    pub issued_at_max_future: Option<i64>,
}

impl<'a> SiweExpectations<'a> {
    /// Expectations of domain and nonce at `now`, with no leeway; scheme,
    /// URI, chain and `Issued At` unchecked (set the fields to check them).
    pub fn new(domain: &'a str, nonce: &'a str, now: i64) -> Self {
        SiweExpectations {
            domain,
            nonce,
            now,
            leeway: 0,
            scheme: None,
            uri: None,
            chain_ids: &[],
            issued_at_max_age: None,
            issued_at_max_future: None,
        }
    }
}

/// Whether `uri` is `base` or under it: `base` (without a trailing `/`)
/// followed by nothing, `/`, `?` or `#`. A longer host (`base.evil`) or
/// userinfo trick (`base@evil`) is not under it.
fn is_under(uri: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    match uri.strip_prefix(base) {
        Some(rest) => rest.is_empty() || rest.starts_with(['/', '?', '#']),
        None => false,
    }
}

/// Verifies a SIWE sign-in (formats.md §6), in this order:
/// `domain_mismatch` (the domain, then the scheme when expected and
/// present), `url_mismatch` (the URI, when expected), `invalid_claim` (the
/// chain id, when a list is expected), `nonce_mismatch`, `stale` (`Issued
/// At` outside the expected window), `expired` (when
/// `now >= Expiration Time + leeway`: the expiration instant is excluded),
/// `not_yet_valid` (when `now < Not Before - leeway`: the instant itself is
/// valid), then the EIP-191 signature over the message text must recover the
/// message's address (`bad_signature`; smart-contract wallets, EIP-1271 and
/// EIP-6492, need a chain and are refused the same way).
///
/// The identity's subject and issuer are the EIP-55 address, its audience
/// the domain, its id the nonce.
pub fn verify(
    message: &SiweMessage,
    signature: &[u8],
    expectations: &SiweExpectations<'_>,
) -> Result<Identity> {
    if message.domain != expectations.domain {
        return Err(Error::new(
            ErrorCode::DomainMismatch,
            "the SIWE message is for another domain",
        ));
    }
    if let (Some(want), Some(got)) = (expectations.scheme, message.scheme.as_deref()) {
        // EIP-4361: the scheme of the origin the request came from.
        if !got.eq_ignore_ascii_case(want) {
            return Err(Error::with_message(
                ErrorCode::DomainMismatch,
                format!("the SIWE message is for a {got}:// origin; this server is {want}://"),
            ));
        }
    }
    if let Some(base) = expectations.uri {
        if !is_under(&message.uri, base) {
            return Err(Error::with_message(
                ErrorCode::UrlMismatch,
                format!("the SIWE URI must be {base} or under it"),
            ));
        }
    }
    if !expectations.chain_ids.is_empty() && !expectations.chain_ids.contains(&message.chain_id) {
        return Err(Error::with_message(
            ErrorCode::InvalidClaim,
            format!(
                "SIWE Chain ID {} is not accepted here (accepted: {:?})",
                message.chain_id, expectations.chain_ids
            ),
        ));
    }
    if message.nonce != expectations.nonce {
        return Err(Error::new(
            ErrorCode::NonceMismatch,
            "the SIWE nonce is not the one this server issued",
        ));
    }
    if let Some(age) = expectations.issued_at_max_age {
        if message
            .issued_at
            .cmp_unix(expectations.now.saturating_sub(age.max(0)))
            == Ordering::Less
        {
            return Err(Error::new(
                ErrorCode::Stale,
                "the SIWE message was issued before its nonce could have been",
            ));
        }
    }
    if let Some(ahead) = expectations.issued_at_max_future {
        if message
            .issued_at
            .cmp_unix(expectations.now.saturating_add(ahead.max(0)))
            == Ordering::Greater
        {
            return Err(Error::new(
                ErrorCode::Stale,
                "the SIWE message is dated in the future",
            ));
        }
    }
    let leeway = expectations.leeway.max(0);
    if let Some(exp) = &message.expiration_time {
        if exp.cmp_unix(expectations.now.saturating_sub(leeway)) != Ordering::Greater {
            return Err(Error::new(
                ErrorCode::Expired,
                "the SIWE message has expired",
            ));
        }
    }
    if let Some(nbf) = &message.not_before {
        if nbf.cmp_unix(expectations.now.saturating_add(leeway)) == Ordering::Greater {
            return Err(Error::new(
                ErrorCode::NotYetValid,
                "the SIWE message is not valid yet",
            ));
        }
    }
    let text = message.to_string();
    eip191::verify(text.as_bytes(), signature, &message.address)?;
    let address = message.address.to_checksum();
    Ok(Identity {
        format: Format::Siwe,
        alg: crate::jws::Algorithm::Eip191,
        issuer: Some(address.clone()),
        subject: address,
        audience: vec![message.domain.clone()],
        expires_at: message
            .expiration_time
            .as_ref()
            .map(Rfc3339Time::unix_seconds),
        not_before: message.not_before.as_ref().map(Rfc3339Time::unix_seconds),
        issued_at: Some(message.issued_at.unix_seconds()),
        id: Some(message.nonce.clone()),
        kid: None,
        claims: message.to_claims().into(),
    })
}

/// Parses `message` and verifies `signature` (the wallet's `0x` + 130 hex
/// digits) over it; see [`verify`].
pub fn verify_siwe_message(
    message: &str,
    signature: &str,
    expectations: &SiweExpectations<'_>,
) -> Result<Identity> {
    let parsed = SiweMessage::parse(message)?;
    let sig = eip191::parse_signature_hex(signature)?;
    verify(&parsed, &sig, expectations)
}

/// Signs a message as a wallet's `personal_sign` would (`v` = 27/28).
pub fn sign(message: &SiweMessage, secret: &super::keys::EthereumSecretKey) -> [u8; 65] {
    eip191::sign(secret, message.to_string().as_bytes())
}
