//! Leads: weighted evidence on H3 cells, less the background a deployment expects there,
//! Gi* hot spots over the cells, and significant cells merged into ranked candidate sites,
//! each with the contribution of every piece of evidence.
//!
//! The score of a lead is documented in `docs/leads.md`: the decayed evidence mass of its
//! cells less their expected background, multiplied by a corroboration factor that rewards
//! independent kinds of signal. Everything here is a pure function of its inputs.

use crate::gistar::{g_local_geo, GeoIndex, Transform};
use rastro_core::{
    grid, Alert, Contribution, Evidence, EvidenceKind, Lead, LeadStatus, Marking, Report,
    ReportKind, Typology,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const MS_PER_DAY: f64 = 86_400_000.0;

/// Weights and thresholds of lead building. Units are in the names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeadConfig {
    /// H3 resolution of the fusion grid (9: cells of about 0.1 km²).
    pub resolution: u8,
    /// Gi* distance band, in metres between cell centres.
    pub band_m: f64,
    /// A cell is significant when its Gi* z-score reaches this (3.09 is p = 0.001, one-sided).
    pub z_min: f64,
    /// Evidence loses half its weight every this many days before the analysis clock.
    pub half_life_days: f64,
    /// Expected background evidence per routine delivery to a declared destination in a cell.
    pub background_per_delivery: f64,
    /// At most this many leads are kept, best first.
    pub max_leads: usize,
    /// Score bonus per distinct evidence kind beyond the first.
    pub corroboration_bonus: f64,
    pub weights: Weights,
}

/// Weight of each kind of evidence before grading and decay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// Per alert typology, multiplied by the alert's score. A typology absent here counts 0.
    pub alerts: BTreeMap<Typology, f64>,
    /// A stop at an unknown place too short for an unscheduled-stop alert.
    pub stop: f64,
    pub tip: f64,
    /// A seizure is where drugs were caught, not where they were made: weak place evidence.
    pub seizure: f64,
    pub equipment_purchase: f64,
    pub other_report: f64,
}

impl Default for Weights {
    fn default() -> Self {
        let alerts = [
            (Typology::Convergence, 1.5),
            (Typology::UndeclaredDestination, 1.0),
            (Typology::UnscheduledStop, 1.0),
            (Typology::FrontConsignee, 0.5),
            (Typology::RouteDeviation, 0.3),
            (Typology::QuantityShortfall, 0.3),
            (Typology::Structuring, 0.3),
            (Typology::TrackingGap, 0.2),
            (Typology::MisDeclaration, 0.1),
        ]
        .into_iter()
        .collect();
        Weights {
            alerts,
            stop: 0.15,
            tip: 0.6,
            seizure: 0.1,
            equipment_purchase: 0.8,
            other_report: 0.3,
        }
    }
}

