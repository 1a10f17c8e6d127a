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

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use redis::{Client, Script};
use tokio::sync::{broadcast, watch};

use crate::error::from_redis;
use crate::events::Bus;
use crate::{
    Invalidation, NewRefreshToken, RefreshFamily, RevocationSnapshot, RotateOutcome, Store,
    StoreError, Timestamp,
};

/// Native TTLs are set this long after an entry's `expires_at`.
pub(crate) const TTL_SLACK_SECONDS: i64 = 60;

const PUT_NONCE: &str = r#"
redis.call('SET', KEYS[1], ARGV[1])
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1
"#;

const CONSUME_NONCE: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
redis.call('DEL', KEYS[1])
if tonumber(ARGV[1]) < tonumber(v) then return 1 end
return 0
"#;

const REMEMBER_ONCE: &str = r#"
local v = redis.call('GET', KEYS[1])
if v and tonumber(ARGV[2]) < tonumber(v) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
return 1
"#;

// KEYS: family, token, subject index, revoked-family index.
// ARGV: id, subject, amr, created, exp, revoked, tv, family ttl_at,
//       token exp, token ttl_at, slack.
const CREATE_FAMILY: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return 'family' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'token' end
redis.call('HSET', KEYS[1], 'subject', ARGV[2], 'amr', ARGV[3], 'created', ARGV[4],
  'exp', ARGV[5], 'revoked', ARGV[6], 'tv', ARGV[7])
redis.call('EXPIREAT', KEYS[1], ARGV[8])
redis.call('HSET', KEYS[2], 'family', ARGV[1], 'exp', ARGV[9])
redis.call('EXPIREAT', KEYS[2], ARGV[10])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
local top = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
redis.call('EXPIREAT', KEYS[3], string.format('%d', tonumber(top[2]) + tonumber(ARGV[11])))
if ARGV[6] == '1' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1]) end
return 'ok'
"#;

// The rules of `rotation::decide`, in Lua.
// KEYS: presented token, successor token, revoked-family index.
// ARGV: prefix, now, grace (>= 0), successor exp, successor ttl_at,
//       instance, channel, successor hex.
const ROTATE: &str = r#"
local t = redis.call('HMGET', KEYS[1], 'family', 'exp', 'spent', 'succ', 'replaced')
if not t[1] then return {'notfound'} end
local fk = ARGV[1] .. ':fam:' .. t[1]
local f = redis.call('HMGET', fk, 'subject', 'amr', 'created', 'exp', 'revoked', 'tv')
if not f[1] then return {'notfound'} end
local now = tonumber(ARGV[2])
if f[5] == '1' then return {'revoked'} end
if now >= tonumber(t[2]) or now >= tonumber(f[4]) then return {'expired'} end
local pk = nil
if t[4] then pk = ARGV[1] .. ':tok:' .. t[4] end
local step
if t[5] == '1' then
  step = 'reuse'
elseif not t[3] then
  step = 'rotated'
elseif now < tonumber(t[3]) + tonumber(ARGV[3])
    and not (pk and redis.call('HEXISTS', pk, 'spent') == 1) then
  step = 'reissued'
else
  step = 'reuse'
end
if step == 'reuse' then
  redis.call('HSET', fk, 'revoked', '1', 'revoked_at', ARGV[2])
  redis.call('ZADD', KEYS[3], f[4], t[1])
  redis.call('PUBLISH', ARGV[7], ARGV[6] .. '|f|' .. t[1])
  return {'reuse', t[1], f[1]}
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'conflict'} end
if step == 'rotated' then
  redis.call('HSET', KEYS[1], 'spent', ARGV[2], 'succ', ARGV[8])
else
  -- HSET on a key that expired would create it without a TTL.
  if pk and redis.call('EXISTS', pk) == 1 then redis.call('HSET', pk, 'replaced', '1') end
  redis.call('HSET', KEYS[1], 'succ', ARGV[8])
