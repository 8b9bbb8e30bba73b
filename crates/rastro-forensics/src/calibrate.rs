//! Calibration: each method's linked and unlinked score distributions on the reference
//! collection, the ROC choice among methods, and the threshold at the stated false-link rate.

use crate::config::Config;
use crate::method::{Distance, Method};
use crate::profile::ProfileSet;
use crate::ForensicsError;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

/// How one method separated the reference pairs.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub method: Method,
    /// Area under the ROC curve (the chance a linked pair outscores an unlinked one).
    pub auc: f64,
    /// Share of known-linked pairs linked at this method's threshold.
    pub true_link_rate: f64,
    /// The threshold in the method's own terms (Pearson r above it, a distance below it).
    pub threshold: f64,
    /// How far apart the two distributions' tails sit: the linked 1st percentile minus the
    /// unlinked 99th, over the gap between their medians (scale-free, so methods compare).
    pub separation: f64,
}

/// Score counts in equal bins of the chosen method's raw value, for the distribution plot.
#[derive(Debug, Clone, Serialize)]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub linked: Vec<u32>,
    pub unlinked: Vec<u32>,
}

/// What calibration decided, with the evidence for it.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub method: Method,
    /// Raw threshold: linked when Pearson r is above it, or a distance below it.
    pub threshold: f64,
    /// The same threshold as an oriented score (linked when the score is above it).
    #[serde(skip)]
    pub cut: f64,
    /// The false-link rate asked for.
    pub stated_false_link_rate: f64,
    /// The share of known-unlinked reference pairs above the threshold (≤ the stated rate).
    pub false_link_rate: f64,
    pub true_link_rate: f64,
    pub auc: f64,
    pub linked_pairs: usize,
    pub unlinked_pairs: usize,
    pub reference_samples: usize,
    /// Every method tried, best first.
    pub candidates: Vec<Candidate>,
    /// The chosen method's ROC curve, (false-link rate, true-link rate), at most 201 points.
    pub roc: Vec<(f64, f64)>,
    pub histogram: Histogram,
    /// The chosen method's known-unlinked oriented scores, ascending: the false-link rate of
    /// any score is read off them.
    #[serde(skip)]
    unlinked_sorted: Vec<f64>,
    #[serde(skip)]
    linked_sorted: Vec<f64>,
}

impl Calibration {
    /// Share of known-unlinked reference pairs scoring at least `oriented`.
    pub fn false_link_rate_at(&self, oriented: f64) -> f64 {
        share_at_least(&self.unlinked_sorted, oriented)
    }

    /// Share of known-linked reference pairs scoring at least `oriented`.
    pub fn true_link_rate_at(&self, oriented: f64) -> f64 {
        share_at_least(&self.linked_sorted, oriented)
    }

    /// The median known-unlinked oriented score: what a pair without a link counts as when
    /// grouping.
    pub fn unlinked_median(&self) -> f64 {
        self.unlinked_sorted
            .get(self.unlinked_sorted.len() / 2)
            .copied()
            .unwrap_or(self.cut)
            .min(self.cut)
    }

    /// Whether the threshold is a lower bound on the raw value ("r > t") or an upper bound.
    pub fn comparator(&self) -> &'static str {
        if self.method.distance.similarity() {
            ">"
        } else {
            "<"
        }
    }
}

fn share_at_least(sorted: &[f64], x: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let below = sorted.partition_point(|s| *s < x);
    (sorted.len() - below) as f64 / sorted.len() as f64
}

/// Index pairs of the reference collection: (linked, unlinked), bounded by the limits.
/// Pairs of profile indices.
type Pairs = Vec<(u32, u32)>;

