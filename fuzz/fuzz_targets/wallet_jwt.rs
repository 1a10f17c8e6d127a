//! thirdweb-format wallet JWTs and Portal wallet JWTs.
//!
//! Input: a mode byte, a flags byte, then
//! - mode 0: a thirdweb token, verified as received;
//! - mode 1: a thirdweb payload; the target signs it as its admin (EIP-191
//!   over the exact payload bytes, base64url or standard base64 signature
//!   text) so the claim rules behind the signature are reached;
//! - mode 2: a Portal token, verified as received against the trusted keys;
//! - mode 3: a Portal payload, signed by the target's Nostr key (ES256K,
//!   even-Y secret) and verified.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::internal::encoding::{b64std_encode, b64url_encode, hex_encode};
use tessera_core::internal::ethereum::thirdweb::THIRDWEB_HEADER;
use tessera_core::Address;
use tessera_core::internal::ethereum::{eip191, verify_thirdweb, ThirdwebPayload};
use tessera_core::internal::jws::secp::es256k_sign;
use tessera_core::internal::nostr::portal::PORTAL_HEADER;
use tessera_core::internal::nostr::{verify_portal, PortalClaims};
use tessera_core::{ErrorCode, Format, Policy};
use tessera_fuzz::{check_code, eth_secret, nostr_secret, nostr_trusted, Reader, NOW};

fn policy(flags: u8) -> Policy {
    let mut p = Policy::default();
    if flags & 1 != 0 {
        p.audiences = vec!["example.com".into(), nostr_trusted()[1].to_hex()];
    }
    if flags & 2 != 0 {
        p.require_exp = false;
    }
    if flags & 4 != 0 {
        p.issuer = Some(eth_secret().address().to_checksum().to_lowercase());
    }
    if flags & 8 != 0 {
        p.leeway = 0;
    }
    p
}

fn now(flags: u8) -> i64 {
    // thirdweb's own test token is valid at 100.
    if flags & 16 != 0 {
        100
    } else {
        NOW
    }
}

fn thirdweb(token: &str, flags: u8) {
    let admins = [
        eth_secret().address(),
        Address::parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").expect("address"),
    ];
    let p = policy(flags);
    let t = now(flags);
    match verify_thirdweb(token, &admins, &p, t) {
        Ok(id) => {
            assert_eq!(id.format, Format::Thirdweb);
            if p.audiences.is_empty() {
                // RFC 7519 §4.1.3: no expected audience, no audience named.
                assert!(id.audience.is_empty(), "unexpected audience accepted");
            }
            let iss = id.issuer.as_deref().expect("issuer");
            assert!(admins.iter().any(|a| a.to_checksum() == iss));
            match id.expires_at {
                Some(exp) => assert!(t < exp.saturating_add(p.leeway)),
                None => assert!(!p.require_exp),
            }
        }
        Err(e) => check_code(e.code()),
    }
}

fn portal(token: &str, flags: u8) {
    let p = policy(flags);
    for key in nostr_trusted() {
        match verify_portal(token, key, &p, NOW) {
            Ok(id) => {
                assert_eq!(id.format, Format::Portal);
                assert_eq!(id.subject, key.to_hex());
                assert_eq!(id.audience.len(), 1);
            }
            Err(e) => check_code(e.code()),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let mode = r.byte();
    let flags = r.byte();
    let rest = r.rest();
    match mode % 4 {
        0 | 2 => {
            let Ok(token) = std::str::from_utf8(rest) else {
                return;
            };
            if mode % 4 == 0 {
                thirdweb(token, flags);
            } else {
                portal(token, flags);
            }
        }
        1 => {
            match ThirdwebPayload::parse(rest) {
                Ok(_) => {}
                Err(e) => check_code(e.code()),
            }
            let sig = eip191::sign(eth_secret(), rest);
            let text = format!("0x{}", hex_encode(&sig));
            let sig_segment = if flags & 32 == 0 {
                b64url_encode(text.as_bytes())
            } else {
                b64std_encode(text.as_bytes())
            };
            let token = format!("{THIRDWEB_HEADER}.{}.{sig_segment}", b64url_encode(rest));
            thirdweb(&token, flags);
        }
        _ => {
            match PortalClaims::parse(rest) {
                Ok(c) => assert_eq!(c.target_key.to_hex().len(), 64),
                Err(e) => check_code(e.code()),
            }
            let input = format!("{PORTAL_HEADER}.{}", b64url_encode(rest));
            let sig = es256k_sign(&nostr_secret().even_y_secret(), input.as_bytes());
            let token = format!("{input}.{}", b64url_encode(&sig));
            portal(&token, flags);
            // The same token fails for every other key.
            let other = &nostr_trusted()[1];
            let e = verify_portal(&token, other, &policy(flags), NOW)
                .expect_err("a Portal JWT verified under another key");
            assert!(
                matches!(e.code(), ErrorCode::BadSignature | ErrorCode::TokenTooLarge),
                "{:?}",
                e.code()
            );
        }
    }
});
