//! tessera's HTTP API as the tests drive it: SIWE challenges and logins
//! against any server (in-process or the binary).

use crate::fixtures::siwe_body;
use crate::http::{post_json, Resp, Target};
use serde_json::{json, Value};
use tessera_core::internal::ethereum::EthereumSecretKey;

/// A SIWE challenge for `wallet`: the server's ready message and its nonce.
pub fn siwe_challenge(to: impl Target, wallet: &EthereumSecretKey) -> Value {
    let address = wallet.address().to_checksum();
    let ch = post_json(to, "/v1/auth/challenge", &json!({"address": address}), &[]);
    assert_eq!(ch.status, 200, "{:?}", ch);
    ch.json()
}

/// A SIWE login with the server's own message and `extra` body members.
pub fn siwe_login(to: impl Target + Copy, wallet: &EthereumSecretKey, extra: Value) -> Resp {
    siwe_login_with(to, wallet, extra, &[])
}

/// A SIWE login with the server's own message, `extra` body members and
/// extra request headers.
pub fn siwe_login_with(
    to: impl Target + Copy,
    wallet: &EthereumSecretKey,
    extra: Value,
    headers: &[(&str, &str)],
) -> Resp {
    let ch = siwe_challenge(to, wallet);
    let message = ch["message"].as_str().expect("message").to_owned();
    post_json(
        to,
        "/v1/auth/login",
        &siwe_body(wallet, &message, extra),
        headers,
    )
}

/// Sleeps into the next second of the clock (the server's is the same).
pub fn next_second() {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_millis())
        .unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_millis(u64::from(1_050 - ms)));
}
