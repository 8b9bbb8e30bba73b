//! All-pairs linking in tiles: every pair of profiles whose score passes the calibrated cut.
//!
//! Pearson and cosine reduce to dot products of prepared unit vectors, compared tile by tile
//! (rows of a tile stay in cache while the columns stream past); a candidate found that way is
//! then scored again with scipy's exact formula, so the reported value is the reference one.
//! The other distances are computed directly over the same tiles.

use crate::calibrate::Calibration;
use crate::method::{Distance, Method};
use crate::profile::ProfileSet;
use crate::ForensicsError;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One link between two samples (indices into the profile set, `a < b`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    pub a: u32,
    pub b: u32,
    /// scipy's value for the calibrated method (Pearson r, or the distance).
    pub raw: f64,
    /// `raw` oriented so that higher is more alike.
    pub score: f64,
}

/// The links of one job and the work done.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// Strongest first.
    pub links: Vec<Link>,
    pub pairs_compared: u64,
}

const TILE: usize = 128;
/// Slack for the dot-product screen: the exact formula decides at the cut.
const SCREEN_SLACK: f64 = 1e-9;

fn unit_rows(x: &[f64], dims: usize, centre: bool) -> Vec<f64> {
    let mut out = x.to_vec();
    for row in out.chunks_mut(dims) {
        if centre {
            let m = row.iter().sum::<f64>() / dims as f64;
            row.iter_mut().for_each(|v| *v -= m);
        }
        let n = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if n > 0.0 {
            row.iter_mut().for_each(|v| *v /= n);
        } else {
            // A constant profile has no shape: it never links (scipy gives NaN).
            row.iter_mut().for_each(|v| *v = f64::NAN);
        }
    }
    out
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four accumulators let the compiler keep several vector lanes busy.
    let mut acc = [0.0f64; 4];
    let chunks = a.len() / 4;
    for k in 0..chunks {
        for l in 0..4 {
            acc[l] += a[4 * k + l] * b[4 * k + l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for k in chunks * 4..a.len() {
        s += a[k] * b[k];
    }
    s
}

/// Every pair of `set` scoring above the calibration's cut, with the calibrated method.
pub fn link_all(
    set: &ProfileSet,
    dims: usize,
    calibration: &Calibration,
    max_links: usize,
) -> Result<Links, ForensicsError> {
    link_with(set, dims, calibration.method, calibration.cut, max_links)
}

/// As [`link_all`] for any method and oriented cut.
pub fn link_with(
    set: &ProfileSet,
    dims: usize,
    method: Method,
    cut: f64,
    max_links: usize,
) -> Result<Links, ForensicsError> {
    let n = set.len();
    let x = set.pretreated(method.pretreatment);
    let prepared = match method.distance {
        Distance::Pearson => Some(unit_rows(&x, dims, true)),
        Distance::Cosine => Some(unit_rows(&x, dims, false)),
        _ => None,
    };
    // For cosine the oriented score is −(1 − dot): screen on dot ≥ 1 + cut.
    let screen = match method.distance {
        Distance::Pearson => cut,
        Distance::Cosine => 1.0 + cut,
        _ => cut,
    };
    let count = AtomicUsize::new(0);
    let overflow = AtomicBool::new(false);
    let tiles: Vec<usize> = (0..n.div_ceil(TILE)).collect();
    let per_tile: Vec<Vec<Link>> = tiles
        .par_iter()
        .map(|&ti| {
            let mut out = Vec::new();
            if overflow.load(Ordering::Relaxed) {
                return out;
            }
            let rows = ti * TILE..((ti + 1) * TILE).min(n);
            for tj in ti..n.div_ceil(TILE) {
                let cols = tj * TILE..((tj + 1) * TILE).min(n);
                for i in rows.clone() {
                    let start = if ti == tj { i + 1 } else { cols.start };
                    for j in start..cols.end {
                        let exact = || {
                            method
                                .distance
                                .raw(&x[i * dims..(i + 1) * dims], &x[j * dims..(j + 1) * dims])
                        };
                        let raw = match &prepared {
                            Some(p) => {
                                let d =
                                    dot(&p[i * dims..(i + 1) * dims], &p[j * dims..(j + 1) * dims]);
                                // NaN (a constant profile) fails this too.
                                if d.is_nan() || d < screen - SCREEN_SLACK {
                                    continue;
                                }
                                exact()
                            }
                            None => exact(),
                        };
                        let score = method.distance.oriented(raw);
                        if score > cut {
                            out.push(Link {
                                a: i as u32,
                                b: j as u32,
                                raw,
                                score,
                            });
                        }
                    }
                }
                // Finished row blocks are counted in `count`; this one's links so far in `out`.
                if count.load(Ordering::Relaxed) + out.len() > max_links {
                    overflow.store(true, Ordering::Relaxed);
                    return out;
                }
            }
            count.fetch_add(out.len(), Ordering::Relaxed);
            out
        })
        .collect();
    if overflow.load(Ordering::Relaxed) {
        return Err(ForensicsError::TooManyLinks { limit: max_links });
    }
    let mut links: Vec<Link> = per_tile.into_iter().flatten().collect();
    links.sort_by(|p, q| {
        q.score
            .total_cmp(&p.score)
            .then((p.a, p.b).cmp(&(q.a, q.b)))
    });
    Ok(Links {
        links,
        pairs_compared: (n as u64) * (n as u64).saturating_sub(1) / 2,
    })
}
