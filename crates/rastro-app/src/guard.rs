//! The guard: the only way a user's read reaches the store. A guard is bound to one viewer
//! (or the operator at the console); it knows the view that viewer's organisation was given
//! and the marking classes it may see. Records are filtered by class before any limit or count
//! is applied; derived data (alerts, states, tracks, leads) is read from the viewer's view,
//! which was computed from exactly those records; a hidden item answers exactly like a missing
//! one. Every read of restricted data is logged under the viewer's name: at once (the CLI), or
//! kept as pending entries that the caller must make durable before it answers (the server;
//! see [`Guard::take_pending`]).
//!
//! The store is a private field: a front-end holds a `Guard`, never a `Store`, so a read that
//! skips the guard does not compile.

use crate::views::*;
use crate::AppError;
use rastro_core::{Kind, LeadStatus, Record, Tlp};
use rastro_policy::{Audience, Policy, Role, Viewer};
use rastro_store::{Actor, AlertFilter, AuditEvent, AuditFilter, Store};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// What [`Guard::observations`] looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservationQuery {
    /// One subject's fixes (a vehicle's id, a vessel's MMSI...).
    Subject(String),
    /// Fixes inside one H3 cell.
    Cell(u64),
}

/// How read entries are written.
enum AuditMode {
    /// Each read entry commits before the read returns (the CLI).
    Immediate,
    /// Entries are kept for the caller, which must commit them before answering (the server's
    /// group commit).
    Pending(Vec<(Actor, AuditEvent)>),
}

/// A viewer's window on the store.
pub struct Guard<'a> {
    store: &'a mut Store,
    policy: Arc<Policy>,
    /// `None` is the node operator at the console.
    viewer: Option<Viewer>,
    actor: Actor,
    vid: Option<i64>,
    visible: Arc<HashSet<i64>>,
    audit: AuditMode,
}

/// What decides a viewer's window, as of one policy generation: the view it reads and the
/// marking classes it may see. Built by [`crate::Node`], which keeps it while the store's
/// policy generation is unchanged.
#[derive(Clone)]
pub(crate) struct Window {
    pub vid: Option<i64>,
    pub visible: Arc<HashSet<i64>>,
}

impl Window {
    /// The window of `audience` as the store holds it now.
    pub(crate) fn of(
        store: &Store,
        policy: &Policy,
        audience: &Audience,
    ) -> Result<Window, AppError> {
        let classes = rastro_pipeline::policy::classes(store)?;
        let spec = policy.view_of(audience, &classes);
        // The view the last analysis gave this audience; for an organisation registered since,
        // the stored view with exactly its classes, if there is one.
        let vid = match store.audience_view(&audience.key())? {
            Some(v) => Some(v),
            None => store.view_by_key(&spec.key)?.map(|v| v.vid),
        };
        Ok(Window {
            vid,
            visible: Arc::new(spec.classes.into_iter().collect()),
        })
    }
}

