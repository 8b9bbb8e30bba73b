//! `rastro audit`: the tamper-evident log for auditors and partners.

use super::ctx;
use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Subcommand;
use rastro_app::AuditFilter;
use rastro_audit::{verify_consistency, verify_inclusion, SignedTreeHead};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Entries, oldest first.
    Log {
        /// Only this actor.
        #[arg(long)]
        who: Option<String>,
        /// Only entries at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only entries naming this record id.
        #[arg(long)]
        record: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Sign and print the current tree head (JSON): keep it to verify the log later.
    Head {
        /// Signing key file (created on first use, mode 0600). Default: DB.audit-key.
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Inclusion proof of entry INDEX in the tree of SIZE entries (default: current size).
    Prove {
        #[arg(long)]
        index: u64,
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between the trees of FROM and TO entries (default TO: current size).
    Consistency {
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: Option<u64>,
    },
    /// Recompute the tree, check the chain and every signed head; with --head, prove the log
    /// only grew since that head. Exits 1 and names the first bad entry if anything is wrong.
    Verify {
        /// An earlier signed tree head (JSON from `rastro audit head`).
        #[arg(long)]
        head: Option<PathBuf>,
        /// Pin the node's public key (hex) instead of trusting the one in the heads.
        #[arg(long)]
        public_key: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check another node's signed tree head without its log: the signature under the node's
    /// pinned public key and, with --earlier and --proof, that its log only grew since an
    /// earlier head of it (a consistency proof from `rastro audit consistency` on that node).
    CheckHead {
        #[arg(long)]
        head: PathBuf,
        /// The node's public key (hex), as its operator gave it.
        #[arg(long)]
        public_key: String,
        #[arg(long, requires = "proof")]
        earlier: Option<PathBuf>,
        #[arg(long, requires = "earlier")]
        proof: Option<PathBuf>,
    },
    /// Every entry with its exact leaf bytes (hex) and leaf hash, one JSON object per line.
    Export {
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn read_head(p: &PathBuf) -> anyhow::Result<SignedTreeHead> {
    serde_json::from_str(
        &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
    )
    .with_context(|| format!("{}: not a signed tree head", p.display()))
}

/// `audit check-head`: needs no database (the head is another node's).
fn check_head(
    head: &PathBuf,
    key: &str,
    earlier: Option<&PathBuf>,
    proof: Option<&PathBuf>,
) -> anyhow::Result<ExitCode> {
    let h = read_head(head)?;
    if let Err(e) = h.verify_signature(Some(key)) {
        println!("FAILED: {}: {e}", head.display());
        return Ok(ExitCode::from(1));
    }
    if let (Some(e), Some(p)) = (earlier, proof) {
        let old = read_head(e)?;
        if let Err(err) = old.verify_signature(Some(key)) {
            println!("FAILED: {}: {err}", e.display());
            return Ok(ExitCode::from(1));
        }
        let pj: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("{}: not a consistency proof", p.display()))?;
        let hashes: Option<Vec<rastro_audit::Hash>> = pj["proof"].as_array().and_then(|a| {
            a.iter()
                .map(|x| hex::decode(x.as_str()?).ok()?.try_into().ok())
                .collect()
        });
        let ok = pj["first"].as_u64() == Some(old.tree_size)
            && pj["second"].as_u64() == Some(h.tree_size)
            && match (old.root(), h.root(), hashes) {
                (Some(a), Some(b), Some(proof)) => {
                    verify_consistency(old.tree_size, h.tree_size, &a, &b, &proof)
                }
                _ => false,
            };
        if !ok {
            println!(
                "FAILED: the log of {} entries does not extend the one of {} entries under this proof",
                h.tree_size, old.tree_size
            );
            return Ok(ExitCode::from(1));
        }
        println!(
            "ok: signed by {key}; {} entries, extending the {} of the earlier head",
            h.tree_size, old.tree_size
        );
    } else {
        println!(
            "ok: signed by {key}; {} entries, root {}",
            h.tree_size, h.root_hash
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn audit(g: &Global, cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    if let AuditCmd::CheckHead {
        head,
        public_key,
        earlier,
        proof,
    } = &cmd
    {
        return check_head(head, public_key, earlier.as_ref(), proof.as_ref());
    }
    let mut node = ctx::node(g)?;
    {
        let guard = ctx::guard(g, &mut node)?;
        if let Err(e) = guard.require_audit() {
            return ctx::refused(e);
        }
        // Proofs and verification reveal hashes only; the log's entries and the signing key are
        // the host's: a partner's auditor reads only their own organisation's entries (`log`).
        let host = guard
            .viewer()
            .is_none_or(|v| v.nation == guard.policy().host_nation);
        let needs_host = matches!(cmd, AuditCmd::Export { .. } | AuditCmd::Head { .. });
        if needs_host && !host {
            eprintln!("error: exporting the log and signing heads are the host nation's");
            return Ok(ExitCode::from(ctx::REFUSED));
        }
        if matches!(cmd, AuditCmd::Head { .. }) && g.as_user.is_some() {
            eprintln!("error: signing a tree head is the node operator's; run it without --as");
            return Ok(ExitCode::from(ctx::REFUSED));
        }
    }
    match cmd {
        AuditCmd::Log {
            who,
            since,
            record,
            json,
        } => {
            let since_ms = since
                .as_deref()
                .map(rastro_core::parse_time_ms)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
            // Reading the log is itself a read of restricted data (the guard logs it).
            let rows = ctx::guard(g, &mut node)?.audit_log(&AuditFilter {
                actor: who,
                since_ms,
                record,
                limit: None,
                newest_first: false,
                ..Default::default()
            })?;
            if json {
                print_json(&rows)?;
            } else {
                for e in &rows {
                    println!(
                        "{:>6} {} {:<20} {:<8} {} {}",
                        e.seq,
                        e.time,
                        e.actor,
                        e.action,
                        e.from.as_deref().unwrap_or(""),
                        if e.records.is_empty() {
                            String::new()
                        } else {
                            e.records.join(",")
                        }
                    );
                }
            }
        }
        AuditCmd::Head { key } => {
            let sth = node.console().sign_head(key.as_deref(), ctx::now_ms())?;
            print_json(&sth)?;
        }
        AuditCmd::Prove { index, size } => {
            let t = node.console().tree()?;
            let size = size.unwrap_or(t.len());
            let proof = t.inclusion_proof(index, size).with_context(|| {
                format!(
                    "no entry {index} in a tree of {size} (the log has {})",
                    t.len()
                )
            })?;
            let root = t.root(size).context("size beyond the log")?;
            let leaf = *t.leaf(index).context("no such leaf")?;
            anyhow::ensure!(
                verify_inclusion(index, size, &leaf, &proof, &root),
                "internal error: the proof does not verify"
            );
            print_json(
                &serde_json::json!({ "index": index, "tree_size": size, "leaf_hash": hex::encode(leaf), "root_hash": hex::encode(root), "proof": proof.iter().map(hex::encode).collect::<Vec<_>>() }),
            )?;
        }
        AuditCmd::Consistency { from, to } => {
            let t = node.console().tree()?;
            let to = to.unwrap_or(t.len());
            let proof = t
                .consistency_proof(from, to)
                .with_context(|| format!("need FROM <= TO <= {}", t.len()))?;
            let (a, b) = (
                t.root(from).context("bad size")?,
                t.root(to).context("bad size")?,
            );
            anyhow::ensure!(
                verify_consistency(from, to, &a, &b, &proof),
                "internal error: the proof does not verify"
            );
            print_json(
                &serde_json::json!({ "first": from, "second": to, "first_root": hex::encode(a), "second_root": hex::encode(b), "proof": proof.iter().map(hex::encode).collect::<Vec<_>>() }),
            )?;
        }
        AuditCmd::Verify {
            head,
            public_key,
            json,
        } => {
            let earlier: Option<SignedTreeHead> = match &head {
                Some(p) => Some(
                    serde_json::from_str(
                        &std::fs::read_to_string(p)
                            .with_context(|| format!("reading {}", p.display()))?,
                    )
                    .with_context(|| format!("{}: not a signed tree head", p.display()))?,
                ),
                None => None,
            };
            let report = node
                .console()
                .verify(earlier.as_ref(), public_key.as_deref())?;
            if json {
                print_json(&report)?;
            } else if report.ok {
                println!(
                    "ok: {} entries, {} signed heads checked, root {}",
                    report.entries, report.heads_checked, report.root_hash
                );
            } else {
                println!(
                    "FAILED: first bad entry {}",
                    report
                        .first_bad_entry
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "-".into())
                );
                for p in &report.problems {
                    println!("  {p}");
                }
            }
            return Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        AuditCmd::CheckHead { .. } => unreachable!("answered before the database is opened"),
        AuditCmd::Export { out } => {
            let entries = node
                .console()
                .export_entries(out.as_ref().map(|p| p.display().to_string()))?;
            let mut w: Box<dyn Write> = match &out {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("creating {}", p.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            for e in &entries {
                writeln!(
                    w,
                    "{}",
                    serde_json::json!({ "seq": e.seq, "leaf": hex::encode(&e.bytes), "leaf_hash": hex::encode(&e.leaf_hash) })
                )?;
            }
            w.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
