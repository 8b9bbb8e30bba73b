//! Per-consignment detectors: route deviation, unscheduled stop, tracking gap, undeclared
//! destination, quantity shortfall, mis-declaration and front consignee.
//!
//! Scores (all in [0, 1], alerts at >= the configured threshold, 0.5 by default):
//! - route_deviation: with a learned model (young or warm), a detour off the roads unrelated
//!   carriers drive ([`crate::detour`]: 0.5 to 1 with depth and dwell); without any model, 0.5
//!   at the edge of the corridor around the map's expected route, rising linearly to 1 at 5
//!   corridor widths.
//! - unscheduled_stop: 0.7 to 1 for a stop inside a city's built-up area (longer is higher);
//!   0.2 to 0.45 outside, so rural stops (breakdowns) are scored but never alerted alone.
//! - tracking_gap: 0.6 to 1 when the silence holds at least `stop_min_duration_s` of time the
//!   vehicle cannot have spent driving at its median speed (less an hour's rest allowance when
//!   a known rest place lies on the way); below 0.5 otherwise (a flat battery while driving).
//! - undeclared_destination: 0.7 to 1 with the distance between delivery and declaration.
//! - quantity_shortfall: 0.5 plus the missing fraction.
//! - mis_declaration: 0.75 when the tariff line contradicts the declared chemical, 0.95 when
//!   an inspection found a different chemical.
//! - front_consignee: 0.3 recent registration + 0.45 residential destination + 0.15 no prior
//!   imports + 0.1 when recent and residential together + 0.3 when the consignee, or a party
//!   sharing an identifier with it, is named in a report or on a watch list.

use crate::config::Config;
use rastro_core::geo::{haversine_m, point_segment_cos_m, point_segment_m, CosLat};
use rastro_core::{
    Alert, Catalogue, Consignment, Custody, CustodyKind, Marking, ObservationSource, Party, Place,
    PlaceKind, Position, Typology, Vehicle,
};
use rastro_geo::Geography;
use rastro_track::trajectory::{clean, eta_ms, gaps, status, Fix, Gap, Rejected, Status};
use rastro_track::{detect_stops, Metric, Stop};
use serde::Serialize;

/// What the detectors may consult besides the case: public geography, the catalogue, and the
/// places where stopping is normal (ports, rest stops, fuel stations, depots, warehouses,
/// checkpoints, toll plazas, customer sites).
pub struct Context<'a> {
    pub geo: &'a Geography,
    pub catalogue: &'a Catalogue,
    pub known_places: &'a [Place],
    pub config: &'a Config,
    /// The view's learned normal, when there is one (route deviation reads it, young or warm).
    pub normal: Option<crate::detour::Normal<'a>>,
}

/// One consignment with everything a deployment knows about it.
pub struct Case<'a> {
    pub consignment: &'a Consignment,
    pub custody: &'a [Custody],
    pub destination: Option<&'a Place>,
    pub consignee: Option<&'a Party>,
    pub vehicle: Option<&'a Vehicle>,
    /// Fixes of the vehicle (GPS, plate reads, aerial sightings) in the trip window, any order.
    pub fixes: Vec<Fix>,
    /// Earlier consignments to the consignee or parties linked to it.
    pub prior_consignments: usize,
    /// Where the same vehicle drops other consignments on this trip (their declared
    /// destinations and delivery positions).
    pub other_drops: Vec<Position>,
    /// Parties linked to the consignee that reports name or watch lists hold.
    pub named: Vec<Named<'a>>,
    /// The vehicle's carrier as the learned model knows it (`rastro_learn::carrier_id`).
    pub carrier: u32,
    pub now_ms: i64,
}

/// A party linked to the consignee (itself, or a record sharing an identifier with it) that a
/// report names or a watch list holds: evidence that the consignee is not what it says.
#[derive(Debug, Clone)]
pub struct Named<'a> {
    /// The party record named or listed.
    pub party: &'a Party,
    /// The report naming it (`None` for a watch list).
    pub report: Option<&'a rastro_core::Report>,
    /// How it links to the consignee: `None` when it is the consignee's own record, else the
    /// chain of links, with the records it passes through and their marking.
    pub via: Option<crate::links::LinkPath>,
}

/// A stop found on the track, with whether it was explained by a known place.
#[derive(Debug, Clone, Serialize)]
pub struct StopInfo {
    pub start_ms: i64,
    pub end_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub known_place: Option<String>,
    pub urban: Option<String>,
}

