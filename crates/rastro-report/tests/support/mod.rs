//! A generated package: `n` evidence items of every kind around one lead, with hostile text
//! in every field a record fills, for the renderer's tests and benchmark.

use rastro_app::package::PackageV1;
use serde_json::json;

pub fn package(n: usize, lang: &str) -> PackageV1 {
    let kinds = [
        "alert",
        "stop",
        "tip",
        "seizure",
        "equipment_purchase",
        "report",
    ];
    let details = ["route_deviation", "", "B2", "A1", "C3", "F6"];
    let marking = json!({"tlp": "AMBER", "releasable_to": ["MX"], "text": "TLP:AMBER REL TO MX"});
    let evidence: Vec<_> = (0..n)
        .map(|i| {
            let k = i % kinds.len();
            json!({
                "origin": format!("rec-{i}<script>"),
                "kind": kinds[k],
                "detail": if k == 1 { "stop".to_string() } else { details[k].to_string() },
                "time": format!("2026-03-{:02}T{:02}:15:00.000Z", 1 + i % 28, i % 24),
                "lat": 24.80 + (i % 17) as f64 * 0.001,
                "lon": -107.40 + (i % 13) as f64 * 0.001,
                "weight": 1.0, "marking": marking, "cell": "88489e3467fffff", "contribution": 0.5
            })
        })
        .collect();
    let lead = json!({
        "id": "L-1", "rank": 1, "score": 0.91, "lat": 24.805, "lon": -107.395,
        "cells": ["88489e3467fffff"], "resolution": 8, "z_max": 6.4, "p_min": 1e-9,
        "evidence_mass": 12.0, "background": 0.4, "kinds": 6, "evidence": evidence,
        "marking": marking, "status": "new", "status_note": null,
        "last_seen": "2026-03-28T23:15:00.000Z", "summary": "6 kinds <b>near</b> Culiacán", "releases": []
    });
    serde_json::from_value(json!({
        "id": "pkg-0123456789abcdef", "sha256": "ab".repeat(32), "created": "2026-04-01T10:00:00.000Z",
        "created_by": "almirante", "org": "SEMAR", "lang": lang, "pap": "PAP:AMBER",
        "marking": marking, "leads": [lead], "alerts": [],
        "consignments": [{"id": "C-1", "declaration": "26 47 3817 6000123", "cas": "79-03-8",
            "description": "Propionyl chloride", "quantity": 200.0, "unit": "kg", "importer": "P-1",
            "consignee": "P-2", "destination": "PL-9", "port": "MXZLO", "arrival": "2026-02-27T08:00:00.000Z",
            "marking": marking}],
        "parties": [{"id": "P-2", "kind": "consignee", "name": "Químicos \"del\" <Pacífico>", "rfc": "QPA010101AB1",
            "city": "Culiacán", "marking": marking}],
        "hit_rates": [{"kind": "alert:route_deviation", "hits": 3, "trials": 5, "rate": 0.571}, {"kind": "tip", "hits": 1, "trials": 1, "rate": 0.667}],
        "generator": "rastro test"
    }))
    .expect("a valid package")
}
