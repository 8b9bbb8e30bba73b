//! Sharing with other nodes and tools as STIX 2.1 (`rastro-stix`), through the guard: an
//! export holds only what the caller may read *and* the recipient organisation may read,
//! each object under its own marking; an import is the caller's organisation speaking, so an
//! object claiming another creator is refused, and the records it carries go through the same
//! checks as any ingest (originator, marking the sender may grant). Objects that map to no
//! record are kept as they came, every version, and shown to who may read them.

use crate::guard::Guard;
use crate::ingest::IngestLimits;
use crate::AppError;
use rastro_core::{Kind, Marking, Record, Tlp};
use rastro_stix::export::organisation_id;
use rastro_stix::{marking_of, parse_bundle, record_of, Exporter, Object};
use rastro_store::{AlertFilter, AuditEvent, StixRow};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

/// What one export holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExportSummaryV1 {
    pub recipient: String,
    pub bundle: String,
    pub objects: usize,
    /// Records, alerts and leads exported, by kind.
    pub by_kind: BTreeMap<String, usize>,
}

/// What one import did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportReportV1 {
    pub objects: usize,
    /// Records carried, by kind: inserted and already held.
    pub inserted: BTreeMap<String, u64>,
    pub duplicates: BTreeMap<String, u64>,
    /// Objects kept as they came: new versions, and versions already held.
    pub stored: u64,
    pub unchanged: u64,
    /// Marking and extension definitions and organisation identities: read, not stored.
    pub definitions: usize,
}

/// A stored STIX object as the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StixObjectV1 {
    pub id: String,
    pub modified: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub originator: String,
    pub tlp: String,
    pub releasable_to: Vec<String>,
    #[schema(value_type = Object)]
    pub object: serde_json::Value,
}

/// An export's objects, its counts by kind, and the items it shares (for the audit entry).
pub(crate) type Export = (Exporter, BTreeMap<String, usize>, Vec<String>);

/// Objects one export holds at most: the bundle is built in memory (about 650 bytes an
/// object), so a larger one is refused with what to do.
pub const MAX_EXPORT_OBJECTS: usize = 500_000;

fn too_many(to: &str) -> AppError {
    AppError::Invalid(format!(
        "the bundle for {to} would hold more than {MAX_EXPORT_OBJECTS} objects; narrow it with --since (the API's `since`)"
    ))
}

/// The record kinds an export reads by kind (observations come with their vehicles), in the
/// order an import ingests them: what is referred to before what refers to it.
const RECORD_KINDS: [Kind; 6] = [
    Kind::Party,
    Kind::Place,
    Kind::Vehicle,
    Kind::Consignment,
    Kind::Custody,
    Kind::Report,
];

/// Objects that define, rather than inform: read for their ids, never stored.
pub(crate) fn is_definition(o: &Object) -> bool {
    // Rastro's sightings travel inside the observed-data that carries their record.
    matches!(
        o.ty.as_str(),
        "marking-definition" | "extension-definition" | "x-rastro-sighting"
    ) || rastro_stix::import::organisation_of(o).is_some()
        || o.id == rastro_stix::marking::rastro_identity()
}

