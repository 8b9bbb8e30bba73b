//! Operations through the real binary: the demo closes the loop (operations on the best leads,
//! run end to end), each party sees what the law gives it, every unlawful step is refused with
//! the rule quoted and the state unchanged, and the law file is checked before it is used.

mod common;

use common::*;
use std::path::Path;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a command that must be refused: exit 1, `needle` in the message.
fn refused(db: &Path, args: &[&str], needle: &str) {
    let o = run(db, args);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{args:?} was not refused: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        stderr(&o).contains(needle),
        "{args:?}: {} lacks {needle:?}",
        stderr(&o)
    );
}

#[test]
fn operations_follow_the_law_from_plan_to_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let (db, d) = small_demo(dir.path());

    // The demo ran operations to a close; the commander sees everything of the first.
    let op = json(&rastro(
        &db,
        &["--as", "comandante", "ops", "show", "op-1", "--json"],
    ));
    assert_eq!(op["view"], "full");
    assert_eq!(op["state"], "closed");
    assert_eq!(op["approvals"].as_array().unwrap().len(), 2);
    assert!(op["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["user"] != op["proposer"]));
    let lead = op["leads"][0].as_str().unwrap().to_string();
    // Its lead is closed for SEMAR, with what the operation found, and explains its hit rates.
    let l = json(&rastro(
        &db,
        &["--as", "comandante", "lead", "show", &lead, "--json"],
    ));
    assert_eq!(l["status"], "closed");
    assert!(l["status_note"]
        .as_str()
        .unwrap()
        .contains("operation op-1"));
    assert!(!l["hit_rates"].as_array().unwrap().is_empty());
    // `rastro evaluate` shows what the closed operations taught, as text and as JSON.
    let truth = d.join("scenario");
    let ev = rastro(&db, &["evaluate", "--truth", truth.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&ev.stdout);
    assert!(
        text.contains("feedback: hit rates per evidence kind"),
        "{text}"
    );
    assert!(text.contains("as ranked without feedback"), "{text}");
    let ej = json(&rastro(
        &db,
        &["evaluate", "--truth", truth.to_str().unwrap(), "--json"],
    ));
    assert!(ej["feedback"]["hit_rates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["trials"].as_u64().unwrap() >= r["hits"].as_u64().unwrap()));
    assert!(
        ej["leads"].is_object(),
        "the evaluation itself is still there"
    );
    for k in [
        "precision_at_10_without_feedback",
        "precision_at_10_with_feedback",
    ] {
        let p = ej["feedback"][k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{k} {p}");
    }
    // The partner adviser sees the law's facets after execution, never who decided or why.
    let p = json(&rastro(
        &db,
        &["--as", "enlace-dea", "ops", "show", "op-1", "--json"],
    ));
    assert_eq!(p["view"], "partner");
    assert!(p["approvals"].is_null() && p["version"].is_null() && p["participants"].is_null());
    assert!(p["outcome"].is_object() && p["sites"].is_array());
    assert!(p["history"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["actor"].is_null() && h["why"].is_null()));
    // Someone with no part in it is told nothing, exactly as for a missing one.
    let a = run(&db, &["--as", "auditora", "ops", "show", "op-1"]);
    let b = run(&db, &["--as", "auditora", "ops", "show", "op-none"]);
    assert_eq!(a.status.code(), Some(1));
    assert_eq!(
        stderr(&a).replace("op-1", "X"),
        stderr(&b).replace("op-none", "X")
    );
    // The package and its PDF are in the demo folder; the audit log holds every step.
    assert!(d.join("packages").join(format!("{lead}.html")).exists());
    let log =
        String::from_utf8_lossy(&rastro(&db, &["audit", "log", "--record", "op:op-1"]).stdout)
            .into_owned();
    for action in [
        "ops.create",
        "ops.propose",
        "ops.approve",
        "ops.execute",
        "ops.close",
        "ops.task.done",
    ] {
        assert!(log.contains(action), "no {action} in the audit log");
    }

    // A new draft, and every bad input of the issue refused with the state unchanged.
    let leads = json(&rastro(&db, &["--as", "comandante", "leads", "--json"]));
    let lead = leads[leads.as_array().unwrap().len() - 1]["id"]
        .as_str()
        .unwrap()
        .to_string();
    refused(
        &db,
        &[
            "--as",
            "enlace-dea",
            "ops",
            "create",
            "op-x",
            "--objective",
            "o",
        ],
        "only organisations of the host nation",
    );
    refused(
        &db,
        &[
            "--as",
            "auditora",
            "ops",
            "create",
            "op-x",
            "--objective",
            "o",
        ],
        "may not own operations",
    );
    refused(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "create",
            "op-x",
            "--objective",
            "o",
            "--lead",
            "lead-nope",
        ],
        "no lead \"lead-nope\"",
    );
    rastro(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "create",
            "op-9",
            "--objective",
            "Verificar",
            "--lead",
            &lead,
        ],
    );
    let before = rastro(
        &db,
        &["--as", "comandante", "ops", "show", "op-9", "--json"],
    )
    .stdout;
    refused(
        &db,
        &[
            "--as",
            "comandante-gn",
            "ops",
            "approve",
            "op-9",
            "--reason",
            "x",
        ],
        "in state draft",
    );
    refused(
        &db,
        &[
            "--as",
            "comandante",
            "ops",
            "close",
            "op-9",
            "--lab",
            "confirmed",
        ],
        "must be executed",
    );
    refused(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "edit",
            "op-9",
            "--commander",
            "enlace-dea",
        ],
        "commanded by the host nation",
    );
    refused(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "edit",
            "op-9",
            "--commander",
            "comandante-gn",
        ],
        "must belong to the owning organisation",
    );
    refused(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "join",
            "op-9",
            "--user",
            "enlace-dea",
            "--role",
            "ground",
        ],
        "[rule foreign.allowed_roles (line",
    );
    refused(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "edit",
            "op-9",
            "--start",
            "2026-05-02T00:00:00Z",
            "--end",
            "2026-05-01T00:00:00Z",
        ],
        "before it starts",
    );
    refused(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "edit",
            "op-9",
            "--version",
            "1",
            "--why",
            "stale",
        ],
        "conflict",
    );
    refused(
        &db,
        &["--as", "enlace-dea", "ops", "edit", "op-9", "--why", "x"],
        "no operation \"op-9\"",
    );
    let after = rastro(
        &db,
        &["--as", "comandante", "ops", "show", "op-9", "--json"],
    )
    .stdout;
    assert_eq!(before, after, "a refusal changed the operation");

    rastro(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "edit",
            "op-9",
            "--commander",
            "comandante",
            "--site",
            "Nave 3,24.8,-107.4,250",
            "--start",
            "2026-05-01T00:00:00Z",
            "--end",
            "2026-05-02T00:00:00Z",
        ],
    );
    rastro(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "join",
            "op-9",
            "--user",
            "juridico",
            "--role",
            "legal_review",
        ],
    );
    rastro(
        &db,
        &[
            "--as",
            "analista",
            "ops",
            "join",
            "op-9",
            "--user",
            "enlace-dea",
            "--role",
            "advisory",
        ],
    );
    rastro(&db, &["--as", "comandante", "ops", "propose", "op-9"]);
    refused(
        &db,
        &[
            "--as",
            "comandante-gn",
            "ops",
            "approve",
            "op-9",
            "--reason",
            "x",
        ],
        "mandatory task(s) not done",
    );
    rastro(
        &db,
        &[
            "--as",
            "juridico",
            "ops",
            "task",
            "op-9",
            "--done",
            "legal_review",
            "--note",
            "orden 12/2026",
        ],
    );
    rastro(
        &db,
        &[
            "--as",
            "comandante",
            "ops",
            "task",
            "op-9",
            "--done",
            "deconfliction",
            "--note",
            "ok",
        ],
    );
    refused(
        &db,
        &[
            "--as",
            "comandante",
            "ops",
            "approve",
            "op-9",
            "--reason",
            "x",
        ],
        "may not approve it",
    );
    refused(
        &db,
        &[
            "--as",
            "enlace-dea",
            "ops",
            "approve",
            "op-9",
            "--reason",
            "x",
        ],
        "only the host nation MX approves",
    );
    refused(
        &db,
        &[
            "--as", "analista", "ops", "approve", "op-9", "--reason", "x",
        ],
        "may not approve [rule approval.approver_roles",
    );
    rastro(
        &db,
        &[
            "--as",
            "comandante-gn",
            "ops",
            "approve",
            "op-9",
            "--reason",
            "ok",
        ],
    );
    refused(
        &db,
        &[
            "--as",
            "comandante-gn",
            "ops",
            "approve",
            "op-9",
            "--reason",
            "again",
        ],
        "approvers must be distinct",
    );
    let op = json(&rastro(
        &db,
        &["--as", "comandante", "ops", "show", "op-9", "--json"],
    ));
    assert_eq!(
        op["state"], "proposed",
        "one approval of two, the proposer not counting"
    );

    // Packages: built from what the caller sees; a partner cannot package a host lead.
    let html = dir.path().join("p.html");
    rastro(
        &db,
        &[
            "--as",
            "comandante",
            "package",
            "create",
            "--lead",
            &lead,
            "--lang",
            "en",
            "--out",
            html.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("Intelligence package") && text.contains(&lead));
    refused(
        &db,
        &[
            "--as",
            "enlace-dea",
            "package",
            "create",
            "--lead",
            &lead,
            "--out",
            html.to_str().unwrap(),
        ],
        "in your view",
    );

    // Requests: a partner asks, the host decides, with a reason; an expired one cannot be approved.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let week = rastro_core::format_time_ms(now_ms + 7 * 86_400_000);
    rastro(
        &db,
        &[
            "--as",
            "enlace-dea",
            "request",
            "create",
            "req-1",
            "--kind",
            "surveillance",
            "--area",
            "24,-108,25,-107",
            "--purpose",
            "find the lab",
            "--legal-basis",
            "MLAT (synthetic)",
            "--start",
            "2026-01-01T00:00:00Z",
            "--end",
            "2026-01-05T00:00:00Z",
            "--expires",
            &week,
        ],
    );
    refused(
        &db,
        &[
            "--as",
            "enlace-dea",
            "request",
            "create",
            "req-2",
            "--kind",
            "information",
            "--question",
            "q",
            "--purpose",
            "p",
            "--legal-basis",
            "b",
            "--start",
            "2026-01-01T00:00:00Z",
            "--end",
            "2026-01-05T00:00:00Z",
            "--expires",
            "2099-01-01T00:00:00Z",
        ],
        "max_validity_days",
    );
    refused(
        &db,
        &[
            "--as",
            "comandante",
            "request",
            "create",
            "req-3",
            "--kind",
            "information",
            "--question",
            "q",
            "--purpose",
            "p",
            "--legal-basis",
            "b",
            "--start",
            "2026-01-01T00:00:00Z",
            "--end",
            "2026-01-05T00:00:00Z",
            "--expires",
            "2099-01-01T00:00:00Z",
        ],
        "act directly",
    );
    refused(
        &db,
        &[
            "--as",
            "enlace-dea",
            "request",
            "approve",
            "req-1",
            "--reason",
            "mine",
        ],
        "host-nation deciders only",
    );
    let r = String::from_utf8_lossy(
        &rastro(
            &db,
            &[
                "--as",
                "comandante",
                "request",
                "approve",
                "req-1",
                "--reason",
                "vuelo autorizado",
            ],
        )
        .stdout,
    )
    .into_owned();
    assert!(r.contains("\tapproved\t"), "{r}");
    refused(
        &db,
        &[
            "--as",
            "comandante",
            "request",
            "refuse",
            "req-1",
            "--reason",
            "no",
        ],
        "already",
    );
}

