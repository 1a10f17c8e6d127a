//! Durability on SQLite: a write acknowledged by a process survives that
//! process being killed with SIGKILL right after the acknowledgement.
//!
//! The parent test re-runs this very test binary as a child, selecting the
//! child role (`durability_child`) with an environment variable. The child
//! revokes a family, bumps a token version and revokes a `jti`, prints
//! `ACK` once the calls have returned, and then waits to be killed. The
//! parent kills it with SIGKILL as soon as it reads `ACK` and reopens the
//! database.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tessera_store::{NewRefreshToken, RefreshFamily};
use tessera_testkit::store::hash;
use tessera_testkit::unique;

const CHILD_ENV: &str = "TESSERA_STORE_DURABILITY_CHILD";
const ROUNDS: u64 = 3;
const NOW: i64 = 2_000_000_000;

/// Child role; does nothing (and passes) in a normal test run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let Some((url, round)) = spec.rsplit_once('#') else {
        panic!("bad {CHILD_ENV}: {spec}");
    };
    let store = tessera_store::open(url).await.expect("child: open");
    assert!(store
        .revoke_family(&format!("fam-{round}"), NOW)
        .await
        .expect("child: revoke family"));
    let version = store
        .bump_token_version("alice", 0)
        .await
        .expect("child: bump");
    store
        .revoke_jti(&format!("jti-{round}"), NOW + 1000)
        .await
        .expect("child: revoke jti");
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ACK {version}");
        let _ = out.flush();
    }
    // Wait to be killed (never exit on our own before the parent acts).
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = std::env::temp_dir().join(unique("tessera-durability"));
    let url = format!("sqlite://{}/tessera.db", dir.display());
    let exe = std::env::current_exe().expect("current_exe");

    for round in 1..=ROUNDS {
        {
            let store = tessera_store::open(&url).await.expect("open");
            let fam = RefreshFamily {
                id: format!("fam-{round}"),
                subject: "alice".into(),
                amr: "siwe".into(),
                created_at: NOW,
                expires_at: NOW + 1000,
                revoked: false,
                token_version: 0,
            };
            let tok = NewRefreshToken {
                hash: hash(round),
                expires_at: NOW + 1000,
            };
            store
                .create_family(&fam, &tok)
                .await
                .expect("create family");
        }

        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "durability_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, format!("{url}#{round}"))
            .stdout(Stdio::piped())
            // A failing child shows its panic in this test's output.
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("child stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may have printed `test durability_child ... `
                // on the same line.
                if let Some(at) = line.find("ACK ") {
                    let _ = tx.send(line[at..].to_string());
                    break;
                }
            }
        });
        let ack = rx.recv_timeout(Duration::from_secs(30));
        // SIGKILL the moment the acknowledgement is read.
        let _ = child.kill();
        let _ = child.wait();
        let ack = ack.expect("child never acknowledged");
        assert_eq!(ack, format!("ACK {round}"), "round {round}");

        let store = tessera_store::open(&url).await.expect("reopen");
        let fam = store
            .family(&format!("fam-{round}"))
            .await
            .expect("read family")
            .expect("family exists");
        assert!(fam.revoked, "round {round}: revocation lost");
        assert_eq!(store.token_version("alice").await.expect("version"), round);
        assert!(store
            .is_jti_revoked(&format!("jti-{round}"), NOW)
            .await
            .expect("jti"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
