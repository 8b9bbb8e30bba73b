//! The Fellegi–Sunter model: for each column and level, m (the chance a true match reaches the
//! level) and u (the chance a non-match does). u comes from random pairs, which are almost all
//! non-matches; m comes from expectation–maximisation on each blocking rule's pairs, leaving
//! out the columns that rule blocks on (they agree by construction), and averaged over rules,
//! as Splink trains. A pair's match weight is the prior's log-odds plus each column's
//! log2(m/u), with a term-frequency adjustment at the exact level; each term is reported.

use crate::compare::{level_in, level_name, n_levels, pattern, Pattern};
use crate::settings::{Settings, TermKind};
use crate::table::Table;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Smallest probability a level may have, so a level never seen is not infinite evidence.
const FLOOR: f64 = 1e-6;

#[derive(Debug, Clone, Serialize)]
pub struct ColumnModel {
    pub name: String,
    /// m per level (index 0, null, unused).
    pub m: Vec<f64>,
    pub u: Vec<f64>,
    /// Whether m came from expectation–maximisation (false: the prior, because every blocking
    /// rule blocks on this column).
    pub m_estimated: bool,
    pub tf: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// Probability two random records are a match.
    pub lambda: f64,
    pub columns: Vec<ColumnModel>,
    /// Notes on training a reader should know (a column whose m is the prior, a rule whose EM
    /// did not converge).
    pub notes: Vec<String>,
}

/// The m a column starts from before EM, or keeps when EM cannot see it: most matches agree
/// exactly, fewer at each lower level, few disagree.
fn prior_m(levels: usize) -> Vec<f64> {
    let named = levels - 2;
    let mut m = vec![0.0; levels];
    let mut left = 0.95;
    for (i, slot) in m.iter_mut().enumerate().skip(1).take(named) {
        let share = if i == named { left } else { left * 0.75 };
        *slot = share;
        left -= share;
    }
    m[levels - 1] = 0.05;
    normalise(&mut m);
    m
}

fn normalise(p: &mut [f64]) {
    for x in p.iter_mut().skip(1) {
        *x = x.max(FLOOR);
    }
    let s: f64 = p.iter().skip(1).sum();
    for x in p.iter_mut().skip(1) {
        *x /= s;
    }
    p[0] = 0.0;
}

/// u per column from `n` random pairs (across sources when linking).
pub fn estimate_u(table: &Table, settings: &Settings, link: bool) -> Vec<Vec<f64>> {
    let n = table.len();
    let mut counts: Vec<Vec<f64>> = table
        .columns
        .iter()
        .map(|c| vec![0.0; n_levels(c.field_type)])
        .collect();
    if n < 2 {
        return counts
            .into_iter()
            .map(|mut c| {
                for x in c.iter_mut().skip(1) {
                    *x = 1.0;
                }
                normalise(&mut c);
                c
            })
            .collect();
    }
    let total_pairs = (n as u64) * (n as u64 - 1) / 2;
    let ncols = table.columns.len();
    let count_pairs = |pairs: &[(usize, usize)]| -> Vec<Vec<f64>> {
        pairs
            .par_chunks(4096)
            .fold(
                || {
                    table
                        .columns
                        .iter()
                        .map(|c| vec![0.0; n_levels(c.field_type)])
                        .collect::<Vec<Vec<f64>>>()
                },
                |mut acc, chunk| {
                    for &(a, b) in chunk {
                        let p = pattern(table, a, b);
                        for (ci, slot) in acc.iter_mut().enumerate().take(ncols) {
                            slot[level_in(p, ci)] += 1.0;
                        }
                    }
                    acc
                },
            )
            .reduce(
                || {
                    table
                        .columns
                        .iter()
                        .map(|c| vec![0.0; n_levels(c.field_type)])
                        .collect()
                },
                |mut x, y| {
                    for (cx, cy) in x.iter_mut().zip(y) {
                        for (p, q) in cx.iter_mut().zip(cy) {
                            *p += q;
                        }
                    }
                    x
                },
            )
    };
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    if total_pairs <= settings.u_sample_pairs as u64 {
        // Few records: every pair, exactly.
        for a in 0..n {
            for b in a + 1..n {
                if !link || table.source[a] != table.source[b] {
                    pairs.push((a, b));
                }
            }
        }
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ 0x75_5eed);
        let mut tries = 0usize;
        while pairs.len() < settings.u_sample_pairs && tries < settings.u_sample_pairs * 20 {
            tries += 1;
            let a = rng.random_range(0..n);
            let b = rng.random_range(0..n);
            if a == b || (link && table.source[a] == table.source[b]) {
                continue;
            }
            pairs.push((a, b));
        }
    }
    counts = count_pairs(&pairs);
    counts
        .into_iter()
        .map(|mut c| {
            normalise(&mut c);
            c
        })
        .collect()
}

