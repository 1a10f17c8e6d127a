//! The invalidation feed: what changed, and how it travels between
//! instances.

use std::hash::{BuildHasher, Hasher};

use tokio::sync::broadcast;

use crate::Timestamp;

/// One change to revocation state, as every instance sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Invalidation {
    /// An access token's `jti` is revoked until `expires_at`.
    Jti {
        /// The revoked `jti`.
        jti: String,
        /// Revoked while `now < expires_at`.
        expires_at: Timestamp,
    },
    /// A refresh family (session) was revoked.
    Family(String),
    /// A subject's token version is now `version` (logout-all).
    Subject {
        /// The subject.
        subject: String,
        /// Its new token version.
        version: u64,
    },
    /// Events may have been missed (the feed was lost, or has just been
    /// re-established): caches must drop everything and reload.
    Resync,
}

/// Fan-out of invalidations inside one process, plus the wire format other
/// instances use.
#[derive(Debug)]
pub(crate) struct Bus {
    tx: broadcast::Sender<Invalidation>,
    #[cfg_attr(not(any(feature = "postgres", feature = "redis")), allow(dead_code))]
    instance: String,
}

impl Bus {
    pub(crate) fn new() -> Self {
        let (tx, _) = broadcast::channel(crate::INVALIDATION_CAPACITY);
        // A random id (std's hasher keys are random per process and per
        // call) tells this instance's own messages apart on the wire.
        let a = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let b = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Bus {
            tx,
            instance: format!("{a:016x}{b:016x}"),
        }
    }

    /// This instance's id on the wire.
    #[cfg_attr(not(any(feature = "postgres", feature = "redis")), allow(dead_code))]
    pub(crate) fn instance(&self) -> &str {
        &self.instance
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Invalidation> {
        self.tx.subscribe()
    }

    /// Delivers an event of this instance to its own subscribers.
    pub(crate) fn local(&self, event: Invalidation) {
        // An error only means nobody subscribed.
        let _ = self.tx.send(event);
    }

    /// Delivers the revocation of these families to this instance's own
    /// subscribers, after a backend revoked them; returns how many.
    pub(crate) fn families_revoked(&self, ids: Vec<String>) -> u64 {
        let count = ids.len() as u64;
        for id in ids {
            self.local(Invalidation::Family(id));
        }
        count
    }

    /// Delivers a subject's new token version to this instance's own
    /// subscribers, after a backend raised it; returns the version.
    pub(crate) fn subject_version(&self, subject: &str, version: u64) -> u64 {
        self.local(Invalidation::Subject {
            subject: subject.to_string(),
            version,
        });
        version
    }

    /// Handles a message from the wire; this instance's own messages were
    /// delivered locally already and are skipped.
    #[cfg_attr(not(any(feature = "postgres", feature = "redis")), allow(dead_code))]
    pub(crate) fn remote(&self, payload: &str) {
        match decode(payload) {
            Some((from, _)) if from == self.instance => {}
            Some((_, event)) => self.local(event),
            None => {
                tracing::warn!(
                    payload_len = payload.len(),
                    "unreadable invalidation message; resyncing"
                );
                self.local(Invalidation::Resync);
            }
        }
    }

    /// The wire form of an event of this instance.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn encode(&self, event: &Invalidation) -> String {
        encode(&self.instance, event)
    }
}

/// Wire format: `INSTANCE|j|EXPIRES_AT|JTI`, `INSTANCE|f|FAMILY_ID`,
/// `INSTANCE|s|VERSION|SUBJECT`, `INSTANCE|r`. The last field is the rest of
/// the message, so it may contain `|`.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn encode(instance: &str, event: &Invalidation) -> String {
    match event {
        Invalidation::Jti { jti, expires_at } => format!("{instance}|j|{expires_at}|{jti}"),
        Invalidation::Family(id) => format!("{instance}|f|{id}"),
        Invalidation::Subject { subject, version } => format!("{instance}|s|{version}|{subject}"),
        Invalidation::Resync => format!("{instance}|r"),
    }
}

