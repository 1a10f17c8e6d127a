//! Inputs the fuzz targets (`fuzz/`) found crashing, fed exactly as found,
//! with the error code each must now produce. Each test names the target and
//! the minimised input kept in `fuzz/corpus/<target>/regression-*`.

use tessera_core::internal::encoding::b64url_encode;
use tessera_core::{jwt, Algorithm, ErrorCode, FormatHint, Policy, Verifier};
use tessera_core::{KeySet, SigningKey, VerifyingKey};

const NOW: i64 = 1_795_390_000;

/// `b64(header).b64(payload).b64(sig)` over exactly these bytes.
fn token(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64url_encode(header), b64url_encode(payload));
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64url_encode(&sig))
}

fn at_jwt_policy() -> Policy {
    Policy {
        required_typ: Some("at+jwt".into()),
        ..Policy::default()
    }
}

/// fuzz target `jwt`, `fuzz/corpus/jwt/regression-typ-char-boundary`: a
/// `typ` whose 12th byte falls inside a multi-byte character
/// (`"applicationΞ"`) made the `application/` prefix check slice a `str`
/// off a character boundary and panic. The check runs before the
/// signature, so any unauthenticated token could trigger it wherever a
/// `typ` is required (tessera's own access tokens).
#[test]
fn typ_with_multibyte_char_at_the_prefix_boundary() {
    // The minimised input's header, byte for byte; its payload was empty.
    let header = "{\"alg\":\"ES256\",\"typ\":\"application\u{39e}\"}";
    assert_eq!(header.as_bytes()[33..35], [0xce, 0x9e]);
    let es256 = SigningKey::generate(Algorithm::ES256).unwrap();
    let t = token(&es256, header.as_bytes(), b"");
    let keys = KeySet::single(es256.verifying_key().unwrap());
    let e = jwt::verify(&t, &keys, &at_jwt_policy(), NOW).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClaim);

    // The same through the one entry point, with a valid signature and
    // claims: only the `typ` is wrong.
    let hs = SigningKey::hmac(Algorithm::HS256, &[7; 32]).unwrap();
    let keys = KeySet::single(VerifyingKey::hmac(Algorithm::HS256, &[7; 32]).unwrap());
    let v = Verifier::new(at_jwt_policy(), keys)
        .with_clock(std::sync::Arc::new(tessera_core::FixedClock(NOW)));
    for typ in [
        "application\u{39e}",
        "applicatio\u{39e}t+jwt",
        "\u{39e}\u{39e}\u{39e}\u{39e}\u{39e}\u{39e}x",
    ] {
        let header = format!("{{\"alg\":\"HS256\",\"typ\":\"{typ}\"}}");
        let t = token(
            &hs,
            header.as_bytes(),
            b"{\"sub\":\"a\",\"exp\":1795393600}",
        );
        let e = v
            .verify_authorization(&format!("Bearer {t}"), None, FormatHint::Jwt, false)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidClaim, "{typ}");
    }
    // The prefix rule still holds for ASCII.
    let t = token(
        &hs,
        b"{\"alg\":\"HS256\",\"typ\":\"Application/AT+JWT\"}",
        b"{\"sub\":\"a\",\"exp\":1795393600}",
    );
    v.verify_authorization(&format!("Bearer {t}"), None, FormatHint::Jwt, false)
        .unwrap();
}
