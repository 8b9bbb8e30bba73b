//! Fleet detectors, which look across consignments: structuring and convergence.
//!
//! Scores: structuring 0.5 for two linked imports just over the threshold, plus 0.1 per extra
//! import and up to 0.25 as the total exceeds the threshold; convergence 0.3 + 0.2 per distinct
//! consignment meeting at the place.

use crate::config::Config;
use crate::links::{LinkPath, PartyLinks};
use rastro_core::geo::haversine_m;
use rastro_core::{Alert, Cas, Catalogue, Marking, Typology};
use std::collections::BTreeMap;

/// What fleet detectors need of one consignment.
#[derive(Debug, Clone)]
pub struct FleetItem {
    pub consignment: String,
    pub cas: Cas,
    pub quantity_kg: Option<f64>,
    pub consignee: String,
    pub consignee_cluster: String,
    pub arrival_ms: i64,
    pub marking: Marking,
}

/// Several small imports of one chemical by linked parties inside a window that together pass
/// the chemical's threshold, each staying under it.
pub fn structuring(
    items: &[FleetItem],
    catalogue: &Catalogue,
    cfg: &Config,
    links: &dyn PartyLinks,
) -> Vec<Alert> {
    let mut groups: BTreeMap<(&Cas, &str), Vec<&FleetItem>> = BTreeMap::new();
    for it in items {
        let threshold = catalogue
            .get(&it.cas)
            .and_then(|c| c.threshold_kg)
            .unwrap_or(cfg.structuring_default_threshold_kg);
        if it.quantity_kg.is_some_and(|q| q < threshold) {
            groups
                .entry((&it.cas, it.consignee_cluster.as_str()))
                .or_default()
                .push(it);
        }
    }
    let window_ms = (cfg.structuring_window_days * 86_400_000.0) as i64;
    let mut best: BTreeMap<&str, (f64, Vec<&FleetItem>)> = BTreeMap::new();
    for ((cas, _), mut members) in groups {
        let threshold = catalogue
            .get(cas)
            .and_then(|c| c.threshold_kg)
            .unwrap_or(cfg.structuring_default_threshold_kg);
        members.sort_by(|a, b| {
            a.arrival_ms
                .cmp(&b.arrival_ms)
                .then(a.consignment.cmp(&b.consignment))
        });
        for i in 0..members.len() {
            let win: Vec<&FleetItem> = members[i..]
                .iter()
                .copied()
                .take_while(|m| m.arrival_ms - members[i].arrival_ms <= window_ms)
                .collect();
            let total: f64 = win.iter().filter_map(|m| m.quantity_kg).sum();
            if win.len() >= 2 && total > threshold {
                let score = (0.5
                    + 0.1 * (win.len() - 2) as f64
                    + 0.25 * (total / threshold - 1.0).min(1.0))
                .min(1.0);
                for m in &win {
                    let e = best
                        .entry(m.consignment.as_str())
                        .or_insert((0.0, Vec::new()));
                    if score > e.0 {
                        *e = (score, win.clone());
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (id, (score, win)) in best {
        let Some(me) = win.iter().find(|m| m.consignment == id) else {
            continue;
        };
        let total: f64 = win.iter().filter_map(|m| m.quantity_kg).sum();
        let mut evidence: Vec<String> = win.iter().map(|m| m.consignment.clone()).collect();
        evidence.extend(win.iter().map(|m| m.consignee.clone()));
        // The links that made the importers one group, each hop with its reason; the records
        // the links pass through are evidence, and their markings travel with the alert.
        let mut consignees: Vec<&str> = win.iter().map(|m| m.consignee.as_str()).collect();
        consignees.sort_unstable();
        consignees.dedup();
        let paths: Vec<LinkPath> = consignees
            .iter()
            .skip(1)
            .filter_map(|c| links.explain(consignees[0], c))
            .collect();
        for p in &paths {
            evidence.extend(p.records.iter().cloned());
        }
        evidence.sort();
        evidence.dedup();
        let marking = Marking::combine(
            win.iter()
                .map(|m| &m.marking)
                .chain(paths.iter().map(|p| &p.marking)),
        );
        let linked = if paths.is_empty() {
            String::new()
        } else {
            // Chains from one importer share their first hops: each hop once.
            let mut hops: Vec<&str> = Vec::new();
            for h in paths.iter().flat_map(|p| p.text.split("; ")) {
                if !hops.contains(&h) {
                    hops.push(h);
                }
            }
            format!("; linked by {}", hops.join("; "))
        };
        out.push(Alert {
            id: format!("structuring:{id}:group"),
            typology: Typology::Structuring,
            subject: id.to_string(),
            time_ms: me.arrival_ms,
            lat: None,
            lon: None,
            score,
            evidence,
            summary: format!("{} imports of {} by linked parties within {:.0} days total {total:.1} kg, each under the threshold{linked}", win.len(), me.cas, cfg.structuring_window_days),
            marking,
            facts: Default::default(),
        });
    }
    out
}

/// A suspicious place from a per-consignment alert.
#[derive(Debug, Clone)]
pub struct SuspiciousPoint {
    pub alert: String,
    pub consignment: String,
    pub lat: f64,
    pub lon: f64,
    pub time_ms: i64,
    pub marking: Marking,
    /// Another signal that the consignment's goods went astray (an alert of another typology
    /// on the same consignment, in the same view), or the point's own alert when it says so
    /// itself (a delivery away from the destination, a front consignee's address).
    pub corroboration: Option<Corroboration>,
}

/// The alert that corroborates a suspicious point, with its marking (it is evidence of the
/// convergence, so its marking flows into it).
#[derive(Debug, Clone)]
pub struct Corroboration {
    pub alert: String,
    pub marking: Marking,
}

/// Stops and deliveries of different consignments that converge on one small area.
pub fn convergence(points: &[SuspiciousPoint], cfg: &Config) -> Vec<Alert> {
    // Single-linkage clusters within the radius (union-find over pairs).
    let n = points.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            if haversine_m(points[i].lat, points[i].lon, points[j].lat, points[j].lon)
                <= cfg.convergence_radius_m
            {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let mut clusters: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        clusters.entry(r).or_default().push(i);
    }
    let mut out = Vec::new();
    for members in clusters.values() {
        let mut consignments: Vec<&str> = members
            .iter()
            .map(|&i| points[i].consignment.as_str())
            .collect();
        consignments.sort();
        consignments.dedup();
        if consignments.len() < cfg.convergence_min_consignments {
            continue;
        }
        let k = members.len() as f64;
        let lat = members.iter().map(|&i| points[i].lat).sum::<f64>() / k;
        let lon = members.iter().map(|&i| points[i].lon).sum::<f64>() / k;
        let cell = rastro_core::grid::cell(lat, lon, 8)
            .map(rastro_core::grid::to_string)
            .unwrap_or_default();
        let mut evidence: Vec<String> = members.iter().map(|&i| points[i].alert.clone()).collect();
        evidence.extend(consignments.iter().map(|s| s.to_string()));
        let support: Vec<&Corroboration> = members
            .iter()
            .filter_map(|&i| points[i].corroboration.as_ref())
            .collect();
        evidence.extend(support.iter().map(|c| c.alert.clone()));
        evidence.sort();
        evidence.dedup();
        out.push(Alert {
            id: format!("convergence:cell:{cell}"),
            typology: Typology::Convergence,
            subject: format!("cell:{cell}"),
            time_ms: members
                .iter()
                .map(|&i| points[i].time_ms)
                .min()
                .unwrap_or(0),
            lat: Some(lat),
            lon: Some(lon),
            // Stops alone, none of whose consignments shows any other sign of diversion, are
            // as likely a truck stop the model has not learned: half the score, so it takes
            // four such consignments to alert.
            score: (0.3 + 0.2 * consignments.len() as f64).min(1.0)
                * if support.is_empty() { 0.5 } else { 1.0 },
            evidence,
            summary: if support.is_empty() {
                format!(
                    "{} consignments stopped or delivered within {:.1} km of each other, none with another sign of diversion",
                    consignments.len(),
                    cfg.convergence_radius_m / 1000.0
                )
            } else {
                format!(
                    "{} consignments stopped or delivered within {:.1} km of each other",
                    consignments.len(),
                    cfg.convergence_radius_m / 1000.0
                )
            },
            marking: Marking::combine(
                members
                    .iter()
                    .map(|&i| &points[i].marking)
                    .chain(support.iter().map(|c| &c.marking)),
            ),
            facts: Default::default(),
        });
    }
    out.retain(|a| a.score >= cfg.alert_threshold);
    // Two clusters can round to one cell; keep ids unique.
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    out
}
