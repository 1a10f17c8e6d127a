//! The one error type of every store operation.

use std::fmt;

/// Why a store operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The backend cannot be reached or did not answer in time (connection
    /// refused, timeout, closed pool, server shutting down). Callers fail
    /// closed (HTTP 503); the store reconnects by itself.
    Unavailable,
    /// The write collides with existing data (family id or refresh-token
    /// hash already stored). Nothing was written.
    Conflict,
    /// Stored data does not have the expected shape.
    Corrupt,
    /// The store URL or its options are invalid, or the backend refused the
    /// credentials.
    Config,
    /// An argument cannot be stored (empty id, number out of range).
    InvalidInput,
}

impl StoreErrorKind {
    /// Stable snake_case name, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreErrorKind::Unavailable => "unavailable",
            StoreErrorKind::Conflict => "conflict",
            StoreErrorKind::Corrupt => "corrupt",
            StoreErrorKind::Config => "config",
            StoreErrorKind::InvalidInput => "invalid_input",
        }
    }
}

/// A failed store operation. Its text never contains a password from the
/// store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
}

impl StoreError {
    /// A new error of `kind`.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        StoreError {
            kind,
            message: message.into(),
        }
    }

    /// Why it failed.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The detail, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether callers should answer 503 and retry later.
    pub fn is_unavailable(&self) -> bool {
        self.kind == StoreErrorKind::Unavailable
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        StoreError::new(StoreErrorKind::Unavailable, message)
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Self {
        StoreError::new(StoreErrorKind::Corrupt, message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        StoreError::new(StoreErrorKind::Config, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        StoreError::new(StoreErrorKind::Conflict, message)
    }

    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        StoreError::new(StoreErrorKind::InvalidInput, message)
    }

    pub(crate) fn timeout() -> Self {
        StoreError::unavailable(format!(
            "no answer within {} s",
            crate::OPERATION_TIMEOUT.as_secs()
        ))
    }

    /// Replaces every occurrence of `secret` in the message with `***`.
    pub(crate) fn scrub_secret(mut self, secret: Option<String>) -> Self {
        if let Some(secret) = secret.filter(|s| !s.is_empty()) {
            if self.message.contains(&secret) {
                self.message = self.message.replace(&secret, "***");
            }
        }
        self
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            StoreErrorKind::Unavailable => "store unavailable",
            StoreErrorKind::Conflict => "store conflict",
            StoreErrorKind::Corrupt => "store data corrupt",
            StoreErrorKind::Config => "store configuration",
            StoreErrorKind::InvalidInput => "invalid store input",
        };
        write!(f, "{what}: {}", self.message)
    }
}

impl std::error::Error for StoreError {}

/// Maps an sqlx error; `what` names the operation.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn from_sqlx(what: &str, e: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    match e {
        E::Configuration(e) => StoreError::config(format!("{what}: {e}")),
        E::Database(db) => {
            if db.is_unique_violation() {
                return StoreError::conflict(format!("{what}: already exists"));
            }
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            // PostgreSQL: 28xxx invalid authorization, 3D000 unknown
            // database, 3F000 unknown schema.
            if code.starts_with("28") || code == "3D000" || code == "3F000" {
                return StoreError::config(format!("{what}: {} ({code})", db.message()));
            }
            // Everything else (SQLite busy/locked/I/O, PostgreSQL connection
            // exceptions, shutdown, resource limits, serialization
            // failures, ...) means the store cannot serve this call now.
            StoreError::unavailable(format!("{what}: {} ({code})", db.message()))
        }
        E::ColumnDecode { .. }
        | E::Decode(_)
        | E::ColumnNotFound(_)
        | E::ColumnIndexOutOfBounds { .. }
        | E::TypeNotFound { .. }
        | E::RowNotFound => StoreError::corrupt(format!("{what}: {e}")),
        E::InvalidArgument(m) => StoreError::invalid(format!("{what}: {m}")),
        E::PoolTimedOut => StoreError::unavailable(format!(
            "{what}: no connection within {} s",
            crate::CONNECT_TIMEOUT.as_secs()
        )),
        E::PoolClosed => StoreError::unavailable(format!("{what}: pool closed")),
        other => StoreError::unavailable(format!("{what}: {other}")),
    }
}

/// Maps a Redis error; `what` names the operation.
#[cfg(feature = "redis")]
pub(crate) fn from_redis(what: &str, e: redis::RedisError) -> StoreError {
    use redis::ErrorKind as K;
    match e.kind() {
        K::AuthenticationFailed | K::InvalidClientConfig => {
            StoreError::config(format!("{what}: {e}"))
        }
        K::UnexpectedReturnType | K::Parse => StoreError::corrupt(format!("{what}: {e}")),
        K::Server(_) | K::Extension if is_wrongtype(&e) => {
            StoreError::corrupt(format!("{what}: {e}"))
        }
        _ => StoreError::unavailable(format!("{what}: {e}")),
    }
}

#[cfg(feature = "redis")]
fn is_wrongtype(e: &redis::RedisError) -> bool {
    e.code() == Some("WRONGTYPE") || e.to_string().contains("WRONGTYPE")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_kind_and_scrubs_secrets() {
        let e = StoreError::unavailable("connect to redis://:hunter2@host failed")
            .scrub_secret(Some("hunter2".into()));
        assert_eq!(e.kind(), StoreErrorKind::Unavailable);
        let text = e.to_string();
        assert!(text.starts_with("store unavailable: "), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("***"), "{text}");
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[test]
    fn sqlx_pool_errors_are_unavailable() {
        assert!(from_sqlx("x", sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(from_sqlx("x", sqlx::Error::PoolClosed).is_unavailable());
        assert_eq!(
            from_sqlx("x", sqlx::Error::RowNotFound).kind(),
            StoreErrorKind::Corrupt
        );
    }
}
