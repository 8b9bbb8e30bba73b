//! A square grid on WGS84: rows of `cell_m` metres of latitude, each row cut into cells of
//! `cell_m` metres of longitude at the row's mid latitude. A cell is one `u64` key.

use rastro_core::geo::M_PER_DEG;

/// The grid of one cell size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub cell_m: f64,
    dlat: f64,
}

fn pack(i: i64, j: i64) -> u64 {
    ((i as i32 as u32 as u64) << 32) | (j as i32 as u32 as u64)
}

/// Row and column of a packed key.
pub fn unpack(k: u64) -> (i64, i64) {
    (((k >> 32) as u32 as i32) as i64, (k as u32 as i32) as i64)
}

impl Grid {
    pub fn new(cell_m: f64) -> Grid {
        Grid {
            cell_m,
            dlat: cell_m / M_PER_DEG,
        }
    }

    fn dlon(&self, row: i64) -> f64 {
        let mid = (row as f64 + 0.5) * self.dlat;
        self.dlat / mid.to_radians().cos().max(0.01)
    }

    /// The cell holding a position.
    pub fn key(&self, lat: f64, lon: f64) -> u64 {
        let i = (lat / self.dlat).floor() as i64;
        let j = (lon / self.dlon(i)).floor() as i64;
        pack(i, j)
    }

    /// The centre of a cell.
    pub fn centre(&self, k: u64) -> (f64, f64) {
        let (i, j) = unpack(k);
        (
            (i as f64 + 0.5) * self.dlat,
            (j as f64 + 0.5) * self.dlon(i),
        )
    }

    /// The cells of the 3 x 3 block around a position: every cell within about one cell size.
    pub fn around(&self, lat: f64, lon: f64) -> [u64; 9] {
        let i = (lat / self.dlat).floor() as i64;
        let mut out = [0u64; 9];
        let mut n = 0;
        for di in -1..=1 {
            let r = i + di;
            let j = (lon / self.dlon(r)).floor() as i64;
            for dj in -1..=1 {
                out[n] = pack(r, j + dj);
                n += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rastro_core::geo::haversine_m;

    proptest! {
        /// A position lies in its own cell's block, and the centre of its cell is within a
        /// cell's diagonal of it.
        #[test]
        fn keys_and_centres_agree(lat in -60.0f64..60.0, lon in -179.0f64..179.0) {
            let g = Grid::new(200.0);
            let k = g.key(lat, lon);
            prop_assert!(g.around(lat, lon).contains(&k));
            let (clat, clon) = g.centre(k);
            prop_assert!(haversine_m(lat, lon, clat, clon) <= 200.0 * 0.75);
            prop_assert_eq!(g.key(clat, clon), k);
        }
    }
}
