//! The stored state of one consignment as one audience's analysis saw it: status, ETA, the
//! subjects and window of its track, stops, gaps, rejected fixes, the observed delivery, and
//! the places of concern that tell incremental analysis when to look again.
//!
//! It is derived data: computed per view from what that view may see, never shared between
//! views that see different inputs. Its body is versioned (`v`), so a reader of an older body
//! knows what it holds.

use crate::status::{ConsignmentStatus, TripWindow};
use serde::{Deserialize, Serialize};

/// Version of the stored body written by this build.
pub const STATE_VERSION: u8 = 1;

/// What a stop was found to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopClass {
    /// At the origin port.
    Origin,
    /// At (or, waiting, just before) the declared destination.
    Destination,
    /// Waiting near the destination before it opens.
    GateWait,
    /// At another consignment's destination on the same vehicle (multi-drop).
    OtherDrop,
    /// At a place many unrelated fleets use (a truck stop) or a registered rest place.
    Rest,
    /// A short stop on a road that traffic uses (congestion, a checkpoint queue).
    Traffic,
    /// Anywhere else: a place no unrelated fleet uses.
    Unexplained,
}

impl StopClass {
    pub fn as_str(self) -> &'static str {
        match self {
            StopClass::Origin => "origin",
            StopClass::Destination => "destination",
            StopClass::GateWait => "gate_wait",
            StopClass::OtherDrop => "other_drop",
            StopClass::Rest => "rest",
            StopClass::Traffic => "traffic",
            StopClass::Unexplained => "unexplained",
        }
    }
}

/// One stop on the track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopSummary {
    pub start_ms: i64,
    pub end_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub class: StopClass,
    /// The registered or learned place that explains it, when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The city whose built-up area holds it (public geography).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urban: Option<String>,
    /// Distinct carriers other than this vehicle's that stopped here (learned).
    #[serde(default)]
    pub popularity: u32,
    /// First and last observation of the stop.
    pub first_obs: String,
    pub last_obs: String,
}

/// One silence of the tracker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapSummary {
    pub start_ms: i64,
    pub end_ms: i64,
    pub from_obs: String,
    pub to_obs: String,
    pub distance_m: f64,
}

/// A fix cleaning set aside, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedFix {
    pub obs_id: String,
    pub reason: String,
}

/// Where the track says the goods were delivered: the last dwell of the trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedDelivery {
    pub lat: f64,
    pub lon: f64,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Distance to the declared destination, metres.
    pub from_declared_m: f64,
}

/// A subject whose fixes make a consignment's track only between two times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectWindow {
    pub subject: String,
    pub from_ms: i64,
    pub to_ms: i64,
}

impl ConsignmentState {
    /// The part of the trip window in which `subject`'s fixes belong to the track.
    pub fn window_of(&self, subject: &str) -> Option<TripWindow> {
        let w = self.window?;
        Some(match self.handoffs.iter().find(|h| h.subject == subject) {
            Some(h) => TripWindow {
                from_ms: h.from_ms.max(w.from_ms),
                to_ms: h.to_ms.min(w.to_ms),
            },
            None => w,
        })
    }
}

/// The state of one consignment in one view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsignmentState {
    pub v: u8,
    pub status: ConsignmentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_ms: Option<i64>,
    /// The vehicle it was loaded on, as this view knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
    /// Every subject whose fixes make the track (vehicle id, plate, container, consignment).
    #[serde(default)]
    pub subjects: Vec<String>,
    /// The trip window the track was read in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<TripWindow>,
    /// Subjects whose fixes count only part of the window: around a declared transfer, the
    /// loading vehicle until the transfer and the receiving vehicle after it. Subjects not
    /// listed count for the whole window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handoffs: Vec<SubjectWindow>,
    pub fixes: usize,
    #[serde(default)]
    pub rejected: Vec<RejectedFix>,
    #[serde(default)]
    pub stops: Vec<StopSummary>,
    #[serde(default)]
    pub gaps: Vec<GapSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<ObservedDelivery>,
    /// Learned-grid cells where the analysis found something the learned normal did not
    /// explain; when the learned normal of one of them changes, the consignment is analysed
    /// again.
    #[serde(default)]
    pub concerns: Vec<u64>,
}

impl ConsignmentState {
    pub fn new(status: ConsignmentStatus) -> ConsignmentState {
        ConsignmentState {
            v: STATE_VERSION,
            status,
            eta_ms: None,
            vehicle: None,
            subjects: Vec::new(),
            window: None,
            handoffs: Vec::new(),
            fixes: 0,
            rejected: Vec::new(),
            stops: Vec::new(),
            gaps: Vec::new(),
            delivery: None,
            concerns: Vec::new(),
        }
    }
}
