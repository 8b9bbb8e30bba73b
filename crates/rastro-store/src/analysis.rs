//! Persistence of analysis results, per view: alerts (keyed by their deterministic id within
//! the view), consignment states; and the organisations' triage of alerts.

use crate::{rel_text, Actor, Result, Store, StoreError};
use rastro_core::{Alert, ConsignmentState, ConsignmentStatus, Typology};
use rusqlite::{params, OptionalExtension};

/// Whether an alert was computed from one consignment or across the fleet; re-analysis
/// replaces alerts of the same scope and subject (or typology).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertScope {
    Consignment,
    Fleet,
}

impl AlertScope {
    fn as_str(self) -> &'static str {
        match self {
            AlertScope::Consignment => "consignment",
            AlertScope::Fleet => "fleet",
        }
    }
}

/// An organisation's triage of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triage {
    pub id: String,
    /// acknowledged, dismissed or escalated.
    pub state: String,
    pub reason: Option<String>,
    pub actor: String,
    pub t_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub typology: Option<Typology>,
    pub since_ms: Option<i64>,
    pub subject: Option<String>,
    pub limit: Option<u32>,
}

fn json_err(kind: &str, id: &str, e: serde_json::Error) -> StoreError {
    StoreError::Decode {
        kind: kind.into(),
        id: id.into(),
        err: e.to_string(),
    }
}

impl Store {
    /// Opens a write transaction for a run of analysis writes; [`Store::commit`] ends it.
    pub fn begin(&mut self) -> Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    pub fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    /// Abandons the open transaction, if any.
    pub fn rollback(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    fn insert_alerts(&self, vid: i64, scope: AlertScope, alerts: &[Alert]) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO alert(vid, id, typology, subject, scope, t_ms, lat, lon, score, tlp, rel, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for a in alerts {
            let body = serde_json::to_string(a).map_err(|e| json_err("alert", &a.id, e))?;
            st.execute(params![
                vid,
                a.id,
                a.typology.as_str(),
                a.subject,
                scope.as_str(),
                a.time_ms,
                a.lat,
                a.lon,
                a.score,
                a.marking.tlp.code(),
                rel_text(&a.marking),
                body
            ])?;
        }
        Ok(())
    }

    /// Replaces every per-consignment alert of `consignment` in view `vid` with `alerts`.
    pub fn replace_consignment_alerts(
        &mut self,
        vid: i64,
        consignment: &str,
        alerts: &[Alert],
    ) -> Result<()> {
        self.conn.execute(
            "DELETE FROM alert WHERE vid = ?1 AND scope = 'consignment' AND subject = ?2",
            params![vid, consignment],
        )?;
        self.insert_alerts(vid, AlertScope::Consignment, alerts)
    }

    /// Replaces every fleet alert of `typology` in view `vid` with `alerts`.
    pub fn replace_fleet_alerts(
        &mut self,
        vid: i64,
        typology: Typology,
        alerts: &[Alert],
    ) -> Result<()> {
        self.conn.execute(
            "DELETE FROM alert WHERE vid = ?1 AND scope = 'fleet' AND typology = ?2",
            params![vid, typology.as_str()],
        )?;
        self.insert_alerts(vid, AlertScope::Fleet, alerts)
    }

    /// Alerts of view `vid` matching `f`, highest score first, then by time and id.
    pub fn alerts(&self, vid: i64, f: &AlertFilter) -> Result<Vec<Alert>> {
        let (sql, args) = crate::query::Filtered::new("SELECT id, body FROM alert")
            .and("vid = ?", Some(vid))
            .and("typology = ?", f.typology.map(|t| t.as_str().to_string()))
            .and("t_ms >= ?", f.since_ms)
            .and("subject = ?", f.subject.clone())
            .finish("score DESC, t_ms, id", f.limit);
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let body: String = r.get(1)?;
            out.push(serde_json::from_str(&body).map_err(|e| json_err("alert", &id, e))?);
        }
        Ok(out)
    }

