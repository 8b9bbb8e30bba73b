//! Markings on the wire: the official TLP 2.0 marking definitions (the ids and objects the
//! OASIS extension `extension-definition--60a3c5c5-…` fixes; never labels), and Rastro's own
//! extension definitions: the releasable-to list of a marking, and the Rastro record an object
//! carries.

use crate::id::StixId;
use crate::object::Object;
use rastro_core::{Marking, Tlp};
use serde_json::json;

/// The OASIS TLP 2.0 extension every TLP 2.0 marking definition carries.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
/// When the TLP 2.0 marking definitions were created (fixed by the specification).
pub const TLP2_CREATED: &str = "2022-10-01T00:00:00.000Z";

/// The official id of the TLP 2.0 marking definition of `tlp`.
pub fn tlp_marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The TLP level of an official TLP 2.0 marking definition id.
pub fn tlp_of_marking_id(id: &str) -> Option<Tlp> {
    Tlp::ALL.iter().copied().find(|t| tlp_marking_id(*t) == id)
}

/// The official TLP 2.0 marking definition of `tlp`, exactly as the extension's schema wants
/// it (`name`, `created`, the extension with `tlp_2_0`; no `definition_type`).
pub fn tlp_marking_definition(tlp: Tlp) -> serde_json::Value {
    let level = tlp.as_str().to_ascii_lowercase();
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(tlp),
        "created": TLP2_CREATED,
        "name": format!("TLP:{}", tlp.as_str()),
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}
        }
    })
}

/// Rastro's extension definitions: made by the node's software identity, fixed content.
pub const RASTRO_CREATED: &str = "2026-12-03T00:00:00.000Z";

/// The identity of the Rastro software that defines the extensions (not of any agency).
pub fn rastro_identity() -> StixId {
    StixId::derive("identity", &crate::id::RASTRO_NAMESPACE, "rastro:software")
}

/// The property extension that carries a marking's releasable-to list (nations and
/// organisations beyond the TLP level's default audience), documented in
/// `docs/federation.md`.
pub fn releasable_extension_id() -> StixId {
    StixId::derive(
        "extension-definition",
        &crate::id::RASTRO_NAMESPACE,
        "rastro:releasable-to:1",
    )
}

/// The extension that carries the Rastro record an object stands for (its exchange-format
/// fields), so a Rastro node reads back exactly what was sent; a new-sdo extension for the
/// record kinds STIX has no object for.
pub fn record_extension_id() -> StixId {
    StixId::derive(
        "extension-definition",
        &crate::id::RASTRO_NAMESPACE,
        "rastro:record:1",
    )
}

/// The objects that define Rastro's software identity and extensions, for every bundle.
pub fn definitions() -> Vec<Object> {
    let me = rastro_identity();
    let ext = |id: StixId, name: &str, description: &str, types: &[&str]| {
        Object::from_value(json!({
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": id,
            "created_by_ref": me,
            "created": RASTRO_CREATED,
            "modified": RASTRO_CREATED,
            "name": name,
            "description": description,
            "schema": "https://github.com/rastro-project/rastro/blob/main/docs/federation.md",
            "version": "1.0.0",
            "extension_types": types,
        }))
        .expect("a fixed extension definition is a valid object")
    };
    vec![
        Object::from_value(json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": me,
            "created": RASTRO_CREATED,
            "modified": RASTRO_CREATED,
            "name": "Rastro",
            "description": "The Rastro software, which defines the Rastro STIX extensions.",
            "identity_class": "system",
        }))
        .expect("a fixed identity is a valid object"),
        ext(
            releasable_extension_id(),
            "Rastro releasable-to",
            "The nations (ISO 3166 alpha-2) and organisations a marked object may also be released to, beyond its TLP level's default audience.",
            &["property-extension"],
        ),
        ext(
            record_extension_id(),
            "Rastro record",
            "The Rastro record (kind and exchange-format fields) an object stands for; new objects for consignments, vehicles and custody events.",
            &["property-extension", "new-sdo"],
        ),
    ]
}

/// The marking as `object_marking_refs` and, when it has one, its releasable-to extension.
pub fn marking_refs(m: &Marking) -> (Vec<StixId>, Option<serde_json::Value>) {
    let refs = vec![StixId::parse(tlp_marking_id(m.tlp)).expect("official ids parse")];
    let rel = (!m.releasable_to.is_empty()).then(|| {
        json!({
            "extension_type": "property-extension",
            "releasable_to": m.releasable_to.iter().collect::<Vec<_>>(),
        })
    });
    (refs, rel)
}
