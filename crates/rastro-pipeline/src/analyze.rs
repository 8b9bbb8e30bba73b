//! Incremental analysis, per view, in named steps:
//!
//! 1. [`plan`](crate::views::plan): group audiences into views (what each may see).
//! 2. [`Inputs::load`]: read the records once; each view filters them by class.
//! 3. [`learn`]: update each view's learned normal from the fixes it may see (reading on one
//!    thread, turning tracks into cells on another), before any consignment is analysed:
//!    route deviation reads it.
//! 4. [`touched`]: per view, the consignments whose inputs changed since its cursors.
//! 5. [`consignments`]: for each touched consignment read custody and fixes once, then build
//!    each view's case from what that view sees and analyse it; views whose case is identical
//!    (same context and model, same visible custody and fixes) share one analysis. Then the
//!    same for the consignments whose places of concern (unexplained stops, stretches off
//!    the learned roads) the grown model may now judge differently ([`explained_anew`]).
//! 6. [`fleet`]: structuring and convergence per view.
//! 7. [`crate::leads::compute_leads`]: leads per view.
//! 8. finish: cursors and models per view.
//!
//! Every transaction commits with its audit entry: the plan, each chunk of consignments, the
//! fleet alerts and leads of each view, and the final cursors. Alert ids are deterministic, so
//! a re-run on the same data leaves the same alerts.

use crate::inputs::{normalise_plate, Held, Inputs, ViewData};
use crate::settings::AnalysisSettings;
use crate::views::PlannedView;
use rastro_core::state::{GapSummary, RejectedFix, StopClass, StopSummary};
use rastro_core::{Alert, Catalogue, ConsignmentState, CustodyKind, TripWindow, Typology};
use rastro_detect::{analyse, Case, Context, FleetItem, SuspiciousPoint};
use rastro_geo::Geography;
use rastro_learn::{carrier_id, Model, TrackPoint};
use rastro_policy::Policy;
use rastro_store::{Actor, AlertFilter, AuditEvent, Store, StoreError};
use rastro_track::trajectory::Fix;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Consignments written per transaction.
const CHUNK: usize = 200;

#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// The analysis clock (status and ETA are relative to it; leads decay from it).
    pub now_ms: i64,
    /// Re-analyse everything, ignoring the cursors.
    pub full: bool,
    pub settings: AnalysisSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    #[error(transparent)]
    Leads(#[from] crate::leads::LeadsError),
}

/// What one view's analysis did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ViewReport {
    pub audiences: Vec<String>,
    /// Computed from scratch (new view, changed policy, `--full`) rather than incrementally.
    pub full: bool,
    pub consignments_visible: usize,
    pub consignments_analysed: usize,
    /// Analyses this view took from another view that saw exactly the same case.
    pub consignments_shared: usize,
    pub fixes_used: u64,
    pub fixes_rejected: u64,
    pub consignments_without_observations: usize,
    pub learned_vehicles: usize,
    pub learned_carriers: usize,
    /// Unscheduled-stop alerts withdrawn because the learned normal explains them (a place
    /// where other carriers stop).
    pub explained_stops: usize,
    /// Records of one kind sharing an id in this view: all but the one kept.
    pub ambiguous_ids: usize,
    pub alerts: BTreeMap<String, u64>,
    pub leads: crate::leads::LeadsReport,
}

/// What a run did: every view, and the operator's view's figures at the top level.
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
    pub leads: crate::leads::LeadsReport,
    pub views: Vec<ViewReport>,
}

/// The public geography analysis uses as a prior (never the only truth).
pub(crate) fn geography_prior() -> &'static Geography {
    static GEO: std::sync::OnceLock<Geography> = std::sync::OnceLock::new();
    GEO.get_or_init(Geography::mexico)
}

fn audit_in_tx(
    store: &mut Store,
    actor: &Actor,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    let mut ev = AuditEvent::new(action);
    ev.detail = detail;
    store.audit(actor, ev)?;
    Ok(())
}

