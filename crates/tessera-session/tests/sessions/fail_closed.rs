//! The per-request check: free when warm, failing closed when the store
//! is away, concurrently within one store timeout.

use super::*;

/// A store that can be switched off: every call fails as `Unavailable` and
/// the feed reports `Resync`, as a real backend does when it goes away.
struct Switchable {
    inner: Arc<dyn Store>,
    down: AtomicBool,
    /// While down, the revocation snapshot fails only after this many
    /// milliseconds (a store that times out instead of refusing at once).
    slow_ms: AtomicI64,
    calls: AtomicI64,
    tx: tokio::sync::broadcast::Sender<Invalidation>,
}

impl Switchable {
    fn new(inner: Arc<dyn Store>) -> Arc<Self> {
        let (tx, _) = tokio::sync::broadcast::channel(1024);
        let mut rx = inner.subscribe();
        let fwd = tx.clone();
        tokio::spawn(async move {
            while let Ok(ev) = rx.recv().await {
                let _ = fwd.send(ev);
            }
        });
        Arc::new(Switchable {
            inner,
            down: AtomicBool::new(false),
            slow_ms: AtomicI64::new(0),
            calls: AtomicI64::new(0),
            tx,
        })
    }
    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        let _ = self.tx.send(Invalidation::Resync);
    }
    fn gate(&self) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new(StoreErrorKind::Unavailable, "switched off"))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl Store for Switchable {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn put_nonce(&self, n: &str, e: i64) -> Result<(), StoreError> {
        self.gate()?;
        self.inner.put_nonce(n, e).await
    }
    async fn consume_nonce(&self, n: &str, now: i64) -> Result<bool, StoreError> {
        self.gate()?;
        self.inner.consume_nonce(n, now).await
    }
    async fn remember_once(&self, id: &str, e: i64, now: i64) -> Result<bool, StoreError> {
        self.gate()?;
        self.inner.remember_once(id, e, now).await
    }
    async fn create_family(
        &self,
        f: &RefreshFamily,
        t: &NewRefreshToken,
    ) -> Result<(), StoreError> {
        self.gate()?;
        self.inner.create_family(f, t).await
    }
    async fn rotate_refresh(
        &self,
        h: &[u8; 32],
        s: &NewRefreshToken,
        now: i64,
        g: i64,
    ) -> Result<RotateOutcome, StoreError> {
        self.gate()?;
        self.inner.rotate_refresh(h, s, now, g).await
    }
    async fn family(&self, id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        self.gate()?;
        self.inner.family(id).await
    }
    async fn family_of_token(&self, h: &[u8; 32]) -> Result<Option<RefreshFamily>, StoreError> {
        self.gate()?;
        self.inner.family_of_token(h).await
    }
    async fn revoke_family(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        self.gate()?;
        self.inner.revoke_family(id, now).await
    }
    async fn revoke_subject_families(&self, s: &str, now: i64) -> Result<u64, StoreError> {
        self.gate()?;
        self.inner.revoke_subject_families(s, now).await
    }
    async fn revoke_jti(&self, j: &str, e: i64) -> Result<(), StoreError> {
        self.gate()?;
        self.inner.revoke_jti(j, e).await
    }
    async fn is_jti_revoked(&self, j: &str, now: i64) -> Result<bool, StoreError> {
        self.gate()?;
        self.inner.is_jti_revoked(j, now).await
    }
    async fn token_version(&self, s: &str) -> Result<u64, StoreError> {
        self.gate()?;
        self.inner.token_version(s).await
    }
    async fn bump_token_version(&self, s: &str, now: i64) -> Result<u64, StoreError> {
        self.gate()?;
        self.inner.bump_token_version(s, now).await
    }
    async fn revocation_snapshot(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<RevocationSnapshot, StoreError> {
        let slow = self.slow_ms.load(Ordering::SeqCst);
        if slow > 0 && self.down.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(slow as u64)).await;
        }
        self.gate()?;
        self.inner.revocation_snapshot(now, limit).await
    }
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.gate()?;
        self.inner.purge_expired(now).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.gate()?;
        self.inner.ping().await
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Invalidation> {
        self.tx.subscribe()
    }
    fn observe_latency(&self, observer: Arc<dyn tessera_store::LatencyObserver>) -> bool {
        self.inner.observe_latency(observer)
    }
}

