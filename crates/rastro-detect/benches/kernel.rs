//! Detection kernel throughput: every per-consignment detector over long synthetic tracks, no
//! I/O, one core. The goal is 2,000,000 observations per second.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rastro_core::geo::destination;
use rastro_core::{
    Cas, Catalogue, Consignment, Country, Custody, CustodyKind, HsCode, Marking, ObservationSource,
    Place, PlaceKind, Position, Tlp, UnLocode, Unit,
};
use rastro_detect::{analyse, Case, Config, Context};
use rastro_geo::Geography;
use rastro_track::Fix;

const T0: i64 = 1_772_000_000_000;

fn fixes(n: usize) -> Vec<Fix> {
    // Manzanillo to Guadalajara and back, repeatedly, at highway speed with GPS jitter, with a
    // 30-minute stop (at the same place) every 500 fixes: a continuous, realistic track.
    let a = Position {
        lat: 19.06,
        lon: -104.30,
    };
    let b = Position {
        lat: 20.6597,
        lon: -103.3496,
    };
    let mut out = Vec::with_capacity(n);
    let (mut t, mut f, mut dir) = (T0, 0.0f64, 1.0f64);
    for i in 0..n {
        if i % 500 >= 30 {
            f += dir / 240.0;
            if !(0.0..=1.0).contains(&f) {
                dir = -dir;
                f = f.clamp(0.0, 1.0);
            }
        }
        let p = Position {
            lat: a.lat + (b.lat - a.lat) * f,
            lon: a.lon + (b.lon - a.lon) * f,
        };
        let p = destination(p, (i * 37 % 360) as f64, 8.0);
        t += 60_000;
        out.push(Fix {
            obs_id: format!("O{i}").into(),
            t_ms: t,
            lat: p.lat,
            lon: p.lon,
            source: ObservationSource::Gps,
            accuracy_m: Some(8.0),
            marking: Marking::new(Tlp::Amber).into(),
        });
    }
    out
}

fn bench(c: &mut Criterion) {
    let geo = Geography::mexico();
    let catalogue = Catalogue::builtin();
    let config = Config::default();
    let dest = Place {
        id: "SITE".into(),
        originator: "ANAM".into(),
        marking: Marking::new(Tlp::Amber),
        place_kind: PlaceKind::Customer,
        name: "Planta".into(),
        position: Position {
            lat: 20.66,
            lon: -103.32,
        },
        radius_m: 300.0,
        locode: None,
        country: Country::parse("MX").unwrap(),
        operator: None,
        land_use: None,
        opening_hours: None,
        utc_offset_min: None,
    };
    let known: Vec<Place> = (0..200)
        .map(|i| Place {
            id: format!("K{i}"),
            place_kind: PlaceKind::RestStop,
            position: destination(dest.position, i as f64, 50_000.0 + i as f64 * 100.0),
            ..dest.clone()
        })
        .collect();
    let ctx = Context {
        geo: &geo,
        catalogue: &catalogue,
        known_places: &known,
        config: &config,
        normal: None,
    };
    let cons = Consignment {
        id: "C1".into(),
        originator: "ANAM".into(),
        marking: Marking::new(Tlp::Amber),
        declaration: "D".into(),
        cas: Cas::parse("39742-60-4").unwrap(),
        hs: HsCode::parse("2933.37").unwrap(),
        description: String::new(),
        quantity: 100.0,
        unit: Unit::Kg,
        importer: "P".into(),
        consignee: "P".into(),
        destination: "SITE".into(),
        port: UnLocode::parse("MXZLO").unwrap(),
        vessel_imo: None,
        container: None,
        arrival_ms: T0 - 1,
        vessel_mmsi: None,
        route: Vec::new(),
        corridor_m: None,
        trip: None,
    };
    let custody = vec![Custody {
        id: "E1".into(),
        originator: "ANAM".into(),
        marking: Marking::new(Tlp::Amber),
        consignment: "C1".into(),
        event: CustodyKind::Loaded,
        time_ms: T0,
        place: None,
        position: None,
        vehicle: Some("V".into()),
        party: None,
        quantity: None,
        unit: None,
        cas_found: None,
        to_vehicle: None,
    }];
    let n = 200_000;
    let track = fixes(n);
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_function("analyse_200k_fixes", |b| {
        // Building the input (cloning the fixes) is setup, not detection: excluded from timing.
        b.iter_batched(
            || track.clone(),
            |fixes| {
                let case = Case {
                    consignment: &cons,
                    custody: &custody,
                    destination: Some(&dest),
                    consignee: None,
                    vehicle: None,
                    fixes,
                    prior_consignments: 1,
                    other_drops: Vec::new(),
                    named: Vec::new(),
                    carrier: 0,
                    now_ms: T0,
                };
                analyse(case, &ctx)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
