//! Reading a bundle from any tool: bounded, every object checked before anything is used,
//! markings read from the official TLP 2.0 marking definitions only (an object marked by
//! anything else is refused, never guessed), and the Rastro record an object carries, when it
//! carries one. What the receiving node may do with each object is the node's decision.

use crate::id::StixId;
use crate::marking::{record_extension_id, releasable_extension_id, tlp_of_marking_id};
use crate::object::Object;
use rastro_core::{Kind, Marking, Tlp};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Bytes of one bundle read at most.
pub const MAX_BUNDLE_BYTES: usize = 64 << 20;
/// Objects in one bundle at most.
pub const MAX_BUNDLE_OBJECTS: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the bundle is not JSON: {0}")]
    Json(String),
    #[error("the bundle is too large: {0}")]
    TooLarge(String),
    #[error("{0}")]
    Invalid(String),
}

fn invalid(m: String) -> ImportError {
    ImportError::Invalid(m)
}

/// The objects of a bundle, each checked (see [`Object::check`]); refused as a whole, with
/// the first reason, if any object is malformed, two versions share an id and `modified` but
/// differ, or references go round in a circle.
pub fn parse_bundle(bytes: &[u8]) -> Result<Vec<Object>, ImportError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(ImportError::TooLarge(format!(
            "{} bytes; at most {MAX_BUNDLE_BYTES} per bundle, split it",
            bytes.len()
        )));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| ImportError::Json(e.to_string()))?;
    if v.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(invalid(
            "the top-level object is not a bundle (\"type\": \"bundle\")".into(),
        ));
    }
    let bid = v.get("id").and_then(Value::as_str).unwrap_or("");
    match StixId::parse(bid) {
        Ok(id) if id.ty() == "bundle" => {}
        _ => {
            return Err(invalid(format!(
                "the bundle id {bid:?} is not bundle--<uuid>"
            )))
        }
    }
    let list = match v.get("objects") {
        None => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid("\"objects\" is not a list".into())),
    };
    if list.len() > MAX_BUNDLE_OBJECTS {
        return Err(ImportError::TooLarge(format!(
            "{} objects; at most {MAX_BUNDLE_OBJECTS} per bundle",
            list.len()
        )));
    }
    let mut out: Vec<Object> = Vec::with_capacity(list.len());
    let mut seen: HashMap<(StixId, Option<String>), usize> = HashMap::new();
    for (i, raw) in list.iter().enumerate() {
        let o = Object::from_value(raw.clone()).map_err(|e| invalid(format!("object {i}: {e}")))?;
        match seen.get(&(o.id.clone(), o.modified.clone())) {
            Some(&j) if out[j] != o => {
                return Err(invalid(format!(
                    "object {i}: {} appears twice with modified {:?} and different content",
                    o.id, o.modified
                )))
            }
            Some(_) => continue,
            None => {
                seen.insert((o.id.clone(), o.modified.clone()), out.len());
                out.push(o);
            }
        }
    }
    if let Some(cycle) = find_cycle(&out) {
        return Err(invalid(format!(
            "references go round in a circle: {}",
            cycle
                .iter()
                .map(StixId::as_str)
                .collect::<Vec<_>>()
                .join(" -> ")
        )));
    }
    Ok(out)
}

