//! The H3 hexagonal grid (through `h3o`): the spatial key for indexing and for fusing
//! evidence into cells.

use h3o::{CellIndex, LatLng, Resolution};

/// Resolution at which observations and records are indexed in the store. Resolution 9 cells
/// have edges of about 200 m: fine enough for a city block, coarse enough for a cheap index.
pub const INDEX_RESOLUTION: u8 = 9;

/// The H3 cell containing a WGS84 position, as the 64-bit index; `None` for an invalid
/// position or resolution.
pub fn cell(lat: f64, lon: f64, resolution: u8) -> Option<u64> {
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    let res = Resolution::try_from(resolution).ok()?;
    let ll = LatLng::new(lat, lon).ok()?;
    Some(u64::from(ll.to_cell(res)))
}

/// The centre of a cell, as (lat, lon).
pub fn center(cell: u64) -> Option<(f64, f64)> {
    let c = CellIndex::try_from(cell).ok()?;
    let ll = LatLng::from(c);
    Some((ll.lat(), ll.lng()))
}

/// The cell's ancestor at a coarser resolution.
pub fn parent(cell: u64, resolution: u8) -> Option<u64> {
    let c = CellIndex::try_from(cell).ok()?;
    let res = Resolution::try_from(resolution).ok()?;
    c.parent(res).map(u64::from)
}

/// The cell's descendants at a finer resolution (the cell itself at its own resolution); empty
/// for an invalid cell or a resolution coarser than the cell's.
pub fn children(cell: u64, resolution: u8) -> Vec<u64> {
    let (Ok(c), Ok(res)) = (CellIndex::try_from(cell), Resolution::try_from(resolution)) else {
        return Vec::new();
    };
    c.children(res).map(u64::from).collect()
}

/// The smallest (lat_min, lat_max, lon_min, lon_max) box around the cell's boundary, widened
/// by `margin_deg` so that a point on an edge is never left out by rounding; `None` for an
/// invalid cell or one that spans the antimeridian (callers then test every point).
pub fn bbox(cell: u64, margin_deg: f64) -> Option<(f64, f64, f64, f64)> {
    let b = boundary(cell);
    if b.is_empty() {
        return None;
    }
    let (mut a, mut z, mut w, mut e) = (90.0f64, -90.0f64, 180.0f64, -180.0f64);
    for (lat, lon) in b {
        a = a.min(lat);
        z = z.max(lat);
        w = w.min(lon);
        e = e.max(lon);
    }
    if e - w > 180.0 {
        return None;
    }
    Some((
        a - margin_deg,
        z + margin_deg,
        w - margin_deg,
        e + margin_deg,
    ))
}

/// The cell's index as the usual hexadecimal text.
pub fn to_string(cell: u64) -> String {
    CellIndex::try_from(cell)
        .map(|c| c.to_string())
        .unwrap_or_else(|_| format!("{cell:x}"))
}

/// Parses a cell's hexadecimal text.
pub fn parse(text: &str) -> Option<u64> {
    text.parse::<CellIndex>().ok().map(u64::from)
}

/// The cell's resolution, 0 to 15.
pub fn resolution(cell: u64) -> Option<u8> {
    CellIndex::try_from(cell)
        .ok()
        .map(|c| u8::from(c.resolution()))
}