#[cfg_attr(not(any(feature = "postgres", feature = "redis")), allow(dead_code))]
pub(crate) fn decode(payload: &str) -> Option<(&str, Invalidation)> {
    let (instance, rest) = payload.split_once('|')?;
    let (kind, rest) = rest.split_once('|').unwrap_or((rest, ""));
    let event = match kind {
        "j" => {
            let (exp, jti) = rest.split_once('|')?;
            Invalidation::Jti {
                jti: jti.to_string(),
                expires_at: exp.parse().ok()?,
            }
        }
        "f" => Invalidation::Family(rest.to_string()),
        "s" => {
            let (version, subject) = rest.split_once('|')?;
            Invalidation::Subject {
                subject: subject.to_string(),
                version: version.parse().ok()?,
            }
        }
        "r" => Invalidation::Resync,
        _ => return None,
    };
    Some((instance, event))
}

/// Holds one connection to the backend's feed (PostgreSQL `LISTEN`, Redis
/// pub/sub) for as long as the store lives: `run` reads from it until the
/// connection is lost (its answer: why, if known); then `Resync` goes out,
/// `connect` is retried with backoff (100 ms doubling to 2 s), and `Resync`
/// goes out again once it is back. Ends when `shutdown`'s sender is
/// dropped. `name` starts every log line.
#[cfg(any(feature = "postgres", feature = "redis"))]
pub(crate) async fn follow<C, Connect, Connecting, Run, Running>(
    name: &'static str,
    bus: std::sync::Arc<Bus>,
    first: C,
    mut shutdown: tokio::sync::watch::Receiver<()>,
    mut connect: Connect,
    mut run: Run,
) where
    Connect: FnMut() -> Connecting,
    Connecting: std::future::Future<Output = Result<C, crate::StoreError>>,
    Run: FnMut(C, std::sync::Arc<Bus>) -> Running,
    Running: std::future::Future<Output = Option<String>>,
{
    use std::time::Duration;
    let mut current = Some(first);
    let mut backoff = Duration::from_millis(100);
    loop {
        let connection = match current.take() {
            Some(c) => c,
            None => {
                let attempt = tokio::select! {
                    _ = shutdown.changed() => return,
                    r = connect() => r,
                };
                match attempt {
                    Ok(c) => {
                        tracing::info!("{name} reconnected");
                        bus.local(Invalidation::Resync);
                        backoff = Duration::from_millis(100);
                        c
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "{name}: reconnect failed");
                        tokio::select! {
                            _ = shutdown.changed() => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(2));
                        continue;
                    }
                }
            }
        };
        let lost = tokio::select! {
            _ = shutdown.changed() => return,
            lost = run(connection, bus.clone()) => lost,
        };
        match lost {
            Some(e) => tracing::warn!(error = %e, "{name}: connection lost"),
            None => tracing::warn!("{name}: connection lost"),
        }
        bus.local(Invalidation::Resync);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip() {
        let events = [
            Invalidation::Jti {
                jti: "a|b".into(),
                expires_at: 1_800_000_000,
            },
            Invalidation::Family("fam|1".into()),
            Invalidation::Subject {
                subject: "0xAbC".into(),
                version: 7,
            },
            Invalidation::Resync,
        ];
        for e in events {
            let wire = encode("i1", &e);
            assert_eq!(decode(&wire), Some(("i1", e)));
        }
        assert_eq!(decode("i1|j|notanumber|x"), None);
        assert_eq!(decode("i1|z|x"), None);
        assert_eq!(decode("garbage"), None);
    }

    #[test]
    fn own_remote_messages_are_skipped() {
        let bus = Bus::new();
        let other = Bus::new();
        assert_ne!(bus.instance(), other.instance());
        let mut rx = bus.subscribe();
        bus.remote(&bus.encode(&Invalidation::Family("mine".into())));
        bus.remote(&other.encode(&Invalidation::Family("theirs".into())));
        assert_eq!(
            rx.try_recv().ok(),
            Some(Invalidation::Family("theirs".into()))
        );
        assert!(rx.try_recv().is_err());
    }
}
