//! All-pairs linking in tiles: every pair of profiles whose score passes the calibrated cut.
//!
//! Three stages keep 100,000 profiles (5·10⁹ pairs) within a minute on a laptop, and none of
//! them decides a link on its own:
//! 1. **Pivot blocking.** Every method is a metric or reduces to one (Pearson and cosine: the
//!    Euclidean distance of centred or plain unit vectors, ‖u−v‖² = 2 − 2r). Profiles are
//!    sorted by their distance to one pivot; by the triangle inequality a pair whose pivot
//!    distances differ by more than the cut cannot link, so a row tile stops scanning column
//!    tiles at the first one that is that far away.
//! 2. **f32 screen.** The surviving tile pairs are compared in f32 over lanes padded to eight
//!    (AVX2 when the processor has it), with a slack larger than the f32 rounding error.
//! 3. **Exact rescoring.** A pair that passes the screen is scored again in f64 with scipy's
//!    formula, and only that value is compared with the cut and reported.

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
    /// Pairs in the collection, n·(n−1)/2.
    pub pairs: u64,
    /// Pairs that reached the f32 screen (the rest were ruled out by pivot blocking).
    pub pairs_screened: u64,
    /// Pairs scored exactly (passed the screen).
    pub pairs_rescored: u64,
}

const TILE: usize = 128;
const LANES: usize = 8;

/// Rows scaled to unit length, centred first for Pearson; a constant row (no shape) becomes
/// NaN and never links, as scipy gives NaN.
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
            row.iter_mut().for_each(|v| *v = f64::NAN);
        }
    }
    out
}

/// What the f32 screen computes per pair, and the metric pivot blocking uses.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kernel {
    /// Dot product of unit rows (Pearson, cosine); passes when ≥ the bound.
    Dot,
    /// Sum of squared differences; passes when ≤ the bound.
    SquaredEuclidean,
    /// Sum of absolute differences; passes when ≤ the bound.
    Manhattan,
    /// Canberra terms; passes when ≤ the bound.
    Canberra,
}

#[inline(always)]
fn lanes<F: Fn(f32, f32) -> f32>(a: &[f32], b: &[f32], f: F) -> f32 {
    // Eight independent accumulators: the compiler maps them onto vector lanes without
    // reassociating a single sum.
    let mut acc = [0.0f32; LANES];
    for (ca, cb) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += f(ca[l], cb[l]);
        }
    }
    acc.iter().sum()
}

/// The f32 rows of one job and what the screen compares them with.
struct Screen<'a> {
    kernel: Kernel,
    bound: f32,
    /// Rows padded to `w` lanes, in pivot order.
    rows: &'a [f32],
    w: usize,
    avx2: bool,
}

/// One row tile against one column tile (`same`: the tile with itself, pairs above the
/// diagonal): the pairs passing the screen, as (i, j) positions in pivot order.
struct TilePair {
    ri: std::ops::Range<usize>,
    cj: std::ops::Range<usize>,
    same: bool,
}

/// Generic over the kernel so each one's loop is compiled on its own.
#[inline(always)]
fn tile_with<F: Fn(f32, f32) -> f32 + Copy>(
    f: F,
    s: &Screen,
    t: &TilePair,
    out: &mut Vec<(u32, u32)>,
) {
    let (w, dot) = (s.w, s.kernel == Kernel::Dot);
    for i in t.ri.clone() {
        let a = &s.rows[i * w..(i + 1) * w];
        let start = if t.same { i + 1 } else { t.cj.start };
        for j in start..t.cj.end {
            let v = lanes(a, &s.rows[j * w..(j + 1) * w], f);
            if (dot && v >= s.bound) || (!dot && v <= s.bound) {
                out.push((i as u32, j as u32));
            }
        }
    }
}

