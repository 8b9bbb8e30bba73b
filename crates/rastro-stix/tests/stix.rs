//! STIX export and import without I/O: the official TLP 2.0 marking definitions, deterministic
//! ids, a record read back exactly from its object, and every kind of bad bundle refused with
//! its reason.

use rastro_core::{Marking, Record, Tlp};
use rastro_stix::export::{organisation_id, record_fields};
use rastro_stix::import::{parse_bundle, ImportError};
use rastro_stix::marking::{tlp_marking_definition, tlp_marking_id, tlp_of_marking_id};
use rastro_stix::{marking_of, record_of, Exporter, StixId};
use serde_json::{json, Value};

fn place() -> Record {
    let line = "id,originator,tlp,releasable_to,place_kind,name,lat,lon,radius_m,locode,country\n\
                P-1,ANAM,AMBER,DEA;US,warehouse,Bodega Norte (synthetic),19.05,-104.31,120,,MX\n";
    let mut r = rastro_ingest::open(std::io::Cursor::new(line.as_bytes()), "t", None).unwrap();
    match r.next_item().unwrap().unwrap() {
        rastro_ingest::Item::Record { record, .. } => record,
        rastro_ingest::Item::Quarantine(q) => panic!("{q}"),
    }
}

/// Parses `objects` wrapped in a bundle; `Err` carries the message.
fn check(objects: Vec<Value>) -> Result<usize, String> {
    let b = json!({"type": "bundle", "id": "bundle--6f1c2a9e-3d54-4b7a-9c1e-58f0a2d4b7c3", "objects": objects});
    parse_bundle(b.to_string().as_bytes())
        .map(|v| v.len())
        .map_err(|e| e.to_string())
}