/// Runs incremental analysis as `actor` (a system actor); `progress(done, total)` is called
/// as consignments complete.
pub fn analyze(
    store: &mut Store,
    actor: &Actor,
    opts: &AnalyzeOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<AnalyzeReport, AnalyzeError> {
    opts.settings.validate()?;
    let catalogue = opts.settings.catalogue()?;
    let policy = crate::policy::load_policy(store)?;
    let classes = crate::policy::classes(store)?;
    let (obs_max, rec_max) = (store.max_observation_seq()?, store.max_record_seq()?);

    // Each step's wall time goes to the log (`-v`), so an operator can see where a run spends it.
    let mut clock = std::time::Instant::now();
    let mut step = |name: &str| {
        tracing::info!(
            step = name,
            ms = clock.elapsed().as_millis() as u64,
            "analysis step done"
        );
        clock = std::time::Instant::now();
    };

    // 1. Views.
    store.begin()?;
    let views = match crate::views::plan(store, &policy, &classes, opts.full) {
        Ok(v) => v,
        Err(e) => {
            store.rollback()?;
            return Err(e.into());
        }
    };
    audit_in_tx(
        store,
        actor,
        "analyze.plan",
        serde_json::json!({"views": views.iter().map(|v| serde_json::json!({"view": v.vid, "audiences": v.audience_names(), "full": v.full})).collect::<Vec<_>>()}),
    )?;
    store.commit()?;

    step("plan");
    // 2. Inputs.
    let inputs = Inputs::load(store, &policy)?;
    let data: Vec<ViewData<'_>> = views.iter().map(|v| ViewData::new(&inputs, v)).collect();
    let mut reports: Vec<ViewReport> = views
        .iter()
        .zip(&data)
        .map(|(v, d)| ViewReport {
            audiences: v.audience_names(),
            full: v.full,
            consignments_visible: d.consignments.len(),
            ambiguous_ids: d.ambiguous,
            ..Default::default()
        })
        .collect();

    step("load");
    // 3. Learning, before the consignments: route deviation reads the learned normal.
    let learned = learn(store, &inputs, &views, &data, opts)?;
    step("learn");
    // 4–5. What to analyse, consignments.
    let (mut unlinked, mut undeclared) = (0, 0);
    let touched = touched(
        store,
        &inputs,
        &views,
        &data,
        &mut unlinked,
        &mut undeclared,
    )?;
    step("touched");
    // Two views share a consignment's analysis when everything the per-consignment detectors
    // read is the same for both: the case (custody and fixes, hashed per case below) and the
    // context, which is the view's places, parties, vehicles, consignments, custody and reports
    // (known places, the consignee, prior imports, parties named in reports) and its learned
    // model (its digest). A detector that starts reading anything else must add it here, or
    // views would share results they may not.
    let case_classes = inputs.case_context_classes();
    let ctx_fp: Vec<u64> = views
        .iter()
        .zip(&learned.models)
        .map(|(v, m)| {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            for c in case_classes.iter().filter(|c| v.sees(**c)) {
                h.update(&c.to_le_bytes());
            }
            h.update(&m.digest().to_le_bytes());
            h.digest()
        })
        .collect();
    let env = Env {
        policy: &policy,
        views: &views,
        data: &data,
        ctx_fp: &ctx_fp,
        catalogue: &catalogue,
        settings: &opts.settings,
        models: &learned.models,
        now_ms: opts.now_ms,
    };
    consignments(store, actor, &env, &touched, &mut reports, progress)?;
    step("consignments");
    let again = explained_anew(store, &views, &learned.grown, &touched)?;
    if again.iter().any(|t| !t.is_empty()) {
        consignments(store, actor, &env, &again, &mut reports, progress)?;
    }
    let models = &learned.models;
    for (r, (vehicles, carriers)) in reports.iter_mut().zip(&learned.counts) {
        r.learned_vehicles = *vehicles;
        r.learned_carriers = *carriers;
    }
    // What closed operations taught, read once for every view.
    let trials = crate::feedback::trials(store)?;
    // 6. Fleet detectors, 7. leads, 8. cursors and models: one transaction per view.
    for (i, v) in views.iter().enumerate() {
        let rates = crate::feedback::rates_for(&v.audiences, &trials);
        let lead_cfg = crate::feedback::calibrated(&opts.settings.leads, &rates);
        // A calibrated view keeps its uncalibrated ranking too, for the evaluation.
        let baseline = (!rates.0.is_empty()).then_some(&opts.settings.leads);
        store.begin()?;
        let r = (|| -> Result<(), AnalyzeError> {
            fleet(store, v, &data[i], &catalogue, &opts.settings.detect)?;
            step("fleet");
            reports[i].leads = crate::leads::compute_leads(
                store,
                actor,
                v,
                &data[i],
                opts.now_ms,
                &lead_cfg,
                baseline,
            )?;
            step("leads");
            store.set_view_model(v.vid, &models[i].encode())?;
            store.set_view_cursors(v.vid, obs_max, rec_max, opts.now_ms)?;
            reports[i].alerts = store.alert_counts(v.vid)?.into_iter().collect();
            audit_in_tx(
                store,
                actor,
                "analyze.view",
                serde_json::json!({"view": v.vid, "audiences": v.audience_names(), "consignments_analysed": reports[i].consignments_analysed, "alerts": reports[i].alerts, "leads": reports[i].leads.leads, "observation_cursor": obs_max, "record_cursor": rec_max}),
            )?;
            Ok(())
        })();
        match r {
            Ok(()) => store.commit()?,
            Err(e) => {
                store.rollback()?;
                return Err(e);
            }
        }
    }

    let op = views
        .iter()
        .position(|v| v.audiences.contains(&rastro_policy::Audience::Operator))
        .unwrap_or(0);
    let o = reports.get(op).cloned().unwrap_or_default();
    Ok(AnalyzeReport {
        consignments_analysed: o.consignments_analysed,
        consignments_total: inputs.consignments.len(),
        fixes_used: o.fixes_used,
        fixes_rejected: o.fixes_rejected,
        consignments_without_observations: o.consignments_without_observations,
        unlinked_subjects: unlinked,
        undeclared_consignment_ids: undeclared,
        alerts: o.alerts.clone(),
        leads: o.leads.clone(),
        views: reports,
    })
}

/// What learning produced: per view, the model, the grid cells whose popularity grew to where
/// a threshold may have been crossed, and (vehicles learned, carriers known).
struct Learned {
    models: Vec<Model>,
    grown: Vec<BTreeSet<u64>>,
    counts: Vec<(usize, usize)>,
}

/// Vehicles whose fixes may wait for the learning thread at once.
const LEARN_QUEUE: usize = 16;

/// Step 3: each view's learned model, loaded and brought up to date; and, per view, the grid
/// cells whose popularity grew to where a threshold may have been crossed.
fn learn(
    store: &Store,
    inputs: &Inputs,
    views: &[PlannedView],
    data: &[ViewData<'_>],
    opts: &AnalyzeOptions,
) -> Result<Learned, StoreError> {
    let cfg = &opts.settings.learn;
    let mut models: Vec<Model> = views
        .iter()
        .map(|v| {
            let stored = if v.full {
                None
            } else {
                store.view_model(v.vid)?
            };
            Ok(stored
                .and_then(|b| Model::decode(&b))
                .filter(|m| m.grid().cell_m == cfg.cell_m)
                .unwrap_or_else(|| Model::new(cfg)))
        })
        .collect::<Result<_, StoreError>>()?;
    let mut grown: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); views.len()];
    // Subjects to learn: every one for a view computed from scratch, else those with new fixes.
    let all_full = views.iter().all(|v| v.full);
    let min_cursor = views.iter().map(|v| v.obs_cursor).min().unwrap_or(0);
    let subjects: Vec<String> = if all_full || min_cursor == 0 {
        store.subjects()?
    } else {
        store.subjects_since(min_cursor)?
    };
    let any = |c: i64| views.iter().any(|v| v.sees(c));
    // The store is read on this thread while a second one turns each vehicle's fixes into
    // cells and adds them to the models (a bounded hand-off: at most LEARN_QUEUE vehicles in
    // flight). Views that see the same fixes of a vehicle share the computation of its cells.
    let grid = rastro_learn::Grid::new(cfg.cell_m);
    let (tx, rx) =
        std::sync::mpsc::sync_channel::<(&String, Vec<rastro_store::GpsPoint>)>(LEARN_QUEUE);
    let mut counts: Vec<(usize, usize)> = vec![(0, 0); views.len()];
    let read = std::thread::scope(|scope| {
        let models = &mut models;
        let grown = &mut grown;
        let counts = &mut counts;
        scope.spawn(move || {
            let mut seen: Vec<(Vec<TrackPoint>, rastro_learn::TrackCells)> = Vec::new();
            for (s, fixes) in rx {
                seen.clear();
                for (i, v) in views.iter().enumerate() {
                    let buf: Vec<TrackPoint> = fixes
                        .iter()
                        .filter(|f| v.sees(f.class))
                        .map(|f| TrackPoint {
                            t_ms: f.t_ms,
                            lat: f.lat,
                            lon: f.lon,
                        })
                        .collect();
                    if buf.is_empty() {
                        continue;
                    }
                    let at = match seen.iter().position(|(b, _)| *b == buf) {
                        Some(at) => at,
                        None => {
                            let cells = rastro_learn::TrackCells::of(&grid, &buf, cfg);
                            seen.push((buf, cells));
                            seen.len() - 1
                        }
                    };
                    // A vehicle of unknown carrier counts as its own carrier.
                    let mut g = Vec::new();
                    models[i].learn_cells(carrier_of(&data[i], s), &seen[at].1, &mut g);
                    grown[i].extend(g);
                    counts[i].0 += 1;
                }
            }
        });
        for s in &subjects {
            let fixes = store.gps_points_of(s, &any)?;
            if tx.send((s, fixes)).is_err() {
                break;
            }
        }
        drop(tx);
        Ok::<(), StoreError>(())
    });
    read?;
    // Receiving hours from deliveries at declared places.
    for (i, v) in views.iter().enumerate() {
        for h in &inputs.custody {
            if !v.sees(h.class) || (!v.full && h.seq <= v.rec_cursor) {
                continue;
            }
            if matches!(h.r.event, CustodyKind::Delivered | CustodyKind::Received) {
                if let Some(p) = &h.r.place {
                    models[i].learn_arrival(p, h.r.time_ms);
                }
            }
        }
        counts[i].1 = models[i].carriers();
    }
    Ok(Learned {
        models,
        grown,
        counts,
    })
}

