//! Route deviation from the learned normal: a detour is a stretch of the track through cells
//! that carriers other than the vehicle's own seldom drive, left from and rejoining the roads
//! they do drive.
//!
//! Why not a corridor around a route on a map: real trucks follow real roads (ring roads,
//! alternative corridors, meandering geometry) that no prior graph draws, so a corridor alerts
//! on legitimate traffic, and a detour of a few kilometres into a neighbourhood stays inside
//! it. What unrelated fleets do is learned from the data (`rastro_learn::Model`). A young model
//! (fewer carriers than `LearnConfig::warm_carriers`) still decides, and its alerts say so:
//! it knows fewer roads, so it alerts more, but it never alerts because a map is wrong.
//!
//! What is not a detour:
//! - fixes at the declared destination (within its radius plus `gate_wait_m`), at a place the
//!   same vehicle drops another consignment of the trip (`drop_radius_m`), at a registered
//!   place, or within `detour_origin_m` of where the trip starts;
//! - the approach to the destination (a stretch that ends with the track, at the destination)
//!   and the departure (a stretch the track starts with): where only the plant's own carriers
//!   drive is the plant's access road;
//! - a stretch whose entry and exit are farther apart than `detour_max_chord_depth` times its
//!   depth and that holds no stop: another road between two points of the learned ones (a
//!   corridor too few carriers drive to have been learned), not an excursion from them. A stop
//!   on such a stretch makes it a detour only when the stop is the tip of an excursion: the
//!   track left from and came back to points near each other, within `detour_reach_m` of it
//!   (a rest on a through road too few carriers have been seen on is not one).
//!
//! Scores: 0.5 at `detour_min_depth_m`, plus up to 0.25 with depth (full at 5 km) and up to
//! 0.25 with the longest dwell inside the stretch (full at an hour).

use crate::config::Config;
use rastro_core::geo::{haversine_m, point_segment_m};
use rastro_core::{Place, Position};
use rastro_learn::{LearnConfig, Model};
use rastro_track::trajectory::Fix;

/// The learned normal as a detector asks it, for one vehicle's carrier.
#[derive(Clone, Copy)]
pub struct Normal<'a> {
    pub model: &'a Model,
    pub learn: &'a LearnConfig,
}

/// One detour found on a track: indices into the GPS fixes it was found on.
#[derive(Debug, Clone, PartialEq)]
pub struct Detour {
    /// First and last fix off the learned roads.
    pub first: usize,
    pub last: usize,
    /// The last fix on them before, and the first after (`None` when the track ends first).
    pub entry: usize,
    pub exit: Option<usize>,
    /// Farthest the stretch goes from the line joining entry and exit (from the entry alone
    /// when the track ends inside it).
    pub depth_m: f64,
    /// The fix farthest out.
    pub deepest: usize,
    /// The longest stay within a stop's diameter inside the stretch, and where it starts.
    pub dwell_s: f64,
    pub dwell_at: Option<usize>,
    /// Distance driven from entry to exit.
    pub path_m: f64,
    pub score: f64,
}

/// Detours cap per consignment: a track that is nothing but detours says so in a few.
pub const MAX_DETOURS: usize = 5;

/// Fixes of a stretch sampled for re-analysis when the model around them grows.
const CONCERN_SAMPLES: usize = 16;

/// What the route-deviation detector needs to know about the trip besides the fixes.
pub struct Trip<'a> {
    pub destination: Option<&'a Place>,
    pub other_drops: &'a [Position],
    pub known_places: &'a [Place],
    /// The vehicle's carrier as the model knows it (`rastro_learn::carrier_id`).
    pub carrier: u32,
}

fn pos(f: &Fix) -> Position {
    Position {
        lat: f.lat,
        lon: f.lon,
    }
}

fn dist(a: &Fix, b: &Fix) -> f64 {
    haversine_m(a.lat, a.lon, b.lat, b.lon)
}

