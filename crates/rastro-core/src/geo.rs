//! Small geodesy helpers on WGS84 positions (great-circle distance and bearing).

use crate::ids::Position;

/// Mean Earth radius in metres (IUGG), the usual choice for haversine distances.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Metres per degree of latitude on the mean sphere.
pub const M_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

/// Distance in metres on a local equirectangular projection, given the cosine of a nearby
/// latitude. For points a few kilometres apart it agrees with the haversine distance to well
/// under 0.1%, at the cost of one square root: the hot loops of tracking use it with a cosine
/// computed once per point.
#[inline]
pub fn equirect_m(cos_lat: f64, a_lat: f64, a_lon: f64, b_lat: f64, b_lon: f64) -> f64 {
    let dx = (b_lon - a_lon) * cos_lat;
    let dy = b_lat - a_lat;
    (dx * dx + dy * dy).sqrt() * M_PER_DEG
}

/// The cosine of a latitude, recomputed only when the latitude moves by more than 0.05°
/// (relative error below 5e-4 at Mexican latitudes, a few metres in a kilometre): consecutive
/// fixes of a track share it.
#[derive(Debug, Clone, Copy)]
pub struct CosLat {
    lat: f64,
    cos: f64,
}

impl Default for CosLat {
    fn default() -> Self {
        CosLat {
            lat: f64::NAN,
            cos: 1.0,
        }
    }
}

impl CosLat {
    #[inline]
    pub fn get(&mut self, lat: f64) -> f64 {
        // The first call (NaN) always computes.
        if self.lat.is_nan() || (lat - self.lat).abs() > 0.05 {
            self.lat = lat;
            self.cos = lat.to_radians().cos();
        }
        self.cos
    }
}

/// Great-circle distance in metres by the haversine formula.
pub fn haversine_m(a_lat: f64, a_lon: f64, b_lat: f64, b_lon: f64) -> f64 {
    let (p1, p2) = (a_lat.to_radians(), b_lat.to_radians());
    let dp = p2 - p1;
    let dl = (b_lon - a_lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

pub fn distance_m(a: Position, b: Position) -> f64 {
    haversine_m(a.lat, a.lon, b.lat, b.lon)
}

/// Moves `meters` from `p` along `bearing_deg` (clockwise from north) on a sphere.
pub fn destination(p: Position, bearing_deg: f64, meters: f64) -> Position {
    let d = meters / EARTH_RADIUS_M;
    let b = bearing_deg.to_radians();
    let (lat1, lon1) = (p.lat.to_radians(), p.lon.to_radians());
    let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * b.cos()).asin();
    let lon2 = lon1 + (b.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
    let lon2 = (lon2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    Position {
        lat: lat2.to_degrees(),
        lon: lon2,
    }
}

/// Distance in metres from point `p` to the segment `a`-`b`, on a local equirectangular
/// projection (accurate to well under 1% for segments of a few hundred kilometres).
pub fn point_segment_m(p: Position, a: Position, b: Position) -> f64 {
    point_segment_cos_m(p.lat.to_radians().cos(), p, a, b)
}

/// [`point_segment_m`] with the cosine of `p`'s latitude supplied, for loops that test one
/// point against many segments.
#[inline]
pub fn point_segment_cos_m(cos_lat: f64, p: Position, a: Position, b: Position) -> f64 {
    let (ax, ay) = ((a.lon - p.lon) * cos_lat, a.lat - p.lat);
    let (bx, by) = ((b.lon - p.lon) * cos_lat, b.lat - p.lat);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (ax + t * dx, ay + t * dy);
    (cx * cx + cy * cy).sqrt() * M_PER_DEG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equirectangular_agrees_with_haversine_at_short_range() {
        let (a, b) = ((19.06, -104.30), (19.07, -104.29));
        let h = haversine_m(a.0, a.1, b.0, b.1);
        let e = equirect_m(a.0.to_radians().cos(), a.0, a.1, b.0, b.1);
        assert!((h - e).abs() / h < 1e-3, "{h} {e}");
    }

    #[test]
    fn manzanillo_to_guadalajara() {
        let d = haversine_m(19.06, -104.30, 20.6767, -103.3475);
        assert!((d - 204_000.0).abs() < 5_000.0, "{d}");
        let p = destination(
            Position {
                lat: 19.0,
                lon: -100.0,
            },
            90.0,
            1000.0,
        );
        assert!((haversine_m(19.0, -100.0, p.lat, p.lon) - 1000.0).abs() < 0.01);
    }
}
