//! One-shot runs of the `tessera` binary. Only the tessera-cli crate's tests
//! know where Cargo put it: they pass [`tessera_bin!`](crate::tessera_bin).

use std::process::{Command, Output};

/// The path of the `tessera` binary, for tests of the tessera-cli crate
/// (Cargo sets `CARGO_BIN_EXE_tessera` for those only).
#[macro_export]
macro_rules! tessera_bin {
    () => {
        env!("CARGO_BIN_EXE_tessera")
    };
}

/// `bin ARGS`, run to completion.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .expect("run the tessera binary")
}

/// `bin ARGS`, which must succeed; its stdout.
pub fn run_ok(bin: &str, args: &[&str]) -> String {
    let out = run(bin, args);
    assert!(
        out.status.success(),
        "tessera {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// A `Command` for `bin` with no `TESSERA_*` variable from the
/// environment: only what the test sets configures it.
pub fn clean_command(bin: &str) -> Command {
    let mut cmd = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TESSERA_") {
            cmd.env_remove(name);
        }
    }
    cmd
}