impl Guard<'_> {
    /// A STIX bundle for organisation `to`: every record, alert and lead the caller may read
    /// that `to` may read too, records with a time of their own only from `since_ms`, and the
    /// observations of the shared vehicles. Audited with the bundle's id and counts.
    pub fn export_bundle(
        &mut self,
        to: &str,
        since_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<(serde_json::Value, ExportSummaryV1), AppError> {
        let (ex, by_kind, shared) = self.export_objects(to, since_ms, now_ms)?;
        let objects = ex.len();
        let bundle = ex.bundle();
        let bid = bundle["id"].as_str().unwrap_or_default().to_string();
        let mut ev = AuditEvent::new("share.export");
        ev.detail = serde_json::json!({"to": to, "bundle": bid, "objects": objects, "by_kind": by_kind, "since": since_ms.map(rastro_core::format_time_ms)});
        ev.records = shared;
        self.log(ev)?;
        Ok((
            bundle,
            ExportSummaryV1 {
                recipient: to.to_string(),
                bundle: bid,
                objects,
                by_kind,
            },
        ))
    }

    /// What an export for `to` holds (see [`Guard::export_bundle`]): the objects, the counts
    /// by kind and the items shared, for the caller to audit.
    pub(crate) fn export_objects(
        &mut self,
        to: &str,
        since_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<Export, AppError> {
        let policy = self.policy().clone();
        let Some(rorg) = policy.org(to) else {
            return Err(AppError::Invalid(format!(
                "unknown organisation {to:?}; `rastro org list` names them"
            )));
        };
        let rnation = rorg.nation.clone();
        let admits = |originator: &str, m: &Marking| {
            originator == to || policy.admits_org(to, &rnation, &policy.explicit(originator, m))
        };
        // An alert's or lead's marking is already the combination of its inputs' explicit
        // markings: it is read as it is (making it explicit again for the exporting
        // organisation would add that organisation's defaults and widen it).
        let admits_derived = |m: &Marking| policy.admits_org(to, &rnation, m);
        let since = since_ms.unwrap_or(i64::MIN);
        let mut ex = Exporter::new();
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        let mut originators: BTreeSet<String> = BTreeSet::new();
        let mut vehicles: Vec<String> = Vec::new();
        let mut shared: Vec<String> = Vec::new();
        for kind in RECORD_KINDS {
            let mut after = 0;
            loop {
                let page = self.store().records(kind, after, 2000)?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for r in page {
                    let rec = &r.record;
                    let time = match rec {
                        Record::Consignment(c) => Some(c.arrival_ms),
                        Record::Custody(c) => Some(c.time_ms),
                        Record::Report(p) => Some(p.time_ms),
                        _ => None,
                    };
                    if !self.sees_class(r.class)
                        || !admits(rec.originator(), rec.marking())
                        || time.is_some_and(|t| t < since)
                    {
                        continue;
                    }
                    if let Record::Vehicle(v) = rec {
                        vehicles.push(v.id.clone());
                    }
                    originators.insert(rec.originator().to_string());
                    if ex.len() >= MAX_EXPORT_OBJECTS {
                        return Err(too_many(to));
                    }
                    ex.record(rec);
                    shared.push(format!("{}:{}", kind.as_str(), rec.id()));
                    *by_kind.entry(kind.as_str().into()).or_default() += 1;
                }
            }
        }
        let visible = self.visible_classes();
        let mut seen_obs: std::collections::HashSet<(String, String)> = Default::default();
        // The observations of the shared vehicles, then the caller's organisation's own (what
        // it contributed, of whatever subject); one held by both is exported once.
        enum Of<'v> {
            Vehicle(&'v str),
            Originator(String),
        }
        let own = self.viewer().map(|v| Of::Originator(v.org.clone()));
        for of in vehicles.iter().map(|v| Of::Vehicle(v)).chain(own) {
            let visible = |c| visible.contains(&c);
            let obs = match of {
                Of::Vehicle(v) => self.store().observations_of(v, since, now_ms, &visible)?,
                Of::Originator(o) => self.store().observations_by(&o, since, now_ms, &visible)?,
            };
            for o in obs {
                if !seen_obs.insert((o.obs.originator.clone(), o.obs.id.clone())) {
                    continue;
                }
                if admits(&o.obs.originator, &o.obs.marking) {
                    if ex.len() >= MAX_EXPORT_OBJECTS {
                        return Err(too_many(to));
                    }
                    originators.insert(o.obs.originator.clone());
                    ex.record(&Record::Observation(o.obs));
                    *by_kind.entry("observation".into()).or_default() += 1;
                }
            }
        }
        // The caller's own analysis: alerts and leads of its view, under their markings.
        let org = self.org();
        if let Some(vid) = self.vid() {
            for a in self.store().alerts(vid, &AlertFilter::default())? {
                if a.time_ms >= since && admits_derived(&a.marking) {
                    ex.alert(&a, &org);
                    shared.push(format!("alert:{}", a.id));
                    *by_kind.entry("alert".into()).or_default() += 1;
                }
            }
            for l in self.store().leads(vid, u32::MAX)? {
                if l.last_seen_ms >= since && admits_derived(&l.marking) {
                    ex.lead(&l, &org);
                    shared.push(format!("lead:{}", l.id));
                    *by_kind.entry("lead".into()).or_default() += 1;
                }
            }
            originators.insert(org.clone());
        }
        for code in &originators {
            let (name, nation) = policy
                .org(code)
                .map(|o| (o.name.clone(), o.nation.clone()))
                .unwrap_or_else(|| (code.clone(), policy.host_nation.clone()));
            ex.organisation(code, &name, &nation);
        }
        Ok((ex, by_kind, shared))
    }

    /// Imports a bundle. A user speaks for its organisation: every object must be created by
    /// it (or name no creator, and then is its). The operator installs what a peer node sent:
    /// every object must name a creator registered here. Refused as a whole, with the reason
    /// and nothing applied, when it is malformed, an object claims a creator it may not,
    /// carries a record of another originator than its creator, or is marked by anything but
    /// TLP 2.0; the records it carries are then ingested under their creator (as the user,
    /// refused together if any breaks the policy).
    pub fn import_bundle(
        &mut self,
        bytes: &[u8],
        limits: &IngestLimits,
        now_ms: i64,
    ) -> Result<ImportReportV1, AppError> {
        self.import_bundle_from(bytes, limits, now_ms, None)
    }

    /// [`Guard::import_bundle`], where an object naming no creator is `sender`'s (the peer
    /// node a pull came from) when the operator imports.
    pub(crate) fn import_bundle_from(
        &mut self,
        bytes: &[u8],
        limits: &IngestLimits,
        now_ms: i64,
        sender: Option<&str>,
    ) -> Result<ImportReportV1, AppError> {
        let objects = parse_bundle(bytes).map_err(|e| AppError::Invalid(e.to_string()))?;
        self.import_objects(&objects, limits, now_ms, sender)
    }

    /// [`Guard::import_bundle_from`] of objects already parsed (and checked) by
    /// `rastro_stix::parse_bundle`.
    pub(crate) fn import_objects(
        &mut self,
        objects: &[Object],
        limits: &IngestLimits,
        now_ms: i64,
        sender: Option<&str>,
    ) -> Result<ImportReportV1, AppError> {
        let viewer = self.viewer().cloned();
        let registered: BTreeMap<String, String> = self
            .policy()
            .orgs()
            .map(|o| (organisation_id(&o.code).to_string(), o.code.clone()))
            .collect();
        let mut report = ImportReportV1 {
            objects: objects.len(),
            ..Default::default()
        };
        let mut lines: BTreeMap<Kind, Vec<String>> = BTreeMap::new();
        let mut rows: Vec<StixRow> = Vec::new();
        for o in objects {
            if is_definition(o) {
                report.definitions += 1;
                continue;
            }
            let creator = match (&viewer, &o.created_by_ref) {
                (Some(v), None) => v.org.clone(),
                (Some(v), Some(by)) if registered.get(by.as_str()) == Some(&v.org) => v.org.clone(),
                (Some(v), Some(by)) => {
                    return Err(AppError::Forbidden(format!(
                        "nothing was imported: {} claims to be created by {by}, but you speak for {} ({}); a partner imports only what its organisation created",
                        o.id,
                        v.org,
                        organisation_id(&v.org)
                    )))
                }
                (None, Some(by)) => registered.get(by.as_str()).cloned().ok_or_else(|| {
                    AppError::Invalid(format!(
                        "nothing was imported: {} is created by {by}, which is no organisation registered here; register it (`rastro org add`) or import as its user",
                        o.id
                    ))
                })?,
                (None, None) if sender.is_some() => sender.unwrap_or_default().to_string(),
                (None, None) => {
                    return Err(AppError::Invalid(format!(
                        "nothing was imported: {} names no creator; import it as the sending organisation's user (--as USER)",
                        o.id
                    )))
                }
            };
            let marking = marking_of(o)
                .map_err(|e| AppError::Invalid(format!("nothing was imported: {e}")))?;
            // Checked for every object before anything is written, records included, so a
            // bundle is applied whole or not at all.
            if let Some(v) = &viewer {
                if let Err(e) = self.policy().may_originate(v, &creator, &marking) {
                    return Err(AppError::Forbidden(format!(
                        "nothing was imported: {}: {e}",
                        o.id
                    )));
                }
            }
            if let Some((kind, mut fields)) = record_of(o) {
                if fields.get("originator").is_some_and(|x| *x != creator) {
                    return Err(AppError::Forbidden(format!(
                        "nothing was imported: {} carries a {} record of {}, but is created by {creator}",
                        o.id,
                        kind.as_str(),
                        fields["originator"],
                    )));
                }
                // The STIX marking is the one the sender stated; the record takes it.
                fields.insert("originator".into(), creator.clone());
                fields.insert("tlp".into(), marking.tlp.as_str().into());
                fields.insert("releasable_to".into(), marking.releasable_text());
                lines
                    .entry(kind)
                    .or_default()
                    .push(serde_json::to_string(&fields).expect("fields serialise"));
            } else {
                rows.push(StixRow {
                    id: o.id.to_string(),
                    modified: o
                        .modified
                        .clone()
                        .or_else(|| o.created.clone())
                        .unwrap_or_default(),
                    ty: o.ty.clone(),
                    originator: creator.clone(),
                    marking,
                    body: serde_json::to_string(o).expect("an object serialises"),
                    added_ms: now_ms,
                });
            }
        }
        // Records first (each kind checked whole by the ingest), then the objects kept as
        // they came; a refusal in the records stops before anything else is written.
        for kind in RECORD_KINDS.into_iter().chain([Kind::Observation]) {
            let Some(ls) = lines.get(&kind) else { continue };
            let body = ls.join("\n") + "\n";
            let r = self.ingest(body.as_bytes(), Some(kind), limits, now_ms)?;
            report.inserted.insert(kind.as_str().into(), r.inserted);
            report.duplicates.insert(kind.as_str().into(), r.duplicates);
        }
        let n = rows.len() as u64;
        report.stored = self.store().put_stix(&rows)?;
        report.unchanged = n - report.stored;
        let mut ev = AuditEvent::new("share.import");
        ev.detail = serde_json::to_value(&report).unwrap_or_default();
        let actor = self.actor().clone();
        self.store().audit(&actor, ev)?;
        Ok(report)
    }

    /// Imported STIX objects the caller may read: the newest version of each, or every
    /// version.
    pub fn stix_objects(
        &mut self,
        all_versions: bool,
        limit: u32,
    ) -> Result<Vec<StixObjectV1>, AppError> {
        let (policy, viewer) = (self.policy().clone(), self.viewer().cloned());
        let rows = self
            .store()
            .stix_objects(all_versions, limit, |r| match &viewer {
                None => true,
                Some(v) => policy.may_read(v, &r.originator, &r.marking),
            })?;
        let out: Vec<StixObjectV1> = rows
            .into_iter()
            .map(|r| StixObjectV1 {
                id: r.id,
                modified: r.modified,
                ty: r.ty,
                originator: r.originator,
                tlp: r.marking.tlp.as_str().into(),
                releasable_to: r.marking.releasable_to.iter().cloned().collect(),
                object: serde_json::from_str(&r.body).unwrap_or_default(),
            })
            .collect();
        self.log_read(
            "stix",
            out.iter()
                .filter(|o| o.tlp != Tlp::Clear.as_str())
                .map(|o| format!("{}@{}", o.id, o.modified))
                .collect(),
        )?;
        Ok(out)
    }
}
