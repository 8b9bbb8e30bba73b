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
        let e = edge_length_m(9).unwrap();
        assert!((150.0..250.0).contains(&e), "{e}");
    }
}