/// Step 4: per view, the consignment ids to analyse.
fn touched(
    store: &Store,
    inputs: &Inputs,
    views: &[PlannedView],
    data: &[ViewData<'_>],
    unlinked: &mut usize,
    undeclared: &mut usize,
) -> Result<Vec<BTreeSet<String>>, StoreError> {
    let declared: BTreeSet<&str> = inputs
        .consignments
        .iter()
        .map(|h| h.r.id.as_str())
        .collect();
    let mut out = Vec::with_capacity(views.len());
    for (i, v) in views.iter().enumerate() {
        let d = &data[i];
        if v.full {
            out.push(d.consignments.keys().map(|k| k.to_string()).collect());
            continue;
        }
        let since = store.consignments_touched_since(v.rec_cursor)?;
        if v.audiences.contains(&rastro_policy::Audience::Operator) {
            // Custody events naming a consignment no one declared.
            *undeclared += since
                .iter()
                .filter(|id| !declared.contains(id.as_str()))
                .count();
        }
        let mut t: BTreeSet<String> = since
            .into_iter()
            .filter(|id| d.consignments.contains_key(id.as_str()))
            .collect();
        let mut vehicles_seen = BTreeSet::new();
        for s in store.subjects_since(v.obs_cursor)? {
            match d
                .vehicle_by_id
                .get(s.as_str())
                .map(|veh| veh.id.as_str())
                .or_else(|| d.vehicle_by_plate.get(&normalise_plate(&s)).copied())
            {
                Some(veh) => {
                    vehicles_seen.insert(veh.to_string());
                }
                None if v.audiences.contains(&rastro_policy::Audience::Operator) => *unlinked += 1,
                None => {}
            }
        }
        // Consignments carried by those vehicles, as this view knows the carrying.
        for h in &inputs.custody {
            if v.sees(h.class)
                && h.r
                    .vehicle
                    .as_deref()
                    .is_some_and(|x| vehicles_seen.contains(x))
                && d.consignments.contains_key(h.r.consignment.as_str())
            {
                t.insert(h.r.consignment.clone());
            }
        }
        out.push(t);
    }
    Ok(out)
}

/// Step 5b: per view, the consignments not analysed in this run whose places of concern the
/// learned normal may now explain differently (their cells' popularity grew).
fn explained_anew(
    store: &Store,
    views: &[PlannedView],
    grown: &[BTreeSet<u64>],
    done: &[BTreeSet<String>],
) -> Result<Vec<BTreeSet<String>>, StoreError> {
    let mut out = vec![BTreeSet::new(); views.len()];
    for (i, v) in views.iter().enumerate() {
        if grown[i].is_empty() || v.full {
            continue;
        }
        let mut after = String::new();
        loop {
            let page = store.consignment_states(v.vid, &after, 2000)?;
            let Some(last) = page.last() else { break };
            after = last.0.clone();
            for (id, st) in page {
                if !done[i].contains(&id) && st.concerns.iter().any(|c| grown[i].contains(c)) {
                    out[i].insert(id);
                }
            }
        }
    }
    Ok(out)
}

/// The learned-grid cells around a consignment's unexplained stops: when the popularity of
/// one of them grows, the learned normal may explain the stop, so the consignment is analysed
/// again ([`explained_anew`]).
fn concerns_of(
    grid: &rastro_learn::Grid,
    stops: &[StopSummary],
    off_road: &[rastro_core::Position],
) -> Vec<u64> {
    let mut out: Vec<u64> = stops
        .iter()
        .filter(|s| s.class == StopClass::Unexplained)
        .map(|s| (s.lat, s.lon))
        .chain(off_road.iter().map(|p| (p.lat, p.lon)))
        .flat_map(|(lat, lon)| grid.around(lat, lon))
        .collect();
    out.sort_unstable();
    out.dedup();
    // Bounded: a track far from any learned road is re-read when any of these cells grows,
    // and a few hundred of them say so as well as thousands.
    out.truncate(MAX_CONCERNS);
    out
}

/// Learned-grid cells a consignment state remembers as its concerns.
const MAX_CONCERNS: usize = 512;

/// A vehicle's carrier as learning knows it: its declared carrier, or itself when it has none.
fn carrier_of(d: &ViewData<'_>, vehicle: &str) -> u32 {
    match d
        .vehicle_by_id
        .get(vehicle)
        .and_then(|v| v.carrier.as_deref())
    {
        Some(c) => carrier_id(c),
        None => carrier_id(&format!("vehicle:{vehicle}")),
    }
}

/// What every consignment's analysis shares.
struct Env<'a> {
    policy: &'a Policy,
    views: &'a [PlannedView],
    data: &'a [ViewData<'a>],
    ctx_fp: &'a [u64],
    catalogue: &'a Catalogue,
    settings: &'a AnalysisSettings,
    /// Each view's learned normal, complete before any consignment is analysed.
    models: &'a [Model],
    now_ms: i64,
}

