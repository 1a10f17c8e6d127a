//! Signer keys follow `keys/signers.json` while the server runs: several
//! instances sharing `keys/` pick up a `tessera keys rotate` without a
//! restart (docs/key-rotation.md).
//!
//! - **Publish first, sign later.** A new signer is published (JWKS) and
//!   verified as soon as an instance reads it, and signed with only
//!   `key_publish_delay_seconds` after its `created_at`, by which time every
//!   instance has read it: no instance makes a token another refuses.
//! - **Retired signers** stay published while their tokens may live
//!   (`retired_at + key_publish_delay_seconds + access_ttl_seconds +
//!   leeway_seconds`), and are refused as soon as they leave the file.
//! - **A file that cannot be read or parsed** is refused as a whole: the
//!   signers in force stay, one warning names the file and the problem
//!   (never a key's value), `tessera_key_reloads_total{result="refused"}`
//!   counts it and `tessera_key_file_refused` is 1 until a good file comes.
//!
//! Why a periodic re-read rather than a file-system watch (`notify`,
//! inotify): instances that share `keys/` share it through a network file
//! system or a mounted volume (NFS, a Kubernetes secret, a cloud file
//! share), where a change made on another host raises no local event, and
//! Kubernetes updates a secret by swapping a symbolic link. Reading one file
//! of a few KiB (at most 1 MiB) every `key_reload_interval_seconds` (10)
//! costs nothing and sees every change wherever it was made; `SIGHUP` reads
//! it at once. (`notify` is also not among the crates this build may use.)

use crate::app::AppState;
use crate::config::{Config, ConfigError};
use crate::keys::{parse_signers_file, read_signers_file, ServerKeys};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::{KeySet, SigningKey};

/// Checks the key-reload settings: an interval of 1 s to 1 h, and a
/// publish delay of 0 or at least one interval (an instance may take that
/// long to see a new signer; signing with it sooner makes tokens that other
/// instances refuse).
pub(crate) fn check_config(config: &Config) -> Result<(), ConfigError> {
    let interval = config.key_reload_interval_seconds;
    if !(1..=3600).contains(&interval) {
        return Err(ConfigError(format!(
            "key_reload_interval_seconds must be 1 to 3600, got {interval}"
        )));
    }
    let delay = config.key_publish_delay_seconds;
    if delay < 0 || (delay > 0 && delay.unsigned_abs() < interval) {
        return Err(ConfigError(format!(
            "key_publish_delay_seconds ({delay}) must be 0 (one instance) or at least key_reload_interval_seconds ({interval}): other instances may take that long to publish a new signer"
        )));
    }
    Ok(())
}

/// What the server signs with and publishes at one instant.
pub struct KeyPlan {
    /// The key new access tokens are signed with.
    pub signer: Arc<SigningKey>,
    /// The keys access tokens are verified with and the JWKS publishes.
    pub published: KeySet,
}

impl KeyPlan {
    /// The plan for `keys` at `now`.
    pub fn at(keys: &ServerKeys, config: &Config, now: i64) -> KeyPlan {
        let delay = config.key_publish_delay_seconds.max(0);
        // A retired signer signs on until its successor is `delay` old;
        // its tokens then live `access_ttl + leeway` more.
        let life = config
            .access_ttl_seconds
            .saturating_add(config.leeway_seconds)
            .saturating_add(delay);
        let signer = Arc::clone(keys.signing_key(now, delay));
        let mut published = keys.verification_keys(now, life);
        // A hand-edited file may retire the only signer old enough; what is
        // signed with is always published.
        let listed = published.keys().iter().any(|k| k.kid() == signer.kid());
        if !listed {
            if let Ok(k) = signer.verifying_key() {
                let _ = published.push(k);
            }
        }
        KeyPlan { signer, published }
    }

    /// The signer's kid and the published kids, to tell a change.
    fn fingerprint(&self) -> (Option<String>, Vec<Option<String>>) {
        (
            self.signer.kid().map(str::to_owned),
            self.published
                .keys()
                .iter()
                .map(|k| k.kid().map(str::to_owned))
                .collect(),
        )
    }
}

/// What one [`KeyReloader::tick`] did with the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOutcome {
    /// The file is as last read.
    Unchanged,
    /// The file changed and its signers replaced the ones in force.
    Loaded,
    /// The file changed (or cannot be read) and was refused.
    Refused,
}

/// What one [`KeyReloader::tick`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reload {
    /// The file.
    pub file: FileOutcome,
    /// The signer or the published keys changed (the verifier was rebuilt).
    pub changed: bool,
}

