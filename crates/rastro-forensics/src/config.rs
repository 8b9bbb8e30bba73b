//! The forensics configuration: target compounds, methods to consider, the stated false-link rate.

use crate::method::{Distance, Pretreatment};
use crate::ForensicsError;
use serde::Deserialize;

/// What a laboratory states once for its instrument and method.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The target compounds, in the order of the profile vectors. A sample naming any other
    /// compound is refused with that name, so a typo cannot silently become a missing peak.
    pub compounds: Vec<String>,
    /// Pretreatments to consider; calibration picks one by ROC.
    #[serde(default = "all_pretreatments")]
    pub pretreatments: Vec<Pretreatment>,
    /// Distances to consider; calibration picks one by ROC.
    #[serde(default = "all_distances")]
    pub distances: Vec<Distance>,
    /// The false-link rate the threshold is set for: the share of known-unlinked pairs that
    /// score as linked.
    #[serde(default = "default_rate")]
    pub false_link_rate: f64,
    /// Samples with fewer detected compounds are refused: their shape says too little.
    #[serde(default = "default_min_compounds")]
    pub min_compounds: usize,
    #[serde(default)]
    pub limits: Limits,
}

/// Bounds on work and memory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_samples: usize,
    pub max_links: usize,
    /// Known-unlinked pairs drawn for calibration (a seeded random sample when there are more).
    pub max_unlinked_pairs: usize,
    pub min_linked_pairs: usize,
    pub min_unlinked_pairs: usize,
    pub seed: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_samples: 250_000,
            max_links: 5_000_000,
            max_unlinked_pairs: 200_000,
            min_linked_pairs: 20,
            min_unlinked_pairs: 200,
            seed: 7,
        }
    }
}

fn all_pretreatments() -> Vec<Pretreatment> {
    Pretreatment::ALL.to_vec()
}
fn all_distances() -> Vec<Distance> {
    Distance::ALL.to_vec()
}
fn default_rate() -> f64 {
    0.01
}
fn default_min_compounds() -> usize {
    3
}

/// The configuration Rastro uses for fentanyl seizures when none is given: the target list of
/// `fentanyl.toml` beside this crate's sources (see docs/forensics.md for its sources).
pub const FENTANYL_TOML: &str = include_str!("../fentanyl.toml");

impl Config {
    pub fn parse(text: &str, file: &str) -> Result<Config, ForensicsError> {
        let c: Config = toml::from_str(text).map_err(|e| ForensicsError::Config {
            file: file.into(),
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        c.check(file)?;
        Ok(c)
    }

    pub fn fentanyl() -> Config {
        Config::parse(FENTANYL_TOML, "fentanyl.toml").expect("the embedded configuration parses")
    }

    fn check(&self, file: &str) -> Result<(), ForensicsError> {
        let bad = |reason: String| {
            Err(ForensicsError::Config {
                file: file.into(),
                reason,
            })
        };
        if self.compounds.is_empty() {
            return bad("compounds is empty; list the target compounds of the method".into());
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.compounds {
            if c.trim().is_empty() || c.contains(['=', ';']) || c.trim() != c {
                return bad(format!(
                    "compound {c:?}: a name must be non-blank, without surrounding spaces, '=' or ';'"
                ));
            }
            if !seen.insert(c) {
                return bad(format!("compound {c:?} is listed twice"));
            }
        }
        if self.pretreatments.is_empty() || self.distances.is_empty() {
            return bad("pretreatments and distances must each name at least one method".into());
        }
        if !(self.false_link_rate > 0.0 && self.false_link_rate <= 0.5) {
            return bad(format!(
                "false_link_rate = {} must be in (0, 0.5]",
                self.false_link_rate
            ));
        }
        if self.min_compounds < 2 || self.min_compounds > self.compounds.len() {
            return bad(format!(
                "min_compounds = {} must be between 2 and the number of compounds ({})",
                self.min_compounds,
                self.compounds.len()
            ));
        }
        Ok(())
    }

    /// The index of a compound in the profile vectors.
    pub fn index(&self, compound: &str) -> Option<usize> {
        self.compounds.iter().position(|c| c == compound)
    }
}
