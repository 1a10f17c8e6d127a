//! Common rules: no panic on untrusted input (property test).

use super::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[test]
fn arbitrary_input_never_panics() {
    let keys = hs256_set();
    let good = token(H, r#"{"sub":"alice","exp":1800000600}"#);
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..64),
        any::<prop::sample::Index>(),
        0usize..4,
    );
    runner
        .run(&strategy, |(text, noise, at, mode)| {
            let candidate = match mode {
                0 => text,
                // Splice arbitrary bytes into a valid token.
                1 => {
                    let mut bytes = good.as_bytes().to_vec();
                    let i = at.index(bytes.len() + 1);
                    bytes.splice(i..i, noise);
                    String::from_utf8_lossy(&bytes).into_owned()
                }
                // Arbitrary segments, each valid base64url of random bytes.
                2 => format!(
                    "{}.{}.{}",
                    b64url_encode(text.as_bytes()),
                    b64url_encode(&noise),
                    b64url_encode(&noise)
                ),
                // A real header with an arbitrary payload.
                _ => format!(
                    "{}.{}.{}",
                    good.split('.').next().unwrap(),
                    b64url_encode(text.as_bytes()),
                    b64url_encode(&noise)
                ),
            };
            let result = jwt::verify(&candidate, &keys, &Policy::default(), NOW);
            prop_assert!(result.is_err() || candidate == good);
            Ok(())
        })
        .unwrap();
}
