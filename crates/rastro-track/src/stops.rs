//! Stop detection with the semantics of MovingPandas' `TrajectoryStopDetector`.
//!
//! A stop is a run of consecutive points whose minimum rotated rectangle has a diagonal below
//! `max_diameter` and that lasts at least `min_duration`. The algorithm below follows
//! MovingPandas 0.23 step by step (window pruning while moving, the bounding-box prefilter at
//! 1.5 x `max_diameter`, the end-of-stop rule and the final open stop), so the two find the
//! same stops on the same input. Planar coordinates use Euclidean distance, as MovingPandas
//! does for projected data; for latitude/longitude Rastro measures on a local equirectangular
//! projection where MovingPandas uses geodesic distances (within a metre at stop scale).

use serde::Serialize;

/// How coordinates are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// x and y in metres (a projected CRS).
    Planar,
    /// x = longitude, y = latitude, WGS84 degrees.
    LatLon,
}

/// One detected stop: indexes into the input and the times of its first and last point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stop {
    pub first: usize,
    pub last: usize,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Mean position of the stop's points (x, y in the input's units).
    pub x: f64,
    pub y: f64,
}

impl Stop {
    pub fn duration_s(&self) -> f64 {
        (self.end_ms - self.start_ms) as f64 / 1000.0
    }
}

/// Metres per degree on a sphere of the IUGG mean radius.
const M_PER_DEG: f64 = rastro_core::geo::EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

fn to_xy(metric: Metric, x: f64, y: f64, cos_lat: f64) -> (f64, f64) {
    match metric {
        Metric::Planar => (x, y),
        Metric::LatLon => (x * M_PER_DEG * cos_lat, y * M_PER_DEG),
    }
}

