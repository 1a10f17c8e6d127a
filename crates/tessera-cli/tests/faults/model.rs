//! The model the load threads keep of what the server acknowledged, and
//! how each answer counts for it (the judge).

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Store and server up (and, after a fault, `/readyz` answered 200).
    Up,
    /// The fault is being made or undone: anything may happen but a 5xx
    /// other than 503, a hang or a lost acknowledgement.
    Transition,
    /// The store (or the server) is dead.
    Down,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PhaseState {
    pub(crate) generation: u64,
    pub(crate) phase: Phase,
    pub(crate) since: Instant,
}

/// What the controlling thread tells the load threads.
pub(crate) struct Control {
    pub(crate) state: Mutex<PhaseState>,
    pub(crate) stop: AtomicBool,
    pub(crate) deadline: Instant,
}

impl Control {
    pub(crate) fn new(limit: Duration) -> Arc<Control> {
        Arc::new(Control {
            state: Mutex::new(PhaseState {
                generation: 0,
                phase: Phase::Up,
                since: Instant::now(),
            }),
            stop: AtomicBool::new(false),
            deadline: Instant::now() + limit,
        })
    }

    pub(crate) fn now(&self) -> PhaseState {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set(&self, phase: Phase) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.generation += 1;
        s.phase = phase;
        s.since = Instant::now();
    }

    pub(crate) fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed) && Instant::now() < self.deadline
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Login,
    Refresh,
    Logout,
    RevokeSession,
    RevokeAccess,
    VerifyLive,
    VerifyRevoked,
}

pub(crate) const OPS: [Op; 7] = [
    Op::Login,
    Op::Refresh,
    Op::Logout,
    Op::RevokeSession,
    Op::RevokeAccess,
    Op::VerifyLive,
    Op::VerifyRevoked,
];

impl Op {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Login => "login",
            Op::Refresh => "refresh",
            Op::Logout => "logout",
            Op::RevokeSession => "revoke_session",
            Op::RevokeAccess => "revoke_access",
            Op::VerifyLive => "verify_live",
            Op::VerifyRevoked => "verify_revoked",
        }
    }

    /// What the answer is when the store is up.
    pub(crate) fn expected(self) -> u16 {
        match self {
            Op::Login | Op::Refresh | Op::RevokeSession | Op::RevokeAccess | Op::VerifyLive => 200,
            Op::Logout => 204,
            Op::VerifyRevoked => 401,
        }
    }
}

/// An access token and the fault generation it was issued in.
#[derive(Clone)]
pub(crate) struct Access {
    pub(crate) token: String,
    pub(crate) generation: u64,
}

/// One session as acknowledged by the server.
#[derive(Clone)]
pub(crate) struct Session {
    /// Access tokens acknowledged and not revoked one by one.
    pub(crate) access: Vec<Access>,
    /// Access tokens whose revocation was acknowledged (200).
    pub(crate) revoked_access: Vec<String>,
    /// The latest refresh token acknowledged, never presented since.
    pub(crate) refresh: String,
    /// Refresh tokens acknowledged as spent (their rotation answered 200).
    pub(crate) spent: Vec<String>,
    /// Logout (204) or revocation (200) acknowledged.
    pub(crate) ended: bool,
}

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) requests: u64,
    /// The answer the model expected with the store up.
    pub(crate) ok: u64,
    pub(crate) answered_503: u64,
    /// No answer at all (only while the server itself is dead).
    pub(crate) no_answer: u64,
    /// Anything else: each one is also a violation.
    pub(crate) other: u64,
    /// `/v1/verify` 200 from the in-process picture right after the store
    /// died (within `PICTURE_GRACE`).
    pub(crate) from_picture: u64,
    /// 503 answers in strict outage windows, per operation.
    pub(crate) outage_503: [u64; 7],
    /// Expected answers after a recovery, per operation.
    pub(crate) ok_after_recovery: [u64; 7],
    /// 503 later than `RECOVERY_SETTLE` after `/readyz` came back.
    pub(crate) late_503: u64,
    /// Sessions dropped from the model because an answer was not an
    /// acknowledgement.
    pub(crate) uncertain: u64,
    pub(crate) max_latency: Duration,
    pub(crate) violations: Vec<String>,
}

impl Stats {
    pub(crate) fn violation(&mut self, what: String) {
        if self.violations.len() < 20 {
            self.violations.push(what);
        }
    }

