//! Samples as checked vectors over the configured compounds; every refusal has a reason.

use crate::config::Config;
use crate::method::Pretreatment;

/// One analysed sample as it arrives: compound → peak area, missing peaks simply absent.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleInput {
    pub id: String,
    /// The seizure the sample was taken from, if any.
    pub seizure: Option<String>,
    /// The case group of a reference sample: samples with one group are known linked, with
    /// different groups known unlinked.
    pub group: Option<String>,
    pub areas: Vec<(String, f64)>,
}

/// A sample accepted for comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: String,
    pub seizure: Option<String>,
    pub group: Option<String>,
    /// Areas in the order of [`Config::compounds`]; 0 where the peak was not detected.
    pub areas: Vec<f64>,
}

/// A sample refused, with the reason in words.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rejected {
    pub sample: String,
    pub reason: String,
}

/// The accepted profiles of one job.
#[derive(Debug, Clone, Default)]
pub struct ProfileSet {
    pub profiles: Vec<Profile>,
}

impl ProfileSet {
    /// Checks every sample against `config`; the accepted ones keep their input order.
    pub fn build(config: &Config, inputs: &[SampleInput]) -> (ProfileSet, Vec<Rejected>) {
        let mut profiles = Vec::with_capacity(inputs.len());
        let mut rejected = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for s in inputs {
            if !seen.insert(s.id.as_str()) {
                rejected.push(Rejected {
                    sample: s.id.clone(),
                    reason: "sample id appears twice; the later one is refused".into(),
                });
                continue;
            }
            match check(config, s) {
                Ok(p) => profiles.push(p),
                Err(reason) => rejected.push(Rejected {
                    sample: s.id.clone(),
                    reason,
                }),
            }
        }
        (ProfileSet { profiles }, rejected)
    }

    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// The pretreated vectors, row-major, `dims` per profile.
    pub fn pretreated(&self, p: Pretreatment) -> Vec<f64> {
        self.profiles
            .iter()
            .flat_map(|x| p.apply(&x.areas))
            .collect()
    }
}

fn check(config: &Config, s: &SampleInput) -> Result<Profile, String> {
    if s.areas.is_empty() {
        return Err("profile has no compounds".into());
    }
    if s.seizure.is_none() && s.group.is_none() {
        return Err(
            "sample names neither a seizure nor a reference group; give one of them".into(),
        );
    }
    let mut areas = vec![0.0; config.compounds.len()];
    let mut named = vec![false; config.compounds.len()];
    for (c, a) in &s.areas {
        let Some(i) = config.index(c) else {
            return Err(format!(
                "compound {c:?} is not in the configured target list; add it to the compounds of the forensics configuration or remove it from the profile"
            ));
        };
        if !a.is_finite() || *a < 0.0 {
            return Err(format!(
                "compound {c:?}: area {a} must be a finite number ≥ 0"
            ));
        }
        if named[i] {
            return Err(format!("compound {c:?} appears twice in the profile"));
        }
        named[i] = true;
        areas[i] = *a;
    }
    let detected = areas.iter().filter(|a| **a > 0.0).count();
    if detected < config.min_compounds {
        return Err(format!(
            "{detected} compounds detected (area > 0), fewer than min_compounds = {}",
            config.min_compounds
        ));
    }
    Ok(Profile {
        id: s.id.clone(),
        seizure: s.seizure.clone(),
        group: s.group.clone(),
        areas,
    })
}