/// One view's case for one consignment, before analysis.
struct Plan<'a> {
    view: usize,
    custody: Vec<&'a Held<rastro_core::Custody>>,
    window: Option<TripWindow>,
    vehicle: Option<&'a rastro_core::Vehicle>,
    /// The vehicle the loading event names, described to this view or not.
    carrier_ref: Option<&'a str>,
    subjects: Vec<String>,
    /// Subjects that count only part of the window (around a declared transfer).
    handoffs: Vec<rastro_core::SubjectWindow>,
}

impl Plan<'_> {
    /// Whether a fix of `subject` at `t_ms` belongs to this case's track.
    fn takes(&self, subject: &str, t_ms: i64) -> bool {
        let Some(w) = self.window else { return false };
        w.contains(t_ms)
            && self.subjects.iter().any(|x| x == subject)
            && self
                .handoffs
                .iter()
                .find(|h| h.subject == subject)
                .is_none_or(|h| (h.from_ms..=h.to_ms).contains(&t_ms))
    }
}

/// Step 5: analyses the touched consignments, view by view, reading each one's custody and
/// fixes once.
fn consignments(
    store: &mut Store,
    actor: &Actor,
    env: &Env<'_>,
    touched: &[BTreeSet<String>],
    reports: &mut [ViewReport],
    progress: &dyn Fn(usize, usize),
) -> Result<(), AnalyzeError> {
    let union: BTreeSet<&str> = touched.iter().flatten().map(String::as_str).collect();
    let grid = rastro_learn::Grid::new(env.settings.learn.cell_m);
    let total = union.len();
    let geo = geography_prior();
    let contexts: Vec<Context<'_>> = env
        .data
        .iter()
        .zip(env.models)
        .map(|(d, m)| Context {
            geo,
            catalogue: env.catalogue,
            known_places: &d.known,
            config: &env.settings.detect,
            normal: Some(rastro_detect::Normal {
                model: m,
                learn: &env.settings.learn,
            }),
        })
        .collect();
    // A second connection reads each consignment's fixes ahead of the detectors (a bounded
    // hand-off of PREFETCH consignments), so reading and analysing overlap on two cores; the
    // results are written on this connection, in order.
    let reader = store.reader()?;
    let ids: Vec<&str> = union.iter().copied().collect();
    std::thread::scope(|scope| -> Result<(), AnalyzeError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Fetched<'_>, StoreError>>(PREFETCH);
        if let Some(r) = reader {
            let ids = ids.clone();
            scope.spawn(move || {
                for id in ids {
                    if tx.send(fetch(&r, env, touched, id)).is_err() {
                        break;
                    }
                }
            });
        } else {
            drop(tx);
        }
        let mut prefetched = rx.into_iter();
        let mut in_chunk = 0;
        store.begin()?;
        for (n, id) in ids.iter().copied().enumerate() {
            let Fetched {
                plans,
                subjects,
                fixes,
            } = match prefetched.next() {
                Some(f) => f?,
                None => fetch(store, env, touched, id)?,
            };
            let mut memo: HashMap<u64, (Vec<Alert>, ConsignmentState, u64, u64, usize)> =
                HashMap::new();
            // A class is one originator and one marking: its explicit marking is made once.
            let mut explicit: HashMap<i64, std::sync::Arc<rastro_core::Marking>> = HashMap::new();
            for p in plans {
                let v = &env.views[p.view];
                let d = &env.data[p.view];
                let Some(c) = d.consignments.get(id).copied() else {
                    continue;
                };
                let mine: Vec<&rastro_store::TrackObs> = fixes
                    .iter()
                    .filter(|(s, o)| v.sees(o.class) && p.takes(&subjects[*s], o.t_ms))
                    .map(|(_, o)| o)
                    .collect();
                let mut h = xxhash_rust::xxh3::Xxh3::new();
                h.update(&env.ctx_fp[p.view].to_le_bytes());
                for e in &p.custody {
                    h.update(&e.seq.to_le_bytes());
                }
                h.update(b"|");
                for o in &mine {
                    h.update(&o.seq.to_le_bytes());
                }
                let fp = h.digest();
                let shared = memo.contains_key(&fp);
                if !shared {
                    let custody: Vec<rastro_core::Custody> =
                        p.custody.iter().map(|h| h.r.clone()).collect();
                    let track: Vec<Fix> = mine
                        .iter()
                        .map(|o| Fix {
                            obs_id: o.id.clone(),
                            t_ms: o.t_ms,
                            lat: o.lat,
                            lon: o.lon,
                            source: o.source,
                            accuracy_m: o.accuracy_m,
                            marking: explicit
                                .entry(o.class)
                                .or_insert_with(|| {
                                    std::sync::Arc::new(
                                        env.policy.explicit(&o.origin.0, &o.origin.1),
                                    )
                                })
                                .clone(),
                        })
                        .collect();
                    let case = Case {
                        consignment: c,
                        custody: &custody,
                        destination: d.place_by_id.get(c.destination.as_str()).copied(),
                        consignee: d.party_by_id.get(c.consignee.as_str()).copied(),
                        vehicle: p.vehicle,
                        fixes: track,
                        prior_consignments: d.prior_consignments(c),
                        named: d.named_for(&c.consignee),
                        carrier: p.carrier_ref.map_or(0, |veh| carrier_of(d, veh)),
                        other_drops: match (p.carrier_ref, p.window) {
                            (Some(veh), Some(w)) => d.other_drops(c, veh, w.from_ms, w.to_ms),
                            _ => Vec::new(),
                        },
                        now_ms: env.now_ms,
                    };
                    let own = case.carrier;
                    let mut a = analyse(case, &contexts[p.view]);
                    // What the fleet's learned normal explains: stops where other carriers
                    // stop are rest, whatever the registry says (`rastro_detect::explain`).
                    let model = &env.models[p.view];
                    let lcfg = &env.settings.learn;
                    let explained = rastro_detect::explain(&mut a.alerts, model, own, lcfg);
                    let mut state = ConsignmentState::new(a.status);
                    state.eta_ms = a.eta_ms;
                    state.vehicle = p.vehicle.map(|x| x.id.clone());
                    state.subjects = p.subjects.clone();
                    state.window = p.window;
                    state.handoffs = p.handoffs.clone();
                    state.fixes = a.track.len();
                    state.rejected = a
                        .rejected
                        .iter()
                        .map(|r| RejectedFix {
                            obs_id: r.obs_id.clone(),
                            reason: r.reason.clone(),
                        })
                        .collect();
                    state.stops = a
                        .stops
                        .iter()
                        .map(|s| StopSummary {
                            start_ms: s.start_ms,
                            end_ms: s.end_ms,
                            lat: s.lat,
                            lon: s.lon,
                            // The same rule that withdrew its alert above.
                            class: if s.known_place.is_some()
                                || rastro_detect::explains_stop(model, s.lat, s.lon, own, lcfg)
                            {
                                StopClass::Rest
                            } else {
                                StopClass::Unexplained
                            },
                            place: s.known_place.clone(),
                            urban: s.urban.clone(),
                            popularity: model.stop_popularity(s.lat, s.lon, own),
                            first_obs: String::new(),
                            last_obs: String::new(),
                        })
                        .collect();
                    state.concerns = concerns_of(&grid, &state.stops, &a.concerns);
                    state.gaps = a
                        .gaps
                        .iter()
                        .map(|g| GapSummary {
                            start_ms: g.start_ms,
                            end_ms: g.end_ms,
                            from_obs: g.from_obs.clone(),
                            to_obs: g.to_obs.clone(),
                            distance_m: g.distance_m,
                        })
                        .collect();
                    memo.insert(
                        fp,
                        (
                            a.alerts,
                            state,
                            a.track.len() as u64,
                            a.rejected.len() as u64,
                            explained,
                        ),
                    );
                }
                let (alerts, state, used, rejected, explained) = &memo[&fp];
                store.replace_consignment_alerts(v.vid, id, alerts)?;
                store.put_consignment_state(v.vid, id, state)?;
                let r = &mut reports[p.view];
                r.consignments_analysed += 1;
                r.consignments_shared += usize::from(shared);
                r.fixes_used += used;
                r.fixes_rejected += rejected;
                r.explained_stops += explained;
                if mine.is_empty() {
                    r.consignments_without_observations += 1;
                }
            }
            in_chunk += 1;
            if in_chunk >= CHUNK {
                audit_in_tx(
                    store,
                    actor,
                    "analyze.chunk",
                    serde_json::json!({"consignments": in_chunk, "done": n + 1, "of": total}),
                )?;
                store.commit()?;
                progress(n + 1, total);
                store.begin()?;
                in_chunk = 0;
            }
        }
        audit_in_tx(
            store,
            actor,
            "analyze.chunk",
            serde_json::json!({"consignments": in_chunk, "done": total, "of": total}),
        )?;
        store.commit()?;
        progress(total, total);
        Ok(())
    })
}

