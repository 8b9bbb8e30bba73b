//! One consignment status and one trip window, shared by analysis, the guard, the CLI, the API
//! and the UI, so that no layer invents a status the others do not know.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a consignment is in its journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsignmentStatus {
    /// Declared, not yet loaded on a vehicle.
    AtPort,
    /// Loaded and moving towards its destination.
    InTransit,
    /// Delivered or received.
    Delivered,
    /// In transit past its estimated arrival plus a grace period.
    Overdue,
    /// In transit with nothing heard of it for too long.
    Lost,
}

impl ConsignmentStatus {
    pub const ALL: [ConsignmentStatus; 5] = [
        ConsignmentStatus::AtPort,
        ConsignmentStatus::InTransit,
        ConsignmentStatus::Delivered,
        ConsignmentStatus::Overdue,
        ConsignmentStatus::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsignmentStatus::AtPort => "at_port",
            ConsignmentStatus::InTransit => "in_transit",
            ConsignmentStatus::Delivered => "delivered",
            ConsignmentStatus::Overdue => "overdue",
            ConsignmentStatus::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<ConsignmentStatus> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        ConsignmentStatus::ALL.into_iter().find(|k| k.as_str() == t)
    }

    /// The accepted spellings, for error messages.
    pub fn choices() -> String {
        ConsignmentStatus::ALL.map(|s| s.as_str()).join(", ")
    }
}

impl fmt::Display for ConsignmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The time window around a trip in which a vehicle's fixes belong to the consignment: from an
/// hour before loading to three hours after delivery, or at most four days after loading when
/// no delivery is known. Analysis, the guard's track and every view use this one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TripWindow {
    pub from_ms: i64,
    pub to_ms: i64,
}

impl TripWindow {
    pub const BEFORE_LOADING_MS: i64 = 3_600_000;
    pub const AFTER_DELIVERY_MS: i64 = 3 * 3_600_000;
    /// A consignment without a delivery is tracked for at most this long after loading.
    pub const MAX_TRIP_MS: i64 = 96 * 3_600_000;

    pub fn new(loaded_ms: i64, delivered_ms: Option<i64>) -> TripWindow {
        TripWindow {
            from_ms: loaded_ms - Self::BEFORE_LOADING_MS,
            to_ms: delivered_ms.unwrap_or(loaded_ms + Self::MAX_TRIP_MS) + Self::AFTER_DELIVERY_MS,
        }
    }

    /// The smallest window holding both.
    pub fn union(self, o: TripWindow) -> TripWindow {
        TripWindow {
            from_ms: self.from_ms.min(o.from_ms),
            to_ms: self.to_ms.max(o.to_ms),
        }
    }

    pub fn contains(&self, t_ms: i64) -> bool {
        (self.from_ms..=self.to_ms).contains(&t_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_text_and_serde() {
        for s in ConsignmentStatus::ALL {
            assert_eq!(ConsignmentStatus::parse(s.as_str()), Some(s));
            let j = serde_json::to_string(&s).unwrap();
            assert_eq!(j, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(ConsignmentStatus::parse("lost_contact"), None);
    }

    #[test]
    fn trip_window_bounds() {
        let w = TripWindow::new(10 * 3_600_000, Some(20 * 3_600_000));
        assert_eq!(w.from_ms, 9 * 3_600_000);
        assert_eq!(w.to_ms, 23 * 3_600_000);
        let open = TripWindow::new(0, None);
        assert_eq!(open.to_ms, 99 * 3_600_000);
        assert!(w.union(open).contains(0));
    }
}