/// Finds the detours of a GPS track (time order) against the learned normal. Also returns
/// positions whose popularity decides the answer (a sample of every off-road stretch), so a
/// later run can re-analyse the consignment when the model grows there.
pub fn detours(
    gps: &[Fix],
    trip: &Trip<'_>,
    normal: Normal<'_>,
    cfg: &Config,
) -> (Vec<Detour>, Vec<Position>) {
    let n = gps.len();
    if n < 2 {
        return (Vec::new(), Vec::new());
    }
    let near = |f: &Fix, p: Position, r: f64| {
        (f.lat - p.lat).abs() * rastro_core::geo::M_PER_DEG <= r
            && haversine_m(f.lat, f.lon, p.lat, p.lon) <= r
    };
    let origin = pos(&gps[0]);
    let excused = |f: &Fix| {
        near(f, origin, cfg.detour_origin_m)
            || trip
                .destination
                .is_some_and(|d| near(f, d.position, d.radius_m + cfg.gate_wait_m))
            || trip
                .other_drops
                .iter()
                .any(|&p| near(f, p, cfg.drop_radius_m))
            || trip
                .known_places
                .iter()
                .any(|k| near(f, k.position, k.radius_m + 200.0))
    };
    let (model, learn) = (normal.model, normal.learn);
    let busy_min = learn.road_busy_carriers.max(learn.road_min_carriers);
    let pop: Vec<u32> = gps
        .iter()
        .map(|f| model.road_popularity(f.lat, f.lon, trip.carrier))
        .collect();
    let exc: Vec<bool> = gps.iter().map(excused).collect();
    // A stretch starts where the vehicle leaves the busy roads (the ones many carriers
    // drive) and ends where it comes back; streets a few carriers use are inside it.
    let busy: Vec<bool> = (0..n).map(|i| exc[i] || pop[i] >= busy_min).collect();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < n {
        if busy[i] {
            i += 1;
            continue;
        }
        let a = i;
        while i < n && !busy[i] {
            i += 1;
        }
        let b = i - 1;
        match runs.last_mut() {
            // Joined across at most two fixes back on them (a detour that crosses a busy
            // road is still one detour).
            Some(last) if a - last.1 <= 3 => last.1 = b,
            _ => runs.push((a, b)),
        }
    }
    let view = View {
        gps,
        pop: &pop,
        exc: &exc,
        trip,
        normal,
        cfg,
    };
    let mut concerns = Vec::new();
    let mut found = Vec::new();
    for (a, b) in runs {
        let step = ((b - a + 1) / CONCERN_SAMPLES).max(1);
        concerns.extend((a..=b).step_by(step).map(|k| pos(&gps[k])));
        if let Some(d) = judge(&view, a, b) {
            found.push(d);
        }
    }
    found.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.first.cmp(&y.first)));
    found.truncate(MAX_DETOURS);
    found.sort_by_key(|d| d.first);
    (found, concerns)
}

/// What judging a stretch needs: the track, each fix's road popularity and whether it is
/// excused (destination, other drops, registered places, departure).
struct View<'a> {
    gps: &'a [Fix],
    pop: &'a [u32],
    exc: &'a [bool],
    trip: &'a Trip<'a>,
    normal: Normal<'a>,
    cfg: &'a Config,
}

