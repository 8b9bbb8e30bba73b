//! Wire types: what a user receives, version 1 (served under `/api/v1` and printed by the CLI
//! with `--json`). They are separate from the stored bodies: a view says what a reader may
//! know, in the shape a reader needs, and can stay stable while storage changes. Every type
//! has an OpenAPI schema (utoipa), so the document and the code cannot drift.
//!
//! Records themselves travel in the exchange format of `docs/formats.md` (the same field
//! names as the CSV columns), which is already public and versioned by that document.

use rastro_core::{
    Alert, ConsignmentStatus, Contribution, Lead, LeadStatus, Marking, Record, Tlp, Typology,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A marking as a reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MarkingV1 {
    /// `CLEAR`, `GREEN`, `AMBER`, `AMBER+STRICT` or `RED`.
    pub tlp: String,
    /// Organisations or nations the marking releases to beyond its level's default.
    pub releasable_to: Vec<String>,
    /// `TLP:AMBER REL TO MX`.
    pub text: String,
}

impl From<&Marking> for MarkingV1 {
    fn from(m: &Marking) -> Self {
        MarkingV1 {
            tlp: m.tlp.as_str().into(),
            releasable_to: m.releasable_to.iter().cloned().collect(),
            text: m.to_string(),
        }
    }
}

/// The consignment statuses, as the UI knows them (the tidy test checks every one has a
/// translation in both languages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusV1 {
    AtPort,
    InTransit,
    Delivered,
    Overdue,
    Lost,
}

impl From<ConsignmentStatus> for StatusV1 {
    fn from(s: ConsignmentStatus) -> Self {
        match s {
            ConsignmentStatus::AtPort => StatusV1::AtPort,
            ConsignmentStatus::InTransit => StatusV1::InTransit,
            ConsignmentStatus::Delivered => StatusV1::Delivered,
            ConsignmentStatus::Overdue => StatusV1::Overdue,
            ConsignmentStatus::Lost => StatusV1::Lost,
        }
    }
}

/// An alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertV1 {
    pub id: String,
    /// One of the diversion typologies (`route_deviation`, `unscheduled_stop`, ...).
    pub typology: String,
    /// A consignment id, or for place-based typologies `cell:<h3>`.
    pub subject: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// In [0, 1]; `docs/detection.md` says what each typology's score means.
    pub score: f64,
    /// Ids of the records that produced it.
    pub evidence: Vec<String>,
    pub summary: String,
    /// The figures behind the summary, by name, for a front-end to say in any language.
    pub facts: BTreeMap<String, f64>,
    pub marking: MarkingV1,
}

impl From<&Alert> for AlertV1 {
    fn from(a: &Alert) -> Self {
        AlertV1 {
            id: a.id.clone(),
            typology: a.typology.as_str().into(),
            subject: a.subject.clone(),
            time: rastro_core::format_time_ms(a.time_ms),
            lat: a.lat,
            lon: a.lon,
            score: a.score,
            evidence: a.evidence.clone(),
            summary: a.summary.clone(),
            facts: a.facts.clone(),
            marking: (&a.marking).into(),
        }
    }
}

/// Every typology, as text: what the `typology` fields and parameters take.
pub fn typologies() -> Vec<&'static str> {
    Typology::ALL.iter().map(|t| t.as_str()).collect()
}

/// An organisation's triage of an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TriageV1 {
    /// `acknowledged`, `dismissed` or `escalated`.
    pub state: String,
    pub reason: Option<String>,
    pub by: String,
    pub time: String,
}

/// The alert queue: alerts with the caller's organisation's triage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertQueueV1 {
    pub alerts: Vec<AlertV1>,
    /// By alert id.
    pub triage: BTreeMap<String, TriageV1>,
}

