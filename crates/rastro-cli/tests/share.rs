//! STIX 2.1 sharing through the real binary: a bundle for a partner holds exactly what both
//! may read and passes OASIS's `stix2-validator`; the same records give the same bundle; a
//! second node installs it and a re-import changes nothing; a partner cannot speak for another
//! organisation, nor grant a marking it may not; objects of other tools are kept as they came,
//! every version.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// OASIS's validator (PyPI `stix2-validator`, pinned in bench/requirements.txt) on a file:
/// its errors, empty when valid. The validator needs minutes and gigabytes for tens of
/// thousands of objects, so a bundle's observations (one shape, tens of thousands) are
/// validated on their first 200 with the sightings they name; every other object in full.
fn validator_errors(file: &Path) -> Vec<String> {
    let script = r#"
import json, sys, tempfile
from stix2validator import validate_file, ValidationOptions
b = json.load(open(sys.argv[1]))
keep, scos, n = [], set(), 0
for o in b["objects"]:
    if o["type"] == "observed-data":
        n += 1
        if n > 200:
            continue
        scos.update(o["object_refs"])
    keep.append(o)
b["objects"] = [o for o in keep if o["type"] != "x-rastro-sighting" or o["id"] in scos]
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    json.dump(b, f)
r = validate_file(f.name, ValidationOptions())
for o in r.object_results:
    for e in o.errors:
        print(o.object_id, e)
if r.fatal:
    print(r.fatal)
print("VALID" if r.is_valid else "INVALID")
"#;
    let o = std::process::Command::new("python3")
        .args(["-c", script, file.to_str().unwrap()])
        .output()
        .expect("python3 runs (bench/requirements.txt installs stix2-validator)");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "validator failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<String> = out.lines().map(str::to_string).collect();
    assert!(
        matches!(lines.last().map(String::as_str), Some("VALID" | "INVALID")),
        "{out}"
    );
    lines[..lines.len() - 1].to_vec()
}

