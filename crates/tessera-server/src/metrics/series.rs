//! The metric groups that register and set several series together: remote
//! key sets, the revocation feed, the verified-credential caches and the
//! store's per-operation latency.

use prometheus::{
    GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use super::{
    unreachable_float_gauge_vec, unreachable_gauge, unreachable_histogram, unreachable_int_gauge,
    unreachable_metric,
};

/// The `tessera_jwks_*` series.
#[derive(Clone)]
pub(super) struct JwksMetrics {
    age: GaugeVec,
    stale: IntGaugeVec,
    keys: IntGaugeVec,
    fetches: IntCounterVec,
}

impl JwksMetrics {
    pub(super) fn register(registry: &Registry) -> JwksMetrics {
        let gauge = |name: &str, help: &str| {
            IntGaugeVec::new(Opts::new(name, help), &["issuer"])
                .unwrap_or_else(|_| unreachable_gauge())
        };
        let age = GaugeVec::new(
            Opts::new(
                "tessera_jwks_age_seconds",
                "Seconds since the issuer's key set was last fetched successfully (absent before the first success)",
            ),
            &["issuer"],
        )
        .unwrap_or_else(|_| unreachable_float_gauge_vec());
        let stale = gauge(
            "tessera_jwks_stale",
            "1 while the issuer's key set is past its lifetime because refreshes fail (the last good set is still used)",
        );
        let keys = gauge("tessera_jwks_keys", "Keys in the issuer's current key set");
        let fetches = IntCounterVec::new(
            Opts::new(
                "tessera_jwks_fetches_total",
                "Fetch attempts of the issuer's key set (discovery included)",
            ),
            &["issuer"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(age.clone()));
        let _ = registry.register(Box::new(stale.clone()));
        let _ = registry.register(Box::new(keys.clone()));
        let _ = registry.register(Box::new(fetches.clone()));
        JwksMetrics {
            age,
            stale,
            keys,
            fetches,
        }
    }

    pub(super) fn set(&self, sets: &[(&str, tessera_jwks::JwksState)]) {
        for (issuer, state) in sets {
            if let Some(age) = state.age {
                self.age.with_label_values(&[issuer]).set(age.as_secs_f64());
            }
            self.stale
                .with_label_values(&[issuer])
                .set(i64::from(state.stale));
            self.keys
                .with_label_values(&[issuer])
                .set(i64::try_from(state.keys).unwrap_or(i64::MAX));
            let counter = self.fetches.with_label_values(&[issuer]);
            counter.inc_by(state.fetches.saturating_sub(counter.get()));
        }
    }
}

/// The `tessera_revocation_*` feed series.
#[derive(Clone)]
pub(super) struct FeedMetrics {
    fresh: IntGauge,
    /// No labels; a vector so that the series is absent until set.
    lag: IntGaugeVec,
    resyncs: prometheus::IntCounter,
}

impl FeedMetrics {
    pub(super) fn register(registry: &Registry) -> FeedMetrics {
        let fresh = IntGauge::new(
            "tessera_revocation_fresh",
            "1 while the revocation picture follows the store's feed (checks answered in memory), 0 while it is stale (checks go to the store, or fail closed)",
        )
        .unwrap_or_else(|_| unreachable_int_gauge());
        let lag = IntGaugeVec::new(
            Opts::new(
                "tessera_revocation_feed_lag_seconds",
                "For the last logout-all event applied: whole seconds from when it was written to this instance applying it (absent until one is seen)",
            ),
            &[],
        )
        .unwrap_or_else(|_| unreachable_gauge());
        let resyncs = prometheus::IntCounter::new(
            "tessera_revocation_resyncs_total",
            "Times the store's feed lost events and the revocation picture had to be reloaded",
        )
        .unwrap_or_else(|_| std::process::abort());
        let _ = registry.register(Box::new(fresh.clone()));
        let _ = registry.register(Box::new(lag.clone()));
        let _ = registry.register(Box::new(resyncs.clone()));
        FeedMetrics {
            fresh,
            lag,
            resyncs,
        }
    }

    pub(super) fn set(&self, health: tessera_session::revocation::FeedHealth) {
        self.fresh.set(i64::from(health.fresh));
        if let Some(lag) = health.lag_seconds {
            self.lag.with_label_values(&[] as &[&str]).set(lag);
        }
        self.resyncs
            .inc_by(health.resyncs.saturating_sub(self.resyncs.get()));
    }
}

/// The `tessera_verify_cache_*` series.
#[derive(Clone)]
pub(super) struct CacheMetrics {
    entries: IntGaugeVec,
    bytes: IntGaugeVec,
    hits: IntCounterVec,
    misses: IntCounterVec,
    /// The counts read at the last scrape, by cache: a cache replaced by a
    /// new one (key change) counts from zero again, and the counters add
    /// what is new either way.
    last: LastCounts,
}

/// Hits and misses read at the last scrape, by cache name.
type LastCounts = std::sync::Arc<std::sync::Mutex<Vec<(&'static str, u64, u64)>>>;

impl CacheMetrics {
    pub(super) fn register(registry: &Registry) -> CacheMetrics {
        let gauge = |name: &str, help: &str| {
            IntGaugeVec::new(Opts::new(name, help), &["cache"])
                .unwrap_or_else(|_| unreachable_gauge())
        };
        let counter = |name: &str, help: &str| {
            IntCounterVec::new(Opts::new(name, help), &["cache"])
                .unwrap_or_else(|_| unreachable_metric())
        };
        let entries = gauge(
            "tessera_verify_cache_entries",
            "Entries of a verified-credential cache (access_token, nostr)",
        );
        let bytes = gauge(
            "tessera_verify_cache_bytes",
            "Bytes a verified-credential cache accounts for (what its entries hold on the heap)",
        );
        let hits = counter(
            "tessera_verify_cache_hits_total",
            "Lookups that found the credential in a verified-credential cache",
        );
        let misses = counter(
            "tessera_verify_cache_misses_total",
            "Lookups that did not find the credential in a verified-credential cache",
        );
        let _ = registry.register(Box::new(entries.clone()));
        let _ = registry.register(Box::new(bytes.clone()));
        let _ = registry.register(Box::new(hits.clone()));
        let _ = registry.register(Box::new(misses.clone()));
        CacheMetrics {
            entries,
            bytes,
            hits,
            misses,
            last: std::sync::Arc::default(),
        }
    }

    pub(super) fn set(
        &self,
        caches: &[(
            &'static str,
            Option<tessera_core::internal::cache::CacheStats>,
        )],
    ) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        for (name, stats) in caches {
            let Some(stats) = stats else { continue };
            let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            self.entries
                .with_label_values(&[name])
                .set(as_i64(stats.entries));
            self.bytes
                .with_label_values(&[name])
                .set(as_i64(stats.bytes));
            let (hits, misses) = match last.iter_mut().find(|(n, _, _)| n == name) {
                Some(slot) => {
                    let new = |now: u64, before: u64| {
                        if now >= before {
                            now - before
                        } else {
                            now
                        }
                    };
                    let added = (new(stats.hits, slot.1), new(stats.misses, slot.2));
                    (slot.1, slot.2) = (stats.hits, stats.misses);
                    added
                }
                None => {
                    last.push((name, stats.hits, stats.misses));
                    (stats.hits, stats.misses)
                }
            };
            self.hits.with_label_values(&[name]).inc_by(hits);
            self.misses.with_label_values(&[name]).inc_by(misses);
        }
    }
}

/// `tessera_store_operation_seconds{operation,answered}`: each call of the
/// store, from the store's own timer (`tessera_store::LatencyObserver`).
/// `operation` is a `Store` method's name (a fixed set), `answered` is
/// `false` when the call failed as unavailable (refused, timed out).
#[derive(Clone)]
pub(super) struct StoreLatency {
    seconds: HistogramVec,
}

impl StoreLatency {
    pub(super) fn register(registry: &Registry) -> StoreLatency {
        let seconds = HistogramVec::new(
            HistogramOpts::new(
                "tessera_store_operation_seconds",
                "Time of one store call by operation (the Store method) and whether the store answered (false: refused or timed out)",
            )
            // Up to the store's 5 s operation timeout.
            .buckets(vec![
                1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["operation", "answered"],
        )
        .unwrap_or_else(|_| unreachable_histogram());
        let _ = registry.register(Box::new(seconds.clone()));
        StoreLatency { seconds }
    }

    pub(super) fn observe(&self, operation: &str, seconds: f64, answered: bool) {
        let answered = if answered { "true" } else { "false" };
        self.seconds
            .with_label_values(&[operation, answered])
            .observe(seconds);
    }
}