/// One piece of evidence as it counts for a lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContributionV1 {
    /// Id of the origin record (alert, report, or `stop:<consignment>:<start>`).
    pub origin: String,
    /// `alert`, `stop`, `tip`, `seizure`, `equipment_purchase` or `report`.
    pub kind: String,
    /// The alert's typology, or the Admiralty grade of a report (`B2`).
    pub detail: String,
    pub time: String,
    pub lat: f64,
    pub lon: f64,
    pub weight: f64,
    pub marking: MarkingV1,
    pub cell: String,
    /// Weight after time decay: what this item adds to the lead's evidence mass.
    pub contribution: f64,
}

impl From<&Contribution> for ContributionV1 {
    fn from(c: &Contribution) -> Self {
        let e = &c.evidence;
        ContributionV1 {
            origin: e.origin.clone(),
            kind: e.kind.as_str().into(),
            detail: e.detail.clone(),
            time: rastro_core::format_time_ms(e.time_ms),
            lat: e.lat,
            lon: e.lon,
            weight: e.weight,
            marking: (&e.marking).into(),
            cell: c.cell.clone(),
            contribution: c.contribution,
        }
    }
}

/// A release of a lead as its releaser sees it on the live lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseRefV1 {
    pub release: i64,
    pub recipients: Vec<String>,
    pub time: String,
    pub sha256: String,
    pub revoked: bool,
    /// The live lead no longer equals what was released: decide again.
    pub changed_since_release: bool,
}

/// A candidate site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeadV1 {
    pub id: String,
    pub rank: u32,
    pub score: f64,
    pub lat: f64,
    pub lon: f64,
    /// H3 cells of the site.
    pub cells: Vec<String>,
    pub resolution: u8,
    pub z_max: f64,
    pub p_min: f64,
    pub evidence_mass: f64,
    pub background: f64,
    pub kinds: u32,
    pub evidence: Vec<ContributionV1>,
    pub marking: MarkingV1,
    /// `new`, `under_review`, `released`, `actioned` or `closed`: the caller's organisation's
    /// decision.
    pub status: String,
    pub status_note: Option<String>,
    pub last_seen: String,
    pub summary: String,
    /// Releases of this lead made by the caller's organisation.
    pub releases: Vec<ReleaseRefV1>,
    /// What closed operations of the caller's organisation taught about the evidence kinds
    /// of this lead (Laplace-smoothed hit rates).
    #[serde(default)]
    pub hit_rates: Vec<crate::ops_views::KindRateV1>,
    /// Forensic seizure groups tied to this lead, from what the caller may see (filled in the
    /// lead's own view and in packages; empty in lists, where it would cost a linkage per lead).
    #[serde(default)]
    pub forensic_groups: Vec<LeadForensicV1>,
}

/// A group of seizures whose impurity profiles link, tied to a lead by place and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeadForensicV1 {
    pub group: String,
    pub seizures: Vec<String>,
    pub samples: usize,
    /// The group's seizure nearest the lead, and how far.
    pub seizure: String,
    pub distance_m: f64,
    /// Mean value of the calibrated method over the group's sample pairs.
    pub mean_value: f64,
    /// The calibrated method and threshold, e.g. `sum + manhattan < 0.3669`.
    pub method: String,
    pub summary: String,
}

impl LeadV1 {
    pub fn new(l: &Lead, status: LeadStatus, note: Option<String>) -> LeadV1 {
        LeadV1 {
            id: l.id.clone(),
            rank: l.rank,
            score: l.score,
            lat: l.lat,
            lon: l.lon,
            cells: l.cells.clone(),
            resolution: l.resolution,
            z_max: l.z_max,
            p_min: l.p_min,
            evidence_mass: l.evidence_mass,
            background: l.background,
            kinds: l.kinds,
            evidence: l.evidence.iter().map(Into::into).collect(),
            marking: (&l.marking).into(),
            status: status.as_str().into(),
            status_note: note,
            last_seen: rastro_core::format_time_ms(l.last_seen_ms),
            summary: l.summary.clone(),
            releases: Vec::new(),
            hit_rates: Vec::new(),
            forensic_groups: Vec::new(),
        }
    }
}

