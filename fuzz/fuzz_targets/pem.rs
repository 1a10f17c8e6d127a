//! PEM parsing: blocks, public keys (SPKI, PKCS#1, certificates) and
//! private keys (PKCS#8, SEC1, PKCS#1).
//!
//! Input: a selector byte (pinned algorithm), then the PEM text.
//! Properties: blocks written back with `to_pem` parse to the same blocks;
//! no block decodes to more bytes than its text holds; a parsed private key
//! signs and its public half verifies; a parsed key's own PEM reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::{SigningKey, VerifyingKey};
use tessera_core::internal::keys::{parse_pem, to_pem};
use tessera_core::Algorithm;
use tessera_fuzz::{assert_b64_len, check_code, Reader};

const ALGS: [&str; 8] = [
    "RS256", "PS384", "ES256", "ES384", "ES512", "ES256K", "EdDSA", "HS256",
];

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let sel = r.byte();
    let Ok(text) = std::str::from_utf8(r.rest()) else {
        return;
    };
    let pin = if sel & 8 == 0 {
        None
    } else {
        Algorithm::from_name(ALGS[usize::from(sel & 7)])
    };
    match parse_pem(text) {
        Ok(blocks) => {
            let total: usize = blocks.iter().map(|b| b.der.len()).sum();
            assert_b64_len(text.len(), total);
            let rewritten: String = blocks.iter().map(|b| to_pem(&b.label, &b.der)).collect();
            let again = parse_pem(&rewritten).expect("own PEM output refused");
            assert_eq!(again, blocks);
        }
        Err(e) => check_code(e.code()),
    }
    match VerifyingKey::from_pem(text, pin) {
        Ok(k) => {
            if let Some(p) = pin {
                assert_eq!(k.algorithm(), p, "the pinned algorithm was not kept");
            }
            assert!(!k.is_secret(), "a PEM yielded a secret key");
        }
        Err(e) => check_code(e.code()),
    }
    match SigningKey::from_pem(text, pin) {
        Ok(k) => {
            let public = k.verifying_key().expect("public half");
            let sig = k.sign(b"tessera fuzz").expect("signing");
            public
                .verify(b"tessera fuzz", &sig)
                .expect("own signature does not verify");
            if let Ok(pem) = k.to_pkcs8_pem() {
                let again = SigningKey::from_pem(&pem, Some(k.algorithm()))
                    .unwrap_or_else(|e| panic!("own PKCS#8 PEM refused: {e:?}"));
                assert_eq!(again.algorithm(), k.algorithm());
            }
            if let Ok(pem) = k.to_public_pem() {
                let again = VerifyingKey::from_pem(&pem, Some(k.algorithm()))
                    .unwrap_or_else(|e| panic!("own public PEM refused: {e:?}"));
                assert_eq!(again.thumbprint(), public.thumbprint());
            }
        }
        Err(e) => check_code(e.code()),
    }
});
