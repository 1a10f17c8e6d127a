//! `[[rule]]` tables: which requests need which credentials.
//!
//! - Rules are tried in order; the first whose `host`, `path` and
//!   `methods` all match decides (an absent key matches anything).
//! - `anonymous = true`: allowed without a credential.
//! - Otherwise `allow` (required) names the issuers accepted (`tessera`,
//!   `nostr`, or an `[[issuer]]` name; `allow = []` denies everything the
//!   rule matches), then `audiences` (the credential names at least one),
//!   `subjects` (see `subjects.rs`) and `claims` (all must hold; see
//!   `claims.rs`) narrow it.
//! - No credential (or none that verifies): 401. A credential the matching
//!   rule does not admit: 403 with a [`Denial`] naming the rule. With rules
//!   configured, a request no rule matches is denied the same way (401
//!   without a credential, 403 with one, so a caller without a credential
//!   learns nothing about which paths have rules).
//! - Without any `[[rule]]`, every authenticated request is allowed (the
//!   behaviour before rules existed).
//! - `nip98_payload_without_body`: how a NIP-98 event with a `payload` tag
//!   is treated when the gateway does not forward the body (nginx
//!   `auth_request`): `"refuse"` (default) or `"accept_unchecked"`.

use super::claims::{self, ClaimCondition, Condition};
use super::normalize::{host_port, Scheme};
use super::pattern::PathPattern;
use super::request::ForwardedRequest;
use super::subjects::Subjects;
use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tessera_core::Identity;

/// Issuer names that always exist: the server's own access tokens, and
/// NWTs / NIP-98 events for this server (contracts.md).
pub const BUILT_IN_ISSUERS: [&str; 2] = ["tessera", "nostr"];

/// Methods a rule may name: RFC 9110 §9, PATCH (RFC 5789), WebDAV (RFC 4918).
const KNOWN_METHODS: [&str; 16] = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
];

/// Most `[[rule]]` tables.
const MAX_RULES: usize = 1000;

/// One `[[rule]]` table as written (contracts.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// `host` or `host:port`; absent matches any host (any port when no
    /// port is named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Path pattern on the normalised path (`/admin/*`, `/files/*.png`,
    /// `/health`); absent matches any path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Methods matched; absent matches any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// Allowed without a credential.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub anonymous: bool,
    /// Issuer names whose credentials are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    /// The credential's audience must include one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    /// Only these subjects (64-hex or npub keys, addresses, JWT `sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subjects: Option<Vec<String>>,
    /// Claim conditions, all of which must hold.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, ClaimCondition>,
    /// NIP-98 events with a `payload` tag when the body is not forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nip98_payload_without_body: Option<PayloadWithoutBody>,
}

/// What to do with a NIP-98 event that has a `payload` tag when the
/// gateway does not forward the request body, so the hash cannot be
/// checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadWithoutBody {
    /// Refuse the event (`payload_mismatch`): the default.
    #[default]
    Refuse,
    /// Accept it without checking the payload hash.
    AcceptUnchecked,
}

/// The checked rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    /// 1-based, as the tables appear in the file.
    index: usize,
    host_text: Option<String>,
    host: Option<(String, Option<u16>)>,
    path_text: Option<String>,
    path: Option<PathPattern>,
    methods: Option<Vec<String>>,
    access: Access,
    payload_without_body: PayloadWithoutBody,
}

#[derive(Debug, Clone)]
enum Access {
    Anonymous,
    Credential {
        allow: Vec<String>,
        audiences: Option<Vec<String>>,
        subjects: Option<Subjects>,
        claims: Vec<(String, Condition)>,
    },
}

/// Which rule, for messages and the 403 body: its 1-based position and
/// what it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RuleRef<'a> {
    /// Position among the `[[rule]]` tables, from 1.
    pub index: usize,
    /// The rule's `host`, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<&'a str>,
    /// The rule's `path`, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a str>,
}