/// Whether an object's marking is a TLP 2.0 definition that is open (CLEAR, GREEN) or whose
/// releasable-to list names one of `names`.
fn lists(o: &Value, names: &[&str]) -> bool {
    let refs = o["object_marking_refs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rel = o["extensions"]
        .as_object()
        .and_then(|e| e.values().find_map(|x| x.get("releasable_to")))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    refs.iter().all(|r| TLP2.contains(&r.as_str().unwrap()))
        && (refs.iter().all(|r| r == TLP2[0] || r == TLP2[1])
            || rel.iter().any(|x| names.iter().any(|n| x == n)))
}

/// The sum over kinds of an import report's counts (`inserted`, `duplicates`).
fn total(report: &Value, key: &str) -> u64 {
    report[key]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

fn objects(bundle: &Value) -> &Vec<Value> {
    bundle["objects"].as_array().unwrap()
}

const TLP2: [&str; 5] = [
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
];

#[test]
fn a_partner_bundle_holds_what_both_may_read_and_passes_the_validator() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _d) = small_demo(dir.path());
    let out = dir.path().join("for-dea.json");
    let s = json(&rastro(
        &db,
        &[
            "--as",
            "comandante",
            "share",
            "export",
            "--for",
            "DEA",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    ));
    assert!(s["objects"].as_u64().unwrap() > 10, "{s}");
    assert_eq!(validator_errors(&out), Vec::<String>::new());
    let bundle: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    // Every marking is an official TLP 2.0 definition, and each admits DEA.
    for o in objects(&bundle) {
        if o["type"] != "marking-definition" {
            assert!(lists(o, &["DEA", "US"]), "DEA may not read {o}");
        }
    }
    // The host's consignments are AMBER for Mexico: none travels.
    assert!(!objects(&bundle)
        .iter()
        .any(|o| o["type"] == "x-rastro-consignment"));
    // The same records give the same bundle, whoever of the organisation exports it.
    let again = dir.path().join("again.json");
    rastro(
        &db,
        &[
            "--as",
            "analista",
            "share",
            "export",
            "--for",
            "DEA",
            "--out",
            again.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
    // For another Mexican agency the bundle is larger (AMBER for Mexico is readable) and
    // still valid.
    // still valid, with every object type Rastro writes (from a late date, to keep it small).
    let gn = dir.path().join("for-gn.json");
    let g = json(&rastro(
        &db,
        &[
            "--as",
            "comandante",
            "share",
            "export",
            "--for",
            "GN",
            "--since",
            "2026-03-01T00:00:00Z",
            "--out",
            gn.to_str().unwrap(),
            "--json",
        ],
    ));
    for k in [
        "consignment",
        "custody",
        "vehicle",
        "observation",
        "alert",
        "party",
        "place",
    ] {
        assert!(
            g["by_kind"][k].as_u64().unwrap_or(0) > 0,
            "no {k} for GN: {g}"
        );
    }
    assert!(g["objects"].as_u64() > s["objects"].as_u64(), "{g} vs {s}");
    assert_eq!(validator_errors(&gn), Vec::<String>::new());
    // Alerts and leads carry their combined, explicit marking as it is: each names GN or its
    // nation (their defaults were spelled out before combining, never added again on export).
    let gb: Value = serde_json::from_slice(&std::fs::read(&gn).unwrap()).unwrap();
    for o in objects(&gb) {
        if o["type"] == "note" || o["type"] == "grouping" {
            assert!(lists(o, &["GN", "MX"]), "GN may not read {o}");
        }
    }
    // The export is in the log with what it held.
    let log =
        String::from_utf8_lossy(&rastro(&db, &["audit", "log", "--json"]).stdout).into_owned();
    assert!(log.contains("share.export"), "the export is audited");

    // A second node installs the bundle (its operator, who registered the sender's
    // organisations), and a re-import changes nothing.
    let nb = dir.path().join("b.db");
    for (code, nation, kind) in [
        ("ANAM", "MX", "customs"),
        ("SEMAR", "MX", "navy"),
        ("CAPUFE", "MX", "police"),
        ("GN", "MX", "police"),
        ("FGR", "MX", "prosecutor"),
        ("DEA", "US", "foreign_liaison"),
    ] {
        rastro(
            &nb,
            &[
                "org", "add", code, "--name", code, "--nation", nation, "--kind", kind,
            ],
        );
    }
    let first = json(&rastro(
        &nb,
        &["share", "import", out.to_str().unwrap(), "--json"],
    ));
    let inserted: u64 = total(&first, "inserted");
    assert!(inserted > 0, "{first}");
    let second = json(&rastro(
        &nb,
        &["share", "import", out.to_str().unwrap(), "--json"],
    ));
    let inserted2: u64 = total(&second, "inserted");
    let dup2: u64 = total(&second, "duplicates");
    assert_eq!(
        (inserted2, dup2),
        (0, inserted),
        "a re-import changes nothing"
    );
    // A DEA user may not import objects the host's agencies created.
    rastro(
        &nb,
        &["user", "add", "agente", "--org", "DEA", "--role", "analyst"],
    );
    let o = run(
        &nb,
        &["--as", "agente", "share", "import", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("a partner imports only what its organisation created"),
        "{}",
        stderr(&o)
    );
}

/// Imports a bundle as a user; the report.
fn import_as(db: &Path, user: &str, file: &Path) -> Value {
    json(&rastro(
        db,
        &[
            "--as",
            user,
            "share",
            "import",
            file.to_str().unwrap(),
            "--json",
        ],
    ))
}

/// A bundle of DEA's own from another tool: an indicator it marks AMBER for Mexico.
fn dea_bundle(modified: &str, name: &str, tlp: &str) -> Value {
    let dea = "identity--e7f93506-00d5-5f64-b2a3-157914cf60f4"; // rastro_stix::organisation_id("DEA")
    json!({"type": "bundle", "id": "bundle--5d0f3a52-1c1e-4a8e-9d55-2f1c9b8f7a10", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "created": "2026-01-10T00:00:00.000Z", "modified": modified, "created_by_ref": dea,
         "name": name, "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
         "valid_from": "2026-01-10T00:00:00Z", "indicator_types": ["malicious-activity"],
         "object_marking_refs": [tlp],
         "extensions": {"extension-definition--d8b7c93e-2b51-5d52-9e8a-1b8f5ff4b0f4": {"extension_type": "property-extension", "releasable_to": ["MX"]}}}
    ]})
}

#[test]
fn objects_of_other_tools_are_kept_as_they_came_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _d) = small_demo(dir.path());
    // The releasable-to extension's id, from an export.
    let probe = dir.path().join("probe.json");
    rastro(
        &db,
        &[
            "--as",
            "comandante",
            "share",
            "export",
            "--for",
            "DEA",
            "--out",
            probe.to_str().unwrap(),
        ],
    );
    let p: Value = serde_json::from_slice(&std::fs::read(&probe).unwrap()).unwrap();
    let rel_ext = objects(&p)
        .iter()
        .find(|o| o["type"] == "extension-definition" && o["name"] == "Rastro releasable-to")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dea = objects(&p)
        .iter()
        .find(|o| {
            o["type"] == "identity" && o["name"].as_str().unwrap().contains("Drug Enforcement")
        })
        .map(|o| o["id"].as_str().unwrap().to_string());
    let write = |name: &str, v: &Value| {
        let f = dir.path().join(name);
        let text = v.to_string().replace(
            "extension-definition--d8b7c93e-2b51-5d52-9e8a-1b8f5ff4b0f4",
            &rel_ext,
        );
        let text = match &dea {
            Some(id) => text.replace("identity--e7f93506-00d5-5f64-b2a3-157914cf60f4", id),
            None => text,
        };
        std::fs::write(&f, text).unwrap();
        f
    };
    let v1 = write(
        "v1.json",
        &dea_bundle("2026-01-10T00:00:00.000Z", "first", TLP2[2]),
    );
    let r = import_as(&db, "enlace-dea", &v1);
    assert_eq!(
        (r["stored"].as_u64(), r["unchanged"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
    let r = import_as(&db, "enlace-dea", &v1);
    assert_eq!(
        (r["stored"].as_u64(), r["unchanged"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    let v2 = write(
        "v2.json",
        &dea_bundle("2026-01-11T00:00:00.000Z", "second", TLP2[2]),
    );
    rastro(
        &db,
        &[
            "--as",
            "enlace-dea",
            "share",
            "import",
            v2.to_str().unwrap(),
        ],
    );
    // A Mexican analyst sees the newest version, and both with --all-versions.
    let now = json(&rastro(
        &db,
        &["--as", "analista", "share", "objects", "--json"],
    ));
    assert_eq!(now.as_array().unwrap().len(), 1);
    assert_eq!(now[0]["object"]["name"], "second");
    assert_eq!(now[0]["originator"], "DEA");
    let all = json(&rastro(
        &db,
        &[
            "--as",
            "analista",
            "share",
            "objects",
            "--all-versions",
            "--json",
        ],
    ));
    assert_eq!(all.as_array().unwrap().len(), 2);
    // A partner grants no marking below AMBER (the policy for partners), and a label-style
    // marking definition is refused, never guessed.
    let green = write(
        "green.json",
        &dea_bundle("2026-01-12T00:00:00.000Z", "green", TLP2[1]),
    );
    let o = run(
        &db,
        &[
            "--as",
            "enlace-dea",
            "share",
            "import",
            green.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let label = write(
        "label.json",
        &dea_bundle(
            "2026-01-12T00:00:00.000Z",
            "label",
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        ),
    );
    let o = run(
        &db,
        &[
            "--as",
            "enlace-dea",
            "share",
            "import",
            label.to_str().unwrap(),
        ],
    );
    assert!(
        stderr(&o).contains("not a TLP 2.0 marking definition"),
        "{}",
        stderr(&o)
    );
    // Nothing of either refused bundle was applied.
    let all2 = json(&rastro(
        &db,
        &[
            "--as",
            "analista",
            "share",
            "objects",
            "--all-versions",
            "--json",
        ],
    ));
    assert_eq!(all2, all);

    // Records are checked whole too: a place DEA may send and a report it marks GREEN, which a
    // partner may not, are refused together; the place is not stored either.
    let rec_ext = objects(&p)
        .iter()
        .find(|o| o["type"] == "extension-definition" && o["name"] == "Rastro record")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let carried = |ty: &str, uuid: &str, tlp: &str, kind: &str, fields: Value| {
        json!({"type": ty, "spec_version": "2.1", "id": format!("{ty}--{uuid}"),
            "created": "2026-01-10T00:00:00.000Z", "modified": "2026-01-10T00:00:00.000Z",
            "name": "x", "object_marking_refs": [tlp],
            "extensions": {rec_ext.as_str(): {"extension_type": "property-extension", "kind": kind, "fields": fields}}})
    };
    let mixed = json!({"type": "bundle", "id": "bundle--7d0f3a52-1c1e-4a8e-9d55-2f1c9b8f7a10", "objects": [
        carried("location", "0c2c4d6e-8f10-4a2b-9c3d-4e5f60718293", TLP2[2], "place",
            json!({"id": "DEA-P-1", "originator": "DEA", "tlp": "AMBER", "place_kind": "warehouse",
                "name": "Bodega (synthetic)", "lat": "19.1", "lon": "-104.3", "country": "MX"})),
        carried("report", "1c2c4d6e-8f10-4a2b-9c3d-4e5f60718293", TLP2[1], "report",
            json!({"id": "DEA-R-1", "originator": "DEA", "tlp": "GREEN", "report_kind": "tip",
                "time": "2026-01-10T00:00:00Z", "reliability": "B", "credibility": "2"})),
    ]});
    let before = rastro(&db, &["--as", "enlace-dea", "stats"]).stdout;
    let f = write("mixed.json", &mixed);
    let o = run(
        &db,
        &["--as", "enlace-dea", "share", "import", f.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("report--1c2c4d6e"), "{}", stderr(&o));
    assert_eq!(rastro(&db, &["--as", "enlace-dea", "stats"]).stdout, before);
}
