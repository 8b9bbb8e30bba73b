//! Trajectory assembly and cleaning, reporting gaps, status and ETA.
//!
//! Bad fixes are never dropped silently: each one removed by cleaning comes back as a
//! [`Rejected`] with its observation id and reason, and the analysis records them.

use rastro_core::geo::{equirect_m, haversine_m, CosLat};
use rastro_core::{Marking, ObservationSource};
use serde::Serialize;

/// One position of a tracked subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    /// Shared: a fix is cloned into every view's track and every cleaned copy of it.
    pub obs_id: std::sync::Arc<str>,
    pub t_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub source: ObservationSource,
    pub accuracy_m: Option<f64>,
    /// Shared: every fix of one source class carries the same marking, so a track of a
    /// thousand fixes holds one copy of it, not a thousand.
    pub marking: std::sync::Arc<Marking>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub obs_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Cleaned {
    pub fixes: Vec<Fix>,
    pub rejected: Vec<Rejected>,
}

fn rank(f: &Fix) -> (u8, u64) {
    // Prefer GPS over other sources at the same instant, then the better accuracy.
    let src = match f.source {
        ObservationSource::Gps => 0,
        ObservationSource::Inspection => 1,
        ObservationSource::Checkpoint => 2,
        ObservationSource::Ais => 3,
        ObservationSource::Aerial => 4,
    };
    (
        src,
        f.accuracy_m.map(|a| (a * 100.0) as u64).unwrap_or(u64::MAX),
    )
}

/// How far from the vehicle a source's position may be, at least, whatever the feed says: a
/// plate read is positioned at its camera (a gantry or a toll plaza beside the lanes), an
/// aerial sighting at the aircraft's estimate. GPS and AIS report their own accuracy.
pub fn min_uncertainty_m(source: ObservationSource) -> f64 {
    match source {
        ObservationSource::Gps | ObservationSource::Ais => 0.0,
        ObservationSource::Inspection => 100.0,
        ObservationSource::Checkpoint => 250.0,
        ObservationSource::Aerial => 1000.0,
    }
}

/// The position error a fix may carry: its stated accuracy (50 m when it states none), and at
/// least its source's [`min_uncertainty_m`].
pub fn uncertainty_m(f: &Fix) -> f64 {
    f.accuracy_m
        .unwrap_or(50.0)
        .max(min_uncertainty_m(f.source))
}

/// Sorts fixes by time (out-of-order arrival is normal) and drops what cannot be true of one
/// vehicle: a second fix of the same source at the same instant (a duplicate report), and a
/// fix that implies an impossible speed (`max_speed_kmh`) from the last accepted fix, after
/// allowing for both fixes' position error ([`uncertainty_m`]). Fixes of different sources at
/// the same instant are fused: both stay, ordered GPS first, unless they lie further apart
/// than their errors allow. A fix that teleports is rejected, not the trajectory after it.
pub fn clean(mut fixes: Vec<Fix>, max_speed_kmh: f64) -> Cleaned {
    // Feeds usually arrive in order; checking is O(n) and skips the sort entirely.
    if !fixes.is_sorted_by(|a, b| a.t_ms < b.t_ms) {
        fixes.sort_by(|a, b| {
            a.t_ms
                .cmp(&b.t_ms)
                .then_with(|| rank(a).cmp(&rank(b)))
                .then_with(|| a.obs_id.cmp(&b.obs_id))
        });
    }
    let mut out = Cleaned::default();
    let mut cos = CosLat::default();
    for f in fixes {
        if let Some(last) = out.fixes.last() {
            let same_instant = last.t_ms == f.t_ms;
            if same_instant
                && out
                    .fixes
                    .iter()
                    .rev()
                    .take_while(|x| x.t_ms == f.t_ms)
                    .any(|x| x.source == f.source)
            {
                out.rejected.push(Rejected {
                    reason: format!("duplicate timestamp with {}", last.obs_id),
                    obs_id: f.obs_id.to_string(),
                });
                continue;
            }
            let d = equirect_m(cos.get(f.lat), last.lat, last.lon, f.lat, f.lon);
            let slack_m = uncertainty_m(last) + uncertainty_m(&f);
            if same_instant {
                if d > slack_m {
                    out.rejected.push(Rejected {
                        reason: format!(
                            "{:.0} m from {} at the same instant (their errors allow {slack_m:.0} m)",
                            d, last.obs_id
                        ),
                        obs_id: f.obs_id.to_string(),
                    });
                    continue;
                }
            } else {
                let dt_h = (f.t_ms - last.t_ms) as f64 / 3_600_000.0;
                let speed = (d - slack_m).max(0.0) / 1000.0 / dt_h;
                if speed > max_speed_kmh {
                    out.rejected.push(Rejected {
                        reason: format!("impossible speed {speed:.0} km/h from {}", last.obs_id),
                        obs_id: f.obs_id.to_string(),
                    });
                    continue;
                }
            }
        }
        out.fixes.push(f);
    }
    out
}