impl std::fmt::Display for RuleRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[[rule]] #{}", self.index)?;
        match (self.host, self.path) {
            (Some(h), Some(p)) => write!(f, " (host {h:?}, path {p:?})"),
            (Some(h), None) => write!(f, " (host {h:?})"),
            (None, Some(p)) => write!(f, " (path {p:?})"),
            (None, None) => f.write_str(" (every request)"),
        }
    }
}

/// Who a verified credential says the caller is, and which configured
/// issuer accepted it.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    issuer: &'a str,
    identity: &'a Identity,
}

impl<'a> Caller<'a> {
    /// `issuer` is the configured name (`tessera`, `nostr`, an `[[issuer]]`
    /// name) of the issuer that verified `identity`.
    pub fn new(issuer: &'a str, identity: &'a Identity) -> Caller<'a> {
        Caller { issuer, identity }
    }
}

/// The outcome for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Let it through. `rule` is None when no rules are configured.
    Allow {
        /// The rule that allowed it.
        rule: Option<RuleRef<'a>>,
    },
    /// 401: a credential is needed (none was given, or none verified).
    Unauthenticated,
    /// 403: the credential is valid but not admitted.
    Forbidden(Denial<'a>),
}

impl Decision<'_> {
    /// 200, 401 or 403.
    pub fn status(&self) -> u16 {
        match self {
            Decision::Allow { .. } => 200,
            Decision::Unauthenticated => 401,
            Decision::Forbidden(_) => 403,
        }
    }
}

/// Why a credential was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// Rules are configured and none matches the request.
    NoMatchingRule,
    /// The credential's issuer is not in the rule's `allow`.
    IssuerNotAllowed,
    /// The credential names none of the rule's `audiences`.
    AudienceNotAllowed,
    /// The subject is not in the rule's `subjects`.
    SubjectNotAllowed,
    /// A claim condition does not hold.
    ClaimNotSatisfied,
}

/// A 403: which rule, why, and a sentence for people. It never repeats
/// the caller's subject or claim values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial<'a> {
    /// The rule that denied (None: no rule matched).
    pub rule: Option<RuleRef<'a>>,
    /// The reason, as a stable code.
    pub reason: DenyReason,
    /// What the rule requires, in words.
    pub description: String,
}

impl Denial<'_> {
    /// The 403 body: `{"error":"forbidden","error_description",
    /// "reason","rule":{"index","host","path"}|null}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "error": "forbidden",
            "error_description": self.description,
            "reason": self.reason,
            "rule": self.rule,
        })
        .to_string()
    }
}

/// The rule (if any) that decides one request.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    configured: bool,
    rule: Option<&'a Rule>,
}

impl RuleSet {
    /// Checks the `[[rule]]` tables. `issuers` are the `[[issuer]]` names;
    /// the [`BUILT_IN_ISSUERS`] are always known. Each error names the
    /// rule and the fix.
    pub fn compile(rules: &[RuleConfig], issuers: &[&str]) -> Result<RuleSet, ConfigError> {
        if rules.len() > MAX_RULES {
            return Err(ConfigError(format!(
                "{} [[rule]] tables: at most {MAX_RULES}",
                rules.len()
            )));
        }
        let known: Vec<&str> = BUILT_IN_ISSUERS.iter().chain(issuers).copied().collect();
        let mut compiled: Vec<Rule> = Vec::with_capacity(rules.len());
        for (i, cfg) in rules.iter().enumerate() {
            let rule = compile_rule(i + 1, cfg, &known).map_err(|e| {
                let at = RuleRef {
                    index: i + 1,
                    host: cfg.host.as_deref(),
                    path: cfg.path.as_deref(),
                };
                ConfigError(format!("{at}: {e}"))
            })?;
            if let Some(earlier) = compiled.iter().find(|e| e.covers(&rule)) {
                return Err(ConfigError(format!(
                    "{} can never match: {} comes first and matches every request it would (first match wins). Move it above, or narrow the earlier rule",
                    rule.as_ref(),
                    earlier.as_ref()
                )));
            }
            compiled.push(rule);
        }
        Ok(RuleSet { rules: compiled })
    }