end
redis.call('HSET', KEYS[2], 'family', t[1], 'exp', ARGV[4])
redis.call('EXPIREAT', KEYS[2], ARGV[5])
return {step, t[1], f[1], f[2], f[3], f[4], f[5], f[6]}
"#;

// KEYS: token. ARGV: prefix.
const FAMILY_OF_TOKEN: &str = r#"
local id = redis.call('HGET', KEYS[1], 'family')
if not id then return {} end
local f = redis.call('HMGET', ARGV[1] .. ':fam:' .. id, 'subject', 'amr', 'created', 'exp', 'revoked', 'tv')
if not f[1] then return {} end
return {id, f[1], f[2], f[3], f[4], f[5], f[6]}
"#;

// KEYS: family, revoked-family index. ARGV: id, now, instance, channel.
const REVOKE_FAMILY: &str = r#"
local f = redis.call('HMGET', KEYS[1], 'revoked', 'exp')
if not f[2] then return 0 end
if f[1] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'revoked', '1', 'revoked_at', ARGV[2])
redis.call('ZADD', KEYS[2], f[2], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[3] .. '|f|' .. ARGV[1])
return 1
"#;

// KEYS: subject index, revoked-family index. ARGV: prefix, now, instance,
// channel.
const REVOKE_SUBJECT: &str = r#"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf')
local now = tonumber(ARGV[2])
local out = {}
for _, id in ipairs(ids) do
  local fk = ARGV[1] .. ':fam:' .. id
  local f = redis.call('HMGET', fk, 'revoked', 'exp')
  if f[2] and f[1] ~= '1' and now < tonumber(f[2]) then
    redis.call('HSET', fk, 'revoked', '1', 'revoked_at', ARGV[2])
    redis.call('ZADD', KEYS[2], f[2], id)
    redis.call('PUBLISH', ARGV[4], ARGV[3] .. '|f|' .. id)
    out[#out + 1] = id
  end
end
return out
"#;

// KEYS: jti, revoked-jti index. ARGV: jti, exp, slack, instance, channel.
const REVOKE_JTI: &str = r#"
local exp = ARGV[2]
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) > tonumber(exp) then exp = cur end
redis.call('SET', KEYS[1], exp)
redis.call('EXPIREAT', KEYS[1], string.format('%d', tonumber(exp) + tonumber(ARGV[3])))
redis.call('ZADD', KEYS[2], exp, ARGV[1])
redis.call('PUBLISH', ARGV[5], ARGV[4] .. '|j|' .. exp .. '|' .. ARGV[1])
return exp
"#;

// KEYS: versions hash. ARGV: subject, instance, channel, now.
// The new version is max(previous + 1, now): see `Store::bump_token_version`.
const BUMP_VERSION: &str = r#"
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local v = math.max(cur + 1, tonumber(ARGV[4]))
local text = string.format('%d', v)
redis.call('HSET', KEYS[1], ARGV[1], text)
redis.call('PUBLISH', ARGV[3], ARGV[2] .. '|s|' .. text .. '|' .. ARGV[1])
return v
"#;

struct Scripts {
    put_nonce: Script,
    consume_nonce: Script,
    remember_once: Script,
    create_family: Script,
    rotate: Script,
    family_of_token: Script,
    revoke_family: Script,
    revoke_subject: Script,
    revoke_jti: Script,
    bump_version: Script,
}

impl Scripts {
    fn new() -> Self {
        Scripts {
            put_nonce: Script::new(PUT_NONCE),
            consume_nonce: Script::new(CONSUME_NONCE),
            remember_once: Script::new(REMEMBER_ONCE),
            create_family: Script::new(CREATE_FAMILY),
            rotate: Script::new(ROTATE),
            family_of_token: Script::new(FAMILY_OF_TOKEN),
            revoke_family: Script::new(REVOKE_FAMILY),
            revoke_subject: Script::new(REVOKE_SUBJECT),
            revoke_jti: Script::new(REVOKE_JTI),
            bump_version: Script::new(BUMP_VERSION),
        }
    }
}

