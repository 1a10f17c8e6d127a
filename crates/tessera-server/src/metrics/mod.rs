//! Prometheus metrics (contracts.md, "Metrics").

mod series;

use series::{CacheMetrics, FeedMetrics, JwksMetrics, StoreLatency};

use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// The server's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `tessera_verifications_total{format,result,code}`
    pub verifications: IntCounterVec,
    /// `tessera_logins_total{method,result}`
    pub logins: IntCounterVec,
    /// `tessera_refresh_total{result}` (results include `reuse_detected`)
    pub refreshes: IntCounterVec,
    /// `tessera_verify_duration_seconds{format}`
    pub verify_duration: HistogramVec,
    /// `tessera_http_requests_total{route,status}`
    pub http_requests: IntCounterVec,
    /// `tessera_jwks_age_seconds{issuer}`, `tessera_jwks_stale{issuer}`,
    /// `tessera_jwks_keys{issuer}`, `tessera_jwks_fetches_total{issuer}`:
    /// each remote key set of an `[[issuer]]`, set at each scrape
    /// ([`Metrics::set_remote_key_sets`]).
    jwks: JwksMetrics,
    /// `tessera_http_request_duration_seconds{route}`: from the request
    /// reaching its route to the answer (body read and handler).
    pub http_duration: HistogramVec,
    /// `tessera_revocation_entries{kind}`: the in-process revocation
    /// picture, set at each scrape ([`Metrics::set_revocation_entries`]).
    pub revocation_entries: IntGaugeVec,
    /// `tessera_store_up`: 1 when the store answered the ping of the last
    /// scrape, else 0 ([`Metrics::record_store_ping`]).
    pub store_up: IntGauge,
    /// `tessera_store_ping_seconds`: how long that ping took (to its
    /// answer, its failure or its timeout).
    pub store_ping_seconds: Gauge,
    /// `tessera_key_reloads_total{result}`: changes of `keys/signers.json`
    /// read while running, `loaded` or `refused` (unreadable or malformed).
    pub key_reloads: IntCounterVec,
    /// `tessera_key_file_refused`: 1 while `keys/signers.json` is refused
    /// (the signers read before stay in force).
    pub key_file_refused: IntGauge,
    /// `tessera_rate_limited_total{route}`: requests refused with 429 by
    /// the per-client limiter ([`Metrics::rate_limited`]).
    rate_limited: IntCounterVec,
    /// `tessera_revocation_fresh`, `tessera_revocation_feed_lag_seconds`,
    /// `tessera_revocation_resyncs_total`: how the revocation picture
    /// follows the store's feed, set at each scrape.
    feed: FeedMetrics,
    /// `tessera_verify_cache_{entries,bytes,hits_total,misses_total}{cache}`:
    /// the verified-credential caches, set at each scrape.
    caches: CacheMetrics,
    /// `tessera_store_operation_seconds{operation,answered}`: fed by the
    /// store itself once [`Metrics`] is registered as its
    /// `tessera_store::LatencyObserver`.
    store_latency: StoreLatency,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let verifications = IntCounterVec::new(
            Opts::new(
                "tessera_verifications_total",
                "Credential verifications by format, result and error code",
            ),
            &["format", "result", "code"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let logins = IntCounterVec::new(
            Opts::new("tessera_logins_total", "Logins by method and result"),
            &["method", "result"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let refreshes = IntCounterVec::new(
            Opts::new("tessera_refresh_total", "Refresh-token rotations by result"),
            &["result"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let verify_duration = HistogramVec::new(
            HistogramOpts::new(
                "tessera_verify_duration_seconds",
                "Time to verify one credential",
            )
            .buckets(vec![
                1e-6, 5e-6, 2e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 2.5e-2, 0.1,
            ]),
            &["format"],
        )
        .unwrap_or_else(|_| unreachable_histogram());
        let http_requests = IntCounterVec::new(
            Opts::new(
                "tessera_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "status"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "tessera_http_request_duration_seconds",
                "Time from a request reaching its route to its answer, by route",
            )
            .buckets(vec![
                5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 0.5, 2.5,
            ]),
            &["route"],
        )
        .unwrap_or_else(|_| unreachable_histogram());
        for c in [&verifications, &logins, &refreshes, &http_requests] {
            let _ = registry.register(Box::new(c.clone()));
        }
        let _ = registry.register(Box::new(verify_duration.clone()));
        let _ = registry.register(Box::new(http_duration.clone()));
        let revocation_entries = IntGaugeVec::new(
            Opts::new(
                "tessera_revocation_entries",
                "Entries of the in-process revocation picture: kind=jti (revoked access tokens and NWTs not expired yet), family (ended sessions whose access tokens may still be alive), subject (subjects that logged out everywhere)",
            ),
            &["kind"],
        )
        .unwrap_or_else(|_| unreachable_gauge());
        let _ = registry.register(Box::new(revocation_entries.clone()));
        let store_up = IntGauge::new(
            "tessera_store_up",
            "1 when the store answered the ping made at the last scrape of /metrics, else 0",
        )
        .unwrap_or_else(|_| unreachable_int_gauge());
        let store_ping_seconds = Gauge::new(
            "tessera_store_ping_seconds",
            "Seconds the store ping made at the last scrape of /metrics took (to its answer, failure or timeout)",
        )
        .unwrap_or_else(|_| unreachable_float_gauge());
        let _ = registry.register(Box::new(store_up.clone()));
        let _ = registry.register(Box::new(store_ping_seconds.clone()));
        let key_reloads = IntCounterVec::new(
            Opts::new(
                "tessera_key_reloads_total",
                "Changes of keys/signers.json read while running, by result (loaded, refused)",
            ),
            &["result"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(key_reloads.clone()));
        let key_file_refused = IntGauge::new(
            "tessera_key_file_refused",
            "1 while keys/signers.json cannot be read or parsed (the signers read before stay in force)",
        )
        .unwrap_or_else(|_| unreachable_int_gauge());
        let _ = registry.register(Box::new(key_file_refused.clone()));
        let jwks = JwksMetrics::register(&registry);
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "tessera_rate_limited_total",
                "Requests refused with 429 by the per-client rate limiter, by route",
            ),
            &["route"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(rate_limited.clone()));
        let feed = FeedMetrics::register(&registry);
        let caches = CacheMetrics::register(&registry);
        let store_latency = StoreLatency::register(&registry);
        let build_info = IntGaugeVec::new(
            Opts::new(
                "tessera_build_info",
                "1, labelled with the version of the running tessera",
            ),
            &["version"],
        )
        .unwrap_or_else(|_| unreachable_gauge());
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let _ = registry.register(Box::new(build_info));
        // CPU seconds, resident and virtual memory, open and most
        // descriptors, start time and threads of this process (the
        // prometheus crate's own collector, from /proc).
        #[cfg(target_os = "linux")]
        let _ = registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ));
        Metrics {
            registry,
            verifications,
            logins,
            refreshes,
            verify_duration,
            http_requests,
            http_duration,
            revocation_entries,
            store_up,
            store_ping_seconds,
            key_reloads,
            key_file_refused,
            jwks,
            rate_limited,
            feed,
            caches,
            store_latency,
        }
    }

    /// Counts one request refused by the rate limiter's `bucket`
    /// (`challenge`, `login`, `refresh`, `revoke`), labelled with its route
    /// template.
    pub fn rate_limited(&self, bucket: &'static str) {
        let route = match bucket {
            "challenge" => "/v1/auth/challenge",
            "login" => "/v1/auth/login",
            "refresh" => "/v1/auth/refresh",
            "revoke" => "/v1/oauth/revoke",
            other => other,
        };
        self.rate_limited.with_label_values(&[route]).inc();
    }

    /// Sets the `tessera_revocation_*` feed series.
    pub fn set_revocation_feed(&self, health: tessera_session::revocation::FeedHealth) {
        self.feed.set(health);
    }

    /// Sets the `tessera_verify_cache_*` series from each cache's counts.
    pub fn set_verify_caches(
        &self,
        caches: &[(
            &'static str,
            Option<tessera_core::internal::cache::CacheStats>,
        )],
    ) {
        self.caches.set(caches);
    }

    /// Sets the `tessera_jwks_*` series from each remote key set's state.
    pub fn set_remote_key_sets(&self, sets: &[(&str, tessera_jwks::JwksState)]) {
        self.jwks.set(sets);
    }

    /// Counts one answered request: `route` is a documented route template
    /// or `unmatched` (never a client's path: the label set stays bounded).
    pub fn http_request(&self, route: &str, status: axum::http::StatusCode, seconds: f64) {
        self.http_requests
            .with_label_values(&[route, status.as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[route])
            .observe(seconds);
    }

    /// Sets `tessera_store_up` and `tessera_store_ping_seconds` from one
    /// ping of the store.
    pub fn record_store_ping(&self, answered: bool, seconds: f64) {
        self.store_up.set(i64::from(answered));
        self.store_ping_seconds.set(seconds);
    }

    /// Sets `tessera_revocation_entries` from the picture's sizes.
    pub fn set_revocation_entries(&self, entries: tessera_session::revocation::RevocationEntries) {
        for (kind, n) in [
            ("jti", entries.jtis),
            ("family", entries.families),
            ("subject", entries.subjects),
        ] {
            self.revocation_entries
                .with_label_values(&[kind])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// Records one verification.
    pub fn verification(
        &self,
        format: &str,
        result: Result<(), tessera_core::ErrorCode>,
        seconds: f64,
    ) {
        let (res, code) = match result {
            Ok(()) => ("valid", ""),
            Err(c) => ("invalid", c.as_str()),
        };
        self.verifications
            .with_label_values(&[format, res, code])
            .inc();
        self.verify_duration
            .with_label_values(&[format])
            .observe(seconds);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Each store call's latency: the server registers its [`Metrics`] with
/// the store it is built over (`AppState::with_clock`).
impl tessera_store::LatencyObserver for Metrics {
    fn observe(&self, operation: &'static str, elapsed: std::time::Duration, answered: bool) {
        self.store_latency
            .observe(operation, elapsed.as_secs_f64(), answered);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

// Metric construction only fails for invalid names or labels, which are
// constants above; these fallbacks keep the server up if that ever changes.
#[cold]
fn unreachable_metric() -> IntCounterVec {
    IntCounterVec::new(
        Opts::new("tessera_invalid_metric", "invalid metric definition"),
        &["x"],
    )
    .unwrap_or_else(|_| std::process::abort())
}

#[cold]
fn unreachable_gauge() -> IntGaugeVec {
    IntGaugeVec::new(
        Opts::new("tessera_invalid_gauge", "invalid gauge definition"),
        &["x"],
    )
    .unwrap_or_else(|_| std::process::abort())
}

#[cold]
fn unreachable_int_gauge() -> IntGauge {
    IntGauge::new("tessera_invalid_int_gauge", "invalid gauge definition")
        .unwrap_or_else(|_| std::process::abort())
}

#[cold]
fn unreachable_float_gauge() -> Gauge {
    Gauge::new("tessera_invalid_float_gauge", "invalid gauge definition")
        .unwrap_or_else(|_| std::process::abort())
}

#[cold]
fn unreachable_float_gauge_vec() -> GaugeVec {
    GaugeVec::new(
        Opts::new(
            "tessera_invalid_float_gauge_vec",
            "invalid gauge definition",
        ),
        &["x"],
    )
    .unwrap_or_else(|_| std::process::abort())
}

#[cold]
fn unreachable_histogram() -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new("tessera_invalid_histogram", "invalid histogram"),
        &["x"],
    )
    .unwrap_or_else(|_| std::process::abort())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_ping_sets_up_and_its_duration() {
        let m = Metrics::new();
        m.record_store_ping(true, 0.002);
        let text = m.render();
        assert!(text.contains("tessera_store_up 1\n"), "{text}");
        assert!(
            text.contains("tessera_store_ping_seconds 0.002\n"),
            "{text}"
        );
        m.record_store_ping(false, 2.0);
        let text = m.render();
        assert!(text.contains("tessera_store_up 0\n"), "{text}");
        assert!(text.contains("tessera_store_ping_seconds 2\n"), "{text}");
    }

    #[test]
    fn store_calls_are_a_histogram_by_operation_and_answer() {
        use tessera_store::LatencyObserver;
        let m = Metrics::new();
        m.observe("rotate_refresh", std::time::Duration::from_millis(3), true);
        m.observe("ping", std::time::Duration::from_secs(5), false);
        let text = m.render();
        for line in [
            "tessera_store_operation_seconds_count{answered=\"true\",operation=\"rotate_refresh\"} 1",
            "tessera_store_operation_seconds_bucket{answered=\"true\",operation=\"rotate_refresh\",le=\"0.005\"} 1",
            "tessera_store_operation_seconds_bucket{answered=\"true\",operation=\"rotate_refresh\",le=\"0.0025\"} 0",
            "tessera_store_operation_seconds_count{answered=\"false\",operation=\"ping\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }
}