/// Everything analysis found about one consignment.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub alerts: Vec<Alert>,
    pub status: Status,
    pub eta_ms: Option<i64>,
    pub track: Vec<Fix>,
    pub rejected: Vec<Rejected>,
    pub stops: Vec<StopInfo>,
    pub gaps: Vec<Gap>,
    /// Positions where the learned normal's popularity decided the route-deviation answer:
    /// when it grows there, the consignment deserves another look.
    pub concerns: Vec<Position>,
}

fn first_event(custody: &[Custody], kind: CustodyKind) -> Option<&Custody> {
    custody
        .iter()
        .filter(|c| c.event == kind)
        .min_by_key(|c| c.time_ms)
}

// Each detector fills every field once; a parameter struct would only rename the same list.
#[allow(clippy::too_many_arguments)]
fn alert(
    typology: Typology,
    c: &Consignment,
    key: &str,
    time_ms: i64,
    pos: Option<Position>,
    score: f64,
    evidence: Vec<String>,
    summary: String,
    markings: &[&Marking],
) -> Alert {
    let mut marking = c.marking.clone();
    for m in markings {
        marking = marking.most_restrictive(m);
    }
    let mut ev = vec![c.id.clone()];
    ev.extend(evidence);
    Alert {
        id: format!("{}:{}:{key}", typology.as_str(), c.id),
        typology,
        subject: c.id.clone(),
        time_ms,
        lat: pos.map(|p| p.lat),
        lon: pos.map(|p| p.lon),
        score: score.clamp(0.0, 1.0),
        evidence: ev,
        summary,
        marking,
        facts: Default::default(),
    }
}

/// Runs every per-consignment detector on one case.
pub fn analyse(mut case: Case<'_>, ctx: &Context<'_>) -> Analysis {
    let cfg = ctx.config;
    let c = case.consignment;
    let loaded = first_event(case.custody, CustodyKind::Loaded).map(|e| e.time_ms);
    let delivered = first_event(case.custody, CustodyKind::Delivered)
        .or_else(|| first_event(case.custody, CustodyKind::Received))
        .map(|e| e.time_ms);
    let cleaned = clean(std::mem::take(&mut case.fixes), cfg.max_speed_kmh);
    let window_end = delivered.unwrap_or(i64::MAX);
    // The cleaned track is sorted by time, so the trip window is a slice of it.
    let trip: &[Fix] = match loaded {
        Some(l) => {
            let lo = cleaned.fixes.partition_point(|f| f.t_ms < l);
            let hi = cleaned
                .fixes
                .partition_point(|f| f.t_ms <= window_end)
                .max(lo);
            &cleaned.fixes[lo..hi]
        }
        None => &[],
    };
    // GPS fixes only; copied only when other sources are mixed in.
    let gps_owned: Vec<Fix>;
    let gps: &[Fix] = if trip.iter().all(|f| f.source == ObservationSource::Gps) {
        trip
    } else {
        gps_owned = trip
            .iter()
            .filter(|f| f.source == ObservationSource::Gps)
            .cloned()
            .collect();
        &gps_owned
    };
    let interval_s = case
        .vehicle
        .and_then(|v| v.report_interval_s)
        .map(f64::from)
        .unwrap_or(cfg.default_report_interval_s);
    let max_silence_s = cfg.gap_min_s.max(cfg.gap_interval_factor * interval_s);
    let trip_gaps = gaps(gps, max_silence_s);
    let mut out = Analysis {
        alerts: Vec::new(),
        status: Status::AtPort,
        eta_ms: None,
        track: Vec::new(),
        rejected: cleaned.rejected.clone(),
        stops: Vec::new(),
        gaps: trip_gaps.clone(),
        concerns: Vec::new(),
    };

    let dest_pos = case.destination.map(|p| p.position);
    out.eta_ms = match (dest_pos, delivered) {
        (_, Some(d)) => Some(d),
        (Some(p), None) if loaded.is_some() => {
            eta_ms(gps, p.lat, p.lon, rastro_geo::ROAD_FACTOR, 70.0)
        }
        _ => None,
    };
    out.status = status(
        loaded,
        delivered,
        gps.last().map(|f| f.t_ms),
        out.eta_ms,
        case.now_ms,
        6 * 3600,
        48 * 3600,
    );

    mis_declaration(c, case.custody, ctx, &mut out.alerts);
    quantity_shortfall(c, case.custody, cfg, &mut out.alerts);
    undeclared_destination(c, case.custody, case.destination, gps, cfg, &mut out.alerts);
    front_consignee(&case, ctx, &mut out.alerts);
    if !gps.is_empty() {
        // The learned normal decides whenever there is one, young or not: the public road
        // graph is not the roads trucks drive (a corridor round it alerted on most trips of
        // an independently modelled world), so it is only the answer without any model.
        match ctx.normal {
            Some(normal) => {
                out.concerns = learned_deviation(&case, gps, normal, ctx, &mut out.alerts);
            }
            None => route_deviation(c, gps, case.destination, ctx, &mut out.alerts),
        }
        out.stops = unscheduled_stops(
            c,
            gps,
            &trip_gaps,
            case.destination,
            &case.other_drops,
            ctx,
            &mut out.alerts,
        );
        tracking_gaps(c, gps, &trip_gaps, trip, ctx, &mut out.alerts);
    }
    out.alerts.retain(|a| a.score >= cfg.alert_threshold);
    out.alerts.sort_by(|a, b| a.id.cmp(&b.id));
    out.track = cleaned.fixes;
    out
}

