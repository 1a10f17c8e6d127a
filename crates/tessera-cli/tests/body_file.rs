//! `--body-file` (NIP-98 payload) is bounded by its own 16 MiB limit, not by
//! the 256 KiB bound on key files, and its refusal names a body file.

use tessera_testkit::{tessera_bin, TempDir};

fn run(args: &[&str]) -> std::process::Output {
    tessera_testkit::cli::run(tessera_bin!(), args)
}

const URL: &str = "https://api.example/v1/upload";

#[test]
fn a_body_larger_than_a_key_file_is_hashed_and_one_over_16_mib_is_refused() {
    let dir = TempDir::new("body-file");
    let key = dir.path("user.key");
    assert!(run(&["keygen", "--alg", "nostr", "--out", &key])
        .status
        .success());

    // 300 KiB: over the key-file bound, well under the body bound.
    let body = dir.path("body.bin");
    std::fs::write(&body, vec![b'x'; 300 * 1024]).unwrap();
    let issued = run(&[
        "issue",
        "--format",
        "nip98",
        "--key",
        &key,
        "--url",
        URL,
        "--method",
        "POST",
        "--body-file",
        &body,
    ]);
    assert_eq!(
        issued.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let event = String::from_utf8(issued.stdout).unwrap().trim().to_owned();
    let ok = run(&[
        "verify",
        "--url",
        URL,
        "--method",
        "POST",
        "--body-file",
        &body,
        &event,
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );

    // One byte over 16 MiB: a usage error (exit 2) that names the body file.
    let huge = dir.path("huge.bin");
    std::fs::write(&huge, vec![0u8; 16 * 1024 * 1024 + 1]).unwrap();
    for args in [
        vec![
            "issue",
            "--format",
            "nip98",
            "--key",
            &key,
            "--url",
            URL,
            "--method",
            "POST",
            "--body-file",
            &huge,
        ],
        vec![
            "verify",
            "--url",
            URL,
            "--method",
            "POST",
            "--body-file",
            &huge,
            &event,
        ],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("body file") && stderr.contains("16384 KiB"),
            "{stderr}"
        );
        assert!(!stderr.contains("really a key"), "{stderr}");
    }
}