    /// No `[[rule]]` tables: every authenticated request is allowed.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// How many rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The first rule that matches `request`.
    pub fn route(&self, request: &ForwardedRequest) -> Route<'_> {
        Route {
            configured: !self.rules.is_empty(),
            rule: self.rules.iter().find(|r| r.matches(request)),
        }
    }
}

impl<'a> Route<'a> {
    /// The matching rule.
    pub fn rule(&self) -> Option<RuleRef<'a>> {
        self.rule.map(Rule::as_ref)
    }

    /// False when the rule is anonymous: verifying a credential is not
    /// needed (and a NIP-98 event need not be spent).
    pub fn needs_credential(&self) -> bool {
        !matches!(self.rule, Some(r) if matches!(r.access, Access::Anonymous))
    }

    /// The matching rule's `nip98_payload_without_body` (default refuse).
    pub fn nip98_payload_without_body(&self) -> PayloadWithoutBody {
        self.rule
            .map_or(PayloadWithoutBody::Refuse, |r| r.payload_without_body)
    }

    /// The decision for a caller (None: no credential, or none verified).
    pub fn decide(&self, caller: Option<&Caller<'_>>) -> Decision<'a> {
        let Some(rule) = self.rule else {
            return match (caller, self.configured) {
                (None, _) => Decision::Unauthenticated,
                (Some(_), false) => Decision::Allow { rule: None },
                (Some(_), true) => Decision::Forbidden(Denial {
                    rule: None,
                    reason: DenyReason::NoMatchingRule,
                    description:
                        "no [[rule]] matches this request, and with rules configured that is a deny"
                            .into(),
                }),
            };
        };
        let Access::Credential {
            allow,
            audiences,
            subjects,
            claims: conditions,
        } = &rule.access
        else {
            return Decision::Allow {
                rule: Some(rule.as_ref()),
            };
        };
        let Some(caller) = caller else {
            return Decision::Unauthenticated;
        };
        let deny = |reason, description: String| {
            Decision::Forbidden(Denial {
                rule: Some(rule.as_ref()),
                reason,
                description: format!("{}: {description}", rule.as_ref()),
            })
        };
        if !allow.iter().any(|a| a == caller.issuer) {
            return deny(
                DenyReason::IssuerNotAllowed,
                format!(
                    "credentials from issuer {:?} are not in its allow list",
                    caller.issuer
                ),
            );
        }
        if let Some(auds) = audiences {
            let named = claims::audiences(caller.identity);
            if !auds.iter().any(|a| named.contains(a)) {
                return deny(
                    DenyReason::AudienceNotAllowed,
                    format!("the credential's audience must include one of {auds:?}"),
                );
            }
        }
        if let Some(subjects) = subjects {
            if !subjects.admits(claims::subject(caller.identity)) {
                return deny(
                    DenyReason::SubjectNotAllowed,
                    "the subject is not one of those it admits".into(),
                );
            }
        }
        for (name, condition) in conditions {
            let value = claims::claim(caller.identity, name);
            if !condition.holds(value.as_deref()) {
                return deny(
                    DenyReason::ClaimNotSatisfied,
                    format!("claim `{name}` {}", condition.describe()),
                );
            }
        }
        Decision::Allow {
            rule: Some(rule.as_ref()),
        }
    }
}

impl Rule {
    fn as_ref(&self) -> RuleRef<'_> {
        RuleRef {
            index: self.index,
            host: self.host_text.as_deref(),
            path: self.path_text.as_deref(),
        }
    }

    fn matches(&self, r: &ForwardedRequest) -> bool {
        self.host
            .as_ref()
            .is_none_or(|(h, port)| h == r.host() && port.is_none_or(|p| p == r.port()))
            && self
                .methods
                .as_ref()
                .is_none_or(|m| m.iter().any(|m| m == r.method()))
            && self.path.as_ref().is_none_or(|p| p.matches(r.path()))
    }

    /// Whether every request `later` matches is matched by `self` first.
    fn covers(&self, later: &Rule) -> bool {
        let host = match (&self.host, &later.host) {
            (None, _) => true,
            (Some((h, p)), Some((lh, lp))) => h == lh && (p.is_none() || p == lp),
            (Some(_), None) => false,
        };
        let methods = match (&self.methods, &later.methods) {
            (None, _) => true,
            (Some(m), Some(lm)) => lm.iter().all(|x| m.contains(x)),
            (Some(_), None) => false,
        };
        let path = match (&self.path, &later.path) {
            (None, _) => true,
            (Some(p), Some(lp)) => p.covers(lp),
            (Some(p), None) => p.is_everything(),
        };
        host && methods && path
    }
}

