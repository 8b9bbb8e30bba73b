//! What outcomes teach: the hit rate of each evidence kind among the leads operations acted on.
//!
//! A lead acted on by a closed operation is a trial for every evidence kind it holds; a
//! confirmed laboratory is a hit. Rates are Laplace-smoothed, (hits + 1) / (trials + 2), so a
//! kind never tried reads 0.5 and one success out of one reads 0.67, not 1.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindRate {
    pub kind: String,
    pub hits: u32,
    pub trials: u32,
    /// (hits + 1) / (trials + 2).
    pub rate: f64,
}

/// Laplace-smoothed rate.
pub fn laplace(hits: u32, trials: u32) -> f64 {
    (f64::from(hits) + 1.0) / (f64::from(trials) + 2.0)
}

/// Hit rates per evidence kind from `(laboratory found, evidence kinds of the lead)` pairs,
/// one per lead an operation acted on, by kind name.
pub fn hit_rates<'a>(
    trials: impl IntoIterator<Item = (bool, &'a BTreeSet<String>)>,
) -> Vec<KindRate> {
    let mut by: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for (hit, kinds) in trials {
        for k in kinds {
            let e = by.entry(k.as_str()).or_default();
            e.1 += 1;
            if hit {
                e.0 += 1;
            }
        }
    }
    by.into_iter()
        .map(|(k, (h, n))| KindRate {
            kind: k.to_string(),
            hits: h,
            trials: n,
            rate: laplace(h, n),
        })
        .collect()
}

/// The overall hit rate of the operations themselves (Laplace-smoothed): the baseline a
/// kind's rate is judged against.
pub fn baseline<'a>(trials: impl IntoIterator<Item = (bool, &'a BTreeSet<String>)>) -> f64 {
    let (mut h, mut n) = (0, 0);
    for (hit, _) in trials {
        n += 1;
        h += u32::from(hit);
    }
    laplace(h, n)
}

/// The multiplier feedback gives a kind's weight: its rate relative to the operations'
/// overall rate, so feedback moves the kinds against each other and not the total evidence
/// against the background (which would only make more or fewer sites significant), bounded
/// to [0.5, 1.5] so a handful of outcomes cannot silence or swamp a kind.
pub fn weight_factor(rate: f64, baseline: f64) -> f64 {
    if baseline <= 0.0 {
        return 1.0;
    }
    (rate / baseline).clamp(0.5, 1.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_smoothed_per_kind() {
        let a: BTreeSet<String> = ["alert", "tip"].iter().map(|s| s.to_string()).collect();
        let b: BTreeSet<String> = ["alert"].iter().map(|s| s.to_string()).collect();
        let r = hit_rates([(true, &a), (false, &b)]);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].kind.as_str(), r[0].hits, r[0].trials),
            ("alert", 1, 2)
        );
        assert!((r[0].rate - 0.5).abs() < 1e-12);
        assert_eq!((r[1].kind.as_str(), r[1].hits, r[1].trials), ("tip", 1, 1));
        assert!((r[1].rate - 2.0 / 3.0).abs() < 1e-12);
        assert!((baseline([(true, &a), (false, &b)]) - 0.5).abs() < 1e-12);
        assert_eq!(weight_factor(laplace(0, 0), 0.5), 1.0);
        assert_eq!(weight_factor(0.0, 0.5), 0.5);
        assert_eq!(weight_factor(1.0, 0.5), 1.5);
        assert_eq!(weight_factor(0.6, 0.6), 1.0);
    }
}
