//! Incremental analysis: finds the consignments touched by data that arrived since the last
//! run (new custody or consignment records, new observations of their vehicles), re-analyses
//! each one from the store, replaces its alerts, then recomputes the fleet detectors.
//!
//! Memory is bounded by one consignment's track plus compact per-consignment summaries; the
//! same entry point serves a batch ingest and a live feed. Alert ids are deterministic, so a
//! re-run on the same data leaves the same alerts.

use rastro_core::{
    Alert, Catalogue, Consignment, Custody, CustodyKind, Kind, Party, Place, PlaceKind, Record,
    Typology, Vehicle,
};
use rastro_detect::links::{IdentifierLinks, PartyLinks};
use rastro_detect::{analyse, Case, Context, FleetItem, SuspiciousPoint};
use rastro_geo::Geography;
use rastro_store::{AlertFilter, Store, StoreError};
use rastro_track::trajectory::Fix;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Consignments written per transaction.
const BATCH: usize = 200;
/// Page size when streaming records out of the store.
const PAGE: u32 = 5000;
/// Track window around the loaded and delivered events.
const WINDOW_BEFORE_MS: i64 = 3_600_000;
const WINDOW_AFTER_MS: i64 = 3 * 3_600_000;
/// A consignment without a delivery is tracked for at most this long after loading.
const MAX_TRIP_MS: i64 = 96 * 3_600_000;

#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    pub config: rastro_detect::Config,
    /// The analysis clock (status and ETA are relative to it).
    pub now_ms: i64,
    /// Re-analyse everything, ignoring the cursors.
    pub full: bool,
    pub catalogue: Catalogue,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AnalyzeReport {
    pub consignments_analysed: usize,
    pub consignments_total: usize,
    pub fixes_used: u64,
    pub fixes_rejected: u64,
    pub consignments_without_observations: usize,
    /// Subjects observed since the last run that match no vehicle id or plate (vessels, unknown
    /// plates); their observations are kept but not linked to any consignment.
    pub unlinked_subjects: usize,
    /// Consignment ids named by custody events but never declared; their events are kept and
    /// counted here until the declaration arrives.
    pub undeclared_consignment_ids: usize,
    pub alerts: BTreeMap<String, u64>,
}

/// Per-consignment state kept in the store between runs.
#[derive(Serialize)]
struct State<'a> {
    status: rastro_track::Status,
    eta: Option<String>,
    vehicle: Option<&'a str>,
    fixes: usize,
    rejected: &'a [rastro_track::Rejected],
    stops: &'a [rastro_detect::consignment::StopInfo],
    gaps: &'a [rastro_track::Gap],
}

pub(crate) fn all<T>(
    store: &Store,
    kind: Kind,
    f: impl Fn(Record) -> Option<T>,
) -> Result<Vec<T>, StoreError> {
    let policy = policy(store)?;
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.records(kind, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        out.extend(
            page.into_iter()
                .filter_map(|r| f(explicit(&policy, r.record))),
        );
    }
    Ok(out)
}

/// The deployment's policy, for making markings explicit.
pub(crate) fn policy(store: &Store) -> Result<rastro_policy::Policy, StoreError> {
    rastro_policy::guard::load_policy(store).map_err(|e| match e {
        rastro_policy::GuardError::Store(s) => s,
        other => StoreError::Decode {
            kind: "policy".into(),
            id: String::new(),
            err: other.to_string(),
        },
    })
}

/// A record with its marking made explicit, so that everything derived from it carries its
/// audience whoever originated it (rastro-policy's rules).
pub(crate) fn explicit(policy: &rastro_policy::Policy, mut r: Record) -> Record {
    let nation = policy.nation_of(r.originator()).to_string();
    r.make_marking_explicit(&nation);
    r
}