fn reference_pairs(config: &Config, set: &ProfileSet) -> (Pairs, Pairs) {
    let refs: Vec<(u32, &str)> = set
        .profiles
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.group.as_deref().map(|g| (i as u32, g)))
        .collect();
    let cap = config.limits.max_unlinked_pairs;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.limits.seed);
    let mut by_group: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for (i, g) in &refs {
        by_group.entry(g).or_default().push(*i);
    }
    let mut linked = Vec::new();
    for members in by_group.values() {
        for (k, a) in members.iter().enumerate() {
            for b in &members[k + 1..] {
                linked.push((*a, *b));
            }
        }
    }
    if linked.len() > cap {
        // A seeded partial shuffle keeps a uniform sample of the linked pairs.
        for k in 0..cap {
            let j = rng.random_range(k..linked.len());
            linked.swap(k, j);
        }
        linked.truncate(cap);
    }
    let n = refs.len() as u64;
    let total_pairs = n * n.saturating_sub(1) / 2;
    let unlinked_total = total_pairs - (linked.len() as u64).min(total_pairs);
    let mut unlinked = Vec::new();
    if unlinked_total <= cap as u64 * 2 {
        for (k, (a, ga)) in refs.iter().enumerate() {
            for (b, gb) in &refs[k + 1..] {
                if ga != gb {
                    unlinked.push((*a, *b));
                }
            }
        }
        if unlinked.len() > cap {
            for k in 0..cap {
                let j = rng.random_range(k..unlinked.len());
                unlinked.swap(k, j);
            }
            unlinked.truncate(cap);
        }
    } else {
        // Many more pairs than needed: draw them (pairs of one group are skipped, so the
        // draw stops after a bounded number of tries even when groups are large).
        let mut tries = 0usize;
        let mut seen = std::collections::HashSet::new();
        while unlinked.len() < cap && tries < cap * 20 {
            tries += 1;
            let x = rng.random_range(0..refs.len());
            let y = rng.random_range(0..refs.len());
            let (x, y) = (x.min(y), x.max(y));
            if x == y || refs[x].1 == refs[y].1 || !seen.insert((x, y)) {
                continue;
            }
            unlinked.push((refs[x].0, refs[y].0));
        }
    }
    (linked, unlinked)
}