fn cross(o: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Convex hull (Andrew's monotone chain), counter-clockwise, without collinear points.
fn hull(mut pts: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut lower: Vec<(f64, f64)> = Vec::new();
    for &p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0.0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<(f64, f64)> = Vec::new();
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0.0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    ((a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1)).sqrt()
}

/// Perpendicular distance from `p` to the line through `a` and `b`, signed positive on the
/// left of a->b.
fn perp_oriented(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> f64 {
    if a == b {
        return dist(a, p);
    }
    let len2 = (b.0 - a.0) * (b.0 - a.0) + (b.1 - a.1) * (b.1 - a.1);
    let s = ((a.1 - p.1) * (b.0 - a.0) - (a.0 - p.0) * (b.1 - a.1)) / len2;
    let d = s.abs() * len2.sqrt();
    let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
    if cross < 0.0 {
        -d
    } else {
        d
    }
}

/// Projection of `p` on the line through `a` and `b`.
fn project(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> (f64, f64) {
    if p == a || p == b {
        return p;
    }
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let r = ((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy);
    (a.0 + r * (b.0 - a.0), a.1 + r * (b.1 - a.1))
}

/// Rotating caliper step: from `start`, advance around the closed `ring` while the oriented
/// distance from the segment keeps growing (or stays equal). `orient` 0 compares magnitudes,
/// 1 the left side, -1 the right side.
fn furthest(ring: &[(f64, f64)], a: (f64, f64), b: (f64, f64), start: usize, orient: i8) -> usize {
    let od = |i: usize| {
        let d = perp_oriented(a, b, ring[i]);
        if orient == 0 {
            d.abs()
        } else {
            d
        }
    };
    let further_or_equal = |d1: f64, d2: f64| match orient {
        0 => d1.abs() >= d2.abs(),
        1 => d1 >= d2,
        _ => d1 <= d2,
    };
    let (mut max_d, mut max_i) = (od(start), start);
    let (mut next_d, mut next_i) = (max_d, start);
    while further_or_equal(next_d, max_d) {
        max_d = next_d;
        max_i = next_i;
        next_i = if max_i + 1 >= ring.len() - 1 {
            0
        } else {
            max_i + 1
        };
        if next_i == start {
            break;
        }
        next_d = od(next_i);
    }
    max_i
}

/// Diagonal of the minimum-area rotated rectangle around the points (0 for one point; the
/// extreme-to-extreme length for collinear points), computed as Shapely 2 / GEOS 3.12+
/// `oriented_envelope` does: rotating calipers over the clockwise hull ring that starts at
/// the lowest point, keeping the first strictly smaller area. Triangular hulls give equal
/// areas on every edge, so following the same arithmetic is what makes the chosen rectangle,
/// and its diagonal, the same.
pub fn mrr_diagonal(pts: &[(f64, f64)]) -> f64 {
    if pts.len() == 2 {
        return dist(pts[0], pts[1]);
    }
    mrr_diagonal_of_hull(&hull(pts.to_vec()))
}

/// [`mrr_diagonal`] of points whose convex hull (counter-clockwise, as [`hull`] returns it) is
/// already known.
fn mrr_diagonal_of_hull(h: &[(f64, f64)]) -> f64 {
    match h.len() {
        0 | 1 => return 0.0,
        2 => return dist(h[0], h[1]),
        _ => {}
    }
    // Clockwise ring starting at the lowest (then leftmost) vertex, closed.
    let start = (0..h.len())
        .min_by(|&i, &j| h[i].1.total_cmp(&h[j].1).then(h[i].0.total_cmp(&h[j].0)))
        .unwrap_or(0);
    let mut ring: Vec<(f64, f64)> = (0..h.len())
        .map(|k| h[(start + h.len() - k) % h.len()])
        .collect();
    ring.push(ring[0]);
    let mut best = (f64::INFINITY, 0.0);
    let (mut diam_i, mut left_i, mut right_i) = (1usize, 1usize, 0usize);
    for i in 0..ring.len() - 1 {
        let (a, b) = (ring[i], ring[i + 1]);
        diam_i = furthest(&ring, a, b, diam_i, 0);
        let diam_pt = ring[diam_i];
        let base_pt = project(a, b, diam_pt);
        left_i = furthest(&ring, base_pt, diam_pt, left_i, 1);
        if i == 0 {
            right_i = diam_i;
        }
        right_i = furthest(&ring, base_pt, diam_pt, right_i, -1);
        let width = perp_oriented(base_pt, diam_pt, ring[left_i]).abs()
            + perp_oriented(base_pt, diam_pt, ring[right_i]).abs();
        let length = dist(base_pt, diam_pt);
        let area = length * width;
        if area < best.0 {
            best = (area, (length * length + width * width).sqrt());
        }
    }
    best.1
}

fn bbox_diagonal(metric: Metric, xs: &[f64], ys: &[f64], cos_lat: f64) -> f64 {
    let (mut minx, mut maxx, mut miny, mut maxy) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (&x, &y) in xs.iter().zip(ys) {
        minx = minx.min(x);
        maxx = maxx.max(x);
        miny = miny.min(y);
        maxy = maxy.max(y);
    }
    match metric {
        Metric::Planar => (maxx - minx).hypot(maxy - miny),
        Metric::LatLon => rastro_core::geo::equirect_m(cos_lat, miny, minx, maxy, maxx),
    }
}

/// Detects stops in one trajectory. `t_ms` must be sorted ascending; `x`/`y` are planar metres
/// or lon/lat degrees as `metric` says.
pub fn detect_stops(
    t_ms: &[i64],
    x: &[f64],
    y: &[f64],
    metric: Metric,
    max_diameter: f64,
    min_duration_ms: i64,
) -> Vec<Stop> {
    let n = t_ms.len().min(x.len()).min(y.len());
    let mut stops = Vec::new();
    // The window is a range [lo, hi] of input indexes, which is what MovingPandas' lists hold.
    let mut lo = 0usize;
    let mut is_stopped = false;
    let mut previously_stopped = false;
    // One cosine per point, computed once: the window tests below run for every point.
    let cos_lat: Vec<f64> = if metric == Metric::LatLon {
        let mut c = rastro_core::geo::CosLat::default();
        y[..n].iter().map(|v| c.get(*v)).collect()
    } else {
        Vec::new()
    };
    // The window's convex hull, kept across points: while stopped the window only grows, and
    // hull(A ∪ {p}) = hull(hull(A) ∪ {p}), so a long dwell costs O(hull) per point, not
    // O(window). `hull_for` is the (lo, hi) range the cached hull covers.
    let mut cached: Vec<(f64, f64)> = Vec::new();
    let mut hull_for: Option<(usize, usize)> = None;
    for hi in 0..n {
        if !is_stopped {
            while hi + 1 - lo > 2 && t_ms[hi] - t_ms[lo] >= min_duration_ms {
                lo += 1;
            }
        }
        is_stopped = false;
        if hi + 1 - lo > 1 {
            let d = bbox_diagonal(
                metric,
                &x[lo..=hi],
                &y[lo..=hi],
                cos_lat.get(lo).copied().unwrap_or(1.0),
            );
            if d < max_diameter * 1.5 {
                let c = cos_lat.get(lo).copied().unwrap_or(1.0);
                let diag = if hi - lo == 1 {
                    match metric {
                        Metric::LatLon => rastro_core::geo::haversine_m(y[lo], x[lo], y[hi], x[hi]),
                        Metric::Planar => dist((x[lo], y[lo]), (x[hi], y[hi])),
                    }
                } else {
                    let mut pts: Vec<(f64, f64)> = match hull_for {
                        Some((l, h)) if l == lo && h + 1 == hi => std::mem::take(&mut cached),
                        _ => (lo..hi).map(|i| to_xy(metric, x[i], y[i], c)).collect(),
                    };
                    pts.push(to_xy(metric, x[hi], y[hi], c));
                    cached = hull(pts);
                    hull_for = Some((lo, hi));
                    mrr_diagonal_of_hull(&cached)
                };

                if diag < max_diameter {
                    is_stopped = true;
                }
            }
        }
        if !is_stopped && previously_stopped && hi + 1 - lo > 1 {
            let (begin, end) = (t_ms[lo], t_ms[hi - 1]);
            if end - begin >= min_duration_ms {
                stops.push(make_stop(lo, hi - 1, t_ms, x, y));
                lo = hi;
            }
        }
        previously_stopped = is_stopped;
    }
    if is_stopped && n > 0 && t_ms[n - 1] - t_ms[lo] >= min_duration_ms {
        stops.push(make_stop(lo, n - 1, t_ms, x, y));
    }
    stops
}

fn make_stop(first: usize, last: usize, t: &[i64], x: &[f64], y: &[f64]) -> Stop {
    let k = (last - first + 1) as f64;
    let sx: f64 = x[first..=last].iter().sum();
    let sy: f64 = y[first..=last].iter().sum();
    Stop {
        first,
        last,
        start_ms: t[first],
        end_ms: t[last],
        x: sx / k,
        y: sy / k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangle_diagonals() {
        assert_eq!(mrr_diagonal(&[(0.0, 0.0)]), 0.0);
        assert!((mrr_diagonal(&[(0.0, 0.0), (3.0, 4.0)]) - 5.0).abs() < 1e-12);
        assert!(
            (mrr_diagonal(&[
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (0.0, 10.0),
                (5.0, 5.0)
            ]) - 200f64.sqrt())
            .abs()
                < 1e-9
        );
        // Collinear points: the segment.
        assert!((mrr_diagonal(&[(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)]) - 8f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn a_dwell_between_two_drives_is_one_stop() {
        let mut t = Vec::new();
        let mut x = Vec::new();
        for i in 0..10 {
            t.push(i * 60_000);
            x.push(i as f64 * 1000.0);
        }
        for i in 10..40 {
            t.push(i * 60_000);
            x.push(10_000.0 + (i % 3) as f64 * 5.0);
        }
        for i in 40..50 {
            t.push(i * 60_000);
            x.push(10_000.0 + (i - 39) as f64 * 1000.0);
        }
        let y = vec![0.0; t.len()];
        let s = detect_stops(&t, &x, &y, Metric::Planar, 100.0, 20 * 60_000);
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(s[0].duration_s() >= 1200.0);
        assert!(detect_stops(&t, &x, &y, Metric::Planar, 100.0, 60 * 60_000).is_empty());
    }
}
