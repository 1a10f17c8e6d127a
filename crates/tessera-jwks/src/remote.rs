//! [`RemoteJwks`]: the latest good key set of one issuer, refreshed in the
//! background, readable without waiting.

use crate::config::{Checked, JwksConfig, Location};
use crate::error::{ErrorKind, JwksError};
use crate::fetch::{discovered_jwks_uri, Fetched, Http};
use crate::guard::redact;
use arc_swap::ArcSwap;
use reqwest::Url;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime};
use tessera_core::KeySet;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Longest wait before retrying after a failed fetch (shorter when
/// `cache_floor` is).
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// The key set of one issuer, fetched from its `jwks_uri` (or found by
/// OpenID discovery), cached per `Cache-Control` within the configured
/// floor and ceiling, revalidated with `ETag`, refreshed in the background
/// before it expires, and kept while the issuer is unreachable.
///
/// Cloning is cheap; clones share the set, the state and the background
/// task, which ends when the last clone is dropped.
///
/// Verification reads [`RemoteJwks::keys`] and never waits on the network;
/// the one exception is [`RemoteJwks::refetch_for_unknown_kid`], at most
/// one fetch per `unknown_kid_cooldown`, shared by concurrent callers.
#[derive(Clone)]
pub struct RemoteJwks {
    inner: Arc<Inner>,
}

/// What [`RemoteJwks::state`] reports (for metrics, health and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksState {
    /// The URL key sets are fetched from (after discovery), without its query.
    pub jwks_uri: Option<String>,
    /// When a fetch last succeeded (a 200 with a valid set, or a 304).
    pub last_success: Option<SystemTime>,
    /// Time since then.
    pub age: Option<Duration>,
    /// How long the current set is fresh: its `max-age` (less `Age`),
    /// clamped to the floor and the ceiling.
    pub lifetime: Duration,
    /// The set is older than its lifetime: refreshes have been failing and
    /// the last good set is still served (stale-if-error).
    pub stale: bool,
    /// Fetch attempts so far (each may include discovery and redirects).
    pub fetches: u64,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    /// Why the latest attempt failed; `None` when it succeeded.
    pub last_error: Option<ErrorKind>,
    /// Keys in the current set (0 before the first successful fetch).
    pub keys: usize,
}

struct Inner {
    config: Checked,
    http: Http,
    keys: ArcSwap<KeySet>,
    status: Mutex<Status>,
    /// Held for the whole of a fetch: one fetch at a time; whoever waits
    /// for it shares its outcome.
    fetch: tokio::sync::Mutex<FetchState>,
    /// Fetches finished (successful or not).
    completed: AtomicU64,
    /// Wakes the background task when a fetch changed the schedule.
    wake: Arc<Notify>,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

/// Read by [`RemoteJwks::state`] and the schedule; never held across an await.
struct Status {
    jwks_uri: Option<Url>,
    success_at: Option<(Instant, SystemTime)>,
    lifetime: Duration,
    next_refresh: Instant,
    fetches: u64,
    failures: u32,
    last_error: Option<ErrorKind>,
    in_flight: bool,
    unknown_kid_fetch_at: Option<Instant>,
}

/// Owned by the fetch in progress.
struct FetchState {
    /// Configured, or discovered (forgotten after a failure, so that the
    /// next attempt discovers again).
    jwks_uri: Option<Url>,
    /// Of the current set, sent as `If-None-Match`.
    etag: Option<String>,
    /// The current set's document, to tell an unchanged 200 from a new set.
    body: Vec<u8>,
    /// The current set's `max-age`, kept for a 304 without `Cache-Control`.
    max_age: Option<Duration>,
    last_outcome: Result<(), JwksError>,
}

/// Why a fetch is wanted.
#[derive(Debug, Clone, Copy)]
enum Cause {
    /// [`RemoteJwks::refresh`].
    Asked,
    /// The background task, when the refresh is due.
    Schedule,
    /// [`RemoteJwks::refetch_for_unknown_kid`], within its cooldown.
    UnknownKid,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RemoteJwks {
    /// Checks `config` and starts the background task, which fetches at
    /// once and then before each expiry. Returns without waiting for the
    /// first fetch: call [`RemoteJwks::refresh`] to wait for it (at
    /// start-up, to fail fast or to log).
    ///
    /// Must be called within a tokio runtime (else `InvalidConfig`).
    pub fn new(config: JwksConfig) -> Result<Self, JwksError> {
        let config = config.checked()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            JwksError::new(
                ErrorKind::InvalidConfig,
                "RemoteJwks::new must be called within a tokio runtime",
            )
        })?;
        let http = Http::new(config.allow_insecure, config.timeout, config.max_body)?;
        let jwks_uri = match &config.location {
            Location::Uri(url) => Some(url.clone()),
            Location::Discovery { .. } => None,
        };
        let inner = Arc::new(Inner {
            config,
            http,
            keys: ArcSwap::from_pointee(KeySet::new()),
            status: Mutex::new(Status {
                jwks_uri: jwks_uri.clone(),
                success_at: None,
                lifetime: Duration::ZERO,
                next_refresh: Instant::now(),
                fetches: 0,
                failures: 0,
                last_error: None,
                in_flight: false,
                unknown_kid_fetch_at: None,
            }),
            fetch: tokio::sync::Mutex::new(FetchState {
                jwks_uri,
                etag: None,
                body: Vec::new(),
                max_age: None,
                last_outcome: Ok(()),
            }),
            completed: AtomicU64::new(0),
            wake: Arc::new(Notify::new()),
            task: Mutex::new(None),
        });
        let task = runtime.spawn(refresh_loop(
            Arc::downgrade(&inner),
            Arc::clone(&inner.wake),
        ));
        *lock(&inner.task) = Some(task.abort_handle());
        Ok(RemoteJwks { inner })
    }