/// Consignments whose fixes may be read ahead of the detectors.
const PREFETCH: usize = 32;

/// One consignment's cases (a plan per view that analyses it) and every fix any of them needs,
/// each with the index of its subject in `subjects`.
struct Fetched<'a> {
    plans: Vec<Plan<'a>>,
    subjects: Vec<String>,
    fixes: Vec<(usize, rastro_store::TrackObs)>,
}

/// Plans one consignment's cases and reads every fix any view's case needs, once.
fn fetch<'a>(
    store: &Store,
    env: &Env<'a>,
    touched: &[BTreeSet<String>],
    id: &str,
) -> Result<Fetched<'a>, StoreError> {
    let plans: Vec<Plan<'a>> = (0..env.views.len())
        .filter(|&i| touched[i].contains(id))
        .filter_map(|i| plan_case(env, i, id))
        .collect();
    let mut subjects: BTreeSet<&str> = BTreeSet::new();
    let mut window: Option<TripWindow> = None;
    for p in &plans {
        if let Some(w) = p.window {
            subjects.extend(p.subjects.iter().map(String::as_str));
            window = Some(window.map_or(w, |x| x.union(w)));
        }
    }
    let mut fixes: Vec<(usize, rastro_store::TrackObs)> = Vec::new();
    if let Some(w) = window {
        let any = |c: i64| plans.iter().any(|p| env.views[p.view].sees(c));
        for (i, s) in subjects.iter().enumerate() {
            fixes.extend(
                store
                    .track_of(s, w.from_ms, w.to_ms, &any)?
                    .into_iter()
                    .map(|o| (i, o)),
            );
        }
    }
    let subjects = subjects.into_iter().map(str::to_string).collect();
    Ok(Fetched {
        plans,
        subjects,
        fixes,
    })
}

