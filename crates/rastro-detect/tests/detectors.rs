//! Hand-made cases for every typology: one that must fire and a look-alike that must not.

use rastro_core::geo::destination;
use rastro_core::{
    Alert, Cas, Catalogue, Consignment, Country, Custody, CustodyKind, HsCode, Marking,
    ObservationSource, Party, PartyKind, Place, PlaceKind, Position, Report, ReportKind, Tlp,
    Typology, UnLocode, Unit, Vehicle,
};
use rastro_detect::consignment::Named;
use rastro_detect::{
    analyse, convergence, structuring, Case, Config, Context, FleetItem, SuspiciousPoint,
};
use rastro_geo::Geography;
use rastro_track::Fix;

const T0: i64 = 1_772_000_000_000;
const PORT: Position = Position {
    lat: 19.06,
    lon: -104.30,
};
const MANZANILLO: Position = Position {
    lat: 19.1138,
    lon: -104.3385,
};
const COLIMA: Position = Position {
    lat: 19.2452,
    lon: -103.7241,
};
const GUADALAJARA: Position = Position {
    lat: 20.6597,
    lon: -103.3496,
};
const URUAPAN: Position = Position {
    lat: 19.4194,
    lon: -102.0583,
};

fn amber() -> Marking {
    Marking::new(Tlp::Amber)
}

fn site() -> Place {
    Place {
        id: "SITE".into(),
        originator: "ANAM".into(),
        marking: amber(),
        place_kind: PlaceKind::Customer,
        name: "Planta".into(),
        position: destination(GUADALAJARA, 90.0, 3000.0),
        radius_m: 300.0,
        locode: None,
        country: Country::parse("MX").unwrap(),
        operator: None,
        land_use: None,
        opening_hours: None,
        utc_offset_min: None,
    }
}

fn party_p1() -> Party {
    Party {
        id: "P1".into(),
        originator: "ANAM".into(),
        marking: amber(),
        party_kind: PartyKind::Organisation,
        name: "Química Uno".into(),
        rfc: None,
        country: Country::parse("MX").unwrap(),
        address: Some("Av. Industria 1, Parque Industrial Norte".into()),
        city: None,
        phone: None,
        registered: chrono::NaiveDate::from_ymd_opt(2010, 1, 1),
        licence: None,
        watch_list: None,
        relations: Vec::new(),
    }
}

fn consignment() -> Consignment {
    Consignment {
        id: "C1".into(),
        originator: "ANAM".into(),
        marking: amber(),
        declaration: "D1".into(),
        cas: Cas::parse("39742-60-4").unwrap(),
        hs: HsCode::parse("2933.37").unwrap(),
        description: "NPP".into(),
        quantity: 500.0,
        unit: Unit::Kg,
        importer: "P1".into(),
        consignee: "P1".into(),
        destination: "SITE".into(),
        port: UnLocode::parse("MXZLO").unwrap(),
        vessel_imo: None,
        container: None,
        arrival_ms: T0 - 86_400_000,
        vessel_mmsi: None,
        route: Vec::new(),
        corridor_m: None,
        trip: None,
    }
}

fn event(id: &str, kind: CustodyKind, t_ms: i64, pos: Position) -> Custody {
    Custody {
        id: id.into(),
        originator: "ANAM".into(),
        marking: amber(),
        consignment: "C1".into(),
        event: kind,
        time_ms: t_ms,
        place: None,
        position: Some(pos),
        vehicle: Some("V1".into()),
        party: None,
        quantity: None,
        unit: None,
        cas_found: None,
        to_vehicle: None,
    }
}

/// What a leg of a hand-made trip does.
enum Leg {
    Drive(Position),
    Stop(u32),
    /// Silent for the next drive or stop.
    Dark,
    /// An aerial sighting of the vehicle, now, at a position (whatever its tracker does).
    Sighting(Position),
}