/// Every cell within `k` grid steps of `cell` (including it), in h3o's order.
pub fn disk(cell: u64, k: u32) -> Vec<u64> {
    CellIndex::try_from(cell)
        .map(|c| {
            c.grid_disk::<Vec<_>>(k)
                .into_iter()
                .map(u64::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The cell's boundary as (lat, lon) vertices, not closed.
pub fn boundary(cell: u64) -> Vec<(f64, f64)> {
    CellIndex::try_from(cell)
        .map(|c| c.boundary().iter().map(|ll| (ll.lat(), ll.lng())).collect())
        .unwrap_or_default()
}

/// Mean edge length of cells at `resolution`, in metres.
pub fn edge_length_m(resolution: u8) -> Option<f64> {
    Resolution::try_from(resolution)
        .ok()
        .map(|r| r.edge_length_m())
}

/// Cells that cover a run of nearby points at one resolution, with an H3 lookup for only some
/// of them. The point whose cell was last looked up is the anchor; a later point within
/// [`Anchor::reach_m`] of it lies in the anchor's cell or one of its neighbours, because a
/// cell not adjacent to the anchor's is at least one edge length away from it, and the reach
/// is well under the shortest edge at the resolution. So `cover` answers "this point is in
/// `disk(cell, 1)`", exactly enough for a sparse index that lists the disk.
#[derive(Debug, Clone)]
pub struct Anchor {
    resolution: u8,
    reach_m: f64,
    /// (lat, lon, cos(lat), cell) of the anchor.
    last: Option<(f64, f64, f64, u64)>,
}

impl Anchor {
    /// Mean Earth radius used for the short distances here, in metres.
    const EARTH_RADIUS_M: f64 = 6_371_008.8;

    /// A reach of 30% of the mean edge: H3's shortest edges are about half the mean.
    pub fn new(resolution: u8) -> Self {
        Anchor {
            resolution,
            reach_m: edge_length_m(resolution).unwrap_or(0.0) * 0.3,
            last: None,
        }
    }

    pub fn reach_m(&self) -> f64 {
        self.reach_m
    }

    /// Forgets the anchor (the next point is looked up).
    pub fn reset(&mut self) {
        self.last = None;
    }

    /// The cell whose disk of radius 1 holds the point: its own cell when looked up now, the
    /// anchor's when the point is within reach of it. `None` for an invalid position.
    pub fn cover(&mut self, lat: f64, lon: f64) -> Option<u64> {
        if let Some((alat, alon, cos, cell)) = self.last {
            // Near the poles or across the antimeridian the flat approximation below does
            // not hold; such points are simply looked up.
            let dlon = lon - alon;
            if alat.abs() < 80.0 && dlon.abs() < 1.0 {
                let dy = (lat - alat).to_radians() * Self::EARTH_RADIUS_M;
                let dx = dlon.to_radians() * cos * Self::EARTH_RADIUS_M;
                if dx * dx + dy * dy < self.reach_m * self.reach_m {
                    return Some(cell);
                }
            }
        }
        let c = cell(lat, lon, self.resolution)?;
        self.last = Some((lat, lon, lat.to_radians().cos(), c));
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roundtrip() {
        let c = cell(19.06, -104.30, 9).unwrap();
        let (lat, lon) = center(c).unwrap();
        assert!((lat - 19.06).abs() < 0.01 && (lon + 104.30).abs() < 0.01);
        assert_eq!(parent(c, 9), Some(c));
        assert!(cell(95.0, 0.0, 9).is_none());
        assert_eq!(parse(&to_string(c)), Some(c));
        assert_eq!(resolution(c), Some(9));
        assert_eq!(disk(c, 1).len(), 7);
        assert_eq!(boundary(c).len(), 6);
        let p = parent(c, 5).unwrap();
        assert_eq!(children(p, 6).len(), 7);
        assert!(children(p, 4).is_empty());
        let (a, z, w, e) = bbox(c, 0.0).unwrap();
        assert!(a < lat && lat < z && w < lon && lon < e);
        let e = edge_length_m(9).unwrap();
        assert!((150.0..250.0).contains(&e), "{e}");
    }
}

#[cfg(test)]
mod anchor_props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Any point within reach of an anchor lies in the anchor cell's disk, at every
        /// resolution the store might use and anywhere on Earth short of the poles.
        #[test]
        fn a_point_within_reach_is_in_the_anchor_disk(
            res in 2u8..=9,
            lat in -79.9f64..79.9,
            lon in -180.0f64..180.0,
            bearing in 0.0f64..std::f64::consts::TAU,
            frac in 0.0f64..1.0,
        ) {
            let mut a = Anchor::new(res);
            let c = a.cover(lat, lon).unwrap();
            // Step just under the reach, along the bearing, on the flat approximation the
            // anchor uses.
            let d = a.reach_m() * frac * 0.999;
            let dlat = (d * bearing.cos() / Anchor::EARTH_RADIUS_M).to_degrees();
            let dlon = (d * bearing.sin() / (Anchor::EARTH_RADIUS_M * lat.to_radians().cos())).to_degrees();
            let (lat2, lon2) = (lat + dlat, lon + dlon);
            prop_assume!((-180.0..=180.0).contains(&lon2));
            // What `cover` answers (the anchor's cell, or the point's own where it looks the
            // point up instead) has the point in its disk, and so does the anchor's cell.
            let covered = a.cover(lat2, lon2).unwrap();
            let actual = cell(lat2, lon2, res).unwrap();
            prop_assert!(disk(covered, 1).contains(&actual));
            prop_assert!(disk(c, 1).contains(&actual), "{} not next to {}", to_string(actual), to_string(c));
        }
    }
}
