//! The rotation rules, shared by the SQL backends (the Redis script
//! implements the same rules in Lua; the conformance suite holds them
//! equal).
//!
//! One live successor per token: a token presented again within the grace
//! window gets a new successor that *replaces* the one handed out before
//! (that one can no longer be used: presenting it is reuse). The previous
//! successor must still be unused: once it was rotated itself, its chain
//! went on, and a second successor of the same token would start a second
//! chain that reuse detection never sees (issue 17, finding 10), so the
//! repeat counts as reuse.

use crate::{RefreshFamily, Timestamp};

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRow {
    pub family_id: String,
    pub expires_at: Timestamp,
    pub spent_at: Option<Timestamp>,
    /// A later reissue of this token's parent replaced it.
    pub replaced: bool,
    /// The latest successor issued for this token, when it is still stored
    /// and has been spent itself (its chain went on).
    pub successor_spent: bool,
}

/// What a rotation must do, decided from the locked rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Family revoked: nothing changes.
    Revoked,
    /// Token or family expired: nothing changes.
    Expired,
    /// Mark the token spent at `now`, record and store the successor.
    Rotate,
    /// Mark the previous successor replaced, record and store the new one;
    /// the token stays spent.
    Reissue,
    /// Revoke the family; store nothing.
    Reuse,
}

pub(crate) fn decide(
    token: &TokenRow,
    family: &RefreshFamily,
    now: Timestamp,
    grace_seconds: i64,
) -> Step {
    if family.revoked {
        return Step::Revoked;
    }
    if now >= token.expires_at || now >= family.expires_at {
        return Step::Expired;
    }
    if token.replaced {
        return Step::Reuse;
    }
    match token.spent_at {
        None => Step::Rotate,
        Some(spent)
            if now < spent.saturating_add(grace_seconds.max(0)) && !token.successor_spent =>
        {
            Step::Reissue
        }
        Some(_) => Step::Reuse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(revoked: bool) -> RefreshFamily {
        RefreshFamily {
            id: "f".into(),
            subject: "s".into(),
            amr: "siwe".into(),
            created_at: 0,
            expires_at: 1000,
            revoked,
            token_version: 0,
        }
    }

    fn token(spent_at: Option<i64>) -> TokenRow {
        TokenRow {
            family_id: "f".into(),
            expires_at: 500,
            spent_at,
            replaced: false,
            successor_spent: false,
        }
    }

    #[test]
    fn every_step() {
        assert_eq!(decide(&token(None), &family(true), 10, 5), Step::Revoked);
        assert_eq!(decide(&token(None), &family(false), 500, 5), Step::Expired);
        let mut short = family(false);
        short.expires_at = 100;
        assert_eq!(decide(&token(None), &short, 100, 5), Step::Expired);
        assert_eq!(decide(&token(None), &family(false), 499, 5), Step::Rotate);
        assert_eq!(
            decide(&token(Some(10)), &family(false), 14, 5),
            Step::Reissue
        );
        assert_eq!(decide(&token(Some(10)), &family(false), 15, 5), Step::Reuse);
        assert_eq!(decide(&token(Some(10)), &family(false), 10, 0), Step::Reuse);
        assert_eq!(
            decide(&token(Some(10)), &family(false), 10, -3),
            Step::Reuse
        );
    }

    #[test]
    fn a_replaced_token_is_reuse_even_unspent_and_within_grace() {
        let replaced = TokenRow {
            replaced: true,
            ..token(None)
        };
        assert_eq!(decide(&replaced, &family(false), 11, 5), Step::Reuse);
        // The family's state still comes first.
        assert_eq!(decide(&replaced, &family(true), 11, 5), Step::Revoked);
        assert_eq!(decide(&replaced, &family(false), 500, 5), Step::Expired);
    }

    #[test]
    fn a_repeat_after_the_successor_was_used_is_reuse_within_grace() {
        let moved_on = TokenRow {
            successor_spent: true,
            ..token(Some(10))
        };
        assert_eq!(decide(&moved_on, &family(false), 11, 5), Step::Reuse);
    }
}
