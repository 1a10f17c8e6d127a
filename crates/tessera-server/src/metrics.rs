//! Prometheus metrics (contracts.md, "Metrics").

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
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
    /// `tessera_revocation_entries{kind}`: the in-process revocation
    /// picture, set at each scrape ([`Metrics::set_revocation_entries`]).
    pub revocation_entries: IntGaugeVec,
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
        for c in [&verifications, &logins, &refreshes, &http_requests] {
            let _ = registry.register(Box::new(c.clone()));
        }
        let _ = registry.register(Box::new(verify_duration.clone()));
        let revocation_entries = IntGaugeVec::new(
            Opts::new(
                "tessera_revocation_entries",
                "Entries of the in-process revocation picture: kind=jti (revoked access tokens and NWTs not expired yet), family (ended sessions whose access tokens may still be alive), subject (subjects that logged out everywhere)",
            ),
            &["kind"],
        )
        .unwrap_or_else(|_| unreachable_gauge());
        let _ = registry.register(Box::new(revocation_entries.clone()));
        Metrics {
            registry,
            verifications,
            logins,
            refreshes,
            verify_duration,
            http_requests,
            revocation_entries,
        }
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
fn unreachable_histogram() -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new("tessera_invalid_histogram", "invalid histogram"),
        &["x"],
    )
    .unwrap_or_else(|_| std::process::abort())
}