impl Default for LeadConfig {
    fn default() -> Self {
        LeadConfig {
            resolution: 9,
            band_m: 1000.0,
            z_min: 3.09,
            half_life_days: 60.0,
            background_per_delivery: 0.1,
            max_leads: 200,
            corroboration_bonus: 0.5,
            weights: Weights::default(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LeadError {
    #[error("lead resolution {0} is outside H3's 0..=15; use 7 to 10")]
    Resolution(u8),
    #[error("lead {field} is {value}; it must be a finite number above zero")]
    NotPositive { field: &'static str, value: f64 },
}

impl LeadConfig {
    pub fn validate(&self) -> Result<(), LeadError> {
        if self.resolution > 15 {
            return Err(LeadError::Resolution(self.resolution));
        }
        for (field, value) in [
            ("band_m", self.band_m),
            ("half_life_days", self.half_life_days),
            ("z_min", self.z_min),
        ] {
            if !value.is_finite() || value <= 0.0 {
                return Err(LeadError::NotPositive { field, value });
            }
        }
        Ok(())
    }
}

/// Weight of an Admiralty grade: source reliability A (reliable) to F (cannot be judged) times
/// information credibility 1 (confirmed) to 6 (cannot be judged). "Cannot be judged" is
/// weighted like a doubtful grade, not like an unreliable one.
pub fn admiralty_factor(reliability: char, credibility: u8) -> f64 {
    let r = match reliability.to_ascii_uppercase() {
        'A' => 1.0,
        'B' => 0.8,
        'C' => 0.6,
        'D' => 0.4,
        'E' => 0.2,
        _ => 0.3,
    };
    let c = match credibility {
        1 => 1.0,
        2 => 0.8,
        3 => 0.6,
        4 => 0.4,
        5 => 0.2,
        _ => 0.3,
    };
    r * c
}

/// The evidence an alert gives about its place; `None` when it has no place or no weight.
pub fn evidence_from_alert(a: &Alert, w: &Weights) -> Option<Evidence> {
    let (lat, lon) = a.lat.zip(a.lon)?;
    let weight = w.alerts.get(&a.typology).copied().unwrap_or(0.0) * a.score;
    (weight > 0.0).then(|| Evidence {
        origin: a.id.clone(),
        kind: EvidenceKind::Alert,
        detail: a.typology.as_str().to_string(),
        time_ms: a.time_ms,
        lat,
        lon,
        weight,
        marking: a.marking.clone(),
    })
}

/// The evidence a report gives about its place, weighted by its Admiralty grade. A report of
/// a lab already found gives none: that site is known and no longer a lead.
pub fn evidence_from_report(r: &Report, w: &Weights) -> Option<Evidence> {
    let p = r.position?;
    let (kind, base) = match r.report_kind {
        ReportKind::Tip => (EvidenceKind::Tip, w.tip),
        ReportKind::Seizure => (EvidenceKind::Seizure, w.seizure),
        ReportKind::EquipmentPurchase => (EvidenceKind::EquipmentPurchase, w.equipment_purchase),
        ReportKind::Other => (EvidenceKind::Report, w.other_report),
        ReportKind::LabFound => return None,
    };
    let weight = base * admiralty_factor(r.reliability, r.credibility);
    (weight > 0.0).then(|| Evidence {
        origin: r.id.clone(),
        kind,
        detail: format!("{}{}", r.reliability, r.credibility),
        time_ms: r.time_ms,
        lat: p.lat,
        lon: p.lon,
        weight,
        marking: r.marking.clone(),
    })
}

/// A built-up area for the population part of the background.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UrbanArea {
    pub lat: f64,
    pub lon: f64,
    pub population: f64,
    pub radius_m: f64,
}

/// What a deployment can observe besides the evidence.
#[derive(Debug, Clone, Default)]
pub struct Background<'a> {
    /// Positions of routine deliveries to declared destinations.
    pub deliveries: &'a [(f64, f64)],
    pub urban: &'a [UrbanArea],
}

/// A lead from an earlier run of the same view, so that ids survive recomputation. (Decisions
/// are kept by the organisations that made them, with the cells they were made on, and laid
/// over the leads when read; releases are frozen snapshots of their own.)
#[derive(Debug, Clone, PartialEq)]
pub struct PriorLead {
    pub id: String,
    pub cells: Vec<String>,
}

/// The leads and the figures that explain how they were found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeadSet {
    pub leads: Vec<Lead>,
    pub evidence_used: usize,
    /// Evidence without a valid position (never silently dropped: counted here).
    pub evidence_unplaced: usize,
    pub cells_analysed: usize,
    pub cells_with_evidence: usize,
    pub significant_cells: usize,
    /// Expected background per person, calibrated from the data (tip mass over population).
    pub background_per_person: f64,
}

/// Expected background evidence in a cell: routine deliveries there plus the cell's share of
/// population-proportional noise.
fn population_in_cell(urban: &[UrbanArea], lat: f64, lon: f64, cell_area_m2: f64) -> f64 {
    urban
        .iter()
        .filter(|u| u.radius_m > 0.0)
        .filter(|u| rastro_core::geo::haversine_m(lat, lon, u.lat, u.lon) <= u.radius_m)
        .map(|u| u.population / (std::f64::consts::PI * u.radius_m * u.radius_m) * cell_area_m2)
        .sum()
}

/// Builds the leads. `now_ms` is the analysis clock that decay is measured from.
pub fn build_leads(
    evidence: &[Evidence],
    background: &Background<'_>,
    prior: &[PriorLead],
    now_ms: i64,
    cfg: &LeadConfig,
) -> Result<LeadSet, LeadError> {
    cfg.validate()?;
    let res = cfg.resolution;
    let mut set = LeadSet::default();
    // 1. Evidence onto cells, decayed.
    let mut mass: HashMap<u64, f64> = HashMap::new();
    let mut items: HashMap<u64, Vec<(usize, f64)>> = HashMap::new();
    let mut tip_mass = 0.0;
    for (i, e) in evidence.iter().enumerate() {
        let Some(c) = grid::cell(e.lat, e.lon, res).filter(|_| e.weight.is_finite()) else {
            set.evidence_unplaced += 1;
            continue;
        };
        let age_days = (now_ms - e.time_ms).max(0) as f64 / MS_PER_DAY;
        let contribution = e.weight * 0.5f64.powf(age_days / cfg.half_life_days);
        *mass.entry(c).or_default() += contribution;
        items.entry(c).or_default().push((i, contribution));
        if e.kind == EvidenceKind::Tip {
            tip_mass += contribution;
        }
        set.evidence_used += 1;
    }
    set.cells_with_evidence = mass.len();
    let population: f64 = background.urban.iter().map(|u| u.population).sum();
    set.background_per_person = if population > 0.0 {
        tip_mass / population
    } else {
        0.0
    };
    let mut deliveries: HashMap<u64, f64> = HashMap::new();
    for &(lat, lon) in background.deliveries {
        if let Some(c) = grid::cell(lat, lon, res) {
            *deliveries.entry(c).or_default() += cfg.background_per_delivery;
        }
    }

    // 2. The study area: every cell within the band of evidence, so that quiet surroundings
    // count as the zeros they are.
    let edge_m = grid::edge_length_m(res).ok_or(LeadError::Resolution(res))?;
    let k = (cfg.band_m / (edge_m * 3f64.sqrt())).ceil().max(1.0) as u32;
    let mut ordered: Vec<u64> = mass.keys().copied().collect();
    ordered.sort_unstable();
    let mut study: BTreeSet<u64> = BTreeSet::new();
    for &c in &ordered {
        study.extend(grid::disk(c, k));
    }
    let cells: Vec<u64> = study.into_iter().collect();
    set.cells_analysed = cells.len();
    if cells.is_empty() {
        return Ok(set);
    }
    let cell_area_m2 = 1.5 * 3f64.sqrt() * edge_m * edge_m;
    let centres: Vec<(f64, f64)> = cells
        .iter()
        .map(|&c| grid::center(c).unwrap_or((f64::NAN, f64::NAN)))
        .collect();
    let expected: Vec<f64> = cells
        .iter()
        .zip(&centres)
        .map(|(c, &(lat, lon))| {
            deliveries.get(c).copied().unwrap_or(0.0)
                + population_in_cell(background.urban, lat, lon, cell_area_m2)
                    * set.background_per_person
        })
        .collect();
    // The square root stabilises the variance of count-like masses: without it a few very
    // heavy sites inflate the global variance and hide moderate ones (on the medium scenario,
    // 21 of 25 labs reached z >= 3.09 without it, 25 with it).
    let y: Vec<f64> = cells
        .iter()
        .zip(&expected)
        .map(|(c, b)| (mass.get(c).copied().unwrap_or(0.0) - b).max(0.0).sqrt())
        .collect();

    // 3. Gi* over the cells.
    let g = g_local_geo(&centres, &y, cfg.band_m, true, Transform::Binary);

    // 4. Significant cells with evidence, merged when within the band of each other.
    let sig: Vec<usize> = (0..cells.len())
        .filter(|&i| y[i] > 0.0 && g[i].z.is_finite() && g[i].z >= cfg.z_min)
        .collect();
    set.significant_cells = sig.len();
    let sig_ll: Vec<(f64, f64)> = sig.iter().map(|&i| centres[i]).collect();
    let nb = GeoIndex::new(&sig_ll, cfg.band_m).neighbours(sig.len());
    let mut parent: Vec<usize> = (0..sig.len()).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for (a, list) in nb.iter().enumerate() {
        for &b in list {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (a, &cell) in sig.iter().enumerate() {
        let r = find(&mut parent, a);
        groups.entry(r).or_default().push(cell);
    }

    // 5. One lead per group.
    let mut leads: Vec<Lead> = Vec::new();
    for members in groups.values() {
        let mut contributions: Vec<Contribution> = Vec::new();
        let (mut m, mut bg, mut wlat, mut wlon) = (0.0, 0.0, 0.0, 0.0);
        let (mut z_max, mut p_min) = (f64::NEG_INFINITY, 1.0f64);
        let mut peak = (f64::NEG_INFINITY, 0u64);
        for &i in members {
            let c = cells[i];
            bg += expected[i];
            z_max = z_max.max(g[i].z);
            p_min = p_min.min(g[i].p);
            let cm = mass.get(&c).copied().unwrap_or(0.0);
            if cm > peak.0 || (cm == peak.0 && c < peak.1) {
                peak = (cm, c);
            }
            for &(e, contribution) in items.get(&c).map(Vec::as_slice).unwrap_or(&[]) {
                let ev = &evidence[e];
                m += contribution;
                wlat += ev.lat * contribution;
                wlon += ev.lon * contribution;
                contributions.push(Contribution {
                    evidence: ev.clone(),
                    cell: grid::to_string(c),
                    contribution,
                });
            }
        }
        if m <= 0.0 {
            continue;
        }
        contributions.sort_by(|a, b| {
            b.contribution
                .total_cmp(&a.contribution)
                .then_with(|| a.evidence.origin.cmp(&b.evidence.origin))
        });
        let kinds: BTreeSet<EvidenceKind> = contributions.iter().map(|c| c.evidence.kind).collect();
        let kinds_n = kinds.len() as u32;
        let score =
            (m - bg).max(0.0) * (1.0 + cfg.corroboration_bonus * (kinds_n.max(1) - 1) as f64);
        let mut cell_text: Vec<String> =
            members.iter().map(|&i| grid::to_string(cells[i])).collect();
        cell_text.sort();
        let marking = Marking::combine(contributions.iter().map(|c| &c.evidence.marking));
        let last_seen_ms = contributions
            .iter()
            .map(|c| c.evidence.time_ms)
            .max()
            .unwrap_or(now_ms);
        let summary = summarise(&contributions, z_max);
        leads.push(Lead {
            id: format!("lead-{}", grid::to_string(peak.1)),
            rank: 0,
            score,
            lat: wlat / m,
            lon: wlon / m,
            cells: cell_text,
            resolution: res,
            z_max,
            p_min,
            evidence_mass: m,
            background: bg,
            kinds: kinds_n,
            evidence: contributions,
            marking,
            status: LeadStatus::New,
            status_note: None,
            last_seen_ms,
            summary,
        });
    }
    leads.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    leads.truncate(cfg.max_leads);

    // 6. Ids and decisions carried over from earlier leads that share a cell, best lead first.
    let mut prior_by_cell: HashMap<&str, usize> = HashMap::new();
    for (i, p) in prior.iter().enumerate() {
        for c in &p.cells {
            prior_by_cell.entry(c.as_str()).or_insert(i);
        }
    }
    let mut taken: BTreeSet<usize> = BTreeSet::new();
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for (rank, l) in leads.iter_mut().enumerate() {
        l.rank = rank as u32 + 1;
        let mut shared: BTreeMap<usize, usize> = BTreeMap::new();
        for c in &l.cells {
            if let Some(&p) = prior_by_cell.get(c.as_str()) {
                *shared.entry(p).or_default() += 1;
            }
        }
        let best = shared
            .iter()
            .filter(|(p, _)| !taken.contains(p))
            .max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p)))
            .map(|(p, _)| *p);
        if let Some(p) = best {
            taken.insert(p);
            l.id = prior[p].id.clone();
        }
        // Two leads can peak in the same cell only by inheriting; keep ids unique anyway.
        while !ids.insert(l.id.clone()) {
            l.id.push('+');
        }
    }
    set.leads = leads;
    Ok(set)
}

fn summarise(c: &[Contribution], z_max: f64) -> String {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for x in c {
        let key = match x.evidence.kind {
            EvidenceKind::Alert => format!("alert {}", x.evidence.detail),
            k => k.as_str().replace('_', " "),
        };
        *by.entry(key).or_default() += 1;
    }
    let parts: Vec<String> = by.iter().map(|(k, n)| format!("{n} × {k}")).collect();
    format!("{}; Gi* z {z_max:.1}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rastro_core::Tlp;

    fn ev(id: &str, kind: EvidenceKind, lat: f64, lon: f64, w: f64, tlp: Tlp) -> Evidence {
        Evidence {
            origin: id.into(),
            kind,
            detail: String::new(),
            time_ms: 0,
            lat,
            lon,
            weight: w,
            marking: Marking::new(tlp),
        }
    }

    /// A scatter of single weak tips over a city and one place where an alert, a tip and an
    /// equipment purchase converge.
    fn scene() -> Vec<Evidence> {
        let mut e = Vec::new();
        for i in 0..60 {
            let lat = 20.60 + (i % 8) as f64 * 0.02 + (i as f64 * 0.37).sin() * 0.004;
            let lon = -103.40 + (i / 8) as f64 * 0.02 + (i as f64 * 0.11).cos() * 0.004;
            e.push(ev(
                &format!("tip{i}"),
                EvidenceKind::Tip,
                lat,
                lon,
                0.1,
                Tlp::Red,
            ));
        }
        e.push(ev(
            "a1",
            EvidenceKind::Alert,
            20.7001,
            -103.3001,
            1.0,
            Tlp::Amber,
        ));
        e.push(ev(
            "a2",
            EvidenceKind::Alert,
            20.7003,
            -103.2999,
            0.9,
            Tlp::Green,
        ));
        e.push(ev(
            "t1",
            EvidenceKind::Tip,
            20.7010,
            -103.3010,
            0.48,
            Tlp::Red,
        ));
        e.push(ev(
            "q1",
            EvidenceKind::EquipmentPurchase,
            20.6990,
            -103.3020,
            0.64,
            Tlp::Amber,
        ));
        e
    }

    #[test]
    fn converging_signals_make_the_top_lead_with_the_strictest_marking() {
        let set = build_leads(
            &scene(),
            &Background::default(),
            &[],
            0,
            &LeadConfig::default(),
        )
        .unwrap();
        let top = &set.leads[0];
        let d = rastro_core::geo::haversine_m(top.lat, top.lon, 20.7, -103.3);
        assert!(d < 200.0, "top lead {d:.0} m from the site: {top:?}");
        assert_eq!(top.kinds, 3);
        assert_eq!(top.marking.tlp, Tlp::Red);
        assert_eq!(top.evidence[0].evidence.origin, "a1");
        let total: f64 = top.evidence.iter().map(|c| c.contribution).sum();
        assert!((total - top.evidence_mass).abs() < 1e-12);
        assert_eq!(set.evidence_used, 64);
        // A lone weak tip is not significant on its own.
        assert!(set
            .leads
            .iter()
            .all(|l| l.evidence_mass > 0.1 + 1e-9 || l.kinds > 1));
    }

    #[test]
    fn routine_deliveries_explain_away_a_busy_site() {
        let mut e = scene();
        // Equipment bought at a plant that receives chemicals every week.
        for i in 0..4 {
            let id = format!("q{i}");
            let d = i as f64 * 1e-4;
            e.push(ev(
                &id,
                EvidenceKind::EquipmentPurchase,
                20.65 + d,
                -103.35 - d,
                0.64,
                Tlp::Amber,
            ));
        }
        e.push(ev(
            "t9",
            EvidenceKind::Tip,
            20.6502,
            -103.3502,
            0.48,
            Tlp::Red,
        ));
        let plant = vec![(20.6500, -103.3500); 40];
        let cfg = LeadConfig::default();
        let with = build_leads(
            &e,
            &Background {
                deliveries: &plant,
                urban: &[],
            },
            &[],
            0,
            &cfg,
        )
        .unwrap();
        let without = build_leads(&e, &Background::default(), &[], 0, &cfg).unwrap();
        let near = |s: &LeadSet| {
            s.leads
                .iter()
                .any(|l| rastro_core::geo::haversine_m(l.lat, l.lon, 20.65, -103.35) < 300.0)
        };
        assert!(near(&without));
        assert!(!near(&with));
    }

    #[test]
    fn old_evidence_decays_and_decisions_survive_recomputation() {
        let cfg = LeadConfig::default();
        let fresh = build_leads(&scene(), &Background::default(), &[], 0, &cfg).unwrap();
        let later = 120 * 86_400_000;
        let old = build_leads(&scene(), &Background::default(), &[], later, &cfg).unwrap();
        assert!((old.leads[0].evidence_mass * 4.0 - fresh.leads[0].evidence_mass).abs() < 1e-9);
        let prior = PriorLead {
            id: "lead-kept".into(),
            cells: fresh.leads[0].cells[..1].to_vec(),
        };
        let again = build_leads(&scene(), &Background::default(), &[prior], 0, &cfg).unwrap();
        assert_eq!(again.leads[0].id, "lead-kept");
        assert_eq!(again.leads[0].status, LeadStatus::New);
        // Nothing about who it was released to rides on the recomputed lead.
        assert_eq!(again.leads[0].marking, fresh.leads[0].marking);
    }

    #[test]
    fn grades_and_bad_positions() {
        assert!(admiralty_factor('A', 1) > admiralty_factor('B', 2));
        assert!(admiralty_factor('E', 5) < admiralty_factor('F', 6));
        let mut e = scene();
        e.push(ev("nowhere", EvidenceKind::Tip, 95.0, 0.0, 1.0, Tlp::Clear));
        let set = build_leads(&e, &Background::default(), &[], 0, &LeadConfig::default()).unwrap();
        assert_eq!(set.evidence_unplaced, 1);
        let bad = LeadConfig {
            band_m: f64::NAN,
            ..LeadConfig::default()
        };
        assert!(build_leads(&e, &Background::default(), &[], 0, &bad).is_err());
    }
}