/// One view's custody, window, vehicle and subjects for a consignment; `None` when the view
/// does not see the consignment.
fn plan_case<'a>(env: &Env<'a>, view: usize, id: &str) -> Option<Plan<'a>> {
    let d = &env.data[view];
    let c = d.consignments.get(id).copied()?;
    let custody = d.custody_of(id);
    let loaded = custody
        .iter()
        .filter(|e| e.r.event == CustodyKind::Loaded)
        .min_by_key(|e| e.r.time_ms);
    let delivered = custody
        .iter()
        .filter(|e| matches!(e.r.event, CustodyKind::Delivered | CustodyKind::Received))
        .map(|e| e.r.time_ms)
        .min();
    let vehicle = loaded
        .and_then(|e| e.r.vehicle.as_deref())
        .and_then(|x| d.vehicle_by_id.get(x).copied());
    let window = loaded.map(|l| TripWindow::new(l.r.time_ms, delivered));
    // Everything that identifies what carries the goods: the vehicle's id and plate, the
    // container number, and the consignment itself (seals, tagged pallets).
    let mut subjects: Vec<String> = Vec::new();
    let mut handoffs: Vec<rastro_core::SubjectWindow> = Vec::new();
    // A vehicle's identifiers: its id and plate when this view knows the vehicle; else the id
    // the custody event names, which still names its tracker.
    let ids_of = |x: &str| -> Vec<String> {
        match d.vehicle_by_id.get(x) {
            Some(veh) => vec![veh.id.clone(), normalise_plate(&veh.plate)],
            None => vec![x.to_string()],
        }
    };
    if let Some(w) = window {
        let first = loaded.and_then(|e| e.r.vehicle.clone());
        if let Some(x) = &first {
            subjects.extend(ids_of(x));
        }
        // The first declared transfer to another vehicle inside the window: the loading
        // vehicle carries the goods until then, the receiving one after.
        let transfer = custody
            .iter()
            .filter(|e| e.r.event == CustodyKind::Transfer && w.contains(e.r.time_ms))
            .filter(|e| e.r.to_vehicle.is_some() && e.r.to_vehicle != first)
            .min_by_key(|e| e.r.time_ms);
        if let (Some(t), Some(x)) = (transfer, &first) {
            let at = t.r.time_ms;
            let to = t.r.to_vehicle.as_deref().unwrap_or_default();
            for s in ids_of(x) {
                handoffs.push(rastro_core::SubjectWindow {
                    subject: s,
                    from_ms: w.from_ms,
                    to_ms: at,
                });
            }
            for s in ids_of(to) {
                subjects.push(s.clone());
                handoffs.push(rastro_core::SubjectWindow {
                    subject: s,
                    from_ms: at,
                    to_ms: w.to_ms,
                });
            }
        }
        if let Some(cn) = &c.container {
            subjects.push(cn.to_string());
        }
        subjects.push(c.id.clone());
        subjects.sort();
        subjects.dedup();
        handoffs.sort_by(|a, b| a.subject.cmp(&b.subject));
        handoffs.dedup_by(|a, b| a.subject == b.subject);
    }
    Some(Plan {
        view,
        carrier_ref: loaded.and_then(|e| e.r.vehicle.as_deref()),
        custody,
        window,
        vehicle,
        subjects,
        handoffs,
    })
}

