//! `rastro evaluate`: analytics against simulator truth.

use super::data::open_store;
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
    let store = open_store(g)?;
    let e = rastro_eval::evaluate(&store, &a.truth)?;
    if a.json {
        print_json(&e)?;
    } else {
        print!("{}", rastro_eval::table(&e));
    }
    Ok(ExitCode::SUCCESS)
}
