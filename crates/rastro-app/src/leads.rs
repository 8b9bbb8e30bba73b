//! Leads, decisions and releases as a viewer sees and makes them.
//!
//! A viewer's leads are their view's, with their organisation's decisions laid over them (a
//! decision is kept with the cells it was made on, so it survives recomputation). A release is
//! a declassification of a frozen snapshot: the lead exactly as the releasing commander saw it
//! (evidence, text, score), bound to the SHA-256 of that content, for the recipients named.
//! Recipients see the snapshot, never the live lead; when the live lead changes, the releasing
//! organisation sees "changed since release" and decides again.

use crate::guard::Guard;
use crate::views::*;
use crate::AppError;
use rastro_core::{Lead, LeadStatus, Tlp};
use rastro_policy::Role;
use rastro_store::{Actor, ReleaseRow};
use sha2::{Digest, Sha256};

/// The content of a lead that a release binds: everything the releaser saw of it except its
/// rank (which moves when other leads change) and the decision laid over it.
pub fn release_content(l: &Lead) -> Lead {
    let mut c = l.clone();
    c.rank = 0;
    c.status = LeadStatus::New;
    c.status_note = None;
    c
}

/// SHA-256 of a lead's released content, hex.
pub fn content_sha256(l: &Lead) -> String {
    let body = serde_json::to_string(&release_content(l)).unwrap_or_default();
    hex::encode(Sha256::digest(body.as_bytes()))
}

