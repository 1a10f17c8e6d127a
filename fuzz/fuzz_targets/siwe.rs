//! Sign-In with Ethereum (EIP-4361) message parsing and verification.
//!
//! Input: a mode byte, then
//! - mode 0: the message text;
//! - mode 1: a signature piece (`0x` + hex, as a wallet sends it), then the
//!   message text, verified with the message's own domain and nonce;
//! - mode 2: the message text with its address line replaced by the
//!   target's own address, then signed by the target and verified (the
//!   time rules and the success path are reached);
//! - mode 3: an RFC 3339 timestamp.
//!
//! Properties: a parsed message writes back byte for byte (the module
//! promises it); an accepted signature recovers the message's address;
//! verification answers by the message's times.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cmp::Ordering;
use tessera_core::internal::ethereum::eip191;
use tessera_core::internal::ethereum::siwe::{sign, verify_siwe_message};
use tessera_core::internal::ethereum::{Rfc3339Time, SiweExpectations, SiweMessage};
use tessera_core::ErrorCode;
use tessera_fuzz::{check_code, eth_secret, Reader, NOW};

fn parse(text: &str) -> Option<SiweMessage> {
    match SiweMessage::parse(text) {
        Ok(m) => {
            assert_eq!(m.to_string(), text, "a parsed message does not write back");
            assert_eq!(text.parse::<SiweMessage>().ok().as_ref(), Some(&m));
            let _ = m.to_claims();
            Some(m)
        }
        Err(e) => {
            check_code(e.code());
            None
        }
    }
}

fn expected_time_error(m: &SiweMessage, now: i64) -> Option<ErrorCode> {
    if m.expiration_time()
        .is_some_and(|t| t.cmp_unix(now) != Ordering::Greater)
    {
        return Some(ErrorCode::Expired);
    }
    if m.not_before()
        .is_some_and(|t| t.cmp_unix(now) == Ordering::Greater)
    {
        return Some(ErrorCode::NotYetValid);
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let mode = r.byte() % 4;
    match mode {
        0 => {
            if let Ok(text) = std::str::from_utf8(r.rest()) {
                parse(text);
            }
        }
        1 => {
            let sig = String::from_utf8_lossy(r.piece()).into_owned();
            let Ok(text) = std::str::from_utf8(r.rest()) else {
                return;
            };
            let Some(m) = parse(text) else { return };
            let exp = SiweExpectations::new(m.domain(), m.nonce(), NOW);
            match verify_siwe_message(text, &sig, &exp) {
                Ok(id) => {
                    assert_eq!(id.subject, m.address().to_checksum());
                    assert_eq!(expected_time_error(&m, NOW), None);
                }
                Err(e) => check_code(e.code()),
            }
            let wrong = SiweExpectations::new("other.example", m.nonce(), NOW);
            if m.domain() != "other.example" {
                let e = verify_siwe_message(text, &sig, &wrong).expect_err("wrong domain");
                // The signature text is read before anything is compared.
                let want = if eip191::parse_signature_hex(&sig).is_ok() {
                    ErrorCode::DomainMismatch
                } else {
                    ErrorCode::Malformed
                };
                assert_eq!(e.code(), want);
            }
        }
        2 => {
            let Ok(text) = std::str::from_utf8(r.rest()) else {
                return;
            };
            let own = eth_secret().address().to_checksum();
            let mut lines: Vec<&str> = text.split('\n').collect();
            if lines.len() < 2 {
                return;
            }
            lines[1] = own.as_str();
            let text = lines.join("\n");
            let Some(m) = parse(&text) else { return };
            let sig = sign(&m, eth_secret());
            for now in [NOW, m.issued_at().unix_seconds()] {
                let exp = SiweExpectations::new(m.domain(), m.nonce(), now);
                let result = m.verify(&sig, &exp);
                match expected_time_error(&m, now) {
                    None => {
                        let id = result.expect("own signature refused");
                        assert_eq!(id.subject, own);
                        assert_eq!(id.audience, vec![m.domain().to_owned()]);
                    }
                    Some(code) => assert_eq!(result.expect_err("time").code(), code),
                }
                let bad_nonce = SiweExpectations::new(m.domain(), "not-a-nonce", now);
                assert_eq!(
                    m.verify(&sig, &bad_nonce).expect_err("nonce").code(),
                    ErrorCode::NonceMismatch
                );
            }
        }
        _ => {
            let Ok(text) = std::str::from_utf8(r.rest()) else {
                return;
            };
            match Rfc3339Time::parse(text) {
                Ok(t) => {
                    assert_eq!(t.as_str(), text);
                    assert!(t.nanos() < 1_000_000_000);
                    if let Ok(u) = Rfc3339Time::from_unix(t.unix_seconds()) {
                        let back = Rfc3339Time::parse(u.as_str()).expect("own text refused");
                        assert_eq!(back.unix_seconds(), t.unix_seconds());
                    }
                }
                Err(e) => check_code(e.code()),
            }
        }
    }
});