/// Whether the stretch `a..=b` (fixes off the busy roads) is a detour, and how deep. It is one
/// when it goes where unrelated traffic does not: at least `deviation_min_fixes` fixes where
/// fewer than `road_min_carriers` other carriers drive, or a dwell where fewer than
/// `stop_min_carriers` stop.
fn judge(v: &View<'_>, a: usize, b: usize) -> Option<Detour> {
    let (gps, cfg, trip) = (v.gps, v.cfg, v.trip);
    let learn = v.normal.learn;
    let n = gps.len();
    // The departure: nothing before it to leave from.
    let entry = a.checked_sub(1)?;
    let exit = (b + 1 < n).then_some(b + 1);
    let at_destination = |i: usize| {
        trip.destination.is_some_and(|d| {
            let f = &gps[i];
            haversine_m(f.lat, f.lon, d.position.lat, d.position.lon)
                <= d.radius_m + cfg.gate_wait_m
        })
    };
    let ends_at_destination = match exit {
        Some(x) => at_destination(x),
        // The track ends inside the stretch: at the destination, or somewhere else.
        None => trip.destination.is_some_and(|d| {
            let end = &gps[n - 1];
            haversine_m(end.lat, end.lon, d.position.lat, d.position.lon)
                <= d.radius_m + cfg.undeclared_distance_m
        }),
    };
    let off = (a..=b)
        .filter(|&k| !v.exc[k] && v.pop[k] < learn.road_min_carriers)
        .count();
    // The longest dwell inside the stretch at a place unrelated carriers do not stop at.
    let (mut dwell_s, mut dwell_at) = (0.0, None);
    let mut k = a;
    while k <= b {
        let mut j = k;
        while j < b && dist(&gps[k], &gps[j + 1]) <= cfg.stop_max_diameter_m {
            j += 1;
        }
        let s = (gps[j].t_ms - gps[k].t_ms) as f64 / 1000.0;
        if s >= cfg.stop_min_duration_s && s > dwell_s && !v.exc[k] {
            let m = (k + j) / 2;
            let p = v
                .normal
                .model
                .stop_popularity(gps[m].lat, gps[m].lon, trip.carrier);
            if p < learn.stop_min_carriers {
                (dwell_s, dwell_at) = (s, Some(m));
            }
        }
        // A dwell is judged once, from its first fix.
        k = if j > k { j + 1 } else { k + 1 };
    }
    if dwell_at.is_none() && exit.is_none() && !ends_at_destination {
        // The track ends here, away from the destination: where it went and stayed (the
        // delivery ends the trip window, so its dwell is not in the track).
        let end = &gps[n - 1];
        if v.normal
            .model
            .stop_popularity(end.lat, end.lon, trip.carrier)
            < learn.stop_min_carriers
        {
            dwell_at = Some(n - 1);
        }
    }
    if dwell_at.is_none() && (off < cfg.deviation_min_fixes || ends_at_destination) {
        // Streets a few carriers use, or the approach to the destination: nothing went
        // where unrelated traffic does not.
        return None;
    }
    let (e, x) = (pos(&gps[entry]), exit.map(|x| pos(&gps[x])));
    let (mut depth_m, mut deepest) = (0.0, a);
    for (k, f) in gps.iter().enumerate().take(b + 1).skip(a) {
        let d = match x {
            Some(x) => point_segment_m(pos(f), e, x),
            None => haversine_m(f.lat, f.lon, e.lat, e.lon),
        };
        if d > depth_m {
            (depth_m, deepest) = (d, k);
        }
    }
    // The depth is over every fix of the stretch, its dwell's included.
    if depth_m < cfg.detour_min_depth_m {
        return None;
    }
    let last = exit.unwrap_or(b);
    let path_m: f64 = gps[entry..=last]
        .windows(2)
        .map(|w| dist(&w[0], &w[1]))
        .sum();
    if let Some(x) = exit {
        // Another road between two points of the learned ones, not an excursion: unless the
        // vehicle stopped on it at the tip of an out-and-back (where a sparse model has not
        // yet seen enough carriers on a through road, a rest on it is no detour).
        let through = dist(&gps[entry], &gps[x]) > cfg.detour_max_chord_depth * depth_m;
        let excursion = dwell_at.is_some_and(|m| excursion_around(gps, entry, x, m, cfg));
        if through && !excursion {
            return None;
        }
    }
    let score = 0.5
        + 0.25 * ((depth_m - cfg.detour_min_depth_m) / 5000.0).clamp(0.0, 1.0)
        + 0.25 * (dwell_s / 3600.0).clamp(0.0, 1.0);
    Some(Detour {
        first: a,
        last: b,
        entry,
        exit,
        depth_m,
        deepest,
        dwell_s,
        dwell_at,
        path_m,
        score,
    })
}

