//! Persistence of leads and of the analyst decisions about them. A status change is written
//! with its audit entry in one transaction, so the log never misses a decision.

use crate::audit::{append, AuditEvent};
use crate::{Result, Store, StoreError};
use rastro_core::{Lead, LeadStatus};
use rusqlite::{params, OptionalExtension};

/// An analyst's decision on a lead, kept across recomputations.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadDecision {
    pub id: String,
    pub status: LeadStatus,
    pub note: Option<String>,
    pub actor: String,
    pub t_ms: i64,
    pub cells: Vec<String>,
    /// Organisations or nations the lead was explicitly released to.
    pub released_to: Vec<String>,
}

fn split(s: &str) -> Vec<String> {
    s.split(';')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

fn decode(id: &str, body: &str) -> Result<Lead> {
    serde_json::from_str(body).map_err(|e| StoreError::Decode {
        kind: "lead".into(),
        id: id.into(),
        err: e.to_string(),
    })
}

impl Store {
    /// Replaces every lead with `leads`, in one transaction.
    pub fn replace_leads(&mut self, leads: &[Lead]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM lead", [])?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO lead(id, rank, score, lat, lon, tlp, rel, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for l in leads {
                let body = serde_json::to_string(l).map_err(|e| StoreError::Decode {
                    kind: "lead".into(),
                    id: l.id.clone(),
                    err: e.to_string(),
                })?;
                let rel =
                    (!l.marking.releasable_to.is_empty()).then(|| l.marking.releasable_text());
                st.execute(params![
                    l.id,
                    l.rank,
                    l.score,
                    l.lat,
                    l.lon,
                    l.marking.tlp.code(),
                    rel,
                    body
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Leads by rank, at most `limit`.
    pub fn leads(&self, limit: u32) -> Result<Vec<Lead>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, body FROM lead ORDER BY rank LIMIT ?1")?;
        let rows = st.query_map([limit], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row?;
            out.push(decode(&id, &body)?);
        }
        Ok(out)
    }

    pub fn lead(&self, id: &str) -> Result<Option<Lead>> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM lead WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        body.map(|b| decode(id, &b)).transpose()
    }

    /// Every decision ever made, newest first.
    pub fn lead_decisions(&self) -> Result<Vec<LeadDecision>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, status, note, actor, t_ms, cells, released_to FROM lead_decision ORDER BY t_ms DESC, id",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, status, note, actor, t_ms, cells, released) = row?;
            let status = LeadStatus::parse(&status).ok_or_else(|| StoreError::Decode {
                kind: "lead_decision".into(),
                id: id.clone(),
                err: format!("unknown status {status}"),
            })?;
            out.push(LeadDecision {
                id,
                status,
                note,
                actor,
                t_ms,
                cells: split(&cells),
                released_to: split(released.as_deref().unwrap_or("")),
            });
        }
        Ok(out)
    }

    /// Records a decision on a current lead and its audit entry in one transaction; returns
    /// the updated lead, or `None` when there is no such lead (nothing is written).
    pub fn set_lead_status(
        &mut self,
        id: &str,
        status: LeadStatus,
        note: Option<&str>,
        t_ms: i64,
    ) -> Result<Option<Lead>> {
        let Some(mut lead) = self.lead(id)? else {
            return Ok(None);
        };
        lead.status = status;
        lead.status_note = note.map(str::to_string);
        let body = serde_json::to_string(&lead).map_err(|e| StoreError::Decode {
            kind: "lead".into(),
            id: id.into(),
            err: e.to_string(),
        })?;
        let actor = self.actor().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("UPDATE lead SET body = ?2 WHERE id = ?1", params![id, body])?;
        tx.execute(
            "INSERT INTO lead_decision(id, status, note, actor, t_ms, cells) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET status = ?2, note = ?3, actor = ?4, t_ms = ?5, cells = ?6",
            params![id, status.as_str(), note, actor, t_ms, lead.cells.join(";")],
        )?;
        let mut ev = AuditEvent::new("lead.status");
        ev.records = vec![id.to_string()];
        ev.detail = serde_json::json!({"status": status.as_str(), "note": note});
        append(&tx, &actor, ev)?;
        tx.commit()?;
        Ok(Some(lead))
    }

    /// Releases a lead to organisations or nations (an explicit, audited widening of its
    /// marking by an authorised user); the release is kept with the lead's decision and
    /// survives recomputation. `None` when there is no such lead (nothing is written).
    pub fn release_lead(&mut self, id: &str, to: &[String], t_ms: i64) -> Result<Option<Lead>> {
        let Some(mut lead) = self.lead(id)? else {
            return Ok(None);
        };
        lead.marking
            .releasable_to
            .extend(to.iter().map(|t| t.trim().to_ascii_uppercase()));
        let body = serde_json::to_string(&lead).map_err(|e| StoreError::Decode {
            kind: "lead".into(),
            id: id.into(),
            err: e.to_string(),
        })?;
        let rel = lead.marking.releasable_text();
        let actor = self.actor().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE lead SET body = ?2, rel = ?3 WHERE id = ?1",
            params![id, body, rel],
        )?;
        tx.execute(
            "INSERT INTO lead_decision(id, status, note, actor, t_ms, cells, released_to) VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET released_to = ?6, actor = ?3, t_ms = ?4",
            params![id, lead.status.as_str(), actor, t_ms, lead.cells.join(";"), rel],
        )?;
        let mut ev = AuditEvent::new("lead.release");
        ev.records = vec![id.to_string()];
        ev.detail = serde_json::json!({"to": to, "marking": lead.marking.to_string()});
        append(&tx, &actor, ev)?;
        tx.commit()?;
        Ok(Some(lead))
    }
}
