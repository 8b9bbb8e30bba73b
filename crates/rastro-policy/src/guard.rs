//! Guarded reads: the only way a viewer's request reaches the store. Each method fetches,
//! asks the policy about every item, drops what the viewer may not see *before* limits and
//! counts are applied (so totals and pages reveal nothing), writes the read to the audit log
//! under the viewer's name, and returns `None` for a denied item exactly as for a missing one.

use crate::rules::{Org, OrgKind, Policy, Viewer};
use crate::token;
use rastro_core::{Alert, Kind, Lead, Marking, Observation, Record, Tlp};
use rastro_store::{AlertFilter, AuditEvent, Store, StoreError, StoredRecord};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The deployment setting that names the host nation.
pub const HOST_NATION_SETTING: &str = "host_nation";
/// The host nation when none is set.
pub const DEFAULT_HOST_NATION: &str = "MX";

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Deliberately vague: the same answer for an unknown user, a revoked one and a bad token.
    #[error("not authenticated: unknown or revoked user, or malformed or wrong token")]
    Unauthenticated,
    #[error("not permitted: {0}")]
    Forbidden(String),
    /// The request itself is malformed (an unknown state, a missing reason, a bad name).
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// What [`Guard::observations`] looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservationQuery {
    /// One subject's fixes (a vehicle's id, a vessel's MMSI...).
    Subject(String),
    /// Fixes inside one H3 cell.
    Cell(u64),
}

/// Verified tokens remembered at most; the cache is emptied when full (a bound, not an LRU:
/// the cost of a miss is one argon2 verification).
pub const TOKEN_CACHE_MAX: usize = 10_000;

/// Tokens already verified, by SHA-256 of the whole token, with the hash they verified
/// against (so a re-issued token is verified afresh).
#[derive(Default)]
pub struct TokenCache {
    map: std::sync::Mutex<std::collections::HashMap<[u8; 32], String>>,
}

/// Loads the policy (host nation and organisations) from the store.
pub fn load_policy(store: &Store) -> Result<Policy, GuardError> {
    let host = store
        .setting(HOST_NATION_SETTING)?
        .unwrap_or_else(|| DEFAULT_HOST_NATION.to_string());
    let orgs = store.orgs()?.into_iter().map(|o| Org {
        kind: OrgKind::parse(&o.kind).unwrap_or(OrgKind::Other),
        code: o.code,
        name: o.name,
        nation: o.nation,
    });
    Ok(Policy::new(&host, orgs))
}

fn viewer_of(policy: &Policy, u: &rastro_store::UserRow) -> Result<Viewer, GuardError> {
    if u.revoked {
        return Err(GuardError::Unauthenticated);
    }
    let role = crate::Role::parse(&u.role).ok_or(GuardError::Unauthenticated)?;
    Ok(Viewer {
        user: u.name.clone(),
        org: u.org.clone(),
        nation: policy.nation_of(&u.org).to_string(),
        role,
    })
}

/// A viewer's window on the store. `viewer: None` is the node operator at the console, who
/// holds the database file and its key and so sees everything; every remote path has a viewer.
pub struct Guard<'a> {
    store: &'a mut Store,
    policy: Policy,
    viewer: Option<Viewer>,
    /// Where read entries go instead of a commit of their own (a server's batching writer).
    sink: Option<AuditSink>,
}

/// A consignment's tracking status and the fixes of its track as `[lon, lat, time_ms]`.
pub type Track = (Option<String>, Vec<[f64; 3]>);

/// Receives read entries (actor, event) to append later in batches. It must not drop them:
/// a full queue makes the caller wait.
pub type AuditSink = std::sync::Arc<dyn Fn(String, AuditEvent) + Send + Sync>;