/// Whether the stop at `m` is the tip of an excursion: a fix before it and one after it
/// (within `detour_reach_m` of path each way, inside `entry..=exit`) lie closer together than
/// `detour_max_chord_depth` times the stop's distance from the line joining them, and that
/// distance is at least `detour_min_depth_m`. Bounded: at most `MAX_REACH_FIXES` each way.
fn excursion_around(gps: &[Fix], entry: usize, exit: usize, m: usize, cfg: &Config) -> bool {
    let reach = |dir: isize| {
        let mut out = Vec::new();
        let (mut k, mut path) = (m as isize, 0.0);
        while out.len() < MAX_REACH_FIXES {
            let next = k + dir;
            if next < entry as isize || next > exit as isize {
                break;
            }
            path += dist(&gps[k as usize], &gps[next as usize]);
            if path > cfg.detour_reach_m {
                break;
            }
            k = next;
            out.push(k as usize);
        }
        out
    };
    let (before, after) = (reach(-1), reach(1));
    let tip = pos(&gps[m]);
    before.iter().any(|&i| {
        after.iter().any(|&j| {
            let depth = point_segment_m(tip, pos(&gps[i]), pos(&gps[j]));
            depth >= cfg.detour_min_depth_m
                && dist(&gps[i], &gps[j]) <= cfg.detour_max_chord_depth * depth
        })
    })
}