fn mis_declaration(
    c: &Consignment,
    custody: &[Custody],
    ctx: &Context<'_>,
    alerts: &mut Vec<Alert>,
) {
    let mut score = 0.0;
    let mut why = Vec::new();
    let mut evidence = Vec::new();
    let mut markings: Vec<&Marking> = Vec::new();
    if ctx.catalogue.hs_consistent(&c.cas, &c.hs) == Some(false) {
        let chem = ctx.catalogue.get(&c.cas);
        let proper: Vec<String> = chem
            .map(|ch| ch.hs.iter().map(|h| h.dotted_subheading()).collect())
            .unwrap_or_default();
        why.push(format!(
            "declared HS {} is not the tariff line of {} ({})",
            c.hs.dotted_subheading(),
            chem.map(|ch| ch.name.as_str()).unwrap_or("?"),
            proper.join(", ")
        ));
        score = 0.75;
    }
    for e in custody.iter().filter(|e| e.event == CustodyKind::Inspected) {
        if let Some(found) = &e.cas_found {
            if *found != c.cas {
                let name = ctx
                    .catalogue
                    .get(found)
                    .map(|ch| ch.name.clone())
                    .unwrap_or_else(|| found.to_string());
                why.push(format!(
                    "inspection {} found {name} ({found}) where the declaration says {}",
                    e.id, c.cas
                ));
                evidence.push(e.id.clone());
                markings.push(&e.marking);
                score = 0.95;
            }
        }
    }
    if score > 0.0 {
        alerts.push(alert(
            Typology::MisDeclaration,
            c,
            "declaration",
            c.arrival_ms,
            None,
            score,
            evidence,
            why.join("; "),
            &markings,
        ));
    }
}

fn quantity_shortfall(c: &Consignment, custody: &[Custody], cfg: &Config, alerts: &mut Vec<Alert>) {
    let (declared, base) = c.unit.convert(c.quantity);
    if declared <= 0.0 {
        return;
    }
    for e in custody.iter().filter(|e| e.event == CustodyKind::Received) {
        let (Some(q), Some(u)) = (e.quantity, e.unit) else {
            continue;
        };
        let (received, b) = u.convert(q);
        if b != base {
            continue;
        }
        let short = (declared - received) / declared;
        if short > cfg.shortfall_tolerance {
            let summary = format!(
                "received {received:.1} of {declared:.1} declared ({:.1}% short, tolerance {:.1}%)",
                short * 100.0,
                cfg.shortfall_tolerance * 100.0
            );
            alerts.push(alert(
                Typology::QuantityShortfall,
                c,
                &e.id,
                e.time_ms,
                e.position,
                0.5 + short,
                vec![e.id.clone()],
                summary,
                &[&e.marking],
            ));
        }
    }
}

/// How long before a delivery event the track must still report for its last fix to say
/// where the delivery happened.
const DELIVERY_TRACK_S: i64 = 3 * 3600;
/// The last two fixes give the vehicle's pace at the end of its track only when this close.
const PACE_WINDOW_S: i64 = 15 * 60;

