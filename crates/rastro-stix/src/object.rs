//! The STIX 2.1 object as Rastro handles it: the common properties typed (type, id, spec
//! version, timestamps, creator, markings, extensions), the type's own properties kept as JSON
//! in order, so an object of a type Rastro does not map is stored and shown as it came.

use crate::id::{valid_type, StixId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A STIX timestamp: RFC 3339 in UTC with a `Z` (STIX 2.1 section 3.2).
pub fn valid_timestamp(s: &str) -> bool {
    s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// Milliseconds since the epoch as a STIX timestamp with millisecond precision.
pub fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// A STIX timestamp as milliseconds since the epoch.
pub fn timestamp_ms(s: &str) -> Option<i64> {
    valid_timestamp(s)
        .then(|| chrono::DateTime::parse_from_rfc3339(s).ok())
        .flatten()
        .map(|t| t.timestamp_millis())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Object {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<String>,
    pub id: StixId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<StixId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<StixId>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, Value>,
    /// The type's own properties.
    #[serde(flatten)]
    pub props: Map<String, Value>,
}

impl Object {
    /// An object from JSON, checked for the common properties (see [`Object::check`]).
    pub fn from_value(v: Value) -> Result<Object, String> {
        let o: Object = serde_json::from_value(v).map_err(|e| e.to_string())?;
        o.check()?;
        Ok(o)
    }

    /// The common properties STIX 2.1 requires: a valid type that matches the id's type part,
    /// spec version 2.1, valid timestamps, `modified` not before `created`, and a marking
    /// reference list of marking definitions. Cyber-observables (SCOs) carry no timestamps.
    pub fn check(&self) -> Result<(), String> {
        let id = &self.id;
        if !valid_type(&self.ty) || id.ty() != self.ty {
            return Err(format!("{id}: type {:?} does not match its id", self.ty));
        }
        if self.spec_version.as_deref() != Some("2.1") {
            return Err(format!(
                "{id}: spec_version {:?}; only STIX 2.1 is read",
                self.spec_version
            ));
        }
        for (name, t) in [("created", &self.created), ("modified", &self.modified)] {
            if let Some(t) = t {
                if !valid_timestamp(t) {
                    return Err(format!(
                        "{id}: {name} {t:?} is not an RFC 3339 UTC timestamp"
                    ));
                }
            }
        }
        if let (Some(c), Some(m)) = (&self.created, &self.modified) {
            if timestamp_ms(m) < timestamp_ms(c) {
                return Err(format!("{id}: modified {m} is before created {c}"));
            }
        }
        if let Some(m) = self
            .object_marking_refs
            .iter()
            .find(|m| m.ty() != "marking-definition")
        {
            return Err(format!(
                "{id}: object_marking_refs names {m}, not a marking definition"
            ));
        }
        if self
            .created_by_ref
            .as_ref()
            .is_some_and(|c| c.ty() != "identity")
        {
            return Err(format!("{id}: created_by_ref must name an identity"));
        }
        Ok(())
    }

    /// Every id this object refers to: `*_ref` and `*_refs` properties, at any depth.
    pub fn refs(&self) -> Vec<StixId> {
        fn walk(key: &str, v: &Value, out: &mut Vec<StixId>) {
            match v {
                Value::String(s) if key.ends_with("_ref") => {
                    if let Ok(id) = StixId::parse(s) {
                        out.push(id);
                    }
                }
                Value::Array(a) if key.ends_with("_refs") => {
                    for x in a {
                        walk("x_ref", x, out);
                    }
                }
                Value::Object(m) => {
                    for (k, x) in m {
                        walk(k, x, out);
                    }
                }
                Value::Array(a) => {
                    for x in a {
                        walk(key, x, out);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        out.extend(self.created_by_ref.iter().cloned());
        for (k, v) in &self.props {
            walk(k, v, &mut out);
        }
        for v in self.extensions.values() {
            walk("", v, &mut out);
        }
        out
    }
}