/// Trains the model: u by sampling, m by EM per rule, and the prior from each rule's share of
/// matches and its estimated recall.
pub fn train(
    table: &Table,
    settings: &Settings,
    per_rule: &[FxHashMap<Pattern, f64>],
    link: bool,
) -> Model {
    let u = estimate_u(table, settings, link);
    let ncols = table.columns.len();
    let rules = settings.rules();
    let mut m_sum: Vec<Vec<f64>> = table
        .columns
        .iter()
        .map(|c| vec![0.0; n_levels(c.field_type)])
        .collect();
    let mut m_n = vec![0usize; ncols];
    let mut notes = Vec::new();
    let mut sessions: Vec<(usize, f64, f64)> = Vec::new(); // (rule, lambda_in_block, pairs)
    for (ri, rule) in rules.iter().enumerate() {
        let pats = &per_rule[ri];
        let pairs: f64 = pats.values().sum();
        if pairs < 1.0 {
            notes.push(format!(
                "rule {}: no pairs, not trained",
                settings.blocking[ri].join(" & ")
            ));
            continue;
        }
        let fixed: Vec<bool> = (0..ncols)
            .map(|c| rule.iter().any(|t| t.column == c))
            .collect();
        let mut m: Vec<Vec<f64>> = table
            .columns
            .iter()
            .map(|c| prior_m(n_levels(c.field_type)))
            .collect();
        let mut lam = 0.1f64;
        let mut converged = false;
        for _ in 0..settings.em_iterations {
            let mut new_m: Vec<Vec<f64>> = m.iter().map(|x| vec![0.0; x.len()]).collect();
            let mut matched = 0.0;
            for (&p, &count) in pats {
                let mut lr = (lam / (1.0 - lam)).ln();
                for c in 0..ncols {
                    let l = level_in(p, c);
                    if fixed[c] || l == 0 {
                        continue;
                    }
                    lr += (m[c][l] / u[c][l]).ln();
                }
                let post = 1.0 / (1.0 + (-lr).exp());
                let w = post * count;
                matched += w;
                for (c, slot) in new_m.iter_mut().enumerate() {
                    let l = level_in(p, c);
                    if l != 0 {
                        slot[l] += w;
                    }
                }
            }
            let new_lam = (matched / pairs).clamp(1e-9, 1.0 - 1e-9);
            let mut delta = (new_lam - lam).abs();
            for c in 0..ncols {
                if fixed[c] {
                    continue;
                }
                normalise(&mut new_m[c]);
                for l in 1..new_m[c].len() {
                    delta = delta.max((new_m[c][l] - m[c][l]).abs());
                }
                m[c] = new_m[c].clone();
            }
            lam = new_lam;
            if delta < 1e-6 {
                converged = true;
                break;
            }
        }
        if !converged {
            notes.push(format!(
                "rule {}: EM stopped after {} iterations before converging",
                settings.blocking[ri].join(" & "),
                settings.em_iterations
            ));
        }
        for c in 0..ncols {
            if !fixed[c] {
                for l in 0..m[c].len() {
                    m_sum[c][l] += m[c][l];
                }
                m_n[c] += 1;
            }
        }
        sessions.push((ri, lam, pairs));
    }
    let columns: Vec<ColumnModel> = (0..ncols)
        .map(|c| {
            let spec = &settings.columns[c];
            let (m, est) = if m_n[c] == 0 {
                notes.push(format!(
                    "column {}: m is the prior, because every blocking rule blocks on it; add a rule without it",
                    spec.name
                ));
                (prior_m(n_levels(spec.field_type)), false)
            } else {
                let mut m: Vec<f64> = m_sum[c].iter().map(|x| x / m_n[c] as f64).collect();
                normalise(&mut m);
                (m, true)
            };
            ColumnModel {
                name: spec.name.clone(),
                m,
                u: u[c].clone(),
                m_estimated: est,
                tf: spec.tf,
            }
        })
        .collect();
    // Total matches: the matches each rule's blocks hold over the share of matches that agree
    // on the rule's terms (its recall, from m); the median over rules.
    let n = table.len() as f64;
    let all_pairs = if link {
        let a = table.source.iter().filter(|s| **s == 0).count() as f64;
        a * (n - a)
    } else {
        n * (n - 1.0) / 2.0
    };
    let mut totals: Vec<f64> = sessions
        .iter()
        .map(|&(ri, lam, pairs)| {
            let recall: f64 = rules[ri]
                .iter()
                .map(|t| {
                    let cm = &columns[t.column];
                    let named = cm.m.len() - 2;
                    // The exact levels for a value term; every level but "else" for a derived
                    // key (a prefix or a sound agrees more often than the value).
                    let upto = match t.kind {
                        TermKind::Value => 2.min(named),
                        _ => named,
                    };
                    cm.m[1..=upto].iter().sum::<f64>().max(0.05)
                })
                .product();
            lam * pairs / recall
        })
        .collect();
    totals.sort_by(f64::total_cmp);
    let matches = totals.get(totals.len() / 2).copied().unwrap_or(1.0);
    let lambda = (matches / all_pairs.max(1.0)).clamp(1e-12, 0.5);
    Model {
        lambda,
        columns,
        notes,
    }
}