#[inline(always)]
fn screen_tile(s: &Screen, t: &TilePair, out: &mut Vec<(u32, u32)>) {
    match s.kernel {
        Kernel::Dot => tile_with(|x, y| x * y, s, t, out),
        Kernel::SquaredEuclidean => tile_with(|x, y| (x - y) * (x - y), s, t, out),
        Kernel::Manhattan => tile_with(|x, y| (x - y).abs(), s, t, out),
        Kernel::Canberra => tile_with(
            |x, y| {
                let d = x.abs() + y.abs();
                // Padding and jointly missing peaks are 0/0: scipy counts them 0.
                if d > 0.0 {
                    (x - y).abs() / d
                } else {
                    0.0
                }
            },
            s,
            t,
            out,
        ),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn screen_tile_avx2(s: &Screen, t: &TilePair, out: &mut Vec<(u32, u32)>) {
    screen_tile(s, t, out)
}

fn screen(s: &Screen, t: &TilePair, out: &mut Vec<(u32, u32)>) {
    #[cfg(target_arch = "x86_64")]
    if s.avx2 {
        // SAFETY: `avx2` is true only when the running processor reports AVX2 and FMA
        // (`has_avx2`), which is all the target feature needs.
        unsafe { screen_tile_avx2(s, t, out) };
        return;
    }
    screen_tile(s, t, out)
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
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
    let pairs = (n as u64) * (n as u64).saturating_sub(1) / 2;
    let x = set.pretreated(method.pretreatment);
    // A link needs score > cut; a distance's score is −raw, so raw < −cut.
    if n < 2 || cut.is_nan() || cut == f64::INFINITY {
        return Ok(Links {
            pairs,
            ..Links::default()
        });
    }
    let (kernel, unit, bound, metric_bound) = plan(method.distance, &x, dims, cut);
    // The rows the screen and the pivot work on: unit rows for the dot kernels.
    let src: &[f64] = unit.as_deref().unwrap_or(&x);
    // The metric each profile is placed by: unit rows for the dot kernels, else the rows.
    let metric = |a: &[f64], b: &[f64]| -> f64 {
        match kernel {
            Kernel::Dot | Kernel::SquaredEuclidean => Distance::Euclidean.raw(a, b),
            Kernel::Manhattan => Distance::Manhattan.raw(a, b),
            Kernel::Canberra => Distance::Canberra.raw(a, b),
        }
    };
    let row = |i: usize| &src[i * dims..(i + 1) * dims];
    // Pivot: the profile farthest from the first comparable one, so distances to it spread
    // widely. NaN rows (constant profiles under Pearson) sort last and are never compared.
    let Some(first) = (0..n).find(|&i| row(i).iter().all(|v| v.is_finite())) else {
        return Ok(Links {
            pairs,
            ..Links::default()
        });
    };
    let pivot = (0..n)
        .map(|i| (i, metric(row(first), row(i))))
        .filter(|(_, d)| d.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(first, |(i, _)| i);
    let mut order: Vec<(f64, u32)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let d = metric(row(pivot), row(i));
            (if d.is_finite() { d } else { f64::INFINITY }, i as u32)
        })
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let live = order.iter().filter(|o| o.0.is_finite()).count();
    let w = dims.div_ceil(LANES) * LANES;
    let mut rows = vec![0.0f32; live * w];
    for (pos, &(_, i)) in order[..live].iter().enumerate() {
        let i = i as usize;
        for d in 0..dims {
            rows[pos * w + d] = src[i * dims + d] as f32;
        }
    }
    let key: Vec<f64> = order[..live].iter().map(|o| o.0).collect();
    let ntiles = live.div_ceil(TILE);
    let span = |t: usize| t * TILE..((t + 1) * TILE).min(live);
    let scr = Screen {
        kernel,
        bound,
        rows: &rows,
        w,
        avx2: has_avx2(),
    };
    let count = AtomicUsize::new(0);
    let screened = AtomicUsize::new(0);
    let rescored = AtomicUsize::new(0);
    let overflow = AtomicBool::new(false);
    let per_tile: Vec<Vec<Link>> = (0..ntiles)
        .into_par_iter()
        .map(|ti| {
            let mut out = Vec::new();
            let mut cand = Vec::new();
            let ri = span(ti);
            let row_max = key[ri.end - 1];
            for tj in ti..ntiles {
                if overflow.load(Ordering::Relaxed) {
                    return out;
                }
                let cj = span(tj);
                // Sorted by pivot distance: every later tile is farther still.
                if key[cj.start] - row_max > metric_bound {
                    break;
                }
                let before = cand.len();
                let tile = TilePair {
                    ri: ri.clone(),
                    cj: cj.clone(),
                    same: ti == tj,
                };
                screen(&scr, &tile, &mut cand);
                let tile_pairs = if ti == tj {
                    ri.len() * (ri.len() - 1) / 2
                } else {
                    ri.len() * cj.len()
                };
                screened.fetch_add(tile_pairs, Ordering::Relaxed);
                rescored.fetch_add(cand.len() - before, Ordering::Relaxed);
                for &(p, q) in &cand[before..] {
                    let (i, j) = (order[p as usize].1, order[q as usize].1);
                    let (a, b) = (i.min(j), i.max(j));
                    let raw = method.distance.raw(
                        &x[a as usize * dims..(a as usize + 1) * dims],
                        &x[b as usize * dims..(b as usize + 1) * dims],
                    );
                    let score = method.distance.oriented(raw);
                    if score > cut {
                        out.push(Link { a, b, raw, score });
                    }
                }
                cand.clear();
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
        pairs,
        pairs_screened: screened.into_inner() as u64,
        pairs_rescored: rescored.into_inner() as u64,
    })
}

/// The screen's kernel, unit rows (dot kernels only), f32 bound and the metric bound for pivot blocking, each wider
/// than the exact cut by more than the rounding of f32 (relative 6·10⁻⁸ per value and per
/// addition), so the screen can only let extra pairs through to the exact rescoring.
fn plan(
    distance: Distance,
    x: &[f64],
    dims: usize,
    cut: f64,
) -> (Kernel, Option<Vec<f64>>, f32, f64) {
    const REL: f64 = 1e-5;
    let norm = |p: f64| -> f64 {
        x.chunks(dims)
            .map(|r| r.iter().map(|v| v.abs().powf(p)).sum::<f64>().powf(1.0 / p))
            .fold(0.0, f64::max)
    };
    match distance {
        Distance::Pearson | Distance::Cosine => {
            let u = unit_rows(x, dims, distance == Distance::Pearson);
            // Pearson: r > cut. Cosine: 1 − cos < −cut, so cos > 1 + cut.
            let cos = if distance == Distance::Pearson {
                cut
            } else {
                1.0 + cut
            };
            let lo = cos - 1e-4;
            // ‖u − v‖² = 2 − 2 cos for unit vectors.
            let metric = (2.0 - 2.0 * lo).max(0.0).sqrt() + 1e-6;
            (Kernel::Dot, Some(u), lo as f32, metric)
        }
        Distance::Euclidean => {
            let thr = -cut;
            let s = REL * (2.0 * norm(2.0) + thr.abs()) + 1e-9;
            let b = thr + s;
            (
                Kernel::SquaredEuclidean,
                None,
                (b * b * (1.0 + REL)) as f32,
                b,
            )
        }
        Distance::Manhattan => {
            let thr = -cut;
            let b = thr + REL * (2.0 * norm(1.0) + thr.abs()) + 1e-9;
            (Kernel::Manhattan, None, b as f32, b)
        }
        Distance::Canberra => {
            let thr = -cut;
            // Each term moves by at most ~4 rounding units; dims terms, plus the sum's.
            let b = thr + 1e-4 + REL * thr.abs();
            (Kernel::Canberra, None, b as f32, b)
        }
    }
}
