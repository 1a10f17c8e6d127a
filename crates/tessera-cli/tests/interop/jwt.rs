//! One JWT judged by tessera twice, through `tessera verify` (exit code
//! and JSON) and through the library (`tessera_core::jwt::verify`).

use super::harness::{tessera, Tally};
use serde_json::{json, Value};
use tessera_core::internal::encoding::{b64url_decode, b64url_encode};
use tessera_core::{jwt, Algorithm, ErrorCode, KeySet, Policy, VerifyingKey};

/// The audience every peer token is addressed to (plus one other).
pub const AUD: &str = "https://api.example";
/// An audience no token carries.
pub const OTHER_AUD: &str = "https://elsewhere.example";
/// The issuer peers and tessera put in their tokens.
pub const ISS: &str = "https://peer.example";

/// A trusted key as `tessera verify --key` takes it.
#[derive(Clone, Debug)]
pub enum Key {
    /// A JWK, JWK Set or PEM file.
    File(String),
    /// `secret:<file>`: raw HMAC secret bytes.
    Secret(String),
}

impl Key {
    pub fn spec(&self) -> String {
        match self {
            Key::File(p) => p.clone(),
            Key::Secret(p) => format!("secret:{p}"),
        }
    }

    /// The keys a library user would build from this file. A key whose
    /// type needs an algorithm named (RSA or `oct` JWK without `alg`) is
    /// pinned to the algorithm the caller expects, as the docs say to.
    pub fn load(&self, expected: Option<Algorithm>) -> Result<Vec<VerifyingKey>, String> {
        let retry =
            |r: tessera_core::Result<VerifyingKey>,
             again: &dyn Fn(Option<Algorithm>) -> tessera_core::Result<VerifyingKey>| {
                match r {
                    Err(e) if e.code() == ErrorCode::UnsupportedAlgorithm && expected.is_some() => {
                        again(expected)
                    }
                    other => other,
                }
            };
        let fail = |e: tessera_core::Error| format!("library refused the key {self:?}: {e}");
        match self {
            Key::Secret(p) => {
                let alg = expected.ok_or("secret without an expected algorithm")?;
                let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
                Ok(vec![VerifyingKey::hmac(alg, &bytes).map_err(fail)?])
            }
            Key::File(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
                if text.trim_start().starts_with('{') {
                    let doc: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                    if doc.get("keys").is_some() {
                        return Ok(KeySet::from_jwks(&text, None)
                            .map_err(fail)?
                            .keys()
                            .to_vec());
                    }
                    let k = retry(VerifyingKey::from_jwk(&text, None), &|pin| {
                        VerifyingKey::from_jwk(&text, pin)
                    });
                    Ok(vec![k.map_err(fail)?])
                } else {
                    let k = retry(VerifyingKey::from_pem(&text, None), &|pin| {
                        VerifyingKey::from_pem(&text, pin)
                    });
                    Ok(vec![k.map_err(fail)?])
                }
            }
        }
    }
}

/// What tessera must answer.
#[derive(Clone, Debug)]
pub enum Expect {
    /// Valid, with this subject (and the case's algorithm, issuer, audience, claims).
    Valid { sub: String },
    /// Refused with this error code.
    Code(&'static str),
    /// A recorded disagreement: the CLI refuses the *key* (exit 2) where the
    /// README says it should work. When tessera changes, this case fails and
    /// says so: move it back to `Valid`. (No case records one today.)
    #[allow(dead_code)]
    KnownUsageError { note: &'static str },
}

#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub alg: String,
    pub token: String,
    pub keys: Vec<Key>,
    pub aud: Option<&'static str>,
    /// `--any-aud` (library: `Policy::accept_any_audience`).
    pub any_aud: bool,
    pub allow_no_exp: bool,
    pub expect: Expect,
    /// When the CLI is expected to differ from the library.
    pub cli_expect: Option<Expect>,
}

impl Case {
    pub fn new(name: String, alg: &str, token: &str, key: Key, expect: Expect) -> Case {
        Case {
            name,
            alg: alg.to_owned(),
            token: token.to_owned(),
            keys: vec![key],
            aud: Some(AUD),
            any_aud: false,
            allow_no_exp: false,
            expect,
            cli_expect: None,
        }
    }