    /// The current key set, without waiting (empty until the first
    /// successful fetch). Lock-free.
    pub fn keys(&self) -> Arc<KeySet> {
        self.inner.keys.load_full()
    }

    /// The state of the set, for metrics and health checks.
    pub fn state(&self) -> JwksState {
        let status = lock(&self.inner.status);
        let age = status.success_at.map(|(at, _)| at.elapsed());
        JwksState {
            jwks_uri: status.jwks_uri.as_ref().map(redact),
            last_success: status.success_at.map(|(_, wall)| wall),
            age,
            lifetime: status.lifetime,
            stale: age.is_some_and(|age| age >= status.lifetime),
            fetches: status.fetches,
            consecutive_failures: status.failures,
            last_error: status.last_error,
            keys: self.inner.keys.load().keys().len(),
        }
    }

    /// Fetches now (or joins the fetch in progress) and returns the set it
    /// left, or why it failed (the last good set is kept either way).
    ///
    /// For start-up and operator actions, not for requests: a request
    /// that meets an unknown `kid` calls
    /// [`RemoteJwks::refetch_for_unknown_kid`], which is rate-limited.
    pub async fn refresh(&self) -> Result<Arc<KeySet>, JwksError> {
        let outcome = self.inner.fetch_shared(Cause::Asked).await;
        outcome.map(|()| self.keys())
    }

    /// Called when a token's `kid` is not in `used` (the set the caller
    /// verified with). Returns a newer set to retry with, or `None`.
    ///
    /// A newer set already in place is returned at once. A fetch in
    /// progress (of any cause) is joined and shared. Otherwise one fetch
    /// starts if none has for an unknown `kid` within `unknown_kid_cooldown`,
    /// and concurrent callers wait for that same fetch; within the cooldown
    /// the answer is `None` without waiting. Every wait is bounded by
    /// `timeout`. A failed fetch gives `None` (its error is in
    /// [`RemoteJwks::state`] and the log).
    pub async fn refetch_for_unknown_kid(&self, used: &Arc<KeySet>) -> Option<Arc<KeySet>> {
        let newer = || {
            let current = self.keys();
            (!Arc::ptr_eq(&current, used)).then_some(current)
        };
        if let Some(current) = newer() {
            return Some(current);
        }
        {
            let status = lock(&self.inner.status);
            let cooling = status
                .unknown_kid_fetch_at
                .is_some_and(|at| at.elapsed() < self.inner.config.cooldown);
            if cooling && !status.in_flight {
                return None;
            }
        }
        // Errors are in the state and the log; the caller keeps its answer.
        let _ = self.inner.fetch_shared(Cause::UnknownKid).await;
        newer()
    }
}

