//! `rastro forensics calibrate|link|groups`: impurity-profile linkage of seized samples, on the
//! database as the caller (`--as`) may see it, or on profile files (`--profiles`).

use super::{ctx, Global};
use crate::output::print_json;
use anyhow::Context;
use clap::{Args, Subcommand};
use rastro_app::forensics::{analyse, ForensicsV1, Job};
use rastro_core::{Kind, Record, Sample};
use rastro_forensics::Config;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Clone)]
pub struct Source {
    /// Sample CSV files (the `samples.csv` format) to analyse instead of the database; every
    /// seizure they name counts as known.
    #[arg(long, num_args = 1..)]
    pub profiles: Vec<PathBuf>,
    /// Forensics configuration (TOML: compounds, methods, false_link_rate); default: the
    /// embedded fentanyl target list.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum ForensicsCmd {
    /// Choose the pretreatment and distance by ROC on the reference collection and set the
    /// threshold at the stated false-link rate.
    Calibrate {
        #[command(flatten)]
        source: Source,
        /// Write the distributions, the ROC curve and every method's figures as HTML.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Language of the report (en, es).
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Linked sample pairs, each with its value and false-link rate.
    Link {
        #[command(flatten)]
        source: Source,
        /// Only the links of this sample.
        #[arg(long)]
        sample: Option<String>,
        /// Write every link as CSV here (a, b, seizure_a, seizure_b, value, false_link_rate,
        /// true_link_rate), strongest first; not only the listed ones.
        #[arg(long)]
        out: Option<PathBuf>,
        /// How many links to print.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Groups of linked seizures, tied to leads and through them to consignments.
    Groups {
        #[command(flatten)]
        source: Source,
    },
}

fn config(s: &Source) -> anyhow::Result<Config> {
    match &s.config {
        None => Ok(Config::fentanyl()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading forensics configuration {}", p.display()))?;
            Ok(Config::parse(&text, &p.display().to_string())?)
        }
    }
}

/// Samples from files; quarantined lines reported on stderr with file, line and reason.
fn read_samples(files: &[PathBuf]) -> anyhow::Result<Vec<Sample>> {
    let mut out = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let file = std::fs::File::open(f).with_context(|| format!("opening {name}"))?;
        let mut r = rastro_ingest::open(std::io::BufReader::new(file), &name, Some(Kind::Sample))
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let mut bad = 0u64;
        while let Some(item) = r.next_item()? {
            match item {
                rastro_ingest::Item::Record {
                    record: Record::Sample(s),
                    ..
                } => out.push(s),
                rastro_ingest::Item::Record { line, .. } => {
                    anyhow::bail!("{name}:{line}: not a sample record")
                }
                rastro_ingest::Item::Quarantine(q) => {
                    bad += 1;
                    if bad <= 20 {
                        eprintln!(
                            "{}:{}: {}{}",
                            q.source,
                            q.line,
                            q.field.map(|f| format!("{f}: ")).unwrap_or_default(),
                            q.reason
                        );
                    }
                }
            }
        }
        if bad > 0 {
            eprintln!("{name}: {bad} line(s) refused");
        }
    }
    Ok(out)
}

fn job(g: &Global, s: &Source) -> anyhow::Result<Job> {
    if s.profiles.is_empty() {
        let mut node = ctx::node(g)?;
        let mut guard = ctx::guard(g, &mut node)?;
        return Ok(guard.forensics_job()?);
    }
    let cfg = config(s)?;
    let samples = read_samples(&s.profiles)?;
    let t = std::time::Instant::now();
    let j = analyse(&cfg, &samples, &|_| true)?;
    if !g.quiet {
        eprintln!(
            "{} samples compared ({} pairs; {} past pivot blocking, {} scored exactly), {} links, in {:.2} s",
            j.view.samples,
            j.links.pairs,
            j.links.pairs_screened,
            j.links.pairs_rescored,
            j.view.links_total,
            t.elapsed().as_secs_f64()
        );
    }
    Ok(j)
}

fn print_rejected(v: &ForensicsV1) {
    for r in v.rejected.iter().take(20) {
        eprintln!("refused {}: {}", r.sample, r.reason);
    }
    if v.rejected.len() > 20 {
        eprintln!("... {} samples refused in all", v.rejected.len());
    }
}

pub fn forensics(g: &Global, c: ForensicsCmd) -> anyhow::Result<ExitCode> {
    match c {
        ForensicsCmd::Calibrate {
            source,
            report,
            lang,
        } => {
            let Job {
                view: v,
                calibration,
                ..
            } = job(g, &source)?;
            print_rejected(&v);
            let Some(cal) = calibration else {
                anyhow::bail!(
                    "{}",
                    v.not_calibrated.unwrap_or_else(|| "not calibrated".into())
                );
            };
            if let Some(p) = report {
                std::fs::write(&p, rastro_forensics::plot::report_html(&cal, &lang))
                    .with_context(|| format!("writing {}", p.display()))?;
                eprintln!("report written to {}", p.display());
            }
            if source.json {
                print_json(&v.calibration)?;
            } else {
                println!(
                    "method {} · threshold {} {:.4} · false-link rate {:.2}% (stated {:.2}%) · true-link rate {:.1}% · AUC {:.4} · {} linked / {} unlinked reference pairs",
                    cal.method,
                    cal.comparator(),
                    cal.threshold,
                    100.0 * cal.false_link_rate,
                    100.0 * cal.stated_false_link_rate,
                    100.0 * cal.true_link_rate,
                    cal.auc,
                    cal.linked_pairs,
                    cal.unlinked_pairs
                );
                for k in &cal.candidates {
                    println!(
                        "  {:<22} AUC {:.4}  true links {:>5.1}%  threshold {:.4}",
                        k.method.to_string(),
                        k.auc,
                        100.0 * k.true_link_rate,
                        k.threshold
                    );
                }
            }
        }
        ForensicsCmd::Link {
            source,
            sample,
            out,
            limit,
        } => {
            let j = job(g, &source)?;
            let v = &j.view;
            print_rejected(v);
            if let Some(n) = &v.not_calibrated {
                anyhow::bail!("{n}");
            }
            let links: Vec<_> = v
                .links
                .iter()
                .filter(|l| sample.as_ref().is_none_or(|s| &l.a == s || &l.b == s))
                .collect();
            if let (Some(p), Some(cal)) = (out, &j.calibration) {
                let mut w = std::io::BufWriter::new(
                    std::fs::File::create(&p)
                        .with_context(|| format!("creating {}", p.display()))?,
                );
                writeln!(
                    w,
                    "a,b,seizure_a,seizure_b,value,false_link_rate,true_link_rate"
                )?;
                let prof = &j.casework.profiles;
                for l in &j.links.links {
                    let (a, b) = (&prof[l.a as usize], &prof[l.b as usize]);
                    if sample.as_ref().is_some_and(|s| &a.id != s && &b.id != s) {
                        continue;
                    }
                    writeln!(
                        w,
                        "{},{},{},{},{},{},{}",
                        a.id,
                        b.id,
                        a.seizure.as_deref().unwrap_or(""),
                        b.seizure.as_deref().unwrap_or(""),
                        l.raw,
                        cal.false_link_rate_at(l.score),
                        cal.true_link_rate_at(l.score)
                    )?;
                }
            }
            if source.json {
                print_json(&links)?;
            } else {
                let c = v.calibration.as_ref();
                let name = c.map(|c| c.distance.as_str()).unwrap_or("");
                for l in links.iter().take(limit) {
                    println!(
                        "{} ({}) — {} ({}): {name} {:.4}, false-link rate {:.3}%",
                        l.a,
                        l.seizure_a,
                        l.b,
                        l.seizure_b,
                        l.value,
                        100.0 * l.false_link_rate
                    );
                }
                if v.links_total > v.links.len() {
                    eprintln!(
                        "{} links in all; the first {} are listed",
                        v.links_total,
                        v.links.len()
                    );
                }
            }
        }
        ForensicsCmd::Groups { source } => {
            let j = job(g, &source)?;
            let v = &j.view;
            print_rejected(v);
            if let Some(n) = &v.not_calibrated {
                anyhow::bail!("{n}");
            }
            if source.json {
                print_json(&v.groups)?;
            } else {
                for gr in &v.groups {
                    println!("{}: {}", gr.id, gr.summary);
                    println!("  seizures {}", gr.seizures.join(", "));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
