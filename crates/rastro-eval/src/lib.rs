//! Evaluation of analytics against simulator truth (`DIR/truth/*.jsonl`).
//!
//! Reads what the analytics produced from the store and what really happened from the truth
//! files, and reports precision, recall and F1 per typology. An analytic that does not exist
//! yet is reported as absent, never as zero or perfect.

use rastro_core::geo::haversine_m;
use rastro_core::Typology;
use rastro_store::{AlertFilter, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Distance within which a place-based alert matches a true lab.
pub const LAB_MATCH_M: f64 = 2000.0;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read truth file {path}: {err}; is --truth the folder `rastro simulate` wrote (with truth/ inside)?")]
    Io { path: String, err: std::io::Error },
    #[error("{path}:{line}: not a truth record: {err}")]
    Parse {
        path: String,
        line: usize,
        err: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    pub truth: usize,
    pub predicted: usize,
    pub true_positives: usize,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
}

impl Metric {
    fn new(truth: usize, predicted: usize, tp_pred: usize, tp_truth: usize) -> Metric {
        let precision = (predicted > 0).then(|| tp_pred as f64 / predicted as f64);
        let recall = (truth > 0).then(|| tp_truth as f64 / truth as f64);
        let f1 = match (precision, recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
        Metric {
            truth,
            predicted,
            true_positives: tp_pred,
            precision,
            recall,
            f1,
        }
    }
}

/// The result of one evaluation. `absent` lists analytics that do not exist in this build.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub alerts: BTreeMap<String, Metric>,
    pub absent: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Deserialize)]
struct DiversionTruth {
    consignment: String,
    typologies: Vec<String>,
}

#[derive(Deserialize)]
struct LabTruth {
    lab: String,
    lat: f64,
    lon: f64,
    fed_by: Vec<String>,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|err| EvalError::Io {
        path: path.display().to_string(),
        err,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| EvalError::Parse {
                path: path.display().to_string(),
                line: i + 1,
                err: e.to_string(),
            })
        })
        .collect()
}

/// Evaluates the alerts in `store` against the truth under `truth_dir` (the simulator's output
/// folder or its `truth/` subfolder).
pub fn evaluate(store: &Store, truth_dir: &Path) -> Result<Evaluation, EvalError> {
    let dir = if truth_dir.join("truth").is_dir() {
        truth_dir.join("truth")
    } else {
        truth_dir.to_path_buf()
    };
    let diversions: Vec<DiversionTruth> = read_jsonl(&dir.join("diversions.jsonl"))?;
    let labs: Vec<LabTruth> = read_jsonl(&dir.join("labs.jsonl"))?;
    let mut truth: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in &diversions {
        for t in &d.typologies {
            truth
                .entry(t.clone())
                .or_default()
                .insert(d.consignment.clone());
        }
    }
    let all = store.alerts(&AlertFilter::default())?;
    let mut out = Evaluation {
        alerts: BTreeMap::new(),
        absent: Vec::new(),
        notes: Vec::new(),
    };
    for t in Typology::ALL {
        if !t.per_consignment() {
            continue;
        }
        let predicted: BTreeSet<&str> = all
            .iter()
            .filter(|a| a.typology == t)
            .map(|a| a.subject.as_str())
            .collect();
        let want = truth.get(t.as_str()).cloned().unwrap_or_default();
        let tp = predicted.iter().filter(|p| want.contains(**p)).count();
        out.alerts.insert(
            t.as_str().to_string(),
            Metric::new(want.len(), predicted.len(), tp, tp),
        );
    }
    // Convergence: place-based. A true convergence is a lab fed by two or more consignments.
    let targets: Vec<&LabTruth> = labs.iter().filter(|l| l.fed_by.len() >= 2).collect();
    let conv: Vec<_> = all
        .iter()
        .filter(|a| a.typology == Typology::Convergence)
        .collect();
    let near = |a: &rastro_core::Alert, l: &LabTruth| {
        a.lat
            .zip(a.lon)
            .is_some_and(|(la, lo)| haversine_m(la, lo, l.lat, l.lon) <= LAB_MATCH_M)
    };
    let tp_pred = conv
        .iter()
        .filter(|a| targets.iter().any(|l| near(a, l)))
        .count();
    let tp_truth = targets
        .iter()
        .filter(|l| conv.iter().any(|a| near(a, l)))
        .count();
    out.alerts.insert(
        "convergence".into(),
        Metric::new(targets.len(), conv.len(), tp_pred, tp_truth),
    );
    out.notes.push(format!("convergence: an alert is correct within {:.0} km of a lab fed by two or more consignments ({} such labs: {})", LAB_MATCH_M / 1000.0, targets.len(), targets.iter().map(|l| l.lab.as_str()).collect::<Vec<_>>().join(", ")));
    out.absent = vec![
        "leads (precision@5, precision@10, median distance to nearest lead)".into(),
        "entity resolution (pairwise precision, recall, F1)".into(),
        "forensic linkage of seizures".into(),
    ];
    Ok(out)
}

/// The evaluation as a text table.
pub fn table(e: &Evaluation) -> String {
    let f = |v: Option<f64>| {
        v.map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "  -  ".into())
    };
    let mut s = format!(
        "{:<24} {:>6} {:>9} {:>4} {:>9} {:>7} {:>6}\n",
        "typology", "truth", "predicted", "tp", "precision", "recall", "f1"
    );
    for (k, m) in &e.alerts {
        s.push_str(&format!(
            "{k:<24} {:>6} {:>9} {:>4} {:>9} {:>7} {:>6}\n",
            m.truth,
            m.predicted,
            m.true_positives,
            f(m.precision),
            f(m.recall),
            f(m.f1)
        ));
    }
    for a in &e.absent {
        s.push_str(&format!("absent: {a}\n"));
    }
    for n in &e.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}
