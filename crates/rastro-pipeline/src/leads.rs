//! Lead building over the store: gathers what a deployment can see (place-based alerts,
//! reports with a position, unexplained stops, routine deliveries, city populations), hands it
//! to rastro-fuse, and replaces the stored leads, keeping analysts' decisions.

use crate::analyze::all;
use rastro_core::{
    Consignment, Custody, CustodyKind, Evidence, EvidenceKind, Kind, Marking, Record, Typology,
};
use rastro_fuse::leads::{evidence_from_alert, evidence_from_report};
use rastro_fuse::{build_leads, Background, LeadConfig, PriorLead, UrbanArea};
use rastro_geo::Geography;
use rastro_store::{AlertFilter, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// States read per page.
const STATE_PAGE: u32 = 2000;
/// A stop this close to one of its consignment's place alerts is that alert, not new evidence.
const STOP_EXPLAINED_M: f64 = 200.0;

#[derive(Debug, thiserror::Error)]
pub enum LeadsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Config(#[from] rastro_fuse::leads::LeadError),
}

/// What lead building used and found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeadsReport {
    pub evidence: BTreeMap<String, usize>,
    pub evidence_unplaced: usize,
    pub routine_deliveries: usize,
    pub cells_analysed: usize,
    pub cells_with_evidence: usize,
    pub significant_cells: usize,
    pub leads: usize,
    pub decisions_carried: usize,
}

#[derive(Deserialize)]
struct StopLite {
    start_ms: i64,
    lat: f64,
    lon: f64,
    known_place: Option<String>,
}

#[derive(Deserialize)]
struct StateLite {
    #[serde(default)]
    stops: Vec<StopLite>,
}

/// Recomputes every lead from the store at analysis clock `now_ms`.
pub fn compute_leads(
    store: &mut Store,
    now_ms: i64,
    cfg: &LeadConfig,
) -> Result<LeadsReport, LeadsError> {
    cfg.validate()?;
    let mut evidence: Vec<Evidence> = Vec::new();
    let alerts = store.alerts(&AlertFilter::default())?;
    // Where each consignment already has a place alert, so its stop there is not counted twice.
    let mut alerted: HashMap<&str, Vec<(f64, f64)>> = HashMap::new();
    for a in &alerts {
        if let Some(e) = evidence_from_alert(a, &cfg.weights) {
            if matches!(
                a.typology,
                Typology::UnscheduledStop | Typology::UndeclaredDestination
            ) {
                alerted
                    .entry(a.subject.as_str())
                    .or_default()
                    .push((e.lat, e.lon));
            }
            evidence.push(e);
        }
    }
    let reports = all(store, Kind::Report, |r| match r {
        Record::Report(r) => Some(r),
        _ => None,
    })?;
    evidence.extend(
        reports
            .iter()
            .filter_map(|r| evidence_from_report(r, &cfg.weights)),
    );
    let consignments: Vec<Consignment> = all(store, Kind::Consignment, |r| match r {
        Record::Consignment(c) => Some(c),
        _ => None,
    })?;
    let by_id: HashMap<&str, &Consignment> =
        consignments.iter().map(|c| (c.id.as_str(), c)).collect();

    // Unexplained stops from the stored consignment states. They carry the consignment's
    // marking (the observations' own markings are not kept in the state; see docs/leads.md).
    if cfg.weights.stop > 0.0 {
        let mut after = String::new();
        loop {
            let page = store.consignment_states(&after, STATE_PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.0.clone();
            for (id, body) in &page {
                let Ok(state) = serde_json::from_str::<StateLite>(body) else {
                    continue;
                };
                let marking = by_id
                    .get(id.as_str())
                    .map(|c| c.marking.clone())
                    .unwrap_or_else(|| Marking::new(rastro_core::Tlp::Amber));
                let near_alert = |s: &StopLite| {
                    alerted.get(id.as_str()).is_some_and(|v| {
                        v.iter().any(|&(la, lo)| {
                            rastro_core::geo::haversine_m(la, lo, s.lat, s.lon) <= STOP_EXPLAINED_M
                        })
                    })
                };
                for s in state.stops.iter().filter(|s| s.known_place.is_none()) {
                    if near_alert(s) {
                        continue;
                    }
                    evidence.push(Evidence {
                        origin: format!("stop:{id}:{}", s.start_ms),
                        kind: EvidenceKind::Stop,
                        detail: id.clone(),
                        time_ms: s.start_ms,
                        lat: s.lat,
                        lon: s.lon,
                        weight: cfg.weights.stop,
                        marking: marking.clone(),
                    });
                }
            }
        }
    }

    // Routine deliveries: delivered at the declared destination.
    let places: HashMap<String, (f64, f64)> = all(store, Kind::Place, |r| match r {
        Record::Place(p) => Some((p.id, (p.position.lat, p.position.lon))),
        _ => None,
    })?
    .into_iter()
    .collect();
    let deliveries: Vec<(f64, f64)> = all(store, Kind::Custody, |r| match r {
        Record::Custody(c) => Some(c),
        _ => None,
    })?
    .into_iter()
    .filter(|c: &Custody| c.event == CustodyKind::Delivered)
    .filter_map(|c| {
        let declared = by_id.get(c.consignment.as_str())?.destination.as_str();
        let place = c.place.as_deref()?;
        (place == declared).then(|| {
            c.position
                .map(|p| (p.lat, p.lon))
                .or_else(|| places.get(place).copied())
        })?
    })
    .collect();

    let geo = Geography::mexico();
    let urban: Vec<UrbanArea> = (0..geo.cities.len())
        .map(|i| UrbanArea {
            lat: geo.cities[i].pos.lat,
            lon: geo.cities[i].pos.lon,
            population: geo.cities[i].population as f64,
            radius_m: geo.urban_radius_m(i),
        })
        .collect();

    // Decisions first, so they win over a current lead's default status.
    let decisions = store.lead_decisions()?;
    let mut prior: Vec<PriorLead> = decisions
        .iter()
        .map(|d| PriorLead {
            id: d.id.clone(),
            cells: d.cells.clone(),
            status: d.status,
            status_note: d.note.clone(),
            released_to: d.released_to.clone(),
        })
        .collect();
    prior.extend(store.leads(u32::MAX)?.into_iter().map(|l| PriorLead {
        id: l.id,
        cells: l.cells,
        status: l.status,
        status_note: l.status_note,
        released_to: Vec::new(),
    }));

    let set = build_leads(
        &evidence,
        &Background {
            deliveries: &deliveries,
            urban: &urban,
        },
        &prior,
        now_ms,
        cfg,
    )?;
    store.replace_leads(&set.leads)?;
    let mut report = LeadsReport {
        evidence_unplaced: set.evidence_unplaced,
        routine_deliveries: deliveries.len(),
        cells_analysed: set.cells_analysed,
        cells_with_evidence: set.cells_with_evidence,
        significant_cells: set.significant_cells,
        leads: set.leads.len(),
        decisions_carried: set
            .leads
            .iter()
            .filter(|l| decisions.iter().any(|d| d.id == l.id))
            .count(),
        ..Default::default()
    };
    for e in &evidence {
        *report
            .evidence
            .entry(e.kind.as_str().to_string())
            .or_default() += 1;
    }
    Ok(report)
}
