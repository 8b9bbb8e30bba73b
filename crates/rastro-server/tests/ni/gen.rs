//! Generated scenarios for the non-interference tests: organisations of two nations, markings
//! on every record kind (custody, vehicles, parties included), parties linked through shared
//! phones and addresses, trips with detours and stops at a laboratory, short deliveries, and
//! reports near the laboratory. Everything is a small shrinkable structure of indices, so a
//! failing case shrinks to a minimal counter-example.

#![allow(dead_code)]

use proptest::prelude::*;
use rastro_core::*;
use std::collections::BTreeSet;

/// Organisations: three of the host nation, two of a partner nation.
pub const ORGS: [(&str, &str, &str); 5] = [
    ("ANAM", "MX", "customs"),
    ("SEMAR", "MX", "navy"),
    ("FGR", "MX", "prosecutor"),
    ("DEA", "US", "foreign_liaison"),
    ("CBP", "US", "foreign_liaison"),
];
/// What releasable-to lists may name.
const REL: [&str; 7] = ["MX", "US", "ANAM", "SEMAR", "FGR", "DEA", "CBP"];

/// One marking: an originator (an index into [`ORGS`]), a TLP level, a releasable-to set.
#[derive(Debug, Clone)]
pub struct Mark {
    pub org: usize,
    pub tlp: u8,
    pub rel: BTreeSet<usize>,
}

#[derive(Debug, Clone)]
pub struct PartySpec {
    pub mark: usize,
    pub phone: u8,
    pub address: u8,
    pub recent: bool,
}

#[derive(Debug, Clone)]
pub struct VehicleSpec {
    pub mark: usize,
    pub carrier: u8,
}

#[derive(Debug, Clone)]
pub struct TripSpec {
    pub mark: usize,
    /// Markings of the released, loaded, delivered and received events.
    pub custody: [usize; 4],
    pub consignee: usize,
    pub vehicle: usize,
    pub dest: u8,
    pub qty_kg: u16,
    pub short: bool,
    /// Leave the route to the laboratory and stop there.
    pub to_lab: bool,
    /// Tracker silent for two hours.
    pub dark: bool,
    /// Markings of the fixes, one per leg (cycled).
    pub fix_marks: Vec<usize>,
    /// Deliver at the laboratory instead of the declared destination.
    pub undeclared: bool,
    /// Change vehicle halfway (a declared transfer, marked like the loading).
    pub transfer: bool,
}

#[derive(Debug, Clone)]
pub struct ReportSpec {
    pub mark: usize,
    pub kind: u8,
    pub near_lab: bool,
    pub jitter: u8,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub marks: Vec<Mark>,
    pub parties: Vec<PartySpec>,
    pub vehicles: Vec<VehicleSpec>,
    pub trips: Vec<TripSpec>,
    pub reports: Vec<ReportSpec>,
}

fn mark() -> impl Strategy<Value = Mark> {
    (
        0usize..ORGS.len(),
        0u8..5,
        proptest::collection::btree_set(0usize..REL.len(), 0..3),
    )
        .prop_map(|(org, tlp, rel)| Mark { org, tlp, rel })
}

pub fn scenario() -> impl Strategy<Value = Scenario> {
    (
        proptest::collection::vec(mark(), 1..7),
        proptest::collection::vec(
            (any::<usize>(), 0u8..3, 0u8..3, any::<bool>()).prop_map(
                |(mark, phone, address, recent)| PartySpec {
                    mark,
                    phone,
                    address,
                    recent,
                },
            ),
            1..5,
        ),
        proptest::collection::vec(
            (any::<usize>(), 0u8..3).prop_map(|(mark, carrier)| VehicleSpec { mark, carrier }),
            1..3,
        ),
        proptest::collection::vec(
            (
                any::<usize>(),
                [
                    any::<usize>(),
                    any::<usize>(),
                    any::<usize>(),
                    any::<usize>(),
                ],
                any::<usize>(),
                any::<usize>(),
                0u8..2,
                40u16..160,
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                proptest::collection::vec(any::<usize>(), 1..4),
                proptest::bool::weighted(0.2),
                proptest::bool::weighted(0.3),
            )
                .prop_map(
                    |(
                        mark,
                        custody,
                        consignee,
                        vehicle,
                        dest,
                        qty_kg,
                        short,
                        to_lab,
                        dark,
                        fix_marks,
                        undeclared,
                        transfer,
                    )| TripSpec {
                        mark,
                        custody,
                        consignee,
                        vehicle,
                        dest,
                        qty_kg,
                        short,
                        to_lab,
                        dark,
                        fix_marks,
                        undeclared,
                        transfer,
                    },
                ),
            1..4,
        ),
        proptest::collection::vec(
            (
                any::<usize>(),
                0u8..3,
                proptest::bool::weighted(0.7),
                any::<u8>(),
            )
                .prop_map(|(mark, kind, near_lab, jitter)| ReportSpec {
                    mark,
                    kind,
                    near_lab,
                    jitter,
                }),
            0..6,
        ),
    )
        .prop_map(|(marks, parties, vehicles, trips, reports)| Scenario {
            marks,
            parties,
            vehicles,
            trips,
            reports,
        })
}

