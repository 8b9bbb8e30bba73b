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

use rastro_core::geo::M_PER_DEG;
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

/// Sums over all values that every point's statistics need.
struct Moments {
    n: f64,
    sum: f64,
    sum2: f64,
}

impl Moments {
    fn of(y: &[f64]) -> Moments {
        Moments {
            n: y.len() as f64,
            sum: y.iter().sum(),
            sum2: y.iter().map(|v| v * v).sum(),
        }
    }

    /// One point's statistics from its value, the raw sum of its neighbours' values and its
    /// neighbour count (itself excluded).
    fn point(&self, y_i: f64, lag_raw: f64, k: f64, star: bool, transform: Transform) -> GLocal {
        let remove_self = if star { 0.0 } else { 1.0 };
        let big_n = self.n - remove_self;
        // esda gives a Gi* self-weight equal to the row's largest weight, which is 1 for a
        // point with neighbours and 0 for an island.
        let self_w = if star && (transform == Transform::Binary || k > 0.0) {
            1.0
        } else {
            0.0
        };
        let (lag, card) = match transform {
            Transform::Binary => (lag_raw + self_w * y_i, k + self_w),
            Transform::Row => {
                let total = k + self_w;
                if total > 0.0 {
                    ((lag_raw + self_w * y_i) / total, 1.0)
                } else {
                    (0.0, 0.0)
                }
            }
        };
        let g = lag / (self.sum - y_i * remove_self);
        let mean = (self.sum - y_i * remove_self) / big_n;
        let mean_sq = (self.sum2 - y_i * y_i * remove_self) / big_n;
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
    }
}

/// Local G (or G* when `star`) for values `y` with the given neighbour lists.
pub fn g_local(
    y: &[f64],
    neighbours: &[Vec<usize>],
    star: bool,
    transform: Transform,
) -> Vec<GLocal> {
    let m = Moments::of(y);
    (0..y.len())
        .map(|i| {
            let nb = neighbours.get(i).map(Vec::as_slice).unwrap_or(&[]);
            let lag_raw: f64 = nb.iter().map(|&j| y[j]).sum::<f64>();
            m.point(y[i], lag_raw, nb.len() as f64, star, transform)
        })
        .collect()
}

type BucketKey = (i32, i32);
type IndexedPoint = (f64, f64, u32);

/// A bucket index over WGS84 points for distance-band searches in metres.
///
/// Buckets are `band_m` tall and wide enough at the data's highest latitude that every point
/// within the band of a point lies in its own or an adjacent bucket; candidates are then
/// tested on a local equirectangular projection at the point's latitude, which over a band of
/// a few kilometres agrees with the great-circle distance to better than 0.1 %. Points are
/// stored in bucket order so that a search reads memory that is close together.
pub struct GeoIndex {
    band_m: f64,
    dlat: f64,
    dlon: f64,
    /// Points sorted by bucket: (lat, lon, original index).
    sorted: Vec<IndexedPoint>,
    /// Bucket key to the range of `sorted` it holds.
    buckets: std::collections::HashMap<BucketKey, (u32, u32)>,
}

impl GeoIndex {
    /// Indexes `latlon` (degrees). Non-finite positions are never anyone's neighbour.
    /// At most `u32::MAX` points.
    pub fn new(latlon: &[(f64, f64)], band_m: f64) -> GeoIndex {
        let band_m = if band_m.is_finite() && band_m > 0.0 {
            band_m
        } else {
            0.0
        };
        let max_abs_lat = latlon
            .iter()
            .filter(|p| p.0.is_finite())
            .map(|p| p.0.abs())
            .fold(0.0f64, f64::max)
            .min(89.0);
        let dlat = (band_m / M_PER_DEG).max(1e-9);
        // Pad by the band itself so a point near a bucket edge at a higher latitude than
        // `max_abs_lat` (there is none, but rounding) cannot slip past.
        let dlon = dlat / (max_abs_lat + dlat).min(89.5).to_radians().cos();
        let key = |lat: f64, lon: f64| ((lat / dlat).floor() as i32, (lon / dlon).floor() as i32);
        let mut sorted: Vec<(BucketKey, IndexedPoint)> = latlon
            .iter()
            .enumerate()
            .filter(|(_, p)| p.0.is_finite() && p.1.is_finite())
            .map(|(i, p)| (key(p.0, p.1), (p.0, p.1, i as u32)))
            .collect();
        sorted.sort_unstable_by_key(|e| (e.0, e.1 .2));
        let mut buckets = std::collections::HashMap::new();
        let mut start = 0usize;
        while start < sorted.len() {
            let k = sorted[start].0;
            let mut end = start;
            while end < sorted.len() && sorted[end].0 == k {
                end += 1;
            }
            buckets.insert(k, (start as u32, end as u32));
            start = end;
        }
        GeoIndex {
            band_m,
            dlat,
            dlon,
            sorted: sorted.into_iter().map(|e| e.1).collect(),
            buckets,
        }
    }