/// GPS fixes every 60 s at 70 km/h along the legs; returns fixes and the end time.
fn track(legs: &[Leg]) -> (Vec<Fix>, i64) {
    let mut fixes = Vec::new();
    let (mut t, mut cur, mut dark) = (T0, PORT, false);
    let mut n = 0;
    let mut emit = |t: i64, p: Position, dark: bool, fixes: &mut Vec<Fix>| {
        n += 1;
        if !dark {
            fixes.push(Fix {
                obs_id: format!("O{n:05}").into(),
                t_ms: t,
                lat: p.lat,
                lon: p.lon,
                source: ObservationSource::Gps,
                accuracy_m: Some(8.0),
                marking: amber().into(),
            });
        }
    };
    for leg in legs {
        match leg {
            Leg::Dark => {
                dark = true;
                continue;
            }
            Leg::Sighting(p) => {
                let k = fixes.len();
                fixes.push(Fix {
                    obs_id: format!("S{k:05}").into(),
                    t_ms: t,
                    lat: p.lat,
                    lon: p.lon,
                    source: ObservationSource::Aerial,
                    accuracy_m: Some(300.0),
                    marking: amber().into(),
                });
                continue;
            }
            Leg::Drive(to) => {
                let d = rastro_core::geo::distance_m(cur, *to);
                let steps = (d / (70_000.0 / 60.0)).ceil().max(1.0) as i64;
                for k in 1..=steps {
                    let f = k as f64 / steps as f64;
                    t += 60_000;
                    emit(
                        t,
                        Position {
                            lat: cur.lat + (to.lat - cur.lat) * f,
                            lon: cur.lon + (to.lon - cur.lon) * f,
                        },
                        dark,
                        &mut fixes,
                    );
                }
                cur = *to;
            }
            Leg::Stop(min) => {
                for k in 0..*min {
                    t += 60_000;
                    let jitter = destination(cur, f64::from(k * 47 % 360), 10.0);
                    emit(t, jitter, dark, &mut fixes);
                }
            }
        }
        dark = false;
    }
    (fixes, t)
}

fn legit_route() -> Vec<Leg> {
    vec![
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(site().position),
    ]
}

struct World {
    geo: Geography,
    catalogue: Catalogue,
    known: Vec<Place>,
    config: Config,
}

fn world() -> World {
    let rest = Place {
        id: "REST".into(),
        place_kind: PlaceKind::RestStop,
        position: Position {
            lat: 19.95,
            lon: -103.54,
        },
        radius_m: 400.0,
        ..site()
    };
    World {
        geo: Geography::mexico(),
        catalogue: Catalogue::builtin(),
        known: vec![rest],
        config: Config::default(),
    }
}

/// Runs the per-consignment detectors and returns the alerts of one typology.
fn check(
    typology: Typology,
    legs: &[Leg],
    tweak: impl FnOnce(&mut Consignment, &mut Vec<Custody>, &mut Place, &mut Party, &mut usize),
) -> Vec<Alert> {
    check_full(typology, legs, tweak, Vec::new(), &[])
}

/// A party named by a report (or on a watch list, with no report), and how it links to the
/// consignee.
type NamedParty = (Party, Option<Report>, Option<&'static str>);

/// As [`check`], with the places where the vehicle drops other consignments of the trip.
fn check_drops(
    typology: Typology,
    legs: &[Leg],
    tweak: impl FnOnce(&mut Consignment, &mut Vec<Custody>, &mut Place, &mut Party, &mut usize),
    other_drops: Vec<Position>,
) -> Vec<Alert> {
    check_full(typology, legs, tweak, other_drops, &[])
}

/// As [`check_drops`], with parties linked to the consignee that reports or lists name.
fn check_full(
    typology: Typology,
    legs: &[Leg],
    tweak: impl FnOnce(&mut Consignment, &mut Vec<Custody>, &mut Place, &mut Party, &mut usize),
    other_drops: Vec<Position>,
    named: &[NamedParty],
) -> Vec<Alert> {
    let w = world();
    let (fixes, end) = track(legs);
    let mut c = consignment();
    let mut dest = site();
    let mut custody = vec![
        event("E-released", CustodyKind::Released, T0 - 3_600_000, PORT),
        event("E-loaded", CustodyKind::Loaded, T0, PORT),
        event("E-delivered", CustodyKind::Delivered, end, dest.position),
    ];
    let mut party = party_p1();
    let mut prior = 3;
    tweak(&mut c, &mut custody, &mut dest, &mut party, &mut prior);
    let vehicle = Vehicle {
        id: "V1".into(),
        originator: "ANAM".into(),
        marking: amber(),
        plate: "ABC1234".into(),
        vehicle_kind: "truck".into(),
        carrier: None,
        report_interval_s: Some(60),
        imo: None,
        mmsi: None,
    };
    let ctx = Context {
        geo: &w.geo,
        catalogue: &w.catalogue,
        known_places: &w.known,
        config: &w.config,
        normal: None,
    };
    let case = Case {
        consignment: &c,
        custody: &custody,
        destination: Some(&dest),
        consignee: Some(&party),
        vehicle: Some(&vehicle),
        fixes,
        prior_consignments: prior,
        other_drops,
        named: named
            .iter()
            .map(|(p, r, via)| Named {
                party: p,
                report: r.as_ref(),
                via: via.map(|v| rastro_detect::LinkPath {
                    text: v.to_string(),
                    records: vec![p.id.clone()],
                    marking: p.marking.clone(),
                }),
            })
            .collect(),
        carrier: 0,
        now_ms: end + 86_400_000,
    };
    analyse(case, &ctx)
        .alerts
        .into_iter()
        .filter(|a| a.typology == typology)
        .collect()
}

fn none(_: &mut Consignment, _: &mut Vec<Custody>, _: &mut Place, _: &mut Party, _: &mut usize) {}

#[test]
fn a_legitimate_trip_raises_nothing() {
    for t in Typology::ALL {
        assert!(
            check(t, &legit_route(), none).is_empty(),
            "{t} fired on a clean trip"
        );
    }
}

#[test]
fn route_deviation() {
    let detour = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(URUAPAN),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(site().position),
    ];
    let a = check(Typology::RouteDeviation, &detour, none);
    assert_eq!(a.len(), 1);
    assert!(a[0].score >= 0.5 && a[0].evidence.len() >= 3, "{a:?}");
    // Look-alike: a 6 km wander inside Guadalajara stays within the corridor.
    let wander = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(destination(GUADALAJARA, 0.0, 6000.0)),
        Leg::Drive(site().position),
    ];
    assert!(check(Typology::RouteDeviation, &wander, none).is_empty());
}

