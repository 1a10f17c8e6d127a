//! Faults: unreachable backends, a Redis server that dies and comes back,
//! PostgreSQL connections killed by the server. Stateful calls must fail
//! closed with `Unavailable` (quickly, without panicking) and work again
//! once the backend is back, without reopening the store.

use std::time::{Duration, Instant};

use tessera_store::{Invalidation, StoreErrorKind};
use tessera_testkit::services::RedisServer;
use tessera_testkit::store::{base, env_url, wait_for_event, Backend, Kind, POSTGRES_ENV};
use tessera_testkit::TempDir;

#[tokio::test]
async fn unreachable_redis_is_unavailable_quickly() {
    let start = Instant::now();
    let e = match tessera_store::open("redis://127.0.0.1:1").await {
        Ok(_) => panic!("opened a store on a closed port"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn unreachable_postgres_is_unavailable_quickly_and_hides_the_password() {
    let start = Instant::now();
    let e = match tessera_store::open("postgres://tessera:s3cr3t-pw@127.0.0.1:1/test").await {
        Ok(_) => panic!("opened a store on a closed port"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert!(!e.to_string().contains("s3cr3t-pw"), "{e}");
}

#[tokio::test]
async fn bad_urls_are_configuration_errors() {
    for url in [
        "mysql://u:hunter2@h/db",
        "redis://127.0.0.1:6379?prefix=bad%20prefix",
        "postgres://u:hunter2@127.0.0.1:1/db?schema=1bad",
        "",
    ] {
        match tessera_store::open(url).await {
            Ok(_) => panic!("{url}: opened"),
            Err(e) => {
                assert_eq!(e.kind(), StoreErrorKind::Config, "{url}: {e}");
                assert!(!e.to_string().contains("hunter2"), "{e}");
            }
        }
    }
    assert_eq!(
        tessera_store::mask_url("postgres://u:hunter2@h/db"),
        "postgres://u:***@h/db"
    );
}

// ------------------------------------------------------------ redis outage

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_fails_closed_and_recovers_without_reopening() {
    if !RedisServer::available_for("the Redis outage test of the store") {
        return;
    }
    let dir = TempDir::new("redis-outage");
    let mut server = RedisServer::start(dir.root()).expect("start redis-server");
    let url = format!("{}?prefix=outage", server.url());
    let store = tessera_store::open(&url).await.expect("open");
    let mut rx = store.subscribe();
    let t = base();

    // Acknowledged before the outage.
    store.revoke_jti("j-before", t + 1000).await.unwrap();
    assert_eq!(store.bump_token_version("alice", 0).await.unwrap(), 1);
    store.put_nonce("n-before", t + 1000).await.unwrap();
    // Drain our own events.
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {}

    server.stop(false);

    // During the outage every stateful call fails closed, quickly.
    for round in 0..3 {
        let start = Instant::now();
        let r = store.is_jti_revoked("j-before", t).await;
        let e = r.expect_err("answered during the outage");
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "round {round}: {e}");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        let e = store
            .consume_nonce("n-before", t)
            .await
            .expect_err("consumed during the outage");
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
        let e = store.ping().await.expect_err("ping during the outage");
        assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The feed told its subscribers that events may have been missed.
    assert!(
        wait_for_event(&mut rx, Duration::from_secs(5), |e| *e
            == Invalidation::Resync)
        .await
        .is_some(),
        "no Resync after losing the subscriber connection"
    );

    server.restart().expect("restart redis-server");

    // The same store object works again, soon.
    let start = Instant::now();
    loop {
        match store.ping().await {
            Ok(()) => break,
            Err(e) => {
                assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "store did not recover: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    eprintln!(
        "redis: store answered {:?} after the restart",
        start.elapsed()
    );
    // Nothing acknowledged was lost (the server syncs its AOF on every
    // write).
    assert!(store.is_jti_revoked("j-before", t).await.unwrap());
    assert_eq!(store.token_version("alice").await.unwrap(), 1);
    assert!(store.consume_nonce("n-before", t).await.unwrap());
    assert_eq!(store.bump_token_version("alice", 0).await.unwrap(), 2);

    // The subscriber is back: it said so, and another instance's events
    // arrive again.
    assert!(
        wait_for_event(&mut rx, Duration::from_secs(5), |e| *e
            == Invalidation::Resync)
        .await
        .is_some(),
        "no Resync after the subscriber reconnected"
    );
    let other = tessera_store::open(&url)
        .await
        .expect("open second instance");
    let sent = Instant::now();
    other.revoke_jti("j-after", t + 1000).await.unwrap();
    let took = wait_for_event(
        &mut rx,
        Duration::from_secs(1),
        |e| matches!(e, Invalidation::Jti { jti, .. } if jti == "j-after"),
    )
    .await;
    assert!(
        took.is_some(),
        "no invalidation from the other instance after recovery"
    );
    assert!(sent.elapsed() < Duration::from_secs(1));

    drop(store);
    drop(other);
    drop(server);
}

// ------------------------------------------------------------ postgres

/// The server terminates every connection of the store (as a restart or a
/// failover would): calls fail closed or succeed on a fresh connection, the
/// pool heals by itself, and the `LISTEN` task reconnects and says `Resync`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_killed_by_the_server_heal() {
    let Some(admin_url) = env_url(POSTGRES_ENV) else {
        return;
    };
    let app = tessera_testkit::unique("tessera_fault");
    let Some(b) = Backend::with_options(Kind::Postgres, &[("application_name", &app)]) else {
        return;
    };
    let store = b.open().await;
    let other = b.open().await;
    let mut rx = store.subscribe();
    let t = base();
    store.revoke_jti("j-before", t + 1000).await.unwrap();
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {}

    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&app)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(
        killed.len() >= 2,
        "expected pool and listener connections, killed {}",
        killed.len()
    );

    // Calls right after either fail closed or already work; within a few
    // seconds they work.
    let start = Instant::now();
    loop {
        match store.is_jti_revoked("j-before", t).await {
            Ok(revoked) => {
                assert!(revoked);
                break;
            }
            Err(e) => {
                assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "no recovery: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert!(
        wait_for_event(&mut rx, Duration::from_secs(10), |e| *e
            == Invalidation::Resync)
        .await
        .is_some(),
        "no Resync after the listener connection was killed"
    );
    // The listener is back: another instance's revocation arrives in < 1 s.
    // (`other` lost its connections too; its first call may still fail
    // closed, and revoking again is harmless.)
    let deadline = Instant::now() + Duration::from_secs(10);
    let sent = loop {
        let sent = Instant::now();
        match other.revoke_jti("j-after", t + 1000).await {
            Ok(()) => break sent,
            Err(e) => {
                assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{e}");
                assert!(
                    Instant::now() < deadline,
                    "other instance did not recover: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let took = wait_for_event(
        &mut rx,
        Duration::from_secs(1),
        |e| matches!(e, Invalidation::Jti { jti, .. } if jti == "j-after"),
    )
    .await;
    assert!(
        took.is_some(),
        "no invalidation after the listener reconnected"
    );
    assert!(sent.elapsed() < Duration::from_secs(1));
    let _ = admin.close().await;
}
