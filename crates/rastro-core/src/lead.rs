//! Leads: candidate lab sites fused from weak signals, with the evidence behind each and the
//! status an analyst gives it. Leads are for lawful human decisions; they are never a target.

use crate::marking::Marking;
use crate::time::rfc3339_ms;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of signal a piece of evidence is. The weight of each kind is configuration
/// (rastro-fuse `LeadConfig`); this is only the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A place-based alert (unscheduled stop, undeclared destination, convergence, ...).
    Alert,
    /// A stop at an unknown place that did not reach the unscheduled-stop threshold.
    Stop,
    Tip,
    Seizure,
    EquipmentPurchase,
    /// Any other report with a position.
    Report,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Alert => "alert",
            EvidenceKind::Stop => "stop",
            EvidenceKind::Tip => "tip",
            EvidenceKind::Seizure => "seizure",
            EvidenceKind::EquipmentPurchase => "equipment_purchase",
            EvidenceKind::Report => "report",
        }
    }
}

/// One signal at a place and time, keeping the record it came from and that record's marking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Id of the origin record (alert, report, or `stop:<consignment>:<start>`).
    pub origin: String,
    pub kind: EvidenceKind,
    /// Finer label: the alert's typology, or the Admiralty grade of a report (`B2`).
    pub detail: String,
    #[serde(with = "rfc3339_ms")]
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
    /// Weight before time decay: kind weight × grade or alert score.
    pub weight: f64,
    pub marking: Marking,
}

/// An analyst's decision about a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    New,
    UnderReview,
    Released,
    Actioned,
    Closed,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 5] = [
        LeadStatus::New,
        LeadStatus::UnderReview,
        LeadStatus::Released,
        LeadStatus::Actioned,
        LeadStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::UnderReview => "under_review",
            LeadStatus::Released => "released",
            LeadStatus::Actioned => "actioned",
            LeadStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<LeadStatus> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        LeadStatus::ALL.into_iter().find(|k| k.as_str() == t)
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of evidence as it counts for a lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub evidence: Evidence,
    /// H3 cell the evidence fell in.
    pub cell: String,
    /// Weight after time decay: what this item adds to the lead's evidence mass.
    pub contribution: f64,
}

/// A candidate site: significant cells merged, ranked by `score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    /// Stable across recomputation while the site keeps any of its cells.
    pub id: String,
    pub rank: u32,
    pub score: f64,
    /// Evidence-weighted centre of the site.
    pub lat: f64,
    pub lon: f64,
    /// H3 cells of the site, as hexadecimal text.
    pub cells: Vec<String>,
    pub resolution: u8,
    /// Largest Gi* z-score among the site's cells, and its one-sided p-value.
    pub z_max: f64,
    pub p_min: f64,
    /// Decayed evidence mass, the background expected for the site's cells, and the number of
    /// distinct evidence kinds (the corroboration the score rewards).
    pub evidence_mass: f64,
    pub background: f64,
    pub kinds: u32,
    pub evidence: Vec<Contribution>,
    /// Most restrictive marking of the evidence.
    pub marking: Marking,
    pub status: LeadStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_note: Option<String>,
    /// Time of the newest evidence.
    #[serde(with = "rfc3339_ms")]
    pub last_seen_ms: i64,
    pub summary: String,
}

/// H3 cells (hexadecimal text) as the coordinates of an RFC 7946 MultiPolygon: one closed
/// ring per cell, longitude first; text that is not a cell is left out.
pub fn cells_multipolygon(cells: &[String]) -> serde_json::Value {
    let polys: Vec<serde_json::Value> = cells
        .iter()
        .filter_map(|c| crate::grid::parse(c))
        .map(|c| {
            let mut ring: Vec<[f64; 2]> = crate::grid::boundary(c)
                .into_iter()
                .map(|(lat, lon)| [lon, lat])
                .collect();
            if let Some(first) = ring.first().copied() {
                ring.push(first);
            }
            serde_json::json!([ring])
        })
        .collect();
    serde_json::Value::Array(polys)
}
