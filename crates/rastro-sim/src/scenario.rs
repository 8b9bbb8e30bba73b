//! The scenarios a consignment follows: legitimate, or one of seven diversions. Each knows its
//! name in the truth files, its share in the configuration, the labs its route can use and
//! the typologies it stages, so the world's planners match on a type, not on strings.

use crate::config::Diversion;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Legit,
    /// Leaves the declared route for a lab off it, stops there, goes on to the destination.
    DetourToLab,
    /// Stops at a lab in a city on the declared route.
    StopEnRoute,
    /// As `StopEnRoute`, with the tracker off around the stop.
    DarkStop,
    /// Delivers at a lab instead of the declared destination.
    UndeclaredDelivery,
    /// The precursor declared as something harmless.
    Misdeclared,
    /// A freshly registered consignee with a residential address near a lab.
    FrontConsignee,
    /// Several linked parties import just under the threshold.
    Structuring,
}

impl Scenario {
    /// The diversions, in the order the configuration's shares are cumulated.
    pub const DIVERSIONS: [Scenario; 7] = [
        Scenario::DetourToLab,
        Scenario::StopEnRoute,
        Scenario::DarkStop,
        Scenario::UndeclaredDelivery,
        Scenario::Misdeclared,
        Scenario::FrontConsignee,
        Scenario::Structuring,
    ];

    /// The name in the truth files.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Legit => "legit",
            Scenario::DetourToLab => "detour_to_lab",
            Scenario::StopEnRoute => "stop_en_route",
            Scenario::DarkStop => "dark_stop",
            Scenario::UndeclaredDelivery => "undeclared_delivery",
            Scenario::Misdeclared => "misdeclared",
            Scenario::FrontConsignee => "front_consignee",
            Scenario::Structuring => "structuring",
        }
    }

    /// The share of consignments that follow this diversion.
    pub fn share(self, d: &Diversion) -> f64 {
        match self {
            Scenario::Legit => 0.0,
            Scenario::DetourToLab => d.detour_to_lab,
            Scenario::StopEnRoute => d.stop_en_route,
            Scenario::DarkStop => d.dark_stop,
            Scenario::UndeclaredDelivery => d.undeclared_delivery,
            Scenario::Misdeclared => d.misdeclared,
            Scenario::FrontConsignee => d.front_consignee,
            Scenario::Structuring => d.structuring,
        }
    }

    /// Whether the trip's route is planned around a lab.
    pub fn routes_via_lab(self) -> bool {
        matches!(
            self,
            Scenario::DetourToLab
                | Scenario::StopEnRoute
                | Scenario::DarkStop
                | Scenario::UndeclaredDelivery
        )
    }

    /// The typologies the route stages, once a lab was found for it.
    pub fn route_typologies(self) -> Vec<&'static str> {
        match self {
            Scenario::DetourToLab => {
                vec!["route_deviation", "unscheduled_stop", "quantity_shortfall"]
            }
            // The lab sits in a neighbourhood away from the highways (at least 1.5 km), so
            // reaching it leaves the roads legitimate traffic drives.
            Scenario::StopEnRoute => {
                vec!["route_deviation", "unscheduled_stop", "quantity_shortfall"]
            }
            Scenario::DarkStop => vec!["tracking_gap", "quantity_shortfall"],
            // Delivering at the lab, off the highways, also leaves the roads legitimate
            // traffic drives.
            Scenario::UndeclaredDelivery => vec!["undeclared_destination", "route_deviation"],
            Scenario::Misdeclared => vec!["mis_declaration"],
            Scenario::Legit | Scenario::FrontConsignee | Scenario::Structuring => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_diversion_has_a_distinct_name_and_stages_something_or_is_fed_by_actors() {
        let mut names: Vec<&str> = Scenario::DIVERSIONS.iter().map(|s| s.as_str()).collect();
        names.push(Scenario::Legit.as_str());
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 8);
        for s in Scenario::DIVERSIONS {
            let staged = s.route_typologies();
            assert!(
                !staged.is_empty() || matches!(s, Scenario::FrontConsignee | Scenario::Structuring),
                "{s:?}"
            );
            assert_eq!(
                s.routes_via_lab(),
                staged.iter().any(|t| *t == "unscheduled_stop"
                    || *t == "tracking_gap"
                    || *t == "undeclared_destination"),
                "{s:?}"
            );
        }
        assert!(Scenario::Legit.route_typologies().is_empty());
    }
}