/// One column's part of a pair's weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    pub column: String,
    pub level: &'static str,
    /// log2 of the Bayes factor, term-frequency adjustment included.
    pub weight: f64,
    /// The term-frequency part of `weight` (0 when none applied).
    pub tf_weight: f64,
}

/// A scored pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub a: u32,
    pub b: u32,
    pub weight: f64,
    pub probability: f64,
}

impl Model {
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// A pair's weight from its levels and, where adjusted, its values' frequencies.
    pub fn weight(&self, table: &Table, a: usize, b: usize, p: Pattern) -> f64 {
        self.pattern_weight(p) + self.tf_weight(table, a, b, p)
    }

    /// The weight of a pattern before term-frequency adjustments (the same for every pair
    /// with that pattern, so it is computed once per pattern).
    pub fn pattern_weight(&self, p: Pattern) -> f64 {
        let mut w = self.prior_weight();
        for (c, cm) in self.columns.iter().enumerate() {
            let l = level_in(p, c);
            if l != 0 {
                w += (cm.m[l] / cm.u[l]).log2();
            }
        }
        w
    }

    /// The term-frequency adjustments of a pair: columns with `tf` agreeing exactly.
    pub fn tf_weight(&self, table: &Table, a: usize, b: usize, p: Pattern) -> f64 {
        let mut w = 0.0;
        for (c, cm) in self.columns.iter().enumerate() {
            if cm.tf && level_in(p, c) == 1 {
                w += tf_adjust(table, c, a, b, cm.u[1]);
            }
        }
        w
    }

    /// Each column's contribution to a pair's weight, for the explanation.
    pub fn explain(&self, table: &Table, a: usize, b: usize) -> Vec<Contribution> {
        let p = pattern(table, a, b);
        self.columns
            .iter()
            .enumerate()
            .map(|(c, cm)| {
                let l = level_in(p, c);
                let t = table.columns[c].field_type;
                let (weight, tf_weight) = if l == 0 {
                    (0.0, 0.0)
                } else {
                    let tfw = if l == 1 && cm.tf {
                        tf_adjust(table, c, a, b, cm.u[1])
                    } else {
                        0.0
                    };
                    ((cm.m[l] / cm.u[l]).log2() + tfw, tfw)
                };
                Contribution {
                    column: cm.name.clone(),
                    level: level_name(t, l),
                    weight,
                    tf_weight,
                }
            })
            .collect()
    }
}

/// log2(u_exact / tf(value)): agreeing on a rarer value than average is stronger evidence.
fn tf_adjust(table: &Table, c: usize, a: usize, b: usize, u_exact: f64) -> f64 {
    let col = &table.columns[c];
    let tf = col
        .tf(a)
        .unwrap_or(u_exact)
        .max(col.tf(b).unwrap_or(u_exact));
    (u_exact / tf.max(FLOOR)).log2()
}

pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priors_are_distributions() {
        for n in 3..8 {
            let m = prior_m(n);
            assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert_eq!(m[0], 0.0);
            assert!(m[1] > m[n - 1]);
        }
    }
}