/// A delivery away from the declared destination: where the custody event puts it, and where
/// the track ends before it (the event's own position, or its lack of one, never overrides
/// what the GPS saw).
fn undeclared_destination(
    c: &Consignment,
    custody: &[Custody],
    dest: Option<&Place>,
    gps: &[Fix],
    cfg: &Config,
    alerts: &mut Vec<Alert>,
) {
    let Some(dest) = dest else { return };
    let limit_m = cfg.undeclared_distance_m.max(dest.radius_m);
    let far = |p: Position| {
        let d = haversine_m(p.lat, p.lon, dest.position.lat, dest.position.lon);
        (d > limit_m).then_some(d)
    };
    let score = |d: f64| 0.7 + (d / 50_000.0).min(1.0) * 0.3;
    let delivered: Vec<&Custody> = custody
        .iter()
        .filter(|e| e.event == CustodyKind::Delivered || e.event == CustodyKind::Received)
        .collect();
    for e in &delivered {
        let Some(p) = e.position else { continue };
        if let Some(d) = far(p) {
            let summary = format!(
                "{} {:.1} km from the declared destination {} ({})",
                e.event,
                d / 1000.0,
                dest.id,
                dest.name
            );
            alerts.push(alert(
                Typology::UndeclaredDestination,
                c,
                &e.id,
                e.time_ms,
                Some(p),
                score(d),
                vec![e.id.clone(), dest.id.clone()],
                summary,
                &[&e.marking, &dest.marking],
            ));
            return;
        }
    }
    // The track's end: the trip window closes at the first delivery event, so the last GPS
    // fix is where the vehicle was when the goods were handed over, if the tracker was still
    // reporting shortly before.
    let Some(e) = delivered.iter().min_by_key(|e| e.time_ms) else {
        return;
    };
    let Some(last) = gps.last() else { return };
    // After a declared transfer the goods ride the receiving vehicle, which the track follows
    // from the transfer on; with no fix of it since, the track says nothing about the delivery.
    if custody.iter().any(|t| {
        t.event == CustodyKind::Transfer && t.time_ms <= e.time_ms && t.time_ms >= last.t_ms
    }) {
        return;
    }
    if e.time_ms - last.t_ms > DELIVERY_TRACK_S * 1000 {
        return;
    }
    let p = Position {
        lat: last.lat,
        lon: last.lon,
    };
    // Where the vehicle could have got to by the handover at its last pace: a sparse tracker
    // (a fix every two minutes, a lost fix or two) last reports a moving truck kilometres
    // before the gate, while one that stopped at an undeclared place reports standing there.
    let pace_mps = match gps.len().checked_sub(2).map(|k| &gps[k]) {
        Some(prev) if last.t_ms > prev.t_ms && last.t_ms - prev.t_ms <= PACE_WINDOW_S * 1000 => {
            haversine_m(prev.lat, prev.lon, last.lat, last.lon)
                / ((last.t_ms - prev.t_ms) as f64 / 1000.0)
        }
        _ => 0.0,
    };
    let reach_m = pace_mps * ((e.time_ms - last.t_ms) as f64 / 1000.0);
    let beyond = far(p).filter(|&d| d > limit_m + reach_m);
    if let Some(d) = beyond {
        let summary = format!(
            "the track ends {:.1} km from the declared destination {} ({}) before {} {}",
            d / 1000.0,
            dest.id,
            dest.name,
            e.event,
            e.id
        );
        alerts.push(alert(
            Typology::UndeclaredDestination,
            c,
            &e.id,
            last.t_ms,
            Some(p),
            score(d),
            vec![e.id.clone(), last.obs_id.to_string(), dest.id.clone()],
            summary,
            &[&e.marking, &last.marking, &dest.marking],
        ));
    }
}

/// Whether an address says residential: parsed as a Mexican address (settlement type and
/// flats; see `rastro_core::address`), so "Col. Industrial …" is industrial and "Fracc. …"
/// residential.
fn residential_address(a: &str) -> bool {
    rastro_core::Address::parse(a).land_use() == Some(rastro_core::LandUse::Residential)
}

