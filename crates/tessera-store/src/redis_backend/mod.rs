//! Redis backend.
//!
//! Every operation that reads and then writes is one Lua script, which Redis
//! runs atomically: no other command interleaves, whichever connection or
//! server instance sent it. Invalidations are `PUBLISH`ed from inside the
//! same script, so they are sent exactly when the write happens.
//!
//! Keys (`P` is the prefix, `tessera` unless the URL says `prefix=NAME`):
//!
//! | key | type | content | native TTL (`EXPIREAT`) |
//! |---|---|---|---|
//! | `P:nonce:N` | string | expires_at | expires_at + slack |
//! | `P:seen:ID` | string | expires_at | expires_at + slack |
//! | `P:jti:J` | string | expires_at | expires_at + slack |
//! | `P:fam:ID` | hash | subject, amr, created, exp, revoked, revoked_at, tv | exp + slack |
//! | `P:tok:HEX` | hash | family, exp, spent, succ (latest successor's HEX), replaced | exp + slack |
//! | `P:subj:S` | zset | family ids scored by exp | latest exp + slack |
//! | `P:idx:jti`, `P:idx:fam` | zset | revoked jtis / families scored by exp | none: trimmed by `purge_expired` |
//! | `P:tv` | hash | subject -> token version | none: versions must persist |
//!
//! Expiry is decided by comparing with the caller's `now`, exactly as on the
//! SQL backends; the native TTL (the expiry plus [`TTL_SLACK_SECONDS`]) only
//! reclaims memory, and the slack absorbs clock differences between the
//! servers and Redis.
//!
//! The command connection is a [`ConnectionManager`], which reconnects after
//! a connection error; a keepalive task pings it every second so it is back
//! soon after the server returns. A subscriber task holds the pub/sub
//! connection, pings it, and reconnects with backoff, emitting
//! [`Invalidation::Resync`] when it loses the connection and again once it
//! is subscribed.
//!
//! Durability is the server's: an acknowledged write survives a Redis
//! restart only with AOF persistence (`appendonly yes`,
//! `appendfsync always` for no loss at all).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use redis::Client;
use tokio::sync::watch;

use crate::error::from_redis;
use crate::events::{follow, Bus};
use crate::timed::{limit, Timer};
use crate::{Invalidation, RefreshFamily, StoreError, Timestamp};

mod scripts;
mod store;

use scripts::Scripts;

/// Native TTLs are set this long after an entry's `expires_at`.
pub(crate) const TTL_SLACK_SECONDS: i64 = 60;

/// A store in one Redis database, under one key prefix.
pub(crate) struct RedisStore {
    con: ConnectionManager,
    bus: Arc<Bus>,
    prefix: String,
    channel: String,
    scripts: Scripts,
    timer: Timer,
    /// Dropped with the store: stops the background tasks.
    _shutdown: watch::Sender<()>,
}

fn ttl_at(expires_at: Timestamp) -> Timestamp {
    expires_at.saturating_add(TTL_SLACK_SECONDS)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// One Redis call's answer, its error mapped (`what` names the call).
async fn call<T>(
    what: &str,
    fut: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    fut.await.map_err(|e| from_redis(what, e))
}

async fn connect_pubsub(client: &Client, channel: &str) -> Result<PubSub, StoreError> {
    let fut = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(pubsub)
    };
    match tokio::time::timeout(crate::CONNECT_TIMEOUT, fut).await {
        Ok(r) => r.map_err(|e| from_redis("subscribe to invalidations", e)),
        Err(_) => Err(StoreError::unavailable(
            "subscribe to invalidations: no answer in time",
        )),
    }
}