pub fn normalise_plate(p: &str) -> String {
    p.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Runs incremental analysis; `progress(done, total)` is called as consignments complete.
pub fn analyze(
    store: &mut Store,
    opts: &AnalyzeOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<AnalyzeReport, StoreError> {
    let geo = Geography::mexico();
    let policy = policy(store)?;
    let places: Vec<Place> = all(store, Kind::Place, |r| {
        if let Record::Place(p) = r {
            Some(p)
        } else {
            None
        }
    })?;
    let parties: Vec<Party> = all(store, Kind::Party, |r| {
        if let Record::Party(p) = r {
            Some(p)
        } else {
            None
        }
    })?;
    let vehicles: Vec<Vehicle> = all(store, Kind::Vehicle, |r| {
        if let Record::Vehicle(v) = r {
            Some(v)
        } else {
            None
        }
    })?;
    let consignments: Vec<Consignment> = all(store, Kind::Consignment, |r| {
        if let Record::Consignment(c) = r {
            Some(c)
        } else {
            None
        }
    })?;
    // Places where a stop is normal for any consignment. Other companies' plants are not: an
    // hour at someone else's plant is exactly what a diversion looks like.
    let known: Vec<Place> = places
        .iter()
        .filter(|p| {
            matches!(
                p.place_kind,
                PlaceKind::Port
                    | PlaceKind::Depot
                    | PlaceKind::Warehouse
                    | PlaceKind::RestStop
                    | PlaceKind::FuelStation
                    | PlaceKind::Checkpoint
                    | PlaceKind::TollPlaza
            )
        })
        .cloned()
        .collect();
    let place_by_id: BTreeMap<&str, &Place> = places.iter().map(|p| (p.id.as_str(), p)).collect();
    let party_by_id: BTreeMap<&str, &Party> = parties.iter().map(|p| (p.id.as_str(), p)).collect();
    let vehicle_by_id: BTreeMap<&str, &Vehicle> =
        vehicles.iter().map(|v| (v.id.as_str(), v)).collect();
    let vehicle_by_plate: BTreeMap<String, &str> = vehicles
        .iter()
        .map(|v| (normalise_plate(&v.plate), v.id.as_str()))
        .collect();
    let links = IdentifierLinks::new(parties.iter());

    // History: arrivals per consignee cluster, to count earlier imports.
    let mut arrivals: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for c in &consignments {
        arrivals
            .entry(links.cluster(&c.consignee))
            .or_default()
            .push(c.arrival_ms);
    }
    for v in arrivals.values_mut() {
        v.sort_unstable();
    }

    // Which consignments need analysis.
    let obs_cursor = if opts.full {
        0
    } else {
        store.cursor("observation")?
    };
    let rec_cursor = if opts.full {
        0
    } else {
        store.cursor("record")?
    };
    let (obs_max, rec_max) = (store.max_observation_seq()?, store.max_record_seq()?);
    let mut report = AnalyzeReport {
        consignments_total: consignments.len(),
        ..Default::default()
    };
    let touched: BTreeSet<String> = if obs_cursor == 0 && rec_cursor == 0 {
        consignments.iter().map(|c| c.id.clone()).collect()
    } else {
        let mut t: BTreeSet<String> = store
            .consignments_touched_since(rec_cursor)?
            .into_iter()
            .collect();
        let subjects = store.subjects_since(obs_cursor)?;
        let mut vehicles_seen = BTreeSet::new();
        for s in subjects {
            match vehicle_by_id
                .get(s.as_str())
                .map(|v| v.id.as_str())
                .or_else(|| vehicle_by_plate.get(&normalise_plate(&s)).copied())
            {
                Some(v) => {
                    vehicles_seen.insert(v.to_string());
                }
                None => report.unlinked_subjects += 1,
            }
        }
        if !vehicles_seen.is_empty() {
            // Consignments carried by those vehicles: one pass over the custody events, rather
            // than one query per consignment.
            let carried = all(store, Kind::Custody, |r| match r {
                Record::Custody(e)
                    if e.vehicle
                        .as_deref()
                        .is_some_and(|v| vehicles_seen.contains(v)) =>
                {
                    Some(e.consignment)
                }
                _ => None,
            })?;
            t.extend(carried);
        }
        t
    };

    let ctx = Context {
        geo: &geo,
        catalogue: &opts.catalogue,
        known_places: &known,
        config: &opts.config,
    };
    let total = touched.len();
    let by_id: BTreeMap<&str, &Consignment> =
        consignments.iter().map(|c| (c.id.as_str(), c)).collect();
    store.begin()?;
    for (n, id) in touched.iter().enumerate() {
        let Some(c) = by_id.get(id.as_str()) else {
            report.undeclared_consignment_ids += 1;
            continue;
        };
        let custody: Vec<Custody> = store
            .records_by_ref(Kind::Custody, id)?
            .into_iter()
            .filter_map(|r| {
                if let Record::Custody(e) = explicit(&policy, r.record) {
                    Some(e)
                } else {
                    None
                }
            })
            .collect();
        let loaded = custody
            .iter()
            .filter(|e| e.event == CustodyKind::Loaded)
            .min_by_key(|e| e.time_ms);
        let delivered = custody
            .iter()
            .filter(|e| matches!(e.event, CustodyKind::Delivered | CustodyKind::Received))
            .map(|e| e.time_ms)
            .min();
        let vehicle = loaded
            .and_then(|e| e.vehicle.as_deref())
            .and_then(|v| vehicle_by_id.get(v).copied());
        let mut fixes = Vec::new();
        if let Some(l) = loaded {
            let from = l.time_ms - WINDOW_BEFORE_MS;
            let to = delivered.unwrap_or(l.time_ms + MAX_TRIP_MS) + WINDOW_AFTER_MS;
            // Everything that identifies what carries the goods: the vehicle's id and plate,
            // the container number, and the consignment itself (seals, tagged pallets).
            let mut subjects: Vec<String> = Vec::new();
            if let Some(v) = vehicle {
                subjects.push(v.id.clone());
                subjects.push(normalise_plate(&v.plate));
            }
            if let Some(cn) = &c.container {
                subjects.push(cn.to_string());
            }
            subjects.push(c.id.clone());
            subjects.sort();
            subjects.dedup();
            for s in subjects {
                for (_, o) in store.observations_of(&s, from, to)? {
                    fixes.push(Fix {
                        obs_id: o.id,
                        t_ms: o.time_ms,
                        lat: o.lat,
                        lon: o.lon,
                        source: o.source,
                        accuracy_m: o.accuracy_m,
                        marking: policy.explicit(&o.originator, &o.marking),
                    });
                }
            }
        }
        if fixes.is_empty() {
            report.consignments_without_observations += 1;
        }
        let cluster = links.cluster(&c.consignee);
        let prior = arrivals
            .get(&cluster)
            .map(|v| v.partition_point(|&t| t < c.arrival_ms))
            .unwrap_or(0);
        let case = Case {
            consignment: c,
            custody: &custody,
            destination: place_by_id.get(c.destination.as_str()).copied(),
            consignee: party_by_id.get(c.consignee.as_str()).copied(),
            vehicle,
            fixes,
            prior_consignments: prior,
            now_ms: opts.now_ms,
        };
        let a = analyse(case, &ctx);
        report.fixes_used += a.track.len() as u64;
        report.fixes_rejected += a.rejected.len() as u64;
        store.replace_consignment_alerts(id, &a.alerts)?;
        let state = State {
            status: a.status,
            eta: a.eta_ms.map(rastro_core::format_time_ms),
            vehicle: vehicle.map(|v| v.id.as_str()),
            fixes: a.track.len(),
            rejected: &a.rejected,
            stops: &a.stops,
            gaps: &a.gaps,
        };
        let status = serde_json::to_value(a.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        store.put_consignment_state(id, &status, a.eta_ms, &state)?;
        report.consignments_analysed += 1;
        if (n + 1) % BATCH == 0 {
            store.commit()?;
            progress(n + 1, total);
            store.begin()?;
        }
    }
    store.commit()?;
    progress(total, total);

    // Fleet detectors over compact summaries.
    let items: Vec<FleetItem> = consignments
        .iter()
        .map(|c| {
            let (q, base) = c.unit.convert(c.quantity);
            FleetItem {
                consignment: c.id.clone(),
                cas: c.cas.clone(),
                quantity_kg: (base == rastro_core::Base::Kg).then_some(q),
                consignee: c.consignee.clone(),
                consignee_cluster: links.cluster(&c.consignee),
                arrival_ms: c.arrival_ms,
                marking: c.marking.clone(),
            }
        })
        .collect();
    let structuring = rastro_detect::structuring(&items, &opts.catalogue, &opts.config);
    let mut points = Vec::new();
    for t in [
        Typology::UnscheduledStop,
        Typology::UndeclaredDestination,
        Typology::FrontConsignee,
    ] {
        for a in store.alerts(&AlertFilter {
            typology: Some(t),
            ..Default::default()
        })? {
            if let (Some(lat), Some(lon)) = (a.lat, a.lon) {
                points.push(SuspiciousPoint {
                    alert: a.id.clone(),
                    consignment: a.subject.clone(),
                    lat,
                    lon,
                    time_ms: a.time_ms,
                    marking: a.marking.clone(),
                });
            }
        }
    }
    let convergence: Vec<Alert> = rastro_detect::convergence(&points, &opts.config);
    store.begin()?;
    store.replace_fleet_alerts(Typology::Structuring, &structuring)?;
    store.replace_fleet_alerts(Typology::Convergence, &convergence)?;
    store.set_cursor("observation", obs_max)?;
    store.set_cursor("record", rec_max)?;
    report.alerts = store.alert_counts()?.into_iter().collect();
    // The run's writes (alerts, states, cursors) and their audit entry commit together.
    let mut ev = rastro_store::AuditEvent::new("analyze");
    ev.detail = serde_json::json!({ "consignments_analysed": report.consignments_analysed, "alerts": report.alerts, "observation_cursor": obs_max, "record_cursor": rec_max });
    store.audit(ev)?;
    store.commit()?;
    Ok(report)
}