/// Step 6: structuring and convergence in one view.
fn fleet(
    store: &mut Store,
    v: &PlannedView,
    d: &ViewData<'_>,
    catalogue: &Catalogue,
    cfg: &rastro_detect::Config,
) -> Result<(), StoreError> {
    use rastro_detect::links::PartyLinks;
    let items: Vec<FleetItem> = d
        .consignments
        .values()
        .map(|c| {
            let (q, base) = c.unit.convert(c.quantity);
            FleetItem {
                consignment: c.id.clone(),
                cas: c.cas.clone(),
                quantity_kg: (base == rastro_core::Base::Kg).then_some(q),
                consignee: c.consignee.clone(),
                consignee_cluster: d.links.cluster(&c.consignee),
                arrival_ms: c.arrival_ms,
                marking: c.marking.clone(),
            }
        })
        .collect();
    let structuring = rastro_detect::structuring(&items, catalogue, cfg, &d.links);
    // The per-consignment alerts convergence reads, each typology once.
    let mut read: Vec<Alert> = Vec::new();
    for t in [
        Typology::UnscheduledStop,
        Typology::UndeclaredDestination,
        Typology::FrontConsignee,
        Typology::RouteDeviation,
        Typology::QuantityShortfall,
        Typology::TrackingGap,
        Typology::MisDeclaration,
    ] {
        read.extend(store.alerts(
            v.vid,
            &AlertFilter {
                typology: Some(t),
                ..Default::default()
            },
        )?);
    }
    read.sort_by(|a, b| a.id.cmp(&b.id));
    let corroboration = |a: &Alert| rastro_detect::Corroboration {
        alert: a.id.clone(),
        marking: a.marking.clone(),
    };
    // What corroborates a stop: another alert of its consignment, in this view, saying the
    // goods went astray (the first by id, so the choice is deterministic).
    let mut support: HashMap<&str, rastro_detect::Corroboration> = HashMap::default();
    for a in read
        .iter()
        .filter(|a| a.typology != Typology::UnscheduledStop)
    {
        support
            .entry(a.subject.as_str())
            .or_insert_with(|| corroboration(a));
    }
    let mut points = Vec::new();
    for a in &read {
        let stop = a.typology == Typology::UnscheduledStop;
        let place = matches!(
            a.typology,
            Typology::UndeclaredDestination | Typology::FrontConsignee
        );
        if let (true, Some(lat), Some(lon)) = (stop || place, a.lat, a.lon) {
            points.push(SuspiciousPoint {
                alert: a.id.clone(),
                consignment: a.subject.clone(),
                lat,
                lon,
                time_ms: a.time_ms,
                marking: a.marking.clone(),
                // A delivery away from the destination or a front's address says it itself.
                corroboration: if stop {
                    support.get(a.subject.as_str()).cloned()
                } else {
                    Some(corroboration(a))
                },
            });
        }
    }
    let convergence: Vec<Alert> = rastro_detect::convergence(&points, cfg);
    store.replace_fleet_alerts(v.vid, Typology::Structuring, &structuring)?;
    store.replace_fleet_alerts(v.vid, Typology::Convergence, &convergence)?;
    Ok(())
}