fn front_consignee(case: &Case<'_>, ctx: &Context<'_>, alerts: &mut Vec<Alert>) {
    let c = case.consignment;
    let Some(party) = case.consignee else { return };
    let days = party.registered.map(|r| {
        let reg_ms = r
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc().timestamp_millis())
            .unwrap_or(c.arrival_ms);
        (c.arrival_ms - reg_ms) as f64 / 86_400_000.0
    });
    let recent = days.is_some_and(|d| (0.0..ctx.config.front_recent_days).contains(&d));
    // The destination's registered kind or land use decides; the consignee's address only
    // when the registry says neither.
    let residential = match case.destination {
        Some(p) if p.place_kind == PlaceKind::Residence => true,
        Some(p) if p.land_use.is_some() => p.land_use == Some(rastro_core::LandUse::Residential),
        _ => party.address.as_deref().is_some_and(residential_address),
    };
    let no_history = case.prior_consignments == 0;
    let named = !case.named.is_empty();
    let score = 0.3 * f64::from(u8::from(recent))
        + 0.45 * f64::from(u8::from(residential))
        + 0.15 * f64::from(u8::from(no_history))
        + 0.1 * f64::from(u8::from(recent && residential))
        + 0.3 * f64::from(u8::from(named));
    if score > 0.0 {
        let mut why = Vec::new();
        if recent {
            why.push(format!(
                "registered {:.0} days before arrival",
                days.unwrap_or(0.0)
            ));
        }
        if residential {
            why.push("residential destination".to_string());
        }
        if no_history {
            why.push("no earlier imports".to_string());
        }
        let mut ev = vec![party.id.clone()];
        ev.extend(case.destination.map(|p| p.id.clone()));
        let mut markings: Vec<&Marking> = std::iter::once(&party.marking)
            .chain(case.destination.map(|p| &p.marking))
            .collect();
        for n in &case.named {
            let who = match &n.via {
                None => "itself".to_string(),
                Some(v) => format!("{} ({}, linked by {})", n.party.name, n.party.id, v.text),
            };
            match (n.report, &n.party.watch_list) {
                (Some(r), _) => why.push(format!("{who} named in {} {}", r.report_kind, r.id)),
                (None, Some(list)) => why.push(format!("{who} on watch list {list}")),
                (None, None) => continue,
            }
            if !ev.contains(&n.party.id) {
                ev.push(n.party.id.clone());
                markings.push(&n.party.marking);
            }
            if let Some(r) = n.report {
                ev.push(r.id.clone());
                markings.push(&r.marking);
            }
            // The records the chain passes through are evidence too, with their markings.
            if let Some(v) = &n.via {
                for id in &v.records {
                    if !ev.contains(id) {
                        ev.push(id.clone());
                    }
                }
                markings.push(&v.marking);
            }
        }
        alerts.push(alert(
            Typology::FrontConsignee,
            c,
            &party.id,
            c.arrival_ms,
            case.destination.map(|p| p.position),
            score,
            ev,
            format!("consignee {}: {}", party.name, why.join(", ")),
            &markings,
        ));
    }
}

/// The expected route: the shortest path on the public highway graph from the port of entry to
/// the node nearest the declared destination, then the destination itself; with the cities the
/// path passes through.
fn expected_route(
    c: &Consignment,
    dest: &Place,
    geo: &Geography,
) -> Option<(Vec<Position>, Vec<usize>)> {
    let from = geo.port_by_locode(c.port.as_str())?;
    let to = geo.nearest_node(dest.position);
    let path = geo.path(from, to)?;
    let mut poly: Vec<Position> = path.iter().map(|&n| geo.nodes[n]).collect();
    poly.push(dest.position);
    let cities = path
        .iter()
        .copied()
        .filter(|&n| n < geo.cities.len())
        .collect();
    Some((poly, cities))
}

/// Distance from `p` to the route if it is farther than `corridor_m`, else `None`. Tries the
/// segment that was nearest for the previous fix first (`hint`), since consecutive fixes are
/// near the same segment: most fixes cost one segment test.
fn off_route(
    p: Position,
    route: &[Position],
    corridor_m: f64,
    hint: &mut usize,
    cos: &mut CosLat,
) -> Option<f64> {
    let cos_lat = cos.get(p.lat);
    let n = route.len().saturating_sub(1);
    if n == 0 {
        return None;
    }
    let h = (*hint).min(n - 1);
    if point_segment_cos_m(cos_lat, p, route[h], route[h + 1]) <= corridor_m {
        return None;
    }
    let (mut best, mut best_i) = (f64::INFINITY, h);
    for i in 0..n {
        let d = point_segment_cos_m(cos_lat, p, route[i], route[i + 1]);
        if d < best {
            best = d;
            best_i = i;
        }
    }
    *hint = best_i;
    (best > corridor_m).then_some(best)
}