/// A lead released to the caller (or by the caller's organisation): frozen as approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseV1 {
    pub release: i64,
    /// The releasing organisation.
    pub released_by: String,
    pub time: String,
    pub recipients: Vec<String>,
    /// SHA-256 of the released content (canonical JSON of the lead as approved).
    pub sha256: String,
    pub revoked: bool,
    pub revoked_time: Option<String>,
    /// The lead as it was released; its marking lists the recipients.
    pub lead: LeadV1,
}

/// A consignment in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsignmentItemV1 {
    /// The consignment record in the exchange format.
    #[schema(value_type = Object)]
    pub consignment: Record,
    pub status: Option<StatusV1>,
}

/// A consignment's track as an RFC 7946 Feature (a LineString, longitude first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrackV1 {
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
}

/// One consignment with everything the caller may see of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsignmentV1 {
    #[schema(value_type = Object)]
    pub consignment: Record,
    pub status: Option<StatusV1>,
    pub eta: Option<String>,
    /// Custody events in the exchange format.
    #[schema(value_type = Vec<Object>)]
    pub custody: Vec<Record>,
    pub alerts: Vec<AlertV1>,
    pub track: TrackV1,
    /// Stops, gaps, rejected fixes and the observed delivery, as the caller's view found them.
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

/// One observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ObservationV1 {
    #[schema(value_type = Object)]
    pub observation: Record,
}

/// Counts of what the caller may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatsV1 {
    /// Records per kind.
    pub visible: BTreeMap<String, u64>,
}

/// A registered organisation, as a host-nation commander picks release recipients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrgV1 {
    pub code: String,
    pub name: String,
    pub nation: String,
    pub kind: String,
}

/// Who the caller is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MeV1 {
    pub user: String,
    pub org: String,
    pub nation: String,
    pub role: String,
    pub host_nation: String,
}

/// A quarantined line of one of the caller's organisation's submissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuarantineV1 {
    pub seq: i64,
    pub source: String,
    pub line: u64,
    pub kind: Option<String>,
    pub field: Option<String>,
    pub reason: String,
    /// The first bytes of the line.
    pub raw: String,
}

/// What one ingest did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IngestReportV1 {
    pub source: String,
    pub kind: Option<String>,
    pub lines: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub conflicts: u64,
    pub quarantined: u64,
    pub rejected: u64,
    /// The first few rejections.
    pub examples: Vec<QuarantineV1>,
    /// Of the submitter's observations: collected under an approved request, and flagged
    /// because none covers them (kept; the host nation decides), with the first few reasons.
    pub collected_under_request: u64,
    pub collection_flagged: u64,
    pub flags: Vec<String>,
}

/// An audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryV1 {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub records: Vec<String>,
    pub from: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub leaf_hash: String,
}

/// The audit chain recomputed from its stored bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerifyV1 {
    pub ok: bool,
    pub entries: u64,
    /// Signed tree heads stored by the node and checked against the recomputed tree.
    pub heads_checked: u64,
    pub root_hash: String,
    /// The first entry found bad, if any.
    pub first_bad_entry: Option<u64>,
    /// What was wrong (at most 20).
    pub problems: Vec<String>,
}

/// A public port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PortV1 {
    pub name: String,
    pub locode: String,
    pub lat: f64,
    pub lon: f64,
}

/// Every error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorV1 {
    /// `bad_request`, `unauthenticated`, `forbidden`, `not_found`, `too_large`,
    /// `unsupported_media_type`, `unprocessable`, `too_many_requests`, `unavailable`,
    /// `timeout`, `internal`.
    pub error: String,
    pub message: String,
}

/// The TLP text of a level, for the schema of `MarkingV1::tlp`.
pub fn tlp_text(t: Tlp) -> &'static str {
    t.as_str()
}