fn m(s: &Scenario, i: usize) -> (String, Marking) {
    let mk = &s.marks[i % s.marks.len()];
    (
        ORGS[mk.org].0.to_string(),
        Marking {
            tlp: Tlp::from_code(mk.tlp).unwrap_or(Tlp::Red),
            releasable_to: mk.rel.iter().map(|&r| REL[r].to_string()).collect(),
        },
    )
}

/// The laboratory: a house in a Guadalajara neighbourhood.
pub const LAB: (f64, f64) = (20.7081, -103.3912);
const PORT: (f64, f64) = (19.0600, -104.3000);
const DESTS: [(f64, f64); 2] = [(20.6310, -103.2980), (20.5720, -103.4380)];
const T0: i64 = 1_767_600_000_000; // 2026-01-05T08:00Z

fn pos(lat: f64, lon: f64) -> Position {
    Position { lat, lon }
}

/// One leg of a drive: from, to, and the stop at its end in seconds.
type Leg = ((f64, f64), (f64, f64), f64);

/// The records of a scenario, in the order they are ingested.
pub fn records(s: &Scenario) -> Vec<Record> {
    let mut out = Vec::new();
    // Public places (CLEAR, customs): the port and the two plants.
    out.push(Record::Place(Place {
        id: "PORT-MXZLO".into(),
        originator: "ANAM".into(),
        marking: Marking::new(Tlp::Clear),
        place_kind: PlaceKind::Port,
        name: "Manzanillo".into(),
        position: pos(PORT.0, PORT.1),
        radius_m: 2500.0,
        locode: UnLocode::parse("MXZLO").ok(),
        country: Country::parse("MX").unwrap(),
        operator: None,
        land_use: None,
        opening_hours: None,
        utc_offset_min: None,
    }));
    for (i, d) in DESTS.iter().enumerate() {
        out.push(Record::Place(Place {
            id: format!("PL-{i}"),
            originator: "ANAM".into(),
            marking: Marking::new(Tlp::Green),
            place_kind: PlaceKind::Customer,
            name: format!("Planta {i}"),
            position: pos(d.0, d.1),
            radius_m: 300.0,
            locode: None,
            country: Country::parse("MX").unwrap(),
            operator: None,
            land_use: None,
            opening_hours: None,
            utc_offset_min: None,
        }));
    }
    let phones = ["+52 33 1111 2222", "(33) 3333-4444", "33 5555 6666"];
    let addresses = [
        "Av. Industria 100, Parque Industrial El Salto, Jal.",
        "Calle Sauce 14 Int 3, Fracc. Las Fuentes, Zapopan",
        "Calle Roble 7, Col. Centro, Tlaquepaque",
    ];
    for (i, p) in s.parties.iter().enumerate() {
        let (o, mk) = m(s, p.mark);
        out.push(Record::Party(Party {
            id: format!("P-{i}"),
            originator: o,
            marking: mk,
            party_kind: PartyKind::Organisation,
            name: format!("Química Sintética {i} SA de CV"),
            rfc: None,
            country: Country::parse("MX").unwrap(),
            address: Some(addresses[p.address as usize % 3].into()),
            city: Some("Guadalajara".into()),
            phone: Some(phones[p.phone as usize % 3].into()),
            registered: Some(if p.recent {
                chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()
            } else {
                chrono::NaiveDate::from_ymd_opt(2012, 3, 1).unwrap()
            }),
            licence: None,
            // Some parties are on a watch list: front-consignee evidence that must follow the
            // party's marking.
            watch_list: (p.address % 2 == 1).then(|| "UIF lista de personas bloqueadas".into()),
            relations: Vec::new(),
        }));
    }
    for (i, v) in s.vehicles.iter().enumerate() {
        let (o, mk) = m(s, v.mark);
        out.push(Record::Vehicle(Vehicle {
            id: format!("V-{i}"),
            originator: o,
            marking: mk,
            plate: format!("JAL{i:04}"),
            vehicle_kind: "truck".into(),
            carrier: Some(format!("C-{}", v.carrier)),
            report_interval_s: Some(120),
            imo: None,
            mmsi: None,
        }));
    }
    let mut obs_n = 0u32;
    for (i, t) in s.trips.iter().enumerate() {
        let (o, mk) = m(s, t.mark);
        let dest = DESTS[t.dest as usize % 2];
        let cid = format!("C-{i}");
        let arrival = T0 + i as i64 * 86_400_000;
        out.push(Record::Consignment(Consignment {
            id: cid.clone(),
            originator: o,
            marking: mk,
            declaration: format!("26 16 3456 600{i:04}"),
            cas: Cas::parse("39742-60-4").unwrap(),
            hs: HsCode::parse("2933.37").unwrap(),
            description: "N-fenetil-4-piperidona".into(),
            quantity: f64::from(t.qty_kg),
            unit: Unit::Kg,
            importer: "P-0".into(),
            consignee: format!("P-{}", t.consignee % s.parties.len()),
            destination: format!("PL-{}", t.dest % 2),
            port: UnLocode::parse("MXZLO").unwrap(),
            vessel_imo: None,
            container: None,
            arrival_ms: arrival,
            vessel_mmsi: None,
            route: Vec::new(),
            corridor_m: None,
            trip: None,
        }));
        let vehicle = format!("V-{}", t.vehicle % s.vehicles.len());
        let loaded = arrival + 20 * 3_600_000;
        // The drive: port to destination in legs, optionally by the laboratory.
        let mut legs: Vec<Leg> = Vec::new();
        if t.to_lab || t.undeclared {
            legs.push((PORT, LAB, if t.undeclared { 3600.0 } else { 2700.0 }));
            if !t.undeclared {
                legs.push((LAB, dest, 1800.0));
            }
        } else {
            legs.push((PORT, dest, 1800.0));
        }
        let mut tm = loaded;
        for (li, (a, b, stop_s)) in legs.iter().enumerate() {
            let (fo, fm) = m(s, t.fix_marks[li % t.fix_marks.len()]);
            let d = rastro_core::geo::haversine_m(a.0, a.1, b.0, b.1);
            let steps = (d / 2500.0).ceil().max(1.0) as usize; // about 75 km/h, a fix every 2 min
            for k in 0..=steps {
                let f = k as f64 / steps as f64;
                let silent = t.dark && li == 0 && (0.4..0.7).contains(&f);
                if !silent {
                    obs_n += 1;
                    out.push(Record::Observation(Observation {
                        id: format!("O-{obs_n:06}"),
                        originator: fo.clone(),
                        marking: fm.clone(),
                        source: ObservationSource::Gps,
                        subject_kind: SubjectKind::Vehicle,
                        subject: vehicle.clone(),
                        time_ms: tm,
                        lat: a.0 + (b.0 - a.0) * f,
                        lon: a.1 + (b.1 - a.1) * f,
                        accuracy_m: Some(10.0),
                        confidence: 1.0,
                        speed_kmh: None,
                        heading_deg: None,
                        ignition: None,
                        power: None,
                        request: None,
                    }));
                }
                tm += 120_000;
            }
            // Stopped at the end of the leg: a fix every two minutes.
            let n = (stop_s / 120.0) as usize;
            for k in 0..n {
                obs_n += 1;
                out.push(Record::Observation(Observation {
                    id: format!("O-{obs_n:06}"),
                    originator: fo.clone(),
                    marking: fm.clone(),
                    source: ObservationSource::Gps,
                    subject_kind: SubjectKind::Vehicle,
                    subject: vehicle.clone(),
                    time_ms: tm,
                    lat: b.0 + 0.00003 * (k % 3) as f64,
                    lon: b.1,
                    accuracy_m: Some(10.0),
                    confidence: 1.0,
                    speed_kmh: None,
                    heading_deg: None,
                    ignition: None,
                    power: None,
                    request: None,
                }));
                tm += 120_000;
            }
        }
        let delivered_at = if t.undeclared { LAB } else { dest };
        let events = [
            (CustodyKind::Released, arrival + 10 * 3_600_000, None, None),
            (CustodyKind::Loaded, loaded, Some(vehicle.clone()), None),
            (CustodyKind::Delivered, tm, Some(vehicle.clone()), None),
            (
                CustodyKind::Received,
                tm + 600_000,
                None,
                Some(if t.short {
                    f64::from(t.qty_kg) * 0.7
                } else {
                    f64::from(t.qty_kg)
                }),
            ),
        ];
        for (k, (ev, at, veh, qty)) in events.into_iter().enumerate() {
            if t.undeclared && ev == CustodyKind::Received {
                continue;
            }
            let (eo, em) = m(s, t.custody[k]);
            let at_dest = matches!(ev, CustodyKind::Delivered | CustodyKind::Received);
            out.push(Record::Custody(Custody {
                id: format!("E-{i}-{k}"),
                originator: eo,
                marking: em,
                consignment: cid.clone(),
                event: ev,
                time_ms: at,
                place: if at_dest && !t.undeclared {
                    Some(format!("PL-{}", t.dest % 2))
                } else if k < 2 {
                    Some("PORT-MXZLO".into())
                } else {
                    None
                },
                position: at_dest.then(|| pos(delivered_at.0, delivered_at.1)),
                vehicle: veh,
                party: None,
                quantity: qty,
                unit: qty.map(|_| Unit::Kg),
                cas_found: None,
                to_vehicle: None,
            }));
        }
        // Some loads change vehicle halfway (a declared transfer, marked like the loading): the
        // track then follows the other vehicle, which a viewer may know only if it sees the
        // transfer.
        if t.transfer && s.vehicles.len() > 1 {
            let (eo, em) = m(s, t.custody[1]);
            out.push(Record::Custody(Custody {
                id: format!("E-{i}-transfer"),
                originator: eo,
                marking: em,
                consignment: cid.clone(),
                event: CustodyKind::Transfer,
                time_ms: loaded + (tm - loaded) / 2,
                place: None,
                position: None,
                vehicle: Some(vehicle.clone()),
                party: None,
                quantity: None,
                unit: None,
                cas_found: None,
                to_vehicle: Some(format!("V-{}", (t.vehicle + 1) % s.vehicles.len())),
            }));
        }
    }
    for (i, r) in s.reports.iter().enumerate() {
        let (o, mk) = m(s, r.mark);
        let j = f64::from(r.jitter) * 1e-5;
        let p = if r.near_lab {
            pos(LAB.0 + j, LAB.1 - j)
        } else {
            // Scattered over the city, a few kilometres apart.
            pos(20.60 + j * 20.0, -103.30 - (j * 37.0) % 0.06)
        };
        out.push(Record::Report(Report {
            id: format!("R-{i}"),
            originator: o,
            marking: mk,
            report_kind: [
                ReportKind::Tip,
                ReportKind::EquipmentPurchase,
                ReportKind::Seizure,
            ][r.kind as usize % 3],
            time_ms: T0 + 2 * 86_400_000 + i as i64 * 3_600_000,
            position: Some(p),
            reliability: 'B',
            credibility: 2,
            subjects: vec![format!("P-{}", i % s.parties.len())],
            summary: format!("synthetic report {i}"),
            quantity_kg: None,
            profile: Vec::new(),
            valid_until_ms: None,
            precision_m: None,
        }));
        // Two samples of every report, marked like it and like the next marking: a sample may
        // be visible while its seizure is not (or the report is no seizure at all).
        for k in 0..2 {
            let (o, mk) = m(s, r.mark + k);
            out.push(sample(
                format!("R-{i}-S{k}"),
                o,
                mk,
                Some(format!("R-{i}")),
                None,
                i % 4,
                k,
            ));
        }
    }
    // A reference collection of eight cases, three samples each, under the generated
    // markings: what a viewer may see of it sets their calibration.
    for c in 0..8 {
        for k in 0..3 {
            let (o, mk) = m(s, c * 3 + k);
            out.push(sample(
                format!("REF-{c}-{k}"),
                o,
                mk,
                None,
                Some(format!("CASE-{c}")),
                c,
                k,
            ));
        }
    }
    out
}

