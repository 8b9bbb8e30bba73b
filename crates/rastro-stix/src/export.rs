//! Records, alerts and leads as STIX 2.1 objects. Every object carries its marking as the
//! official TLP 2.0 marking definition (and a releasable-to extension when the marking has a
//! list), `created_by_ref` to its originator's identity, a deterministic id, and the Rastro
//! record it stands for, so another Rastro node reads it back exactly and any other tool reads
//! the standard properties.

use crate::id::{StixId, RASTRO_NAMESPACE, SCO_NAMESPACE};
use crate::marking::{
    definitions, marking_refs, record_extension_id, releasable_extension_id, tlp_marking_definition,
};
use crate::object::{timestamp, Object};
use rastro_core::{Alert, Kind, Lead, Marking, PartyKind, Record, Tlp};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// `created` and `modified` of records without a time of their own (parties, places,
/// vehicles): records never change (a different body under the same key is a conflict), so
/// one fixed time keeps the object identical on every node.
pub const TIMELESS: &str = "2000-01-01T00:00:00.000Z";

/// The STIX type of the new objects for record kinds STIX has no object for.
pub fn custom_type(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Consignment => Some("x-rastro-consignment"),
        Kind::Vehicle => Some("x-rastro-vehicle"),
        Kind::Custody => Some("x-rastro-custody"),
        _ => None,
    }
}

/// The exchange-format fields of a record, blank ones left out.
pub fn record_fields(r: &Record) -> Map<String, Value> {
    rastro_ingest::columns(r.kind())
        .iter()
        .zip(rastro_ingest::record_to_row(r))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect()
}

/// The identity of an organisation (an originator), by code: the same on every node.
pub fn organisation_id(code: &str) -> StixId {
    StixId::derive("identity", &RASTRO_NAMESPACE, &format!("org:{code}"))
}

/// The id a record has in STIX, from its kind, originator and id.
pub fn record_id(r: &Record) -> StixId {
    let ty = match r {
        Record::Party(_) => "identity",
        Record::Place(_) => "location",
        Record::Observation(_) => "observed-data",
        Record::Report(_) => "report",
        other => custom_type(other.kind()).unwrap_or("x-rastro-record"),
    };
    StixId::derive(
        ty,
        &RASTRO_NAMESPACE,
        &format!("record:{}:{}:{}", r.kind().as_str(), r.originator(), r.id()),
    )
}

/// Builds one bundle.
#[derive(Debug, Default)]
pub struct Exporter {
    objects: BTreeMap<StixId, Object>,
    tlps: BTreeSet<u8>,
    /// Exported records by (kind, originator, id) and by bare id, for references.
    by_id: BTreeMap<String, StixId>,
    /// Who each informing object is of and under what marking (definitions have none).
    meta: BTreeMap<StixId, Meta>,
}

/// Whose an exported object is and how it is marked, for who serves it on (a TAXII
/// collection checks each reader against it).
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// The originating organisation's code.
    pub originator: String,
    pub marking: Marking,
    /// An alert's or lead's: its marking is already the combination of its inputs' explicit
    /// markings, read as it is.
    pub derived: bool,
}

/// One exported object with its metadata; `meta` is `None` for definitions (marking and
/// extension definitions, organisation identities), which are TLP:CLEAR.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: StixId,
    pub ty: String,
    /// `modified`, else `created`; `None` for objects with neither (cyber-observables).
    pub version: Option<String>,
    pub meta: Option<Meta>,
    pub object: Value,
}