fn route_deviation(
    c: &Consignment,
    gps: &[Fix],
    dest: Option<&Place>,
    ctx: &Context<'_>,
    alerts: &mut Vec<Alert>,
) {
    let Some(dest) = dest else { return };
    let Some((route, cities)) = expected_route(c, dest, ctx.geo) else {
        return;
    };
    let corridor = ctx.config.corridor_m;
    // A route through a city may use any of its streets: the corridor there is the city's
    // built-up area.
    let in_route_city = |p: Position| {
        cities.iter().any(|&ci| {
            let (c, r) = (ctx.geo.cities[ci].pos, ctx.geo.urban_radius_m(ci));
            (c.lat - p.lat).abs() * rastro_core::geo::M_PER_DEG <= r
                && haversine_m(p.lat, p.lon, c.lat, c.lon) <= r
        })
    };
    let mut hint = 0;
    let mut cos = CosLat::default();
    let off: Vec<(usize, f64)> = gps
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let p = Position {
                lat: f.lat,
                lon: f.lon,
            };
            let d = off_route(p, &route, corridor, &mut hint, &mut cos)?;
            (!in_route_city(p)).then_some((i, d))
        })
        .collect();
    if off.len() < ctx.config.deviation_min_fixes {
        return;
    }
    let (far_i, far_d) = off
        .iter()
        .copied()
        .fold((0, 0.0), |acc, x| if x.1 > acc.1 { x } else { acc });
    let (first, last) = (off[0].0, off[off.len() - 1].0);
    let mut idx = vec![first, far_i, last];
    idx.dedup();
    let score = 0.5 + ((far_d - corridor) / (4.0 * corridor)).min(1.0) * 0.5;
    let summary = format!(
        "{} fixes outside the {:.0} km corridor of the expected route, up to {:.1} km away",
        off.len(),
        corridor / 1000.0,
        far_d / 1000.0
    );
    // Located where the detour went for something: its longest dwell (the vehicle stayed
    // within a stop's diameter for a stop's duration) when it has one, else its farthest fix.
    let (mut best_i, mut best_s) = (far_i, 0.0);
    for &(i, _) in &off {
        let mut j = i;
        while j + 1 < gps.len()
            && haversine_m(gps[i].lat, gps[i].lon, gps[j + 1].lat, gps[j + 1].lon)
                <= ctx.config.stop_max_diameter_m
        {
            j += 1;
        }
        let dwell_s = (gps[j].t_ms - gps[i].t_ms) as f64 / 1000.0;
        if dwell_s >= ctx.config.stop_min_duration_s && dwell_s > best_s {
            (best_i, best_s) = (i, dwell_s);
        }
    }
    if !idx.contains(&best_i) {
        idx.push(best_i);
    }
    let evidence: Vec<String> = idx.iter().map(|&i| gps[i].obs_id.to_string()).collect();
    let markings: Vec<&Marking> = idx.iter().map(|&i| &*gps[i].marking).collect();
    let f = &gps[best_i];
    alerts.push(alert(
        Typology::RouteDeviation,
        c,
        &gps[first].obs_id,
        gps[first].t_ms,
        Some(Position {
            lat: f.lat,
            lon: f.lon,
        }),
        score,
        evidence,
        summary,
        &markings,
    ));
}

/// Route deviation against the learned normal: one alert per detour ([`crate::detour`]),
/// located at its longest dwell or, without one, at its deepest point. Returns the positions
/// whose popularity decided it.
fn learned_deviation(
    case: &Case<'_>,
    gps: &[Fix],
    normal: crate::detour::Normal<'_>,
    ctx: &Context<'_>,
    alerts: &mut Vec<Alert>,
) -> Vec<Position> {
    let trip = crate::detour::Trip {
        destination: case.destination,
        other_drops: &case.other_drops,
        known_places: ctx.known_places,
        carrier: case.carrier,
    };
    let (found, concerns) = crate::detour::detours(gps, &trip, normal, ctx.config);
    for d in found {
        let at = d.dwell_at.unwrap_or(d.deepest);
        let end = d.exit.unwrap_or(d.last);
        let mut idx = vec![d.entry, d.first, d.deepest, at, d.last, end];
        idx.sort_unstable();
        idx.dedup();
        let evidence: Vec<String> = idx.iter().map(|&i| gps[i].obs_id.to_string()).collect();
        let markings: Vec<&Marking> = idx.iter().map(|&i| &*gps[i].marking).collect();
        let minutes = (gps[end].t_ms - gps[d.entry].t_ms) as f64 / 60_000.0;
        let summary = if d.dwell_s > 0.0 {
            format!(
                "detour off the roads other carriers drive: {:.1} km out, {:.0} min stopped there, {:.1} km driven in {:.0} min",
                d.depth_m / 1000.0,
                d.dwell_s / 60.0,
                d.path_m / 1000.0,
                minutes
            )
        } else {
            format!(
                "detour off the roads other carriers drive: {:.1} km out and back, {:.1} km driven in {:.0} min",
                d.depth_m / 1000.0,
                d.path_m / 1000.0,
                minutes
            )
        };
        // Said when the model is too young to know the roads (few carriers learned).
        let summary = if normal.model.is_cold(normal.learn) {
            format!(
                "{summary} (young model: {} carriers learned)",
                normal.model.carriers()
            )
        } else {
            summary
        };
        let f = &gps[at];
        let mut a = alert(
            Typology::RouteDeviation,
            case.consignment,
            &gps[d.first].obs_id,
            gps[d.first].t_ms,
            Some(Position {
                lat: f.lat,
                lon: f.lon,
            }),
            d.score,
            evidence,
            summary,
            &markings,
        );
        a.facts.insert("depth_m".into(), d.depth_m.round());
        a.facts.insert("dwell_s".into(), d.dwell_s.round());
        a.facts.insert("path_m".into(), d.path_m.round());
        a.facts.insert("start_ms".into(), gps[d.entry].t_ms as f64);
        a.facts.insert("end_ms".into(), gps[end].t_ms as f64);
        alerts.push(a);
    }
    concerns
}