/// Re-reads `keys/signers.json` and keeps the sessions' signer and
/// verification keys on the plan of the moment.
pub struct KeyReloader {
    data_dir: PathBuf,
    /// The bytes last read (loaded or refused): only a change is parsed.
    last_bytes: Option<Vec<u8>>,
    /// The last read error, logged once.
    last_error: Option<String>,
    /// No read yet: the first one re-reads what start-up loaded, quietly
    /// (and catches a rotation made while the server was starting).
    first: bool,
    applied: (Option<String>, Vec<Option<String>>),
}

impl KeyReloader {
    /// A reloader for `state`, whose keys were just loaded.
    pub fn new(state: &AppState) -> Self {
        let data_dir = state.config.data_dir.clone();
        let plan = KeyPlan::at(&state.keys(), &state.config, state.clock.now());
        KeyReloader {
            last_bytes: None,
            data_dir,
            last_error: None,
            first: true,
            applied: plan.fingerprint(),
        }
    }

    /// Reads the file (parsing it only when it changed), then puts the
    /// plan of now in force if it differs from the one in force.
    pub fn tick(&mut self, state: &AppState) -> Reload {
        let file = self.read(state);
        let plan = KeyPlan::at(&state.keys(), &state.config, state.clock.now());
        let fingerprint = plan.fingerprint();
        let changed = fingerprint != self.applied;
        if changed {
            tracing::info!(
                signing_kid = fingerprint.0.as_deref().unwrap_or(""),
                published = fingerprint.1.len(),
                "signer keys in force changed"
            );
            state.sessions.set_signer(plan.signer, plan.published);
            self.applied = fingerprint;
        }
        Reload { file, changed }
    }

    fn read(&mut self, state: &AppState) -> FileOutcome {
        let quiet = std::mem::replace(&mut self.first, false);
        let metrics = &state.metrics;
        let bytes = match read_signers_file(&self.data_dir) {
            Ok(b) => b,
            Err(e) => {
                let why = e.to_string();
                if self.last_error.as_deref() != Some(why.as_str()) {
                    tracing::warn!(error = %why, "cannot read the signer keys; keeping the ones in force");
                    metrics.key_reloads.with_label_values(&["refused"]).inc();
                    self.last_error = Some(why);
                }
                metrics.key_file_refused.set(1);
                self.last_bytes = None;
                return FileOutcome::Refused;
            }
        };
        self.last_error = None;
        if self.last_bytes.as_ref() == Some(&bytes) {
            return FileOutcome::Unchanged;
        }
        let outcome = match parse_signers_file(&bytes) {
            Ok(signers) => {
                let n = signers.len();
                match state.keys.write() {
                    Ok(mut k) => k.set_signers(signers),
                    Err(p) => p.into_inner().set_signers(signers),
                }
                if !quiet {
                    tracing::info!(signers = n, "signer keys re-read from keys/signers.json");
                    metrics.key_reloads.with_label_values(&["loaded"]).inc();
                }
                metrics.key_file_refused.set(0);
                FileOutcome::Loaded
            }
            Err(why) => {
                tracing::warn!(
                    file = %self.data_dir.join("keys").join("signers.json").display(),
                    error = %why,
                    "signer keys file refused; keeping the ones in force"
                );
                metrics.key_reloads.with_label_values(&["refused"]).inc();
                metrics.key_file_refused.set(1);
                FileOutcome::Refused
            }
        };
        self.last_bytes = Some(bytes);
        outcome
    }
}

/// Re-reads the signer keys every `key_reload_interval_seconds` and on
/// `SIGHUP`, until the state is dropped. (The file is a few KiB: read on
/// the runtime's thread.)
pub fn spawn(state: &Arc<AppState>) {
    let mut reloader = KeyReloader::new(state);
    let period = Duration::from_secs(state.config.key_reload_interval_seconds.max(1));
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            #[cfg(unix)]
            let hup = async {
                let got = match hangup.as_mut() {
                    Some(s) => s.recv().await,
                    None => None,
                };
                if got.is_none() {
                    std::future::pending::<()>().await;
                }
            };
            #[cfg(not(unix))]
            let hup = std::future::pending::<()>();
            tokio::select! {
                _ = tick.tick() => {}
                () = hup => tracing::info!("SIGHUP: re-reading the signer keys"),
            }
            let Some(state) = weak.upgrade() else { return };
            reloader.tick(&state);
        }
    });
}

#[cfg(test)]
mod tests;