impl Exporter {
    pub fn new() -> Exporter {
        let mut e = Exporter::default();
        for d in definitions() {
            e.objects.insert(d.id.clone(), d);
        }
        e
    }

    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
        mut v: Value,
        m: &Marking,
        created: &str,
        by: &StixId,
        code: Option<&str>,
        derived: bool,
    ) -> StixId {
        let (refs, rel) = marking_refs(m);
        self.tlps.insert(m.tlp.code());
        let o = v
            .as_object_mut()
            .expect("an object is built as a JSON object");
        o.insert("spec_version".into(), json!("2.1"));
        o.entry("created").or_insert_with(|| json!(created));
        o.entry("modified").or_insert_with(|| json!(created));
        o.insert("created_by_ref".into(), json!(by));
        o.insert("object_marking_refs".into(), json!(refs));
        if let Some(rel) = rel {
            o.entry("extensions")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("extensions is an object")
                .insert(releasable_extension_id().to_string(), rel);
        }
        let obj = Object::from_value(v).expect("exported objects are built valid");
        let id = obj.id.clone();
        self.objects.insert(id.clone(), obj);
        if let Some(code) = code {
            self.meta.insert(
                id.clone(),
                Meta {
                    originator: code.to_string(),
                    marking: m.clone(),
                    derived,
                },
            );
        }
        id
    }

    /// An organisation's identity (TLP:CLEAR: who the agencies are is not secret).
    pub fn organisation(&mut self, code: &str, name: &str, nation: &str) -> StixId {
        let id = organisation_id(code);
        let v = json!({
            "type": "identity",
            "id": id,
            "name": name,
            "identity_class": "organization",
            "sectors": ["government-national"],
            "contact_information": format!("{code} ({nation})"),
            "extensions": {record_extension_id().to_string(): {
                "extension_type": "property-extension",
                "kind": "organisation", "fields": {"code": code, "nation": nation}
            }},
        });
        self.put(
            v,
            &Marking::new(Tlp::Clear),
            TIMELESS,
            &crate::marking::rastro_identity(),
            None,
            false,
        )
    }

    /// One record; returns its STIX id (the observed-data for an observation).
    pub fn record(&mut self, r: &Record) -> StixId {
        let id = record_id(r);
        let by = organisation_id(r.originator());
        let fields = record_fields(r);
        let kind = r.kind().as_str();
        let ext = |t: &str| json!({record_extension_id().to_string(): {"extension_type": t, "kind": kind, "fields": fields}});
        let (v, created) = match r {
            Record::Party(p) => {
                let class = if p.party_kind == PartyKind::Person {
                    "individual"
                } else {
                    "organization"
                };
                let contact = [p.address.as_deref(), p.city.as_deref(), p.phone.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; ");
                (
                    json!({
                        "type": "identity", "id": id, "name": p.name,
                        "identity_class": class, "contact_information": contact,
                        "extensions": ext("property-extension"),
                    }),
                    TIMELESS.to_string(),
                )
            }
            Record::Place(p) => (
                json!({
                    "type": "location", "id": id, "name": p.name,
                    "latitude": p.position.lat, "longitude": p.position.lon,
                    "precision": p.radius_m, "country": p.country.to_string(),
                    "extensions": ext("property-extension"),
                }),
                TIMELESS.to_string(),
            ),
            Record::Observation(o) => {
                let t = timestamp(o.time_ms);
                // The sighting itself is a cyber-observable of Rastro's new type, with the
                // deterministic id STIX gives observables; the observed-data dates it.
                let sco = StixId::derive(
                    "x-rastro-sighting",
                    &SCO_NAMESPACE,
                    &json!({"originator": o.originator, "id": o.id}).to_string(),
                );
                let sv = json!({
                    "type": "x-rastro-sighting", "spec_version": "2.1", "id": sco,
                    "subject": o.subject, "source": o.source.as_str(),
                    "latitude": o.lat, "longitude": o.lon,
                    "extensions": {record_extension_id().to_string(): {"extension_type": "new-sco"}},
                    "object_marking_refs": marking_refs(&o.marking).0,
                });
                let sobj = Object::from_value(sv).expect("a sighting is built valid");
                self.objects.insert(sco.clone(), sobj);
                self.meta.insert(
                    sco.clone(),
                    Meta {
                        originator: o.originator.clone(),
                        marking: o.marking.clone(),
                        derived: false,
                    },
                );
                (
                    json!({
                        "type": "observed-data", "id": id,
                        "first_observed": t, "last_observed": t, "number_observed": 1,
                        "object_refs": [sco],
                        "extensions": ext("property-extension"),
                    }),
                    t.clone(),
                )
            }
            Record::Report(p) => {
                let t = timestamp(p.time_ms);
                let mut refs: Vec<StixId> = p
                    .subjects
                    .iter()
                    .filter_map(|s| self.by_id.get(s).cloned())
                    .collect();
                if refs.is_empty() {
                    refs.push(by.clone());
                }
                (
                    json!({
                        "type": "report", "id": id,
                        "name": format!("{} {}", p.report_kind.as_str(), p.id),
                        "description": p.summary, "published": t,
                        "report_types": ["threat-report"], "object_refs": refs,
                        "extensions": ext("property-extension"),
                    }),
                    t.clone(),
                )
            }
            other => {
                let ty = custom_type(other.kind()).unwrap_or("x-rastro-record");
                let created = match other {
                    Record::Consignment(c) => timestamp(c.arrival_ms),
                    Record::Custody(c) => timestamp(c.time_ms),
                    _ => TIMELESS.to_string(),
                };
                (
                    json!({
                        "type": ty, "id": id, "name": format!("{kind} {}", other.id()),
                        "kind": kind, "fields": fields,
                        "extensions": {record_extension_id().to_string(): {"extension_type": "new-sdo"}},
                    }),
                    created,
                )
            }
        };
        self.by_id.insert(r.id().to_string(), id.clone());
        self.put(v, r.marking(), &created, &by, Some(r.originator()), false)
    }

    /// An alert of `org`'s analysis: a note on the records it is about.
    pub fn alert(&mut self, a: &Alert, org: &str) -> StixId {
        let id = StixId::derive("note", &RASTRO_NAMESPACE, &format!("alert:{org}:{}", a.id));
        let by = organisation_id(org);
        let mut refs: Vec<StixId> = std::iter::once(&a.subject)
            .chain(&a.evidence)
            .filter_map(|s| self.by_id.get(s).cloned())
            .collect();
        refs.dedup();
        if refs.is_empty() {
            refs.push(by.clone());
        }
        let t = timestamp(a.time_ms);
        let v = json!({
            "type": "note", "id": id,
            "abstract": format!("{} alert, score {:.2}", a.typology.as_str(), a.score),
            "content": a.summary, "object_refs": refs,
            "extensions": {record_extension_id().to_string(): {
                "extension_type": "property-extension", "kind": "alert",
                "fields": {"id": a.id, "typology": a.typology.as_str(), "subject": a.subject,
                    "score": a.score, "lat": a.lat, "lon": a.lon, "evidence": a.evidence, "facts": a.facts}
            }},
        });
        self.by_id.insert(a.id.clone(), id.clone());
        self.put(v, &a.marking, &t, &by, Some(org), true)
    }

    /// A lead of `org`'s analysis: a grouping of its site and the alerts behind it.
    pub fn lead(&mut self, l: &Lead, org: &str) -> StixId {
        let id = StixId::derive(
            "grouping",
            &RASTRO_NAMESPACE,
            &format!("lead:{org}:{}", l.id),
        );
        let by = organisation_id(org);
        let t = timestamp(l.last_seen_ms);
        let site = StixId::derive(
            "location",
            &RASTRO_NAMESPACE,
            &format!("lead-site:{org}:{}", l.id),
        );
        let sv = json!({
            "type": "location", "id": site, "name": format!("site of lead {}", l.id),
            "latitude": l.lat, "longitude": l.lon,
        });
        self.put(sv, &l.marking, &t, &by, Some(org), true);
        let mut refs = vec![site];
        refs.extend(l.evidence.iter().filter_map(|c| {
            let o = c.evidence.origin.as_str();
            let bare = o.split_once(':').map_or(o, |(_, b)| b);
            self.by_id.get(o).or_else(|| self.by_id.get(bare)).cloned()
        }));
        refs.dedup();
        let v = json!({
            "type": "grouping", "id": id, "name": format!("lead {} (rank {})", l.id, l.rank),
            "description": l.summary, "context": "suspicious-activity", "object_refs": refs,
            "extensions": {record_extension_id().to_string(): {
                "extension_type": "property-extension", "kind": "lead",
                "fields": {"id": l.id, "rank": l.rank, "score": l.score, "lat": l.lat, "lon": l.lon, "cells": l.cells}
            }},
        });
        self.put(v, &l.marking, &t, &by, Some(org), true)
    }

    /// How many objects the bundle holds so far (definitions included).
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Every object with whose it is and its marking: the TLP marking definitions used, then
    /// every object by id (what [`Exporter::bundle`] holds, for a TAXII collection).
    pub fn entries(self) -> Vec<Entry> {
        let mut out: Vec<Entry> = Tlp::ALL
            .iter()
            .filter(|t| self.tlps.contains(&t.code()))
            .map(|t| {
                let v = tlp_marking_definition(*t);
                Entry {
                    id: StixId::parse(v["id"].as_str().unwrap_or_default())
                        .expect("the official ids are valid"),
                    ty: "marking-definition".into(),
                    version: v["created"].as_str().map(str::to_string),
                    meta: None,
                    object: v,
                }
            })
            .collect();
        let Exporter { objects, meta, .. } = self;
        for (id, o) in objects {
            out.push(Entry {
                ty: o.ty.clone(),
                version: o.modified.clone().or_else(|| o.created.clone()),
                meta: meta.get(&id).cloned(),
                object: serde_json::to_value(&o).expect("an object serialises"),
                id,
            });
        }
        out
    }

    /// The bundle: the TLP marking definitions used, then every object by id. Its id is
    /// derived from the ids and modification times of what it holds.
    pub fn bundle(self) -> Value {
        let mut objects: Vec<Value> = Tlp::ALL
            .iter()
            .filter(|t| self.tlps.contains(&t.code()))
            .map(|t| tlp_marking_definition(*t))
            .collect();
        let mut h = String::new();
        for o in self.objects.values() {
            h.push_str(o.id.as_str());
            h.push_str(o.modified.as_deref().unwrap_or(""));
            objects.push(serde_json::to_value(o).expect("an object serialises"));
        }
        json!({
            "type": "bundle",
            "id": StixId::derive("bundle", &RASTRO_NAMESPACE, &h),
            "objects": objects,
        })
    }
}