fn known_place_at(p: Position, places: &[Place]) -> Option<&Place> {
    // A degree of latitude is 111 km: places farther than that in latitude cannot match, and
    // the comparison is far cheaper than a haversine.
    places.iter().find(|k| {
        (k.position.lat - p.lat).abs() * rastro_core::geo::M_PER_DEG <= k.radius_m + 200.0
            && haversine_m(p.lat, p.lon, k.position.lat, k.position.lon) <= k.radius_m + 200.0
    })
}

fn unscheduled_stops(
    c: &Consignment,
    gps: &[Fix],
    trip_gaps: &[Gap],
    dest: Option<&Place>,
    other_drops: &[Position],
    ctx: &Context<'_>,
    alerts: &mut Vec<Alert>,
) -> Vec<StopInfo> {
    let cfg = ctx.config;
    // From each fix on, the farthest the vehicle goes from the destination: a stop near the
    // destination after which it goes no farther is a wait at the gate.
    let to_dest: Vec<f64> = match dest {
        Some(d) => {
            let mut m = vec![0.0_f64; gps.len() + 1];
            for i in (0..gps.len()).rev() {
                let x = haversine_m(gps[i].lat, gps[i].lon, d.position.lat, d.position.lon);
                m[i] = m[i + 1].max(x);
            }
            m
        }
        None => Vec::new(),
    };
    let mut infos = Vec::new();
    // Split at gaps: a silence is its own signal and never becomes a stop.
    let mut segments: Vec<&[Fix]> = Vec::new();
    let mut start = 0;
    for g in trip_gaps {
        if g.to_idx > start && g.to_idx <= gps.len() {
            segments.push(&gps[start..g.to_idx]);
            start = g.to_idx;
        }
    }
    segments.push(&gps[start..]);
    let mut seg_start = 0;
    for seg in segments {
        let base = seg_start;
        seg_start += seg.len();
        let t: Vec<i64> = seg.iter().map(|f| f.t_ms).collect();
        let x: Vec<f64> = seg.iter().map(|f| f.lon).collect();
        let y: Vec<f64> = seg.iter().map(|f| f.lat).collect();
        let stops: Vec<Stop> = detect_stops(
            &t,
            &x,
            &y,
            Metric::LatLon,
            cfg.stop_max_diameter_m,
            (cfg.stop_min_duration_s * 1000.0) as i64,
        );
        for s in stops {
            let pos = Position { lat: s.y, lon: s.x };
            let at_dest = dest.is_some_and(|d| {
                haversine_m(pos.lat, pos.lon, d.position.lat, d.position.lon) <= d.radius_m + 500.0
            });
            let gate_wait = dest.is_some_and(|d| {
                let gate_m = d.radius_m + cfg.gate_wait_m;
                haversine_m(pos.lat, pos.lon, d.position.lat, d.position.lon) <= gate_m
                    && to_dest
                        .get(base + s.last + 1)
                        .is_some_and(|&far| far <= gate_m)
            });
            let drop = other_drops
                .iter()
                .any(|p| haversine_m(pos.lat, pos.lon, p.lat, p.lon) <= cfg.drop_radius_m);
            let known = known_place_at(pos, ctx.known_places);
            let city = ctx.geo.city_at(pos);
            infos.push(StopInfo {
                start_ms: s.start_ms,
                end_ms: s.end_ms,
                lat: pos.lat,
                lon: pos.lon,
                known_place: if at_dest || gate_wait {
                    dest.map(|d| d.id.clone())
                } else if drop {
                    Some("another drop of this trip".into())
                } else {
                    known.map(|k| k.id.clone())
                },
                urban: city.map(|i| ctx.geo.cities[i].name.clone()),
            });
            if at_dest || gate_wait || drop || known.is_some() {
                continue;
            }
            let extra = ((s.duration_s() - cfg.stop_min_duration_s) / 7200.0).clamp(0.0, 1.0);
            let score = if city.is_some() {
                0.7 + 0.3 * extra
            } else {
                0.2 + 0.25 * extra
            };
            let place = city
                .map(|i| format!("in {}", ctx.geo.cities[i].name))
                .unwrap_or_else(|| "outside any city".into());
            let summary = format!("stopped {:.0} min {place}, away from the origin, the destination and known rest places", s.duration_s() / 60.0);
            let ev = vec![
                seg[s.first].obs_id.to_string(),
                seg[s.last].obs_id.to_string(),
            ];
            alerts.push(alert(
                Typology::UnscheduledStop,
                c,
                &seg[s.first].obs_id,
                s.start_ms,
                Some(pos),
                score,
                ev,
                summary,
                &[&*seg[s.first].marking, &*seg[s.last].marking],
            ));
        }
    }
    infos
}

