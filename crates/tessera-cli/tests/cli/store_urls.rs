//! Store passwords are masked wherever they are printed.

use super::*;

/// A password in a store URL, in the userinfo or as `?password=`, never
/// shows: not in `--print-config`, not in the start-up log line, not in the
/// error of a store that cannot be opened (issue 17, item 6; one masking
/// function, `tessera_store::mask_url`, serves all three).
#[test]
fn store_passwords_are_masked_wherever_printed() {
    let dir = TempDir::new("mask");
    let data = dir.path("data");
    let secret_url = "postgres://app:hunter2@127.0.0.1:1/db?sslmode=disable&password=hunter3";
    let out = run(&["serve", "--print-config", "--store", secret_url]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("postgres://app:***@127.0.0.1:1/db?sslmode=disable&password=***"),
        "{text}"
    );
    assert!(!text.contains("hunter"), "{text}");

    // A store that cannot be reached: the error names the masked URL only.
    let out = run(&[
        "serve",
        "--data-dir",
        &data,
        "--listen",
        "127.0.0.1:0",
        "--store",
        secret_url,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("password=***"), "{stderr}");
    assert!(!stderr.contains("hunter") && !String::from_utf8_lossy(&out.stdout).contains("hunter"));

    // The start-up line of a server that runs (Redis ignores the parameter;
    // the test's own key prefix keeps the shared Redis clean).
    let Ok(redis) = std::env::var("TESSERA_TEST_REDIS_URL") else {
        eprintln!("TESSERA_TEST_REDIS_URL unset: start-up line not checked");
        assert!(
            std::env::var("CI").is_err(),
            "CI must check the start-up line"
        );
        return;
    };
    let sep = if redis.contains('?') { '&' } else { '?' };
    let prefix = format!("mask{}", std::process::id());
    let url = format!("{redis}{sep}prefix={prefix}&password=hunter4");
    let mut child = tessera()
        .args([
            "serve",
            "--data-dir",
            &data,
            "--listen",
            "127.0.0.1:0",
            "--store",
            &url,
        ])
        .env("TESSERA_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let listening = loop {
        match rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(line) if line.contains("tessera listening") => break line,
            Ok(line) => seen.push(line),
            Err(_) => break String::new(),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(!listening.is_empty(), "no start-up line; saw {seen:?}");
    assert!(listening.contains("password=***"), "{listening}");
    assert!(!listening.contains("hunter4"), "{listening}");
    // `--listen 127.0.0.1:0`: the public URL names the port the server got.
    assert!(
        listening.contains("public_url=http://127.0.0.1:") && !listening.contains("127.0.0.1:0 "),
        "{listening}"
    );
    assert!(seen.iter().all(|l| !l.contains("hunter4")));
}
