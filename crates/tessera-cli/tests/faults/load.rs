//! The load: a random mix of logins, refreshes, logouts, revocations and
//! verifications per thread, and the audit of everything acknowledged.

use super::*;

/// The requests of the model.
pub(crate) struct Api {
    pub(crate) client: Client,
    pub(crate) url: String,
}

impl Api {
    pub(crate) fn new(addr: SocketAddr, url: &str) -> Api {
        Api {
            client: client(addr),
            url: url.to_owned(),
        }
    }

    /// NIP-98 login with a fresh key (so every event is new: the replay
    /// guard remembers event ids).
    pub(crate) fn login(&mut self) -> Result<Resp, String> {
        let key = NostrSecretKey::generate();
        let login_url = format!("{}/v1/auth/login", self.url);
        let event = issue_nip98(&key, &login_url, "POST", None, SystemClock.now())
            .map_err(|e| format!("nip98: {}", e.message()))?;
        let auth = nip98_authorization(&event);
        self.client
            .send("POST", "/v1/auth/login", &[("Authorization", &auth)], b"")
    }

    pub(crate) fn refresh(&mut self, token: &str) -> Result<Resp, String> {
        let body = serde_json::json!({ "refresh_token": token }).to_string();
        self.client.send(
            "POST",
            "/v1/auth/refresh",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    }

    pub(crate) fn logout(&mut self, refresh: &str, access: Option<&str>) -> Result<Resp, String> {
        let body = serde_json::json!({ "refresh_token": refresh }).to_string();
        let bearer = access.map(|a| format!("Bearer {a}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(b) = &bearer {
            headers.push(("Authorization", b));
        }
        self.client
            .send("POST", "/v1/auth/logout", &headers, body.as_bytes())
    }

    pub(crate) fn revoke(&mut self, token: &str, hint: &str) -> Result<Resp, String> {
        // Access tokens and refresh tokens are base64url (and dots): no
        // percent-encoding needed.
        let body = format!("token={token}&token_type_hint={hint}");
        self.client.send(
            "POST",
            "/v1/oauth/revoke",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }

    pub(crate) fn verify(&mut self, access: &str) -> Result<Resp, String> {
        let bearer = format!("Bearer {access}");
        self.client
            .get("/v1/verify", &[("Authorization", bearer.as_str())])
    }
}

/// A token pair from a 200 login/refresh answer.
pub(crate) fn pair_of(answer: &Resp) -> Option<(String, String)> {
    let v = answer.json_or_null();
    Some((
        v["access_token"].as_str()?.to_owned(),
        v["refresh_token"].as_str()?.to_owned(),
    ))
}

/// One load thread: a random mix of logins, refreshes, logouts,
/// revocations and verifications until told to stop; returns its counts
/// and its model.
pub(crate) fn load_thread(
    id: u64,
    addr: SocketAddr,
    url: String,
    control: Arc<Control>,
    judge: Arc<Judge>,
) -> (Stats, Vec<Session>) {
    let mut api = Api::new(addr, &url);
    let mut rng = Rng::new(id + 1);
    let mut stats = Stats::default();
    let mut live: Vec<Session> = Vec::new();
    let mut ended: Vec<Session> = Vec::new();
    let mut n = 0;
    while control.running() && n < MAX_OPS_PER_THREAD {
        n += 1;
        let (unanswered, unavailable) = (stats.no_answer, stats.answered_503);
        let r = rng.below(100);
        // More logins than endings, so that sessions from before a fault
        // are still alive (and checked) at the end.
        let op = if live.len() < 4 || r < 25 {
            Op::Login
        } else if r < 50 {
            Op::Refresh
        } else if r < 75 {
            Op::VerifyLive
        } else if r < 85 {
            Op::VerifyRevoked
        } else if r < 91 {
            Op::Logout
        } else if r < 95 {
            Op::RevokeSession
        } else {
            Op::RevokeAccess
        };
        let start = control.now();
        match op {
            Op::Login => {
                let result = api.login();
                let end = control.now();
                if judge.judge(&mut stats, op, &result, start, end) == Verdict::Acknowledged {
                    if let Some((access, refresh)) = result.as_ref().ok().and_then(pair_of) {
                        live.push(Session {
                            access: vec![Access {
                                token: access,
                                generation: start.generation,
                            }],
                            revoked_access: Vec::new(),
                            refresh,
                            spent: Vec::new(),
                            ended: false,
                        });
                    }
                }
            }
            Op::Refresh => {
                let k = rng.below(live.len());
                let result = api.refresh(&live[k].refresh);
                let end = control.now();
                let verdict = judge.judge(&mut stats, op, &result, start, end);
                match result.as_ref().ok().and_then(pair_of) {
                    Some((access, refresh)) if verdict == Verdict::Acknowledged => {
                        let s = &mut live[k];
                        let old = std::mem::replace(&mut s.refresh, refresh);
                        s.spent.push(old);
                        s.access.push(Access {
                            token: access,
                            generation: start.generation,
                        });
                    }
                    _ if verdict == Verdict::NotDone => {}
                    _ => {
                        live.swap_remove(k);
                        stats.uncertain += 1;
                    }
                }
            }
            Op::Logout | Op::RevokeSession => {
                let k = rng.below(live.len());
                let result = if op == Op::Logout {
                    let access = live[k].access.last().map(|a| a.token.clone());
                    api.logout(&live[k].refresh, access.as_deref())
                } else {
                    api.revoke(&live[k].refresh, "refresh_token")
                };
                let end = control.now();
                match judge.judge(&mut stats, op, &result, start, end) {
                    Verdict::Acknowledged => {
                        let mut s = live.swap_remove(k);
                        s.ended = true;
                        ended.push(s);
                    }
                    Verdict::NotDone => {}
                    Verdict::Unknown => {
                        live.swap_remove(k);
                        stats.uncertain += 1;
                    }
                }
            }
            Op::RevokeAccess => {
                let k = rng.below(live.len());
                if live[k].access.len() < 2 {
                    continue;
                }
                let j = rng.below(live[k].access.len());
                let token = live[k].access[j].token.clone();
                let result = api.revoke(&token, "access_token");
                let end = control.now();
                match judge.judge(&mut stats, op, &result, start, end) {
                    Verdict::Acknowledged => {
                        live[k].access.swap_remove(j);
                        live[k].revoked_access.push(token);
                    }
                    Verdict::NotDone => {}
                    Verdict::Unknown => {
                        live[k].access.swap_remove(j);
                    }
                }
            }
            Op::VerifyLive => {
                let k = rng.below(live.len());
                if live[k].access.is_empty() {
                    continue;
                }
                let j = rng.below(live[k].access.len());
                let result = api.verify(&live[k].access[j].token);
                let end = control.now();
                judge.judge(&mut stats, op, &result, start, end);
            }
            Op::VerifyRevoked => {
                let token = if !ended.is_empty() && rng.below(2) == 0 {
                    let s = &ended[rng.below(ended.len())];
                    s.access.last().map(|a| a.token.clone())
                } else {
                    let s = &live[rng.below(live.len())];
                    s.revoked_access.last().cloned()
                };
                let Some(token) = token else { continue };
                let result = api.verify(&token);
                let end = control.now();
                judge.judge(&mut stats, op, &result, start, end);
            }
        }
        if stats.no_answer > unanswered {
            // Back off a little while the server is unreachable...
            std::thread::sleep(Duration::from_millis(5));
        } else if stats.answered_503 > unavailable {
            // ...or says so (a real client honours Retry-After; this one
            // keeps the pressure up, but not in a busy loop).
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    live.extend(ended);
    (stats, live)
}

/// The end of a run, with the store up and no load: everything the model
/// holds as acknowledged must still be in effect.
#[derive(Default)]
pub(crate) struct Audit {
    pub(crate) acknowledged: u64,
    pub(crate) lost: u64,
    /// Access tokens issued before the first fault that still verify.
    pub(crate) first_generation_verified: u64,
    pub(crate) details: Vec<String>,
}

impl Audit {
    pub(crate) fn check(
        &mut self,
        what: &str,
        result: Result<Resp, String>,
        want: u16,
        code: &str,
    ) {
        self.acknowledged += 1;
        let fine = match &result {
            Ok(a) => a.status == want && (code.is_empty() || a.error() == code),
            Err(_) => false,
        };
        if !fine {
            self.lost += 1;
            if self.details.len() < 20 {
                let got = match &result {
                    Ok(a) => format!("{} {}", a.status, a.error()),
                    Err(e) => format!("no answer ({e})"),
                };
                self.details
                    .push(format!("{what}: got {got}, expected {want} {code}"));
            }
        }
    }
}

/// The audit of every session, from `THREADS` threads.
pub(crate) fn audit(addr: SocketAddr, url: &str, sessions: &[Session]) -> Audit {
    let chunk = sessions.len().div_ceil(THREADS).max(1);
    let parts: Vec<Audit> = std::thread::scope(|scope| {
        let handles: Vec<_> = sessions
            .chunks(chunk)
            .map(|part| scope.spawn(move || audit_part(addr, url, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("audit thread panicked"))
            .collect()
    });
    let mut all = Audit::default();
    for p in parts {
        all.acknowledged += p.acknowledged;
        all.lost += p.lost;
        all.first_generation_verified += p.first_generation_verified;
        for d in p.details {
            if all.details.len() < 20 {
                all.details.push(d);
            }
        }
    }
    all
}

pub(crate) fn audit_part(addr: SocketAddr, url: &str, sessions: &[Session]) -> Audit {
    let mut api = Api::new(addr, url);
    let mut a = Audit::default();
    for (i, s) in sessions.iter().enumerate() {
        // The first access token and the last are enough per session.
        let n = s.access.len();
        let access: Vec<&Access> = s
            .access
            .iter()
            .enumerate()
            .filter(|(j, _)| *j == 0 || *j + 1 == n)
            .map(|(_, t)| t)
            .collect();
        if s.ended {
            for t in &access {
                a.check(
                    "ended session: access token",
                    api.verify(&t.token),
                    401,
                    "revoked",
                );
            }
            a.check(
                "ended session: refresh token",
                api.refresh(&s.refresh),
                400,
                "invalid_grant",
            );
            if let Some(spent) = s.spent.last() {
                a.check(
                    "ended session: spent refresh token",
                    api.refresh(spent),
                    400,
                    "invalid_grant",
                );
            }
            continue;
        }
        for t in &access {
            let before = a.lost;
            a.check("live session: access token", api.verify(&t.token), 200, "");
            if t.generation == 0 && a.lost == before {
                a.first_generation_verified += 1;
            }
        }
        for t in s.revoked_access.iter().take(1) {
            a.check("revoked access token", api.verify(t), 401, "revoked");
        }
        if i % 2 == 1 && !s.spent.is_empty() {
            // A spent token is refused (and, with no grace, ends the
            // session as a detected reuse).
            a.check(
                "spent refresh token",
                api.refresh(&s.spent[s.spent.len() - 1]),
                400,
                "invalid_grant",
            );
            a.check(
                "refresh token of a session ended by reuse detection",
                api.refresh(&s.refresh),
                400,
                "invalid_grant",
            );
        } else {
            // The unspent token works exactly once.
            a.check("unspent refresh token", api.refresh(&s.refresh), 200, "");
            a.check(
                "refresh token presented a second time",
                api.refresh(&s.refresh),
                400,
                "invalid_grant",
            );
        }
    }
    a
}

/// Runs the load threads until `control` says stop.
pub(crate) fn spawn_load(
    server: &Tessera,
    threads: usize,
    control: &Arc<Control>,
    judge: &Arc<Judge>,
) -> Vec<std::thread::JoinHandle<(Stats, Vec<Session>)>> {
    (0..threads as u64)
        .map(|id| {
            let (addr, url) = (server.addr, server.url.clone());
            let (control, judge) = (Arc::clone(control), Arc::clone(judge));
            std::thread::spawn(move || load_thread(id, addr, url, control, judge))
        })
        .collect()
}

pub(crate) fn join_load(
    handles: Vec<std::thread::JoinHandle<(Stats, Vec<Session>)>>,
) -> (Stats, Vec<Session>) {
    let mut stats = Stats::default();
    let mut sessions = Vec::new();
    for h in handles {
        let (s, m) = h.join().expect("load thread panicked");
        stats.merge(s);
        sessions.extend(m);
    }
    (stats, sessions)
}

pub(crate) fn per_op(counts: &[u64; 7]) -> String {
    OPS.iter()
        .zip(counts)
        .map(|(op, n)| format!("{}={n}", op.name()))
        .collect::<Vec<_>>()
        .join(",")
}
