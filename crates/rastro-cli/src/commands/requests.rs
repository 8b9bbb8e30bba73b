//! `rastro request create|approve|refuse|show|list`: what partners ask of the host nation,
//! with purpose, legal basis, period and expiry, decided by the host nation with a reason.

use super::ctx;
use super::ctx::parse_time;
use super::Global;
use crate::output::print_json;
use clap::{Subcommand, ValueEnum};
use rastro_app::ops_views::RequestV1;
use rastro_ops::{RequestKind, Target};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Operation,
    Surveillance,
    Information,
}

/// `min_lat,min_lon,max_lat,max_lon`.
fn parse_area(s: &str) -> Result<[f64; 4], String> {
    let v: Result<Vec<f64>, _> = s.split(',').map(|x| x.trim().parse::<f64>()).collect();
    match v {
        Ok(v) if v.len() == 4 => Ok([v[0], v[1], v[2], v[3]]),
        _ => Err(format!("area {s:?}: give min_lat,min_lon,max_lat,max_lon")),
    }
}

#[derive(Subcommand)]
pub enum RequestCmd {
    /// Ask the host nation for an operation on a lead, surveillance, or information.
    Create {
        id: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        /// The lead an operation request is about.
        #[arg(long)]
        lead: Option<String>,
        /// The consignment, vehicle or area (min_lat,min_lon,max_lat,max_lon) to watch.
        #[arg(long, conflicts_with_all = ["vehicle", "area"])]
        consignment: Option<String>,
        #[arg(long, conflicts_with = "area")]
        vehicle: Option<String>,
        #[arg(long, value_parser = parse_area)]
        area: Option<[f64; 4]>,
        /// The question an information request asks.
        #[arg(long)]
        question: Option<String>,
        #[arg(long)]
        purpose: String,
        #[arg(long = "legal-basis")]
        legal_basis: String,
        #[arg(long, value_parser = parse_time)]
        start: i64,
        #[arg(long, value_parser = parse_time)]
        end: i64,
        #[arg(long, value_parser = parse_time)]
        expires: i64,
        #[arg(long)]
        json: bool,
    },
    /// Approve a pending request (host-nation deciders), with a reason.
    Approve {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        version: Option<u64>,
    },
    /// Refuse a pending request, with a reason.
    Refuse {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        version: Option<u64>,
    },
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Partner observations checked on ingest: the approved request each was collected
    /// under, or why it is flagged.
    Collection {
        /// Only flagged observations.
        #[arg(long)]
        flagged: bool,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

fn line(r: &RequestV1) {
    println!(
        "{}\t{}\t{}\t{} ({})\tby {} of {}\texpires {}{}",
        r.id,
        r.kind,
        r.state,
        r.purpose,
        r.legal_basis,
        r.requester,
        r.org,
        r.expires,
        r.reason
            .as_ref()
            .map(|x| format!("\t{}: {x}", r.decided_by.as_deref().unwrap_or("")))
            .unwrap_or_default()
    );
}

pub fn request(g: &Global, cmd: RequestCmd) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    let now = ctx::now_ms();
    match cmd {
        RequestCmd::Create {
            id,
            kind,
            lead,
            consignment,
            vehicle,
            area,
            question,
            purpose,
            legal_basis,
            start,
            end,
            expires,
            json,
        } => {
            let kind = match kind {
                KindArg::Operation => RequestKind::Operation {
                    lead: lead
                        .ok_or_else(|| anyhow::anyhow!("an operation request names --lead"))?,
                },
                KindArg::Information => RequestKind::Information {
                    question: question
                        .ok_or_else(|| anyhow::anyhow!("an information request asks --question"))?,
                },
                KindArg::Surveillance => RequestKind::Surveillance {
                    of: match (consignment, vehicle, area) {
                        (Some(id), _, _) => Target::Consignment { id },
                        (_, Some(id), _) => Target::Vehicle { id },
                        (_, _, Some([a, b, c, d])) => Target::Area {
                            min_lat: a,
                            min_lon: b,
                            max_lat: c,
                            max_lon: d,
                        },
                        _ => anyhow::bail!(
                            "a surveillance request names --consignment, --vehicle or --area"
                        ),
                    },
                },
            };
            match ctx::guard(g, &mut node)?.create_request(
                &id,
                kind,
                &purpose,
                &legal_basis,
                (start, end),
                expires,
                now,
            ) {
                Ok(r) => {
                    ctx::sign_after_write(&mut node)?;
                    if json {
                        print_json(&r)?
                    } else {
                        line(&r)
                    }
                }
                Err(e) => return ctx::refused(e),
            }
        }
        RequestCmd::Approve {
            id,
            reason,
            version,
        } => return decide(g, &mut node, &id, version, true, &reason, now),
        RequestCmd::Refuse {
            id,
            reason,
            version,
        } => return decide(g, &mut node, &id, version, false, &reason, now),
        RequestCmd::Show { id, json } => match ctx::guard(g, &mut node)?.request(&id, now)? {
            Some(r) => {
                if json {
                    print_json(&r)?
                } else {
                    line(&r)
                }
            }
            None => {
                return Ok(ctx::missing(
                    "request",
                    &id,
                    "`rastro request list` lists those you may see",
                ))
            }
        },
        RequestCmd::List { json } => {
            let list = ctx::guard(g, &mut node)?.requests(now)?;
            if json {
                print_json(&list)?;
            } else {
                list.iter().for_each(line);
                if list.is_empty() {
                    eprintln!("no requests you may see");
                }
            }
        }
        RequestCmd::Collection {
            flagged,
            limit,
            json,
        } => {
            let list = ctx::guard(g, &mut node)?.collection(flagged, limit)?;
            if json {
                print_json(&list)?;
            } else {
                for c in &list {
                    println!(
                        "{}\t{}\t{}\t{}\t{:.5},{:.5}\t{}",
                        c.originator,
                        c.observation,
                        c.subject,
                        c.time,
                        c.lat,
                        c.lon,
                        match (&c.request, &c.flag) {
                            (Some(r), _) => format!("under {r}"),
                            (None, Some(f)) => format!("FLAGGED: {f}"),
                            (None, None) => String::new(),
                        }
                    );
                }
                if list.is_empty() {
                    eprintln!("no partner collection you may see");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn decide(
    g: &Global,
    node: &mut rastro_app::Node,
    id: &str,
    version: Option<u64>,
    approve: bool,
    reason: &str,
    now: i64,
) -> anyhow::Result<ExitCode> {
    let mut guard = ctx::guard(g, node)?;
    let version = match version {
        Some(v) => v,
        None => match guard.request(id, now)? {
            Some(r) => r.version,
            None => {
                return Ok(ctx::missing(
                    "request",
                    id,
                    "`rastro request list` lists those you may see",
                ))
            }
        },
    };
    match guard.decide_request(id, version, approve, reason, now) {
        Ok(Some(r)) => {
            drop(guard);
            ctx::sign_after_write(node)?;
            line(&r);
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => Ok(ctx::missing(
            "request",
            id,
            "`rastro request list` lists those you may see",
        )),
        Err(e) => ctx::refused(e),
    }
}
