//! `Authorization` header values through the one entry point,
//! `Verifier::verify_authorization`, with fixed keys (JWT key set, trusted
//! Nostr keys, a thirdweb admin) and a fixed NIP-98 request.
//!
//! Input: a format-hint byte, a flags byte (clock, audience policy, trusted
//! Nostr keys or none, bare tokens allowed, request given), then the value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use tessera_core::CacheConfig;
use tessera_core::Address;
use tessera_core::HttpRequest;
use tessera_core::{FixedClock, Format, FormatHint, Policy, Verifier};
use tessera_fuzz::{check_code, eth_secret, key_set, nostr_trusted, Reader, NOW};

/// Instants to evaluate at: the fuzz NOW (the Portal vector is valid), the
/// thirdweb vector's clock, the NWT vectors' era, and the epoch.
const CLOCKS: [i64; 4] = [NOW, 100, 1_700_000_000, 0];

const HINTS: [FormatHint; 6] = [
    FormatHint::Auto,
    FormatHint::Jwt,
    FormatHint::Portal,
    FormatHint::Thirdweb,
    FormatHint::Nwt,
    FormatHint::Nip98,
];

const REQUEST: HttpRequest<'static> = HttpRequest {
    url: "https://api.example/v1/auth/login",
    method: "POST",
    body: Some(b"{\"cookie\":true}"),
};

fn verifiers() -> &'static [Verifier] {
    static V: OnceLock<Vec<Verifier>> = OnceLock::new();
    V.get_or_init(|| {
        let admin = Address::parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").expect("address");
        (0..16)
            .map(|i| {
                let mut policy = Policy::default();
                if i & 4 != 0 {
                    policy.audiences = vec!["example.com".into(), "https://api.example".into()];
                }
                let v = Verifier::new(policy, key_set().clone())
                    .with_clock(Arc::new(FixedClock(CLOCKS[i & 3])))
                    .with_eth_admins(vec![admin, eth_secret().address()]);
                let v = if i & 8 == 0 {
                    v.with_nostr_keys(nostr_trusted().to_vec())
                } else {
                    v
                };
                v.with_cache(CacheConfig {
                    max_entries: 8,
                    max_bytes: 64 * 1024,
                })
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let hint = HINTS[usize::from(r.byte() % 6)];
    let flags = r.byte();
    let Ok(value) = std::str::from_utf8(r.rest()) else {
        return;
    };
    let v = &verifiers()[usize::from(flags & 15)];
    let allow_bare = flags & 16 != 0;
    let request = (flags & 32 == 0).then_some(&REQUEST);
    {
        // Twice: the second call may be answered by the cache, and must say
        // the same.
        let first = v.verify_authorization(value, request, hint, allow_bare);
        let second = v.verify_authorization(value, request, hint, allow_bare);
        match (&first, &second) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "cached answer differs"),
            (Err(a), Err(b)) => {
                check_code(a.code());
                assert_eq!(a.code(), b.code(), "second answer differs");
            }
            _ => panic!("the second verification disagrees with the first"),
        }
        if let Ok(id) = first {
            let expected = match hint {
                FormatHint::Jwt => Some(Format::Jwt),
                FormatHint::Portal => Some(Format::Portal),
                FormatHint::Thirdweb => Some(Format::Thirdweb),
                FormatHint::Nwt => Some(Format::Nwt),
                FormatHint::Nip98 => Some(Format::Nip98),
                FormatHint::Auto => None,
            };
            if let Some(f) = expected {
                assert_eq!(id.format, f, "a credential verified as another format");
            }
            let policy = v.policy();
            if let Some(exp) = id.expires_at {
                if id.format != Format::Nip98 {
                    assert!(
                        v.now() < exp.saturating_add(policy.leeway),
                        "expired accepted"
                    );
                }
            }
        }
    }
});