    /// Calls `f(j)` for every indexed point `j` other than the one at `(lat, lon)` with index
    /// `me` that lies within the band, inclusive.
    pub fn for_each_within(&self, me: u32, lat: f64, lon: f64, mut f: impl FnMut(u32)) {
        if self.band_m <= 0.0 {
            return;
        }
        let (ky, kx) = (
            (lat / self.dlat).floor() as i32,
            (lon / self.dlon).floor() as i32,
        );
        let cos = lat.to_radians().cos();
        let b2 = (self.band_m / M_PER_DEG) * (self.band_m / M_PER_DEG);
        for dy in -1..=1 {
            for dx in -1..=1 {
                let Some(&(s, e)) = self.buckets.get(&(ky + dy, kx + dx)) else {
                    continue;
                };
                for &(la, lo, j) in &self.sorted[s as usize..e as usize] {
                    let (ey, ex) = (la - lat, (lo - lon) * cos);
                    if j != me && ex * ex + ey * ey <= b2 {
                        f(j);
                    }
                }
            }
        }
    }

    /// Neighbour lists of every point, sorted; for small sets (memory grows with n × k).
    pub fn neighbours(&self, n: usize) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); n];
        for &(lat, lon, i) in &self.sorted {
            let list = &mut out[i as usize];
            self.for_each_within(i, lat, lon, |j| list.push(j as usize));
            list.sort_unstable();
        }
        out
    }
}

/// Local G or G* of values `y` at WGS84 points `latlon` with a distance band in metres,
/// computed in one streaming pass: memory is O(n) whatever the number of neighbours, which
/// is what makes a million cells fit in a laptop's cache budget. Equal to [`g_local`] with
/// [`GeoIndex::neighbours`].
pub fn g_local_geo(
    latlon: &[(f64, f64)],
    y: &[f64],
    band_m: f64,
    star: bool,
    transform: Transform,
) -> Vec<GLocal> {
    let index = GeoIndex::new(latlon, band_m);
    let m = Moments::of(y);
    let mut lag = vec![(0.0f64, 0u32); y.len()];
    for &(lat, lon, i) in &index.sorted {
        let (mut s, mut k) = (0.0, 0u32);
        index.for_each_within(i, lat, lon, |j| {
            s += y[j as usize];
            k += 1;
        });
        lag[i as usize] = (s, k);
    }
    y.iter()
        .zip(&lag)
        .map(|(&yi, &(s, k))| m.point(yi, s, k as f64, star, transform))
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

    #[test]
    fn the_streaming_geographic_kernel_equals_neighbour_lists() {
        // A jittered grid about 300 m apart around Culiacán, band 1 km.
        let mut ll = Vec::new();
        let mut y = Vec::new();
        for i in 0..40 {
            for j in 0..40 {
                let lat = 24.8 + i as f64 * 0.0027 + ((i * 7 + j * 3) % 5) as f64 * 1e-4;
                let lon = -107.4 + j as f64 * 0.003 + ((i * 5 + j) % 7) as f64 * 1e-4;
                ll.push((lat, lon));
                y.push(((i * 31 + j * 17) % 11) as f64 + if i > 30 && j < 5 { 20.0 } else { 0.0 });
            }
        }
        let index = GeoIndex::new(&ll, 1000.0);
        let nb = index.neighbours(ll.len());
        // Every listed neighbour is within the band by haversine (to the projection's error),
        // and every pair within the band is listed.
        for (i, list) in nb.iter().enumerate() {
            for j in 0..ll.len() {
                if i == j {
                    continue;
                }
                let d = rastro_core::geo::haversine_m(ll[i].0, ll[i].1, ll[j].0, ll[j].1);
                let listed = list.binary_search(&j).is_ok();
                assert!(
                    listed == (d <= 1000.0) || (d - 1000.0).abs() < 1.0,
                    "{i} {j} {d}"
                );
            }
        }
        for (star, t) in [
            (true, Transform::Binary),
            (true, Transform::Row),
            (false, Transform::Binary),
            (false, Transform::Row),
        ] {
            let a = g_local(&y, &nb, star, t);
            let b = g_local_geo(&ll, &y, 1000.0, star, t);
            for (p, q) in a.iter().zip(&b) {
                assert!(
                    (p.z - q.z).abs() < 1e-9 && (p.g - q.g).abs() < 1e-12,
                    "{p:?} {q:?}"
                );
            }
        }
    }
}
