//! Pairwise precision, recall and F1 against a truth key, for pairs and for clusters.

use crate::model::Scored;
use crate::table::Table;
use rustc_hash::FxHashMap;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub true_positives: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Precision, recall and F1 from counts (an empty prediction or truth counts as perfect on that
/// side).
pub fn quality(true_pairs: u64, predicted: u64, tp: u64) -> Quality {
    let precision = if predicted == 0 {
        1.0
    } else {
        tp as f64 / predicted as f64
    };
    let recall = if true_pairs == 0 {
        1.0
    } else {
        tp as f64 / true_pairs as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Quality {
        true_pairs,
        predicted_pairs: predicted,
        true_positives: tp,
        precision,
        recall,
        f1,
    }
}

/// Pairs with the same truth key (across sources when linking), whether compared or not.
pub fn true_pairs(table: &Table, link: bool) -> u64 {
    let mut groups: FxHashMap<&str, [u64; 2]> = FxHashMap::default();
    for (i, t) in table.truth.iter().enumerate() {
        if let Some(t) = t {
            groups.entry(t.as_str()).or_default()[table.source[i] as usize] += 1;
        }
    }
    groups
        .values()
        .map(|[a, b]| {
            if link {
                a * b
            } else {
                let n = a + b;
                n * n.saturating_sub(1) / 2
            }
        })
        .sum()
}

fn same(table: &Table, a: usize, b: usize) -> bool {
    matches!((&table.truth[a], &table.truth[b]), (Some(x), Some(y)) if x == y)
}

/// Quality of the pairs at or above `threshold`.
pub fn of_pairs(table: &Table, pairs: &[Scored], threshold: f64, link: bool) -> Quality {
    let kept = pairs.iter().filter(|p| p.probability >= threshold);
    let (mut n, mut tp) = (0u64, 0u64);
    for p in kept {
        n += 1;
        if same(table, p.a as usize, p.b as usize) {
            tp += 1;
        }
    }
    quality(true_pairs(table, link), n, tp)
}

/// Quality of the pairs clusters imply (every two records of one cluster).
pub fn of_clusters(table: &Table, labels: &[u32], link: bool) -> Quality {
    let mut by_cluster: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
    for (i, l) in labels.iter().enumerate() {
        by_cluster.entry(*l).or_default().push(i);
    }
    let (mut n, mut tp) = (0u64, 0u64);
    for members in by_cluster.values() {
        let mut sub: FxHashMap<(Option<&str>, u8), u64> = FxHashMap::default();
        let mut per_source = [0u64; 2];
        for &m in members {
            per_source[table.source[m] as usize] += 1;
            *sub.entry((table.truth[m].as_deref(), table.source[m]))
                .or_default() += 1;
        }
        if link {
            n += per_source[0] * per_source[1];
            for ((t, s), c) in &sub {
                if *s == 0 && t.is_some() {
                    tp += c * sub.get(&(*t, 1)).copied().unwrap_or(0);
                }
            }
        } else {
            let k = members.len() as u64;
            n += k * k.saturating_sub(1) / 2;
            let mut by_truth: FxHashMap<&str, u64> = FxHashMap::default();
            for ((t, _), c) in &sub {
                if let Some(t) = t {
                    *by_truth.entry(t).or_default() += c;
                }
            }
            tp += by_truth
                .values()
                .map(|c| c * c.saturating_sub(1) / 2)
                .sum::<u64>();
        }
    }
    quality(true_pairs(table, link), n, tp)
}