/// The per-request check costs no store round trip while the feed is up,
/// fails closed (never "allow") while the store is away, and recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_is_free_when_warm_and_fails_closed_when_the_store_is_away() {
    let b = Backend::new(Kind::Sqlite).expect("sqlite");
    let store = Switchable::new(b.open().await);
    let signer = Arc::new(SigningKey::generate(Algorithm::EdDSA).expect("keygen"));
    let clock = Arc::new(TestClock(AtomicI64::new(base())));
    let r = rig_on(store.clone(), clock, signer, NostrSecretKey::generate());
    let wallet = EthereumSecretKey::generate();
    let pair = siwe_login(&r, &wallet).await;
    r.sessions
        .check_access(&pair.access_token)
        .await
        .expect("first check loads the picture");
    let before = store.calls.load(Ordering::SeqCst);
    for _ in 0..100 {
        r.sessions
            .check_access(&pair.access_token)
            .await
            .expect("warm check");
    }
    assert_eq!(
        store.calls.load(Ordering::SeqCst),
        before,
        "warm checks make no store call"
    );

    store.set_down(true);
    // Let the feed deliver the Resync.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let e = r
        .sessions
        .check_access(&pair.access_token)
        .await
        .expect_err("fail closed");
    assert_eq!(e.kind(), SessionErrorKind::Unavailable);
    assert_eq!(e.code(), "unavailable");
    for e in [
        r.sessions
            .refresh(&pair.refresh_token)
            .await
            .expect_err("refresh"),
        r.sessions.challenge(None).await.expect_err("challenge"),
        r.sessions
            .logout_access(&pair.access_token)
            .await
            .expect_err("logout"),
    ] {
        assert_eq!(e.kind(), SessionErrorKind::Unavailable, "{e}");
    }

    store.set_down(false);
    tokio::time::sleep(Duration::from_millis(50)).await;
    r.sessions
        .check_access(&pair.access_token)
        .await
        .expect("recovered");
    let next = r
        .sessions
        .refresh(&pair.refresh_token)
        .await
        .expect("refresh after");
    r.sessions
        .logout_access(&next.access_token)
        .await
        .expect("logout after");
    assert_eq!(
        r.sessions
            .check_access(&next.access_token)
            .await
            .expect_err("x")
            .code(),
        "revoked"
    );
}

/// With the store timing out, concurrent checks do not queue up behind one
/// another's reload attempts: the n-th would otherwise answer after n
/// timeouts (found by crates/tessera-cli/tests/faults/ on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checks_fail_closed_within_one_store_timeout() {
    let b = Backend::new(Kind::Sqlite).expect("sqlite");
    let store = Switchable::new(b.open().await);
    let signer = Arc::new(SigningKey::generate(Algorithm::EdDSA).expect("keygen"));
    let clock = Arc::new(TestClock(AtomicI64::new(base())));
    let r = Arc::new(rig_on(
        store.clone(),
        clock,
        signer,
        NostrSecretKey::generate(),
    ));
    let pair = siwe_login(&r, &EthereumSecretKey::generate()).await;
    r.sessions
        .check_access(&pair.access_token)
        .await
        .expect("warm");
    store.slow_ms.store(300, Ordering::SeqCst);
    store.set_down(true);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let start = Instant::now();
    let checks: Vec<_> = (0..10)
        .map(|_| {
            let (r, token) = (Arc::clone(&r), pair.access_token.clone());
            tokio::spawn(async move { r.sessions.check_access(&token).await.map(|_| ()) })
        })
        .collect();
    for check in checks {
        let e = check.await.expect("task").expect_err("fail closed");
        assert_eq!(e.kind(), SessionErrorKind::Unavailable, "{e}");
    }
    // One timeout for the reload in flight, at most one more for a check
    // that arrived after it; never ten.
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "10 concurrent checks took {:?} with a 300 ms store timeout",
        start.elapsed()
    );
}
