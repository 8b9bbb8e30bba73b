//! `rastro evaluate`: analytics against simulator truth.

use super::ctx;
use super::Global;
use crate::output::print_json;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct EvaluateArgs {
    /// The folder `rastro simulate` wrote (or its truth/ subfolder).
    #[arg(long)]
    pub truth: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn evaluate(g: &Global, a: EvaluateArgs) -> anyhow::Result<ExitCode> {
    ctx::operator_only(g, "evaluate")?;
    let mut node = ctx::node(g)?;
    let (alerts, leads, states) = node.system("evaluation").operator_results()?;
    let e = rastro_eval::evaluate(&alerts, &leads, &states, &a.truth)?;
    // What closed operations taught the scoring (the operator's view learns from all).
    let rates = node.operator()?.hit_rates()?;
    if a.json {
        let mut v = serde_json::to_value(&e)?;
        v["feedback"] = serde_json::json!({ "hit_rates": rates });
        print_json(&v)?;
    } else {
        print!("{}", rastro_eval::table(&e));
        if rates.is_empty() {
            println!("feedback: no closed operations yet, so lead scoring is uncalibrated");
        } else {
            println!(
                "feedback: hit rates per evidence kind over closed operations (Laplace-smoothed): {}",
                rates
                    .iter()
                    .map(|r| format!("{} {}/{} ({:.2})", r.kind, r.hits, r.trials, r.rate))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