fn compile_rule(index: usize, cfg: &RuleConfig, known: &[&str]) -> Result<Rule, String> {
    let host = cfg.host.as_deref().map(rule_host).transpose()?;
    let path = match cfg.path.as_deref() {
        Some(p) => Some(PathPattern::parse(p).map_err(|e| format!("path {p:?} {e}"))?),
        None => None,
    };
    let methods = match &cfg.methods {
        None => None,
        Some(m) if m.is_empty() => {
            return Err(
                "`methods = []` matches nothing: list methods, or drop the key to match any".into(),
            )
        }
        Some(m) => Some(
            m.iter()
                .map(|m| {
                    let up = m.to_ascii_uppercase();
                    KNOWN_METHODS
                        .contains(&up.as_str())
                        .then_some(up)
                        .ok_or_else(|| {
                            format!(
                                "unknown method {m:?}: use one of {}",
                                KNOWN_METHODS.join(", ")
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let access = if cfg.anonymous {
        let extra = [
            ("allow", cfg.allow.is_some()),
            ("audiences", cfg.audiences.is_some()),
            ("subjects", cfg.subjects.is_some()),
            ("claims", !cfg.claims.is_empty()),
            (
                "nip98_payload_without_body",
                cfg.nip98_payload_without_body.is_some(),
            ),
        ];
        if let Some((key, _)) = extra.iter().find(|(_, set)| *set) {
            return Err(format!(
                "`anonymous = true` admits everyone, so `{key}` would never be checked: remove one of the two"
            ));
        }
        Access::Anonymous
    } else {
        let Some(allow) = &cfg.allow else {
            return Err("name the issuers it accepts, like allow = [\"tessera\"], or set anonymous = true (allow = [] denies every request it matches)".into());
        };
        if let Some(unknown) = allow.iter().find(|a| !known.contains(&a.as_str())) {
            return Err(format!(
                "allow names issuer {unknown:?}, which is not configured; known issuers: {}",
                known.join(", ")
            ));
        }
        if cfg.nip98_payload_without_body.is_some() && !allow.iter().any(|a| a == "nostr") {
            return Err("`nip98_payload_without_body` only concerns NIP-98 events, which come from the `nostr` issuer, and allow does not name it".into());
        }
        let audiences = match &cfg.audiences {
            Some(a) if a.is_empty() || a.iter().any(String::is_empty) => {
                return Err(
                    "`audiences` must list non-empty audiences (drop the key to accept any)".into(),
                )
            }
            a => a.clone(),
        };
        let subjects = cfg.subjects.as_deref().map(Subjects::parse).transpose()?;
        let claims = cfg
            .claims
            .iter()
            .map(|(n, c)| Condition::compile(n, c).map(|c| (n.clone(), c)))
            .collect::<Result<Vec<_>, _>>()?;
        Access::Credential {
            allow: allow.clone(),
            audiences,
            subjects,
            claims,
        }
    };
    Ok(Rule {
        index,
        host_text: cfg.host.clone(),
        host,
        path_text: cfg.path.clone(),
        path,
        methods,
        access,
        payload_without_body: cfg.nip98_payload_without_body.unwrap_or_default(),
    })
}

/// `host` or `host:port` of a rule: the port is kept only when named.
fn rule_host(text: &str) -> Result<(String, Option<u16>), String> {
    let bad = || format!("host {text:?} is not a host name or address with an optional :port");
    let hp = host_port(text, Scheme::Https).map_err(|_| bad())?;
    let named_port = match text.rsplit_once(']') {
        Some((_, after)) => after.starts_with(':'),
        None => text.contains(':'),
    };
    Ok((hp.host, named_port.then_some(hp.port)))
}