impl RedisStore {
    pub(crate) async fn open(url: &str) -> Result<Self, StoreError> {
        let (url, prefix) = crate::url::take_param(url, "prefix");
        let prefix = match prefix {
            None => "tessera".to_string(),
            Some(p)
                if !p.is_empty()
                    && p.len() <= 64
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b)) =>
            {
                p
            }
            Some(_) => {
                return Err(StoreError::config(
                    "prefix= must be 1 to 64 letters, digits or _ - . :",
                ))
            }
        };
        let client = Client::open(url.as_str())
            .map_err(|e| StoreError::config(format!("invalid redis URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(crate::CONNECT_TIMEOUT))
            .set_response_timeout(Some(crate::CONNECT_TIMEOUT))
            .set_number_of_retries(0);
        let mut con = match tokio::time::timeout(
            crate::CONNECT_TIMEOUT + Duration::from_secs(1),
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        {
            Ok(r) => r.map_err(|e| from_redis("connect to redis", e))?,
            Err(_) => {
                return Err(StoreError::unavailable(
                    "connect to redis: no answer in time",
                ))
            }
        };
        limit(call(
            "ping redis",
            redis::cmd("PING").query_async::<()>(&mut con),
        ))
        .await?;

        let channel = format!("{prefix}:invalidation");
        let bus = Arc::new(Bus::new());
        // Subscribe before returning, so no event after `open` is missed.
        let pubsub = connect_pubsub(&client, &channel).await?;
        let (shutdown, shutdown_rx) = watch::channel(());
        let subscribed = channel.clone();
        tokio::spawn(follow(
            "redis invalidation subscriber",
            bus.clone(),
            pubsub,
            shutdown_rx.clone(),
            move || {
                let (client, channel) = (client.clone(), subscribed.clone());
                async move { connect_pubsub(&client, &channel).await }
            },
            subscription,
        ));
        tokio::spawn(keepalive_task(con.clone(), shutdown_rx));
        Ok(RedisStore {
            con,
            bus,
            prefix,
            channel,
            scripts: Scripts::new(),
            timer: Timer::default(),
            _shutdown: shutdown,
        })
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }

    fn family_key(&self, id: &str) -> String {
        self.key("fam", id)
    }

    fn token_key(&self, hash: &[u8; 32]) -> String {
        self.key("tok", &hex(hash))
    }

    fn revoked_families_key(&self) -> String {
        self.key("idx", "fam")
    }

    fn revoked_jtis_key(&self) -> String {
        self.key("idx", "jti")
    }

    fn versions_key(&self) -> String {
        format!("{}:tv", self.prefix)
    }
}

/// Pings the command connection so that the connection manager notices a
/// lost server, and reconnects, without waiting for a caller.
async fn keepalive_task(mut con: ConnectionManager, mut shutdown: watch::Receiver<()>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {}
        }
        let cmd = redis::cmd("PING");
        let _ = tokio::time::timeout(crate::CONNECT_TIMEOUT, cmd.query_async::<()>(&mut con)).await;
    }
}

/// Forwards the subscription's messages to the bus and pings the
/// connection every 2 s; returns when it is lost.
async fn subscription(pubsub: PubSub, bus: Arc<Bus>) -> Option<String> {
    let (mut sink, mut stream) = pubsub.split();
    let mut ping = tokio::time::interval(Duration::from_secs(2));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(msg) => match msg.get_payload::<String>() {
                    Ok(payload) => bus.remote(&payload),
                    Err(_) => bus.local(Invalidation::Resync),
                },
                None => return None,
            },
            _ = ping.tick() => {
                let alive = tokio::time::timeout(crate::CONNECT_TIMEOUT, sink.ping::<redis::Value>()).await;
                if !matches!(alive, Ok(Ok(_))) {
                    return None;
                }
            }
        }
    }
}

fn parse_i64(what: &str, v: &str) -> Result<i64, StoreError> {
    v.parse::<i64>()
        .or_else(|_| {
            // Sorted-set scores may come back as floating point.
            v.parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
                .ok_or(())
        })
        .map_err(|_| StoreError::corrupt(format!("{what}: not an integer: {v:?}")))
}

/// Builds a family from `[id, subject, amr, created, exp, revoked, tv]`.
fn family_from(fields: &[Option<String>]) -> Result<Option<RefreshFamily>, StoreError> {
    let get = |i: usize, name: &str| -> Result<&str, StoreError> {
        fields
            .get(i)
            .and_then(|v| v.as_deref())
            .ok_or_else(|| StoreError::corrupt(format!("refresh family without {name}")))
    };
    if fields.len() < 2 || fields[1].is_none() {
        return Ok(None);
    }
    Ok(Some(RefreshFamily {
        id: get(0, "id")?.to_string(),
        subject: get(1, "subject")?.to_string(),
        amr: get(2, "amr")?.to_string(),
        created_at: parse_i64("created", get(3, "created")?)?,
        expires_at: parse_i64("exp", get(4, "exp")?)?,
        revoked: get(5, "revoked")? == "1",
        token_version: get(6, "tv")?
            .parse()
            .map_err(|_| StoreError::corrupt("refresh family token version"))?,
    }))
}

fn family_or_corrupt(fields: &[Option<String>]) -> Result<RefreshFamily, StoreError> {
    family_from(fields)?.ok_or_else(|| StoreError::corrupt("rotation returned no family"))
}

#[cfg(test)]
mod tests;
