//! One process per SQLite store: a second `tessera serve` on one data
//! directory is refused.

use super::*;

/// Issue 17, finding 7: two processes on one SQLite data directory did not
/// share revocations. The second `tessera serve` on the directory now
/// exits non-zero, pointing to PostgreSQL or Redis; the first keeps
/// serving; after the first dies (SIGKILL: no clean-up), a new one starts.
/// Also finding 14: the database is created 0600 in a directory that
/// existed before.
#[test]
fn second_server_on_one_sqlite_data_dir_is_refused() {
    let _serial = serial();
    let started = Instant::now();
    let dir = TempDir::new("faults-two-servers");
    let data = dir.root().join("data");
    std::fs::create_dir_all(&data).expect("data directory");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let mut first = serve(dir.root(), None);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("tessera.db"))
            .expect("tessera.db")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "tessera.db is {mode:o}");
    }
    let addr: SocketAddr = ([127, 0, 0, 1], tessera_testkit::free_port()).into();
    let mut cmd = tessera_testkit::cli::clean_command(tessera_bin!());
    cmd.arg("serve")
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut second = cmd.spawn().expect("start a second tessera serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second server on one SQLite data directory kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut e) = second.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(!status.success(), "the second server exited with {status}");
    assert!(
        stderr.contains("PostgreSQL or Redis") && stderr.contains(&data.display().to_string()),
        "{stderr}"
    );
    assert_eq!(
        status_of(addr, "/healthz"),
        None,
        "the second one never listened"
    );
    assert_eq!(status_of(first.addr, "/healthz"), Some(200));
    // SIGKILL leaves no stale lock: a new server starts on the directory.
    first.kill();
    let restart = Instant::now();
    first.spawn();
    assert_eq!(status_of(first.addr, "/readyz"), Some(200));
    report(&format!(
        "FAULT two-servers: second_exit={} message_names_postgres_redis=true \
         restart_after_sigkill_ms={} db_mode=0600 runtime_s={:.1}",
        status.code().unwrap_or(-1),
        restart.elapsed().as_millis(),
        started.elapsed().as_secs_f64()
    ));
}