#[test]
fn unscheduled_stop() {
    let in_colima = destination(COLIMA, 200.0, 3000.0);
    let stop = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(in_colima),
        Leg::Stop(60),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(site().position),
    ];
    let a = check(Typology::UnscheduledStop, &stop, none);
    assert_eq!(a.len(), 1, "{a:?}");
    assert!(a[0].summary.contains("Colima"), "{}", a[0].summary);
    // Look-alikes: the same hour at a known rest stop, and a breakdown on the open road.
    let rest = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(Position {
            lat: 19.95,
            lon: -103.54,
        }),
        Leg::Stop(60),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(site().position),
    ];
    assert!(check(Typology::UnscheduledStop, &rest, none).is_empty());
    let rural = Position {
        lat: 19.6,
        lon: -103.62,
    };
    let breakdown = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(rural),
        Leg::Stop(120),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(site().position),
    ];
    assert!(check(Typology::UnscheduledStop, &breakdown, none).is_empty());
}

#[test]
fn a_wait_at_the_gate_and_a_second_drop_are_not_unscheduled_stops() {
    let gate = destination(site().position, 270.0, 900.0);
    // Overnight at the gate, then in: a wait for the plant to open.
    let overnight = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(gate),
        Leg::Stop(8 * 60),
        Leg::Drive(site().position),
    ];
    let a = check(Typology::UnscheduledStop, &overnight, none);
    assert!(a.is_empty(), "{a:?}");
    // Look-alike: the same stop, then 20 km away and back: not a wait for the gate.
    let away = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(gate),
        Leg::Stop(60),
        Leg::Drive(destination(site().position, 0.0, 20_000.0)),
        Leg::Drive(site().position),
    ];
    assert_eq!(check(Typology::UnscheduledStop, &away, none).len(), 1);
    // An hour 2.5 km from the plant on the way in is a detour, not a wait at its gate.
    let nearby = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(destination(site().position, 270.0, 2500.0)),
        Leg::Stop(60),
        Leg::Drive(site().position),
    ];
    assert_eq!(check(Typology::UnscheduledStop, &nearby, none).len(), 1);
    // A multi-drop truck: an hour in Colima where it delivers another consignment of the trip.
    let in_colima = destination(COLIMA, 200.0, 3000.0);
    let two_drops = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(in_colima),
        Leg::Stop(60),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(site().position),
    ];
    let near_drop = destination(in_colima, 45.0, 300.0);
    assert!(check_drops(Typology::UnscheduledStop, &two_drops, none, vec![near_drop]).is_empty());
    // The same stop with the other drop in another town is still unexplained.
    assert_eq!(
        check_drops(Typology::UnscheduledStop, &two_drops, none, vec![URUAPAN]).len(),
        1
    );
}