/// Bound on the fixes [`excursion_around`] looks at on each side of a stop.
const MAX_REACH_FIXES: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use rastro_core::{Marking, ObservationSource, Tlp};
    use rastro_learn::{carrier_id, TrackPoint};
    use std::sync::Arc;

    fn fix(k: usize, t_s: i64, lat: f64, lon: f64) -> Fix {
        Fix {
            obs_id: Arc::from(format!("o{k}")),
            t_ms: t_s * 1000,
            lat,
            lon,
            source: ObservationSource::Gps,
            accuracy_m: Some(10.0),
            marking: Arc::new(Marking::new(Tlp::Amber)),
        }
    }

    /// A road that meanders (a sine of 3 km amplitude) east along latitude 20, one fix a
    /// minute at about 1 km a minute: nowhere near the straight line a map would draw.
    fn road(i: usize) -> (f64, f64) {
        let lon = -103.0 + i as f64 * 0.01;
        (20.0 + 0.027 * (i as f64 / 8.0).sin(), lon)
    }

    fn fleet(carriers: &[&str]) -> (Model, LearnConfig) {
        let cfg = LearnConfig::default();
        let mut m = Model::new(&cfg);
        let mut g = Vec::new();
        for (c, name) in carriers.iter().enumerate() {
            let pts: Vec<TrackPoint> = (0..100)
                .map(|i| {
                    let (lat, lon) = road(i);
                    TrackPoint {
                        t_ms: (c as i64 * 86_400 + i as i64 * 60) * 1000,
                        lat,
                        lon,
                    }
                })
                .collect();
            m.learn_track(carrier_id(name), &pts, &cfg, &mut g);
        }
        (m, cfg)
    }

    /// The trip along the road, with `detour` fixes replaced: (index, lat, lon).
    fn trip_with(detour: &[(usize, f64, f64)]) -> Vec<Fix> {
        let mut out = Vec::new();
        let mut t = 0;
        for i in 0..100 {
            if let Some(&(_, lat, lon)) = detour.iter().find(|d| d.0 == i) {
                out.push(fix(out.len(), t, lat, lon));
            } else {
                let (lat, lon) = road(i);
                out.push(fix(out.len(), t, lat, lon));
            }
            t += 60;
        }
        out
    }

    fn run(gps: &[Fix], own: &str, m: &Model, cfg: &LearnConfig) -> Vec<Detour> {
        let trip = Trip {
            destination: None,
            other_drops: &[],
            known_places: &[],
            carrier: carrier_id(own),
        };
        detours(
            gps,
            &trip,
            Normal {
                model: m,
                learn: cfg,
            },
            &Config::default(),
        )
        .0
    }

    #[test]
    fn on_a_road_too_few_carriers_were_seen_on_only_an_out_and_back_stop_is_a_detour() {
        // The trip drives a road 5.5 km south of the one the fleet was learned on (as on a
        // young model, it is unknown), and joins the learned road for its last fixes.
        let (m, cfg) = fleet(&["A", "B", "C", "D", "E", "F"]);
        let at = |i: usize, k: usize| {
            let (lat, lon) = road(k);
            if i >= 95 {
                (lat, lon)
            } else {
                (lat - 0.05, lon)
            }
        };
        let trip = |extra: &dyn Fn(usize) -> Option<(f64, f64)>| -> Vec<Fix> {
            (0..100)
                .map(|i| {
                    let (lat, lon) = extra(i).unwrap_or_else(|| at(i, i));
                    fix(i, i as i64 * 60, lat, lon)
                })
                .collect()
        };
        // A 40-minute rest on the road itself (fixes 41..=80 where fix 40 was, the rest of the
        // trip moved on by 40): a rest on a through road, no detour.
        let (r_lat, r_lon) = at(40, 40);
        let rest = trip(&|i| match i {
            41..=80 => Some((r_lat, r_lon)),
            i if i > 80 => Some(at(i, i - 40)),
            _ => None,
        });
        assert!(run(&rest, "X", &m, &cfg).is_empty());
        // The same rest 2 km off the road, reached and left by the same side street: the tip
        // of an excursion, a detour even where the model knows no road.
        let out = trip(&|i| match i {
            40 | 81 => Some((r_lat + 0.009, r_lon)),
            41..=80 => Some((r_lat + 0.018, r_lon)),
            i if i > 81 => Some(at(i, i - 41)),
            _ => None,
        });
        let found = run(&out, "X", &m, &cfg);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].dwell_s >= 2300.0, "{:?}", found[0]);
        assert_eq!(
            found[0].dwell_at.map(|k| (41..=80).contains(&k)),
            Some(true)
        );
    }

    #[test]
    fn a_meandering_road_the_fleet_drives_is_no_detour() {
        let (m, cfg) = fleet(&["A", "B", "C", "D", "E", "F"]);
        assert!(run(&trip_with(&[]), "X", &m, &cfg).is_empty());
    }

    #[test]
    fn an_excursion_into_a_neighbourhood_is_found_and_located_there() {
        let (m, cfg) = fleet(&["A", "B", "C", "D", "E", "F"]);
        // At fix 40 the truck turns 2 km north, waits there 40 minutes, and comes back.
        let (lat0, lon0) = road(40);
        let mut d: Vec<(usize, f64, f64)> = vec![(40, lat0 + 0.009, lon0)];
        for k in 41..81 {
            d.push((k, lat0 + 0.018, lon0));
        }
        d.push((81, lat0 + 0.009, lon0));
        let found = run(&trip_with(&d), "X", &m, &cfg);
        assert_eq!(found.len(), 1, "{found:?}");
        let x = &found[0];
        assert!((1800.0..2300.0).contains(&x.depth_m), "{x:?}");
        assert!(x.dwell_s >= 2300.0, "{x:?}");
        assert!(x.score > 0.7);
        let at = &trip_with(&d)[x.dwell_at.expect("a dwell")];
        assert!(haversine_m(at.lat, at.lon, lat0 + 0.018, lon0) < 100.0);
        // The same excursion on a road only the vehicle's own carrier drives: the carrier's
        // own habits never make it normal.
        let (mut m2, cfg2) = fleet(&["A", "B", "C", "D", "E", "F"]);
        let own: Vec<TrackPoint> = trip_with(&d)
            .iter()
            .map(|f| TrackPoint {
                t_ms: f.t_ms,
                lat: f.lat,
                lon: f.lon,
            })
            .collect();
        for _ in 0..5 {
            m2.learn_track(carrier_id("X"), &own, &cfg2, &mut Vec::new());
        }
        assert_eq!(run(&trip_with(&d), "X", &m2, &cfg2).len(), 1);
        // Another carrier's vehicle on the same excursion is not excused by X's habit either:
        // one carrier is below `road_min_carriers`.
        assert_eq!(run(&trip_with(&d), "Y", &m2, &cfg2).len(), 1);
    }

    #[test]
    fn an_alternative_road_without_stops_is_not_an_excursion() {
        let (m, cfg) = fleet(&["A", "B", "C", "D", "E", "F"]);
        // From fix 20 to 60 the truck drives a parallel road 1.5 km south, no stop.
        let d: Vec<(usize, f64, f64)> = (20..60)
            .map(|i| {
                let (lat, lon) = road(i);
                (i, lat - 0.0135, lon)
            })
            .collect();
        assert!(run(&trip_with(&d), "X", &m, &cfg).is_empty());
    }
}
