//! One conformance suite for every `Store` backend.
//!
//! Each scenario is an `async fn(&Backend)` that only talks to `dyn Store`,
//! in a file per concern (`nonces`, `families`, `revocation`, `feed`,
//! `races`, `backend`); the `conformance!` macro at the bottom runs every
//! scenario against SQLite, PostgreSQL and Redis (see
//! `tessera_testkit::store` for how the servers are found, and why a
//! missing URL fails in CI).

use tessera_store::{NewRefreshToken, RefreshFamily, RotateOutcome};
use tessera_testkit::store::hash;

fn family(id: &str, subject: &str, created_at: i64, expires_at: i64) -> RefreshFamily {
    RefreshFamily {
        id: id.to_string(),
        subject: subject.to_string(),
        amr: "siwe".to_string(),
        created_at,
        expires_at,
        revoked: false,
        token_version: 3,
    }
}

fn token(n: u64, expires_at: i64) -> NewRefreshToken {
    NewRefreshToken {
        hash: hash(n),
        expires_at,
    }
}

fn is_rotated(o: &RotateOutcome) -> bool {
    matches!(o, RotateOutcome::Rotated { .. })
}

mod backend;
mod families;
mod feed;
mod nonces;
mod races;
mod revocation;

macro_rules! conformance {
    ($($module:ident :: $scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(b) = tessera_testkit::store::Backend::new(tessera_testkit::store::Kind::Sqlite) {
                        crate::$module::$scenario(&b).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(b) = tessera_testkit::store::Backend::new(tessera_testkit::store::Kind::Postgres) {
                        crate::$module::$scenario(&b).await;
                    }
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(b) = tessera_testkit::store::Backend::new(tessera_testkit::store::Kind::Redis) {
                        crate::$module::$scenario(&b).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    nonces::nonce_is_consumed_once,
    nonces::remember_once_refuses_replays,
    families::create_and_read_families,
    families::rotation_rotates,
    families::rotation_reissues_within_grace,
    families::reissue_replaces_the_previous_successor,
    families::repeat_after_the_successor_was_used_is_reuse,
    families::reuse_after_grace_revokes_the_family,
    families::rotation_refuses_expired_revoked_and_unknown,
    families::rotation_successor_conflict_changes_nothing,
    revocation::revoke_families,
    revocation::revoke_jti_until_exp,
    revocation::token_versions,
    revocation::token_version_is_the_logout_all_instant,
    revocation::revocation_snapshot,
    revocation::purge_removes_only_expired,
    feed::own_events_arrive_once,
    feed::invalidation_reaches_other_instances_within_1s,
    races::concurrent_rotations_have_one_winner,
    races::concurrent_reissues_leave_one_live_chain,
    races::concurrent_nonce_consumption_has_one_winner,
    backend::ping_answers,
    backend::latency_is_reported_per_operation,
);