#[test]
fn tracking_gap() {
    let dark_stop = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Dark,
        Leg::Stop(90),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(site().position),
    ];
    let a = check(Typology::TrackingGap, &dark_stop, none);
    assert_eq!(a.len(), 1, "{a:?}");
    // Seen from the air halfway through the silence, 3 km off the road: that is where the
    // alert stands, with the sighting as evidence.
    let hideout = destination(COLIMA, 90.0, 3000.0);
    let seen = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Dark,
        Leg::Drive(hideout),
        Leg::Dark,
        Leg::Stop(45),
        Leg::Sighting(hideout),
        Leg::Dark,
        Leg::Stop(45),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(site().position),
    ];
    let a = check(Typology::TrackingGap, &seen, none);
    assert_eq!(a.len(), 1, "{a:?}");
    let at = Position {
        lat: a[0].lat.unwrap(),
        lon: a[0].lon.unwrap(),
    };
    assert!(rastro_core::geo::distance_m(at, hideout) < 100.0, "{at:?}");
    assert!(
        a[0].evidence.iter().any(|e| e.starts_with('S')),
        "{:?}",
        a[0].evidence
    );
    // Look-alike: the tracker dies for 90 minutes while the truck keeps driving.
    let battery = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Dark,
        Leg::Drive(destination(COLIMA, 20.0, 100_000.0)),
        Leg::Drive(GUADALAJARA),
        Leg::Drive(site().position),
    ];
    assert!(check(Typology::TrackingGap, &battery, none).is_empty());
}

#[test]
fn undeclared_destination() {
    let far = destination(site().position, 180.0, 30_000.0);
    let a = check(
        Typology::UndeclaredDestination,
        &legit_route(),
        |_, custody, _, _, _| custody[2].position = Some(far),
    );
    assert_eq!(a.len(), 1);
    assert!(a[0].evidence.contains(&"E-delivered".to_string()));
    let near = destination(site().position, 180.0, 400.0);
    assert!(check(
        Typology::UndeclaredDestination,
        &legit_route(),
        |_, custody, _, _, _| custody[2].position = Some(near)
    )
    .is_empty());
}

#[test]
fn a_delivery_event_without_coordinates_does_not_override_the_gps() {
    // The track ends in Uruapan, 180 km from the plant, and the `delivered` event names the
    // declared place without coordinates: the delivery is where the track ended.
    let elsewhere = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(URUAPAN),
        Leg::Stop(40),
    ];
    let no_position = |_: &mut Consignment,
                       custody: &mut Vec<Custody>,
                       _: &mut Place,
                       _: &mut Party,
                       _: &mut usize| {
        custody[2].position = None;
        custody[2].place = Some("SITE".into());
    };
    let a = check(Typology::UndeclaredDestination, &elsewhere, no_position);
    assert_eq!(a.len(), 1, "{a:?}");
    assert!(a[0].summary.contains("track ends"), "{}", a[0].summary);
    let at = Position {
        lat: a[0].lat.unwrap(),
        lon: a[0].lon.unwrap(),
    };
    assert!(rastro_core::geo::distance_m(at, URUAPAN) < 500.0, "{at:?}");
    // The same event with the declared place's coordinates says the same: the GPS decides.
    let a = check(Typology::UndeclaredDestination, &elsewhere, none);
    assert_eq!(a.len(), 1, "{a:?}");
    // Look-alike: a track that ends at the plant, with the same event.
    assert!(check(Typology::UndeclaredDestination, &legit_route(), no_position).is_empty());
    // A declared transfer to another vehicle after the last fix the case holds: the receiving
    // vehicle was never seen, so the track says nothing about the delivery.
    let transfer = |c: &mut Consignment,
                    custody: &mut Vec<Custody>,
                    p: &mut Place,
                    q: &mut Party,
                    n: &mut usize| {
        no_position(c, custody, p, q, n);
        let at = custody[2].time_ms;
        let mut t = event("E-transfer", CustodyKind::Transfer, at, URUAPAN);
        t.to_vehicle = Some("V2".into());
        custody.push(t);
    };
    assert!(check(Typology::UndeclaredDestination, &elsewhere, transfer).is_empty());
    // A tracker that died hours before the delivery says nothing about where it happened.
    let died = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Dark,
        Leg::Stop(300),
    ];
    assert!(check(Typology::UndeclaredDestination, &died, no_position).is_empty());
    // A sparse tracker whose last fix is a moving truck 8 km before the plant, minutes before
    // the delivery: at its pace it reaches the gate by then, so nothing is undeclared.
    let before_gate = destination(site().position, 270.0, 8000.0);
    let sparse = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(before_gate),
        Leg::Dark,
        Leg::Drive(site().position),
    ];
    assert!(check(Typology::UndeclaredDestination, &sparse, no_position).is_empty());
    // Look-alike: the truck stands at that place instead (it stopped there), then the
    // delivery: the track ends where the goods went.
    let stood = [
        Leg::Drive(MANZANILLO),
        Leg::Drive(COLIMA),
        Leg::Drive(before_gate),
        Leg::Stop(30),
    ];
    let a = check(Typology::UndeclaredDestination, &stood, no_position);
    assert_eq!(a.len(), 1, "{a:?}");
}