/// Area under the ROC curve by ranks (Mann–Whitney U), ties counted half.
pub fn auc(linked: &[f64], unlinked: &[f64]) -> f64 {
    if linked.is_empty() || unlinked.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f64, bool)> = linked
        .iter()
        .map(|s| (*s, true))
        .chain(unlinked.iter().map(|s| (*s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1..=j share their mean.
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += mean_rank * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let n1 = linked.len() as f64;
    let n0 = unlinked.len() as f64;
    (rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0)
}

/// The cut such that at most `rate` of the unlinked scores lie above it (linked: score > cut).
fn cut_at(unlinked_sorted: &[f64], rate: f64) -> f64 {
    let n = unlinked_sorted.len();
    let allowed = (rate * n as f64).floor() as usize;
    // The (allowed+1)-th highest score: linking strictly above it admits at most `allowed`.
    unlinked_sorted[n - 1 - allowed.min(n - 1)]
}

fn above(sorted: &[f64], cut: f64) -> f64 {
    let at_or_below = sorted.partition_point(|s| *s <= cut);
    (sorted.len() - at_or_below) as f64 / sorted.len().max(1) as f64
}

/// Calibrates on the profiles of `set` that carry a reference group.
pub fn calibrate(config: &Config, set: &ProfileSet) -> Result<Calibration, ForensicsError> {
    let (linked, unlinked) = reference_pairs(config, set);
    if linked.len() < config.limits.min_linked_pairs
        || unlinked.len() < config.limits.min_unlinked_pairs
    {
        return Err(ForensicsError::TooFewReferencePairs {
            linked: linked.len(),
            unlinked: unlinked.len(),
            min_linked: config.limits.min_linked_pairs,
            min_unlinked: config.limits.min_unlinked_pairs,
        });
    }
    let dims = config.compounds.len();
    let methods: Vec<Method> = config
        .pretreatments
        .iter()
        .flat_map(|p| {
            config.distances.iter().map(|d| Method {
                pretreatment: *p,
                distance: *d,
            })
        })
        .collect();
    let scored: Vec<(Method, Vec<f64>, Vec<f64>)> = methods
        .par_iter()
        .map(|m| {
            let x = set.pretreated(m.pretreatment);
            let score = |&(a, b): &(u32, u32)| {
                let (a, b) = (a as usize * dims, b as usize * dims);
                m.distance
                    .oriented(m.distance.raw(&x[a..a + dims], &x[b..b + dims]))
            };
            let mut l: Vec<f64> = linked.iter().map(score).collect();
            let mut u: Vec<f64> = unlinked.iter().map(score).collect();
            l.sort_by(f64::total_cmp);
            u.sort_by(f64::total_cmp);
            (*m, l, u)
        })
        .collect();
    let rate = config.false_link_rate;
    let mut candidates: Vec<(Candidate, usize)> = scored
        .iter()
        .enumerate()
        .map(|(k, (m, l, u))| {
            let cut = cut_at(u, rate);
            (
                Candidate {
                    method: *m,
                    auc: auc(l, u),
                    true_link_rate: above(l, cut),
                    threshold: m.distance.unorient(cut),
                    separation: separation(l, u),
                },
                k,
            )
        })
        .collect();
    // The ROC point that matters is the stated false-link rate: the most linked pairs found
    // there wins; the whole curve's area breaks ties, and when both are perfect (often, on a
    // clean reference set) the widest gap between the distributions wins, since it leaves the
    // most room for samples unlike the reference ones.
    let key = |c: &Candidate| ((c.true_link_rate * 1e9).round(), (c.auc * 1e9).round());
    candidates.sort_by(|a, b| {
        let (ka, kb) = (key(&a.0), key(&b.0));
        kb.0.total_cmp(&ka.0)
            .then(kb.1.total_cmp(&ka.1))
            .then(b.0.separation.total_cmp(&a.0.separation))
            .then(a.1.cmp(&b.1))
    });
    let best = candidates[0].1;
    let (method, l, u) = &scored[best];
    let cut = cut_at(u, rate);
    let roc = roc_curve(l, u);
    let histogram = histogram(method.distance, l, u);
    let reference_samples = set.profiles.iter().filter(|p| p.group.is_some()).count();
    Ok(Calibration {
        method: *method,
        threshold: method.distance.unorient(cut),
        cut,
        stated_false_link_rate: rate,
        false_link_rate: above(u, cut),
        true_link_rate: above(l, cut),
        auc: auc(l, u),
        linked_pairs: l.len(),
        unlinked_pairs: u.len(),
        reference_samples,
        candidates: candidates.into_iter().map(|c| c.0).collect(),
        roc,
        histogram,
        unlinked_sorted: u.clone(),
        linked_sorted: l.clone(),
    })
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let finite: Vec<f64> = sorted.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.is_empty() {
        return 0.0;
    }
    finite[((finite.len() - 1) as f64 * q).round() as usize]
}

/// The gap between the linked pairs' low tail (1st percentile) and the unlinked pairs' high
/// tail (99th), over the gap between their medians: the room left where decisions are made.
fn separation(l: &[f64], u: &[f64]) -> f64 {
    let bulk = quantile(l, 0.5) - quantile(u, 0.5);
    let tails = quantile(l, 0.01) - quantile(u, 0.99);
    if bulk > 0.0 {
        tails / bulk
    } else {
        f64::NEG_INFINITY
    }
}

/// (false-link rate, true-link rate) as the cut falls from the top, thinned to ≤ 201 points.
fn roc_curve(l: &[f64], u: &[f64]) -> Vec<(f64, f64)> {
    let mut cuts: Vec<f64> = l.iter().chain(u).copied().collect();
    cuts.sort_by(|a, b| b.total_cmp(a));
    cuts.dedup();
    let step = (cuts.len() / 200).max(1);
    let mut out = vec![(0.0, 0.0)];
    for c in cuts.iter().step_by(step) {
        out.push((share_at_least(u, *c), share_at_least(l, *c)));
    }
    out.push((1.0, 1.0));
    out.dedup();
    out
}

fn histogram(d: Distance, l: &[f64], u: &[f64]) -> Histogram {
    let raw: Vec<f64> = l.iter().chain(u).map(|s| d.unorient(*s)).collect();
    let finite = raw.iter().copied().filter(|x| x.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    const BINS: usize = 40;
    let bin = |s: f64| {
        let x = d.unorient(s);
        (((x - lo) / (hi - lo) * BINS as f64).floor().max(0.0) as usize).min(BINS - 1)
    };
    let mut linked = vec![0u32; BINS];
    let mut unlinked = vec![0u32; BINS];
    for s in l.iter().filter(|s| s.is_finite()) {
        linked[bin(*s)] += 1;
    }
    for s in u.iter().filter(|s| s.is_finite()) {
        unlinked[bin(*s)] += 1;
    }
    Histogram {
        lo,
        hi,
        linked,
        unlinked,
    }
}
