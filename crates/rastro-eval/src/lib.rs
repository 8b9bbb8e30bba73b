//! Evaluation of analytics against simulator truth (`DIR/truth/*.jsonl`).
//!
//! Reads what the analytics produced from the store and what really happened from the truth
//! files, and reports precision, recall and F1 per typology. An analytic that does not exist
//! yet is reported as absent, never as zero or perfect.

use rastro_core::geo::haversine_m;
use rastro_core::{Alert, ConsignmentState, Lead, Typology};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub mod forensics;
pub use forensics::{forensic_quality, ForensicGroup, ForensicQuality};

/// Distance within which a place-based alert matches a true lab.
pub const LAB_MATCH_M: f64 = 2000.0;
/// Distance within which a lead matches a true lab (the goal for lead accuracy).
pub const LEAD_MATCH_M: f64 = 1000.0;

/// How well the ranked leads point at the true labs.
#[derive(Debug, Clone, Serialize)]
pub struct LeadQuality {
    pub labs: usize,
    pub leads: usize,
    /// Share of the top k leads within `LEAD_MATCH_M` of a true lab; `None` with fewer than k
    /// leads would overstate, so it is computed over min(k, leads) and says so in `notes`.
    pub precision_at_5: Option<f64>,
    pub precision_at_10: Option<f64>,
    /// Median over true labs of the distance to the nearest lead, in metres.
    pub median_distance_m: Option<f64>,
    /// Labs with a lead within `LEAD_MATCH_M`.
    pub labs_found: usize,
}

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
    #[error("forensic evaluation: {0}")]
    Forensics(String),
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

/// How often legitimate consignments are alerted: what an analyst pays for every true alert.
#[derive(Debug, Clone, Serialize)]
pub struct FalseAlerts {
    pub legitimate: usize,
    /// Legitimate consignments with at least one per-consignment alert.
    pub alerted: usize,
    pub rate: Option<f64>,
    /// Legitimate consignments alerted, per typology.
    pub by_typology: BTreeMap<String, usize>,
    /// Per-consignment alerts (legitimate and diverted consignments alike) per 100
    /// consignments analysed: the load on the analysts.
    pub alerts_per_100: Option<f64>,
}

/// Whether true alerts point at the event: of the true positives whose alert and truth both
/// carry a position, how many lie within [`EVENT_MATCH_M`] of it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Located {
    pub with_position: usize,
    pub within: usize,
}

/// An alert is located at its event within this distance.
pub const EVENT_MATCH_M: f64 = 2000.0;

/// The result of one evaluation. `absent` lists analytics that do not exist in this build.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub alerts: BTreeMap<String, Metric>,
    /// Legitimate consignments (no diversion in the truth) that got alerts anyway.
    pub false_alerts: Option<FalseAlerts>,
    pub leads: Option<LeadQuality>,
    /// Per typology, how many true alerts were located at their event.
    pub located: BTreeMap<String, Located>,
    /// Entity resolution of party records, when the caller resolved them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities: Option<EntityQuality>,
    /// Forensic linkage of seizure samples, when the caller calibrated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forensics: Option<ForensicQuality>,
    pub absent: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Deserialize)]
struct DiversionTruth {
    consignment: String,
    typologies: Vec<String>,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
}

#[derive(Deserialize)]
struct LabTruth {
    pub(crate) lab: String,
    pub(crate) lat: f64,
    pub(crate) lon: f64,
    fed_by: Vec<String>,
}

