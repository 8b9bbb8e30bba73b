//! End-to-end analysis through the real binary: the demo, idempotent re-runs, incremental
//! runs, observations of unknown subjects, and consignments without observations.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

#[test]
fn demo_prints_an_evaluation_table_for_every_typology() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .args(["demo", "--no-serve", "--dir"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut in_truth = 0;
    for t in rastro_core::Typology::ALL {
        let row = text
            .lines()
            .find(|l| l.starts_with(t.as_str()))
            .unwrap_or_else(|| panic!("no row for {t} in:\n{text}"));
        // Every typology has a row; those the small scenario's truth holds are detected.
        // (The simulator does not yet stage transshipments: that row reads "-".)
        let cols: Vec<&str> = row.split_whitespace().collect();
        if cols[1] == "0" {
            assert_eq!(cols[5], "-", "{row}");
            continue;
        }
        in_truth += 1;
        let recall: f64 = cols[5].parse().unwrap_or_else(|_| panic!("{row}"));
        assert!(recall >= 0.5, "{row}");
        // Precision is not asserted per typology here: the small scenario's fleet (8 carriers
        // over 60 days) has not yet been seen resting at the truck stops no registry lists, so
        // those rests raise stop and detour alerts, as they would in a new deployment.
    }
    assert!(in_truth >= 9, "{text}");
    // At most 8% of legitimate consignments alerted on this young fleet (the issue-14 goal of
    // 5% holds at medium scale, where the normal has learned those truck stops: 0.19%,
    // docs/benchmarks.md), and the load on the analysts stated.
    let fa = text
        .lines()
        .find(|l| l.starts_with("false alerts: "))
        .unwrap_or_else(|| panic!("no false-alerts line in:\n{text}"));
    let words: Vec<&str> = fa.split_whitespace().collect();
    let (alerted, legit): (f64, f64) = (words[2].parse().unwrap(), words[4].parse().unwrap());
    assert!(legit > 0.0 && alerted / legit <= 0.08, "{fa}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("alerts per 100 consignments: ")),
        "{text}"
    );
    let leads = text
        .lines()
        .find(|l| l.starts_with("leads: "))
        .unwrap_or_else(|| panic!("no leads line in:\n{text}"));
    assert!(leads.contains("precision@5"), "{leads}");
    // Entity resolution of the party records, against the simulator's entities.
    let er = text
        .lines()
        .find(|l| l.starts_with("entity resolution: "))
        .unwrap_or_else(|| panic!("no entity-resolution line in:\n{text}"));
    let f1: f64 = er
        .split("F1 ")
        .nth(1)
        .and_then(|x| x.split_whitespace().next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("{er}"));
    assert!(f1 >= 0.95, "{er}");
    entities_and_links(&d.join("rastro.db"));
    // An explicit --db is used, and never reused: the demo needs a fresh database.
    let db = dir.path().join("mine.db");
    let d2 = dir.path().join("demo2");
    let run = |db: &Path| {
        Command::new(env!("CARGO_BIN_EXE_rastro"))
            .arg("--db")
            .arg(db)
            .args(["-q", "demo", "--no-serve", "--dir"])
            .arg(&d2)
            .output()
            .unwrap()
    };
    assert!(run(&db).status.success());
    assert!(db.exists() && !d2.join("rastro.db").exists());
    let again = run(&db);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // A second demo replaces the first one's folder.
    let again = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .args(["demo", "--no-serve", "--dir"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        text,
        "the demo is deterministic"
    );
}

/// The link graph of the demo: a structuring alert's importers are connected by a chain of
/// links with the records behind each; a partner who may not see the parties sees no entity.
fn entities_and_links(db: &Path) {
    let rastro = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rastro"))
            .arg("--db")
            .arg(db)
            .args(args)
            .output()
            .unwrap()
    };
    let json = |args: &[&str]| -> serde_json::Value {
        let out = rastro(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let alerts = json(&["-q", "alerts", "--typology", "structuring", "--json"]);
    let list = alerts
        .as_array()
        .or_else(|| alerts["alerts"].as_array())
        .unwrap();
    let a = list
        .iter()
        .find(|a| a["summary"].as_str().unwrap().contains("linked by"))
        .expect("a structuring alert naming its links");
    let parties: Vec<&str> = a["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .filter(|e| e.starts_with("SYN-P-"))
        .collect();
    assert!(parties.len() >= 2, "{a}");
    let path = json(&["-q", "path", parties[0], parties[1], "--json"]);
    let hops = path.as_array().unwrap();
    assert!(!hops.is_empty(), "{parties:?} are linked");
    for h in hops {
        assert!(!h["records"].as_array().unwrap().is_empty(), "{h}");
        assert!(!h["why"].as_str().unwrap().is_empty(), "{h}");
    }
    let e = json(&["-q", "entity", "show", parties[0], "--json"]);
    assert!(e["id"].as_str().unwrap().starts_with("ENT-"), "{e}");
    assert!(
        e["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == parties[0]),
        "{e}"
    );
    let links = json(&["-q", "links", parties[0], "--hops", "2", "--json"]);
    assert!(
        links
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kind"] == "importer" || l["kind"] == "consignee"),
        "{links}"
    );
    let out = rastro(&["-q", "links", parties[0], "--hops", "9"]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("between 1 and 6")
    );
    // The DEA liaison may not see Mexico's AMBER party records: no entity, no links.
    let out = rastro(&["-q", "--as", "enlace-dea", "entity", "show", parties[0]]);
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn analysis_is_idempotent_incremental_and_accounts_for_odd_input() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let cfg = dir.path().join("sim.toml");
    std::fs::write(
        &cfg,
        rastro_sim::DEFAULT_CONFIG.replace("consignments = 300", "consignments = 80"),
    )
    .unwrap();
    let db = dir.path().join("t.db");
    rastro(
        &db,
        &[
            "simulate",
            "--out",
            sim.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ],
    );
    let files: Vec<String> = [
        "places",
        "parties",
        "vehicles",
        "consignments",
        "custody",
        "observations",
        "reports",
    ]
    .iter()
    .map(|k| sim.join(format!("{k}.csv")).display().to_string())
    .collect();
    let mut args = vec!["ingest"];
    args.extend(files.iter().map(String::as_str));
    rastro(&db, &args);
    let now = ["--now", "2026-06-01T00:00:00Z"];
    let first = json(&rastro(&db, &["analyze", "--json", now[0], now[1]]));
    assert_eq!(first["consignments_analysed"], 80);
    let alerts1 = rastro(&db, &["alerts", "--json"]).stdout;
    assert!(
        json(&rastro(&db, &["alerts", "--json"]))
            .as_array()
            .unwrap()
            .len()
            > 3
    );

    // Nothing new: nothing re-analysed, the same alerts.
    let second = json(&rastro(&db, &["analyze", "--json", now[0], now[1]]));
    assert_eq!(second["consignments_analysed"], 0);
    assert_eq!(rastro(&db, &["alerts", "--json"]).stdout, alerts1);
    // A full re-run gives the same alerts too: ids are deterministic, nothing is duplicated.
    let full = json(&rastro(
        &db,
        &["analyze", "--full", "--json", now[0], now[1]],
    ));
    assert_eq!(full["consignments_analysed"], 80);
    assert_eq!(rastro(&db, &["alerts", "--json"]).stdout, alerts1);

    // New data: a consignment with no observations, and observations of an unknown subject.
    let extra_c = dir.path().join("extra_consignments.csv");
    let text = std::fs::read_to_string(sim.join("consignments.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let row = lines
        .next()
        .unwrap()
        .replacen("SYN-C-000001", "EXTRA-C-1", 1);
    std::fs::write(&extra_c, format!("{header}\n{row}\n")).unwrap();
    let extra_o = dir.path().join("extra_obs.csv");
    std::fs::write(&extra_o, "id,originator,tlp,releasable_to,source,subject_kind,subject,time,lat,lon,accuracy_m,confidence\nX-1,ANAM,AMBER,,gps,vehicle,NO-SUCH-TRUCK,2026-02-01T00:00:00Z,19.1,-104.3,8,1\n").unwrap();
    let extra_e = dir.path().join("extra_custody.csv");
    std::fs::write(&extra_e, "id,originator,tlp,releasable_to,consignment,event,time,place,lat,lon,vehicle,party,quantity,unit,cas_found\nGHOST-E1,ANAM,AMBER,,GHOST-C1,released,2026-02-01T00:00:00Z,,,,,,,,\n").unwrap();
    rastro(
        &db,
        &[
            "ingest",
            extra_c.to_str().unwrap(),
            extra_o.to_str().unwrap(),
            extra_e.to_str().unwrap(),
        ],
    );
    let third = json(&rastro(&db, &["analyze", "--json", now[0], now[1]]));
    assert_eq!(third["consignments_analysed"], 1, "{third}");
    assert_eq!(third["consignments_without_observations"], 1, "{third}");
    assert_eq!(third["unlinked_subjects"], 1, "{third}");
    assert_eq!(third["undeclared_consignment_ids"], 1, "{third}");
    let show = json(&rastro(
        &db,
        &["consignment", "show", "EXTRA-C-1", "--json"],
    ));
    assert_eq!(show["status"], "at_port");
    let show = json(&rastro(
        &db,
        &["consignment", "show", "SYN-C-000002", "--json"],
    ));
    assert_eq!(show["track"]["type"], "Feature");
    assert!(
        show["track"]["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
}

/// GPS rows for `subject` every 60 s along a straight line, from `t0_s` (Unix seconds).
fn drive_rows(subject: &str, from: (f64, f64), to: (f64, f64), t0_s: i64, n: usize) -> String {
    (0..=n)
        .map(|i| {
            let f = i as f64 / n as f64;
            let t = rastro_core::format_time_ms((t0_s + i as i64 * 60) * 1000);
            format!(
                "{subject}-{i},ANAM,AMBER,,gps,vehicle,{subject},{t},{:.5},{:.5},8,1\n",
                from.0 + (to.0 - from.0) * f,
                from.1 + (to.1 - from.1) * f
            )
        })
        .collect()
}

#[test]
fn a_declared_transfer_hands_the_track_to_the_receiving_vehicle() {
    // Loaded on V1 at Manzanillo, transferred to V2 in Colima, delivered in Guadalajara by V2
    // (the delivery event names the plant without coordinates). V1 drives on to Uruapan.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let (port, colima, plant, uruapan) = (
        (19.06, -104.30),
        (19.2452, -103.7241),
        (20.66, -103.32),
        (19.4194, -102.0583),
    );
    let t0 = 1_772_000_000; // 2026-02-25
    let t1 = t0 + 90 * 60;
    let t2 = t1 + 180 * 60;
    let w = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let ts = |s: i64| rastro_core::format_time_ms(s * 1000);
    let files = [
        w("places.csv", format!(
            "id,originator,tlp,releasable_to,place_kind,name,lat,lon,radius_m,locode,country,operator,land_use,opening_hours,utc_offset\n\
             PORT,ANAM,CLEAR,,port,Puerto de Manzanillo,{},{},3000,MXZLO,MX,,,,\n\
             PLANT,ANAM,AMBER,,customer,Planta Uno,{},{},300,,MX,,industrial,,\n",
            port.0, port.1, plant.0, plant.1)),
        w("vehicles.csv", "id,originator,tlp,releasable_to,plate,vehicle_kind,carrier,report_interval_s,imo,mmsi\n\
             V1,ANAM,AMBER,,AAA1111,truck,,60,,\n\
             V2,ANAM,AMBER,,BBB2222,truck,,60,,\n".into()),
        w("consignments.csv", format!(
            "id,originator,tlp,releasable_to,declaration,cas,hs,description,quantity,unit,importer,consignee,destination,port,vessel_imo,container,arrival,vessel_mmsi,route,corridor_m,trip\n\
             C1,ANAM,AMBER,,26 10 3948 0000001,1609-66-1,293339,norfentanyl,500,kg,P1,P1,PLANT,MXZLO,,,{},,,,\n",
            ts(t0 - 86_400))),
        w("custody.csv", format!(
            "id,originator,tlp,releasable_to,consignment,event,time,place,lat,lon,vehicle,party,quantity,unit,cas_found,to_vehicle\n\
             E1,ANAM,AMBER,,C1,released,{},PORT,{},{},,,,,,\n\
             E2,ANAM,AMBER,,C1,loaded,{},PORT,{},{},V1,,,,,\n\
             E3,ANAM,AMBER,,C1,transfer,{},,{},{},V1,,,,,V2\n\
             E4,ANAM,AMBER,,C1,delivered,{},PLANT,,,V2,,,,,\n",
            ts(t0 - 3600), port.0, port.1, ts(t0), port.0, port.1, ts(t1), colima.0, colima.1, ts(t2))),
        w("observations.csv", format!(
            "id,originator,tlp,releasable_to,source,subject_kind,subject,time,lat,lon,accuracy_m,confidence\n{}{}{}{}",
            drive_rows("V1", port, colima, t0, 90),
            drive_rows("V1B", colima, uruapan, t1 + 60, 178).replace(",V1B,", ",V1,"),
            drive_rows("V2", (19.0, -103.9), colima, t1 - 3600, 59),
            drive_rows("V2B", colima, plant, t1, 179).replace(",V2B,", ",V2,"))),
    ];
    let mut args = vec!["ingest"];
    args.extend(files.iter().map(String::as_str));
    rastro(&db, &args);
    rastro(&db, &["analyze", "--json", "--now", "2026-03-01T00:00:00Z"]);
    let show = json(&rastro(&db, &["consignment", "show", "C1", "--json"]));
    let coords = show["track"]["geometry"]["coordinates"]
        .as_array()
        .unwrap_or_else(|| panic!("{show}"));
    // The track is V1 to the transfer, then V2 to the plant: it ends at the plant, and never
    // follows V1 towards Uruapan (east of -103) nor V2 before the transfer.
    let last = coords.last().unwrap();
    let (lon, lat) = (last[0].as_f64().unwrap(), last[1].as_f64().unwrap());
    assert!(
        (lat - plant.0).abs() < 0.01 && (lon - plant.1).abs() < 0.01,
        "{last:?}"
    );
    assert!(
        coords.iter().all(|c| c[0].as_f64().unwrap() < -103.0),
        "the track follows V1 after the transfer: {coords:?}"
    );
    assert_eq!(coords.len(), 91 + 180, "{}", coords.len());
    // Delivered where the declaration says: no undeclared destination, no deviation.
    let alerts = json(&rastro(&db, &["alerts", "--json"]));
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["typology"] != "undeclared_destination"),
        "{alerts}"
    );
}

/// The GPS rows of one trip from the port to the plant, every 60 s, starting at `t0_s`; with
/// `rest`, an hour's stop at `stop` on the way.
fn trip_rows(vehicle: &str, t0_s: i64, rest: Option<(f64, f64)>) -> String {
    let (port, plant) = ((19.06, -104.30), (20.66, -103.32));
    type Leg = ((f64, f64), (f64, f64), usize);
    let mut legs: Vec<Leg> = Vec::new();
    match rest {
        Some(s) => {
            legs.push((port, s, 172));
            legs.push((s, s, 60));
            legs.push((s, plant, 10));
        }
        None => legs.push((port, plant, 182)),
    }
    let mut out = String::new();
    let mut k = 0i64;
    for (from, to, n) in legs {
        for i in 1..=n {
            let f = i as f64 / n as f64;
            k += 1;
            let t = rastro_core::format_time_ms((t0_s + k * 60) * 1000);
            out.push_str(&format!(
                "{vehicle}-{t0_s}-{k},ANAM,AMBER,,gps,vehicle,{vehicle},{t},{:.5},{:.5},8,1\n",
                from.0 + (to.0 - from.0) * f,
                from.1 + (to.1 - from.1) * f
            ));
        }
    }
    out
}

#[test]
fn a_stop_the_fleet_later_shows_to_be_a_truck_stop_is_explained_on_the_next_run() {
    // C0's truck rests an hour in Guadalajara at a place no registry lists. Six carriers are
    // known, none other stops there: an unscheduled stop. Then three other carriers' trucks
    // rest at the same place; the next (incremental) run withdraws C0's alert.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let stop = (20.596, -103.359);
    let day = 86_400;
    let t0 = 1_772_000_000;
    let w = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let ts = |s: i64| rastro_core::format_time_ms(s * 1000);
    let batch = |tag: &str, trips: std::ops::Range<i64>, rest: &dyn Fn(i64) -> bool| {
        let mut v = String::from(
            "id,originator,tlp,releasable_to,plate,vehicle_kind,carrier,report_interval_s,imo,mmsi\n",
        );
        let mut c = String::from("id,originator,tlp,releasable_to,declaration,cas,hs,description,quantity,unit,importer,consignee,destination,port,vessel_imo,container,arrival,vessel_mmsi,route,corridor_m,trip\n");
        let mut e = String::from("id,originator,tlp,releasable_to,consignment,event,time,place,lat,lon,vehicle,party,quantity,unit,cas_found,to_vehicle\n");
        let mut o = String::from(
            "id,originator,tlp,releasable_to,source,subject_kind,subject,time,lat,lon,accuracy_m,confidence\n",
        );
        for k in trips {
            let start = t0 + k * day;
            v.push_str(&format!("V{k},ANAM,AMBER,,AAA{k:04},truck,K{k},60,,\n"));
            c.push_str(&format!("C{k},ANAM,AMBER,,26 10 3948 000000{k},1609-66-1,293339,norfentanyl,500,kg,P1,P1,PLANT,MXZLO,,,{},,,,\n", ts(start - day)));
            e.push_str(&format!(
                "E{k}-1,ANAM,AMBER,,C{k},loaded,{},PORT,19.06,-104.3,V{k},,,,,\n",
                ts(start)
            ));
            let minutes = if rest(k) { 242 } else { 182 };
            e.push_str(&format!(
                "E{k}-2,ANAM,AMBER,,C{k},delivered,{},PLANT,20.66,-103.32,V{k},,,,,\n",
                ts(start + minutes * 60 + 60)
            ));
            o.push_str(&trip_rows(&format!("V{k}"), start, rest(k).then_some(stop)));
        }
        [
            w(&format!("vehicles-{tag}.csv"), v),
            w(&format!("consignments-{tag}.csv"), c),
            w(&format!("custody-{tag}.csv"), e),
            w(&format!("observations-{tag}.csv"), o),
        ]
    };
    let places = w("places.csv", "id,originator,tlp,releasable_to,place_kind,name,lat,lon,radius_m,locode,country,operator,land_use,opening_hours,utc_offset\n\
        PORT,ANAM,CLEAR,,port,Puerto de Manzanillo,19.06,-104.3,3000,MXZLO,MX,,,,\n\
        PLANT,ANAM,AMBER,,customer,Planta Uno,20.66,-103.32,300,,MX,,industrial,,\n".into());
    let now = ["--now", "2026-06-01T00:00:00Z"];
    let stop_alert = |db: &Path| {
        json(&rastro(db, &["alerts", "--json"]))
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["typology"] == "unscheduled_stop" && a["subject"] == "C0")
    };
    let first = batch("a", 0..6, &|k| k == 0);
    let mut args = vec!["ingest", places.as_str()];
    args.extend(first.iter().map(String::as_str));
    rastro(&db, &args);
    rastro(&db, &["analyze", "--json", now[0], now[1]]);
    assert!(
        stop_alert(&db),
        "C0's stop is unscheduled while no other carrier stops there"
    );
    let second = batch("b", 6..9, &|_| true);
    let mut args = vec!["ingest"];
    args.extend(second.iter().map(String::as_str));
    rastro(&db, &args);
    let report = json(&rastro(&db, &["analyze", "--json", now[0], now[1]]));
    assert!(
        !stop_alert(&db),
        "three other carriers rest there now, so C0's stop is a truck stop: {report}"
    );
    assert!(
        report["views"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["explained_stops"].as_u64().unwrap_or(0) >= 1),
        "{report}"
    );
}