/// A silence in a tracker's reports longer than its reporting interval allows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// Indexes of the fixes before and after the silence, in the GPS fixes given to [`gaps`].
    pub from_idx: usize,
    pub to_idx: usize,
    pub from_obs: String,
    pub to_obs: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub distance_m: f64,
    /// Distance covered divided by the gap's duration.
    pub implied_speed_kmh: f64,
}

impl Gap {
    pub fn duration_s(&self) -> f64 {
        (self.end_ms - self.start_ms) as f64 / 1000.0
    }
}

/// Gaps between consecutive GPS fixes longer than `max_silence_s`. Other sources (plate reads,
/// aerial sightings) do not close a gap: they say where the vehicle was, not that its tracker
/// worked.
pub fn gaps(fixes: &[Fix], max_silence_s: f64) -> Vec<Gap> {
    let gps: Vec<usize> = (0..fixes.len())
        .filter(|&i| fixes[i].source == ObservationSource::Gps)
        .collect();
    gps.windows(2)
        .filter_map(|w| {
            let (a, b) = (&fixes[w[0]], &fixes[w[1]]);
            let dt_s = (b.t_ms - a.t_ms) as f64 / 1000.0;
            (dt_s > max_silence_s).then(|| {
                let d = haversine_m(a.lat, a.lon, b.lat, b.lon);
                Gap {
                    from_idx: w[0],
                    to_idx: w[1],
                    from_obs: a.obs_id.to_string(),
                    to_obs: b.obs_id.to_string(),
                    start_ms: a.t_ms,
                    end_ms: b.t_ms,
                    distance_m: d,
                    implied_speed_kmh: d / 1000.0 / (dt_s / 3600.0),
                }
            })
        })
        .collect()
}

/// Where a consignment is in its journey (one type for every layer).
pub use rastro_core::ConsignmentStatus as Status;

/// Status from custody milestones and the last fix, at time `now_ms`. A consignment in transit
/// is overdue past its ETA plus `grace_s`, and lost when nothing has been heard of it for
/// `lost_after_s`.
pub fn status(
    loaded_ms: Option<i64>,
    delivered_ms: Option<i64>,
    last_fix_ms: Option<i64>,
    eta_ms: Option<i64>,
    now_ms: i64,
    grace_s: i64,
    lost_after_s: i64,
) -> Status {
    match (loaded_ms, delivered_ms) {
        (_, Some(_)) => Status::Delivered,
        (None, None) => Status::AtPort,
        (Some(l), None) => {
            let last_heard = last_fix_ms.unwrap_or(l);
            if now_ms - last_heard > lost_after_s * 1000 {
                Status::Lost
            } else if eta_ms.is_some_and(|e| now_ms > e + grace_s * 1000) {
                Status::Overdue
            } else {
                Status::InTransit
            }
        }
    }
}

/// Median speed between consecutive fixes that are under 15 minutes apart and moving at 15 to
/// 150 km/h: the trip's usual driving speed, ignoring stops, silences and glitches.
pub fn median_moving_speed_kmh(fixes: &[Fix]) -> Option<f64> {
    let mut cos = CosLat::default();
    let mut v: Vec<f64> = fixes
        .windows(2)
        .filter_map(|w| {
            let dt_h = (w[1].t_ms - w[0].t_ms) as f64 / 3_600_000.0;
            let s = equirect_m(cos.get(w[0].lat), w[0].lat, w[0].lon, w[1].lat, w[1].lon)
                / 1000.0
                / dt_h;
            (dt_h > 0.0 && dt_h < 0.25 && s > 15.0 && s < 150.0).then_some(s)
        })
        .collect();
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    Some(*v.select_nth_unstable_by(mid, f64::total_cmp).1)
}

