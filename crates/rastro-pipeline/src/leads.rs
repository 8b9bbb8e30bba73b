//! Lead building for one view: gathers what the view may see (place-based alerts of the view,
//! reports with a position, unexplained stops from the view's consignment states, routine
//! deliveries at declared destinations, city populations), hands it to rastro-fuse, and
//! replaces the view's leads with an audit entry.

use crate::inputs::ViewData;
use crate::views::PlannedView;
use rastro_core::{CustodyKind, Evidence, EvidenceKind, StopClass, Typology};
use rastro_fuse::leads::{evidence_from_alert, evidence_from_report};
use rastro_fuse::{build_leads, Background, LeadConfig, PriorLead, UrbanArea};
use rastro_store::{Actor, AlertFilter, Store, StoreError};
use serde::Serialize;
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
}

/// Recomputes the leads of view `v` at analysis clock `now_ms`, inside the caller's
/// transaction.
///
/// With `baseline`, the leads are also built with that configuration (the one without
/// feedback) from the same inputs and kept as the view's baseline ranking, so an evaluation
/// can compare the rankings; without it the view's baseline is cleared.
pub fn compute_leads(
    store: &mut Store,
    actor: &Actor,
    v: &PlannedView,
    d: &ViewData<'_>,
    now_ms: i64,
    cfg: &LeadConfig,
    baseline: Option<&LeadConfig>,
) -> Result<LeadsReport, LeadsError> {
    let prior: Vec<PriorLead> = store
        .leads(v.vid, u32::MAX)?
        .into_iter()
        .map(|l| PriorLead {
            id: l.id,
            cells: l.cells,
        })
        .collect();
    let base = match baseline {
        Some(b) => build(store, v, d, now_ms, b, &prior)?.0.leads,
        None => Vec::new(),
    };
    store.replace_lead_baseline(v.vid, &base)?;
    let (set, evidence, deliveries) = build(store, v, d, now_ms, cfg, &prior)?;
    store.replace_leads(v.vid, &set.leads)?;
    let mut ids = <sha2::Sha256 as sha2::Digest>::new();
    for l in &set.leads {
        sha2::Digest::update(&mut ids, l.id.as_bytes());
        sha2::Digest::update(&mut ids, b"\n");
    }
    let mut report = LeadsReport {
        evidence_unplaced: set.evidence_unplaced,
        routine_deliveries: deliveries,
        cells_analysed: set.cells_analysed,
        cells_with_evidence: set.cells_with_evidence,
        significant_cells: set.significant_cells,
        leads: set.leads.len(),
        ..Default::default()
    };
    for e in &evidence {
        *report
            .evidence
            .entry(e.kind.as_str().to_string())
            .or_default() += 1;
    }
    let mut ev = rastro_store::AuditEvent::new("leads.replace");
    ev.detail = serde_json::json!({"view": v.vid, "leads": set.leads.len(), "ids_sha256": hex::encode(sha2::Digest::finalize(ids)), "baseline_leads": base.len()});
    store.audit(actor, ev)?;
    Ok(report)
}

/// The view's evidence under `cfg` and the leads built from it: the set, the evidence, and
/// how many routine deliveries made the background.
fn build(
    store: &mut Store,
    v: &PlannedView,
    d: &ViewData<'_>,
    now_ms: i64,
    cfg: &LeadConfig,
    prior: &[PriorLead],
) -> Result<(rastro_fuse::LeadSet, Vec<Evidence>, usize), LeadsError> {
    cfg.validate()?;
    let mut evidence: Vec<Evidence> = Vec::new();
    let alerts = store.alerts(v.vid, &AlertFilter::default())?;
    // Where each consignment already has a place alert, so its stop there is not counted twice.
    let mut alerted: HashMap<&str, Vec<(f64, f64)>> = HashMap::new();
    for a in &alerts {
        if let Some(e) = evidence_from_alert(a, &cfg.weights) {
            if matches!(
                a.typology,
                Typology::UnscheduledStop
                    | Typology::UndeclaredDestination
                    | Typology::Transshipment
            ) {
                alerted
                    .entry(a.subject.as_str())
                    .or_default()
                    .push((e.lat, e.lon));
            }
            evidence.push(e);
        }
    }
    evidence.extend(
        d.reports
            .iter()
            .filter_map(|r| evidence_from_report(r, &cfg.weights)),
    );

    // Unexplained stops from the view's consignment states. They carry the consignment's
    // marking combined with the markings of the fixes that made them (the view saw them all).
    if cfg.weights.stop > 0.0 {
        let mut after = String::new();
        loop {
            let page = store.consignment_states(v.vid, &after, STATE_PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.0.clone();
            for (id, state) in &page {
                let Some(c) = d.consignments.get(id.as_str()) else {
                    continue;
                };
                let near_alert = |lat: f64, lon: f64| {
                    alerted.get(id.as_str()).is_some_and(|v| {
                        v.iter().any(|&(la, lo)| {
                            rastro_core::geo::haversine_m(la, lo, lat, lon) <= STOP_EXPLAINED_M
                        })
                    })
                };
                for s in state
                    .stops
                    .iter()
                    .filter(|s| s.class == StopClass::Unexplained)
                {
                    if near_alert(s.lat, s.lon) {
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
                        marking: c.marking.clone(),
                    });
                }
            }
        }
    }

    // Routine deliveries: delivered at the declared destination.
    let deliveries: Vec<(f64, f64)> = d
        .consignments
        .values()
        .flat_map(|c| {
            let place = d.place_by_id.get(c.destination.as_str()).copied();
            d.custody_of_id(&c.id)
                .into_iter()
                .filter(|e| e.event == CustodyKind::Delivered)
                .filter(|e| e.place.as_deref() == Some(c.destination.as_str()))
                .filter_map(move |e| {
                    e.position
                        .map(|p| (p.lat, p.lon))
                        .or_else(|| place.map(|p| (p.position.lat, p.position.lon)))
                })
        })
        .collect();

    let geo = crate::analyze::geography_prior();
    let urban: Vec<UrbanArea> = (0..geo.cities.len())
        .map(|i| UrbanArea {
            lat: geo.cities[i].pos.lat,
            lon: geo.cities[i].pos.lon,
            population: geo.cities[i].population as f64,
            radius_m: geo.urban_radius_m(i),
        })
        .collect();

    let set = build_leads(
        &evidence,
        &Background {
            deliveries: &deliveries,
            urban: &urban,
        },
        prior,
        now_ms,
        cfg,
    )?;
    Ok((set, evidence, deliveries.len()))
}
