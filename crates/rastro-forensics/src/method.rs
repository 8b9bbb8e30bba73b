//! Pretreatments and distances: scipy's definitions, so a laboratory can check them.
//!
//! `raw` is the value scipy computes (`scipy.stats.pearsonr` for Pearson, the
//! `scipy.spatial.distance` functions for the others); `oriented` turns it into a score where
//! higher means more alike, which is what calibration, linking and grouping rank by.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pretreatment {
    /// Peak areas as measured.
    None,
    /// Each area divided by the sum of the profile's areas (dilution by cutting agents cancels).
    Sum,
    /// Normalised to the sum, then the fourth root (large peaks weigh less).
    SumRoot4,
    /// Normalised to the sum, then log10(1 + 1000 x): a log that keeps a missing peak at 0.
    SumLog,
}

impl Pretreatment {
    pub const ALL: [Pretreatment; 4] = [
        Pretreatment::None,
        Pretreatment::Sum,
        Pretreatment::SumRoot4,
        Pretreatment::SumLog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pretreatment::None => "none",
            Pretreatment::Sum => "sum",
            Pretreatment::SumRoot4 => "sum_root4",
            Pretreatment::SumLog => "sum_log",
        }
    }

    /// The pretreated profile. `areas` are finite and non-negative with a positive sum
    /// (`profile` refuses anything else).
    pub fn apply(self, areas: &[f64]) -> Vec<f64> {
        let sum: f64 = areas.iter().sum();
        debug_assert!(sum > 0.0, "profiles are checked to have a positive sum");
        areas
            .iter()
            .map(|&a| match self {
                Pretreatment::None => a,
                Pretreatment::Sum => a / sum,
                Pretreatment::SumRoot4 => (a / sum).powf(0.25),
                Pretreatment::SumLog => (1.0 + 1000.0 * a / sum).log10(),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// Pearson's correlation coefficient r (a similarity).
    Pearson,
    /// Cosine distance, 1 − cos θ.
    Cosine,
    Euclidean,
    /// Σ |u−v| / (|u|+|v|), a term with both zero counting 0 (as scipy).
    Canberra,
    /// Σ |u−v| (scipy's cityblock).
    Manhattan,
}

impl Distance {
    pub const ALL: [Distance; 5] = [
        Distance::Pearson,
        Distance::Cosine,
        Distance::Euclidean,
        Distance::Canberra,
        Distance::Manhattan,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Distance::Pearson => "pearson",
            Distance::Cosine => "cosine",
            Distance::Euclidean => "euclidean",
            Distance::Canberra => "canberra",
            Distance::Manhattan => "manhattan",
        }
    }

    /// Whether a higher raw value means more alike (only Pearson's r).
    pub fn similarity(self) -> bool {
        matches!(self, Distance::Pearson)
    }

    /// scipy's value for `u` and `v` (equal lengths). Pearson of a constant vector is NaN, as
    /// in scipy.
    pub fn raw(self, u: &[f64], v: &[f64]) -> f64 {
        debug_assert_eq!(u.len(), v.len());
        match self {
            Distance::Pearson => pearson(u, v),
            Distance::Cosine => {
                let (mut uv, mut uu, mut vv) = (0.0, 0.0, 0.0);
                for (a, b) in u.iter().zip(v) {
                    uv += a * b;
                    uu += a * a;
                    vv += b * b;
                }
                // scipy: 1 - uv / sqrt(uu * vv), clipped to [0, 2].
                (1.0 - uv / (uu * vv).sqrt()).clamp(0.0, 2.0)
            }
            Distance::Euclidean => u
                .iter()
                .zip(v)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt(),
            Distance::Canberra => u
                .iter()
                .zip(v)
                .map(|(a, b)| {
                    let d = a.abs() + b.abs();
                    if d == 0.0 {
                        0.0
                    } else {
                        (a - b).abs() / d
                    }
                })
                .sum(),
            Distance::Manhattan => u.iter().zip(v).map(|(a, b)| (a - b).abs()).sum(),
        }
    }

    /// `raw` as a score where higher is more alike; NaN becomes −∞ (never linked).
    pub fn oriented(self, raw: f64) -> f64 {
        let s = if self.similarity() { raw } else { -raw };
        if s.is_nan() {
            f64::NEG_INFINITY
        } else {
            s
        }
    }

    /// Back from an oriented score to scipy's value.
    pub fn unorient(self, oriented: f64) -> f64 {
        if self.similarity() {
            oriented
        } else {
            -oriented
        }
    }
}

/// Pearson's r as scipy.stats.pearsonr computes it: centre, scale by the largest magnitude
/// (against overflow), normalise, dot, clip to [−1, 1].
fn pearson(u: &[f64], v: &[f64]) -> f64 {
    let n = u.len() as f64;
    let mu = u.iter().sum::<f64>() / n;
    let mv = v.iter().sum::<f64>() / n;
    let du: Vec<f64> = u.iter().map(|a| a - mu).collect();
    let dv: Vec<f64> = v.iter().map(|b| b - mv).collect();
    let nu = du.iter().map(|a| a * a).sum::<f64>().sqrt();
    let nv = dv.iter().map(|b| b * b).sum::<f64>().sqrt();
    if nu == 0.0 || nv == 0.0 {
        return f64::NAN;
    }
    let r: f64 = du.iter().zip(&dv).map(|(a, b)| (a / nu) * (b / nv)).sum();
    r.clamp(-1.0, 1.0)
}

/// A pretreatment with a distance: what calibration chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Method {
    pub pretreatment: Pretreatment,
    pub distance: Distance,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} + {}", self.pretreatment.name(), self.distance.name())
    }
}
