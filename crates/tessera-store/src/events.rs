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

    /// Handles a message from the wire; this instance's own messages were
    /// delivered locally already and are skipped.
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
    pub(crate) fn encode(&self, event: &Invalidation) -> String {
        encode(&self.instance, event)
    }
}

/// Wire format: `INSTANCE|j|EXPIRES_AT|JTI`, `INSTANCE|f|FAMILY_ID`,
/// `INSTANCE|s|VERSION|SUBJECT`, `INSTANCE|r`. The last field is the rest of
/// the message, so it may contain `|`.
pub(crate) fn encode(instance: &str, event: &Invalidation) -> String {
    match event {
        Invalidation::Jti { jti, expires_at } => format!("{instance}|j|{expires_at}|{jti}"),
        Invalidation::Family(id) => format!("{instance}|f|{id}"),
        Invalidation::Subject { subject, version } => format!("{instance}|s|{version}|{subject}"),
        Invalidation::Resync => format!("{instance}|r"),
    }
}

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
