//! Forensic linkage against the simulator's truth: how well the calibrated method separates
//! samples of one laboratory from the rest, the false-link rate it really has, how pure and
//! complete the seizure groups are, and whether groups are tied to the lead at their lab.

use crate::{read_jsonl, truth_folder, EvalError, LabTruth, LEAD_MATCH_M};
use rastro_core::geo::haversine_m;
use rastro_core::Lead;
use rastro_forensics::link::link_with;
use rastro_forensics::{Calibration, ProfileSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A group as Rastro formed it: its seizures and the leads it was tied to.
pub struct ForensicGroup {
    pub seizures: Vec<String>,
    pub leads: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForensicQuality {
    pub samples: usize,
    pub method: String,
    /// ROC AUC over all casework sample pairs, linked = one laboratory in the truth.
    pub auc: f64,
    pub stated_false_link_rate: f64,
    /// Share of truly unlinked pairs past the threshold.
    pub false_link_rate: f64,
    /// Share of truly linked pairs past the threshold.
    pub true_link_rate: f64,
    pub seizures: usize,
    pub groups: usize,
    /// Seizures in a group whose majority laboratory is theirs, over seizures grouped.
    pub purity: f64,
    /// Per laboratory with two or more seizures, the share in its largest group, averaged.
    pub completeness: f64,
    /// Group-to-lead ties, and those whose lead lies within the lead match distance of the
    /// group's (majority) laboratory.
    pub ties: usize,
    pub ties_correct: usize,
}

#[derive(Deserialize)]
struct SampleTruth {
    sample: String,
    seizure: String,
    lab: String,
}

pub fn forensic_quality(
    casework: &ProfileSet,
    calibration: &Calibration,
    dims: usize,
    groups: &[ForensicGroup],
    leads: &[Lead],
    truth_dir: &Path,
) -> Result<ForensicQuality, EvalError> {
    let dir = truth_folder(truth_dir);
    let truth: Vec<SampleTruth> = read_jsonl(&dir.join("samples.jsonl"))?;
    let labs: Vec<LabTruth> = read_jsonl(&dir.join("labs.jsonl"))?;
    let lab_of_sample: BTreeMap<&str, &str> = truth
        .iter()
        .map(|t| (t.sample.as_str(), t.lab.as_str()))
        .collect();
    let lab_of_seizure: BTreeMap<&str, &str> = truth
        .iter()
        .map(|t| (t.seizure.as_str(), t.lab.as_str()))
        .collect();
    // Every pair scored: a cut below every score keeps them all.
    let all = link_with(
        casework,
        dims,
        calibration.method,
        f64::NEG_INFINITY,
        usize::MAX,
    )
    .map_err(|e| EvalError::Forensics(e.to_string()))?;
    let (mut linked, mut unlinked) = (Vec::new(), Vec::new());
    for l in &all.links {
        let a = lab_of_sample.get(casework.profiles[l.a as usize].id.as_str());
        let b = lab_of_sample.get(casework.profiles[l.b as usize].id.as_str());
        if let (Some(a), Some(b)) = (a, b) {
            if a == b { &mut linked } else { &mut unlinked }.push(l.score);
        }
    }
    let past = |v: &[f64]| {
        v.iter().filter(|s| **s > calibration.cut).count() as f64 / v.len().max(1) as f64
    };
    // Groups at the seizure level.
    let mut grouped = 0usize;
    let mut pure = 0usize;
    let mut by_lab: BTreeMap<&str, BTreeMap<usize, usize>> = BTreeMap::new();
    let mut seizure_count: BTreeMap<&str, usize> = BTreeMap::new();
    for lab in lab_of_seizure.values() {
        *seizure_count.entry(lab).or_default() += 1;
    }
    let mut majority = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let mut c: BTreeMap<&str, usize> = BTreeMap::new();
        for z in &g.seizures {
            if let Some(l) = lab_of_seizure.get(z.as_str()) {
                *c.entry(l).or_default() += 1;
                *by_lab.entry(l).or_default().entry(gi).or_default() += 1;
            }
        }
        grouped += c.values().sum::<usize>();
        pure += c.values().max().copied().unwrap_or(0);
        majority.push(c.iter().max_by_key(|x| x.1).map(|x| *x.0));
    }
    let multi: Vec<(&str, usize)> = seizure_count
        .iter()
        .filter(|(_, n)| **n >= 2)
        .map(|(l, n)| (*l, *n))
        .collect();
    let completeness = if multi.is_empty() {
        f64::NAN
    } else {
        multi
            .iter()
            .map(|(l, n)| {
                let best = by_lab
                    .get(l)
                    .and_then(|m| m.values().max().copied())
                    .unwrap_or(1);
                best.max(1) as f64 / *n as f64
            })
            .sum::<f64>()
            / multi.len() as f64
    };
    let lead_at: BTreeMap<&str, (f64, f64)> = leads
        .iter()
        .map(|l| (l.id.as_str(), (l.lat, l.lon)))
        .collect();
    let lab_at: BTreeMap<&str, (f64, f64)> = labs
        .iter()
        .map(|l| (l.lab.as_str(), (l.lat, l.lon)))
        .collect();
    let (mut ties, mut ties_correct) = (0, 0);
    for (g, m) in groups.iter().zip(&majority) {
        for ld in &g.leads {
            ties += 1;
            let ok = m
                .and_then(|m| lab_at.get(m))
                .zip(lead_at.get(ld.as_str()))
                .is_some_and(|(a, b)| haversine_m(a.0, a.1, b.0, b.1) <= LEAD_MATCH_M);
            ties_correct += usize::from(ok);
        }
    }
    Ok(ForensicQuality {
        samples: casework.len(),
        method: calibration.method.to_string(),
        auc: rastro_forensics::calibrate::auc(&linked, &unlinked),
        stated_false_link_rate: calibration.stated_false_link_rate,
        false_link_rate: past(&unlinked),
        true_link_rate: past(&linked),
        seizures: lab_of_seizure.len(),
        groups: groups.len(),
        purity: pure as f64 / grouped.max(1) as f64,
        completeness,
        ties,
        ties_correct,
    })
}
