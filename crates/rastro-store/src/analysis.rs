//! Persistence of analysis results: alerts (keyed by their deterministic id), per-consignment
//! state (status, ETA, summary), and the cursors that make analysis incremental.

use crate::{Result, Store, StoreError};
use rastro_core::{Alert, Kind, Marking, Typology};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

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

/// An analyst's triage of an alert.
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

fn rel(m: &Marking) -> Option<String> {
    (!m.releasable_to.is_empty()).then(|| m.releasable_text())
}

impl Store {
    pub fn begin(&mut self) -> Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    pub fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    fn insert_alerts(&self, scope: AlertScope, alerts: &[Alert]) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO alert(id, typology, subject, scope, t_ms, lat, lon, score, tlp, rel, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for a in alerts {
            let body = serde_json::to_string(a).map_err(|e| StoreError::Decode {
                kind: "alert".into(),
                id: a.id.clone(),
                err: e.to_string(),
            })?;
            st.execute(params![
                a.id,
                a.typology.as_str(),
                a.subject,
                scope.as_str(),
                a.time_ms,
                a.lat,
                a.lon,
                a.score,
                a.marking.tlp.code(),
                rel(&a.marking),
                body
            ])?;
        }
        Ok(())
    }

    /// Replaces every per-consignment alert of `consignment` with `alerts`.
    pub fn replace_consignment_alerts(
        &mut self,
        consignment: &str,
        alerts: &[Alert],
    ) -> Result<()> {
        self.conn.execute(
            "DELETE FROM alert WHERE scope = 'consignment' AND subject = ?1",
            [consignment],
        )?;
        self.insert_alerts(AlertScope::Consignment, alerts)
    }

    /// Replaces every fleet alert of `typology` with `alerts`.
    pub fn replace_fleet_alerts(&mut self, typology: Typology, alerts: &[Alert]) -> Result<()> {
        self.conn.execute(
            "DELETE FROM alert WHERE scope = 'fleet' AND typology = ?1",
            [typology.as_str()],
        )?;
        self.insert_alerts(AlertScope::Fleet, alerts)
    }

    /// Alerts matching `f`, highest score first, then by time and id.
    pub fn alerts(&self, f: &AlertFilter) -> Result<Vec<Alert>> {
        self.alerts_admitted(f, &mut |_| true)
    }