fn received(
    q: f64,
) -> impl FnOnce(&mut Consignment, &mut Vec<Custody>, &mut Place, &mut Party, &mut usize) {
    move |_, custody: &mut Vec<Custody>, _, _, _| {
        let mut e = event(
            "E-received",
            CustodyKind::Received,
            T0 + 40_000_000,
            site().position,
        );
        e.quantity = Some(q);
        e.unit = Some(Unit::Kg);
        custody.push(e);
    }
}

#[test]
fn quantity_shortfall() {
    let a = check(Typology::QuantityShortfall, &legit_route(), received(400.0));
    assert_eq!(a.len(), 1);
    assert!((a[0].score - 0.7).abs() < 1e-9, "{}", a[0].score);
    assert!(check(Typology::QuantityShortfall, &legit_route(), received(498.5)).is_empty());
}

#[test]
fn mis_declaration() {
    let a = check(Typology::MisDeclaration, &legit_route(), |c, _, _, _, _| {
        c.hs = HsCode::parse("2942.00").unwrap()
    });
    assert_eq!(a.len(), 1);
    assert!(a[0].summary.contains("2933.37"), "{}", a[0].summary);
    let b = check(
        Typology::MisDeclaration,
        &legit_route(),
        |c, custody, _, _, _| {
            c.cas = Cas::parse("100-51-6").unwrap();
            c.hs = HsCode::parse("2906.21").unwrap();
            let mut e = event("E-inspected", CustodyKind::Inspected, T0 - 7_200_000, PORT);
            e.cas_found = Some(Cas::parse("21409-26-7").unwrap());
            custody.push(e);
        },
    );
    assert_eq!(b.len(), 1);
    assert!(
        b[0].score > 0.9 && b[0].summary.contains("ANPP"),
        "{}",
        b[0].summary
    );
    // Look-alike: an inspection that finds what was declared.
    assert!(check(
        Typology::MisDeclaration,
        &legit_route(),
        |_, custody, _, _, _| {
            let mut e = event("E-inspected", CustodyKind::Inspected, T0 - 7_200_000, PORT);
            e.cas_found = Some(Cas::parse("39742-60-4").unwrap());
            custody.push(e);
        }
    )
    .is_empty());
}

#[test]
fn front_consignee() {
    let a = check(
        Typology::FrontConsignee,
        &legit_route(),
        |c, _, dest, party, prior| {
            party.registered =
                chrono::DateTime::from_timestamp_millis(c.arrival_ms - 30 * 86_400_000)
                    .map(|d| d.date_naive());
            dest.place_kind = PlaceKind::Residence;
            *prior = 0;
        },
    );
    assert_eq!(a.len(), 1);
    assert!(a[0].score >= 0.9);
    // Look-alike: a new, legitimate customer at an industrial site.
    assert!(check(
        Typology::FrontConsignee,
        &legit_route(),
        |c, _, _, party, prior| {
            party.registered =
                chrono::DateTime::from_timestamp_millis(c.arrival_ms - 30 * 86_400_000)
                    .map(|d| d.date_naive());
            *prior = 0;
        }
    )
    .is_empty());
}