impl<'a> Guard<'a> {
    fn for_user(
        store: &'a mut Store,
        policy: Policy,
        u: &rastro_store::UserRow,
    ) -> Result<Guard<'a>, GuardError> {
        let v = viewer_of(&policy, u)?;
        store.set_actor(&v.user);
        Ok(Guard {
            store,
            policy,
            viewer: Some(v),
            sink: None,
        })
    }

    /// The operator's view (no filtering; reads still audited under the store's actor).
    pub fn operator(store: &'a mut Store) -> Result<Guard<'a>, GuardError> {
        let policy = load_policy(store)?;
        Ok(Guard {
            store,
            policy,
            viewer: None,
            sink: None,
        })
    }

    /// The view of a named, active user (the CLI's `--as USER`).
    pub fn as_user(store: &'a mut Store, name: &str) -> Result<Guard<'a>, GuardError> {
        let policy = load_policy(store)?;
        let u = store.user(name)?.ok_or(GuardError::Unauthenticated)?;
        Guard::for_user(store, policy, &u)
    }

    /// As [`Guard::with_token`], but a token verified before is recognised from `cache`
    /// without paying for argon2 again. The user row is still read on every call, so a
    /// revocation or a new token takes effect at the next request.
    pub fn with_token_cached(
        store: &'a mut Store,
        token: &str,
        cache: &TokenCache,
    ) -> Result<Guard<'a>, GuardError> {
        let (id, secret) = token::split(token).ok_or(GuardError::Unauthenticated)?;
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let u = store
            .user_by_token_id(id)?
            .ok_or(GuardError::Unauthenticated)?;
        let known = cache
            .map
            .lock()
            .map(|m| m.get(&key) == Some(&u.token_hash))
            .unwrap_or(false);
        if !known {
            if !token::verify(secret, &u.token_hash) {
                return Err(GuardError::Unauthenticated);
            }
            if let Ok(mut m) = cache.map.lock() {
                if m.len() >= TOKEN_CACHE_MAX {
                    m.clear();
                }
                m.insert(key, u.token_hash.clone());
            }
        }
        let policy = load_policy(store)?;
        Guard::for_user(store, policy, &u)
    }

    /// The view of whoever holds `token` (the HTTP API's bearer token).
    pub fn with_token(store: &'a mut Store, token: &str) -> Result<Guard<'a>, GuardError> {
        let (id, secret) = token::split(token).ok_or(GuardError::Unauthenticated)?;
        let policy = load_policy(store)?;
        let u = store
            .user_by_token_id(id)?
            .ok_or(GuardError::Unauthenticated)?;
        if !token::verify(secret, &u.token_hash) {
            return Err(GuardError::Unauthenticated);
        }
        Guard::for_user(store, policy, &u)
    }

    pub fn viewer(&self) -> Option<&Viewer> {
        self.viewer.as_ref()
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn sees_record(&self, r: &Record) -> bool {
        self.viewer
            .as_ref()
            .is_none_or(|v| self.policy.may_read(v, r.originator(), r.marking()))
    }

    fn sees_derived(&self, m: &Marking) -> bool {
        self.viewer
            .as_ref()
            .is_none_or(|v| self.policy.may_read_derived(v, m))
    }

    /// Sends this guard's read entries to `sink` instead of committing each one.
    pub fn defer_audit(&mut self, sink: AuditSink) {
        self.sink = Some(sink);
    }

    /// Appends one audit entry for a read of restricted items (also for a reply served from
    /// a cache, which is still a read).
    pub fn log_read(&mut self, what: &str, ids: Vec<String>) -> Result<(), GuardError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut ev = AuditEvent::new("read");
        ev.detail = serde_json::json!({ "what": what, "count": ids.len() });
        ev.records = ids;
        self.log(ev)
    }

    /// Appends a read entry now, or hands it to the deferred sink when there is one.
    fn log(&mut self, ev: AuditEvent) -> Result<(), GuardError> {
        match &self.sink {
            Some(sink) => sink(self.store.actor().to_string(), ev),
            None => {
                self.store.audit(ev)?;
            }
        }
        Ok(())
    }

    /// Two viewers with the same key see exactly the same derived items (alerts, leads): the
    /// policy decides those on the viewer's organisation and nation alone. A cache of derived
    /// replies must be keyed by this. The operator's key is `*`.
    pub fn derived_audience_key(&self) -> String {
        self.viewer
            .as_ref()
            .map(|v| format!("{}|{}", v.org, v.nation))
            .unwrap_or_else(|| "*".into())
    }

    /// Changes whenever the alerts change (for caches of alert replies).
    pub fn alert_generation(&self) -> Result<i64, GuardError> {
        Ok(self.store.alert_generation()?)
    }

    /// Alerts the viewer may see, filtered before the limit is applied.
    pub fn alerts(&mut self, f: &AlertFilter) -> Result<Vec<Alert>, GuardError> {
        let (policy, viewer) = (&self.policy, &self.viewer);
        // The decision is the policy's; the store only spares decoding what it refuses.
        let mut admit = |m: &Marking| {
            viewer
                .as_ref()
                .is_none_or(|v| policy.may_read_derived(v, m))
        };
        let out = self.store.alerts_admitted(f, &mut admit)?;
        self.log_read(
            "alerts",
            out.iter()
                .filter(|a| a.marking.tlp != Tlp::Clear)
                .map(|a| a.id.clone())
                .collect(),
        )?;
        Ok(out)
    }

    /// A lead as the viewer may see it: `None` if the lead is hidden; evidence items the
    /// viewer may not see are removed (a lead released to a partner does not release its
    /// sources).
    fn visible_lead(&self, mut l: Lead) -> Option<Lead> {
        if !self.sees_derived(&l.marking) {
            return None;
        }
        l.evidence
            .retain(|c| self.sees_derived(&c.evidence.marking));
        Some(l)
    }

    pub fn leads(&mut self, limit: u32) -> Result<Vec<Lead>, GuardError> {
        let all = self.store.leads(u32::MAX)?;
        let out: Vec<Lead> = all
            .into_iter()
            .filter_map(|l| self.visible_lead(l))
            .take(limit as usize)
            .collect();
        self.log_read("leads", out.iter().map(|l| l.id.clone()).collect())?;
        Ok(out)
    }

    pub fn lead(&mut self, id: &str) -> Result<Option<Lead>, GuardError> {
        let l = self.store.lead(id)?.and_then(|l| self.visible_lead(l));
        if let Some(l) = &l {
            let mut ids = vec![l.id.clone()];
            ids.extend(l.evidence.iter().map(|c| c.evidence.origin.clone()));
            self.log_read("lead", ids)?;
        }
        Ok(l)
    }

    /// One record of a kind, if it exists and the viewer may see it.
    pub fn record(&mut self, kind: Kind, id: &str) -> Result<Option<StoredRecord>, GuardError> {
        let r = self
            .store
            .record(kind, id)?
            .filter(|r| self.sees_record(&r.record));
        if let Some(r) = &r {
            if r.record.marking().tlp != Tlp::Clear {
                self.log_read(kind.as_str(), vec![id.to_string()])?;
            }
        }
        Ok(r)
    }

    /// Records of a kind that reference `reference` (custody events of a consignment), only
    /// those the viewer may see.
    pub fn records_by_ref(
        &mut self,
        kind: Kind,
        reference: &str,
    ) -> Result<Vec<StoredRecord>, GuardError> {
        let out: Vec<StoredRecord> = self
            .store
            .records_by_ref(kind, reference)?
            .into_iter()
            .filter(|r| self.sees_record(&r.record))
            .collect();
        self.log_read(
            kind.as_str(),
            out.iter()
                .filter(|r| r.record.marking().tlp != Tlp::Clear)
                .map(|r| r.record.id().to_string())
                .collect(),
        )?;
        Ok(out)
    }

    /// Consignments the viewer may see, in arrival order, with their tracking status;
    /// `status` keeps only one status. Filtered before the limit.
    pub fn consignments(
        &mut self,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(rastro_core::Consignment, Option<String>)>, GuardError> {
        let statuses = self.store.consignment_statuses()?;
        let mut out = Vec::new();
        let mut after = 0;
        'pages: loop {
            let page = self.store.records(Kind::Consignment, after, 2000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in page {
                if !self.sees_record(&r.record) {
                    continue;
                }
                if let Record::Consignment(c) = r.record {
                    let st = statuses.get(&c.id).cloned();
                    if status.is_some_and(|want| st.as_deref() != Some(want)) {
                        continue;
                    }
                    out.push((c, st));
                    if out.len() >= limit {
                        break 'pages;
                    }
                }
            }
        }
        self.log_read(
            "consignments",
            out.iter()
                .filter(|(c, _)| c.marking.tlp != Tlp::Clear)
                .map(|(c, _)| c.id.clone())
                .collect(),
        )?;
        Ok(out)
    }

    /// A consignment's tracking status and its track: the fixes of its vehicle around its
    /// custody events that the viewer may see, each observation judged by its own marking.
    /// `None` when the consignment is hidden or missing. Logged as one read naming the
    /// consignment, the vehicle and the time window.
    pub fn track(&mut self, consignment: &str) -> Result<Option<Track>, GuardError> {
        let Some(rec) = self.store.record(Kind::Consignment, consignment)? else {
            return Ok(None);
        };
        if !self.sees_record(&rec.record) {
            return Ok(None);
        }
        let state = self.store.consignment_state(consignment)?;
        let status = state.as_ref().map(|s| s.0.clone());
        let vehicle = state
            .as_ref()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s.2).ok())
            .and_then(|v| {
                v.get("vehicle")
                    .and_then(|x| x.as_str())
                    .map(str::to_string)
            });
        let times: Vec<i64> = self
            .store
            .records_by_ref(Kind::Custody, consignment)?
            .iter()
            .filter_map(|r| r.record.time_ms())
            .collect();
        let (Some(v), Some(&from), Some(&to)) = (vehicle, times.iter().min(), times.iter().max())
        else {
            return Ok(Some((status, Vec::new())));
        };
        // The same window analysis uses: an hour before the first event, three after the last.
        let (from, to) = (from - 3_600_000, to + 3 * 3_600_000);
        let fixes: Vec<[f64; 3]> = self
            .store
            .observations_of(&v, from, to)?
            .into_iter()
            .map(|(_, o)| o)
            .filter(|o| self.sees_observation(o))
            .map(|o| [o.lon, o.lat, o.time_ms as f64])
            .collect();
        let mut ev = AuditEvent::new("read");
        ev.detail = serde_json::json!({"what": "track", "vehicle": v, "from": rastro_core::format_time_ms(from), "to": rastro_core::format_time_ms(to), "observations": fixes.len()});
        ev.records = vec![consignment.to_string()];
        self.log(ev)?;
        Ok(Some((status, fixes)))
    }

    /// Whether the viewer may see one observation, judged by its own originator and marking.
    fn sees_observation(&self, o: &Observation) -> bool {
        self.viewer
            .as_ref()
            .is_none_or(|vw| self.policy.may_read(vw, &o.originator, &o.marking))
    }

    /// Observations of one subject, or inside one H3 cell, between two times (inclusive), that
    /// the viewer may see, in time order, at most `limit` (counted after filtering). Logged as
    /// one read naming the query and how many fixes it returned.
    pub fn observations(
        &mut self,
        query: &ObservationQuery,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<Observation>, GuardError> {
        let found = match query {
            ObservationQuery::Subject(s) => self.store.observations_of(s, from_ms, to_ms)?,
            ObservationQuery::Cell(c) => self
                .store
                .observations_in_cell(*c, from_ms, to_ms)?
                .ok_or_else(|| {
                    GuardError::Invalid(format!(
                        "{} is not an H3 cell of resolution {} or finer",
                        rastro_core::grid::to_string(*c),
                        rastro_store::MIN_QUERY_RESOLUTION
                    ))
                })?,
        };
        let out: Vec<Observation> = found
            .into_iter()
            .map(|(_, o)| o)
            .filter(|o| self.sees_observation(o))
            .take(limit)
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
    pub fn counts(&self) -> Result<BTreeMap<String, u64>, GuardError> {
        let mut out = BTreeMap::new();
        for rastro_store::MarkingCount {
            kind,
            originator,
            tlp,
            rel,
            count: n,
        } in self.store.marking_counts()?
        {
            let marking = Marking::from_stored(tlp, rel.as_deref());
            let seen = self
                .viewer
                .as_ref()
                .is_none_or(|v| self.policy.may_read(v, &originator, &marking));
            if seen {
                *out.entry(kind).or_default() += n;
            }
        }
        Ok(out)
    }

    /// Records a decision on a lead: host-nation analysts and commanders who can see it (and
    /// the operator). `None` for a lead the viewer cannot see, exactly as for a missing one.
    pub fn set_lead_status(
        &mut self,
        id: &str,
        status: rastro_core::LeadStatus,
        note: Option<&str>,
        t_ms: i64,
    ) -> Result<Option<Lead>, GuardError> {
        if !self.may_act_on_lead(id, &[crate::Role::Analyst, crate::Role::Commander])? {
            return Ok(None);
        }
        Ok(self.store.set_lead_status(id, status, note, t_ms)?)
    }

    /// Releases a lead to organisations or nations: host-nation commanders who can see it
    /// (and the operator). The evidence behind it keeps its own markings.
    pub fn release_lead(
        &mut self,
        id: &str,
        to: &[String],
        t_ms: i64,
    ) -> Result<Option<Lead>, GuardError> {
        let well_formed = |t: &str| {
            (2..=16).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if to.is_empty() || to.iter().any(|t| !well_formed(t.trim())) {
            return Err(GuardError::Invalid(format!(
                "release to organisation codes or ISO 3166 nations (2 to 16 letters, digits or '-'); got {to:?}"
            )));
        }
        if !self.may_act_on_lead(id, &[crate::Role::Commander])? {
            return Ok(None);
        }
        Ok(self.store.release_lead(id, to, t_ms)?)
    }

    /// `Ok(false)` when the lead is hidden or missing; `Forbidden` when it is visible but the
    /// viewer lacks the role or is not of the host nation.
    fn may_act_on_lead(&mut self, id: &str, roles: &[crate::Role]) -> Result<bool, GuardError> {
        let Some(v) = self.viewer.clone() else {
            return Ok(true);
        };
        let visible = self
            .store
            .lead(id)?
            .is_some_and(|l| self.policy.may_read_derived(&v, &l.marking));
        if !visible {
            return Ok(false);
        }
        self.require_host_role(&v, roles)?;
        Ok(true)
    }

    /// Decisions (triage, lead status, release) are the host nation's: `Forbidden` unless the
    /// viewer is of the host nation and holds one of `roles`.
    fn require_host_role(&self, v: &Viewer, roles: &[crate::Role]) -> Result<(), GuardError> {
        if v.nation == self.policy.host_nation && roles.contains(&v.role) {
            return Ok(());
        }
        Err(GuardError::Forbidden(format!(
            "only host-nation {} may do this; {} is a {} of {}",
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

    /// Triage of an alert: `acknowledged`, `escalated`, or `dismissed` with a reason; by
    /// host-nation analysts and commanders who can see it (and the operator). `Ok(false)` for
    /// an alert the viewer cannot see, exactly as for a missing one.
    pub fn triage_alert(
        &mut self,
        id: &str,
        state: &str,
        reason: Option<&str>,
        t_ms: i64,
    ) -> Result<bool, GuardError> {
        if !matches!(state, "acknowledged" | "dismissed" | "escalated") {
            return Err(GuardError::Invalid(format!(
                "unknown triage {state:?}; one of acknowledged, dismissed, escalated"
            )));
        }
        if state == "dismissed" && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(GuardError::Invalid(
                "dismissing an alert needs a reason".into(),
            ));
        }
        let Some(a) = self.store.alert(id)? else {
            return Ok(false);
        };
        if !self.sees_derived(&a.marking) {
            return Ok(false);
        }
        if let Some(v) = &self.viewer {
            self.require_host_role(v, &[crate::Role::Analyst, crate::Role::Commander])?;
        }
        self.store.set_alert_triage(id, state, reason, t_ms)?;
        Ok(true)
    }

    /// Triage decisions on these alerts, only for alerts the viewer may see.
    pub fn alert_triage(&self, alerts: &[Alert]) -> Result<serde_json::Value, GuardError> {
        let ids: Vec<String> = alerts
            .iter()
            .filter(|a| self.sees_derived(&a.marking))
            .map(|a| a.id.clone())
            .collect();
        let mut out = serde_json::Map::new();
        for x in self.store.alert_triage(&ids)? {
            out.insert(
                x.id,
                serde_json::json!({"state": x.state, "reason": x.reason, "by": x.actor, "time": rastro_core::format_time_ms(x.t_ms)}),
            );
        }
        Ok(serde_json::Value::Object(out))
    }

    /// Audit log entries, for auditors and administrators.
    pub fn audit_log(
        &mut self,
        f: &rastro_store::AuditFilter,
    ) -> Result<Vec<rastro_store::AuditRow>, GuardError> {
        self.require_audit()?;
        Ok(self.store.audit_log(f)?)
    }

    /// Why the viewer may not post this record, if they may not (the operator may post
    /// anything).
    pub fn origin_refusal(&self, r: &Record) -> Option<String> {
        let v = self.viewer.as_ref()?;
        self.policy
            .may_originate(v, r.originator(), r.marking())
            .err()
            .map(|e| format!("{} {}: {e}", r.kind().as_str(), r.id()))
    }

    /// The store, for writes the caller has already authorised through this guard.
    pub fn store_mut(&mut self) -> &mut Store {
        self.store
    }

    /// The audit log is for auditors and administrators.
    pub fn require_audit(&self) -> Result<(), GuardError> {
        match &self.viewer {
            Some(v) if !self.policy.may_read_audit(v) => Err(GuardError::Forbidden(format!(
                "the audit log is for auditors and administrators; {} is a {}",
                v.user,
                v.role.as_str()
            ))),
            _ => Ok(()),
        }
    }
}
