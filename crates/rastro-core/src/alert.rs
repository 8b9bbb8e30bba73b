//! Alerts: what a detector raises, with the evidence an analyst needs to check it.

use crate::marking::Marking;
use crate::time::rfc3339_ms;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The diversion typologies of BRIEF section 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Typology {
    RouteDeviation,
    UnscheduledStop,
    TrackingGap,
    UndeclaredDestination,
    QuantityShortfall,
    MisDeclaration,
    FrontConsignee,
    Structuring,
    Convergence,
    Transshipment,
}

impl Typology {
    pub const ALL: [Typology; 10] = [
        Typology::RouteDeviation,
        Typology::UnscheduledStop,
        Typology::TrackingGap,
        Typology::UndeclaredDestination,
        Typology::QuantityShortfall,
        Typology::MisDeclaration,
        Typology::FrontConsignee,
        Typology::Structuring,
        Typology::Convergence,
        Typology::Transshipment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Typology::RouteDeviation => "route_deviation",
            Typology::UnscheduledStop => "unscheduled_stop",
            Typology::TrackingGap => "tracking_gap",
            Typology::UndeclaredDestination => "undeclared_destination",
            Typology::QuantityShortfall => "quantity_shortfall",
            Typology::MisDeclaration => "mis_declaration",
            Typology::FrontConsignee => "front_consignee",
            Typology::Structuring => "structuring",
            Typology::Convergence => "convergence",
            Typology::Transshipment => "transshipment",
        }
    }

    pub fn parse(s: &str) -> Option<Typology> {
        let t = s.trim().to_ascii_lowercase().replace('-', "_");
        Typology::ALL.into_iter().find(|k| k.as_str() == t)
    }

    /// Whether the alert's subject is one consignment (otherwise a place or a group).
    pub fn per_consignment(self) -> bool {
        !matches!(self, Typology::Convergence)
    }
}

impl fmt::Display for Typology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert. `id` is deterministic (typology, subject and what distinguishes this alert from
/// others of the same subject), so re-running analysis on the same data updates alerts in
/// place instead of duplicating them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub typology: Typology,
    /// A consignment id, or for place-based typologies a place key (`cell:<h3>`).
    pub subject: String,
    #[serde(with = "rfc3339_ms")]
    pub time_ms: i64,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// In [0, 1]; each detector documents what its score means. Alerts are raised at >= 0.5.
    pub score: f64,
    /// Ids of the records (observations, custody events, consignments, parties, other alerts)
    /// that produced the alert.
    pub evidence: Vec<String>,
    pub summary: String,
    /// Most restrictive marking of the evidence.
    pub marking: Marking,
    /// The figures behind the summary, by name (`depth_m`, `dwell_s`, `fixes_off`...), so a
    /// front-end can say the same thing in another language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, f64>,
}
