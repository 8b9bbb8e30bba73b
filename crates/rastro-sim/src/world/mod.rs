//! The simulated world: parties, places, labs, consignments and the trips that carry them,
//! with diversions and legitimate noise, written as exchange files plus truth.

// The private builders below take every field of the record they write; bundling them into
// one-off structs would only move the same list elsewhere.
#![allow(clippy::too_many_arguments)]

mod actors;
mod consignments;
mod drive;
mod forensics;
pub use drive::{PARTNER_REQUEST_DAYS, PARTNER_REQUEST_PREFIX};
mod reports;
mod roads;
mod trip;

use crate::config::Config;
use crate::names;
use crate::writer::Out;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rastro_core::geo::{destination, haversine_m};
use rastro_core::{
    Cas, Catalogue, Consignment, ContainerNumber, Country, Custody, CustodyKind, HsCode, Imo,
    Marking, Party, PartyKind, Place, PlaceKind, Position, Record, Report, ReportKind, Tlp,
    UnLocode, Unit, Vehicle,
};
use rastro_geo::Geography;
use roads::{Roads, StopKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot write simulator output: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid configuration: {0}")]
    Config(String),
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub consignments: usize,
    pub observations: u64,
    pub parties: usize,
    pub reports: usize,
    pub labs: usize,
    pub diverted: usize,
    pub by_typology: BTreeMap<String, usize>,
}

fn m(tlp: Tlp, rel: &[&str]) -> Marking {
    Marking {
        tlp,
        releasable_to: rel.iter().map(|s| s.to_string()).collect(),
    }
}

fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn ymd(ms: i64) -> (u32, u32, u32) {
    use chrono::Datelike;
    let d = chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    (d.year() as u32, d.month(), d.day())
}

/// A real-world party and the records that describe it.
struct Entity {
    records: Vec<String>,
    city: usize,
    address: String,
}

struct Site {
    place: String,
    city: usize,
    pos: Position,
    entity: usize,
}

struct Lab {
    id: String,
    city: usize,
    pos: Position,
    from_ms: i64,
    to_ms: i64,
    fed_by: Vec<String>,
}

struct Truck {
    id: String,
    /// Index into the world's carriers.
    carrier: usize,
    plate: String,
    free_at_s: i64,
    interval_s: u32,
}

/// One point the truck drives to, then waits at.
#[derive(Clone)]
struct Wp {
    pos: Position,
    stop_s: f64,
    /// The tracker is silent on the way to this point and while stopped at it.
    dark: bool,
    /// The roadside place on the simulator's roads here (an index into `Roads::stops`).
    roadside: Option<usize>,
}

#[derive(Serialize)]
struct DiversionTruth<'a> {
    truth_kind: &'static str,
    consignment: &'a str,
    scenario: &'a str,
    typologies: Vec<&'static str>,
    lab: Option<&'a str>,
    lat: Option<f64>,
    lon: Option<f64>,
    from: Option<String>,
    to: Option<String>,
    linked: Vec<String>,
}

#[derive(Serialize)]
struct NoiseTruth<'a> {
    truth_kind: &'static str,
    consignment: &'a str,
    noise: &'a str,
}

const PORT_WEIGHTS: [f64; 6] = [0.40, 0.20, 0.20, 0.12, 0.04, 0.04];
const AREA_CODES: [u32; 8] = [33, 55, 81, 222, 442, 477, 614, 664];

struct World<'a> {
    cfg: &'a Config,
    /// Public facts only: city and port positions, populations, urban radii.
    g: Geography,
    /// The roads trucks drive, which the analytics never see.
    roads: Roads,
    rng: ChaCha8Rng,
    /// Forensic chemistry draws from its own stream, so profiles can change without moving
    /// anything else in the scenario.
    frng: ChaCha8Rng,
    out: Out,
    start_ms: i64,
    entities: Vec<Entity>,
    importers: Vec<usize>,
    consignees: Vec<usize>,
    carriers: Vec<usize>,
    drivers: Vec<usize>,
    sites: Vec<Site>,
    labs: Vec<Lab>,
    trucks: Vec<Truck>,
    chems: Vec<(Cas, HsCode, String)>,
    vessels: Vec<(Imo, String)>,
    party_count: usize,
    place_count: usize,
    event_count: usize,
    report_count: usize,
    summary: Summary,
    cos_lat: rastro_core::geo::CosLat,
}

/// Runs the simulation described by `cfg` and writes its files under `out_dir`.
pub fn run(cfg: &Config, out_dir: &Path) -> Result<Summary, SimError> {
    let start_ms = rastro_core::parse_time_ms(&cfg.start)
        .map_err(|e| SimError::Config(format!("start: {e}")))?;
    cfg.check().map_err(SimError::Config)?;
    if cfg.consignments == 0 || cfg.period_days == 0 {
        return Err(SimError::Config(
            "consignments and period_days must be positive".into(),
        ));
    }
    let g = Geography::mexico();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let ports: Vec<(Position, usize)> = g.ports.iter().map(|p| (p.pos, p.city)).collect();
    let roads = Roads::build(
        &g.cities,
        &ports,
        &|c| g.urban_radius_m(c),
        cfg.roads.meander,
        cfg.roads.ring_min_population,
        &mut rng,
    );
    let mut w = World {
        cfg,
        g,
        roads,
        rng,
        frng: ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5eed_f0e5),
        out: Out::create(out_dir)?,
        start_ms,
        entities: Vec::new(),
        importers: Vec::new(),
        consignees: Vec::new(),
        carriers: Vec::new(),
        drivers: Vec::new(),
        sites: Vec::new(),
        labs: Vec::new(),
        trucks: Vec::new(),
        chems: Catalogue::builtin()
            .chemicals
            .values()
            .map(|c| (c.cas.clone(), c.hs[0].clone(), c.name.clone()))
            .collect(),
        vessels: Vec::new(),
        party_count: 0,
        place_count: 0,
        event_count: 0,
        report_count: 0,
        summary: Summary::default(),
        cos_lat: rastro_core::geo::CosLat::default(),
    };
    w.places()?;
    w.actors()?;
    w.place_labs();
    w.consignments()?;
    w.reports()?;
    w.lab_truth()?;
    w.summary.consignments = cfg.consignments;
    w.summary.parties = w.party_count;
    w.summary.reports = w.report_count;
    w.summary.labs = w.labs.len();
    let mut summary = w.summary.clone();
    summary.observations = w.out.finish()?;
    Ok(summary)
}

fn bearing_deg(a: Position, b: Position) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dl = (b.lon - a.lon).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    y.atan2(x).to_degrees().rem_euclid(360.0)
}