impl Guard<'_> {
    fn lead_view(
        &mut self,
        l: &Lead,
        decisions: &[rastro_store::LeadDecision],
        releases: &[ReleaseRow],
        rates: &[crate::ops_views::KindRateV1],
    ) -> LeadV1 {
        let (status, note) = self.decision_for(l, decisions);
        let mut v = LeadV1::new(l, status, note);
        let kinds = rastro_ops::evidence_kinds(l);
        v.hit_rates = rates
            .iter()
            .filter(|r| kinds.contains(&r.kind))
            .cloned()
            .collect();
        let org = self.org();
        let sha = content_sha256(l);
        v.releases = releases
            .iter()
            .filter(|r| r.org == org && r.lead == l.id)
            .map(|r| ReleaseRefV1 {
                release: r.rid,
                recipients: r.recipients.clone(),
                time: rastro_core::format_time_ms(r.t_ms),
                sha256: r.sha256.clone(),
                revoked: r.revoked_ms.is_some(),
                changed_since_release: r.sha256 != sha,
            })
            .collect();
        v
    }

    /// The viewer's leads, best first, at most `limit`.
    pub fn leads(&mut self, limit: u32) -> Result<Vec<LeadV1>, AppError> {
        let Some(vid) = self.vid() else {
            return Ok(Vec::new());
        };
        let org = self.org();
        let leads = self.store().leads(vid, limit)?;
        let decisions = self.store().lead_decisions(&org)?;
        let releases = self.store().releases()?;
        let rates = self.hit_rates()?;
        let out: Vec<LeadV1> = leads
            .iter()
            .map(|l| self.lead_view(l, &decisions, &releases, &rates))
            .collect();
        self.log_read("leads", out.iter().map(|l| l.id.clone()).collect())?;
        Ok(out)
    }

    /// One of the viewer's leads, with the forensic groups tied to it.
    pub fn lead(&mut self, id: &str) -> Result<Option<LeadV1>, AppError> {
        let Some(l) = self.lead_plain(id)? else {
            return Ok(None);
        };
        let mut one = [l];
        self.fill_forensics(&mut one)?;
        let [l] = one;
        Ok(Some(l))
    }

    /// One of the viewer's leads without its forensic groups (a package fills those once for
    /// all its leads: one linkage, not one per lead).
    pub(crate) fn lead_plain(&mut self, id: &str) -> Result<Option<LeadV1>, AppError> {
        let Some(vid) = self.vid() else {
            return Ok(None);
        };
        let Some(l) = self.store().lead(vid, id)? else {
            return Ok(None);
        };
        let org = self.org();
        let decisions = self.store().lead_decisions(&org)?;
        let releases = self.store().releases()?;
        let rates = self.hit_rates()?;
        let v = self.lead_view(&l, &decisions, &releases, &rates);
        let mut ids = vec![l.id.clone()];
        ids.extend(l.evidence.iter().map(|c| c.evidence.origin.clone()));
        self.log_read("lead", ids)?;
        Ok(Some(v))
    }

    fn release_view(&self, r: &ReleaseRow) -> Option<ReleaseV1> {
        let mut lead: Lead = serde_json::from_str(&r.body).ok()?;
        lead.marking
            .releasable_to
            .extend(r.recipients.iter().cloned());
        Some(ReleaseV1 {
            release: r.rid,
            released_by: r.org.clone(),
            time: rastro_core::format_time_ms(r.t_ms),
            recipients: r.recipients.clone(),
            sha256: r.sha256.clone(),
            revoked: r.revoked_ms.is_some(),
            revoked_time: r.revoked_ms.map(rastro_core::format_time_ms),
            lead: LeadV1::new(&lead, LeadStatus::Released, None),
        })
    }

    /// Whether the viewer may see a release: the releasing organisation, the operator, and
    /// (while it is not revoked) its recipients.
    fn sees_release(&self, r: &ReleaseRow) -> bool {
        match self.viewer() {
            None => true,
            Some(v) => {
                r.org == v.org
                    || (r.revoked_ms.is_none() && self.policy().release_reaches(v, &r.recipients))
            }
        }
    }

    /// Releases the viewer may see, oldest first.
    pub fn releases(&mut self) -> Result<Vec<ReleaseV1>, AppError> {
        let rows = self.store().releases()?;
        let out: Vec<ReleaseV1> = rows
            .iter()
            .filter(|r| self.sees_release(r))
            .filter_map(|r| self.release_view(r))
            .collect();
        self.log_read(
            "releases",
            out.iter()
                .map(|r| format!("release:{}", r.release))
                .collect(),
        )?;
        Ok(out)
    }

    /// One release, if the viewer may see it.
    pub fn release(&mut self, rid: i64) -> Result<Option<ReleaseV1>, AppError> {
        let Some(r) = self.store().release(rid)? else {
            return Ok(None);
        };
        if !self.sees_release(&r) {
            return Ok(None);
        }
        let out = self.release_view(&r);
        if out.is_some() {
            self.log_read("release", vec![format!("release:{rid}"), r.lead.clone()])?;
        }
        Ok(out)
    }

    /// Records the viewer's organisation's decision on one of its leads: host-nation analysts
    /// and commanders (and the operator). `None` for a lead the viewer cannot see, exactly as
    /// for a missing one.
    pub fn set_lead_status(
        &mut self,
        id: &str,
        status: LeadStatus,
        note: Option<&str>,
        t_ms: i64,
    ) -> Result<Option<LeadV1>, AppError> {
        if note.is_some_and(|n| n.len() > 2000) {
            return Err(AppError::Invalid("a note is at most 2000 bytes".into()));
        }
        let Some(vid) = self.vid() else {
            return Ok(None);
        };
        let Some(l) = self.store().lead(vid, id)? else {
            return Ok(None);
        };
        self.require_host_role(&[Role::Analyst, Role::Commander])?;
        let (org, actor) = (self.org(), self.actor().clone());
        self.store()
            .set_lead_status(&actor, &org, id, &l.cells, status, note, t_ms)?;
        let decisions = self.store().lead_decisions(&org)?;
        let releases = self.store().releases()?;
        let rates = self.hit_rates()?;
        Ok(Some(self.lead_view(&l, &decisions, &releases, &rates)))
    }

    /// Releases one of the viewer's leads, as the viewer sees it now, to named recipients:
    /// host-nation commanders only. A RED lead goes to organisations only. `None` for a lead
    /// the viewer cannot see.
    pub fn release_lead(
        &mut self,
        id: &str,
        to: &[String],
        t_ms: i64,
    ) -> Result<Option<ReleaseV1>, AppError> {
        let Some(vid) = self.vid() else {
            return Ok(None);
        };
        let Some(l) = self.store().lead(vid, id)? else {
            return Ok(None);
        };
        if let Some(v) = self.viewer() {
            self.policy().may_release(v).map_err(AppError::Forbidden)?;
        }
        let recipients = self
            .policy()
            .release_recipients(l.marking.tlp, to)
            .map_err(AppError::Invalid)?;
        let content = release_content(&l);
        let body = serde_json::to_string(&content).map_err(|e| AppError::Invalid(e.to_string()))?;
        let row = ReleaseRow {
            rid: 0,
            lead: l.id.clone(),
            org: self.org(),
            actor: self.actor().to_string(),
            t_ms,
            recipients,
            sha256: content_sha256(&l),
            body,
            revoked_ms: None,
            revoked_by: None,
        };
        let actor: Actor = self.actor().clone();
        let rid = self.store().add_release(&actor, &row)?;
        Ok(self
            .store()
            .release(rid)?
            .and_then(|r| self.release_view(&r)))
    }

    /// Revokes a release of the viewer's organisation (host-nation commanders).
    pub fn revoke_release(&mut self, rid: i64, t_ms: i64) -> Result<bool, AppError> {
        let Some(r) = self.store().release(rid)? else {
            return Ok(false);
        };
        if r.org != self.org() && self.viewer().is_some() {
            return Ok(false);
        }
        if let Some(v) = self.viewer() {
            self.policy().may_release(v).map_err(AppError::Forbidden)?;
        }
        let actor = self.actor().clone();
        Ok(self.store().revoke_release(&actor, rid, t_ms)?)
    }

    /// Triage of an alert of the viewer's view by the viewer's organisation: `acknowledged`,
    /// `escalated`, or `dismissed` with a reason; host-nation analysts and commanders (and the
    /// operator). `Ok(false)` for an alert the viewer cannot see, exactly as for a missing one.
    pub fn triage_alert(
        &mut self,
        id: &str,
        state: &str,
        reason: Option<&str>,
        t_ms: i64,
    ) -> Result<bool, AppError> {
        if !matches!(state, "acknowledged" | "dismissed" | "escalated") {
            return Err(AppError::Invalid(
                "unknown triage state; one of acknowledged, dismissed, escalated".into(),
            ));
        }
        if state == "dismissed" && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(AppError::Invalid(
                "dismissing an alert needs a reason".into(),
            ));
        }
        if reason.is_some_and(|r| r.len() > 2000) {
            return Err(AppError::Invalid("a reason is at most 2000 bytes".into()));
        }
        let Some(vid) = self.vid() else {
            return Ok(false);
        };
        if self.store().alert(vid, id)?.is_none() {
            return Ok(false);
        }
        self.require_host_role(&[Role::Analyst, Role::Commander])?;
        let (org, actor) = (self.org(), self.actor().clone());
        self.store()
            .set_alert_triage(&actor, &org, id, state, reason, t_ms)?;
        Ok(true)
    }

    /// The viewer's leads and the releases reaching them, as GeoJSON (RFC 7946): one Feature
    /// per lead, a MultiPolygon of its cells.
    pub fn leads_geojson(&mut self, limit: u32) -> Result<serde_json::Value, AppError> {
        let own = self.leads(limit)?;
        let released = self.releases()?;
        let mut features = Vec::new();
        let feature = |l: &LeadV1, released: Option<&ReleaseV1>| {
            let polys = rastro_core::lead::cells_multipolygon(&l.cells);
            serde_json::json!({
                "type": "Feature",
                "id": released.map(|r| format!("release:{}", r.release)).unwrap_or_else(|| l.id.clone()),
                "geometry": {"type": "MultiPolygon", "coordinates": polys},
                "properties": {
                    "lead": l.id,
                    "rank": l.rank,
                    "score": l.score,
                    "centre": [l.lon, l.lat],
                    "z_max": l.z_max,
                    "evidence": l.evidence.len(),
                    "kinds": l.kinds,
                    "status": l.status,
                    "tlp": l.marking.tlp,
                    "marking": l.marking.text,
                    "summary": l.summary,
                    "released_by": released.map(|r| r.released_by.clone()),
                }
            })
        };
        for l in &own {
            features.push(feature(l, None));
        }
        let org = self.org();
        for r in released
            .iter()
            .filter(|r| r.released_by != org && !r.revoked)
        {
            features.push(feature(&r.lead, Some(r)));
        }
        Ok(serde_json::json!({"type": "FeatureCollection", "features": features}))
    }
}

/// Whether a TLP level may be released to nations (everything below RED).
pub fn nations_allowed(t: Tlp) -> bool {
    t != Tlp::Red
}