#[test]
fn a_law_file_is_checked_before_it_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rastro-ops/law");
    let ok = rastro(
        &db,
        &["law", "check", root.join("co.toml").to_str().unwrap()],
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("host nation CO"));
    let mx = std::fs::read_to_string(root.join("mx.toml")).unwrap();
    for (name, text, needle) in [
        (
            "role.toml",
            mx.replace(
                "approver_roles = [\"commander\"]",
                "approver_roles = [\"general\"]",
            ),
            "role.toml:20: unknown role \"general\"",
        ),
        (
            "bad.toml",
            mx.replace("approvers_required = 2", "approvers_required = = 2"),
            "bad.toml:22:",
        ),
        (
            "self.toml",
            mx.replace(
                "allowed_roles = [\"intelligence_support\", \"advisory\"]",
                "allowed_roles = [\"command\"]",
            ),
            "contradicts [command]",
        ),
    ] {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        refused(&db, &["law", "check", f.to_str().unwrap()], needle);
        refused(&db, &["law", "set", f.to_str().unwrap()], needle);
    }
    // The wrong country's law is refused for this node, and nothing changed.
    refused(
        &db,
        &["law", "set", root.join("co.toml").to_str().unwrap()],
        "this node's host nation is MX",
    );
    assert_eq!(
        String::from_utf8_lossy(&rastro(&db, &["law", "show"]).stdout),
        mx
    );
    refused(
        &db,
        &[
            "--as",
            "someone",
            "law",
            "set",
            root.join("mx.toml").to_str().unwrap(),
        ],
        "does not take --as",
    );
}

