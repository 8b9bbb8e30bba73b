//! Simulator properties: determinism, configured rates, and what it writes being exactly what
//! ingest accepts.

use rastro_sim::{run, Config};
use std::collections::BTreeMap;
use std::path::Path;

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for sub in ["", "truth"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap().flatten() {
            if e.path().is_file() {
                out.insert(
                    format!("{sub}/{}", e.file_name().to_string_lossy()),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut cfg = Config::default_config();
    cfg.consignments = 120;
    run(&cfg, a.path()).unwrap();
    run(&cfg, b.path()).unwrap();
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert_eq!(fa.len(), 15, "{:?}", fa.keys());
    for (name, bytes) in &fa {
        assert!(
            fb.get(name) == Some(bytes),
            "{name} differs between two runs with the same seed"
        );
    }
    cfg.seed += 1;
    run(&cfg, c.path()).unwrap();
    assert_ne!(
        files(c.path())["/observations.csv"],
        fa["/observations.csv"]
    );
}

#[test]
fn each_typology_appears_at_its_configured_rate() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::default_config();
    cfg.consignments = 4000;
    cfg.period_days = 120;
    cfg.labs = 20;
    let s = run(&cfg, dir.path()).unwrap();
    let d = &cfg.diversion;
    let n = cfg.consignments as f64;
    // Expected consignments per typology from the scenario rates (BRIEF section 7 labels each
    // scenario produces; a structuring group holds 3-5 imports, 4 on average).
    let shortfall = d.detour_to_lab + d.stop_en_route + d.dark_stop;
    let expected = [
        ("unscheduled_stop", d.detour_to_lab + d.stop_en_route),
        ("tracking_gap", d.dark_stop),
        ("quantity_shortfall", shortfall),
        ("mis_declaration", d.misdeclared),
        ("front_consignee", d.front_consignee),
        ("structuring", d.structuring * 4.0),
        ("undeclared_destination", d.undeclared_delivery),
    ];
    for (t, rate) in expected {
        let got = *s.by_typology.get(t).unwrap_or(&0) as f64;
        let want = rate * n;
        assert!(
            (got - want).abs() <= 0.35 * want + 3.0,
            "{t}: {got} consignments, expected about {want:.0}"
        );
    }
    // Route deviation: every trip that reaches a lab with its tracker on (detours, stops en
    // route, undeclared deliveries), since labs lie away from the highways.
    let rd = *s.by_typology.get("route_deviation").unwrap_or(&0) as f64;
    let want = (d.detour_to_lab + d.stop_en_route + d.undeclared_delivery) * n;
    assert!(
        (rd - want).abs() <= 0.35 * want + 3.0,
        "route_deviation {rd}, expected about {want:.0}"
    );
    assert!(s.observations > 1_000_000, "{}", s.observations);
}

#[test]
fn everything_written_is_accepted_by_the_readers() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::default_config();
    cfg.consignments = 60;
    // Enough flights that some are the partner's.
    cfg.trucks.aerial_prob = 1.0;
    run(&cfg, dir.path()).unwrap();
    for name in [
        "parties",
        "places",
        "consignments",
        "vehicles",
        "custody",
        "observations",
        "partner-observations",
        "reports",
    ] {
        let f = std::fs::File::open(dir.path().join(format!("{name}.csv"))).unwrap();
        let mut r = rastro_ingest::open(std::io::BufReader::new(f), name, None).unwrap();
        let mut n = 0;
        while let Some(item) = r.next_item().unwrap() {
            match item {
                rastro_ingest::Item::Record { .. } => n += 1,
                rastro_ingest::Item::Quarantine(q) => {
                    panic!("simulator wrote a record ingest rejects: {q}")
                }
            }
        }
        assert!(n > 0, "{name} is empty");
    }
    for truth in ["diversions", "labs", "entities", "seizures", "noise"] {
        let f = std::fs::File::open(dir.path().join(format!("truth/{truth}.jsonl"))).unwrap();
        assert!(
            rastro_ingest::open(std::io::BufReader::new(f), truth, None).is_err(),
            "truth file {truth} must be refused"
        );
    }
}