impl<'a> Guard<'a> {
    pub(crate) fn new(
        store: &'a mut Store,
        policy: Arc<Policy>,
        window: Window,
        viewer: Option<Viewer>,
        actor: Actor,
        deferred: bool,
    ) -> Guard<'a> {
        Guard {
            store,
            policy,
            viewer,
            actor,
            vid: window.vid,
            visible: window.visible,
            audit: if deferred {
                AuditMode::Pending(Vec::new())
            } else {
                AuditMode::Immediate
            },
        }
    }

    pub fn viewer(&self) -> Option<&Viewer> {
        self.viewer.as_ref()
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The viewer's organisation (`*` for the operator): whose decisions they see and make.
    pub(crate) fn org(&self) -> String {
        self.viewer
            .as_ref()
            .map(|v| v.org.clone())
            .unwrap_or_else(|| "*".into())
    }

    pub(crate) fn store(&mut self) -> &mut Store {
        self.store
    }

    pub(crate) fn vid(&self) -> Option<i64> {
        self.vid
    }

    pub(crate) fn sees_class(&self, class: i64) -> bool {
        self.visible.contains(&class)
    }

    /// The marking classes the viewer may see.
    pub(crate) fn visible_classes(&self) -> Arc<HashSet<i64>> {
        self.visible.clone()
    }

    /// Read entries not yet written (server mode); the caller must commit them before it
    /// sends the data they describe.
    pub fn take_pending(&mut self) -> Vec<(Actor, AuditEvent)> {
        match &mut self.audit {
            AuditMode::Pending(p) => std::mem::take(p),
            AuditMode::Immediate => Vec::new(),
        }
    }

    /// Appends a read entry now, or keeps it for the caller.
    pub(crate) fn log(&mut self, ev: AuditEvent) -> Result<(), AppError> {
        match &mut self.audit {
            AuditMode::Pending(p) => p.push((self.actor.clone(), ev)),
            AuditMode::Immediate => {
                self.store.audit(&self.actor, ev)?;
            }
        }
        Ok(())
    }

    /// Logs a read of restricted items (nothing when none were restricted).
    pub(crate) fn log_read(&mut self, what: &str, ids: Vec<String>) -> Result<(), AppError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut ev = AuditEvent::new("read");
        ev.detail = serde_json::json!({ "what": what, "count": ids.len() });
        ev.records = ids;
        self.log(ev)
    }

    /// Who the caller is.
    /// The registered organisations, for choosing release recipients: the host nation's
    /// commanders (who release) and the operator only. The registry is configuration, not
    /// records, so it is the same whatever data is hidden.
    pub fn orgs(&self) -> Result<Vec<OrgV1>, AppError> {
        self.require_host_role(&[Role::Commander, Role::Admin])?;
        Ok(self
            .store
            .orgs()?
            .into_iter()
            .map(|o| OrgV1 {
                code: o.code,
                name: o.name,
                nation: o.nation,
                kind: o.kind,
            })
            .collect())
    }

    pub fn me(&self) -> Result<MeV1, AppError> {
        let v = self.viewer.as_ref();
        Ok(MeV1 {
            user: v
                .map(|v| v.user.clone())
                .unwrap_or_else(|| self.actor.to_string()),
            org: self.org(),
            nation: v
                .map(|v| v.nation.clone())
                .unwrap_or_else(|| self.policy.host_nation.clone()),
            role: v
                .map(|v| v.role.as_str().to_string())
                .unwrap_or_else(|| "operator".into()),
            host_nation: self.policy.host_nation.clone(),
        })
    }

    /// Two viewers with the same key see exactly the same derived items: caches of derived
    /// replies are keyed by it.
    pub fn view_key(&self) -> String {
        match self.vid {
            Some(v) => format!("v{v}"),
            None => "none".into(),
        }
    }

    /// Changes whenever any alert changes (for caches of alert replies).
    pub fn alert_generation(&self) -> Result<i64, AppError> {
        Ok(self.store.alert_generation()?)
    }

    /// Alerts of the viewer's view.
    pub fn alerts(&mut self, f: &AlertFilter) -> Result<Vec<AlertV1>, AppError> {
        let Some(vid) = self.vid else {
            return Ok(Vec::new());
        };
        let out = self.store.alerts(vid, f)?;
        self.log_read(
            "alerts",
            out.iter()
                .filter(|a| a.marking.tlp != Tlp::Clear)
                .map(|a| a.id.clone())
                .collect(),
        )?;
        Ok(out.iter().map(AlertV1::from).collect())
    }

    /// Logs a read of alerts served from a cache (still a read).
    pub fn log_cached_alerts(&mut self, ids: Vec<String>) -> Result<(), AppError> {
        self.log_read("alerts", ids)
    }

    /// Alerts with the viewer's organisation's triage.
    pub fn alert_queue(&mut self, f: &AlertFilter) -> Result<AlertQueueV1, AppError> {
        let alerts = self.alerts(f)?;
        let ids: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
        let mut triage = BTreeMap::new();
        for x in self.store.alert_triage(&self.org(), &ids)? {
            triage.insert(
                x.id,
                TriageV1 {
                    state: x.state,
                    reason: x.reason,
                    by: x.actor,
                    time: rastro_core::format_time_ms(x.t_ms),
                },
            );
        }
        Ok(AlertQueueV1 { alerts, triage })
    }

    /// One record of a kind the viewer may see with this id: the first visible originator in
    /// code order (ids are unique per originator).
    pub fn record(&mut self, kind: Kind, id: &str) -> Result<Option<Record>, AppError> {
        let r = self
            .store
            .records_with_id(kind, id)?
            .into_iter()
            .find(|r| self.sees_class(r.class));
        if let Some(r) = &r {
            if r.record.marking().tlp != Tlp::Clear {
                self.log_read(kind.as_str(), vec![id.to_string()])?;
            }
        }
        Ok(r.map(|r| r.record))
    }

    /// Records of a kind referencing `reference` (custody events of a consignment) that the
    /// viewer may see.
    pub fn records_by_ref(&mut self, kind: Kind, reference: &str) -> Result<Vec<Record>, AppError> {
        let out: Vec<Record> = self
            .store
            .records_by_ref(kind, reference)?
            .into_iter()
            .filter(|r| self.sees_class(r.class))
            .map(|r| r.record)
            .collect();
        self.log_read(
            kind.as_str(),
            out.iter()
                .filter(|r| r.marking().tlp != Tlp::Clear)
                .map(|r| r.id().to_string())
                .collect(),
        )?;
        Ok(out)
    }

    /// Consignments the viewer may see, in arrival order of storage, with their status in the
    /// viewer's view; `status` keeps one status. Filtered before the limit.
    pub fn consignments(
        &mut self,
        status: Option<rastro_core::ConsignmentStatus>,
        limit: usize,
    ) -> Result<Vec<ConsignmentItemV1>, AppError> {
        let statuses = match self.vid {
            Some(v) => self.store.consignment_statuses(v)?,
            None => Default::default(),
        };
        let mut out = Vec::new();
        let mut seen_ids: HashSet<String> = HashSet::new();
        let mut after = 0;
        'pages: loop {
            let page = self.store.records(Kind::Consignment, after, 2000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in page {
                if !self.sees_class(r.class) || !seen_ids.insert(r.record.id().to_string()) {
                    continue;
                }
                let st = statuses.get(r.record.id()).copied();
                if status.is_some_and(|want| st != Some(want)) {
                    continue;
                }
                out.push(ConsignmentItemV1 {
                    consignment: r.record,
                    status: st.map(Into::into),
                });
                if out.len() >= limit {
                    break 'pages;
                }
            }
        }
        self.log_read(
            "consignments",
            out.iter()
                .filter(|c| c.consignment.marking().tlp != Tlp::Clear)
                .map(|c| c.consignment.id().to_string())
                .collect(),
        )?;
        Ok(out)
    }

    /// One consignment: its record, the custody events the viewer may see, its alerts, status,
    /// state and track in the viewer's view. `None` when hidden or missing.
    pub fn consignment(&mut self, id: &str) -> Result<Option<ConsignmentV1>, AppError> {
        let Some(rec) = self.record(Kind::Consignment, id)? else {
            return Ok(None);
        };
        let custody = self.records_by_ref(Kind::Custody, id)?;
        let alerts = self.alerts(&AlertFilter {
            subject: Some(id.to_string()),
            ..Default::default()
        })?;
        let state = match self.vid {
            Some(v) => self.store.consignment_state(v, id)?,
            None => None,
        };
        let coords = self.track_fixes(id, state.as_ref())?;
        let status = state.as_ref().map(|s| StatusV1::from(s.status));
        let track = TrackV1 {
            kind: "Feature".into(),
            geometry: serde_json::json!({"type": "LineString", "coordinates": coords.iter().map(|f| [f[0], f[1]]).collect::<Vec<_>>()}),
            properties: serde_json::json!({"status": status, "fixes": coords.len(), "vehicle": state.as_ref().and_then(|s| s.vehicle.clone())}),
        };
        Ok(Some(ConsignmentV1 {
            consignment: rec,
            status,
            eta: state
                .as_ref()
                .and_then(|s| s.eta_ms)
                .map(rastro_core::format_time_ms),
            custody,
            alerts,
            track,
            state: state
                .as_ref()
                .map(|s| {
                    serde_json::json!({
                        "stops": s.stops,
                        "gaps": s.gaps,
                        "rejected": s.rejected,
                        "delivery": s.delivery,
                        "fixes": s.fixes,
                    })
                })
                .unwrap_or(serde_json::Value::Null),
        }))
    }

    /// The fixes of a consignment's track in the viewer's view: the subjects and trip window
    /// its analysis used, each fix of a class the viewer may see, as `[lon, lat, t_ms]`.
    /// Logged as one read.
    pub fn track(&mut self, id: &str) -> Result<Option<Vec<[f64; 3]>>, AppError> {
        if self.record(Kind::Consignment, id)?.is_none() {
            return Ok(None);
        }
        let state = match self.vid {
            Some(v) => self.store.consignment_state(v, id)?,
            None => None,
        };
        Ok(Some(self.track_fixes(id, state.as_ref())?))
    }

    fn track_fixes(
        &mut self,
        id: &str,
        state: Option<&rastro_core::ConsignmentState>,
    ) -> Result<Vec<[f64; 3]>, AppError> {
        let Some((state, w)) = state.and_then(|s| s.window.map(|w| (s, w))) else {
            return Ok(Vec::new());
        };
        let subjects = state.subjects.clone();
        let visible = self.visible.clone();
        let mut fixes: Vec<[f64; 3]> = Vec::new();
        for s in &subjects {
            // Around a declared transfer, each vehicle counts only while it carried the goods.
            let sw = state.window_of(s).unwrap_or(w);
            for o in self
                .store
                .observations_of(s, sw.from_ms, sw.to_ms, &|c| visible.contains(&c))?
            {
                fixes.push([o.obs.lon, o.obs.lat, o.obs.time_ms as f64]);
            }
        }
        fixes.sort_by(|a, b| a[2].total_cmp(&b[2]));
        let mut ev = AuditEvent::new("read");
        ev.detail = serde_json::json!({"what": "track", "subjects": subjects, "from": rastro_core::format_time_ms(w.from_ms), "to": rastro_core::format_time_ms(w.to_ms), "observations": fixes.len()});
        ev.records = vec![id.to_string()];
        self.log(ev)?;
        Ok(fixes)
    }

    /// Observations of one subject, or inside one H3 cell, between two times (inclusive), of
    /// classes the viewer may see, in time order, at most `limit` (counted after filtering).
    pub fn observations(
        &mut self,
        query: &ObservationQuery,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<ObservationV1>, AppError> {
        let visible = self.visible.clone();
        let vis = |c: i64| visible.contains(&c);
        let found = match query {
            ObservationQuery::Subject(s) => self.store.observations_of(s, from_ms, to_ms, &vis)?,
            ObservationQuery::Cell(c) => self
                .store
                .observations_in_cell(*c, from_ms, to_ms, &vis)?
                .ok_or_else(|| {
                    AppError::Invalid(format!(
                        "{} is not an H3 cell of resolution {} or finer",
                        rastro_core::grid::to_string(*c),
                        rastro_store::MIN_QUERY_RESOLUTION
                    ))
                })?,
        };
        let out: Vec<ObservationV1> = found
            .into_iter()
            .take(limit)
            .map(|o| ObservationV1 {
                observation: Record::Observation(o.obs),
            })
            .collect();
        let what = match query {
            ObservationQuery::Subject(s) => serde_json::json!({"subject": s}),
            ObservationQuery::Cell(c) => {
                serde_json::json!({"cell": rastro_core::grid::to_string(*c)})
            }
        };
        let mut ev = AuditEvent::new("read");
        ev.detail = serde_json::json!({"what": "observations", "query": what, "from": rastro_core::format_time_ms(from_ms), "to": rastro_core::format_time_ms(to_ms), "observations": out.len()});
        self.log(ev)?;
        Ok(out)
    }

    /// Counts per kind of what the viewer may see (never the totals of what they may not).
    pub fn counts(&self) -> Result<StatsV1, AppError> {
        let mut visible = BTreeMap::new();
        for m in self.store.marking_counts()? {
            if self.sees_class(m.class) {
                *visible.entry(m.kind).or_default() += m.count;
            }
        }
        Ok(StatsV1 { visible })
    }

    /// Quarantined lines: every one for the operator; for a user, those of their
    /// organisation's submissions only.
    pub fn quarantine(&mut self, limit: u32) -> Result<Vec<QuarantineV1>, AppError> {
        let org = self.viewer.as_ref().map(|v| v.org.clone());
        let rows = self.store.quarantine(&rastro_store::QuarantineFilter {
            org,
            after_seq: 0,
            limit,
        })?;
        self.log_read(
            "quarantine",
            rows.iter()
                .map(|r| format!("quarantine:{}", r.seq))
                .collect(),
        )?;
        Ok(rows
            .into_iter()
            .map(|r| QuarantineV1 {
                seq: r.seq,
                source: r.entry.source,
                line: r.entry.line,
                kind: r.entry.kind.map(|k| k.as_str().to_string()),
                field: r.entry.field,
                reason: r.entry.reason,
                raw: r.entry.raw,
            })
            .collect())
    }

    /// The audit log is for auditors and administrators (and the operator).
    pub fn require_audit(&self) -> Result<(), AppError> {
        match &self.viewer {
            Some(v) if !self.policy.may_read_audit(v) => Err(AppError::Forbidden(format!(
                "the audit log is for auditors and administrators; {} has the role {}",
                v.user,
                v.role.as_str()
            ))),
            _ => Ok(()),
        }
    }

    /// Recomputes the whole audit chain and checks the stored signed heads. Host-nation
    /// auditors and the operator only: the report's entry count and root cover every
    /// organisation's entries, so an auditor of another nation would learn how much others
    /// did (they verify their own entries against heads they were given, offline).
    pub fn audit_verify(&mut self) -> Result<AuditVerifyV1, AppError> {
        self.require_audit()?;
        if let Some(v) = self
            .viewer
            .as_ref()
            .filter(|v| v.nation != self.policy.host_nation)
        {
            return Err(AppError::Forbidden(format!(
                "verifying the whole chain is for the host nation's auditors; {} is of {}",
                v.user, v.nation
            )));
        }
        let r = rastro_pipeline::audit::verify(self.store, None, None)?;
        let mut ev = AuditEvent::new("read");
        ev.detail = serde_json::json!({ "what": "audit chain verification", "entries": r.entries, "ok": r.ok });
        self.log(ev)?;
        Ok(AuditVerifyV1 {
            ok: r.ok,
            entries: r.entries,
            heads_checked: r.heads_checked as u64,
            root_hash: r.root_hash,
            first_bad_entry: r.first_bad_entry,
            problems: r.problems.into_iter().take(20).collect(),
        })
    }

    /// Audit log entries. Host-nation auditors and the operator see every entry; an auditor of
    /// another nation sees the entries of their own organisation's users only.
    pub fn audit_log(&mut self, f: &AuditFilter) -> Result<Vec<AuditEntryV1>, AppError> {
        self.require_audit()?;
        let mut f = f.clone();
        // Filtered in the query, before the limit: a page filtered afterwards could come back
        // short or empty while older entries of the organisation remain.
        f.actor_org = self
            .viewer
            .as_ref()
            .filter(|v| v.nation != self.policy.host_nation)
            .map(|v| v.org.clone());
        let rows = self.store.audit_log(&f)?;
        let out: Vec<AuditEntryV1> = rows
            .into_iter()
            .map(|r| AuditEntryV1 {
                seq: r.entry.seq,
                time: r.entry.time,
                actor: r.entry.actor,
                action: r.entry.action,
                records: r.entry.records,
                from: r.entry.from,
                detail: r.entry.detail,
                leaf_hash: r.leaf_hash,
            })
            .collect();
        let mut ev = AuditEvent::new("read");
        ev.detail = serde_json::json!({ "what": "audit log", "entries": out.len() });
        self.log(ev)?;
        Ok(out)
    }

    /// Decisions (triage, lead status, release) are the host nation's: `Forbidden` unless the
    /// viewer is of the host nation and holds one of `roles`. The operator may decide.
    pub(crate) fn require_host_role(&self, roles: &[Role]) -> Result<(), AppError> {
        let Some(v) = &self.viewer else {
            return Ok(());
        };
        if v.nation == self.policy.host_nation && roles.contains(&v.role) {
            return Ok(());
        }
        Err(AppError::Forbidden(format!(
            "only host-nation {} may do this; {} has the role {} at {}",
            roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            v.user,
            v.role.as_str(),
            v.org
        )))
    }

    /// The decision of the viewer's organisation on a lead: the newest made on any of its
    /// cells.
    pub(crate) fn decision_for(
        &self,
        l: &rastro_core::Lead,
        decisions: &[rastro_store::LeadDecision],
    ) -> (LeadStatus, Option<String>) {
        decisions
            .iter()
            .find(|d| d.cells.iter().any(|c| l.cells.contains(c)))
            .map(|d| (d.status, d.note.clone()))
            .unwrap_or((LeadStatus::New, None))
    }
}
