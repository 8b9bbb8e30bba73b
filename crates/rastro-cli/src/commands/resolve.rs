//! `rastro resolve`: the general record-linkage tool (Fellegi–Sunter) on any CSV, driven by a
//! TOML settings file naming the columns, their types and the blocking rules.

use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Args;
use rastro_resolve::{eval, Settings, Table};
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ResolveArgs {
    /// Settings: id column, compared columns and types, blocking rules, limits (TOML).
    #[arg(long)]
    pub settings: PathBuf,
    /// Records to deduplicate (CSV with a header row).
    #[arg(long)]
    pub input: PathBuf,
    /// Link --input to this file instead: only pairs across the two files are compared.
    #[arg(long)]
    pub link: Option<PathBuf>,
    /// Scored pairs at or above the threshold, each column's level and weight (CSV).
    #[arg(long)]
    pub out: PathBuf,
    /// Each record's cluster (CSV: id, cluster_id).
    #[arg(long)]
    pub clusters: Option<PathBuf>,
    /// Match probability to report and cluster at (overrides the settings).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// The trained model (λ, m and u per column and level) as JSON.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Machine-readable summary on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(serde::Serialize)]
struct Summary {
    records: usize,
    quarantined: usize,
    comparisons: u64,
    pairs: usize,
    clusters: usize,
    refused_links: usize,
    lambda: f64,
    seconds: f64,
    pairwise: Option<eval::Quality>,
    clustered: Option<eval::Quality>,
    notes: Vec<String>,
}

fn open(p: &PathBuf) -> anyhow::Result<BufReader<std::fs::File>> {
    Ok(BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?,
    ))
}

pub fn resolve(g: &Global, a: ResolveArgs) -> anyhow::Result<ExitCode> {
    super::ctx::operator_only(g, "resolve")?;
    let started = std::time::Instant::now();
    let text = std::fs::read_to_string(&a.settings)
        .with_context(|| format!("reading {}", a.settings.display()))?;
    let mut settings = Settings::from_toml(&text, &a.settings.display().to_string())?;
    if let Some(t) = a.threshold {
        anyhow::ensure!(
            (0.0..=1.0).contains(&t),
            "--threshold {t}: a match probability between 0 and 1"
        );
        settings.threshold = t;
    }
    let mut table = Table::new(&settings);
    table.read_csv(
        &settings,
        open(&a.input)?,
        &a.input.display().to_string(),
        0,
    )?;
    if let Some(l) = &a.link {
        table.read_csv(&settings, open(l)?, &l.display().to_string(), 1)?;
    }
    for q in &table.quarantined {
        eprintln!("quarantined {}:{}: {}", q.file, q.line, q.reason);
    }
    let link = a.link.is_some();
    let out = rastro_resolve::run(&table, &settings, link)?;
    let mut w = BufWriter::new(
        std::fs::File::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?,
    );
    rastro_resolve::write_pairs(&mut w, &table, &out.model, &out.pairs)?;
    w.flush()?;
    if let Some(c) = &a.clusters {
        let mut w = BufWriter::new(
            std::fs::File::create(c).with_context(|| format!("creating {}", c.display()))?,
        );
        rastro_resolve::write_clusters(&mut w, &table, &out.labels)?;
        w.flush()?;
    }
    if let Some(m) = &a.model {
        std::fs::write(m, serde_json::to_string_pretty(&out.model)?)
            .with_context(|| format!("writing {}", m.display()))?;
    }
    let has_truth = settings.truth.is_some();
    let mut distinct = out.labels.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let s = Summary {
        records: table.len(),
        quarantined: table.quarantined.len(),
        comparisons: out.compared,
        pairs: out.pairs.len(),
        clusters: distinct.len(),
        refused_links: out.refused_links,
        lambda: out.model.lambda,
        seconds: started.elapsed().as_secs_f64(),
        pairwise: has_truth.then(|| eval::of_pairs(&table, &out.pairs, settings.threshold, link)),
        clustered: has_truth.then(|| eval::of_clusters(&table, &out.labels, link)),
        notes: out.model.notes.clone(),
    };
    if a.json {
        print_json(&s)?;
    } else {
        println!(
            "{} records ({} quarantined), {} comparisons, {} pairs ≥ {}, {} clusters, {} weak links refused, λ = {:.3e}, {:.2} s",
            s.records, s.quarantined, s.comparisons, s.pairs, settings.threshold, s.clusters, s.refused_links, s.lambda, s.seconds
        );
        for (what, q) in [("pairs", &s.pairwise), ("clusters", &s.clustered)] {
            if let Some(q) = q {
                println!(
                    "{what}: precision {:.4} recall {:.4} F1 {:.4} ({} of {} true pairs, {} predicted)",
                    q.precision, q.recall, q.f1, q.true_positives, q.true_pairs, q.predicted_pairs
                );
            }
        }
        for n in &s.notes {
            eprintln!("note: {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
