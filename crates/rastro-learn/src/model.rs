//! The learned model and the queries detectors ask of it.
//!
//! Road cells: every GPS fix, and points interpolated every half cell between consecutive
//! fixes that are close in time and plausible in speed, add the vehicle's carrier to their
//! cell. Stop places: every dwell (the vehicle stays within `dwell_radius_m` for at least
//! `dwell_min_s`) adds the carrier to the dwell's cell. A cell keeps at most [`CAP`] carriers:
//! beyond that it is simply popular. Receiving hours: per place, the UTC hours of the
//! deliveries seen there (a place keeps its own offset, so hours in UTC are its local hours
//! shifted, which is all a comparison needs).

use crate::grid::Grid;
use rastro_core::geo::{equirect_m, CosLat};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Carriers remembered per cell; a cell with this many is popular for any threshold below it.
pub const CAP: usize = 12;

/// Learning and the thresholds of normality. Units in the names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearnConfig {
    /// Size of a grid cell.
    pub cell_m: f64,
    /// Consecutive fixes further apart in time are not joined (a silence is not a road).
    pub join_max_s: f64,
    /// Consecutive fixes implying more than this are not joined (a glitch is not a road).
    pub join_max_kmh: f64,
    /// A dwell: the vehicle stays within this radius ...
    pub dwell_radius_m: f64,
    /// ... for at least this long.
    pub dwell_min_s: f64,
    /// Carriers other than a vehicle's own that make a road cell normal for it.
    pub road_min_carriers: u32,
    /// Carriers other than a vehicle's own that make a road busy: a detour starts where the
    /// vehicle leaves the busy roads (streets fewer carriers use are inside it).
    pub road_busy_carriers: u32,
    /// Carriers other than a vehicle's own that make a stop place normal for it.
    pub stop_min_carriers: u32,
    /// A published (exported) model keeps only cells used by at least this many distinct
    /// carriers: the documented aggregate a host nation may declassify.
    pub k_anonymity: u32,
    /// Below this many distinct carriers in the whole model, it is too young to say what is
    /// normal: it explains no stop, and route deviations judged on it say "young model".
    pub warm_carriers: u32,
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig {
            cell_m: 200.0,
            join_max_s: 420.0,
            join_max_kmh: 150.0,
            dwell_radius_m: 150.0,
            dwell_min_s: 600.0,
            road_min_carriers: 3,
            road_busy_carriers: 6,
            stop_min_carriers: 3,
            k_anonymity: 5,
            warm_carriers: 6,
        }
    }
}

impl LearnConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (f, v) in [
            ("cell_m", self.cell_m),
            ("join_max_s", self.join_max_s),
            ("join_max_kmh", self.join_max_kmh),
            ("dwell_radius_m", self.dwell_radius_m),
            ("dwell_min_s", self.dwell_min_s),
        ] {
            if !v.is_finite() || v <= 0.0 {
                return Err(format!(
                    "learn.{f} is {v}; it must be a finite number above zero"
                ));
            }
        }
        if self.cell_m < 20.0 || self.cell_m > 5000.0 {
            return Err(format!("learn.cell_m is {}; use 50 to 1000", self.cell_m));
        }
        Ok(())
    }
}

/// A carrier as the model knows it: a hash of its identifier.
pub fn carrier_id(carrier: &str) -> u32 {
    xxhash_rust::xxh3::xxh3_64(carrier.as_bytes()) as u32
}

/// A small sorted set of carriers, capped at [`CAP`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Carriers(Vec<u32>);

impl Carriers {
    fn add(&mut self, c: u32) -> bool {
        if self.0.len() >= CAP {
            return false;
        }
        match self.0.binary_search(&c) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, c);
                true
            }
        }
    }

    /// Carriers other than `own`; a full set counts as [`CAP`] whoever asks.
    fn others(&self, own: u32) -> u32 {
        let n = self.0.len() as u32;
        if self.0.len() >= CAP {
            return CAP as u32;
        }
        n - u32::from(self.0.binary_search(&own).is_ok())
    }
}

/// One fix of a track, as learning needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    pub t_ms: i64,
    pub lat: f64,
    pub lon: f64,
}

/// What the fleet does, learned.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    grid: Grid,
    road: HashMap<u64, Carriers>,
    stops: HashMap<u64, Carriers>,
    /// Imported popularity (another node's published model): carriers per cell, added to the
    /// local count.
    road_prior: HashMap<u64, u16>,
    stop_prior: HashMap<u64, u16>,
    /// Distinct carriers learned (capped at a large bound; only "how many" matters).
    carriers: std::collections::BTreeSet<u32>,
    /// Deliveries seen per place, by UTC hour of arrival.
    arrivals: BTreeMap<String, [u16; 24]>,
}

