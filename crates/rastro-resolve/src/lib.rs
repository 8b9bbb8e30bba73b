//! Probabilistic record linkage (Fellegi–Sunter) for parties, places, phones and any CSV.
//!
//! The stages, each testable without I/O: [`table`] prepares records (normalised, interned);
//! [`block`] chooses the pairs to compare and refuses jobs that would compare too many;
//! [`compare`] gives each pair a level per column; [`model`] learns u from random pairs and m by
//! expectation–maximisation, then weighs pairs with explanations; [`cluster`] joins matches
//! into entities with a guard against weak chains; [`eval`] scores against a truth;
//! [`incremental`] adds records one at a time to a trained model.

pub mod block;
pub mod cluster;
pub mod compare;
pub mod eval;
pub mod incremental;
pub mod model;
pub mod normalise;
pub mod settings;
pub mod table;

use block::{for_pairs, Blocking};
use compare::{pattern, Pattern};
use model::{probability, Model, Scored};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::io::Write;

pub use settings::{FieldType, Settings};
pub use table::Table;

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("settings {file}: {reason}")]
    Settings { file: String, reason: String },
    #[error("{file}:{line}: {reason}")]
    Input {
        file: String,
        line: u64,
        reason: String,
    },
    #[error(
        "blocking rule [{rule}] would compare {comparisons} pairs, more than max_comparisons = {limit}; add a term to the rule (for example a postcode or a name prefix) or raise the limit"
    )]
    TooManyComparisons {
        rule: String,
        comparisons: u64,
        limit: u64,
    },
    #[error("writing {what}: {source}")]
    Write {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// What a linkage job produced.
pub struct Outcome {
    pub model: Model,
    /// Pairs at or above the threshold, strongest first.
    pub pairs: Vec<Scored>,
    /// Pairs compared (after removing repeats across rules).
    pub compared: u64,
    /// Each record's cluster label (the smallest record index in its cluster).
    pub labels: Vec<u32>,
    /// Weak links the cluster guard refused.
    pub refused_links: usize,
}

/// Runs a whole job on a prepared table: block, compare, train, score, cluster.
pub fn run(table: &Table, settings: &Settings, link: bool) -> Result<Outcome, ResolveError> {
    let blocking = Blocking::new(table, settings, link)?;
    let compared = compare_all(table, &blocking, link);
    let model = model::train(table, settings, &compared.per_rule, link);
    let pairs = score(table, settings, &compared, &model);
    let mut c = cluster::Clustering::build(
        table.len(),
        &pairs,
        settings.strong,
        settings.min_density,
        settings.max_cluster,
    );
    Ok(Outcome {
        labels: c.labels(),
        refused_links: c.refused,
        model,
        pairs,
        compared: compared.pairs.len() as u64,
    })
}

/// Every blocked pair compared once.
pub struct Compared {
    /// Each distinct pair (a < b) with its levels.
    pub pairs: Vec<(u32, u32, Pattern)>,
    /// For each rule, the patterns of all the pairs its blocks hold (repeats of earlier rules
    /// included), counted: what that rule's EM session trains on.
    pub per_rule: Vec<FxHashMap<Pattern, f64>>,
}

/// Compares every blocked pair once. A pair is compared under the first rule that blocks it
/// together, and counted for every rule that does.
pub fn compare_all(table: &Table, blocking: &Blocking, link: bool) -> Compared {
    let nrules = blocking.blocks.len();
    let mut pairs = Vec::new();
    let mut per_rule: Vec<FxHashMap<Pattern, f64>> = vec![FxHashMap::default(); nrules];
    for (ri, b) in blocking.blocks.iter().enumerate() {
        type Acc = (Vec<(u32, u32, Pattern)>, Vec<FxHashMap<Pattern, f64>>);
        let empty = || -> Acc { (Vec::new(), vec![FxHashMap::default(); nrules]) };
        let (found, counts) = (0..b.len())
            .into_par_iter()
            .fold(empty, |(mut found, mut counts): Acc, i| {
                for_pairs(table, b.block(i), link, |x, y| {
                    if blocking.earlier(ri, x, y) {
                        return;
                    }
                    let p = pattern(table, x, y);
                    found.push((x as u32, y as u32, p));
                    for (r, k) in blocking.keys.iter().enumerate().skip(ri) {
                        if k[x] != block::NO_KEY && k[x] == k[y] {
                            *counts[r].entry(p).or_insert(0.0) += 1.0;
                        }
                    }
                });
                (found, counts)
            })
            .reduce(empty, |(mut fa, mut ca), (fb, cb)| {
                fa.extend(fb);
                for (x, y) in ca.iter_mut().zip(cb) {
                    for (k, v) in y {
                        *x.entry(k).or_insert(0.0) += v;
                    }
                }
                (fa, ca)
            });
        pairs.extend(found);
        for (x, y) in per_rule.iter_mut().zip(counts) {
            for (k, v) in y {
                *x.entry(k).or_insert(0.0) += v;
            }
        }
    }
    Compared { pairs, per_rule }
}

/// Scores compared pairs; keeps those at or above the threshold, strongest first.
pub fn score(
    table: &Table,
    settings: &Settings,
    compared: &Compared,
    model: &Model,
) -> Vec<Scored> {
    let mut base: FxHashMap<Pattern, f64> = FxHashMap::default();
    for counts in &compared.per_rule {
        for p in counts.keys() {
            base.entry(*p).or_insert_with(|| model.pattern_weight(*p));
        }
    }
    let mut all: Vec<Scored> = compared
        .pairs
        .par_iter()
        .filter_map(|&(a, b, p)| {
            let w = base
                .get(&p)
                .copied()
                .unwrap_or_else(|| model.pattern_weight(p))
                + model.tf_weight(table, a as usize, b as usize, p);
            let prob = probability(w);
            (prob >= settings.threshold).then_some(Scored {
                a,
                b,
                weight: w,
                probability: prob,
            })
        })
        .collect();
    all.par_sort_unstable_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    all
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes scored pairs as CSV: ids, probability, weight, then each column's level and weight,
/// so every match explains itself.
pub fn write_pairs(
    out: &mut impl Write,
    table: &Table,
    model: &Model,
    pairs: &[Scored],
) -> Result<(), ResolveError> {
    let we = |source| ResolveError::Write {
        what: "pairs".into(),
        source,
    };
    let mut head = vec![
        "id_l".to_string(),
        "id_r".into(),
        "match_probability".into(),
        "match_weight".into(),
        "prior_weight".into(),
    ];
    for c in &model.columns {
        head.push(format!("{}_level", c.name));
        head.push(format!("{}_weight", c.name));
    }
    writeln!(out, "{}", head.join(",")).map_err(we)?;
    for p in pairs {
        let (a, b) = (p.a as usize, p.b as usize);
        let mut row = vec![
            csv_cell(&table.ids[a]),
            csv_cell(&table.ids[b]),
            format!("{:.6}", p.probability),
            format!("{:.3}", p.weight),
            format!("{:.3}", model.prior_weight()),
        ];
        for c in model.explain(table, a, b) {
            row.push(csv_cell(c.level));
            row.push(format!("{:.3}", c.weight));
        }
        writeln!(out, "{}", row.join(",")).map_err(we)?;
    }
    Ok(())
}

/// Writes each record's cluster: id, cluster id (the id of the cluster's first record).
pub fn write_clusters(
    out: &mut impl Write,
    table: &Table,
    labels: &[u32],
) -> Result<(), ResolveError> {
    let we = |source| ResolveError::Write {
        what: "clusters".into(),
        source,
    };
    writeln!(out, "id,cluster_id").map_err(we)?;
    for (i, l) in labels.iter().enumerate() {
        writeln!(
            out,
            "{},{}",
            csv_cell(&table.ids[i]),
            csv_cell(&table.ids[*l as usize])
        )
        .map_err(we)?;
    }
    Ok(())
}