/// Estimated arrival: the remaining great-circle distance times a road factor, at the
/// trip's median moving speed so far (or `default_kmh` before there is one).
pub fn eta_ms(
    fixes: &[Fix],
    dest_lat: f64,
    dest_lon: f64,
    road_factor: f64,
    default_kmh: f64,
) -> Option<i64> {
    let last = fixes.last()?;
    let v = median_moving_speed_kmh(fixes).unwrap_or(default_kmh);
    let remaining_km = haversine_m(last.lat, last.lon, dest_lat, dest_lon) / 1000.0 * road_factor;
    Some(last.t_ms + (remaining_km / v * 3_600_000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(id: &str, t_s: i64, lat: f64, lon: f64) -> Fix {
        Fix {
            obs_id: id.into(),
            t_ms: t_s * 1000,
            lat,
            lon,
            source: ObservationSource::Gps,
            accuracy_m: Some(10.0),
            marking: Marking::new(rastro_core::Tlp::Amber).into(),
        }
    }

    #[test]
    fn out_of_order_duplicates_and_teleports() {
        let c = clean(
            vec![
                fix("c", 120, 19.002, -104.0),
                fix("a", 0, 19.0, -104.0),
                fix("b", 60, 19.001, -104.0),
                fix("b2", 60, 19.001, -104.0),
                fix("x", 90, 25.0, -100.0),
            ],
            200.0,
        );
        let ids: Vec<&str> = c.fixes.iter().map(|f| &*f.obs_id).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(c.rejected.len(), 2);
        assert!(c
            .rejected
            .iter()
            .any(|r| r.obs_id == "b2" && r.reason.contains("duplicate")));
        assert!(c
            .rejected
            .iter()
            .any(|r| r.obs_id == "x" && r.reason.contains("impossible speed")));
    }

    #[test]
    fn a_plate_read_with_a_skewed_clock_never_breaks_the_track() {
        // GPS every minute along a road (about 1.1 km a minute).
        let track = |extra: Fix| {
            let mut fixes: Vec<Fix> = (0..10)
                .map(|i| fix(&format!("g{i}"), i * 60, 19.0 + i as f64 * 0.01, -104.0))
                .collect();
            fixes.push(extra);
            clean(fixes, 200.0)
        };
        let read = |t_s: i64, lat: f64| Fix {
            source: ObservationSource::Checkpoint,
            accuracy_m: Some(15.0),
            ..fix("cam", t_s, lat, -104.0)
        };
        // A camera 20 s slow: absorbed, the read joins the track.
        let c = track(read(150 + 20, 19.025));
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        assert_eq!(c.fixes.len(), 11);
        // A camera three minutes slow puts the truck kilometres from where GPS has it: the read
        // is rejected with its reason, and every GPS fix stays.
        let c = track(read(150, 19.05));
        assert_eq!(c.rejected.len(), 1);
        assert!(
            c.rejected[0].obs_id == "cam" && c.rejected[0].reason.contains("impossible speed"),
            "{:?}",
            c.rejected
        );
        assert_eq!(
            c.fixes
                .iter()
                .filter(|f| f.source == ObservationSource::Gps)
                .count(),
            10
        );
    }

    #[test]
    fn a_plate_read_at_its_camera_beside_a_gps_fix_is_fused_not_rejected() {
        // GPS every 30 s along a road; a toll plaza's camera, registered 180 m off the lane,
        // reads the plate in the same second as one fix and one second after another. Neither
        // read is a duplicate or an impossible speed: a read sits at its camera.
        let mut fixes: Vec<Fix> = (0..6)
            .map(|i| fix(&format!("g{i}"), i * 30, 19.0 + i as f64 * 0.005, -104.0))
            .collect();
        let read = |id: &str, t_s: i64, lat: f64| Fix {
            source: ObservationSource::Checkpoint,
            accuracy_m: None,
            ..fix(id, t_s, lat, -104.0)
        };
        fixes.push(read("cam-same", 60, 19.010 + 0.0016));
        fixes.push(read("cam-next", 121, 19.020 + 0.0016));
        let c = clean(fixes, 130.0);
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        assert_eq!(c.fixes.len(), 8);
        // Same instant: GPS first, then the read.
        let at60: Vec<&str> = c
            .fixes
            .iter()
            .filter(|f| f.t_ms == 60_000)
            .map(|f| &*f.obs_id)
            .collect();
        assert_eq!(at60, ["g2", "cam-same"]);
        // A read 30 km away in the same second contradicts the GPS: rejected with the reason.
        let c = clean(vec![fix("g", 0, 19.0, -104.0), read("far", 0, 19.3)], 130.0);
        assert_eq!(c.rejected.len(), 1);
        assert!(
            c.rejected[0].reason.contains("same instant"),
            "{:?}",
            c.rejected
        );
        // Two GPS reports of one instant are still a duplicate.
        let c = clean(
            vec![fix("g", 0, 19.0, -104.0), fix("g-again", 0, 19.0, -104.0)],
            130.0,
        );
        assert!(
            c.rejected[0].reason.contains("duplicate"),
            "{:?}",
            c.rejected
        );
    }

    #[test]
    fn gaps_and_status() {
        let f = vec![
            fix("a", 0, 19.0, -104.0),
            fix("b", 60, 19.0, -104.0),
            fix("c", 4000, 19.01, -104.0),
        ];
        let g = gaps(&f, 900.0);
        assert_eq!(g.len(), 1);
        assert!(g[0].implied_speed_kmh < 2.0);
        assert_eq!(
            status(
                Some(0),
                None,
                Some(4_000_000),
                Some(5_000_000),
                6_000_000,
                3600,
                86_400
            ),
            Status::InTransit
        );
        assert_eq!(
            status(
                Some(0),
                None,
                Some(4_000_000),
                Some(5_000_000),
                9_000_000,
                3600,
                86_400
            ),
            Status::Overdue
        );
        assert_eq!(
            status(
                Some(0),
                None,
                Some(4_000_000),
                Some(5_000_000),
                200_000_000,
                3600,
                86_400
            ),
            Status::Lost
        );
        assert_eq!(status(None, None, None, None, 0, 0, 0), Status::AtPort);
    }
}
