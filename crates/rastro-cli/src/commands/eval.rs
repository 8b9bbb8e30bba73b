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
    if a.json {
        print_json(&e)?;
    } else {
        print!("{}", rastro_eval::table(&e));
    }
    Ok(ExitCode::SUCCESS)
}