impl Inner {
    /// One fetch at a time: a caller that finds one in progress waits for it
    /// and shares its outcome rather than starting another. Whether a new
    /// one starts is decided with the lock held (so against the last
    /// finished fetch): an unknown `kid` only outside the cooldown, the
    /// schedule only when the refresh is still due.
    async fn fetch_shared(&self, cause: Cause) -> Result<(), JwksError> {
        let seen = self.completed.load(Ordering::Acquire);
        let mut state = self.fetch.lock().await;
        if self.completed.load(Ordering::Acquire) != seen {
            return state.last_outcome.clone();
        }
        {
            let mut status = lock(&self.status);
            let now = Instant::now();
            match cause {
                Cause::Asked => {}
                Cause::Schedule if now < status.next_refresh => {
                    return state.last_outcome.clone();
                }
                Cause::Schedule => {}
                Cause::UnknownKid => {
                    if status
                        .unknown_kid_fetch_at
                        .is_some_and(|at| now.duration_since(at) < self.config.cooldown)
                    {
                        return state.last_outcome.clone();
                    }
                    status.unknown_kid_fetch_at = Some(now);
                }
            }
            status.in_flight = true;
        }
        let outcome = self.fetch_locked(&mut state).await;
        state.last_outcome = outcome.clone();
        self.completed.fetch_add(1, Ordering::AcqRel);
        lock(&self.status).in_flight = false;
        self.wake.notify_one();
        outcome
    }

    /// One attempt, with the fetch lock held: fetch, parse, swap, record.
    async fn fetch_locked(&self, state: &mut FetchState) -> Result<(), JwksError> {
        let attempt = tokio::time::timeout(self.config.timeout, self.download(state)).await;
        let outcome = match attempt {
            Ok(Ok(fetched)) => self.apply(state, fetched),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(JwksError::new(
                ErrorKind::Timeout,
                format!(
                    "no complete answer within {} ms",
                    self.config.timeout.as_millis()
                ),
            )),
        };
        let now = Instant::now();
        let mut status = lock(&self.status);
        status.fetches += 1;
        match &outcome {
            Ok(lifetime) => {
                if status.failures > 0 {
                    tracing::info!(
                        jwks_uri = status.jwks_uri.as_ref().map(redact).as_deref(),
                        failures = status.failures,
                        "JWKS fetch succeeded again"
                    );
                }
                status.success_at = Some((now, SystemTime::now()));
                status.lifetime = *lifetime;
                status.failures = 0;
                status.last_error = None;
                // Refresh at three quarters of the lifetime, before expiry,
                // so that a failed refresh is retried while the set is fresh.
                status.next_refresh = now + *lifetime * 3 / 4;
                Ok(())
            }
            Err(e) => {
                if matches!(self.config.location, Location::Discovery { .. }) {
                    state.jwks_uri = None;
                }
                status.failures = status.failures.saturating_add(1);
                status.last_error = Some(e.kind());
                status.next_refresh = now + self.config.floor.min(MAX_RETRY_DELAY);
                let age = status.success_at.map(|(at, _)| now.duration_since(at));
                tracing::warn!(
                    jwks_uri = status
                        .jwks_uri
                        .as_ref()
                        .map(redact)
                        .or_else(|| self.document_url().map(redact))
                        .as_deref(),
                    error = e.kind().as_str(),
                    detail = e.message(),
                    keys = self.keys.load().keys().len(),
                    stale = age.is_some_and(|age| age >= status.lifetime),
                    age_seconds = age.map(|a| a.as_secs()),
                    "JWKS fetch failed; serving the last good key set"
                );
                Err(e.clone())
            }
        }
    }

    fn document_url(&self) -> Option<&Url> {
        match &self.config.location {
            Location::Discovery { document, .. } => Some(document),
            Location::Uri(_) => None,
        }
    }

