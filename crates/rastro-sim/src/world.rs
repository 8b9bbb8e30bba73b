//! The simulated world: parties, places, labs, consignments and the trips that carry them,
//! with diversions and legitimate noise, written as exchange files plus truth.

// The private builders below take every field of the record they write; bundling them into
// one-off structs would only move the same list elsewhere.
#![allow(clippy::too_many_arguments)]

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
use rastro_geo::{Geography, RoadsideKind};
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
    profile: Vec<f64>,
}

struct Truck {
    id: String,
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
    g: Geography,
    rng: ChaCha8Rng,
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
    if cfg.consignments == 0 || cfg.period_days == 0 {
        return Err(SimError::Config(
            "consignments and period_days must be positive".into(),
        ));
    }
    let mut w = World {
        cfg,
        g: Geography::mexico(),
        rng: ChaCha8Rng::seed_from_u64(cfg.seed),
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

impl World<'_> {
    fn period_ms(&self) -> i64 {
        i64::from(self.cfg.period_days) * 86_400_000
    }

    fn new_place(
        &mut self,
        kind: PlaceKind,
        name: String,
        pos: Position,
        radius_m: f64,
        locode: Option<&str>,
        operator: Option<String>,
        marking: Marking,
    ) -> Result<String, SimError> {
        self.place_count += 1;
        let id = match kind {
            PlaceKind::Port
            | PlaceKind::City
            | PlaceKind::RestStop
            | PlaceKind::FuelStation
            | PlaceKind::Checkpoint
            | PlaceKind::TollPlaza => format!("PL-{:05}", self.place_count),
            _ => format!("SYN-PL-{:05}", self.place_count),
        };
        let p = Place {
            id: id.clone(),
            originator: "ANAM".into(),
            marking,
            place_kind: kind,
            name,
            position: pos,
            radius_m,
            locode: locode.and_then(|l| UnLocode::parse(l).ok()),
            country: Country::parse("MX").map_err(|e| SimError::Config(e.to_string()))?,
            operator,
            land_use: None,
            opening_hours: None,
            utc_offset_min: None,
        };
        self.out.record(&Record::Place(p))?;
        Ok(id)
    }

    /// Public places a deployment knows: ports, cities (with an urban radius), roadside places.
    fn places(&mut self) -> Result<(), SimError> {
        for i in 0..self.g.ports.len() {
            let p = self.g.ports[i].clone();
            self.new_place(
                PlaceKind::Port,
                format!("Puerto de {}", p.name),
                p.pos,
                3000.0,
                Some(p.locode),
                None,
                m(Tlp::Clear, &[]),
            )?;
        }
        for c in 0..self.g.cities.len() {
            let city = self.g.cities[c].clone();
            let r = self.g.urban_radius_m(c);
            self.new_place(
                PlaceKind::City,
                city.name.clone(),
                city.pos,
                r,
                None,
                None,
                m(Tlp::Clear, &[]),
            )?;
        }
        for i in 0..self.g.roadside.len() {
            let r = self.g.roadside[i].clone();
            let kind = match r.kind {
                RoadsideKind::Checkpoint => PlaceKind::Checkpoint,
                RoadsideKind::TollPlaza => PlaceKind::TollPlaza,
                RoadsideKind::RestStop => PlaceKind::RestStop,
                RoadsideKind::FuelStation => PlaceKind::FuelStation,
            };
            let id = self.new_place(
                kind,
                r.name.clone(),
                r.pos,
                400.0,
                None,
                None,
                m(Tlp::Clear, &[]),
            )?;
            self.g.roadside[i].id = id;
        }
        Ok(())
    }

    fn weighted_city(&mut self, industrial_only: bool) -> usize {
        let total: f64 = self
            .g
            .cities
            .iter()
            .filter(|c| !industrial_only || c.industrial)
            .map(|c| (c.population as f64).sqrt())
            .sum();
        let mut x = self.rng.random::<f64>() * total;
        for (i, c) in self.g.cities.iter().enumerate() {
            if industrial_only && !c.industrial {
                continue;
            }
            x -= (c.population as f64).sqrt();
            if x <= 0.0 {
                return i;
            }
        }
        0
    }

    /// Creates an entity and 1..=N party records for it, with realistic variation.
    fn entity(
        &mut self,
        kind: PartyKind,
        city: usize,
        registered_ms: i64,
        residential: bool,
        licence: bool,
        share_phone: Option<(u32, u32)>,
    ) -> Result<usize, SimError> {
        let idx = self.entities.len();
        let eid = format!("E-{idx:06}");
        let reg = ymd(registered_ms);
        let area = *AREA_CODES.choose(&mut self.rng).unwrap_or(&55);
        let phone = share_phone.unwrap_or_else(|| names::phone(&mut self.rng, area));
        let address = names::address(&mut self.rng, residential);
        let n = if kind == PartyKind::Person {
            1
        } else {
            self.rng
                .random_range(1..=self.cfg.parties.max_records_per_entity.max(1))
        };
        let (company, person) = match kind {
            PartyKind::Organisation => (Some(names::company(&mut self.rng, reg)), None),
            PartyKind::Person => {
                let born = (
                    1960 + self.rng.random_range(0..40),
                    self.rng.random_range(1..13),
                    self.rng.random_range(1..29),
                );
                (None, Some(names::person(&mut self.rng, born)))
            }
        };
        let mut records = Vec::new();
        for v in 0..n {
            self.party_count += 1;
            let id = format!("SYN-P-{:06}", self.party_count);
            let (name, rfc) = match (&company, &person) {
                (Some(c), _) => (
                    names::company_variant(
                        &c.base,
                        if v == 0 {
                            0
                        } else {
                            self.rng.random_range(1..6)
                        },
                        &mut self.rng,
                    ),
                    c.rfc.clone(),
                ),
                (_, Some(p)) => (
                    names::person_variant(
                        p,
                        if v == 0 {
                            0
                        } else {
                            self.rng.random_range(1..5)
                        },
                        &mut self.rng,
                    ),
                    p.rfc.clone(),
                ),
                _ => continue,
            };
            let originator = ["ANAM", "SAT", "UIF"][v as usize % 3];
            let rec = Party {
                id: id.clone(),
                originator: originator.into(),
                marking: m(Tlp::Amber, &[]),
                party_kind: kind,
                name,
                // Not every agency records the tax id.
                rfc: (v == 0 || self.rng.random_bool(0.5)).then_some(rfc),
                country: Country::parse("MX").map_err(|e| SimError::Config(e.to_string()))?,
                address: Some(names::address_variant(&address, v)),
                city: Some(self.g.cities[city].name.clone()),
                phone: Some(names::phone_variant(phone, v + self.rng.random_range(0..2))),
                registered: (kind == PartyKind::Organisation)
                    .then(|| chrono::NaiveDate::from_ymd_opt(reg.0 as i32, reg.1, reg.2))
                    .flatten(),
                licence: (licence && v == 0).then(|| format!("LIC-{}-{:04}", reg.0, idx)),
                watch_list: None,
                relations: Vec::new(),
            };
            self.out.record(&Record::Party(rec))?;
            records.push(id);
        }
        Out::truth(
            &mut self.out.truth.entities,
            &serde_json::json!({"truth_kind": "entity", "entity": eid, "party_ids": records, "synthetic": true}),
        )?;
        self.entities.push(Entity {
            records,
            city,
            address,
        });
        Ok(idx)
    }

    fn site_for(
        &mut self,
        entity: usize,
        city: usize,
        residential: bool,
    ) -> Result<usize, SimError> {
        let r = self.g.urban_radius_m(city);
        let bearing = self.rng.random_range(0.0..360.0);
        let dist = self.rng.random_range(0.25..0.9) * r;
        let pos = self.g.urban_point(city, bearing, dist);
        let (kind, name) = if residential {
            (
                PlaceKind::Residence,
                format!("Domicilio {}", self.entities[entity].address),
            )
        } else {
            (
                PlaceKind::Customer,
                format!("Planta {}", self.entities[entity].address),
            )
        };
        let operator = self.entities[entity].records.first().cloned();
        let place = self.new_place(kind, name, pos, 300.0, None, operator, m(Tlp::Amber, &[]))?;
        self.sites.push(Site {
            place,
            city,
            pos,
            entity,
        });
        Ok(self.sites.len() - 1)
    }

    fn actors(&mut self) -> Result<(), SimError> {
        let n = self.cfg.consignments;
        let long_ago = self.start_ms - 10 * 365 * 86_400_000;
        for _ in 0..(n / 40).max(8) {
            let city = self.weighted_city(true);
            let reg = long_ago + self.rng.random_range(0..8 * 365) * 86_400_000;
            let e = self.entity(PartyKind::Organisation, city, reg, false, true, None)?;
            self.importers.push(e);
        }
        for _ in 0..(n / 25).max(15) {
            let city = self.weighted_city(true);
            let reg = long_ago + self.rng.random_range(0..8 * 365) * 86_400_000;
            let e = self.entity(PartyKind::Organisation, city, reg, false, false, None)?;
            self.consignees.push(e);
            self.site_for(e, city, false)?;
        }
        for _ in 0..(n / 150).max(5) {
            let city = self.weighted_city(true);
            let reg = long_ago + self.rng.random_range(0..8 * 365) * 86_400_000;
            let e = self.entity(PartyKind::Organisation, city, reg, false, false, None)?;
            self.carriers.push(e);
        }
        for _ in 0..(n / 20).max(10) {
            let city = self.weighted_city(false);
            let e = self.entity(PartyKind::Person, city, long_ago, true, false, None)?;
            self.drivers.push(e);
        }
        for i in 0..(n / 30).max(6) {
            let f6: Vec<u32> = (0..6)
                .map(|k| {
                    if k == 0 {
                        9
                    } else {
                        self.rng.random_range(0..10)
                    }
                })
                .collect();
            let c = Imo::check_digit(&f6);
            let text: String = f6
                .iter()
                .chain(std::iter::once(&c))
                .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
                .collect();
            if let Ok(imo) = Imo::parse(&text) {
                self.vessels.push((
                    imo,
                    format!(
                        "{}{:06}",
                        [352, 636, 538, 477][i % 4],
                        self.rng.random_range(0..1_000_000)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn place_labs(&mut self) {
        for i in 0..self.cfg.labs {
            let city = self.weighted_city(false);
            let r = self.g.urban_radius_m(city);
            let pos = self.g.urban_point(
                city,
                self.rng.random_range(0.0..360.0),
                self.rng.random_range(0.2..0.7) * r,
            );
            let from_ms =
                self.start_ms + (self.rng.random::<f64>() * 0.25 * self.period_ms() as f64) as i64;
            let profile: Vec<f64> = (0..8).map(|_| self.rng.random_range(0.02..1.0)).collect();
            self.labs.push(Lab {
                id: format!("LAB-{i:03}"),
                city,
                pos,
                from_ms,
                to_ms: self.start_ms + self.period_ms() + 30 * 86_400_000,
                fed_by: Vec::new(),
                profile,
            });
        }
    }

    fn container(&mut self) -> Option<ContainerNumber> {
        for _ in 0..20 {
            let owner: String = (0..3)
                .map(|_| (b'A' + self.rng.random_range(0..26u8)) as char)
                .collect();
            let first10 = format!("{owner}U{:06}", self.rng.random_range(0..1_000_000));
            if let Some(c) = ContainerNumber::check_digit(&first10) {
                return ContainerNumber::parse(&format!("{first10}{c}")).ok();
            }
        }
        None
    }

    fn truck_for(&mut self, depart_s: i64) -> usize {
        if let Some(i) = self.trucks.iter().position(|t| t.free_at_s < depart_s) {
            // Reuse an idle truck, but not always the first, so plates spread over carriers.
            if self.rng.random_bool(0.7) {
                return i;
            }
        }
        let carrier = *self.carriers.choose(&mut self.rng).unwrap_or(&0);
        let plate = names::plate(&mut self.rng);
        let id = format!("SYN-V-{:05}", self.trucks.len() + 1);
        let interval_s = self.cfg.trucks.report_interval_s;
        let v = Vehicle {
            id: id.clone(),
            originator: "ANAM".into(),
            marking: m(Tlp::Amber, &[]),
            plate: plate.replace('-', ""),
            vehicle_kind: "truck".into(),
            carrier: self.entities[carrier].records.first().cloned(),
            report_interval_s: Some(interval_s),
            imo: None,
            mmsi: None,
        };
        let _ = self.out.record(&Record::Vehicle(v));
        self.trucks.push(Truck {
            id,
            plate: plate.replace('-', ""),
            free_at_s: 0,
            interval_s,
        });
        self.trucks.len() - 1
    }

    fn event(
        &mut self,
        consignment: &str,
        event: CustodyKind,
        t_s: i64,
        place: Option<String>,
        pos: Option<Position>,
        vehicle: Option<String>,
        party: Option<String>,
        qty: Option<(f64, Unit)>,
        cas_found: Option<Cas>,
    ) -> Result<(), SimError> {
        self.event_count += 1;
        let c = Custody {
            id: format!("SYN-E-{:07}", self.event_count),
            originator: "ANAM".into(),
            marking: m(Tlp::Amber, &[]),
            consignment: consignment.to_string(),
            event,
            time_ms: t_s * 1000,
            place,
            position: pos,
            vehicle,
            party,
            quantity: qty.map(|q| q.0),
            unit: qty.map(|q| q.1),
            cas_found,
            to_vehicle: None,
        };
        self.out.record(&Record::Custody(c))?;
        Ok(())
    }

    /// Waypoints along a node path; roadside places on each edge become waypoints, and the
    /// driver rests at one after `rest_after_h` of driving.
    fn waypoints(&mut self, path: &[usize], speed_ms: f64, driven_s: &mut f64, out: &mut Vec<Wp>) {
        for w in path.windows(2) {
            let (a, b) = (w[0], w[1]);
            let mut rs = self.g.roadside_on(a, b);
            rs.sort_by(|x, y| x.1.total_cmp(&y.1));
            let (pa, pb) = (self.g.nodes[a], self.g.nodes[b]);
            let edge_m = haversine_m(pa.lat, pa.lon, pb.lat, pb.lon) * rastro_geo::ROAD_FACTOR;
            let mut last_frac = 0.0;
            for (ri, frac) in rs {
                *driven_s += edge_m * (frac - last_frac) / speed_ms;
                last_frac = frac;
                let r = &self.g.roadside[ri];
                let rest = matches!(r.kind, RoadsideKind::RestStop | RoadsideKind::FuelStation)
                    && *driven_s > self.cfg.trucks.rest_after_h * 3600.0;
                let stop_s = if rest {
                    *driven_s = 0.0;
                    f64::from(self.rng.random_range(
                        self.cfg.trucks.rest_min_s
                            ..=self.cfg.trucks.rest_max_s.max(self.cfg.trucks.rest_min_s),
                    ))
                } else {
                    0.0
                };
                out.push(Wp {
                    pos: r.pos,
                    stop_s,
                    dark: false,
                    roadside: Some(ri),
                });
            }
            *driven_s += edge_m * (1.0 - last_frac) / speed_ms;
            out.push(Wp {
                pos: pb,
                stop_s: 0.0,
                dark: false,
                roadside: None,
            });
        }
    }

    /// Drives the waypoints from `depart_s`, writing GPS, plate reads and aerial sightings.
    /// Returns the arrival time at each waypoint.
    fn drive(
        &mut self,
        truck: usize,
        start: Position,
        wps: &[Wp],
        depart_s: i64,
        speed_ms: f64,
    ) -> Result<Vec<f64>, SimError> {
        let t_cfg = self.cfg.trucks.clone();
        let (id, plate, interval) = (
            self.trucks[truck].id.clone(),
            self.trucks[truck].plate.clone(),
            f64::from(self.trucks[truck].interval_s),
        );
        let mut t = depart_s as f64;
        let mut next = t;
        let mut cur = start;
        let mut arrivals = Vec::with_capacity(wps.len());
        let total_s: f64 = wps.iter().map(|w| w.stop_s).sum::<f64>() + 3600.0;
        let aerial_at = self
            .rng
            .random_bool(t_cfg.aerial_prob)
            .then(|| t + self.rng.random::<f64>() * total_s * 4.0);
        let mut aerial_done = false;
        for wp in wps {
            let len =
                haversine_m(cur.lat, cur.lon, wp.pos.lat, wp.pos.lon) * rastro_geo::ROAD_FACTOR;
            let v = speed_ms * self.rng.random_range(0.9..1.1);
            let dur = len / v;
            while next < t + dur {
                let f = if dur > 0.0 { (next - t) / dur } else { 1.0 };
                let p = Position {
                    lat: cur.lat + (wp.pos.lat - cur.lat) * f,
                    lon: cur.lon + (wp.pos.lon - cur.lon) * f,
                };
                if !wp.dark {
                    self.gps(&id, next, p, &t_cfg)?;
                }
                if !aerial_done && aerial_at.is_some_and(|a| next >= a) {
                    aerial_done = true;
                    self.aerial(&id, next, p)?;
                }
                next += interval + self.rng.random_range(-2.0..2.0);
            }
            t += dur;
            if let Some(ri) = wp.roadside {
                let kind = self.g.roadside[ri].kind;
                if matches!(kind, RoadsideKind::Checkpoint | RoadsideKind::TollPlaza)
                    && self.rng.random_bool(t_cfg.plate_read_prob)
                {
                    let org = if kind == RoadsideKind::Checkpoint {
                        "GN"
                    } else {
                        "CAPUFE"
                    };
                    let tlp = if kind == RoadsideKind::Checkpoint {
                        "AMBER+STRICT"
                    } else {
                        "AMBER"
                    };
                    // Plate readers misread now and then; their confidence says so.
                    let conf = self.rng.random_range(0.85..0.99);
                    self.out.observation(
                        org,
                        tlp,
                        "",
                        "checkpoint",
                        "plate",
                        &plate,
                        t as i64,
                        wp.pos.lat,
                        wp.pos.lon,
                        15.0,
                        conf,
                    )?;
                }
            }
            arrivals.push(t);
            let stop_end = t + wp.stop_s;
            while next < stop_end {
                if !wp.dark {
                    self.gps(&id, next, wp.pos, &t_cfg)?;
                }
                next += interval + self.rng.random_range(-2.0..2.0);
            }
            t = stop_end;
            cur = wp.pos;
        }
        Ok(arrivals)
    }

    fn gps(
        &mut self,
        id: &str,
        t: f64,
        p: Position,
        c: &crate::config::Trucks,
    ) -> Result<(), SimError> {
        if self.rng.random_bool(c.gps_dropout) {
            return Ok(());
        }
        // Independent Gaussian east and north errors in metres, turned into degrees on the
        // local tangent plane (cheaper than spherical trigonometry, and the usual GPS model).
        let u1: f64 = self.rng.random::<f64>().max(1e-12);
        let u2: f64 = self.rng.random();
        let r = (-2.0 * u1.ln()).sqrt() * c.gps_noise_m;
        let (sn, cs) = (std::f64::consts::TAU * u2).sin_cos();
        let cos_lat = self.cos_lat.get(p.lat);
        let q = Position {
            lat: p.lat + r * sn / rastro_core::geo::M_PER_DEG,
            lon: p.lon + r * cs / (rastro_core::geo::M_PER_DEG * cos_lat),
        };
        self.out.observation(
            "ANAM",
            "AMBER",
            "",
            "gps",
            "vehicle",
            id,
            t as i64,
            q.lat,
            q.lon,
            c.gps_noise_m.max(5.0),
            1.0,
        )?;
        Ok(())
    }

    fn aerial(&mut self, id: &str, t: f64, p: Position) -> Result<(), SimError> {
        let q = destination(
            p,
            self.rng.random_range(0.0..360.0),
            self.rng.random_range(0.0..150.0),
        );
        let conf = self.rng.random_range(0.5..0.9);
        self.out.observation(
            "SEMAR", "RED", "MX", "aerial", "vehicle", id, t as i64, q.lat, q.lon, 150.0, conf,
        )?;
        Ok(())
    }

    fn ais(&mut self, mmsi: &str, port: usize, arrival_s: i64) -> Result<(), SimError> {
        let p = self.g.ports[port].pos;
        for k in (1..=3).rev() {
            let q = destination(p, 225.0, f64::from(k) * 12_000.0);
            self.out.observation(
                "SEMAR",
                "GREEN",
                "",
                "ais",
                "vessel",
                mmsi,
                arrival_s - i64::from(k) * 1800,
                q.lat,
                q.lon,
                10.0,
                1.0,
            )?;
        }
        Ok(())
    }

    fn pick_port(&mut self) -> usize {
        let x: f64 = self.rng.random();
        let mut acc = 0.0;
        for (i, w) in PORT_WEIGHTS.iter().enumerate() {
            acc += w;
            if x < acc {
                return i;
            }
        }
        0
    }

    fn active_labs(&self, t_ms: i64) -> Vec<usize> {
        (0..self.labs.len())
            .filter(|&l| self.labs[l].from_ms <= t_ms && t_ms <= self.labs[l].to_ms)
            .collect()
    }

    fn consignments(&mut self) -> Result<(), SimError> {
        let d = self.cfg.diversion.clone();
        let nz = self.cfg.noise.clone();
        let n = self.cfg.consignments;
        let mut i = 0usize;
        while i < n {
            let x: f64 = self.rng.random();
            let cuts = [
                d.detour_to_lab,
                d.stop_en_route,
                d.dark_stop,
                d.undeclared_delivery,
                d.misdeclared,
                d.front_consignee,
                d.structuring,
            ];
            let names = [
                "detour_to_lab",
                "stop_en_route",
                "dark_stop",
                "undeclared_delivery",
                "misdeclared",
                "front_consignee",
                "structuring",
            ];
            let mut acc = 0.0;
            let mut scenario = "legit";
            for (c, nm) in cuts.iter().zip(names) {
                acc += c;
                if x < acc {
                    scenario = nm;
                    break;
                }
            }
            if scenario == "structuring" {
                let k = self.rng.random_range(3..=5).min(n - i);
                if k >= 3 {
                    self.structuring_group(i, k)?;
                    i += k;
                    continue;
                }
                scenario = "legit";
            }
            self.one(i, scenario, &nz)?;
            i += 1;
        }
        Ok(())
    }

    fn structuring_group(&mut self, first: usize, k: usize) -> Result<(), SimError> {
        let arrival0 = self.start_ms
            + (self.rng.random::<f64>() * (self.period_ms() as f64 - 25.0 * 86_400_000.0).max(1.0)
                / 1000.0) as i64
                * 1000;
        let labs = self.active_labs(arrival0);
        let lab = labs.choose(&mut self.rng).copied();
        let city = lab
            .map(|l| self.labs[l].city)
            .unwrap_or_else(|| self.weighted_city(false));
        let chem = self.rng.random_range(0..self.chems.len());
        let area = *AREA_CODES.choose(&mut self.rng).unwrap_or(&55);
        let shared_phone = names::phone(&mut self.rng, area);
        let per = self.cfg.diversion.structuring_threshold_kg / k as f64;
        let mut ids = Vec::new();
        let mut plan = Vec::new();
        for j in 0..k {
            let reg = arrival0 - self.rng.random_range(200..2000) * 86_400_000;
            // Linked parties: distinct companies that share one phone number.
            let e = self.entity(
                PartyKind::Organisation,
                city,
                reg,
                false,
                false,
                Some(shared_phone),
            )?;
            let site = self.site_for(e, city, false)?;
            let arrival = arrival0
                + self.rng.random_range(0..20) * 86_400_000
                + self.rng.random_range(0..86_400) * 1000;
            let qty = (per * self.rng.random_range(1.05..1.6))
                .min(self.cfg.diversion.structuring_threshold_kg * 0.95);
            let id = format!("SYN-C-{:06}", first + j + 1);
            ids.push(id.clone());
            plan.push((id, e, site, arrival, qty));
        }
        for (id, e, site, arrival, qty) in plan {
            self.trip(
                &id,
                e,
                e,
                site,
                arrival,
                Some(chem),
                qty,
                "structuring",
                None,
                &["structuring"],
                &ids,
            )?;
            if let Some(l) = lab {
                self.labs[l].fed_by.push(id);
            }
        }
        Ok(())
    }

    fn one(&mut self, i: usize, scenario: &str, nz: &crate::config::Noise) -> Result<(), SimError> {
        let id = format!("SYN-C-{:06}", i + 1);
        let arrival = self.start_ms
            + (self.rng.random::<f64>() * self.period_ms() as f64 / 1000.0) as i64 * 1000;
        let importer = *self.importers.choose(&mut self.rng).unwrap_or(&0);
        let mut consignee = if self.rng.random_bool(0.3) {
            importer
        } else {
            *self.consignees.choose(&mut self.rng).unwrap_or(&0)
        };
        let mut site = self.sites.iter().position(|s| s.entity == consignee);
        let qty = (self.rng.random_range(2..80) * 25) as f64;
        let mut scenario = scenario.to_string();
        let mut typologies: Vec<&'static str> = Vec::new();
        let mut lab = None;
        match scenario.as_str() {
            "front_consignee" => {
                let labs = self.active_labs(arrival);
                if let Some(&l) = labs.choose(&mut self.rng) {
                    let city = self.labs[l].city;
                    let reg = arrival - self.rng.random_range(10..90) * 86_400_000;
                    let e = self.entity(PartyKind::Organisation, city, reg, true, false, None)?;
                    // The front's address is a residence a short drive from the lab.
                    let pos = destination(
                        self.labs[l].pos,
                        self.rng.random_range(0.0..360.0),
                        self.rng.random_range(300.0..1500.0),
                    );
                    let name = format!("Domicilio {}", self.entities[e].address);
                    let operator = self.entities[e].records.first().cloned();
                    let place = self.new_place(
                        PlaceKind::Residence,
                        name,
                        pos,
                        200.0,
                        None,
                        operator,
                        m(Tlp::Amber, &[]),
                    )?;
                    self.sites.push(Site {
                        place,
                        city,
                        pos,
                        entity: e,
                    });
                    site = Some(self.sites.len() - 1);
                    consignee = e;
                    lab = Some(l);
                    typologies.push("front_consignee");
                } else {
                    scenario = "legit".into();
                }
            }
            "legit" if self.rng.random_bool(nz.new_legit_customer) => {
                let city = self.weighted_city(true);
                let reg = arrival - self.rng.random_range(30..120) * 86_400_000;
                let e = self.entity(PartyKind::Organisation, city, reg, false, false, None)?;
                site = Some(self.site_for(e, city, false)?);
                consignee = e;
                Out::truth(
                    &mut self.out.truth.noise,
                    &NoiseTruth {
                        truth_kind: "noise",
                        consignment: &id,
                        noise: "new_legit_customer",
                    },
                )?;
            }
            _ => {}
        }
        let site = match site {
            Some(s) => s,
            None => {
                let city = self.entities[consignee].city;
                self.site_for(consignee, city, false)?
            }
        };
        if scenario == "front_consignee" {
            if let Some(l) = lab {
                self.labs[l].fed_by.push(id.clone());
            }
        }
        self.trip(
            &id,
            importer,
            consignee,
            site,
            arrival,
            None,
            qty,
            &scenario,
            lab,
            &typologies,
            &[],
        )
    }

    fn trip(
        &mut self,
        id: &str,
        importer: usize,
        consignee: usize,
        site: usize,
        arrival_ms: i64,
        chem: Option<usize>,
        qty: f64,
        scenario: &str,
        lab_hint: Option<usize>,
        fixed_typologies: &[&'static str],
        linked: &[String],
    ) -> Result<(), SimError> {
        let chem = chem.unwrap_or_else(|| self.rng.random_range(0..self.chems.len()));
        let (cas, proper_hs, chem_name) = self.chems[chem].clone();
        let vessel = self.vessels.choose(&mut self.rng).cloned();
        let container = self.container();
        let mut typologies: Vec<&'static str> = fixed_typologies.to_vec();
        let mut scenario = scenario.to_string();
        let (mut site, mut consignee) = (site, consignee);
        let mut port = self.pick_port();

        // Route-based scenarios need a lab that fits the route: on it (a stop), off it but
        // reachable (a detour), or anywhere active (an undeclared delivery). Criminal
        // logistics choose the route; the simulator searches ports and legitimate customer
        // destinations until one fits, and falls back to a legitimate trip if none does.
        let mut lab = lab_hint;
        let mut via: Option<usize> = None;
        if matches!(
            scenario.as_str(),
            "detour_to_lab" | "stop_en_route" | "dark_stop" | "undeclared_delivery"
        ) {
            let active = self.active_labs(arrival_ms);
            let customer_sites: Vec<usize> = (0..self.sites.len())
                .filter(|&s| self.consignees.contains(&self.sites[s].entity))
                .collect();
            for attempt in 0..60 {
                if attempt > 0 {
                    port = self.pick_port();
                    if let Some(&s2) = customer_sites.choose(&mut self.rng) {
                        site = s2;
                        consignee = self.sites[s2].entity;
                    }
                }
                let dest_city = self.sites[site].city;
                let port_node = self.g.port_node(port);
                let declared_path = self
                    .g
                    .path(port_node, dest_city)
                    .unwrap_or_else(|| vec![port_node, dest_city]);
                let direct = self.g.path_length_m(&declared_path);
                let candidates: Vec<usize> = active
                    .iter()
                    .copied()
                    .filter(|&l| {
                        let c = self.labs[l].city;
                        match scenario.as_str() {
                            "stop_en_route" | "dark_stop" => declared_path[1..].contains(&c),
                            "detour_to_lab" => {
                                if declared_path.contains(&c) {
                                    return false;
                                }
                                let a = self
                                    .g
                                    .path(port_node, c)
                                    .map(|p| self.g.path_length_m(&p))
                                    .unwrap_or(f64::INFINITY);
                                let b = self
                                    .g
                                    .path(c, dest_city)
                                    .map(|p| self.g.path_length_m(&p))
                                    .unwrap_or(f64::INFINITY);
                                a + b < direct * 1.8 + 150_000.0
                            }
                            _ => true,
                        }
                    })
                    .collect();
                if let Some(&l) = candidates.choose(&mut self.rng) {
                    lab = Some(l);
                    via = Some(self.labs[l].city);
                    break;
                }
            }
            if via.is_none() {
                scenario = "legit".into();
            }
        }
        let dest_city = self.sites[site].city;
        let port_node = self.g.port_node(port);
        let declared_path = self
            .g
            .path(port_node, dest_city)
            .unwrap_or_else(|| vec![port_node, dest_city]);
        match scenario.as_str() {
            "detour_to_lab" => {
                typologies.extend(["route_deviation", "unscheduled_stop", "quantity_shortfall"])
            }
            "stop_en_route" => typologies.extend(["unscheduled_stop", "quantity_shortfall"]),
            "dark_stop" => typologies.extend(["tracking_gap", "quantity_shortfall"]),
            "undeclared_delivery" => {
                typologies.push("undeclared_destination");
                // Delivering in a city off the declared route also leaves its corridor.
                if via.is_some_and(|vc| !declared_path.contains(&vc)) {
                    typologies.push("route_deviation");
                }
            }
            "misdeclared" => typologies.push("mis_declaration"),
            _ => {}
        }

        // Declaration.
        let (decl_cas, decl_hs, description) = if scenario == "misdeclared" {
            if self.rng.random_bool(0.5) {
                // The right chemical under a wrong, harmless-looking tariff line.
                (
                    cas.clone(),
                    HsCode::parse("2942.00").map_err(|e| SimError::Config(e.to_string()))?,
                    "Compuesto orgánico diverso".to_string(),
                )
            } else {
                // A benign chemical declared; the container holds the precursor.
                (
                    Cas::parse("100-51-6").map_err(|e| SimError::Config(e.to_string()))?,
                    HsCode::parse("2906.21").map_err(|e| SimError::Config(e.to_string()))?,
                    "Alcohol bencílico".to_string(),
                )
            }
        } else {
            (cas.clone(), proper_hs, chem_name)
        };
        let unit = if self.rng.random_bool(0.2) && qty >= 1000.0 {
            Unit::Tonne
        } else {
            Unit::Kg
        };
        let declared_qty = if unit == Unit::Tonne {
            qty / 1000.0
        } else {
            qty
        };
        let c = Consignment {
            id: id.to_string(),
            originator: "ANAM".into(),
            marking: m(Tlp::Amber, &[]),
            declaration: format!(
                "26 {:02} {} {:07}",
                10 + port,
                3948,
                self.rng.random_range(0..10_000_000)
            ),
            cas: decl_cas,
            hs: decl_hs,
            description,
            quantity: declared_qty,
            unit,
            importer: self.entities[importer]
                .records
                .choose(&mut self.rng)
                .cloned()
                .unwrap_or_default(),
            consignee: self.entities[consignee]
                .records
                .choose(&mut self.rng)
                .cloned()
                .unwrap_or_default(),
            destination: self.sites[site].place.clone(),
            port: UnLocode::parse(self.g.ports[port].locode)
                .map_err(|e| SimError::Config(e.to_string()))?,
            vessel_imo: vessel.as_ref().map(|v| v.0.clone()),
            container,
            arrival_ms,
            vessel_mmsi: None,
            route: Vec::new(),
            corridor_m: None,
            trip: None,
        };
        self.out.record(&Record::Consignment(c))?;
        let arrival_s = arrival_ms / 1000;
        if let Some(v) = &vessel {
            self.ais(&v.1.clone(), port, arrival_s)?;
        }

        // Port events.
        let port_place = format!("PL-{:05}", port + 1);
        let port_pos = self.g.ports[port].pos;
        let released = arrival_s + self.rng.random_range(12 * 3600..60 * 3600);
        let inspect = if scenario == "misdeclared" {
            self.rng.random_bool(0.9)
        } else {
            self.rng.random_bool(0.1)
        };
        if inspect {
            let found = Some(cas.clone());
            self.event(
                id,
                CustodyKind::Inspected,
                released - 3 * 3600,
                Some(port_place.clone()),
                Some(port_pos),
                None,
                None,
                None,
                found,
            )?;
        }
        self.event(
            id,
            CustodyKind::Released,
            released,
            Some(port_place.clone()),
            Some(port_pos),
            None,
            None,
            None,
            None,
        )?;
        let depart = released + self.rng.random_range(1800..4 * 3600);
        let truck = self.truck_for(depart);
        let truck_id = self.trucks[truck].id.clone();
        let driver = *self.drivers.choose(&mut self.rng).unwrap_or(&0);
        let driver_rec = self.entities[driver].records.first().cloned();
        self.event(
            id,
            CustodyKind::Loaded,
            depart,
            Some(port_place),
            Some(port_pos),
            Some(truck_id.clone()),
            driver_rec,
            None,
            None,
        )?;

        // Route.
        let late = scenario == "legit" && self.rng.random_bool(self.cfg.noise.late);
        let speed_kmh = self
            .rng
            .random_range(self.cfg.trucks.speed_kmh_min..self.cfg.trucks.speed_kmh_max)
            * if late { 0.6 } else { 1.0 };
        let speed = speed_kmh / 3.6;
        let mut wps = Vec::new();
        let mut driven = 0.0;
        let lab_stop_s = f64::from(
            self.rng.random_range(
                self.cfg.diversion.lab_stop_min_s
                    ..=self
                        .cfg
                        .diversion
                        .lab_stop_max_s
                        .max(self.cfg.diversion.lab_stop_min_s),
            ),
        );
        let mut lab_window: Option<(usize, usize)> = None;
        match (scenario.as_str(), via, lab) {
            ("undeclared_delivery", Some(vc), Some(l)) => {
                let p = self
                    .g
                    .path(port_node, vc)
                    .unwrap_or_else(|| vec![port_node, vc]);
                self.waypoints(&p, speed, &mut driven, &mut wps);
                wps.push(Wp {
                    pos: self.labs[l].pos,
                    stop_s: 0.0,
                    dark: false,
                    roadside: None,
                });
            }
            (_, Some(vc), Some(l)) => {
                let p1 = self
                    .g
                    .path(port_node, vc)
                    .unwrap_or_else(|| vec![port_node, vc]);
                self.waypoints(&p1, speed, &mut driven, &mut wps);
                let dark = scenario == "dark_stop";
                let lab_pos = self.labs[l].pos;
                let start = wps.len();
                if dark {
                    // The tracker is switched off about 5 km before the turn-off.
                    let n = wps.len();
                    if n >= 1 {
                        let to = wps[n - 1].pos;
                        let from = if n >= 2 { wps[n - 2].pos } else { port_pos };
                        let len = haversine_m(from.lat, from.lon, to.lat, to.lon);
                        if len > 5000.0 {
                            let f = 1.0 - 5000.0 / len;
                            let p = Position {
                                lat: from.lat + (to.lat - from.lat) * f,
                                lon: from.lon + (to.lon - from.lon) * f,
                            };
                            wps.insert(
                                n - 1,
                                Wp {
                                    pos: p,
                                    stop_s: 0.0,
                                    dark: false,
                                    roadside: None,
                                },
                            );
                        }
                        if let Some(last) = wps.last_mut() {
                            last.dark = true;
                        }
                    }
                }
                wps.push(Wp {
                    pos: lab_pos,
                    stop_s: lab_stop_s,
                    dark,
                    roadside: None,
                });
                let p2 = self
                    .g
                    .path(vc, dest_city)
                    .unwrap_or_else(|| vec![vc, dest_city]);
                if dark {
                    // ...and back on a few kilometres after leaving the lab.
                    let next = self.g.nodes[*p2.get(1).unwrap_or(&vc)];
                    let bearing = bearing_deg(lab_pos, next);
                    wps.push(Wp {
                        pos: destination(lab_pos, bearing, 4000.0),
                        stop_s: 0.0,
                        dark: true,
                        roadside: None,
                    });
                }
                lab_window = Some((start, wps.len()));
                if p2.len() > 1 {
                    self.waypoints(&p2, speed, &mut driven, &mut wps);
                }
            }
            _ => self.waypoints(&declared_path, speed, &mut driven, &mut wps),
        }
        let noise_kind = if scenario == "legit" {
            self.legit_noise(&mut wps)
        } else {
            None
        };
        if let Some(nk) = &noise_kind {
            Out::truth(
                &mut self.out.truth.noise,
                &NoiseTruth {
                    truth_kind: "noise",
                    consignment: id,
                    noise: nk,
                },
            )?;
        }
        if late {
            Out::truth(
                &mut self.out.truth.noise,
                &NoiseTruth {
                    truth_kind: "noise",
                    consignment: id,
                    noise: "late",
                },
            )?;
        }
        let end_pos = if scenario == "undeclared_delivery" {
            wps.last().map(|w| w.pos).unwrap_or(port_pos)
        } else {
            self.sites[site].pos
        };
        if scenario != "undeclared_delivery" {
            wps.push(Wp {
                pos: end_pos,
                stop_s: 0.0,
                dark: false,
                roadside: None,
            });
        }
        let unload_s = if scenario == "undeclared_delivery" {
            self.rng.random_range(2 * 3600..5 * 3600)
        } else {
            self.rng.random_range(2400..5400)
        };
        if let Some(last) = wps.last_mut() {
            last.stop_s = f64::from(unload_s);
        }
        let arrivals = self.drive(truck, port_pos, &wps, depart, speed)?;
        let at_end = arrivals.last().copied().unwrap_or(depart as f64) as i64;
        self.trucks[truck].free_at_s = at_end + i64::from(unload_s) + 6 * 3600;

        // Delivery events.
        let consignee_rec = self.entities[consignee].records.first().cloned();
        if scenario == "undeclared_delivery" {
            self.event(
                id,
                CustodyKind::Delivered,
                at_end,
                None,
                Some(end_pos),
                Some(truck_id),
                None,
                None,
                None,
            )?;
        } else {
            let place = Some(self.sites[site].place.clone());
            self.event(
                id,
                CustodyKind::Delivered,
                at_end,
                place.clone(),
                Some(end_pos),
                Some(truck_id),
                None,
                None,
                None,
            )?;
            let shortfall = if typologies.contains(&"quantity_shortfall") {
                self.rng.random_range(
                    self.cfg.diversion.shortfall_min..self.cfg.diversion.shortfall_max,
                )
            } else if self.rng.random_bool(self.cfg.noise.small_shortfall) {
                self.rng.random_range(0.0..0.005)
            } else {
                0.0
            };
            let received = (declared_qty * (1.0 - shortfall) * 1000.0).round() / 1000.0;
            let received_at = at_end + self.rng.random_range(1200..3600);
            self.event(
                id,
                CustodyKind::Received,
                received_at,
                place,
                Some(end_pos),
                None,
                consignee_rec,
                Some((received, unit)),
                None,
            )?;
        }

        if !typologies.is_empty() {
            let (from, to) = match lab_window {
                Some((a, b)) if a > 0 => (
                    arrivals.get(a - 1).copied(),
                    arrivals
                        .get(b.min(arrivals.len()) - 1)
                        .map(|t| t + lab_stop_s),
                ),
                _ => (Some(depart as f64), Some(at_end as f64)),
            };
            let lab_id = lab.map(|l| self.labs[l].id.clone());
            let lab_pos = lab.map(|l| self.labs[l].pos);
            if let Some(l) = lab {
                if scenario != "front_consignee" && scenario != "structuring" {
                    self.labs[l].fed_by.push(id.to_string());
                }
            }
            let fmt = |t: Option<f64>| t.map(|t| rastro_core::format_time_ms(t as i64 * 1000));
            let truth = DiversionTruth {
                truth_kind: "diversion",
                consignment: id,
                scenario: &scenario,
                typologies: typologies.clone(),
                lab: lab_id.as_deref(),
                lat: lab_pos.map(|p| p.lat),
                lon: lab_pos.map(|p| p.lon),
                from: fmt(from),
                to: fmt(to),
                linked: linked.to_vec(),
            };
            Out::truth(&mut self.out.truth.diversions, &truth)?;
            self.summary.diverted += 1;
            for t in &typologies {
                *self.summary.by_typology.entry(t.to_string()).or_default() += 1;
            }
        }
        Ok(())
    }

    /// Adds at most one kind of legitimate noise to a trip; returns its name.
    fn legit_noise(&mut self, wps: &mut Vec<Wp>) -> Option<String> {
        let nz = self.cfg.noise.clone();
        if wps.len() < 4 {
            return None;
        }
        let x: f64 = self.rng.random();
        if x < nz.breakdown {
            // A long stop on the open road, away from any city.
            let i = self.rng.random_range(1..wps.len() - 1);
            let (a, b) = (wps[i - 1].pos, wps[i].pos);
            let f = self.rng.random_range(0.3..0.7);
            let p = Position {
                lat: a.lat + (b.lat - a.lat) * f,
                lon: a.lon + (b.lon - a.lon) * f,
            };
            if self.g.cities.iter().enumerate().any(|(c, city)| {
                haversine_m(p.lat, p.lon, city.pos.lat, city.pos.lon)
                    < self.g.urban_radius_m(c) + 15_000.0
            }) {
                return None;
            }
            wps.insert(
                i,
                Wp {
                    pos: p,
                    stop_s: f64::from(self.rng.random_range(2700..10_800)),
                    dark: false,
                    roadside: None,
                },
            );
            return Some("breakdown".into());
        }
        if x < nz.breakdown + nz.battery_failure {
            // Tracker silent while the truck keeps driving.
            let i = self.rng.random_range(1..wps.len() - 2);
            wps[i].dark = true;
            if self.rng.random_bool(0.5) {
                wps[i + 1].dark = true;
            }
            return Some("battery_failure".into());
        }
        if x < nz.breakdown + nz.battery_failure + nz.traffic_stop {
            let i = self.rng.random_range(1..wps.len() - 1);
            let (a, b) = (wps[i - 1].pos, wps[i].pos);
            let f = self.rng.random_range(0.2..0.8);
            let p = Position {
                lat: a.lat + (b.lat - a.lat) * f,
                lon: a.lon + (b.lon - a.lon) * f,
            };
            wps.insert(
                i,
                Wp {
                    pos: p,
                    stop_s: f64::from(self.rng.random_range(180..720)),
                    dark: false,
                    roadside: None,
                },
            );
            return Some("traffic_stop".into());
        }
        None
    }

    fn report(
        &mut self,
        kind: ReportKind,
        originator: &str,
        marking: Marking,
        t_ms: i64,
        pos: Option<Position>,
        grade: (char, u8),
        subjects: Vec<String>,
        summary: &str,
        qty: Option<f64>,
        profile: Vec<f64>,
    ) -> Result<String, SimError> {
        self.report_count += 1;
        let id = format!("SYN-R-{:06}", self.report_count);
        let r = Report {
            id: id.clone(),
            originator: originator.into(),
            marking,
            report_kind: kind,
            time_ms: t_ms,
            position: pos,
            reliability: grade.0,
            credibility: grade.1,
            subjects,
            summary: summary.into(),
            quantity_kg: qty,
            profile,
            valid_until_ms: None,
            precision_m: None,
        };
        self.out.record(&Record::Report(r))?;
        Ok(id)
    }

    /// A tip (FGR, TLP:RED) at `p` with an Admiralty grade drawn from `grades`: true tips near
    /// labs get good grades, false ones mostly poor.
    fn tip(&mut self, t_ms: i64, p: Position, grades: &[(char, u8)]) -> Result<String, SimError> {
        let tip_texts = [
            "Olor químico fuerte por las noches en la cuadra",
            "Entran y salen camionetas a deshoras",
            "Vecinos reportan tambos y ventanas tapiadas",
            "Compra frecuente de garrafones de solventes",
        ];
        let grade = *grades.choose(&mut self.rng).unwrap_or(&('F', 6));
        let text = *tip_texts.choose(&mut self.rng).unwrap_or(&"");
        self.report(
            ReportKind::Tip,
            "FGR",
            // Named recipients: the host nation's agencies at the fusion centre.
            m(Tlp::Red, &["MX"]),
            t_ms,
            Some(p),
            grade,
            vec![],
            text,
            None,
            vec![],
        )
    }

    fn random_time(&mut self, from: i64, to: i64) -> i64 {
        from + (self.rng.random::<f64>() * (to - from).max(1) as f64) as i64
    }

    fn urban_random(&mut self) -> Position {
        let c = self.weighted_city(false);
        let r = self.g.urban_radius_m(c);
        self.g.urban_point(
            c,
            self.rng.random_range(0.0..360.0),
            self.rng.random_range(0.0..0.9) * r,
        )
    }

    fn reports(&mut self) -> Result<(), SimError> {
        let rc = self.cfg.reports.clone();
        let end = self.start_ms + self.period_ms();
        for l in 0..self.labs.len() {
            let (pos, from) = (self.labs[l].pos, self.labs[l].from_ms);
            for _ in 0..rc.true_tips_per_lab {
                let t = self.random_time(from, end);
                let p = destination(
                    pos,
                    self.rng.random_range(0.0..360.0),
                    self.rng.random_range(30.0..300.0),
                );
                self.tip(t, p, &[('B', 2), ('C', 2), ('C', 3), ('B', 3)])?;
            }
            for _ in 0..rc.equipment_per_lab {
                let t = self.random_time(from, end);
                let p = destination(
                    pos,
                    self.rng.random_range(0.0..360.0),
                    self.rng.random_range(50.0..600.0),
                );
                self.report(
                    ReportKind::EquipmentPurchase,
                    "UIF",
                    m(Tlp::Amber, &[]),
                    t,
                    Some(p),
                    ('B', 2),
                    vec![],
                    "Compra de prensa de tabletas y rotavapor",
                    None,
                    vec![],
                )?;
            }
            let batches = rc.batches_per_lab.max(1);
            for s in 0..rc.seizures_per_lab {
                let batch = s % batches;
                let t = self.random_time(from, end);
                let profile: Vec<f64> = self.labs[l]
                    .profile
                    .iter()
                    .enumerate()
                    .map(|(k, v)| {
                        let batch_shift =
                            ((batch as f64 + 1.0) * (k as f64 + 1.0) * 0.37).sin() * 0.05;
                        ((v + batch_shift + gauss(&mut self.rng) * 0.01) * 1000.0)
                            .round()
                            .max(1.0)
                            / 1000.0
                    })
                    .collect();
                let border = [
                    "Tijuana",
                    "Mexicali",
                    "Ciudad Juárez",
                    "Nuevo Laredo",
                    "Reynosa",
                    "Matamoros",
                ];
                let city = border
                    .get(self.rng.random_range(0..border.len()))
                    .and_then(|n| self.g.cities.iter().position(|c| c.name == *n))
                    .unwrap_or(0);
                let p = self.g.urban_point(
                    city,
                    self.rng.random_range(0.0..360.0),
                    self.rng.random_range(0.0..5000.0),
                );
                let q = (self.rng.random_range(1.0f64..40.0) * 10.0).round() / 10.0;
                let rid = self.report(
                    ReportKind::Seizure,
                    "FGR",
                    m(Tlp::Amber, &["US"]),
                    t,
                    Some(p),
                    ('A', 1),
                    vec![],
                    "Aseguramiento de pastillas prensadas",
                    Some(q),
                    profile,
                )?;
                Out::truth(
                    &mut self.out.truth.seizures,
                    &serde_json::json!({"truth_kind": "seizure", "report": rid, "lab": self.labs[l].id, "batch": format!("{}-B{batch}", self.labs[l].id)}),
                )?;
            }
        }
        let false_tips =
            (self.cfg.consignments as f64 * rc.false_tips_per_100 / 100.0).round() as usize;
        for _ in 0..false_tips {
            let t = self.random_time(self.start_ms, end);
            let p = self.urban_random();
            self.tip(
                t,
                p,
                &[('D', 4), ('E', 5), ('C', 4), ('F', 6), ('C', 3), ('D', 3)],
            )?;
        }
        let legit_eq =
            (self.cfg.consignments as f64 * rc.legit_equipment_per_100 / 100.0).round() as usize;
        let mut idx: Vec<usize> = (0..self.sites.len()).collect();
        idx.shuffle(&mut self.rng);
        for s in idx.into_iter().take(legit_eq) {
            let t = self.random_time(self.start_ms, end);
            let p = self.sites[s].pos;
            let e = self.sites[s].entity;
            let subj = self.entities[e]
                .records
                .first()
                .cloned()
                .into_iter()
                .collect();
            self.report(
                ReportKind::EquipmentPurchase,
                "UIF",
                m(Tlp::Amber, &[]),
                t,
                Some(p),
                ('B', 2),
                subj,
                "Compra de equipo de laboratorio",
                None,
                vec![],
            )?;
        }
        Ok(())
    }

    fn lab_truth(&mut self) -> Result<(), SimError> {
        for l in &self.labs {
            let cell =
                rastro_core::grid::cell(l.pos.lat, l.pos.lon, 9).map(rastro_core::grid::to_string);
            let v = serde_json::json!({
                "truth_kind": "lab",
                "lab": l.id,
                "city": self.g.cities[l.city].name,
                "lat": l.pos.lat,
                "lon": l.pos.lon,
                "h3_res9": cell,
                "active_from": rastro_core::format_time_ms(l.from_ms),
                "active_to": rastro_core::format_time_ms(l.to_ms),
                "fed_by": l.fed_by,
            });
            Out::truth(&mut self.out.truth.labs, &v)?;
        }
        Ok(())
    }
}

fn bearing_deg(a: Position, b: Position) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dl = (b.lon - a.lon).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    y.atan2(x).to_degrees().rem_euclid(360.0)
}