fn tracking_gaps(
    c: &Consignment,
    gps: &[Fix],
    trip_gaps: &[Gap],
    trip: &[Fix],
    ctx: &Context<'_>,
    alerts: &mut Vec<Alert>,
) {
    let cfg = ctx.config;
    let median = rastro_track::trajectory::median_moving_speed_kmh(gps).unwrap_or(70.0);
    for g in trip_gaps {
        let (Some(a), Some(b)) = (gps.get(g.from_idx), gps.get(g.to_idx)) else {
            continue;
        };
        let (pa, pb) = (
            Position {
                lat: a.lat,
                lon: a.lon,
            },
            Position {
                lat: b.lat,
                lon: b.lon,
            },
        );
        // Time the vehicle could not have been driving at its usual speed, less an hour when a
        // known rest place lies on the way (a driver's rest explains that much).
        // Roads are longer than the straight line between the two fixes.
        let driving_s = g.distance_m * rastro_geo::ROAD_FACTOR / 1000.0 / median * 3600.0;
        let rest_on_way = ctx.known_places.iter().any(|k| {
            matches!(k.place_kind, PlaceKind::RestStop | PlaceKind::FuelStation)
                && point_segment_m(k.position, pa, pb) <= 2000.0
        });
        let unexplained_s = g.duration_s()
            - driving_s
            - if rest_on_way {
                cfg.gap_rest_allowance_s
            } else {
                0.0
            };
        let score = if unexplained_s >= cfg.stop_min_duration_s {
            0.6 + 0.4 * (unexplained_s / 7200.0).min(1.0)
        } else {
            0.45 * (unexplained_s / cfg.stop_min_duration_s).clamp(0.0, 1.0)
        };
        // Other sources that saw the vehicle during the silence are evidence too, and the one
        // nearest the middle of the silence says best where the vehicle was while silent; with
        // none, the alert stands where the tracker fell silent.
        let mut ev = vec![g.from_obs.clone(), g.to_obs.clone()];
        let mut markings: Vec<&Marking> = vec![&*a.marking, &*b.marking];
        let mid_ms = g.start_ms + (g.end_ms - g.start_ms) / 2;
        let mut seen_at: Option<(i64, Position)> = None;
        for f in trip.iter().filter(|f| {
            f.source != ObservationSource::Gps && f.t_ms > g.start_ms && f.t_ms < g.end_ms
        }) {
            ev.push(f.obs_id.to_string());
            markings.push(&*f.marking);
            let off = (f.t_ms - mid_ms).abs();
            if seen_at.is_none_or(|(o, _)| off < o) {
                seen_at = Some((
                    off,
                    Position {
                        lat: f.lat,
                        lon: f.lon,
                    },
                ));
            }
        }
        let summary = format!(
            "tracker silent {:.0} min; covered {:.1} km ({:.0} km/h against a trip median of {:.0} km/h): about {:.0} min unexplained{}",
            g.duration_s() / 60.0,
            g.distance_m / 1000.0,
            g.implied_speed_kmh,
            median,
            unexplained_s.max(0.0) / 60.0,
            if rest_on_way { " after allowing for a rest place on the way" } else { "" }
        );
        alerts.push(alert(
            Typology::TrackingGap,
            c,
            &g.from_obs,
            g.start_ms,
            Some(seen_at.map_or(pa, |(_, p)| p)),
            score,
            ev,
            summary,
            &markings,
        ));
    }
}