pub(crate) fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, EvalError> {
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

/// Evaluates what analysis produced (the operator's alerts, leads and consignment states)
/// against the truth under `truth_dir` (the simulator's output folder or its `truth/`
/// subfolder).
pub fn evaluate(
    all: &[Alert],
    leads: &[Lead],
    states: &[(String, ConsignmentState)],
    truth_dir: &Path,
) -> Result<Evaluation, EvalError> {
    let dir = truth_folder(truth_dir);
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
    let diverted: BTreeSet<&str> = diversions.iter().map(|d| d.consignment.as_str()).collect();
    let legitimate: BTreeSet<&str> = states
        .iter()
        .map(|(id, _)| id.as_str())
        .filter(|id| !diverted.contains(id))
        .collect();
    let mut alerted: BTreeSet<&str> = BTreeSet::new();
    let mut by_typology: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen: BTreeSet<(&str, Typology)> = BTreeSet::new();
    for a in all.iter().filter(|a| a.typology.per_consignment()) {
        if legitimate.contains(a.subject.as_str()) {
            alerted.insert(a.subject.as_str());
            if seen.insert((a.subject.as_str(), a.typology)) {
                *by_typology
                    .entry(a.typology.as_str().to_string())
                    .or_default() += 1;
            }
        }
    }
    let per_consignment = all.iter().filter(|a| a.typology.per_consignment()).count();
    let false_alerts = (!legitimate.is_empty()).then(|| FalseAlerts {
        legitimate: legitimate.len(),
        alerted: alerted.len(),
        rate: Some(alerted.len() as f64 / legitimate.len() as f64),
        by_typology,
        alerts_per_100: (!states.is_empty())
            .then(|| per_consignment as f64 * 100.0 / states.len() as f64),
    });
    // Where each diversion happened, when the truth says.
    let event_at: BTreeMap<(&str, &str), (f64, f64)> = diversions
        .iter()
        .filter_map(|d| Some((d, d.lat?, d.lon?)))
        .flat_map(|(d, la, lo)| {
            d.typologies
                .iter()
                .map(move |t| ((d.consignment.as_str(), t.as_str()), (la, lo)))
        })
        .collect();
    let mut located: BTreeMap<String, Located> = BTreeMap::new();
    for a in all.iter().filter(|a| a.typology.per_consignment()) {
        let (Some(la), Some(lo)) = (a.lat, a.lon) else {
            continue;
        };
        if let Some((ta, to)) = event_at.get(&(a.subject.as_str(), a.typology.as_str())) {
            let l = located.entry(a.typology.as_str().to_string()).or_default();
            l.with_position += 1;
            l.within += usize::from(haversine_m(la, lo, *ta, *to) <= EVENT_MATCH_M);
        }
    }
    let mut out = Evaluation {
        false_alerts,
        located,
        alerts: BTreeMap::new(),
        leads: None,
        entities: None,
        forensics: None,
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
    if leads.is_empty() {
        out.absent
            .push("leads (none stored: run `rastro analyze`)".into());
    } else {
        let dist = |lat: f64, lon: f64, l: &LabTruth| haversine_m(lat, lon, l.lat, l.lon);
        let hit =
            |ld: &rastro_core::Lead| labs.iter().any(|l| dist(ld.lat, ld.lon, l) <= LEAD_MATCH_M);
        let at = |k: usize| {
            let top = &leads[..k.min(leads.len())];
            (!top.is_empty())
                .then(|| top.iter().filter(|l| hit(l)).count() as f64 / top.len() as f64)
        };
        let mut nearest: Vec<f64> = labs
            .iter()
            .map(|l| {
                leads
                    .iter()
                    .map(|ld| dist(ld.lat, ld.lon, l))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        nearest.sort_by(f64::total_cmp);
        let median = (!nearest.is_empty()).then(|| {
            let n = nearest.len();
            if n % 2 == 1 {
                nearest[n / 2]
            } else {
                (nearest[n / 2 - 1] + nearest[n / 2]) / 2.0
            }
        });
        if leads.len() < 10 {
            out.notes.push(format!(
                "leads: only {} leads, so precision@10 is over {}",
                leads.len(),
                leads.len()
            ));
        }
        out.notes.push(format!(
            "leads: a lead is correct within {:.0} m of a true lab; {} labs in truth",
            LEAD_MATCH_M,
            labs.len()
        ));
        out.leads = Some(LeadQuality {
            labs: labs.len(),
            leads: leads.len(),
            precision_at_5: at(5),
            precision_at_10: at(10),
            median_distance_m: median,
            labs_found: nearest.iter().filter(|d| **d <= LEAD_MATCH_M).count(),
        });
    }
    Ok(out)
}

/// Entity resolution against the truth: pairwise precision, recall and F1 over the party
/// records both know.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EntityQuality {
    pub records: usize,
    #[serde(flatten)]
    pub pairs: rastro_resolve::eval::Quality,
}

#[derive(Deserialize)]
struct EntityTruth {
    entity: String,
    party_ids: Vec<String>,
}

/// Scores `assignments` (party record id, entity id) against the simulator's
/// `truth/entities.jsonl`: every two records put in one entity is a predicted pair, every two
/// records of one true entity a true pair. Records the truth does not know are left out.
pub fn entity_quality(
    assignments: &[(String, String)],
    truth_dir: &Path,
) -> Result<EntityQuality, EvalError> {
    let dir = truth_folder(truth_dir);
    let truth: Vec<EntityTruth> = read_jsonl(&dir.join("entities.jsonl"))?;
    let true_of: BTreeMap<&str, &str> = truth
        .iter()
        .flat_map(|t| {
            t.party_ids
                .iter()
                .map(move |p| (p.as_str(), t.entity.as_str()))
        })
        .collect();
    let mut by_entity: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (p, e) in assignments {
        if let Some(t) = true_of.get(p.as_str()) {
            by_entity.entry(e.as_str()).or_default().push(t);
        }
    }
    let pairs = |n: u64| n * n.saturating_sub(1) / 2;
    let mut predicted = 0u64;
    let mut tp = 0u64;
    let mut true_sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for members in by_entity.values() {
        predicted += pairs(members.len() as u64);
        let mut c: BTreeMap<&str, u64> = BTreeMap::new();
        for t in members {
            *c.entry(t).or_default() += 1;
            *true_sizes.entry(t).or_default() += 1;
        }
        tp += c.values().map(|&n| pairs(n)).sum::<u64>();
    }
    let true_pairs: u64 = true_sizes.values().map(|&n| pairs(n)).sum();
    Ok(EntityQuality {
        records: true_sizes.values().sum::<u64>() as usize,
        pairs: rastro_resolve::eval::quality(true_pairs, predicted, tp),
    })
}

/// Distance within which an operation at a site finds a true laboratory (the simulator's
/// outcome of an operation, issue 15).
pub const OPERATION_FINDS_M: f64 = 250.0;

/// Whether a true laboratory lies within `radius_m` of (`lat`, `lon`): how the simulator
/// decides what an operation at that site finds.
pub fn lab_within(truth_dir: &Path, lat: f64, lon: f64, radius_m: f64) -> Result<bool, EvalError> {
    let dir = truth_folder(truth_dir);
    let labs: Vec<LabTruth> = read_jsonl(&dir.join("labs.jsonl"))?;
    Ok(labs
        .iter()
        .any(|l| haversine_m(lat, lon, l.lat, l.lon) <= radius_m))
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
    if let Some(fa) = &e.false_alerts {
        let by: Vec<String> = fa
            .by_typology
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        s.push_str(&format!(
            "false alerts: {} of {} legitimate consignments ({}) have at least one alert{}\n",
            fa.alerted,
            fa.legitimate,
            fa.rate
                .map(|r| format!("{:.2}%", r * 100.0))
                .unwrap_or_else(|| "-".into()),
            if by.is_empty() {
                String::new()
            } else {
                format!("; by typology: {}", by.join(", "))
            }
        ));
    }
    if let Some(n) = e.false_alerts.as_ref().and_then(|f| f.alerts_per_100) {
        s.push_str(&format!("alerts per 100 consignments: {n:.1}\n"));
    }
    if !e.located.is_empty() {
        let by: Vec<String> = e
            .located
            .iter()
            .map(|(t, l)| format!("{t} {} of {}", l.within, l.with_position))
            .collect();
        s.push_str(&format!(
            "true alerts located within {:.0} km of the event: {}\n",
            EVENT_MATCH_M / 1000.0,
            by.join(", ")
        ));
    }
    if let Some(q) = &e.entities {
        s.push_str(&format!(
            "entity resolution: {} party records; pairwise precision {:.3} recall {:.3} F1 {:.3} ({} of {} true pairs, {} predicted)\n",
            q.records,
            q.pairs.precision,
            q.pairs.recall,
            q.pairs.f1,
            q.pairs.true_positives,
            q.pairs.true_pairs,
            q.pairs.predicted_pairs
        ));
    }
    if let Some(q) = &e.forensics {
        s.push_str(&format!(
            "forensic linkage: {} samples, method {}; ROC AUC {:.3}; false-link rate {:.2}% (stated {:.2}%), true-link rate {:.1}%; {} groups of {} seizures, purity {:.3} completeness {:.3}; {} of {} group-lead ties at the group's laboratory\n",
            q.samples,
            q.method,
            q.auc,
            100.0 * q.false_link_rate,
            100.0 * q.stated_false_link_rate,
            100.0 * q.true_link_rate,
            q.groups,
            q.seizures,
            q.purity,
            q.completeness,
            q.ties_correct,
            q.ties
        ));
    }
    if let Some(l) = &e.leads {
        s.push_str(&format!(
            "leads: {} leads, {} labs; precision@5 {} precision@10 {}; median distance lab to nearest lead {}; labs with a lead within {:.0} m: {}\n",
            l.leads,
            l.labs,
            f(l.precision_at_5),
            f(l.precision_at_10),
            l.median_distance_m
                .map(|d| format!("{d:.0} m"))
                .unwrap_or_else(|| "-".into()),
            LEAD_MATCH_M,
            l.labs_found
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

/// Precision of the first `k` of the leads at `sites` (in rank order): the share within
/// [`LEAD_MATCH_M`] of a true laboratory; `None` for no leads. How the demo and `rastro
/// evaluate` compare rankings with and without what operations taught.
pub fn lead_precision_at(
    truth_dir: &Path,
    sites: impl IntoIterator<Item = (f64, f64)>,
    k: usize,
) -> Result<Option<f64>, EvalError> {
    let dir = truth_folder(truth_dir);
    let labs: Vec<LabTruth> = read_jsonl(&dir.join("labs.jsonl"))?;
    let top: Vec<(f64, f64)> = sites.into_iter().take(k).collect();
    let hits = top
        .iter()
        .filter(|&&(lat, lon)| {
            labs.iter()
                .any(|l| haversine_m(lat, lon, l.lat, l.lon) <= LEAD_MATCH_M)
        })
        .count();
    Ok((!top.is_empty()).then(|| hits as f64 / top.len() as f64))
}

/// The truth files' folder: `dir/truth` when `dir` is the folder `rastro simulate` wrote,
/// else `dir` itself.
pub(crate) fn truth_folder(dir: &Path) -> std::path::PathBuf {
    if dir.join("truth").is_dir() {
        dir.join("truth")
    } else {
        dir.to_path_buf()
    }
}
