//! Cross-instance revocation within one second (PostgreSQL and Redis).

use super::*;

/// Two instances (two pools, two `Sessions`) on one shared store: a
/// revocation on one takes effect on the other within 1 s. SQLite is the
/// single-instance embedded default (its feed is in-process only), so this
/// runs on PostgreSQL and Redis.
async fn cross_instance(kind: Kind) {
    let Some(b) = Backend::new(kind) else { return };
    let signer = Arc::new(SigningKey::generate(Algorithm::ES256).expect("keygen"));
    let server = NostrSecretKey::generate();
    let clock = Arc::new(TestClock(AtomicI64::new(base())));
    let one = rig_on(
        b.open().await,
        Arc::clone(&clock),
        Arc::clone(&signer),
        NostrSecretKey::from_bytes(server.to_bytes()).expect("key"),
    );
    let two = rig_on(b.open().await, Arc::clone(&clock), signer, server);
    let wallet = EthereumSecretKey::generate();
    for what in ["jti", "session", "subject"] {
        let pair = siwe_login(&one, &wallet).await;
        // Instance two has checked it (its picture is loaded and fresh).
        two.sessions
            .check_access(&pair.access_token)
            .await
            .expect("valid on two");
        let start = Instant::now();
        match what {
            "jti" => assert_eq!(
                one.sessions
                    .revoke(&pair.access_token, None)
                    .await
                    .expect("r"),
                Revocation::AccessToken
            ),
            "session" => one
                .sessions
                .logout_access(&pair.access_token)
                .await
                .expect("logout"),
            _ => {
                one.sessions
                    .logout_all(&pair.subject)
                    .await
                    .expect("logout-all");
            }
        }
        let took = loop {
            match two.sessions.check_access(&pair.access_token).await {
                Err(e) if e.code() == "revoked" => break start.elapsed(),
                Ok(_) if start.elapsed() < Duration::from_secs(3) => {
                    tokio::time::sleep(Duration::from_millis(5)).await
                }
                other => panic!(
                    "{what}: instance two still answers {other:?} after {:?}",
                    start.elapsed()
                ),
            }
        };
        eprintln!("{kind:?}: {what} revocation seen by the other instance after {took:?}");
        assert!(took < Duration::from_secs(1), "{what}: {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_instance_revocation_within_one_second_postgres() {
    cross_instance(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_instance_revocation_within_one_second_redis() {
    cross_instance(Kind::Redis).await;
}