#[test]
fn front_consignee_reads_mexican_addresses() {
    // A new company with no imports yet, at a customer site the registry does not classify:
    // the consignee's address decides whether the destination is residential.
    let new_at = |address: &'static str| {
        move |c: &mut Consignment,
              _: &mut Vec<Custody>,
              _: &mut Place,
              party: &mut Party,
              prior: &mut usize| {
            party.registered =
                chrono::DateTime::from_timestamp_millis(c.arrival_ms - 30 * 86_400_000)
                    .map(|d| d.date_naive());
            party.address = Some(address.into());
            *prior = 0;
        }
    };
    // "Col. Industrial": a colonia built for industry, not a home.
    for a in [
        "Calle 5 No. 1450, Col. Industrial, C.P. 44940, Guadalajara, Jal.",
        "AV PONIENTE 150 COL INDUSTRIAL VALLEJO AZCAPOTZALCO",
    ] {
        assert!(
            check(Typology::FrontConsignee, &legit_route(), new_at(a)).is_empty(),
            "{a}"
        );
    }
    // "Fracc.": a housing development.
    for a in [
        "Privada de los Pinos #23, Fracc. Las Fuentes, Culiacán, Sin.",
        "CALLE ENCINO 4 FRACCIONAMIENTO JARDINES DEL VALLE",
    ] {
        let found = check(Typology::FrontConsignee, &legit_route(), new_at(a));
        assert_eq!(found.len(), 1, "{a}");
        assert!(
            found[0].summary.contains("residential"),
            "{}",
            found[0].summary
        );
    }
}

#[test]
fn a_party_named_in_a_report_through_a_shared_phone_is_evidence() {
    // A new company with no imports, at an industrial address: not enough for an alert.
    let new = |c: &mut Consignment,
               _: &mut Vec<Custody>,
               _: &mut Place,
               party: &mut Party,
               prior: &mut usize| {
        party.registered = chrono::DateTime::from_timestamp_millis(c.arrival_ms - 30 * 86_400_000)
            .map(|d| d.date_naive());
        *prior = 0;
    };
    assert!(check(Typology::FrontConsignee, &legit_route(), new).is_empty());
    // A prosecutor's report names another company sharing the consignee's phone.
    let other = Party {
        id: "P9".into(),
        name: "Distribuidora Nueve".into(),
        phone: Some("+52 33 123 4567".into()),
        ..party_p1()
    };
    let report = Report {
        id: "R1".into(),
        originator: "FGR".into(),
        marking: Marking::new(Tlp::Red),
        report_kind: ReportKind::Other,
        time_ms: T0 - 86_400_000,
        position: None,
        reliability: 'B',
        credibility: 2,
        subjects: vec!["P9".into()],
        summary: "investigation".into(),
        quantity_kg: None,
        profile: Vec::new(),
        valid_until_ms: None,
        precision_m: None,
    };
    let named = [(other.clone(), Some(report), Some("phone 3312345678"))];
    let a = check_full(
        Typology::FrontConsignee,
        &legit_route(),
        new,
        Vec::new(),
        &named,
    );
    assert_eq!(a.len(), 1, "{a:?}");
    assert!(
        a[0].summary.contains("P9")
            && a[0].summary.contains("phone 3312345678")
            && a[0].summary.contains("R1"),
        "{}",
        a[0].summary
    );
    assert!(a[0].evidence.contains(&"R1".to_string()) && a[0].evidence.contains(&"P9".to_string()));
    // The report's marking travels with the alert.
    assert_eq!(a[0].marking.tlp, Tlp::Red);
    // A watch list on the consignee itself counts the same way.
    let listed = Party {
        watch_list: Some("UIF lista de personas bloqueadas".into()),
        ..party_p1()
    };
    let a = check_full(
        Typology::FrontConsignee,
        &legit_route(),
        new,
        Vec::new(),
        &[(listed, None, None)],
    );
    assert_eq!(a.len(), 1, "{a:?}");
    assert!(
        a[0].summary.contains("itself on watch list"),
        "{}",
        a[0].summary
    );
}

fn item(id: &str, kg: f64, cluster: &str, day: i64) -> FleetItem {
    FleetItem {
        consignment: id.into(),
        cas: Cas::parse("41661-47-6").unwrap(),
        quantity_kg: Some(kg),
        consignee: format!("P-{id}"),
        consignee_cluster: cluster.into(),
        arrival_ms: T0 + day * 86_400_000,
        marking: amber(),
    }
}

/// Links that say how two records are linked, as entity resolution does.
struct Says;
impl rastro_detect::PartyLinks for Says {
    fn cluster(&self, id: &str) -> String {
        id.to_string()
    }
    fn explain(&self, a: &str, b: &str) -> Option<rastro_detect::LinkPath> {
        Some(rastro_detect::LinkPath {
            text: format!("{a}–{b}: phone 3312345678"),
            records: vec![a.to_string(), "P-LINK".into(), b.to_string()],
            marking: Marking::new(Tlp::Red),
        })
    }
}

