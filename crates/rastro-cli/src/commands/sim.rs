//! `rastro simulate`: write a national scenario with ground truth.

use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Args;
use rastro_sim::{Config, Difficulty, Scale, DEFAULT_CONFIG};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SimulateArgs {
    /// Output folder (created); truth goes to OUT/truth.
    #[arg(long, required_unless_present = "print_config")]
    pub out: Option<PathBuf>,
    /// Random seed (overrides the configuration's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Scale preset: small (~300 consignments), medium (~10,000), national (~100,000).
    #[arg(long, default_value = "small", value_parser = ["small", "medium", "national"])]
    pub scale: String,
    /// Difficulty preset: easy, medium, hard (roads, registry, telemetry, benign anomalies);
    /// overrides those knobs of --config when given.
    #[arg(long, value_parser = ["easy", "medium", "hard"])]
    pub difficulty: Option<String>,
    /// TOML configuration (see --print-config for every knob).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print the default configuration and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Machine-readable summary on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn load_config(a: &SimulateArgs) -> anyhow::Result<Config> {
    let mut cfg = match &a.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Config::from_toml(&text)
                .with_context(|| format!("{}: invalid simulator configuration", p.display()))?
        }
        None => Config::default_config(),
    };
    if a.config.is_none() || a.scale != "small" {
        // A scale preset sets the volume knobs; an explicit file keeps its own unless a
        // non-default scale is asked for.
        cfg.apply_scale(Scale::parse(&a.scale).unwrap_or(Scale::Small));
    }
    if let Some(d) = a.difficulty.as_deref().and_then(Difficulty::parse) {
        cfg.apply_difficulty(d);
    }
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    Ok(cfg)
}

pub fn simulate(g: &Global, a: SimulateArgs) -> anyhow::Result<ExitCode> {
    super::ctx::operator_only(g, "simulate")?;
    if a.print_config {
        print!("{DEFAULT_CONFIG}");
        return Ok(ExitCode::SUCCESS);
    }
    let cfg = load_config(&a)?;
    let out = a.out.clone().context("--out is required")?;
    let t0 = std::time::Instant::now();
    let summary = rastro_sim::run(&cfg, &out)
        .with_context(|| format!("simulating into {}", out.display()))?;
    let secs = t0.elapsed().as_secs_f64();
    tracing::info!(secs, observations = summary.observations, "simulated");
    if a.json {
        print_json(&summary)?;
    } else {
        println!("simulated {} consignments, {} observations, {} parties, {} reports, {} labs in {:.1} s", summary.consignments, summary.observations, summary.parties, summary.reports, summary.labs, secs);
        println!(
            "diverted {} consignments: {:?}",
            summary.diverted, summary.by_typology
        );
        println!(
            "files in {} (truth in {}/truth, never ingested)",
            out.display(),
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