/// A circle of references among the bundle's objects, if there is one. An identity that
/// names itself as its creator is not a circle (tools commonly do that).
fn find_cycle(objects: &[Object]) -> Option<Vec<StixId>> {
    let mut edges: BTreeMap<&StixId, BTreeSet<StixId>> = BTreeMap::new();
    for o in objects {
        let e = edges.entry(&o.id).or_default();
        for r in o.refs() {
            if r != o.id {
                e.insert(r);
            }
        }
    }
    // Iterative depth-first search with colours: 1 on the path, 2 done.
    let mut colour: HashMap<&StixId, u8> = HashMap::new();
    for start in edges.keys().copied() {
        if colour.contains_key(start) {
            continue;
        }
        let mut stack: Vec<(&StixId, Vec<&StixId>)> = vec![(start, Vec::new())];
        let mut path: Vec<&StixId> = Vec::new();
        while let Some((node, _)) = stack.last() {
            let node = *node;
            if !colour.contains_key(node) {
                colour.insert(node, 1);
                path.push(node);
                let next: Vec<&StixId> = edges
                    .get(node)
                    .map(|s| {
                        s.iter()
                            .filter_map(|r| edges.get_key_value(r).map(|(k, _)| *k))
                            .collect()
                    })
                    .unwrap_or_default();
                stack.last_mut().expect("just looked").1 = next;
            }
            let top = stack.last_mut().expect("just looked");
            match top.1.pop() {
                Some(n) => match colour.get(n) {
                    Some(1) => {
                        let at = path.iter().position(|p| *p == n).unwrap_or(0);
                        let mut c: Vec<StixId> = path[at..].iter().map(|p| (*p).clone()).collect();
                        c.push(n.clone());
                        return Some(c);
                    }
                    Some(_) => {}
                    None => stack.push((n, Vec::new())),
                },
                None => {
                    colour.insert(node, 2);
                    path.pop();
                    stack.pop();
                }
            }
        }
    }
    None
}

/// An object's marking: its one TLP 2.0 marking definition and its releasable-to list. An
/// object with no marking reads as TLP:RED (its originator alone), the most restrictive: a
/// marking that is not stated is never widened. A marking definition that is not an official
/// TLP 2.0 one, or two TLP levels, is refused.
pub fn marking_of(o: &Object) -> Result<Marking, String> {
    let mut tlp: Option<Tlp> = None;
    for m in &o.object_marking_refs {
        match tlp_of_marking_id(m.as_str()) {
            Some(t) if tlp.is_none_or(|x| x == t) => tlp = Some(t),
            Some(_) => return Err(format!("{}: marked with two TLP levels", o.id)),
            None => {
                return Err(format!(
                    "{}: marked by {m}, which is not a TLP 2.0 marking definition (only those are read)",
                    o.id
                ))
            }
        }
    }
    let mut m = Marking::new(tlp.unwrap_or(Tlp::Red));
    if let Some(rel) = o.extensions.get(releasable_extension_id().as_str()) {
        let list = rel
            .get("releasable_to")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{}: the releasable-to extension has no list", o.id))?;
        for x in list {
            let s = x
                .as_str()
                .filter(|s| !s.is_empty() && s.len() <= 64)
                .ok_or_else(|| format!("{}: a releasable-to entry is not a short string", o.id))?;
            m.releasable_to.insert(s.trim().to_ascii_uppercase());
        }
    }
    Ok(m)
}

/// The Rastro record an object carries: its kind and exchange-format fields, when the object
/// has Rastro's record extension for a record kind.
pub fn record_of(o: &Object) -> Option<(Kind, BTreeMap<String, String>)> {
    let ext = o.extensions.get(record_extension_id().as_str())?;
    let (kind, fields) = match ext.get("extension_type").and_then(Value::as_str) {
        Some("new-sdo") => (o.props.get("kind")?, o.props.get("fields")?),
        Some("property-extension") => (ext.get("kind")?, ext.get("fields")?),
        _ => return None,
    };
    let kind = Kind::parse(kind.as_str()?)?;
    let fields = fields
        .as_object()?
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    Some((kind, fields))
}

/// The organisation code of a Rastro organisation identity (`org:<code>`), when the object
/// is one.
pub fn organisation_of(o: &Object) -> Option<(String, String)> {
    let ext = o.extensions.get(record_extension_id().as_str())?;
    if ext.get("kind").and_then(Value::as_str) != Some("organisation") {
        return None;
    }
    let f = ext.get("fields")?;
    Some((
        f.get("code")?.as_str()?.to_string(),
        f.get("nation")?.as_str()?.to_string(),
    ))
}