    pub fn reproduce(&self) -> String {
        let mut cmd = String::from("tessera verify");
        for k in &self.keys {
            cmd.push_str(&format!(" --key {}", k.spec()));
        }
        if let Some(a) = self.aud {
            cmd.push_str(&format!(" --aud {a}"));
        }
        if self.any_aud {
            cmd.push_str(" --any-aud");
        }
        if self.allow_no_exp {
            cmd.push_str(" --allow-no-exp");
        }
        format!("{cmd} {}", self.token)
    }
}

/// Checks the valid-identity fields every peer token carries, on the
/// contract's JSON shape (`alg`, `subject`, `issuer`, `audience`, `claims`).
pub fn check_identity(alg: &str, sub: &str, got: &Value, custom: &Value) -> Result<(), String> {
    if got["alg"] != alg {
        return Err(format!("alg {}, expected {alg:?}", got["alg"]));
    }
    if got["subject"] != sub {
        return Err(format!("subject {}, expected {sub:?}", got["subject"]));
    }
    if got["issuer"] != ISS {
        return Err(format!("issuer {}, expected {ISS:?}", got["issuer"]));
    }
    if !got["audience"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a == AUD)
    {
        return Err(format!("audience {} lacks {AUD:?}", got["audience"]));
    }
    for (k, v) in custom.as_object().into_iter().flatten() {
        if &got["claims"][k] != v {
            return Err(format!(
                "claim {k:?} is {}, the peer signed {v}",
                got["claims"][k]
            ));
        }
    }
    Ok(())
}

pub fn run_cli(c: &Case, custom: &Value) -> Result<Option<&'static str>, String> {
    let specs: Vec<String> = c.keys.iter().map(Key::spec).collect();
    let mut args: Vec<&str> = vec!["verify"];
    for s in &specs {
        args.extend(["--key", s.as_str()]);
    }
    if let Some(a) = c.aud {
        args.extend(["--aud", a]);
    }
    if c.any_aud {
        args.push("--any-aud");
    }
    if c.allow_no_exp {
        args.push("--allow-no-exp");
    }
    args.push(&c.token);
    let out = tessera(&args);
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let expect = c.cli_expect.as_ref().unwrap_or(&c.expect);
    if let Expect::KnownUsageError { note } = expect {
        return match code {
            2 => Ok(Some(note)),
            _ => Err(format!(
                "recorded disagreement no longer holds (exit {code}, stdout {}): tessera changed; make this case expect Valid",
                String::from_utf8_lossy(&out.stdout)
            )),
        };
    }
    if code == 2 {
        return Err(format!("usage error (exit 2): {stderr}"));
    }
    let v: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("stdout is not JSON ({e}), exit {code}, stderr {stderr}"))?;
    match expect {
        Expect::Valid { sub } => {
            if code != 0 || v["valid"] != json!(true) {
                return Err(format!("expected valid, got exit {code}: {v}"));
            }
            if v["format"] != "jwt" {
                return Err(format!("format {}, expected \"jwt\"", v["format"]));
            }
            check_identity(&c.alg, sub, &v, custom).map(|()| None)
        }
        Expect::Code(want) => {
            let got = v["error"]["code"].as_str().unwrap_or("<none>");
            if code != 1 || v["valid"] != json!(false) || got != *want {
                return Err(format!(
                    "expected exit 1 `{want}`, got exit {code} `{got}`: {v}"
                ));
            }
            Ok(None)
        }
        Expect::KnownUsageError { .. } => unreachable!(),
    }
}

pub fn run_lib(c: &Case, custom: &Value, now: i64) -> Result<(), String> {
    let expected = Algorithm::from_name(&c.alg);
    let mut set = KeySet::new();
    for k in &c.keys {
        for vk in k.load(expected)? {
            set.push(vk).map_err(|e| e.to_string())?;
        }
    }
    let policy = Policy {
        audiences: c.aud.iter().map(|a| a.to_string()).collect(),
        accept_any_audience: c.any_aud,
        require_exp: !c.allow_no_exp,
        ..Policy::default()
    };
    match (&c.expect, jwt::verify(&c.token, &set, &policy, now)) {
        (Expect::Valid { sub }, Ok(id)) => {
            let claims = tessera_core::Value::Object(id.claims.object().clone()).to_serde();
            let got = json!({
                "alg": id.alg.name(),
                "subject": id.subject,
                "issuer": id.issuer,
                "audience": id.audience,
                "claims": claims,
            });
            check_identity(&c.alg, sub, &got, custom)
        }
        (Expect::Valid { .. }, Err(e)) => Err(format!("expected valid, got `{}`: {e}", e.code())),
        (Expect::Code(want), Err(e)) if e.code().as_str() == *want => Ok(()),
        (Expect::Code(want), Err(e)) => Err(format!("expected `{want}`, got `{}`: {e}", e.code())),
        (Expect::Code(want), Ok(id)) => Err(format!("expected `{want}`, got valid: {id:?}")),
        (Expect::KnownUsageError { .. }, _) => {
            Err("KnownUsageError is a CLI-only expectation".into())
        }
    }
}

pub fn run_cases(tally: &mut Tally, cases: &[Case], custom: &Value, now: i64) {
    for c in cases {
        match run_cli(c, custom) {
            Ok(None) => tally.check(&format!("cli {}", c.name), Ok(())),
            Ok(Some(note)) => tally.known(
                &format!("cli {}\n      reproduce: {}", c.name, c.reproduce()),
                note,
            ),
            Err(why) => tally.check(
                &format!("cli {}", c.name),
                Err(format!("{why}\n      reproduce: {}", c.reproduce())),
            ),
        }
        let lib = run_lib(c, custom, now).map_err(|why| format!("{why}\n      token: {}", c.token));
        tally.check(&format!("lib {}", c.name), lib);
    }
}

/// The same token with its payload's `sub` changed and the signature kept.
pub fn tamper(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&b64url_decode(parts[1].as_bytes()).unwrap()).unwrap();
    payload["sub"] = json!("mallory");
    let forged = b64url_encode(serde_json::to_string(&payload).unwrap().as_bytes());
    format!("{}.{forged}.{}", parts[0], parts[2])
}

pub fn with_member(path: &str, extra: &Value) -> Value {
    let mut jwk: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (k, v) in extra.as_object().unwrap() {
        jwk[k] = v.clone();
    }
    jwk
}
