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
    let mut e = rastro_eval::evaluate(&alerts, &leads, &states, &a.truth)?;
    let assignments = node.system("evaluation").operator_entities()?;
    e.entities = Some(rastro_eval::entity_quality(&assignments, &a.truth)?);
    forensics(&mut node, &leads, &a.truth, &mut e)?;
    // What closed operations taught the scoring (the operator's view learns from all), and
    // the leads' precision as ranked with it and without it.
    let rates = node.operator()?.hit_rates()?;
    let baseline = node.system("evaluation").operator_baseline()?;
    let p10 = |sites: Vec<(f64, f64)>| rastro_eval::lead_precision_at(&a.truth, sites, 10);
    let (without, with) = if baseline.is_empty() {
        (None, None)
    } else {
        (
            p10(baseline.iter().map(|b| (b.2, b.3)).collect())?,
            p10(leads.iter().map(|l| (l.lat, l.lon)).collect())?,
        )
    };
    if a.json {
        let mut v = serde_json::to_value(&e)?;
        v["feedback"] = serde_json::json!({
            "hit_rates": rates,
            "precision_at_10_without_feedback": without,
            "precision_at_10_with_feedback": with,
        });
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
            let f = |p: Option<f64>| p.map(|p| format!("{p:.3}")).unwrap_or_else(|| "-".into());
            println!(
                "feedback: leads precision@10 {} as ranked without feedback, {} with it",
                f(without),
                f(with)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Forensic linkage as the operator sees it, scored against the truth; when it cannot be
/// calibrated, the reason goes into the evaluation's notes.
pub(super) fn forensics(
    node: &mut rastro_app::Node,
    leads: &[rastro_core::Lead],
    truth: &std::path::Path,
    e: &mut rastro_eval::Evaluation,
) -> anyhow::Result<()> {
    let job = node.operator()?.forensics_job()?;
    match &job.calibration {
        Some(c) => {
            let groups: Vec<rastro_eval::ForensicGroup> = job
                .view
                .groups
                .iter()
                .map(|g| rastro_eval::ForensicGroup {
                    seizures: g.seizures.clone(),
                    leads: g.leads.iter().map(|l| l.lead.clone()).collect(),
                })
                .collect();
            let dims = rastro_forensics::Config::fentanyl().compounds.len();
            e.forensics = Some(rastro_eval::forensic_quality(
                &job.casework,
                c,
                dims,
                &groups,
                leads,
                truth,
            )?);
        }
        None => e.notes.push(format!(
            "forensic linkage: {}",
            job.view.not_calibrated.unwrap_or_default()
        )),
    }
    Ok(())
}