/// Bound on the carriers the model remembers in total.
const MAX_CARRIERS: usize = 100_000;

impl Model {
    pub fn new(cfg: &LearnConfig) -> Model {
        Model::empty(Grid::new(cfg.cell_m))
    }

    fn empty(grid: Grid) -> Model {
        Model {
            grid,
            road: HashMap::default(),
            stops: HashMap::default(),
            road_prior: HashMap::default(),
            stop_prior: HashMap::default(),
            carriers: Default::default(),
            arrivals: BTreeMap::new(),
        }
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Distinct carriers learned from.
    pub fn carriers(&self) -> usize {
        self.carriers.len()
    }

    pub fn road_cells(&self) -> usize {
        self.road.len()
    }

    pub fn stop_cells(&self) -> usize {
        self.stops.len()
    }

    /// Whether the model has seen too few carriers to say what is normal.
    pub fn is_cold(&self, cfg: &LearnConfig) -> bool {
        self.carriers.len() < cfg.warm_carriers as usize
    }

    /// Learns one vehicle's track (its fixes in time order) for `carrier`: the cells it drove
    /// through (consecutive fixes joined when plausible) and the cells it dwelt in. `grown`
    /// receives the cells whose carrier count grew.
    pub fn learn_track(
        &mut self,
        carrier: u32,
        track: &[TrackPoint],
        cfg: &LearnConfig,
        grown: &mut Vec<u64>,
    ) {
        let cells = TrackCells::of(&self.grid, track, cfg);
        self.learn_cells(carrier, &cells, grown);
    }

    /// Adds the cells of one track (see [`TrackCells::of`]) for `carrier`. Views that see the
    /// same fixes of a vehicle compute its cells once and add them to each model.
    pub fn learn_cells(&mut self, carrier: u32, cells: &TrackCells, grown: &mut Vec<u64>) {
        if cells.road.is_empty() && cells.stops.is_empty() {
            return;
        }
        if self.carriers.len() < MAX_CARRIERS {
            self.carriers.insert(carrier);
        }
        for &k in &cells.road {
            if self.road.entry(k).or_default().add(carrier) {
                grown.push(k);
            }
        }
        for &k in &cells.stops {
            if self.stops.entry(k).or_default().add(carrier) {
                grown.push(k);
            }
        }
    }

    /// Records a delivery at `place` at `t_ms`.
    pub fn learn_arrival(&mut self, place: &str, t_ms: i64) {
        if self.arrivals.len() >= MAX_CARRIERS && !self.arrivals.contains_key(place) {
            return;
        }
        let hour = (t_ms.rem_euclid(86_400_000) / 3_600_000) as usize;
        let h = self.arrivals.entry(place.to_string()).or_insert([0; 24]);
        h[hour] = h[hour].saturating_add(1);
    }

    fn around(
        &self,
        map: &HashMap<u64, Carriers>,
        prior: &HashMap<u64, u16>,
        lat: f64,
        lon: f64,
        own: u32,
    ) -> u32 {
        self.grid
            .around(lat, lon)
            .iter()
            .map(|k| {
                map.get(k).map_or(0, |c| c.others(own)) + prior.get(k).copied().map_or(0, u32::from)
            })
            .max()
            .unwrap_or(0)
    }

    /// Carriers other than `own` that drive within about a cell of a position.
    pub fn road_popularity(&self, lat: f64, lon: f64, own: u32) -> u32 {
        self.around(&self.road, &self.road_prior, lat, lon, own)
    }

    /// Carriers other than `own` that stop within about a cell of a position.
    pub fn stop_popularity(&self, lat: f64, lon: f64, own: u32) -> u32 {
        self.around(&self.stops, &self.stop_prior, lat, lon, own)
    }

    /// Whether traffic unrelated to `own` uses the road at a position.
    pub fn is_road(&self, lat: f64, lon: f64, own: u32, cfg: &LearnConfig) -> bool {
        self.road_popularity(lat, lon, own) >= cfg.road_min_carriers
    }

    /// Whether unrelated fleets stop at a position.
    pub fn is_stop_place(&self, lat: f64, lon: f64, own: u32, cfg: &LearnConfig) -> bool {
        self.stop_popularity(lat, lon, own) >= cfg.stop_min_carriers
    }

    /// Deliveries seen at a place by UTC hour.
    pub fn arrivals(&self, place: &str) -> Option<&[u16; 24]> {
        self.arrivals.get(place)
    }

    /// Whether a place receives at UTC hour `hour`, judged from at least `min` deliveries
    /// seen there: `None` when too few were seen to say.
    pub fn receives_at(&self, place: &str, hour: usize, min: u32) -> Option<bool> {
        let h = self.arrivals.get(place)?;
        let total: u32 = h.iter().map(|&x| u32::from(x)).sum();
        if total < min {
            return None;
        }
        // An hour counts as a receiving hour when it or a neighbour saw a delivery.
        let at = |x: usize| h[x % 24] > 0;
        Some(at(hour) || at(hour + 1) || at(hour + 23))
    }

    /// Adds another model's published popularity as a prior (import).
    pub fn merge_prior(&mut self, other: &Model) {
        for (k, c) in &other.road {
            let e = self.road_prior.entry(*k).or_default();
            *e = (*e).max(c.0.len() as u16);
        }
        for (k, c) in &other.stops {
            let e = self.stop_prior.entry(*k).or_default();
            *e = (*e).max(c.0.len() as u16);
        }
        for (k, n) in &other.road_prior {
            let e = self.road_prior.entry(*k).or_default();
            *e = (*e).max(*n);
        }
        for (k, n) in &other.stop_prior {
            let e = self.stop_prior.entry(*k).or_default();
            *e = (*e).max(*n);
        }
    }

    /// A digest of the model's content, so that views with equal models can share work.
    pub fn digest(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let bytes = self.encode();
        h.update(&bytes);
        h.digest()
    }

    /// The binary encoding (format 1): magic, cell size, then road cells, stop cells, road
    /// and stop priors, carriers, arrivals; every map in key order, so equal models give
    /// equal bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.road.len() * 16);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.grid.cell_m.to_le_bytes());
        for map in [&self.road, &self.stops] {
            let mut keys: Vec<&u64> = map.keys().collect();
            keys.sort_unstable();
            out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
            for k in keys {
                let c = &map[k];
                out.extend_from_slice(&k.to_le_bytes());
                out.push(c.0.len() as u8);
                for x in &c.0 {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        for map in [&self.road_prior, &self.stop_prior] {
            let mut keys: Vec<&u64> = map.keys().collect();
            keys.sort_unstable();
            out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
            for k in keys {
                out.extend_from_slice(&k.to_le_bytes());
                out.extend_from_slice(&map[k].to_le_bytes());
            }
        }
        out.extend_from_slice(&(self.carriers.len() as u64).to_le_bytes());
        for c in &self.carriers {
            out.extend_from_slice(&c.to_le_bytes());
        }
        out.extend_from_slice(&(self.arrivals.len() as u64).to_le_bytes());
        for (p, h) in &self.arrivals {
            out.extend_from_slice(&(p.len() as u32).to_le_bytes());
            out.extend_from_slice(p.as_bytes());
            for x in h {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out
    }

    /// Decodes [`Model::encode`]'s bytes; `None` for anything else (damaged or foreign).
    pub fn decode(b: &[u8]) -> Option<Model> {
        let mut r = Reader { b, at: 0 };
        if r.bytes(MAGIC.len())? != MAGIC {
            return None;
        }
        let cell_m = f64::from_le_bytes(r.arr()?);
        if !(cell_m.is_finite() && cell_m > 0.0) {
            return None;
        }
        let mut m = Model::new(&LearnConfig {
            cell_m,
            ..Default::default()
        });
        for which in 0..2 {
            let n = u64::from_le_bytes(r.arr()?) as usize;
            let map = if which == 0 {
                &mut m.road
            } else {
                &mut m.stops
            };
            map.reserve(n.min(1 << 20));
            for _ in 0..n {
                let k = u64::from_le_bytes(r.arr()?);
                let len = r.bytes(1)?[0] as usize;
                if len > CAP {
                    return None;
                }
                let mut c = Vec::with_capacity(len);
                for _ in 0..len {
                    c.push(u32::from_le_bytes(r.arr()?));
                }
                if !c.windows(2).all(|w| w[0] < w[1]) {
                    return None;
                }
                map.insert(k, Carriers(c));
            }
        }
        for which in 0..2 {
            let n = u64::from_le_bytes(r.arr()?) as usize;
            let map = if which == 0 {
                &mut m.road_prior
            } else {
                &mut m.stop_prior
            };
            for _ in 0..n {
                let k = u64::from_le_bytes(r.arr()?);
                map.insert(k, u16::from_le_bytes(r.arr()?));
            }
        }
        let n = u64::from_le_bytes(r.arr()?) as usize;
        for _ in 0..n.min(MAX_CARRIERS) {
            m.carriers.insert(u32::from_le_bytes(r.arr()?));
        }
        let n = u64::from_le_bytes(r.arr()?) as usize;
        for _ in 0..n {
            let len = u32::from_le_bytes(r.arr()?) as usize;
            let p = String::from_utf8(r.bytes(len)?.to_vec()).ok()?;
            let mut h = [0u16; 24];
            for x in &mut h {
                *x = u16::from_le_bytes(r.arr()?);
            }
            m.arrivals.insert(p, h);
        }
        (r.at == b.len()).then_some(m)
    }

    /// The model as another node may receive it: only cells at least `k` distinct carriers
    /// use, carriers replaced by their count (as a prior), no receiving hours. This is the
    /// aggregate docs/security.md states as a declassification.
    pub fn published(&self, k: u32) -> Model {
        let mut out = Model::empty(self.grid);
        for (src, dst) in [
            (&self.road, &mut out.road_prior),
            (&self.stops, &mut out.stop_prior),
        ] {
            for (key, c) in src {
                if c.0.len() as u32 >= k {
                    dst.insert(*key, c.0.len() as u16);
                }
            }
        }
        out
    }
}

const MAGIC: &[u8] = b"RLM1";

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn arr<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }
}

/// The cells one track touches on a grid: those it drove through and those it dwelt in, each
/// once (sorted), so adding them to a model costs one lookup per distinct cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackCells {
    pub road: Vec<u64>,
    pub stops: Vec<u64>,
}

impl TrackCells {
    pub fn of(grid: &Grid, track: &[TrackPoint], cfg: &LearnConfig) -> TrackCells {
        let mut out = TrackCells::default();
        if track.is_empty() {
            return out;
        }
        let mut cos = CosLat::default();
        let step_m = grid.cell_m / 2.0;
        let mut last = u64::MAX;
        let mut add_road = |lat: f64, lon: f64, road: &mut Vec<u64>| {
            let k = grid.key(lat, lon);
            if k != last {
                road.push(k);
                last = k;
            }
        };
        add_road(track[0].lat, track[0].lon, &mut out.road);
        for w in track.windows(2) {
            let (a, b) = (w[0], w[1]);
            add_road(b.lat, b.lon, &mut out.road);
            let dt_s = (b.t_ms - a.t_ms) as f64 / 1000.0;
            if dt_s <= 0.0 || dt_s > cfg.join_max_s {
                continue;
            }
            let d = equirect_m(cos.get(a.lat), a.lat, a.lon, b.lat, b.lon);
            if d / dt_s * 3.6 > cfg.join_max_kmh {
                continue;
            }
            let n = (d / step_m).floor() as usize;
            for s in 1..n.min(200) {
                let f = s as f64 / n as f64;
                add_road(
                    a.lat + (b.lat - a.lat) * f,
                    a.lon + (b.lon - a.lon) * f,
                    &mut out.road,
                );
            }
        }
        // Dwells: from each anchor, the longest run within the radius.
        let mut i = 0;
        while i < track.len() {
            let a = track[i];
            let c = cos.get(a.lat);
            let mut j = i;
            while j + 1 < track.len()
                && equirect_m(c, a.lat, a.lon, track[j + 1].lat, track[j + 1].lon)
                    <= cfg.dwell_radius_m
                && (track[j + 1].t_ms - track[j].t_ms) as f64 / 1000.0
                    <= cfg.join_max_s.max(cfg.dwell_min_s)
            {
                j += 1;
            }
            if (track[j].t_ms - a.t_ms) as f64 / 1000.0 >= cfg.dwell_min_s {
                let n = (j - i + 1) as f64;
                let lat = track[i..=j].iter().map(|p| p.lat).sum::<f64>() / n;
                let lon = track[i..=j].iter().map(|p| p.lon).sum::<f64>() / n;
                out.stops.push(grid.key(lat, lon));
                i = j + 1;
            } else {
                i += 1;
            }
        }
        out.road.sort_unstable();
        out.road.dedup();
        out.stops.sort_unstable();
        out.stops.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drive(lat0: f64, lon0: f64, n: usize, dlon: f64, t0: i64) -> Vec<TrackPoint> {
        (0..n)
            .map(|i| TrackPoint {
                t_ms: t0 + i as i64 * 60_000,
                lat: lat0,
                lon: lon0 + i as f64 * dlon,
            })
            .collect()
    }

    #[test]
    fn a_road_used_by_others_is_normal_and_ones_own_habits_are_not() {
        let cfg = LearnConfig::default();
        let mut m = Model::new(&cfg);
        let mut grown = Vec::new();
        // Four carriers drive one road (about 1 km a minute), so each sees three others there
        // (`road_min_carriers`); a fifth drives alone elsewhere.
        for c in ["A", "B", "C", "E"] {
            m.learn_track(
                carrier_id(c),
                &drive(20.0, -103.0, 30, 0.01, 0),
                &cfg,
                &mut grown,
            );
        }
        m.learn_track(
            carrier_id("D"),
            &drive(21.0, -103.0, 30, 0.01, 0),
            &cfg,
            &mut grown,
        );
        // Between fixes too (interpolated), not only at them.
        assert!(m.is_road(20.0, -102.955, carrier_id("A"), &cfg));
        assert!(m.is_road(20.0, -102.955, carrier_id("Z"), &cfg));
        assert!(!m.is_road(21.0, -102.955, carrier_id("D"), &cfg));
        assert_eq!(m.road_popularity(21.0, -102.955, carrier_id("Z")), 1);
        assert!(!m.is_road(20.05, -102.955, carrier_id("Z"), &cfg));
        // Learning again changes nothing.
        let before = m.clone();
        grown.clear();
        m.learn_track(
            carrier_id("A"),
            &drive(20.0, -103.0, 30, 0.01, 0),
            &cfg,
            &mut grown,
        );
        assert!(grown.is_empty());
        assert_eq!(m, before);
    }

    #[test]
    fn dwells_make_stop_places_and_hours_are_learned() {
        let cfg = LearnConfig::default();
        let mut m = Model::new(&cfg);
        let mut grown = Vec::new();
        for (i, c) in ["A", "B", "C", "D"].iter().enumerate() {
            let mut t = drive(20.0, -103.0, 12, 0.0, i as i64 * 86_400_000);
            t.extend(drive(
                20.0,
                -102.99,
                10,
                0.01,
                i as i64 * 86_400_000 + 720_000,
            ));
            m.learn_track(carrier_id(c), &t, &cfg, &mut grown);
        }
        assert!(m.is_stop_place(20.0, -103.0, carrier_id("A"), &cfg));
        assert!(!m.is_stop_place(20.0, -102.95, carrier_id("Z"), &cfg));
        for d in 0..5 {
            m.learn_arrival("PL-1", d * 86_400_000 + 14 * 3_600_000);
        }
        assert_eq!(m.receives_at("PL-1", 14, 3), Some(true));
        assert_eq!(m.receives_at("PL-1", 3, 3), Some(false));
        assert_eq!(m.receives_at("PL-2", 3, 3), None);
    }

    #[test]
    fn publishing_keeps_only_cells_of_k_carriers() {
        let cfg = LearnConfig::default();
        let mut m = Model::new(&cfg);
        let mut g = Vec::new();
        for c in 0..5 {
            m.learn_track(c, &drive(20.0, -103.0, 5, 0.01, 0), &cfg, &mut g);
        }
        m.learn_track(99, &drive(25.0, -103.0, 5, 0.01, 0), &cfg, &mut g);
        let p = m.published(5);
        assert!(p.road_popularity(20.0, -102.98, 1) >= 5);
        assert_eq!(p.road_popularity(25.0, -102.98, 1), 0);
        let back = Model::decode(&p.encode()).unwrap();
        assert_eq!(back, p);
        let mut local = Model::new(&cfg);
        local.merge_prior(&p);
        assert!(local.is_road(20.0, -102.98, 1, &cfg));
    }

    proptest! {
        /// Encoding round-trips, and damaged bytes are refused, never a panic.
        #[test]
        fn encoding_round_trips(tracks in prop::collection::vec((0u32..20, -1.0f64..1.0, prop::collection::vec((0i64..600, -0.01f64..0.01, -0.01f64..0.01), 1..30)), 0..8), cut in 0usize..400) {
            let cfg = LearnConfig::default();
            let mut m = Model::new(&cfg);
            let mut g = Vec::new();
            for (c, off, pts) in &tracks {
                let mut t = 0;
                let track: Vec<TrackPoint> = pts.iter().map(|(dt, a, b)| { t += dt * 1000; TrackPoint { t_ms: t, lat: 20.0 + off + a, lon: -100.0 + b } }).collect();
                m.learn_track(*c, &track, &cfg, &mut g);
                m.learn_arrival(&format!("P{c}"), t);
            }
            let bytes = m.encode();
            prop_assert_eq!(Model::decode(&bytes), Some(m));
            if cut < bytes.len() {
                prop_assert!(Model::decode(&bytes[..cut]).is_none());
            }
        }
    }
}