    /// One alert of view `vid` by id.
    pub fn alert(&self, vid: i64, id: &str) -> Result<Option<Alert>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM alert WHERE vid = ?1 AND id = ?2",
                params![vid, id],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| json_err("alert", id, e)))
            .transpose()
    }

    /// Alert counts by typology in view `vid`.
    pub fn alert_counts(&self, vid: i64) -> Result<Vec<(String, u64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT typology, COUNT(*) FROM alert WHERE vid = ?1 GROUP BY typology ORDER BY typology",
        )?;
        let rows = st.query_map([vid], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A number that every insert, update or delete of an alert moves (a trigger keeps it).
    pub fn alert_generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT n FROM alert_generation", [], |r| r.get(0))?)
    }

    /// Changes whenever settings, organisations, marking classes or views change (for caches
    /// of the policy and of each audience's window).
    pub fn policy_generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT n FROM policy_generation", [], |r| r.get(0))?)
    }

    /// Records an organisation's triage of an alert with its audit entry, in one transaction.
    pub fn set_alert_triage(
        &mut self,
        actor: &Actor,
        org: &str,
        id: &str,
        state: &str,
        reason: Option<&str>,
        t_ms: i64,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO alert_triage(org, id, state, reason, actor, t_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![org, id, state, reason, actor.as_str(), t_ms],
        )?;
        let mut ev = crate::AuditEvent::new("alert.triage");
        ev.records = vec![id.to_string()];
        ev.detail = serde_json::json!({"org": org, "state": state, "reason": reason});
        crate::audit::append(&tx, actor.as_str(), ev)?;
        tx.commit()?;
        Ok(())
    }

    /// An organisation's triage decisions for these alert ids.
    pub fn alert_triage(&self, org: &str, ids: &[String]) -> Result<Vec<Triage>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, state, reason, actor, t_ms FROM alert_triage WHERE org = ?1 AND id = ?2",
        )?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(row) = st
                .query_row(params![org, id], |r| {
                    Ok(Triage {
                        id: r.get(0)?,
                        state: r.get(1)?,
                        reason: r.get(2)?,
                        actor: r.get(3)?,
                        t_ms: r.get(4)?,
                    })
                })
                .optional()?
            {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Stores a consignment's state in view `vid`.
    pub fn put_consignment_state(
        &mut self,
        vid: i64,
        id: &str,
        state: &ConsignmentState,
    ) -> Result<()> {
        let body =
            serde_json::to_string(state).map_err(|e| json_err("consignment_state", id, e))?;
        self.conn.execute(
            "INSERT OR REPLACE INTO consignment_state(vid, id, status, eta_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![vid, id, state.status.as_str(), state.eta_ms, body],
        )?;
        Ok(())
    }

    /// Consignment states of view `vid` after `after_id` in id order, at most `limit`: for
    /// streaming every state in pages.
    pub fn consignment_states(
        &self,
        vid: i64,
        after_id: &str,
        limit: u32,
    ) -> Result<Vec<(String, ConsignmentState)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, body FROM consignment_state WHERE vid = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = st
            .query_map(params![vid, after_id, limit], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, b)| {
                let s =
                    serde_json::from_str(&b).map_err(|e| json_err("consignment_state", &id, e))?;
                Ok((id, s))
            })
            .collect()
    }

    /// The stored state of a consignment in view `vid`.
    pub fn consignment_state(&self, vid: i64, id: &str) -> Result<Option<ConsignmentState>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM consignment_state WHERE vid = ?1 AND id = ?2",
                params![vid, id],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| json_err("consignment_state", id, e)))
            .transpose()
    }

    /// Every consignment's status in view `vid`, by id.
    pub fn consignment_statuses(
        &self,
        vid: i64,
    ) -> Result<std::collections::HashMap<String, ConsignmentStatus>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, status FROM consignment_state WHERE vid = ?1")?;
        let rows = st
            .query_map([vid], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, s)| ConsignmentStatus::parse(&s).map(|s| (id, s)))
            .collect())
    }

    /// Status counts over the consignments analysed in view `vid`.
    pub fn status_counts(&self, vid: i64) -> Result<Vec<(String, u64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT status, COUNT(*) FROM consignment_state WHERE vid = ?1 GROUP BY status ORDER BY status",
        )?;
        let rows = st.query_map([vid], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
