//! `rastro share export|import|objects`: STIX 2.1 bundles between sovereign nodes and any
//! other tool, through the guard (an export holds only what both you and the recipient may
//! read; an import speaks for your organisation).

use super::ctx;
use super::ctx::parse_time;
use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Subcommand;
use rastro_app::ingest::IngestLimits;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ShareCmd {
    /// Write a STIX 2.1 bundle for an organisation: what you and it may both read.
    Export {
        /// The recipient organisation (its code).
        #[arg(long = "for")]
        to: String,
        /// Only records, alerts and leads with a time from this one (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        since: Option<i64>,
        #[arg(long)]
        out: PathBuf,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Import a STIX 2.1 bundle as your organisation.
    Import {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Publish to an organisation's TAXII collection what you and it may both read (host
    /// analysts, commanders, administrators); objects no longer shared are withdrawn.
    Publish {
        #[arg(long = "for")]
        to: String,
        #[arg(long)]
        json: bool,
    },
    /// The TAXII 2.1 collections you may see, with their ids.
    Collections {
        #[arg(long)]
        json: bool,
    },
    /// Imported STIX objects you may read that map to no Rastro record, as they came.
    Objects {
        /// Every version, not only the newest of each object.
        #[arg(long)]
        all_versions: bool,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

pub fn share(g: &Global, cmd: ShareCmd) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    let now = ctx::now_ms();
    match cmd {
        ShareCmd::Export {
            to,
            since,
            out,
            json,
        } => {
            let (bundle, summary) = ctx::guard(g, &mut node)?.export_bundle(&to, since, now)?;
            let text = serde_json::to_string(&bundle)?;
            std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
            if json {
                print_json(&summary)?;
            } else {
                println!(
                    "{}: {} objects for {} ({})",
                    out.display(),
                    summary.objects,
                    summary.recipient,
                    summary
                        .by_kind
                        .iter()
                        .map(|(k, n)| format!("{n} {k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        ShareCmd::Import { file, json } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let r =
                ctx::guard(g, &mut node)?.import_bundle(&bytes, &IngestLimits::default(), now)?;
            if json {
                print_json(&r)?;
            } else {
                let kinds = |m: &std::collections::BTreeMap<String, u64>| {
                    m.iter()
                        .map(|(k, n)| format!("{n} {k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                println!(
                    "{}: {} objects; records inserted: {}; already held: {}; kept as they came: {} new, {} unchanged; {} definitions",
                    file.display(),
                    r.objects,
                    kinds(&r.inserted),
                    kinds(&r.duplicates),
                    r.stored,
                    r.unchanged,
                    r.definitions
                );
            }
        }
        ShareCmd::Publish { to, json } => {
            let r = match ctx::guard(g, &mut node)?.taxii_publish(&to, now) {
                Ok(r) => r,
                Err(e) => return ctx::refused(e),
            };
            if json {
                print_json(&r)?;
            } else {
                println!(
                    "collection {} for {}: {} objects published, {} versions new, {} withdrawn",
                    r.collection, r.audience, r.objects, r.added, r.withdrawn
                );
            }
        }
        ShareCmd::Collections { json } => {
            let list = ctx::guard(g, &mut node)?.taxii_collections();
            if json {
                print_json(&list)?;
            } else {
                for c in &list {
                    println!(
                        "{}	{}	{}	{}",
                        c.id,
                        c.alias.as_deref().unwrap_or_default(),
                        if c.can_write { "read, write" } else { "read" },
                        c.title
                    );
                }
            }
        }
        ShareCmd::Objects {
            all_versions,
            limit,
            json,
        } => {
            let list = ctx::guard(g, &mut node)?.stix_objects(all_versions, limit)?;
            if json {
                print_json(&list)?;
            } else {
                for o in &list {
                    println!(
                        "{}\t{}\t{}\tTLP:{}\tby {}",
                        o.id, o.modified, o.ty, o.tlp, o.originator
                    );
                }
                if list.is_empty() {
                    eprintln!("no imported objects you may read");
                }
            }
        }
    }
    ctx::sign_after_write(&mut node)?;
    Ok(ExitCode::SUCCESS)
}