    pub(crate) fn merge(&mut self, o: Stats) {
        self.requests += o.requests;
        self.ok += o.ok;
        self.answered_503 += o.answered_503;
        self.no_answer += o.no_answer;
        self.other += o.other;
        self.from_picture += o.from_picture;
        for i in 0..OPS.len() {
            self.outage_503[i] += o.outage_503[i];
            self.ok_after_recovery[i] += o.ok_after_recovery[i];
        }
        self.late_503 += o.late_503;
        self.uncertain += o.uncertain;
        self.max_latency = self.max_latency.max(o.max_latency);
        for v in o.violations {
            self.violation(v);
        }
    }
}

/// How one answer counts for the model.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The expected answer: an acknowledgement for a write.
    Acknowledged,
    /// Certainly not carried out: refused while the store was dead all
    /// along (503), or the connection was refused. The model stays as it
    /// was, and the audit checks that nothing changed.
    NotDone,
    /// Anything else: the effect of a write is unknown.
    Unknown,
}

pub(crate) struct Judge {
    /// The server process itself is killed in this test (no answer is
    /// then expected while it is down).
    pub(crate) server_dies: bool,
    /// When the last recovery (readyz 200 after a fault) was seen.
    pub(crate) recovered: Arc<Mutex<Option<Instant>>>,
}

impl Judge {
    pub(crate) fn judge(
        &self,
        stats: &mut Stats,
        op: Op,
        result: &Result<Resp, String>,
        start: PhaseState,
        end: PhaseState,
    ) -> Verdict {
        stats.requests += 1;
        let i = OPS.iter().position(|o| *o == op).unwrap_or(0);
        let strict_down = start.phase == Phase::Down && start.generation == end.generation;
        let steady_up = start.phase == Phase::Up && start.generation == end.generation;
        let where_ = format!("{:?}/{}", start.phase, start.generation);
        let answer = match result {
            Ok(a) => a,
            Err(e) => {
                if self.server_dies && !steady_up {
                    stats.no_answer += 1;
                } else {
                    stats.other += 1;
                    stats.violation(format!("{} in {where_}: no answer ({e})", op.name()));
                }
                // Nothing was sent on a refused connection.
                return if e.starts_with("ConnectionRefused") {
                    Verdict::NotDone
                } else {
                    Verdict::Unknown
                };
            }
        };
        stats.max_latency = stats.max_latency.max(answer.took);
        let sent_at = Instant::now()
            .checked_sub(answer.took)
            .unwrap_or(start.since);
        if answer.took > HANG_BOUND {
            stats.other += 1;
            stats.violation(format!(
                "{} in {where_}: answered {} after {:?} (bound {HANG_BOUND:?})",
                op.name(),
                answer.status,
                answer.took
            ));
            return Verdict::Unknown;
        }
        let status = answer.status;
        if status == 503 {
            stats.answered_503 += 1;
            if strict_down {
                stats.outage_503[i] += 1;
                return Verdict::NotDone;
            }
            if steady_up {
                let recovered = *self.recovered.lock().unwrap_or_else(|p| p.into_inner());
                // Up from the start, or well after the last recovery.
                if recovered.is_none_or(|r| sent_at > r + RECOVERY_SETTLE) {
                    stats.late_503 += 1;
                    stats.violation(format!("{} in {where_}: 503 with the store up", op.name()));
                }
            }
            return Verdict::Unknown;
        }
        if strict_down && !self.server_dies {
            // The store is dead: writes fail closed; an access token is
            // refused or, until the feed notices, judged from the picture.
            let fine = match op {
                Op::VerifyLive if status == 200 => {
                    if sent_at.saturating_duration_since(start.since) <= PICTURE_GRACE {
                        stats.from_picture += 1;
                        return Verdict::Acknowledged;
                    }
                    false
                }
                Op::VerifyRevoked => status == 401,
                _ => false,
            };
            if fine {
                stats.ok += 1;
                return Verdict::Acknowledged;
            }
            stats.other += 1;
            stats.violation(format!(
                "{} during the outage ({where_}): {} {} instead of 503",
                op.name(),
                status,
                answer.error()
            ));
            return Verdict::Unknown;
        }
        if status == op.expected() {
            stats.ok += 1;
            if start.generation > 0 && steady_up {
                stats.ok_after_recovery[i] += 1;
            }
            return Verdict::Acknowledged;
        }
        stats.other += 1;
        stats.violation(format!(
            "{} in {where_}: {} {} (expected {})",
            op.name(),
            status,
            answer.error(),
            op.expected()
        ));
        Verdict::Unknown
    }
}
