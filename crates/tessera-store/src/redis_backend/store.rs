//! [`Store`] on Redis: one script or one command per call.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::{
    call, family_from, family_or_corrupt, hex, parse_i64, ttl_at, RedisStore, TTL_SLACK_SECONDS,
};
use crate::{
    Invalidation, LatencyObserver, NewRefreshToken, RefreshFamily, RevocationSnapshot,
    RotateOutcome, Store, StoreError, Timestamp,
};

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
        self.timer
            .timed(
                "put_nonce",
                call("store nonce", inv.invoke_async::<()>(&mut con)),
            )
            .await
    }

    async fn consume_nonce(&self, nonce: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut con = self.con.clone();
        let mut inv = self.scripts.consume_nonce.prepare_invoke();
        inv.key(self.key("nonce", nonce)).arg(now);
        let r: i64 = self
            .timer
            .timed(
                "consume_nonce",
                call("consume nonce", inv.invoke_async(&mut con)),
            )
            .await?;
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
        let r: i64 = self
            .timer
            .timed(
                "remember_once",
                call("remember credential id", inv.invoke_async(&mut con)),
            )
            .await?;
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
        let r: String = self
            .timer
            .timed(
                "create_family",
                call("create refresh family", inv.invoke_async(&mut con)),
            )
            .await?;
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
        let r: Vec<Option<String>> = self
            .timer
            .timed(
                "rotate_refresh",
                call("rotate refresh token", inv.invoke_async(&mut con)),
            )
            .await?;
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
        let fields: Vec<Option<String>> = self
            .timer
            .timed(
                "family",
                call(
                    "read refresh family",
                    redis::cmd("HMGET")
                        .arg(self.family_key(family_id))
                        .arg(&["subject", "amr", "created", "exp", "revoked", "tv"])
                        .query_async(&mut con),
                ),
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
        let fields: Vec<Option<String>> = self
            .timer
            .timed(
                "family_of_token",
                call("read refresh family of token", inv.invoke_async(&mut con)),
            )
            .await?;
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
        let r: i64 = self
            .timer
            .timed(
                "revoke_family",
                call("revoke refresh family", inv.invoke_async(&mut con)),
            )
            .await?;
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
        let ids: Vec<String> = self
            .timer
            .timed(
                "revoke_subject_families",
                call("revoke families of subject", inv.invoke_async(&mut con)),
            )
            .await?;
        Ok(self.bus.families_revoked(ids))
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
        let exp: String = self
            .timer
            .timed("revoke_jti", call("revoke jti", inv.invoke_async(&mut con)))
            .await?;
        self.bus.local(Invalidation::Jti {
            jti: jti.to_string(),
            expires_at: parse_i64("revoked jti expiry", &exp)?,
        });
        Ok(())
    }

    async fn is_jti_revoked(&self, jti: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut con = self.con.clone();
        let v: Option<String> = self
            .timer
            .timed(
                "is_jti_revoked",
                call(
                    "read revoked jti",
                    redis::cmd("GET")
                        .arg(self.key("jti", jti))
                        .query_async(&mut con),
                ),
            )
            .await?;
        match v {
            Some(v) => Ok(now < parse_i64("revoked jti expiry", &v)?),
            None => Ok(false),
        }
    }

    async fn token_version(&self, subject: &str) -> Result<u64, StoreError> {
        let mut con = self.con.clone();
        let v: Option<String> = self
            .timer
            .timed(
                "token_version",
                call(
                    "read token version",
                    redis::cmd("HGET")
                        .arg(self.versions_key())
                        .arg(subject)
                        .query_async(&mut con),
                ),
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
        let v: i64 = self
            .timer
            .timed(
                "bump_token_version",
                call("bump token version", inv.invoke_async(&mut con)),
            )
            .await?;
        let version =
            u64::try_from(v).map_err(|_| StoreError::corrupt("negative token version"))?;
        Ok(self.bus.subject_version(subject, version))
    }

    async fn revocation_snapshot(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError> {
        let mut con = self.con.clone();
        let fetch = limit.saturating_add(1);
        let min = format!("({now}");
        let (jtis, families, versions): (Vec<String>, Vec<String>, Vec<String>) = self
            .timer
            .timed(
                "revocation_snapshot",
                call(
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
                ),
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
        RevocationSnapshot::cut(jti_list, families, version_list, limit)
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut con = self.con.clone();
        let (a, b): (u64, u64) = self
            .timer
            .timed(
                "purge_expired",
                call(
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
                ),
            )
            .await?;
        Ok(a + b)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut con = self.con.clone();
        self.timer
            .timed(
                "ping",
                call("ping", redis::cmd("PING").query_async::<()>(&mut con)),
            )
            .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Invalidation> {
        self.bus.subscribe()
    }

    fn observe_latency(&self, observer: Arc<dyn LatencyObserver>) -> bool {
        self.timer.observe(observer)
    }
}
