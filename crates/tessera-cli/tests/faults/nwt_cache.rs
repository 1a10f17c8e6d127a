//! The verified-NWT cache within its byte bound under maximal NWTs.

use super::*;

/// Bytes the server's verified-credential caches may hold in this test.
const NWT_CACHE_BOUND: usize = 8 * 1024 * 1024;
/// Maximal NWTs sent.
const MAXIMAL_NWTS: u64 = 2_000;

/// An NWT as large as the server takes (the `Authorization` value just
/// under 8 KiB) with as many tags and values as an NWT may carry
/// (`MAX_NWT_TAGS`, `MAX_NWT_TAG_VALUES`): the most claim objects per
/// credential that get into the cache.
fn maximal_nwt(key: &NostrSecretKey, url: &str, n: u64) -> String {
    use tessera_core::internal::nostr::{Event, MAX_NWT_TAGS, MAX_NWT_TAG_VALUES, NWT_KIND};
    let now = SystemClock.now();
    let mut tags = vec![
        vec!["aud".to_owned(), url.to_owned()],
        vec!["exp".to_owned(), (now + 600).to_string()],
    ];
    let per_tag = (MAX_NWT_TAG_VALUES - 2) / (MAX_NWT_TAGS - 2);
    for t in 0..MAX_NWT_TAGS - 2 {
        let mut tag = vec![format!("c{t}")];
        tag.extend((0..per_tag).map(|v| format!("{n:08}-{t:03}-{v:03}")));
        tags.push(tag);
    }
    let event = Event::sign(key, now, NWT_KIND, tags, "").expect("sign an NWT");
    tessera_core::internal::nostr::nwt_authorization(&event)
}

/// Issue 17, finding 3: 2 000 valid NWTs with 430 one-letter tags each made
/// the NWT cache hold about seven times the bytes it counted (96 MiB of RSS
/// for 13.9 MiB counted). Now an NWT carries at most `MAX_NWT_TAGS` tags
/// and an entry is costed by what it holds: 2 000 maximal NWTs through
/// `/v1/verify`, with the caches bounded to 8 MiB, grow the server's peak
/// RSS by less than 1.5 times that bound.
#[test]
fn nwt_cache_stays_within_its_bound() {
    let _serial = serial();
    let started = Instant::now();
    let dir = TempDir::new("faults-nwt-cache");
    let bound = NWT_CACHE_BOUND.to_string();
    let server = serve_with(
        dir.root(),
        None,
        &[("TESSERA_VERIFY_CACHE_BYTES", bound.as_str())],
    );
    // The attack's shape is refused before anything is cached.
    let key = NostrSecretKey::generate();
    let attack = {
        let now = SystemClock.now();
        let mut tags = vec![
            vec!["aud".to_owned(), server.url.clone()],
            vec!["exp".to_owned(), (now + 600).to_string()],
        ];
        tags.extend(
            (0..430).map(|i| vec![format!("{}", (b'a' + (i % 26) as u8) as char), "x".into()]),
        );
        let event =
            tessera_core::internal::nostr::Event::sign(&key, now, 27519, tags, "").expect("sign");
        tessera_core::internal::nostr::nwt_authorization(&event)
    };
    let refused = client(server.addr)
        .get("/v1/verify", &[("Authorization", &attack)])
        .expect("answer");
    assert_eq!(
        (refused.status, refused.error()),
        (401, "token_too_large".to_owned())
    );
    // Warm up the allocator and the runtime's threads with requests that
    // are not cached, then measure.
    {
        let c = client(server.addr);
        for _ in 0..200 {
            let _ = c.get("/v1/verify", &[("Authorization", &attack)]);
        }
    }
    let (hwm_before, rss_before) = server.memory_kib();
    let largest = maximal_nwt(&key, &server.url, 0).len();
    assert!(largest < 8 * 1024, "{largest} bytes");
    let deadline = Instant::now() + Duration::from_secs(120);
    let per_thread = MAXIMAL_NWTS / THREADS as u64;
    let handles: Vec<_> = (0..THREADS as u64)
        .map(|id| {
            let (addr, url) = (server.addr, server.url.clone());
            std::thread::spawn(move || {
                let key = NostrSecretKey::generate();
                let c = client(addr);
                let mut counts = std::collections::BTreeMap::<u16, u64>::new();
                for i in 0..per_thread {
                    if Instant::now() > deadline {
                        break;
                    }
                    let auth = maximal_nwt(&key, &url, id * per_thread + i);
                    let status = c
                        .get("/v1/verify", &[("Authorization", &auth)])
                        .map_or(0, |a| a.status);
                    *counts.entry(status).or_default() += 1;
                }
                counts
            })
        })
        .collect();
    let mut counts = std::collections::BTreeMap::<u16, u64>::new();
    for h in handles {
        for (k, v) in h.join().expect("NWT thread panicked") {
            *counts.entry(k).or_default() += v;
        }
    }
    let (hwm_after, rss_after) = server.memory_kib();
    let growth = hwm_after.saturating_sub(hwm_before);
    let bound_kib = (NWT_CACHE_BOUND / 1024) as u64;
    let limit_kib = bound_kib * 3 / 2;
    let ok = counts.get(&200).copied().unwrap_or(0);
    report(&format!(
        "LOAD nwt-cache: nwts={MAXIMAL_NWTS} nwt_bytes={largest} answered_200={ok} \
         statuses={counts:?} cache_bound_kib={bound_kib} peak_rss_kib_before={hwm_before} \
         peak_rss_kib_after={hwm_after} growth_kib={growth} (bound {limit_kib}) \
         rss_kib_before={rss_before} rss_kib_after={rss_after} runtime_s={:.1}",
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(ok, MAXIMAL_NWTS, "every maximal NWT verifies: {counts:?}");
    assert!(
        growth < limit_kib,
        "peak RSS grew by {growth} KiB for {MAXIMAL_NWTS} cached NWTs; the caches are bounded to {bound_kib} KiB (limit 1.5x: {limit_kib} KiB)"
    );
}