/// Target compounds of the embedded fentanyl configuration the samples use.
const COMPOUNDS: [&str; 8] = [
    "4-ANPP",
    "NPP",
    "phenethyl-4-ANPP",
    "acetylfentanyl",
    "propionanilide",
    "norfentanyl",
    "benzylfentanyl",
    "aniline",
];

/// A profile of family `family` (its shape), replicate `k` (a small deviation).
fn sample(
    id: String,
    originator: String,
    marking: Marking,
    seizure: Option<String>,
    reference_group: Option<String>,
    family: usize,
    k: usize,
) -> Record {
    let areas = COMPOUNDS
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let base = 100.0 + ((family * 7 + j * 13) % 11) as f64 * 90.0 * (1 + family % 3) as f64;
            (c.to_string(), base * (1.0 + 0.01 * ((k + j) % 3) as f64))
        })
        .collect();
    Record::Sample(Sample {
        id,
        originator,
        marking,
        seizure,
        reference_group,
        analysed_ms: T0 + 20 * 86_400_000,
        instrument: "NI-GCMS".into(),
        areas,
    })
}

/// The analysis clock of every generated scenario.
pub const NOW: &str = "2026-02-15T00:00:00Z";

/// Writes records as one CSV file per kind under `dir`, in a fixed kind order; returns the
/// files in that order.
pub fn write_files(dir: &std::path::Path, records: &[Record]) -> Vec<std::path::PathBuf> {
    let order = [
        Kind::Place,
        Kind::Party,
        Kind::Vehicle,
        Kind::Consignment,
        Kind::Custody,
        Kind::Report,
        Kind::Sample,
        Kind::Observation,
    ];
    std::fs::create_dir_all(dir).unwrap();
    let mut files = Vec::new();
    for k in order {
        let path = dir.join(format!("{}.csv", k.as_str()));
        let mut w =
            rastro_ingest::CsvWriter::new(std::fs::File::create(&path).unwrap(), k).unwrap();
        for r in records.iter().filter(|r| r.kind() == k) {
            w.write(r).unwrap();
        }
        drop(w);
        files.push(path);
    }
    files
}

