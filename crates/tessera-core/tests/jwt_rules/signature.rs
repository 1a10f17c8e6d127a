//! §1: the signature.

use super::*;

#[test]
fn tampered_payload_is_bad_signature() {
    let t = token(H, OK_PAYLOAD);
    let forged = with_segment(&t, 1, |_| {
        b64url_encode(br#"{"sub":"admin","exp":1800000600}"#)
    });
    assert_eq!(hs_code(&forged), ErrorCode::BadSignature);
}

#[test]
fn short_hmac_secret_is_refused() {
    let err = VerifyingKey::hmac(Algorithm::HS256, b"secret").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Malformed);
}

/// Signatures are decoded on the stack up to 512 bytes and on the heap
/// beyond: both are decoded strictly and checked.
#[test]
fn long_signatures_are_decoded_and_checked() {
    let good = token(H, r#"{"sub":"a","exp":1800000100}"#);
    let input = good.rsplit_once('.').unwrap().0;
    for len in [509, 510, 511, 512, 513, 514, 1024, 1400, 4096] {
        let sig = b64url_encode(&vec![0x5a; len]);
        assert_eq!(
            hs_code(&format!("{input}.{sig}")),
            ErrorCode::BadSignature,
            "{len}"
        );
        // Not canonical base64url (unused bits set, or a bad character):
        // malformed on either side of the buffer size.
        let mut bad = sig.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = b'*';
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(
            hs_code(&format!("{input}.{bad}")),
            ErrorCode::Malformed,
            "{len}"
        );
    }
}
