//! Getis-Ord local G (Gi) and Gi* with distance-band weights, with the analytic expectation,
//! variance, z-score and normal p-value exactly as PySAL esda's `G_Local` computes them:
//!
//! - weights: neighbours are the other points within the band (Euclidean); binary (`B`) or
//!   row-standardised (`R`). For Gi* the point is its own neighbour with weight 1 before any
//!   row-standardisation.
//! - Gi excludes the point itself from the sums: G_i = Σ_j w_ij y_j / (Σ y − y_i), with mean and
//!   variance of y over the other n − 1 points; Gi* uses all n points.
//! - E[G_i] = W_i / N and V[G_i] = W_i (N − W_i) / (N − 1) / N² · s²_i / ȳ²_i, where W_i is the
//!   row sum of the weights and N = n − 1 (Gi) or n (Gi*).
//! - p = P(Z > |z|), one-sided, as esda's `p_norm`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Binary weights.
    Binary,
    /// Row-standardised weights.
    Row,
}

/// One point's statistics. A point without neighbours (an island) has NaN z and p.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GLocal {
    pub g: f64,
    pub expected: f64,
    pub variance: f64,
    pub z: f64,
    pub p: f64,
}

/// Neighbours within `band` (Euclidean, inclusive) of each point, excluding the point itself,
/// found through a uniform grid of `band`-sized cells: O(n · neighbours) rather than O(n²).
pub fn distance_band(xy: &[(f64, f64)], band: f64) -> Vec<Vec<usize>> {
    let n = xy.len();
    let mut out = vec![Vec::new(); n];
    if n == 0 || band.is_nan() || band <= 0.0 {
        return out;
    }
    let key = |p: (f64, f64)| ((p.0 / band).floor() as i64, (p.1 / band).floor() as i64);
    let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> =
        std::collections::HashMap::new();
    for (i, p) in xy.iter().enumerate() {
        grid.entry(key(*p)).or_default().push(i);
    }
    let b2 = band * band;
    for (i, p) in xy.iter().enumerate() {
        let (cx, cy) = key(*p);
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(cell) = grid.get(&(cx + dx, cy + dy)) {
                    for &j in cell {
                        if j != i {
                            let (ex, ey) = (xy[j].0 - p.0, xy[j].1 - p.1);
                            if ex * ex + ey * ey <= b2 {
                                out[i].push(j);
                            }
                        }
                    }
                }
            }
        }
        out[i].sort_unstable();
    }
    out
}

/// Standard normal survival function, P(Z > z).
fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Local G (or G* when `star`) for values `y` with the given neighbour lists.
pub fn g_local(
    y: &[f64],
    neighbours: &[Vec<usize>],
    star: bool,
    transform: Transform,
) -> Vec<GLocal> {
    let n = y.len();
    let sum: f64 = y.iter().sum();
    let sum2: f64 = y.iter().map(|v| v * v).sum();
    let remove_self = if star { 0.0 } else { 1.0 };
    let big_n = n as f64 - remove_self;
    (0..n)
        .map(|i| {
            let nb = neighbours.get(i).map(Vec::as_slice).unwrap_or(&[]);
            let k = nb.len() as f64;
            let lag_raw: f64 = nb.iter().map(|&j| y[j]).sum::<f64>();
            // esda gives a Gi* self-weight equal to the row's largest weight, which is 1 for a
            // point with neighbours and 0 for an island.
            let self_w = if star && (transform == Transform::Binary || k > 0.0) {
                1.0
            } else {
                0.0
            };
            let (lag, card) = match transform {
                Transform::Binary => (lag_raw + self_w * y[i], k + self_w),
                Transform::Row => {
                    let total = k + self_w;
                    if total > 0.0 {
                        ((lag_raw + self_w * y[i]) / total, 1.0)
                    } else {
                        (0.0, 0.0)
                    }
                }
            };
            let g = lag / (sum - y[i] * remove_self);
            let mean = (sum - y[i] * remove_self) / big_n;
            let mean_sq = (sum2 - y[i] * y[i] * remove_self) / big_n;
            let var_y = mean_sq - mean * mean;
            let expected = card / big_n;
            let variance = card * (big_n - card) / (big_n - 1.0)
                * (1.0 / (big_n * big_n))
                * (var_y / (mean * mean));
            let z = (g - expected) / variance.sqrt();
            GLocal {
                g,
                expected,
                variance,
                z,
                p: normal_sf(z.abs()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_of_high_values_is_a_hot_spot() {
        let mut xy = Vec::new();
        let mut y = Vec::new();
        for i in 0..10 {
            for j in 0..10 {
                xy.push((i as f64, j as f64));
                y.push(if i < 3 && j < 3 { 10.0 } else { 1.0 });
            }
        }
        let nb = distance_band(&xy, 1.5);
        assert_eq!(nb[0], vec![1, 10, 11]);
        let r = g_local(&y, &nb, true, Transform::Binary);
        assert!(r[11].z > 3.0 && r[11].p < 0.01, "{:?}", r[11]);
        assert!(r[99].z < 0.0);
    }
}
