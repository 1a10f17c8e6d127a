//! The reload logic on a real state (SQLite store in a temporary
//! directory), with a clock the test moves.

use super::*;
use crate::keys::ServerKeys;
use std::sync::atomic::{AtomicI64, Ordering};
use tessera_core::internal::nostr::{issue_nwt, nwt_authorization, NostrSecretKey, NwtClaims};
use tessera_core::{Algorithm, Clock, ErrorCode, SystemClock};
use tessera_session::tokens::{sign_access_token, AccessClaims};

struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl TestClock {
    fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }
}

const URL: &str = "http://tessera.test";

struct Rig {
    dir: PathBuf,
    clock: Arc<TestClock>,
    state: Arc<AppState>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn rig(name: &str, t0: i64) -> Rig {
    let dir = std::env::temp_dir().join(format!(
        "tessera-key-reload-{name}-{}-{t0}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let keys = ServerKeys::load_or_create(&dir, Algorithm::ES256, t0).expect("keys");
    let store = tessera_store::open(&format!("sqlite://{}/tessera.db", dir.display()))
        .await
        .expect("store");
    let config = Config {
        data_dir: dir.clone(),
        public_url: Some(URL.into()),
        key_publish_delay_seconds: 60,
        key_reload_interval_seconds: 10,
        ..Config::default()
    };
    let clock = Arc::new(TestClock(AtomicI64::new(t0)));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let state = Arc::new(AppState::with_clock(config, keys, store, dyn_clock));
    Rig { dir, clock, state }
}

/// An access token of this server signed by `key` (what another instance
/// signing with it makes).
fn token_by(key: &SigningKey, now: i64) -> String {
    sign_access_token(
        key,
        &AccessClaims {
            issuer: URL.into(),
            audience: URL.into(),
            subject: "ab".repeat(32),
            issued_at: now,
            expires_at: now + 600,
            jti: format!("jti-{now}"),
            sid: "sid".into(),
            amr: "nostr".into(),
            ver: 0,
        },
    )
    .expect("sign")
}

fn kid_of(token: &str) -> String {
    let head = token.split('.').next().expect("header");
    let bytes = tessera_core::internal::encoding::b64url_decode(head.as_bytes()).expect("b64");
    let o = tessera_core::internal::json::parse_object(&bytes).expect("json");
    o.get("kid")
        .and_then(|v| v.as_str())
        .expect("kid")
        .to_owned()
}

/// The kid this state's sessions sign with: a real NWT login.
async fn signing_kid(r: &Rig) -> String {
    let user = NostrSecretKey::generate();
    let claims = NwtClaims {
        aud: vec![URL.into()],
        ttl: Some(60),
        ..NwtClaims::default()
    };
    let now = r.clock.now();
    let nwt = issue_nwt(&user, &claims, "", now).expect("nwt");
    let pair = r
        .state
        .sessions
        .login_nostr(&nwt_authorization(&nwt), b"")
        .await
        .expect("login");
    kid_of(&pair.access_token)
}

fn published(r: &Rig) -> Vec<String> {
    KeyPlan::at(&r.state.keys(), &r.state.config, r.clock.now())
        .published
        .keys()
        .iter()
        .filter_map(|k| k.kid().map(str::to_owned))
        .collect()
}

/// What `tessera keys rotate` does on the shared directory at `now`:
/// returns the new signer.
fn rotate_on_disk(dir: &std::path::Path, now: i64) -> Arc<SigningKey> {
    let mut other = ServerKeys::load_or_create(dir, Algorithm::ES256, now).expect("keys");
    other.rotate(dir, Algorithm::ES256, now).expect("rotate");
    Arc::clone(other.current())
}

#[tokio::test]
async fn an_added_signer_is_verified_at_once_and_signed_with_only_after_the_delay() {
    let t0 = SystemClock.now();
    let r = rig("added", t0).await;
    // Start-up: the one signer of a fresh directory signs at once.
    let old = Arc::clone(r.state.keys().current());
    let old_kid = old.kid().expect("kid").to_owned();
    assert_eq!(signing_kid(&r).await, old_kid);
    let mut reloader = KeyReloader::new(&r.state);
    // The first read re-reads what start-up loaded: nothing changes, and
    // it is not counted as a reload.
    assert_eq!(
        reloader.tick(&r.state),
        Reload {
            file: FileOutcome::Loaded,
            changed: false
        }
    );
    let loaded = || {
        r.state
            .metrics
            .key_reloads
            .with_label_values(&["loaded"])
            .get()
    };
    assert_eq!(loaded(), 0);

    r.clock.set(t0 + 100);
    let new = rotate_on_disk(&r.dir, t0 + 100);
    let new_kid = new.kid().expect("kid").to_owned();
    let from_new = token_by(&new, t0 + 100);
    // Before the reload another instance's token of the new key is refused.
    let e = r
        .state
        .sessions
        .verify_access_signature(&from_new)
        .expect_err("unknown before the reload");
    assert_eq!(e.code(), ErrorCode::UnknownKey.as_str());

    let tick = reloader.tick(&r.state);
    assert_eq!(
        tick,
        Reload {
            file: FileOutcome::Loaded,
            changed: true
        }
    );
    assert_eq!(loaded(), 1);
    r.state
        .sessions
        .verify_access_signature(&from_new)
        .expect("the new key is verified once read");
    assert!(published(&r).contains(&new_kid), "published in the JWKS");
    assert!(published(&r).contains(&old_kid), "the old one too");
    // Published, not signed with: the delay has not passed.
    assert_eq!(signing_kid(&r).await, old_kid);
    r.clock.set(t0 + 159);
    assert_eq!(
        reloader.tick(&r.state),
        Reload {
            file: FileOutcome::Unchanged,
            changed: false
        }
    );
    assert_eq!(
        signing_kid(&r).await,
        old_kid,
        "one second before the delay"
    );
    // Once the delay has passed, the next tick switches the signer.
    r.clock.set(t0 + 160);
    assert!(reloader.tick(&r.state).changed);
    assert_eq!(signing_kid(&r).await, new_kid);
    // Tokens of the old key made before the switch still verify.
    r.state
        .sessions
        .verify_access_signature(&token_by(&old, t0 + 150))
        .expect("retired key's live token");
}

#[tokio::test]
async fn a_retired_signer_is_refused_after_its_tokens_are_dead_or_once_removed() {
    let t0 = SystemClock.now();
    let r = rig("retired", t0).await;
    let old = Arc::clone(r.state.keys().current());
    let old_kid = old.kid().expect("kid").to_owned();
    let mut reloader = KeyReloader::new(&r.state);
    rotate_on_disk(&r.dir, t0 + 10);
    r.clock.set(t0 + 10);
    reloader.tick(&r.state);
    // Retired at t0+10, signing until t0+70; its tokens live
    // access_ttl (900) + leeway (60) more.
    let dead_at = t0 + 10 + 60 + 900 + 60;
    r.clock.set(dead_at - 1);
    reloader.tick(&r.state);
    assert!(published(&r).contains(&old_kid));
    let late = token_by(&old, dead_at - 2);
    r.clock.set(dead_at);
    assert!(reloader.tick(&r.state).changed);
    assert!(!published(&r).contains(&old_kid), "dropped from the JWKS");
    let e = r
        .state
        .sessions
        .verify_access_signature(&late)
        .expect_err("retired");
    assert_eq!(e.code(), ErrorCode::UnknownKey.as_str());

    // A signer removed from the file is refused at the next read, whatever
    // its dates: the operator withdrew it.
    let r = rig("removed", t0).await;
    let mut reloader = KeyReloader::new(&r.state);
    let first = Arc::clone(r.state.keys().current());
    rotate_on_disk(&r.dir, t0 + 10);
    r.clock.set(t0 + 100);
    reloader.tick(&r.state);
    // The operator takes the first signer out of the file.
    let path = r.dir.join("keys").join("signers.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    doc["signers"].as_array_mut().expect("signers").remove(0);
    std::fs::write(&path, doc.to_string()).expect("write");
    let tick = reloader.tick(&r.state);
    assert_eq!(tick.file, FileOutcome::Loaded);
    let first_kid = first.kid().expect("kid").to_owned();
    assert!(!published(&r).contains(&first_kid));
    let e = r
        .state
        .sessions
        .verify_access_signature(&token_by(&first, t0 + 100))
        .expect_err("removed");
    assert_eq!(e.code(), ErrorCode::UnknownKey.as_str());
}

#[tokio::test]
async fn a_malformed_file_is_refused_without_key_material_and_the_keys_in_force_stay() {
    let t0 = SystemClock.now();
    let r = rig("malformed", t0).await;
    let mut reloader = KeyReloader::new(&r.state);
    let kid = signing_kid(&r).await;
    let path = r.dir.join("keys").join("signers.json");
    let good = std::fs::read(&path).expect("file");
    // A private scalar that must never be echoed.
    let secret = "c2VjcmV0LXNjYWxhci1uZXZlci1sb2dnZWQtMDEyMzQ1Njc4OQ";
    let bad_files: Vec<Vec<u8>> = vec![
        b"{\"signers\": [".to_vec(),
        b"{\"signers\": []}".to_vec(),
        format!("{{\"signers\":[{{\"jwk\":{{\"kty\":\"EC\",\"crv\":\"P-256\",\"d\":\"{secret}\"}},\"created_at\":1}}]}}").into_bytes(),
        vec![0xff, 0xfe, 0x00],
    ];
    for (i, bytes) in bad_files.iter().enumerate() {
        std::fs::write(&path, bytes).expect("write");
        let before = r
            .state
            .metrics
            .key_reloads
            .with_label_values(&["refused"])
            .get();
        assert_eq!(
            reloader.tick(&r.state),
            Reload {
                file: FileOutcome::Refused,
                changed: false
            },
            "file {i}"
        );
        assert_eq!(
            r.state
                .metrics
                .key_reloads
                .with_label_values(&["refused"])
                .get(),
            before + 1
        );
        assert_eq!(r.state.metrics.key_file_refused.get(), 1);
        let why = parse_signers_file(bytes).expect_err("refused");
        assert!(!why.contains(secret), "{why}");
        assert_eq!(signing_kid(&r).await, kid, "the keys in force stay");
        // The same bad file is not counted again at every tick.
        assert_eq!(reloader.tick(&r.state).file, FileOutcome::Unchanged);
    }
    assert!(!r.state.metrics.render().contains(secret));
    // A file past 1 MiB is not read to its end: refused, keys stay.
    let mut huge = good.clone();
    huge.resize(1024 * 1024 + 1, b' ');
    std::fs::write(&path, &huge).expect("write");
    assert_eq!(reloader.tick(&r.state).file, FileOutcome::Refused);
    assert_eq!(signing_kid(&r).await, kid);
    // A missing file: refused, keys stay.
    std::fs::remove_file(&path).expect("rm");
    assert_eq!(reloader.tick(&r.state).file, FileOutcome::Refused);
    assert_eq!(signing_kid(&r).await, kid);
    // The good file back: loaded, the gauge clears.
    std::fs::write(&path, &good).expect("write");
    assert_eq!(reloader.tick(&r.state).file, FileOutcome::Loaded);
    assert_eq!(r.state.metrics.key_file_refused.get(), 0);
}

#[test]
fn key_reload_settings_are_checked_and_printed() {
    let c = Config::default();
    assert_eq!(
        (c.key_publish_delay_seconds, c.key_reload_interval_seconds),
        (60, 10)
    );
    let text = c.to_masked_toml();
    assert!(text.contains("key_publish_delay_seconds = 60"), "{text}");
    assert!(text.contains("key_reload_interval_seconds = 10"), "{text}");
    let mut c = Config::default();
    c.apply_env(
        [
            ("TESSERA_KEY_PUBLISH_DELAY_SECONDS", "0"),
            ("TESSERA_KEY_RELOAD_INTERVAL_SECONDS", "2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap();
    assert_eq!(
        (c.key_publish_delay_seconds, c.key_reload_interval_seconds),
        (0, 2)
    );
    c.validate().unwrap();
    for (delay, interval, names) in [
        (60, 0, "key_reload_interval_seconds must be 1 to 3600"),
        (60, 3601, "key_reload_interval_seconds must be 1 to 3600"),
        (-1, 10, "key_publish_delay_seconds (-1)"),
        (
            5,
            10,
            "key_publish_delay_seconds (5) must be 0 (one instance) or at least",
        ),
    ] {
        let c = Config {
            key_publish_delay_seconds: delay,
            key_reload_interval_seconds: interval,
            ..Config::default()
        };
        let e = c.validate().unwrap_err();
        assert!(e.0.contains(names), "{e}");
    }
}
