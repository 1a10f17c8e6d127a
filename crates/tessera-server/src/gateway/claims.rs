//! Claim conditions (`claims = { role = { equals = "admin" } }`) and the
//! only code that reads an [`Identity`]'s fields, so a change of the
//! identity's types touches these few functions and nothing else.
//!
//! Semantics, on the claim's JSON value:
//!
//! | condition | string claim | array claim | anything else, or absent |
//! |---|---|---|---|
//! | `equals = "x"` | the whole string is `x` | never (use `contains`) | false |
//! | `contains = "x"` | one of its space-separated tokens is `x` | one string element is `x` | false |
//!
//! `contains` is token membership, never a substring: `"read upload"`
//! contains `upload` (an OAuth `scope` is a space-separated list, RFC 6749
//! §3.3), `"notadmin"` does not contain `admin`. NWT tags repeated in the
//! event arrive as arrays, a single one as a string, and `contains` reads
//! both the same way. Comparison is exact (case-sensitive, no trimming).
//! Conditions take strings only: a boolean or number claim never matches.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use tessera_core::Identity;

/// Longest claim name accepted in a rule or `claim_headers`.
pub(crate) const MAX_CLAIM_NAME: usize = 128;

/// The one accessor of a claim's value. Today the identity keeps claims in
/// tessera-core's own JSON type, converted here; once it is a
/// `serde_json` map this becomes `identity.claims.get(name).map(Cow::Borrowed)`.
pub(crate) fn claim<'a>(identity: &'a Identity, name: &str) -> Option<Cow<'a, Value>> {
    identity.claims.get(name).map(|v| Cow::Owned(v.to_serde()))
}

/// The identity's subject.
pub(crate) fn subject(identity: &Identity) -> &str {
    &identity.subject
}

/// The audiences the credential names.
pub(crate) fn audiences(identity: &Identity) -> &[String] {
    &identity.audience
}

/// One claim condition as written in the configuration: exactly one of
/// `equals` and `contains`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimCondition {
    /// The claim is a string equal to this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// The claim is an array with this string element, or a string with
    /// this space-separated token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
}

/// A checked condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    Equals(String),
    Contains(String),
}

impl Condition {
    /// Checks one `claims` entry; the error says what to write instead.
    pub(crate) fn compile(name: &str, c: &ClaimCondition) -> Result<Condition, String> {
        if name.is_empty() || name.len() > MAX_CLAIM_NAME || name.chars().any(char::is_control) {
            return Err(format!(
                "claim name {name:?} must be 1 to {MAX_CLAIM_NAME} characters without control characters"
            ));
        }
        let condition = match (&c.equals, &c.contains) {
            (Some(v), None) => Condition::Equals(v.clone()),
            (None, Some(v)) => Condition::Contains(v.clone()),
            _ => {
                return Err(format!(
                    "claim `{name}` needs exactly one of `equals` and `contains`, like {name} = {{ equals = \"...\" }}"
                ))
            }
        };
        match &condition {
            Condition::Equals(v) | Condition::Contains(v) if v.is_empty() => Err(format!(
                "claim `{name}`: the value is empty; name the value the claim must have"
            )),
            _ => Ok(condition),
        }
    }

    /// Whether the claim's value (None: absent) satisfies the condition.
    pub(crate) fn holds(&self, value: Option<&Value>) -> bool {
        match (self, value) {
            (Condition::Equals(want), Some(Value::String(s))) => s == want,
            (Condition::Contains(want), Some(Value::String(s))) => s.split(' ').any(|t| t == want),
            (Condition::Contains(want), Some(Value::Array(items))) => {
                items.iter().any(|i| i.as_str() == Some(want.as_str()))
            }
            _ => false,
        }
    }

    /// `must equal "admin"` / `must contain "upload"`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Condition::Equals(v) => format!("must equal {v:?}"),
            Condition::Contains(v) => format!("must contain {v:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn equals(v: &str) -> Condition {
        Condition::Equals(v.into())
    }

    fn contains(v: &str) -> Condition {
        Condition::Contains(v.into())
    }

    #[test]
    fn equals_is_the_whole_string() {
        assert!(equals("admin").holds(Some(&json!("admin"))));
        for other in [
            json!("Admin"),
            json!("admin "),
            json!("notadmin"),
            json!("admin user"),
            json!(["admin"]),
            json!(true),
            json!(1),
            json!(null),
            json!({"admin": true}),
        ] {
            assert!(!equals("admin").holds(Some(&other)), "{other}");
        }
        assert!(!equals("admin").holds(None));
        assert!(!equals("true").holds(Some(&json!(true))));
    }

    #[test]
    fn contains_is_token_membership_never_a_substring() {
        // OAuth scope: a space-separated string.
        assert!(contains("upload").holds(Some(&json!("read upload"))));
        assert!(contains("upload").holds(Some(&json!("upload"))));
        assert!(contains("upload").holds(Some(&json!("upload  delete"))));
        // NWT repeated tags and JWT arrays.
        assert!(contains("upload").holds(Some(&json!(["read", "upload"]))));
        assert!(contains("siwe").holds(Some(&json!(["siwe"]))));
        for other in [
            json!("uploads"),
            json!("read,upload"),
            json!("notupload"),
            json!("UPLOAD"),
            json!(["uploads", "read"]),
            json!([["upload"]]),
            json!([{"upload": 1}]),
            json!(1),
            json!(null),
        ] {
            assert!(!contains("upload").holds(Some(&other)), "{other}");
        }
        assert!(!contains("upload").holds(None));
        // An array element may hold spaces; a token never does.
        assert!(contains("Domain Admins").holds(Some(&json!(["Domain Admins"]))));
        assert!(!contains("Domain Admins").holds(Some(&json!("Domain Admins"))));
    }

    #[test]
    fn conditions_are_checked_when_compiled() {
        let ok = ClaimCondition {
            equals: Some("admin".into()),
            contains: None,
        };
        assert_eq!(Condition::compile("role", &ok), Ok(equals("admin")));
        let both = ClaimCondition {
            equals: Some("a".into()),
            contains: Some("b".into()),
        };
        assert!(Condition::compile("role", &both)
            .unwrap_err()
            .contains("exactly one"));
        assert!(Condition::compile("role", &ClaimCondition::default())
            .unwrap_err()
            .contains("exactly one"));
        let empty = ClaimCondition {
            equals: None,
            contains: Some(String::new()),
        };
        assert!(Condition::compile("scope", &empty)
            .unwrap_err()
            .contains("empty"));
        assert!(Condition::compile("", &ok).is_err());
        assert!(Condition::compile("a\nb", &ok).is_err());
    }
}