/// Whether organisation `org` may see a record (the policy's rule, stated independently here
/// from the organisations of [`ORGS`]): its own records; CLEAR and GREEN; AMBER for the
/// originator's nation; AMBER+STRICT and RED for the originator; and whoever the list names.
pub fn visible_to(org: &str, r: &Record) -> bool {
    let nation_of = |o: &str| ORGS.iter().find(|x| x.0 == o).map(|x| x.1).unwrap_or("MX");
    let nation = nation_of(org);
    let m = r.marking();
    if r.originator() == org || m.tlp <= Tlp::Green {
        return true;
    }
    let default = match m.tlp {
        Tlp::Amber => nation_of(r.originator()) == nation,
        _ => false,
    };
    default || m.releasable_to.contains(org) || m.releasable_to.contains(nation)
}

/// A marking by index: originator `org` of [`ORGS`], TLP code, releasable-to indices.
pub fn marking(org: usize, tlp: u8, rel: &[usize]) -> Mark {
    Mark {
        org,
        tlp,
        rel: rel.iter().copied().collect(),
    }
}

/// Weak reports (seizures) scattered over the city, the `k`-th marked `mark_of(k)`: the
/// background a hot spot stands out of.
/// Reports at the laboratory, one per `(mark, kind, jitter)`.
pub fn at_lab(specs: &[(usize, u8, u8)]) -> Vec<ReportSpec> {
    specs
        .iter()
        .map(|&(mark, kind, jitter)| ReportSpec {
            mark,
            kind,
            near_lab: true,
            jitter,
        })
        .collect()
}

