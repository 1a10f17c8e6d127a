//! Wallet credentials (NWT, NIP-98, Portal, thirdweb) judged through
//! `tessera verify` against the contract (contracts.md): exit code, JSON,
//! error codes.

use super::harness::{tessera, Tally};
use serde_json::Value;

/// What `tessera verify` must answer for a wallet credential.
#[derive(Clone, Debug)]
pub enum WalletExpect {
    Valid {
        format: &'static str,
        subject: String,
        issuer: String,
        /// Audiences that must be reported.
        audience: Vec<String>,
        /// Claims that must be reported, exactly.
        claims: Value,
    },
    Code(&'static str),
}

pub struct WalletCase {
    pub name: String,
    pub credential: String,
    pub args: Vec<String>,
    pub expect: WalletExpect,
}

pub fn wcase(name: &str, credential: &str, args: &[&str], expect: WalletExpect) -> WalletCase {
    WalletCase {
        name: name.to_owned(),
        credential: credential.to_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
        expect,
    }
}

/// Runs `tessera verify ARGS CREDENTIAL` and judges the answer.
pub fn wallet_verify(c: &WalletCase) -> Result<(), String> {
    let mut args: Vec<&str> = vec!["verify"];
    args.extend(c.args.iter().map(String::as_str));
    args.push(&c.credential);
    let out = tessera(&args);
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let repro = format!("\n      reproduce: tessera {}", shell_words(&args));
    if code == 2 {
        return Err(format!("usage error (exit 2): {stderr}{repro}"));
    }
    let v: Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => return Err(format!("stdout is not JSON ({e}), exit {code}{repro}")),
    };
    let verdict = match &c.expect {
        WalletExpect::Valid {
            format,
            subject,
            issuer,
            audience,
            claims,
        } => {
            if code != 0 || v["valid"] != true {
                Err(format!("expected valid, got exit {code}: {v}"))
            } else if v["format"] != *format {
                Err(format!("format {}, expected {format}", v["format"]))
            } else if v["subject"] != subject.as_str() {
                Err(format!("subject {}, expected {subject}", v["subject"]))
            } else if v["issuer"] != issuer.as_str() {
                Err(format!("issuer {}, expected {issuer}", v["issuer"]))
            } else if let Some(a) = audience.iter().find(|a| {
                !v["audience"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| x == a.as_str())
            }) {
                Err(format!("audience {} lacks {a}", v["audience"]))
            } else if let Some((k, want)) = claims
                .as_object()
                .into_iter()
                .flatten()
                .find(|(k, want)| &v["claims"][k.as_str()] != *want)
            {
                Err(format!(
                    "claim {k} is {}, expected {want}",
                    v["claims"][k.as_str()]
                ))
            } else {
                Ok(())
            }
        }
        WalletExpect::Code(want) => {
            let got = v["error"]["code"].as_str().unwrap_or("<none>");
            if code == 1 && got == *want {
                Ok(())
            } else {
                Err(format!(
                    "expected exit 1 `{want}`, got exit {code} `{got}`: {v}"
                ))
            }
        }
    };
    verdict.map_err(|e| format!("{e}{repro}"))
}

pub fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=@".contains(c))
            {
                a.to_string()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn run_wallet_cases(title: &str, cases: &[WalletCase]) {
    let mut tally = Tally::new(title);
    for c in cases {
        tally.check(&c.name, wallet_verify(c));
    }
    tally.finish();
}