fn obj(ty: &str, uuid: &str, extra: Value) -> Value {
    let mut v = json!({"type": ty, "spec_version": "2.1", "id": format!("{ty}--{uuid}"),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

#[test]
fn tlp_markings_are_the_official_tlp_2_0_definitions() {
    // The ids and objects of OASIS's TLP 2.0 extension (cti-stix-common-objects).
    let want = [
        (Tlp::Clear, "94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
        (Tlp::Green, "bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"),
        (Tlp::Amber, "55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"),
        (
            Tlp::AmberStrict,
            "939a9414-2ddd-4d32-a0cd-375ea402b003",
            "amber+strict",
        ),
        (Tlp::Red, "e828b379-4e03-4974-9ac4-e53a884c97c1", "red"),
    ];
    for (tlp, uuid, level) in want {
        let id = format!("marking-definition--{uuid}");
        assert_eq!(tlp_marking_id(tlp), id);
        assert_eq!(tlp_of_marking_id(&id), Some(tlp));
        let d = tlp_marking_definition(tlp);
        assert_eq!(d["name"], format!("TLP:{}", tlp.as_str()));
        assert_eq!(d["created"], "2022-10-01T00:00:00.000Z");
        assert!(d.get("definition_type").is_none(), "no TLP 1.0 shape");
        assert_eq!(
            d["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"],
            json!({"extension_type": "property-extension", "tlp_2_0": level})
        );
    }
}

#[test]
fn a_record_gives_one_id_everywhere_and_reads_back_exactly() {
    let r = place();
    let (mut a, mut b) = (Exporter::new(), Exporter::new());
    let (ia, ib) = (a.record(&r), b.record(&r));
    assert_eq!(ia, ib, "deterministic id");
    assert_eq!(a.bundle(), b.bundle(), "deterministic bundle");
    let mut e = Exporter::new();
    e.record(&r);
    let bundle = e.bundle().to_string();
    let objects = parse_bundle(bundle.as_bytes()).unwrap();
    let o = objects.iter().find(|o| o.id == ia).unwrap();
    assert_eq!(o.ty, "location");
    assert_eq!(o.created_by_ref, Some(organisation_id("ANAM")));
    let m = marking_of(o).unwrap();
    assert_eq!(
        m,
        Marking {
            tlp: Tlp::Amber,
            releasable_to: ["DEA".to_string(), "US".to_string()].into()
        }
    );
    let (kind, fields) = record_of(o).unwrap();
    assert_eq!(kind, r.kind());
    let want: std::collections::BTreeMap<String, String> = record_fields(&r)
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(fields, want);
}

#[test]
fn bad_bundles_are_refused_with_their_reason() {
    let u = "0b2c4d6e-8f10-4a2b-9c3d-4e5f60718293";
    let u2 = "1b2c4d6e-8f10-4a2b-9c3d-4e5f60718293";
    assert_eq!(check(vec![obj("identity", u, json!({"name": "x"}))]), Ok(1));
    let cases: Vec<(Value, &str)> = vec![
        (obj("identity", "not-a-uuid", json!({})), "invalid UUID"),
        (obj("Identity", u, json!({})), "invalid type part"),
        (
            obj("note", u, json!({"id": format!("identity--{u}")})),
            "does not match its id",
        ),
        (
            json!({"type": "identity", "spec_version": "2.0", "id": format!("identity--{u}")}),
            "only STIX 2.1",
        ),
        (
            obj("identity", u, json!({"created": "2026-01-01 00:00:00"})),
            "not an RFC 3339 UTC timestamp",
        ),
        (
            obj("identity", u, json!({"modified": "2025-01-01T00:00:00Z"})),
            "is before created",
        ),
        (
            obj(
                "identity",
                u,
                json!({"object_marking_refs": [format!("identity--{u2}")]}),
            ),
            "not a marking definition",
        ),
        (
            obj("note", u, json!({"created_by_ref": format!("note--{u2}")})),
            "must name an identity",
        ),
    ];
    for (o, why) in cases {
        let e = check(vec![o.clone()]).unwrap_err();
        assert!(e.contains(why), "{o}: {e} lacks {why:?}");
    }
    // Two different bodies for one version.
    let e = check(vec![
        obj("note", u, json!({"content": "a"})),
        obj("note", u, json!({"content": "b"})),
    ])
    .unwrap_err();
    assert!(e.contains("appears twice"), "{e}");
    // A circle of references.
    let e = check(vec![
        obj("note", u, json!({"object_refs": [format!("note--{u2}")]})),
        obj("note", u2, json!({"object_refs": [format!("note--{u}")]})),
    ])
    .unwrap_err();
    assert!(e.contains("circle"), "{e}");
    // An identity that created itself is not a circle.
    assert_eq!(
        check(vec![obj(
            "identity",
            u,
            json!({"created_by_ref": format!("identity--{u}")})
        )]),
        Ok(1)
    );
    // Not JSON, not a bundle, a bundle id of the wrong type.
    assert!(matches!(parse_bundle(b"{"), Err(ImportError::Json(_))));
    assert!(parse_bundle(b"{\"type\":\"report\"}")
        .unwrap_err()
        .to_string()
        .contains("not a bundle"));
    let wrong = json!({"type": "bundle", "id": format!("report--{u}"), "objects": []});
    assert!(parse_bundle(wrong.to_string().as_bytes())
        .unwrap_err()
        .to_string()
        .contains("bundle--"));
    // Markings: a label-style or unknown marking definition is refused, never guessed; no
    // marking reads as RED.
    let label = StixId::parse(&format!("marking-definition--{u2}")).unwrap();
    let mut o = rastro_stix::Object::from_value(obj("note", u, json!({}))).unwrap();
    assert_eq!(marking_of(&o).unwrap().tlp, Tlp::Red);
    o.object_marking_refs = vec![label];
    assert!(marking_of(&o)
        .unwrap_err()
        .contains("not a TLP 2.0 marking definition"));
}

proptest::proptest! {
    /// The id parser never panics, and what it accepts prints back as it read (lower case).
    #[test]
    fn stix_ids_parse_or_refuse(s in "\\PC{0,80}") {
        if let Ok(id) = StixId::parse(&s) {
            proptest::prop_assert_eq!(id.as_str(), s.to_ascii_lowercase());
            proptest::prop_assert!(rastro_stix::id::valid_type(id.ty()));
        }
    }
}
