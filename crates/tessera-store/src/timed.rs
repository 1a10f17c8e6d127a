//! The one time limit of every store call, and where its latency goes.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::StoreError;

/// Receives how long each call of a [`crate::Store`] took (see
/// [`crate::Store::observe_latency`]): e.g. a histogram per operation in
/// the server's metrics.
pub trait LatencyObserver: Send + Sync {
    /// `operation` is the [`crate::Store`] method's name
    /// (`rotate_refresh`, `is_jti_revoked`, ...); `elapsed` runs to its
    /// answer, failure or timeout; `answered` is `false` when the call
    /// failed as [`crate::StoreErrorKind::Unavailable`] (refused, timed
    /// out), `true` for any answer, a refusal such as a conflict included.
    fn observe(&self, operation: &'static str, elapsed: Duration, answered: bool);
}

/// Runs `fut` within [`crate::OPERATION_TIMEOUT`]; past it the call fails
/// with [`crate::StoreErrorKind::Unavailable`].
pub(crate) async fn limit<T>(
    fut: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(crate::OPERATION_TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| Err(StoreError::timeout()))
}

/// Each store's timing of its calls: the time limit, and the observer
/// registered for it, if any.
#[derive(Default)]
pub(crate) struct Timer {
    observer: OnceLock<Arc<dyn LatencyObserver>>,
}

impl Timer {
    /// Registers the observer; `false` when one is registered already
    /// (that one stays).
    pub(crate) fn observe(&self, observer: Arc<dyn LatencyObserver>) -> bool {
        self.observer.set(observer).is_ok()
    }

    /// Runs one store operation (`op`: the [`crate::Store`] method's name)
    /// under [`limit`], and reports its latency to the observer.
    pub(crate) async fn timed<T>(
        &self,
        op: &'static str,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let Some(observer) = self.observer.get() else {
            return limit(fut).await;
        };
        let start = Instant::now();
        let result = limit(fut).await;
        let answered = result
            .as_ref()
            .map_or_else(|e| !e.is_unavailable(), |_| true);
        observer.observe(op, start.elapsed(), answered);
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Seen(Mutex<Vec<(&'static str, bool)>>);

    impl LatencyObserver for Seen {
        fn observe(&self, operation: &'static str, elapsed: Duration, answered: bool) {
            assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((operation, answered));
        }
    }

    #[tokio::test]
    async fn each_call_is_reported_once_by_operation_and_answer() {
        let timer = Timer::default();
        // Nothing registered: nothing to report to, the call still runs.
        assert_eq!(timer.timed("ping", async { Ok(1) }).await.ok(), Some(1));
        let seen = Arc::new(Seen::default());
        assert!(timer.observe(seen.clone()));
        assert!(
            !timer.observe(Arc::new(Seen::default())),
            "a second observer"
        );
        assert!(timer.timed("ping", async { Ok(()) }).await.is_ok());
        let down = timer
            .timed::<()>("is_jti_revoked", async {
                Err(StoreError::unavailable("down"))
            })
            .await;
        assert!(down.is_err_and(|e| e.is_unavailable()));
        let conflict = timer
            .timed::<()>("create_family", async {
                Err(StoreError::conflict("exists"))
            })
            .await;
        assert!(conflict.is_err());
        assert_eq!(
            *seen.0.lock().unwrap_or_else(|p| p.into_inner()),
            [
                ("ping", true),
                ("is_jti_revoked", false),
                ("create_family", true)
            ]
        );
    }
}