/// Partner sightings are checked against the host's approved requests on ingest: stamped with
/// the request they were collected under, or flagged with the reason (kept, not dropped); the
/// first verdict stands; a verdict is shown to the contributor and the host's deciders only.
#[test]
fn partner_collection_is_stamped_or_flagged_on_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _d) = small_demo(dir.path());
    // The demo's DEA flights: some under its approved corridor requests, some flagged.
    let all = json(&rastro(
        &db,
        &["--as", "comandante", "request", "collection", "--json"],
    ));
    let all = all.as_array().unwrap();
    let under = all.iter().filter(|c| c["request"].is_string()).count();
    let flagged = all.iter().filter(|c| c["flag"].is_string()).count();
    assert!(under > 0 && flagged > 0, "{under} under, {flagged} flagged");
    assert_eq!(under + flagged, all.len(), "each has exactly one verdict");
    for c in all.iter().filter(|c| c["request"].is_string()) {
        let (lat, lon) = (c["lat"].as_f64().unwrap(), c["lon"].as_f64().unwrap());
        assert!(
            (17.5..=21.5).contains(&lat) && (-105.0..=-98.5).contains(&lon),
            "stamped outside the corridor: {c}"
        );
    }
    // The contributor sees its own verdicts; an auditor, who decides no requests, none.
    let dea = json(&rastro(
        &db,
        &["--as", "enlace-dea", "request", "collection", "--json"],
    ));
    assert_eq!(dea.as_array().unwrap().len(), all.len());
    let aud = json(&rastro(
        &db,
        &["--as", "auditora", "request", "collection", "--json"],
    ));
    assert!(aud.as_array().unwrap().is_empty());

    // New sightings: under the first request; outside its area; naming a request that is not
    // DEA's; SEMAR naming a request (host units need none, and cannot claim one).
    let t = "2026-01-10T12:00:00Z";
    let csv = dir.path().join("flights.csv");
    std::fs::write(
        &csv,
        format!(
            "id,originator,tlp,releasable_to,source,subject_kind,subject,time,lat,lon,accuracy_m,confidence,request\n\
             F-1,DEA,AMBER,MX,aerial,vehicle,SYN-V-T1,{t},19.5,-103.0,150,0.8,SYN-DEA-SURV-1\n\
             F-2,DEA,AMBER,MX,aerial,vehicle,SYN-V-T1,{t},25.0,-109.0,150,0.8,SYN-DEA-SURV-1\n\
             F-3,DEA,AMBER,MX,aerial,vehicle,SYN-V-T1,{t},19.5,-103.0,150,0.8,REQ-OF-SOMEONE\n\
             F-4,DEA,AMBER,MX,aerial,vehicle,SYN-V-T1,{t},25.0,-109.0,150,0.8,\n\
             F-5,SEMAR,RED,,aerial,vehicle,SYN-V-T1,{t},19.5,-103.0,150,0.8,SYN-DEA-SURV-1\n"
        ),
    )
    .unwrap();
    let o = run(&db, &["ingest", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("collected without an approved request"),
        "{}",
        stderr(&o)
    );
    let v = json(&rastro(
        &db,
        &["request", "collection", "--json", "--limit", "10000"],
    ));
    let get = |org: &str, id: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|c| c["originator"] == org && c["observation"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no verdict on {org}/{id}"))
    };
    assert_eq!(get("DEA", "F-1")["request"], "SYN-DEA-SURV-1");
    assert!(get("DEA", "F-2")["flag"]
        .as_str()
        .unwrap()
        .contains("outside request SYN-DEA-SURV-1's area"));
    assert!(get("DEA", "F-3")["flag"]
        .as_str()
        .unwrap()
        .contains("not a request of DEA"));
    assert!(get("DEA", "F-4")["flag"]
        .as_str()
        .unwrap()
        .contains("no approved surveillance request of DEA covers"));
    assert!(get("SEMAR", "F-5")["flag"]
        .as_str()
        .unwrap()
        .contains("not a request of SEMAR"));
    // The sightings were kept: all five inserted.
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("5 inserted"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Re-sending the flagged sighting naming a covering request does not clear its flag.
    std::fs::write(
        &csv,
        format!(
            "id,originator,tlp,releasable_to,source,subject_kind,subject,time,lat,lon,accuracy_m,confidence,request\n\
             F-4,DEA,AMBER,MX,aerial,vehicle,SYN-V-T1,{t},25.0,-109.0,150,0.8,SYN-DEA-SURV-1\n"
        ),
    )
    .unwrap();
    assert!(run(&db, &["ingest", csv.to_str().unwrap()])
        .status
        .success());
    let again = json(&rastro(
        &db,
        &[
            "request",
            "collection",
            "--flagged",
            "--json",
            "--limit",
            "10000",
        ],
    ));
    assert!(again
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["observation"] == "F-4"
            && c["flag"]
                .as_str()
                .unwrap()
                .contains("no approved surveillance")));
}
