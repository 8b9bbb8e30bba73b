//! Typed detector configuration; every threshold carries its unit in its name.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Alerts are raised at or above this score.
    pub alert_threshold: f64,
    /// Fixes implying more than this speed from the previous fix are rejected as impossible.
    pub max_speed_kmh: f64,
    /// Half-width of the corridor around the expected route.
    pub corridor_m: f64,
    /// Off-corridor (or, with a learned model, off-road) fixes needed before a deviation is
    /// called.
    pub deviation_min_fixes: usize,
    /// A stretch off the learned roads must reach this far from them to be a detour.
    pub detour_min_depth_m: f64,
    /// A stretch without a stop whose entry and exit lie farther apart than this many times
    /// its depth is another road between two learned ones, not an excursion.
    pub detour_max_chord_depth: f64,
    /// Fixes this close to where the trip starts are its departure (a yard, a port's roads).
    pub detour_origin_m: f64,
    /// A stop off the learned roads is a detour's goal when the track left from, and came
    /// back to, points within this path distance of it (each way) that lie close together
    /// compared with the stop's distance from them (`detour_max_chord_depth`): an excursion,
    /// not a rest on a road the model has not seen enough carriers drive.
    pub detour_reach_m: f64,
    /// Stop detection (MovingPandas semantics).
    pub stop_max_diameter_m: f64,
    pub stop_min_duration_s: f64,
    /// A GPS silence longer than max(gap_min_s, gap_interval_factor x reporting interval) is a
    /// gap.
    pub gap_min_s: f64,
    pub gap_interval_factor: f64,
    /// Rest time a known rest place on the way explains during a silence.
    pub gap_rest_allowance_s: f64,
    /// A delivery farther than this from the declared destination (or its radius, if larger)
    /// is undeclared.
    pub undeclared_distance_m: f64,
    /// A stop this close to the destination's edge (its radius plus this), after which the
    /// vehicle goes no farther from it, is a wait at the gate (a truck that arrives before the
    /// plant opens). Kept short: a place a few kilometres from the plant is a detour.
    pub gate_wait_m: f64,
    /// A stop this close to where the vehicle drops another consignment of the same trip is
    /// that delivery (a multi-drop truck).
    pub drop_radius_m: f64,
    /// Received quantity may be short by this fraction before it is a shortfall.
    pub shortfall_tolerance: f64,
    /// A consignee registered less than this before the arrival is recent.
    pub front_recent_days: f64,
    /// Structuring: imports of one chemical by linked parties inside this window.
    pub structuring_window_days: f64,
    /// Structuring threshold when the catalogue sets none for the chemical.
    pub structuring_default_threshold_kg: f64,
    /// Convergence: suspicious places of different consignments within this distance.
    pub convergence_radius_m: f64,
    pub convergence_min_consignments: usize,
    /// Expected reporting interval when a vehicle record does not say.
    pub default_report_interval_s: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            alert_threshold: 0.5,
            max_speed_kmh: 200.0,
            corridor_m: 12_000.0,
            deviation_min_fixes: 3,
            detour_min_depth_m: 400.0,
            detour_max_chord_depth: 2.0,
            detour_origin_m: 2000.0,
            detour_reach_m: 25_000.0,
            stop_max_diameter_m: 250.0,
            stop_min_duration_s: 1200.0,
            gap_min_s: 900.0,
            gap_interval_factor: 5.0,
            gap_rest_allowance_s: 3600.0,
            undeclared_distance_m: 3000.0,
            gate_wait_m: 1000.0,
            drop_radius_m: 1000.0,
            shortfall_tolerance: 0.02,
            front_recent_days: 180.0,
            structuring_window_days: 30.0,
            structuring_default_threshold_kg: 100.0,
            convergence_radius_m: 1500.0,
            convergence_min_consignments: 2,
            default_report_interval_s: 60.0,
        }
    }
}