    /// As [`Store::alerts`], keeping only alerts whose marking `admit` accepts, and stopping
    /// at the filter's limit of admitted alerts. The marking comes from the indexed columns,
    /// so a refused alert is never decoded, and a page costs about its own size.
    pub fn alerts_admitted(
        &self,
        f: &AlertFilter,
        admit: &mut dyn FnMut(&Marking) -> bool,
    ) -> Result<Vec<Alert>> {
        let (sql, args) = crate::query::Filtered::new("SELECT id, tlp, rel, body FROM alert")
            .and("typology = ?", f.typology.map(|t| t.as_str().to_string()))
            .and("t_ms >= ?", f.since_ms)
            .and("subject = ?", f.subject.clone())
            .finish("score DESC, t_ms, id", None);
        let limit = f.limit.map(|l| l as usize).unwrap_or(usize::MAX);
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(r) = rows.next()? else { break };
            let marking =
                Marking::from_stored(r.get(1)?, r.get::<_, Option<String>>(2)?.as_deref());
            if !admit(&marking) {
                continue;
            }
            let id: String = r.get(0)?;
            let body: String = r.get(3)?;
            out.push(serde_json::from_str(&body).map_err(|e| StoreError::Decode {
                kind: "alert".into(),
                id,
                err: e.to_string(),
            })?);
        }
        Ok(out)
    }

    /// One alert by id.
    pub fn alert(&self, id: &str) -> Result<Option<Alert>> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM alert WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| StoreError::Decode {
                kind: "alert".into(),
                id: id.into(),
                err: e.to_string(),
            })
        })
        .transpose()
    }

    /// Records a triage decision on an alert with its audit entry, in one transaction.
    pub fn set_alert_triage(
        &mut self,
        id: &str,
        state: &str,
        reason: Option<&str>,
        t_ms: i64,
    ) -> Result<()> {
        let actor = self.actor().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO alert_triage(id, state, reason, actor, t_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, state, reason, actor, t_ms],
        )?;
        let mut ev = crate::AuditEvent::new("alert.triage");
        ev.records = vec![id.to_string()];
        ev.detail = serde_json::json!({"state": state, "reason": reason});
        crate::audit::append(&tx, &actor, ev)?;
        tx.commit()?;
        Ok(())
    }

    /// Triage decisions for these alert ids.
    pub fn alert_triage(&self, ids: &[String]) -> Result<Vec<Triage>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, state, reason, actor, t_ms FROM alert_triage WHERE id = ?1",
        )?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(row) = st
                .query_row([id], |r| {
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

    /// A number that every insert, update or delete of an alert moves (a trigger keeps it).
    pub fn alert_generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT n FROM alert_generation", [], |r| r.get(0))?)
    }

    /// Alert counts by typology.
    pub fn alert_counts(&self) -> Result<Vec<(String, u64)>> {
        let mut st = self
            .conn
            .prepare("SELECT typology, COUNT(*) FROM alert GROUP BY typology ORDER BY typology")?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn put_consignment_state<T: Serialize>(
        &mut self,
        id: &str,
        status: &str,
        eta_ms: Option<i64>,
        state: &T,
    ) -> Result<()> {
        let body = serde_json::to_string(state).map_err(|e| StoreError::Decode {
            kind: "consignment_state".into(),
            id: id.into(),
            err: e.to_string(),
        })?;
        self.conn.execute("INSERT OR REPLACE INTO consignment_state(id, status, eta_ms, body) VALUES (?1, ?2, ?3, ?4)", params![id, status, eta_ms, body])?;
        Ok(())
    }

    /// Consignment states (id, JSON body) after `after_id` in id order, at most `limit`: for
    /// streaming every state in pages.
    pub fn consignment_states(&self, after_id: &str, limit: u32) -> Result<Vec<(String, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, body FROM consignment_state WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = st.query_map(params![after_id, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The stored state of a consignment as JSON text.
    pub fn consignment_state(&self, id: &str) -> Result<Option<(String, Option<i64>, String)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT status, eta_ms, body FROM consignment_state WHERE id = ?1")?;
        let mut rows = st.query([id])?;
        Ok(match rows.next()? {
            Some(r) => Some((r.get(0)?, r.get(1)?, r.get(2)?)),
            None => None,
        })
    }

    /// Status counts over all analysed consignments.
    /// Every consignment's status, by id.
    pub fn consignment_statuses(&self) -> Result<std::collections::HashMap<String, String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, status FROM consignment_state")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn status_counts(&self) -> Result<Vec<(String, u64)>> {
        let mut st = self.conn.prepare(
            "SELECT status, COUNT(*) FROM consignment_state GROUP BY status ORDER BY status",
        )?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn cursor(&self, name: &str) -> Result<i64> {
        let mut st = self
            .conn
            .prepare_cached("SELECT value FROM analysis_cursor WHERE name = ?1")?;
        let mut rows = st.query([name])?;
        Ok(match rows.next()? {
            Some(r) => r.get(0)?,
            None => 0,
        })
    }

    pub fn set_cursor(&mut self, name: &str, value: i64) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO analysis_cursor(name, value) VALUES (?1, ?2)",
            params![name, value],
        )?;
        Ok(())
    }

    /// The highest record sequence number stored (0 when none).
    pub fn max_record_seq(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM record", [], |r| r.get(0))?)
    }

    /// Consignment ids whose consignment or custody records arrived after `after_seq`.
    pub fn consignments_touched_since(&self, after_seq: i64) -> Result<Vec<String>> {
        let mut st = self.conn.prepare(
            "SELECT DISTINCT CASE kind WHEN 'consignment' THEN id ELSE ref END FROM record WHERE seq > ?1 AND kind IN ('consignment', 'custody') ORDER BY 1",
        )?;
        let rows = st.query_map([after_seq], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Distinct observation subjects seen after `after_seq`.
    pub fn subjects_since(&self, after_seq: i64) -> Result<Vec<String>> {
        // A block holds observations seq..seq+n-1; one holding any after `after_seq` starts at
        // most BLOCK_ROWS - 1 before it.
        let mut st = self.conn.prepare(
            "SELECT DISTINCT subject FROM obs_block WHERE seq > ?1 AND seq + n - 1 > ?2 ORDER BY 1",
        )?;
        let rows = st.query_map(
            params![after_seq - crate::BLOCK_ROWS as i64, after_seq],
            |r| r.get::<_, String>(0),
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Number of records of a kind.
    pub fn count(&self, kind: Kind) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM record WHERE kind = ?1",
            [kind.as_str()],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}
