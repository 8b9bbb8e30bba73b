//! `rastro org` and `rastro user`: organisations, users and their API tokens (the operator's).

use super::ctx;
use super::Global;
use crate::output::print_json;
use clap::Subcommand;
use rastro_app::{OrgKind, Role};
use std::process::ExitCode;

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
    /// Set the nation this node belongs to (default MX): a partner's own node names its own.
    HostNation {
        #[arg(value_parser = parse_nation)]
        nation: String,
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
    ctx::operator_only(g, "org")?;
    let mut node = ctx::node(g)?;
    match cmd {
        OrgCmd::Add {
            code,
            name,
            nation,
            kind,
        } => {
            if !node
                .admin()
                .add_org(&code, &name, &nation, kind, ctx::now_ms())?
            {
                eprintln!("error: organisation {code} already exists");
                return Ok(ExitCode::from(ctx::REFUSED));
            }
            ctx::sign_after_write(&mut node)?;
            println!("added organisation {code}");
        }
        OrgCmd::HostNation { nation } => {
            node.admin().set_host_nation(&nation)?;
            ctx::sign_after_write(&mut node)?;
            println!("this node is of {nation}");
        }
        OrgCmd::List { json } => {
            let orgs = node.admin().orgs()?;
            if json {
                print_json(&orgs)?;
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
    ctx::operator_only(g, "user")?;
    let mut node = ctx::node(g)?;
    match cmd {
        UserCmd::Add { name, org, role } => {
            let token = match node.admin().add_user(&name, &org, role, ctx::now_ms()) {
                Ok(Some(t)) => t,
                Ok(None) => {
                    eprintln!(
                        "error: user {name} already exists, or organisation {org} is not registered (`rastro org list`)"
                    );
                    return Ok(ExitCode::from(ctx::REFUSED));
                }
                Err(e) => return ctx::refused(e),
            };
            ctx::sign_after_write(&mut node)?;
            eprintln!(
                "added {name} ({} at {org}); their token, shown only now:",
                role.as_str()
            );
            println!("{token}");
        }
        UserCmd::Revoke { name } => {
            if !node.admin().revoke_user(&name, ctx::now_ms())? {
                eprintln!("error: no active user {name}");
                return Ok(ExitCode::from(ctx::REFUSED));
            }
            ctx::sign_after_write(&mut node)?;
            println!("revoked {name}");
        }
        UserCmd::List { json } => {
            let users = node.admin().users()?;
            if json {
                print_json(&users)?;
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
