//! `rastro org` and `rastro user`: organisations, users and their API tokens; and the guard
//! every read command opens (the operator's, or a user's with `--as USER`).

use super::data::open_store;
use super::Global;
use crate::output::print_json;
use clap::Subcommand;
use rastro_policy::guard::Guard;
use rastro_policy::{OrgKind, Role};
use rastro_store::{OrgRow, Store};
use std::process::ExitCode;

/// Opens the guard for this invocation: `--as USER` reads as that user, otherwise as the node
/// operator. An unknown or revoked user is refused with one message for both.
pub fn guard<'a>(g: &Global, store: &'a mut Store) -> anyhow::Result<Guard<'a>> {
    Ok(match &g.as_user {
        Some(u) => Guard::as_user(store, u).map_err(|e| anyhow::anyhow!("--as {u}: {e}"))?,
        None => Guard::operator(store)?,
    })
}

fn parse_kind(s: &str) -> Result<OrgKind, String> {
    OrgKind::parse(s).ok_or_else(|| {
        format!(
            "unknown organisation kind {s:?}; one of: {}",
            OrgKind::ALL.map(|k| k.as_str()).join(", ")
        )
    })
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!(
            "unknown role {s:?}; one of: {}",
            Role::ALL.map(|k| k.as_str()).join(", ")
        )
    })
}

fn parse_code(s: &str) -> Result<String, String> {
    let c = s.trim().to_ascii_uppercase();
    let ok =
        (2..=16).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(c)
        .ok_or_else(|| format!("organisation code {s:?} must be 2 to 16 letters, digits or '-'"))
}

fn parse_nation(s: &str) -> Result<String, String> {
    rastro_core::Country::parse(s)
        .map(|c| c.as_str().to_string())
        .map_err(|e| format!("{e}"))
}

#[derive(Subcommand)]
pub enum OrgCmd {
    /// Register an organisation.
    Add {
        /// Short code used as originator and in releasable-to lists (e.g. ANAM, SEMAR, DEA).
        #[arg(value_parser = parse_code)]
        code: String,
        #[arg(long)]
        name: String,
        /// ISO 3166 alpha-2 nation.
        #[arg(long, value_parser = parse_nation)]
        nation: String,
        #[arg(long, value_parser = parse_kind)]
        kind: OrgKind,
    },
    /// List organisations.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Add a user; prints their API token once (only its argon2id hash is stored).
    Add {
        name: String,
        #[arg(long, value_parser = parse_code)]
        org: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Revoke a user's token; they can no longer read anything.
    Revoke { name: String },
    /// List users (never their tokens).
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn org(g: &Global, cmd: OrgCmd) -> anyhow::Result<ExitCode> {
    let mut store = open_store(g)?;
    match cmd {
        OrgCmd::Add {
            code,
            name,
            nation,
            kind,
        } => {
            let row = OrgRow {
                code: code.clone(),
                name,
                nation,
                kind: kind.as_str().to_string(),
            };
            if !store.add_org(&row, super::analysis::now_ms())? {
                eprintln!("error: organisation {code} already exists");
                return Ok(ExitCode::from(1));
            }
            super::audit::sign_after_write(g, &mut store)?;
            println!("added organisation {code}");
        }
        OrgCmd::List { json } => {
            let orgs = store.orgs()?;
            if json {
                let v: Vec<_> = orgs
                    .iter()
                    .map(|o| serde_json::json!({"code": o.code, "name": o.name, "nation": o.nation, "kind": o.kind}))
                    .collect();
                print_json(&v)?;
            } else {
                for o in &orgs {
                    println!("{:<10} {} {:<22} {}", o.code, o.nation, o.kind, o.name);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn user(g: &Global, cmd: UserCmd) -> anyhow::Result<ExitCode> {
    let mut store = open_store(g)?;
    match cmd {
        UserCmd::Add { name, org, role } => {
            let (row, token) = rastro_policy::token::new_user(&name, &org, role.as_str())?;
            if !store.add_user(&row, super::analysis::now_ms())? {
                eprintln!(
                    "error: user {name} already exists, or organisation {org} is not registered (`rastro org list`)"
                );
                return Ok(ExitCode::from(1));
            }
            super::audit::sign_after_write(g, &mut store)?;
            eprintln!(
                "added {name} ({} at {org}); their token, shown only now:",
                role.as_str()
            );
            println!("{token}");
        }
        UserCmd::Revoke { name } => {
            if !store.revoke_user(&name, super::analysis::now_ms())? {
                eprintln!("error: no active user {name}");
                return Ok(ExitCode::from(1));
            }
            super::audit::sign_after_write(g, &mut store)?;
            println!("revoked {name}");
        }
        UserCmd::List { json } => {
            let users = store.users()?;
            if json {
                let v: Vec<_> = users
                    .iter()
                    .map(|u| serde_json::json!({"name": u.name, "org": u.org, "role": u.role, "revoked": u.revoked}))
                    .collect();
                print_json(&v)?;
            } else {
                for u in &users {
                    println!(
                        "{:<16} {:<10} {:<10} {}",
                        u.name,
                        u.org,
                        u.role,
                        if u.revoked { "revoked" } else { "active" }
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
