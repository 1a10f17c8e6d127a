//! `tessera rules test`: which `[[rule]]` decides one request, and how.
//!
//! The request is `--method` and `--url`, normalised as `/v1/verify`
//! normalises what a gateway names. The caller is either `--credential`
//! (a Nostr credential: an NWT for this server or a NIP-98 event for this
//! request, verified offline, no replay or revocation check) or a
//! simulated one (`--issuer`, `--subject`, `--audience`, `--claims`), or
//! nobody. Prints one JSON object; exit 0 allowed, 1 denied (401 or 403),
//! 2 usage or configuration error.

use crate::serve::ServerOptions;
use crate::UsageError;
use clap::{Args, Subcommand};
use serde_json::json;
use std::process::ExitCode;
use tessera_core::internal::credential::{parse_authorization, Credential};
use tessera_core::internal::nostr::verify_authorization_event;
use tessera_core::{Clock, Format, Identity, Policy, SystemClock};
use tessera_core::{HttpRequest, Nip98Options};
use tessera_server::gateway::{Caller, Decision, ForwardedRequest, PayloadWithoutBody};

#[derive(Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Print the decision for one request and the rule that made it; exit 0 allowed, 1 denied, 2 usage error.
    Test(TestArgs),
}

#[derive(Args)]
struct TestArgs {
    #[command(flatten)]
    options: ServerOptions,
    /// The original request's method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// The original request's absolute URL (https://api.example/upload?x=1).
    #[arg(long)]
    url: String,
    /// A Nostr credential (`Nostr <base64 event>` or the bare event): an NWT for this server or a NIP-98 event for --method/--url.
    #[arg(long, conflicts_with_all = ["issuer", "subject", "audience", "claims"])]
    credential: Option<String>,
    /// Simulated caller: the configured issuer name (tessera, nostr, an [[issuer]] name).
    #[arg(long, requires = "subject")]
    issuer: Option<String>,
    /// Simulated caller: its subject.
    #[arg(long, requires = "issuer")]
    subject: Option<String>,
    /// Simulated caller: an audience its credential names (repeatable).
    #[arg(long, requires = "issuer")]
    audience: Vec<String>,
    /// Simulated caller: its claims, a JSON object ({"scope":"read upload"}).
    #[arg(long, requires = "issuer")]
    claims: Option<String>,
}

pub fn run(args: RulesArgs) -> Result<ExitCode, UsageError> {
    let RulesCommand::Test(args) = args.command;
    let config = args.options.effective()?;
    let rules = config.forward_auth_rules()?;
    let request = ForwardedRequest::from_url(&args.method, &args.url)
        .map_err(|e| UsageError(format!("--method/--url: {e} ({})", e.code())))?;
    let route = rules.route(&request);
    // No body here: a `payload` tag is checked against none, unless the
    // rule accepts it unchecked (as `/v1/verify` does behind nginx).
    let unchecked = route.nip98_payload_without_body() == PayloadWithoutBody::AcceptUnchecked;
    let caller: Option<(String, Identity)> = match (&args.credential, &args.issuer) {
        (Some(c), _) => Some((
            "nostr".into(),
            nostr_identity(&config, &request, c, unchecked)?,
        )),
        (None, Some(issuer)) => Some((issuer.clone(), simulated(&args)?)),
        (None, None) => None,
    };
    let decision = match &caller {
        _ if !route.needs_credential() => route.decide(None),
        Some((issuer, id)) => route.decide(Some(&Caller::new(issuer, id))),
        None => route.decide(None),
    };
    let (name, rule, reason) = match &decision {
        Decision::Allow { rule } => ("allow", *rule, None),
        Decision::Unauthenticated => ("unauthenticated", route.rule(), None),
        Decision::Forbidden(d) => ("forbidden", d.rule, Some(d)),
    };
    let mut out = json!({
        "decision": name,
        "status": decision.status(),
        "rule": rule,
        "rules_configured": rules.len(),
        "request": {
            "method": request.method(),
            "url": request.nip98_url(),
            "path": request.path(),
        },
    });
    if let Some(d) = reason {
        out["reason"] = json!(d.reason);
        out["description"] = json!(d.description);
    }
    if let Some((issuer, id)) = &caller {
        out["caller"] = json!({"issuer": issuer, "subject": id.subject});
    }
    crate::print_json(&out);
    Ok(match decision {
        Decision::Allow { .. } => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

/// An NWT whose `aud` names the server, or a NIP-98 event for `request`
/// (its `payload` tag not compared when `unchecked_payload`).
fn nostr_identity(
    config: &tessera_server::config::Config,
    request: &ForwardedRequest,
    credential: &str,
    unchecked_payload: bool,
) -> Result<Identity, UsageError> {
    let value = crate::read_credential(credential)?;
    let event = match parse_authorization(&value, config.max_authorization_bytes, true) {
        Ok(Credential::Nostr(e)) => e,
        Ok(Credential::Bearer(e)) if !e.contains('.') => e,
        Ok(Credential::Bearer(_)) => {
            return Err(UsageError(
                "--credential takes a Nostr credential (NWT or NIP-98); for an access token or another issuer's JWT, simulate the caller with --issuer, --subject and --claims".into(),
            ))
        }
        Err(e) => return Err(UsageError(format!("--credential: {}", e.message()))),
    };
    let policy = Policy {
        audiences: vec![config.public_url(), config.public_host()],
        ..Policy::default()
    };
    let url = request.nip98_url();
    let http = HttpRequest {
        url: &url,
        method: request.method(),
        body: None,
    };
    let now = SystemClock.now();
    verify_authorization_event(
        event,
        &policy,
        &[],
        Some(&http),
        &Nip98Options {
            unchecked_payload,
            ..Nip98Options::default()
        },
        now,
    )
    .map_err(|e| {
        UsageError(format!(
            "--credential does not verify ({}): {}",
            e.code().as_str(),
            e.message()
        ))
    })
}

/// The identity of `--issuer`/`--subject`/`--audience`/`--claims`.
fn simulated(args: &TestArgs) -> Result<Identity, UsageError> {
    let claims = args.claims.as_deref().unwrap_or("{}");
    let claims = tessera_core::internal::json::read_object(claims.as_bytes())
        .map_err(|e| UsageError(format!("--claims must be a JSON object: {}", e.message())))?;
    // No credential was verified: the algorithm is never read by the rules
    // (a simulated identity used to say "none"; the rules never saw it).
    let mut id = Identity::new(
        Format::Jwt,
        tessera_core::Algorithm::HS256,
        args.subject.clone().unwrap_or_default(),
    );
    id.audience = args.audience.clone();
    id.claims = claims.into();
    Ok(id)
}