    /// Discovery (when needed), then the key set, conditional on the ETag
    /// of the set in hand.
    async fn download(&self, state: &mut FetchState) -> Result<Fetched, JwksError> {
        let uri = match (&state.jwks_uri, &self.config.location) {
            (Some(uri), _) => uri.clone(),
            (None, Location::Uri(uri)) => uri.clone(),
            (None, Location::Discovery { issuer, document }) => {
                let body = match self.http.get(document, None).await? {
                    Fetched::Body { body, .. } => body,
                    Fetched::NotModified { .. } => {
                        return Err(JwksError::new(
                            ErrorKind::HttpStatus,
                            "304 to an unconditional discovery request",
                        ))
                    }
                };
                let uri = discovered_jwks_uri(&body, issuer, self.config.allow_insecure)?;
                lock(&self.status).jwks_uri = Some(uri.clone());
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let etag = state.etag.as_deref().filter(|_| !state.body.is_empty());
        self.http.get(&uri, etag).await
    }

    /// Applies a response: the new set (if it parses and differs) and its
    /// lifetime. A set that fails to parse keeps the old one, its ETag and
    /// its body, so the next request is not answered 304 for a bad set.
    fn apply(&self, state: &mut FetchState, fetched: Fetched) -> Result<Duration, JwksError> {
        match fetched {
            Fetched::NotModified { max_age } => {
                if max_age.is_some() {
                    state.max_age = max_age;
                }
            }
            Fetched::Body {
                body,
                etag,
                max_age,
            } => {
                // An empty body is never the set in hand: parse (and refuse) it.
                if body.is_empty() || body != state.body {
                    let set = parse_set(&body, self.config.pin)?;
                    tracing::info!(
                        jwks_uri = state.jwks_uri.as_ref().map(redact).as_deref(),
                        keys = set.keys().len(),
                        "JWKS key set updated"
                    );
                    self.keys.store(Arc::new(set));
                    state.body = body;
                }
                state.etag = etag;
                state.max_age = max_age;
            }
        }
        let granted = state.max_age.unwrap_or(Duration::ZERO);
        Ok(granted.clamp(self.config.floor, self.config.ceiling))
    }
}

/// A fetched document as a key set: UTF-8, parsed by tessera-core, not
/// empty, and public keys only (an HMAC secret published at a URL is
/// known to anyone who fetches it: any token it verifies is forgeable).
fn parse_set(body: &[u8], pin: Option<tessera_core::Algorithm>) -> Result<KeySet, JwksError> {
    let invalid = |why: String| JwksError::new(ErrorKind::InvalidJwks, why);
    let text = std::str::from_utf8(body).map_err(|_| invalid("the JWK Set is not UTF-8".into()))?;
    // Encryption keys published next to the signing keys are skipped, not
    // a reason to refuse the set (tessera-core's `from_published_jwks`).
    let (set, _skipped) = KeySet::from_published_jwks(text, pin)
        .map_err(|e| invalid(format!("the JWK Set was refused: {}", e.message())))?;
    if set.is_empty() {
        return Err(invalid("the JWK Set has no keys".into()));
    }
    if set.keys().iter().any(|k| k.is_secret()) {
        return Err(invalid(
            "a fetched JWK Set may not hold secret (oct) keys".into(),
        ));
    }
    Ok(set)
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

/// The background task: fetch when due, else sleep until due or woken.
/// Holds the set only weakly, so dropping the last [`RemoteJwks`] ends it.
async fn refresh_loop(inner: Weak<Inner>, wake: Arc<Notify>) {
    loop {
        let due = {
            let Some(inner) = inner.upgrade() else { return };
            let due = lock(&inner.status).next_refresh;
            if Instant::now() >= due {
                let _ = inner.fetch_shared(Cause::Schedule).await;
                continue;
            }
            due
        };
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            () = wake.notified() => {}
        }
    }
}

impl std::fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("RemoteJwks")
            .field("jwks_uri", &state.jwks_uri)
            .field("keys", &state.keys)
            .field("stale", &state.stale)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_must_be_utf8_json_with_keys() {
        let kind = |body: &[u8]| parse_set(body, None).map(|_| ()).map_err(|e| e.kind());
        assert_eq!(kind(b"{\"keys\":[]}"), Err(ErrorKind::InvalidJwks));
        assert_eq!(kind(b"\xff\xfe{}"), Err(ErrorKind::InvalidJwks));
        assert_eq!(
            kind(b"{\"keys\":[{\"kty\":\"RSA\"}]}"),
            Err(ErrorKind::InvalidJwks)
        );
        let ed = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
        assert_eq!(kind(ed), Ok(()));
        let oct = br#"{"keys":[{"kty":"oct","alg":"HS256","kid":"h","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}"#;
        let err = parse_set(oct, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidJwks);
        assert!(err.message().contains("secret (oct)"), "{err}");
    }

    #[test]
    fn encryption_keys_in_a_fetched_set_are_skipped() {
        let ed = r#"{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let x25519 = r#"{"kty":"OKP","crv":"X25519","kid":"x","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let enc = r#"{"kty":"OKP","crv":"Ed25519","use":"enc","kid":"u","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let body = format!(r#"{{"keys":[{x25519},{enc},{ed}]}}"#);
        let set = parse_set(body.as_bytes(), None).unwrap();
        assert_eq!(set.keys().len(), 1);
        assert_eq!(set.keys()[0].kid(), Some("e"));
        // Only encryption keys: nothing left to verify with.
        let body = format!(r#"{{"keys":[{x25519},{enc}]}}"#);
        let err = parse_set(body.as_bytes(), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidJwks);
        assert!(err.message().contains("no keys"), "{err}");
    }
}