/// A store in one Redis database, under one key prefix.
pub(crate) struct RedisStore {
    con: ConnectionManager,
    bus: Arc<Bus>,
    prefix: String,
    channel: String,
    scripts: Scripts,
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

async fn timed<T>(
    what: &str,
    fut: impl std::future::Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(crate::OPERATION_TIMEOUT, fut).await {
        Ok(r) => r.map_err(|e| from_redis(what, e)),
        Err(_) => Err(StoreError::timeout()),
    }
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
            .set_connection_timeout(crate::CONNECT_TIMEOUT)
            .set_response_timeout(crate::CONNECT_TIMEOUT)
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
        timed("ping redis", redis::cmd("PING").query_async::<()>(&mut con)).await?;

        let channel = format!("{prefix}:invalidation");
        let bus = Arc::new(Bus::new());
        // Subscribe before returning, so no event after `open` is missed.
        let pubsub = connect_pubsub(&client, &channel).await?;
        let (shutdown, shutdown_rx) = watch::channel(());
        tokio::spawn(subscriber_task(
            client,
            channel.clone(),
            bus.clone(),
            pubsub,
            shutdown_rx.clone(),
        ));
        tokio::spawn(keepalive_task(con.clone(), shutdown_rx));
        Ok(RedisStore {
            con,
            bus,
            prefix,
            channel,
            scripts: Scripts::new(),
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

async fn subscriber_task(
    client: Client,
    channel: String,
    bus: Arc<Bus>,
    first: PubSub,
    mut shutdown: watch::Receiver<()>,
) {
    let mut current = Some(first);
    let mut backoff = Duration::from_millis(100);
    loop {
        let pubsub = match current.take() {
            Some(p) => p,
            None => {
                let attempt = tokio::select! {
                    _ = shutdown.changed() => return,
                    r = connect_pubsub(&client, &channel) => r,
                };
                match attempt {
                    Ok(p) => {
                        tracing::info!("redis invalidation subscriber reconnected");
                        bus.local(Invalidation::Resync);
                        backoff = Duration::from_millis(100);
                        p
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "redis invalidation subscriber: reconnect failed");
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
        let (mut sink, mut stream) = pubsub.split();
        let mut ping = tokio::time::interval(Duration::from_secs(2));
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                msg = stream.next() => match msg {
                    Some(msg) => match msg.get_payload::<String>() {
                        Ok(payload) => bus.remote(&payload),
                        Err(_) => bus.local(Invalidation::Resync),
                    },
                    None => break,
                },
                _ = ping.tick() => {
                    let alive = tokio::time::timeout(crate::CONNECT_TIMEOUT, sink.ping::<redis::Value>()).await;
                    if !matches!(alive, Ok(Ok(_))) {
                        break;
                    }
                }
            }
        }
        tracing::warn!("redis invalidation subscriber: connection lost");
        bus.local(Invalidation::Resync);
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

#[async_trait]
impl Store for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn put_nonce(&self, nonce: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.put_nonce.prepare_invoke();
        inv.key(self.key("nonce", nonce))
            .arg(expires_at)
            .arg(ttl_at(expires_at));
        timed("store nonce", inv.invoke_async::<()>(&mut con)).await
    }

    async fn consume_nonce(&self, nonce: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.consume_nonce.prepare_invoke();
        inv.key(self.key("nonce", nonce)).arg(now);
        let r: i64 = timed("consume nonce", inv.invoke_async(&mut con)).await?;
        Ok(r == 1)
    }

    async fn remember_once(
        &self,
        id: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.remember_once.prepare_invoke();
        inv.key(self.key("seen", id))
            .arg(expires_at)
            .arg(now)
            .arg(ttl_at(expires_at));
        let r: i64 = timed("remember credential id", inv.invoke_async(&mut con)).await?;
        Ok(r == 1)
    }

    async fn create_family(
        &self,
        family: &RefreshFamily,
        first: &NewRefreshToken,
    ) -> Result<(), StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.create_family.prepare_invoke();
        inv.key(self.family_key(&family.id))
            .key(self.token_key(&first.hash))
            .key(self.key("subj", &family.subject))
            .key(self.revoked_families_key())
            .arg(&family.id)
            .arg(&family.subject)
            .arg(&family.amr)
            .arg(family.created_at)
            .arg(family.expires_at)
            .arg(if family.revoked { "1" } else { "0" })
            .arg(family.token_version)
            .arg(ttl_at(family.expires_at))
            .arg(first.expires_at)
            .arg(ttl_at(first.expires_at))
            .arg(TTL_SLACK_SECONDS);
        let r: String = timed("create refresh family", inv.invoke_async(&mut con)).await?;
        match r.as_str() {
            "ok" => Ok(()),
            "family" => Err(StoreError::conflict(
                "create refresh family: family id already exists",
            )),
            "token" => Err(StoreError::conflict(
                "create refresh family: token hash already exists",
            )),
            other => Err(StoreError::corrupt(format!(
                "create refresh family: unexpected answer {other:?}"
            ))),
        }
    }

    async fn rotate_refresh(
        &self,
        presented_hash: &[u8; 32],
        successor: &NewRefreshToken,
        now: Timestamp,
        grace_seconds: i64,
    ) -> Result<RotateOutcome, StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.rotate.prepare_invoke();
        inv.key(self.token_key(presented_hash))
            .key(self.token_key(&successor.hash))
            .key(self.revoked_families_key())
            .arg(&self.prefix)
            .arg(now)
            .arg(grace_seconds.max(0))
            .arg(successor.expires_at)
            .arg(ttl_at(successor.expires_at))
            .arg(self.bus.instance())
            .arg(&self.channel)
            .arg(hex(&successor.hash));
        let r: Vec<Option<String>> =
            timed("rotate refresh token", inv.invoke_async(&mut con)).await?;
        let step = r.first().and_then(|s| s.as_deref()).unwrap_or("");
        match step {
            "notfound" => Ok(RotateOutcome::NotFound),
            "revoked" => Ok(RotateOutcome::Revoked),
            "expired" => Ok(RotateOutcome::Expired),
            "conflict" => Err(StoreError::conflict(
                "rotate refresh token: successor hash already exists",
            )),
            "rotated" => Ok(RotateOutcome::Rotated {
                family: family_or_corrupt(r.get(1..).unwrap_or(&[]))?,
            }),
            "reissued" => Ok(RotateOutcome::Reissued {
                family: family_or_corrupt(r.get(1..).unwrap_or(&[]))?,
            }),
            "reuse" => {
                let field = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
                let family_id = field(1);
                self.bus.local(Invalidation::Family(family_id.clone()));
                Ok(RotateOutcome::ReuseDetected {
                    family_id,
                    subject: field(2),
                })
            }
            other => Err(StoreError::corrupt(format!(
                "rotate refresh token: unexpected answer {other:?}"
            ))),
        }
    }

    async fn family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        let mut con = self.con.clone();
        let fields: Vec<Option<String>> = timed(
            "read refresh family",
            redis::cmd("HMGET")
                .arg(self.family_key(family_id))
                .arg(&["subject", "amr", "created", "exp", "revoked", "tv"])
                .query_async(&mut con),
        )
        .await?;
        let mut all = Vec::with_capacity(7);
        all.push(Some(family_id.to_string()));
        all.extend(fields);
        family_from(&all)
    }

    async fn family_of_token(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<RefreshFamily>, StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.family_of_token.prepare_invoke();
        inv.key(self.token_key(token_hash)).arg(&self.prefix);
        let fields: Vec<Option<String>> =
            timed("read refresh family of token", inv.invoke_async(&mut con)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        family_from(&fields)
    }

    async fn revoke_family(&self, family_id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.revoke_family.prepare_invoke();
        inv.key(self.family_key(family_id))
            .key(self.revoked_families_key())
            .arg(family_id)
            .arg(now)
            .arg(self.bus.instance())
            .arg(&self.channel);
        let r: i64 = timed("revoke refresh family", inv.invoke_async(&mut con)).await?;
        if r == 1 {
            self.bus.local(Invalidation::Family(family_id.to_string()));
        }
        Ok(r == 1)
    }

    async fn revoke_subject_families(
        &self,
        subject: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.revoke_subject.prepare_invoke();
        inv.key(self.key("subj", subject))
            .key(self.revoked_families_key())
            .arg(&self.prefix)
            .arg(now)
            .arg(self.bus.instance())
            .arg(&self.channel);
        let ids: Vec<String> =
            timed("revoke families of subject", inv.invoke_async(&mut con)).await?;
        let count = ids.len() as u64;
        for id in ids {
            self.bus.local(Invalidation::Family(id));
        }
        Ok(count)
    }

    async fn revoke_jti(&self, jti: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.revoke_jti.prepare_invoke();
        inv.key(self.key("jti", jti))
            .key(self.revoked_jtis_key())
            .arg(jti)
            .arg(expires_at)
            .arg(TTL_SLACK_SECONDS)
            .arg(self.bus.instance())
            .arg(&self.channel);
        let exp: String = timed("revoke jti", inv.invoke_async(&mut con)).await?;
        self.bus.local(Invalidation::Jti {
            jti: jti.to_string(),
            expires_at: parse_i64("revoked jti expiry", &exp)?,
        });
        Ok(())
    }

    async fn is_jti_revoked(&self, jti: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut con = self.con.clone();
        let v: Option<String> = timed(
            "read revoked jti",
            redis::cmd("GET")
                .arg(self.key("jti", jti))
                .query_async(&mut con),
        )
        .await?;
        match v {
            Some(v) => Ok(now < parse_i64("revoked jti expiry", &v)?),
            None => Ok(false),
        }
    }

    async fn token_version(&self, subject: &str) -> Result<u64, StoreError> {
        let mut con = self.con.clone();
        let v: Option<String> = timed(
            "read token version",
            redis::cmd("HGET")
                .arg(self.versions_key())
                .arg(subject)
                .query_async(&mut con),
        )
        .await?;
        match v {
            Some(v) => v
                .parse()
                .map_err(|_| StoreError::corrupt(format!("token version {v:?}"))),
            None => Ok(0),
        }
    }

    async fn bump_token_version(&self, subject: &str, now: Timestamp) -> Result<u64, StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.bump_version.prepare_invoke();
        inv.key(self.versions_key())
            .arg(subject)
            .arg(self.bus.instance())
            .arg(&self.channel)
            .arg(now);
        let v: i64 = timed("bump token version", inv.invoke_async(&mut con)).await?;
        let version =
            u64::try_from(v).map_err(|_| StoreError::corrupt("negative token version"))?;
        self.bus.local(Invalidation::Subject {
            subject: subject.to_string(),
            version,
        });
        Ok(version)
    }

    async fn revocation_snapshot(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError> {
        let mut con = self.con.clone();
        let fetch = limit.saturating_add(1);
        let min = format!("({now}");
        let (jtis, families, versions): (Vec<String>, Vec<String>, Vec<String>) = timed(
            "revocation snapshot",
            redis::pipe()
                .atomic()
                .cmd("ZREVRANGEBYSCORE")
                .arg(self.revoked_jtis_key())
                .arg("+inf")
                .arg(&min)
                .arg("WITHSCORES")
                .arg("LIMIT")
                .arg(0)
                .arg(fetch)
                .cmd("ZREVRANGEBYSCORE")
                .arg(self.revoked_families_key())
                .arg("+inf")
                .arg(&min)
                .arg("LIMIT")
                .arg(0)
                .arg(fetch)
                .cmd("HGETALL")
                .arg(self.versions_key())
                .query_async(&mut con),
        )
        .await?;
        let mut jti_list = Vec::with_capacity(jtis.len() / 2);
        for pair in jtis.chunks(2) {
            if let [jti, score] = pair {
                jti_list.push((jti.clone(), parse_i64("revoked jti expiry", score)?));
            }
        }
        let mut version_list = Vec::with_capacity(versions.len() / 2);
        for pair in versions.chunks(2) {
            if let [subject, v] = pair {
                let v = parse_i64("token version", v)?;
                if v > 0 {
                    version_list.push((subject.clone(), v));
                }
            }
        }
        version_list.sort();
        crate::sqlite::build_snapshot(jti_list, families, version_list, limit)
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut con = self.con.clone();
        let (a, b): (u64, u64) = timed(
            "purge expired entries",
            redis::pipe()
                .atomic()
                .cmd("ZREMRANGEBYSCORE")
                .arg(self.revoked_jtis_key())
                .arg("-inf")
                .arg(now)
                .cmd("ZREMRANGEBYSCORE")
                .arg(self.revoked_families_key())
                .arg("-inf")
                .arg(now)
                .query_async(&mut con),
        )
        .await?;
        Ok(a + b)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut con = self.con.clone();
        timed("ping", redis::cmd("PING").query_async::<()>(&mut con)).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Invalidation> {
        self.bus.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_encodes_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }

    #[test]
    fn parses_scores() {
        assert_eq!(parse_i64("x", "1800000000").ok(), Some(1_800_000_000));
        assert_eq!(parse_i64("x", "1.8e9").ok(), Some(1_800_000_000));
        assert!(parse_i64("x", "1.5").is_err());
        assert!(parse_i64("x", "abc").is_err());
    }

    /// Every key the store writes carries a native TTL near its expiry
    /// (needs `TESSERA_TEST_REDIS_URL`; skipped without it).
    #[tokio::test]
    async fn keys_get_native_ttls() {
        let Ok(url) = std::env::var("TESSERA_TEST_REDIS_URL") else {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(!ci, "CI needs TESSERA_TEST_REDIS_URL");
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "!!! TESSERA_TEST_REDIS_URL is not set: SKIPPING keys_get_native_ttls"
            );
            return;
        };
        let prefix = format!("ttltest{}", std::process::id());
        let sep = if url.contains('?') { '&' } else { '?' };
        let store = RedisStore::open(&format!("{url}{sep}prefix={prefix}"))
            .await
            .expect("open redis");
        let now = 2_000_000_000; // a time well in the future of the server
        store.put_nonce("n", now + 100).await.expect("nonce");
        assert!(store
            .remember_once("id", now + 200, now)
            .await
            .expect("seen"));
        store.revoke_jti("j", now + 300).await.expect("jti");
        let fam = RefreshFamily {
            id: "f".into(),
            subject: "s".into(),
            amr: "siwe".into(),
            created_at: now,
            expires_at: now + 400,
            revoked: false,
            token_version: 0,
        };
        let tok = NewRefreshToken {
            hash: [7; 32],
            expires_at: now + 500,
        };
        store.create_family(&fam, &tok).await.expect("family");
        let mut con = store.con.clone();
        for (key, exp) in [
            (store.key("nonce", "n"), now + 100),
            (store.key("seen", "id"), now + 200),
            (store.key("jti", "j"), now + 300),
            (store.family_key("f"), now + 400),
            (store.key("subj", "s"), now + 400),
            (store.token_key(&[7; 32]), now + 500),
        ] {
            let at: i64 = redis::cmd("EXPIRETIME")
                .arg(&key)
                .query_async(&mut con)
                .await
                .expect("EXPIRETIME");
            assert_eq!(at, exp + TTL_SLACK_SECONDS, "{key}");
        }
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query_async(&mut con)
            .await
            .expect("KEYS");
        let _: () = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut con)
            .await
            .expect("DEL");
    }
}
