//! What every command shares: opening the node, the guard of this invocation (`--as USER`, or
//! the operator), refusing `--as` where a command is the operator's, signing a tree head after
//! a write, the clock, and how a refusal becomes an exit code.

use super::Global;
use anyhow::Context;
use rastro_app::{AppError, Guard, Node};
use std::process::ExitCode;

/// Exit code of a command that ran but found nothing or was refused (not found, not
/// permitted, invalid request); errors are 1 too, usage errors 2 (clap).
pub const REFUSED: u8 = 1;

/// An RFC 3339 time argument, in milliseconds.
pub fn parse_time(s: &str) -> Result<i64, String> {
    rastro_core::parse_time_ms(s)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time such as 2026-05-01T06:00:00Z: {e}"))
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Opens the database of this invocation.
pub fn node(g: &Global) -> anyhow::Result<Node> {
    Node::open(&g.db).with_context(|| format!("opening database {}", g.db.display()))
}

/// The guard of this invocation: `--as USER` reads as that user, otherwise as the node
/// operator. An unknown or revoked user is refused with one message for both.
pub fn guard<'a>(g: &Global, node: &'a mut Node) -> anyhow::Result<Guard<'a>> {
    Ok(match &g.as_user {
        Some(u) => node
            .as_user(u)
            .map_err(|e| anyhow::anyhow!("--as {u}: {e}"))?,
        None => node.operator()?,
    })
}

/// Refuses `--as` for a command that is the node operator's (ingest, analysis, management):
/// reading as a user makes sense, acting as one at the console does not.
pub fn operator_only(g: &Global, command: &str) -> anyhow::Result<()> {
    if let Some(u) = &g.as_user {
        anyhow::bail!(
            "`rastro {command}` is the node operator's and does not take --as (given --as {u}); \
             users act through the HTTP API, and `--as` is for reading and deciding as them"
        );
    }
    Ok(())
}

/// Signs a tree head after a command that wrote, with the key beside the database.
pub fn sign_after_write(node: &mut Node) -> anyhow::Result<()> {
    node.console().sign_head(None, now_ms())?;
    Ok(())
}

/// Prints a refusal of the guard (not permitted, invalid) and returns its exit code; other
/// errors propagate.
pub fn refused(e: AppError) -> anyhow::Result<ExitCode> {
    match e {
        AppError::Forbidden(m)
        | AppError::Invalid(m)
        | AppError::TooMany(m)
        | AppError::Conflict(m)
        | AppError::NotFound(m) => {
            eprintln!("error: {m}");
            Ok(ExitCode::from(REFUSED))
        }
        other => Err(other.into()),
    }
}

/// Prints "no such ..." and returns the refusal exit code: a hidden item answers exactly like
/// a missing one.
pub fn missing(what: &str, id: &str, hint: &str) -> ExitCode {
    eprintln!("error: no {what} {id:?}; {hint}");
    ExitCode::from(REFUSED)
}

/// Every skipped row is accounted for on stderr: the first ten with line and reason, then a
/// count. (Data goes to stdout, so a pipeline still gets clean output.)
pub fn report_bad_rows(name: &str, bad: &[(u64, String)]) {
    for (line, reason) in bad.iter().take(10) {
        eprintln!("warning: {name}:{line}: {reason}; row skipped");
    }
    if bad.len() > 10 {
        eprintln!("warning: … and {} more bad rows skipped", bad.len() - 10);
    }
}