pub fn background(mark_of: impl Fn(u8) -> usize) -> Vec<ReportSpec> {
    (0..14u8)
        .map(|k| ReportSpec {
            mark: mark_of(k),
            kind: 2,
            near_lab: false,
            jitter: 20 + k * 17,
        })
        .collect()
}

/// A trip from the port to plant 0 of `qty_kg` 100, on the declared route, with every fix
/// under mark 0.
pub fn trip(mark: usize, custody: [usize; 4], consignee: usize, vehicle: usize) -> TripSpec {
    TripSpec {
        mark,
        custody,
        consignee,
        vehicle,
        dest: 0,
        qty_kg: 100,
        short: false,
        to_lab: false,
        dark: false,
        fix_marks: vec![0],
        undeclared: false,
        transfer: false,
    }
}

pub fn party(mark: usize, phone: u8, address: u8) -> PartySpec {
    PartySpec {
        mark,
        phone,
        address,
        recent: false,
    }
}

/// A scenario that is not generated: every kind of hidden input at once (the cases in
/// one), known to produce alerts of several typologies and a lead for the operator.
pub fn dense() -> Scenario {
    let s = Scenario {
        marks: vec![
            marking(0, 2, &[1]), // ANAM AMBER REL US: partners see it
            marking(1, 4, &[]),  // SEMAR RED
            marking(0, 2, &[]),  // ANAM AMBER
            marking(2, 3, &[]),  // FGR AMBER+STRICT
            marking(3, 2, &[]),  // DEA AMBER
        ],
        parties: vec![
            PartySpec {
                mark: 0,
                phone: 0,
                address: 1,
                recent: true,
            },
            PartySpec {
                mark: 1,
                phone: 0,
                address: 2,
                recent: false,
            },
            PartySpec {
                mark: 0,
                phone: 1,
                address: 1,
                recent: true,
            },
        ],
        vehicles: vec![
            VehicleSpec {
                mark: 1,
                carrier: 0,
            },
            VehicleSpec {
                mark: 0,
                carrier: 1,
            },
        ],
        trips: vec![
            TripSpec {
                qty_kg: 60,
                short: true,
                to_lab: true,
                fix_marks: vec![0, 1],
                ..trip(0, [0, 1, 1, 0], 0, 0)
            },
            TripSpec {
                dest: 1,
                qty_kg: 70,
                to_lab: true,
                dark: true,
                fix_marks: vec![3, 0],
                ..trip(0, [0, 0, 0, 0], 2, 1)
            },
            TripSpec {
                qty_kg: 90,
                fix_marks: vec![2],
                undeclared: true,
                ..trip(2, [2, 2, 1, 2], 1, 1)
            },
        ],
        reports: vec![
            ReportSpec {
                mark: 1,
                kind: 0,
                near_lab: true,
                jitter: 1,
            },
            ReportSpec {
                mark: 3,
                kind: 1,
                near_lab: true,
                jitter: 9,
            },
            ReportSpec {
                mark: 0,
                kind: 0,
                near_lab: true,
                jitter: 30,
            },
            ReportSpec {
                mark: 4,
                kind: 0,
                near_lab: true,
                jitter: 60,
            },
            // Weak reports scattered over the city: the background a hot spot stands out of.
            ReportSpec {
                mark: 0,
                kind: 2,
                near_lab: false,
                jitter: 10,
            },
            ReportSpec {
                mark: 1,
                kind: 2,
                near_lab: false,
                jitter: 70,
            },
            ReportSpec {
                mark: 2,
                kind: 2,
                near_lab: false,
                jitter: 130,
            },
            ReportSpec {
                mark: 0,
                kind: 2,
                near_lab: false,
                jitter: 190,
            },
            ReportSpec {
                mark: 3,
                kind: 2,
                near_lab: false,
                jitter: 250,
            },
        ],
    };
    // More of them, so that the study area is large beside the Gi* band (a hot spot stands
    // out of a background, not of nothing).
    let mut s = s;
    s.reports.extend(background(|k| k as usize));
    s
}