#[test]
fn structuring_of_linked_small_imports() {
    let cfg = Config::default();
    let cat = Catalogue::builtin();
    let linked = [
        item("A", 40.0, "K", 0),
        item("B", 45.0, "K", 7),
        item("C", 35.0, "K", 15),
    ];
    let a = structuring(&linked, &cat, &cfg, &Says);
    assert_eq!(
        a.iter().map(|x| x.subject.as_str()).collect::<Vec<_>>(),
        ["A", "B", "C"]
    );
    // Each alert names the links that made the importers one group, holds the records they
    // pass through as evidence, and carries their marking.
    assert!(
        a[0].summary
            .contains("linked by P-A–P-B: phone 3312345678; P-A–P-C: phone"),
        "{}",
        a[0].summary
    );
    assert!(
        a[0].evidence.contains(&"P-LINK".to_string()),
        "{:?}",
        a[0].evidence
    );
    assert_eq!(a[0].marking.tlp, Tlp::Red);
    // Look-alikes: the same imports by unlinked parties, or linked ones months apart.
    let unlinked = [
        item("A", 40.0, "K1", 0),
        item("B", 45.0, "K2", 7),
        item("C", 35.0, "K3", 15),
    ];
    assert!(structuring(&unlinked, &cat, &cfg, &Says).is_empty());
    let apart = [
        item("A", 40.0, "K", 0),
        item("B", 45.0, "K", 60),
        item("C", 35.0, "K", 120),
    ];
    assert!(structuring(&apart, &cat, &cfg, &Says).is_empty());
}

fn point(c: &str, p: Position) -> SuspiciousPoint {
    SuspiciousPoint {
        alert: format!("a-{c}"),
        consignment: c.into(),
        lat: p.lat,
        lon: p.lon,
        time_ms: T0,
        marking: Marking::new(Tlp::Amber),
        corroboration: Some(rastro_detect::Corroboration {
            alert: format!("quantity_shortfall:{c}"),
            marking: Marking::new(Tlp::Red),
        }),
    }
}

/// A stop of a consignment with no other sign of diversion.
fn bare_point(c: &str, p: Position) -> SuspiciousPoint {
    SuspiciousPoint {
        corroboration: None,
        ..point(c, p)
    }
}

#[test]
fn convergence_of_different_consignments() {
    let cfg = Config::default();
    let lab = destination(GUADALAJARA, 45.0, 4000.0);
    let a = convergence(
        &[point("C1", lab), point("C2", destination(lab, 90.0, 600.0))],
        &cfg,
    );
    assert_eq!(a.len(), 1);
    assert_eq!(
        a[0].marking.tlp,
        Tlp::Red,
        "derived alerts carry the most restrictive marking, the corroborations' included"
    );
    assert!(a[0].evidence.contains(&"quantity_shortfall:C1".to_string()));
    // Stops alone (an unlisted truck stop the model has not learned looks the same): two or
    // three do not alert, four do, and say that nothing else corroborates them.
    let near = |k: usize| destination(lab, 90.0, 200.0 * k as f64);
    let bare: Vec<SuspiciousPoint> = (0..4)
        .map(|k| bare_point(&format!("B{k}"), near(k)))
        .collect();
    assert!(convergence(&bare[..2], &cfg).is_empty());
    assert!(convergence(&bare[..3], &cfg).is_empty());
    let four = convergence(&bare, &cfg);
    assert_eq!(four.len(), 1);
    assert!(four[0].score >= cfg.alert_threshold);
    assert!(
        four[0].summary.contains("none with another sign"),
        "{}",
        four[0].summary
    );
    // One corroborated stop among them restores the full score.
    let mut mixed = bare[..2].to_vec();
    mixed[0].corroboration = point("B0", lab).corroboration;
    assert!(convergence(&mixed, &cfg)[0].score >= cfg.alert_threshold);
    assert!(convergence(
        &[
            point("C1", lab),
            point("C2", destination(lab, 90.0, 10_000.0))
        ],
        &cfg
    )
    .is_empty());
    assert!(convergence(
        &[point("C1", lab), point("C1", destination(lab, 90.0, 300.0))],
        &cfg
    )
    .is_empty());
}
