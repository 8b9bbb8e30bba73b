//! Persistence of leads (per view), of the organisations' decisions about them, and of
//! releases: frozen, hashed snapshots of a lead shared with named recipients. Every decision
//! and release is written with its audit entry in one transaction.

use crate::audit::{append, AuditEvent};
use crate::{rel_text, Actor, Result, Store, StoreError};
use rastro_core::{Lead, LeadStatus};
use rusqlite::{params, OptionalExtension};

/// An organisation's decision on a lead, kept across recomputations with the cells it was
/// made on.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadDecision {
    pub org: String,
    pub id: String,
    pub status: LeadStatus,
    pub note: Option<String>,
    pub actor: String,
    pub t_ms: i64,
    pub cells: Vec<String>,
}

/// A release: the lead as its releaser saw and approved it, bound to the SHA-256 of that
/// content, for the recipients named.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseRow {
    pub rid: i64,
    pub lead: String,
    /// The releasing organisation (whose view the snapshot was taken from).
    pub org: String,
    pub actor: String,
    pub t_ms: i64,
    /// Organisation codes, or nations for levels below RED.
    pub recipients: Vec<String>,
    /// The snapshot, as canonical JSON.
    pub body: String,
    pub sha256: String,
    pub revoked_ms: Option<i64>,
    pub revoked_by: Option<String>,
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

const RELEASE_SELECT: &str = "SELECT rid, lead, org, actor, t_ms, recipients, body, sha256, revoked_ms, revoked_by FROM lead_release";

fn release_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReleaseRow> {
    Ok(ReleaseRow {
        rid: r.get(0)?,
        lead: r.get(1)?,
        org: r.get(2)?,
        actor: r.get(3)?,
        t_ms: r.get(4)?,
        recipients: split(&r.get::<_, String>(5)?),
        body: r.get(6)?,
        sha256: r.get(7)?,
        revoked_ms: r.get(8)?,
        revoked_by: r.get(9)?,
    })
}

impl Store {
    /// Replaces every lead of view `vid` with `leads` (inside the caller's transaction, when
    /// one is open, so that the replacement commits with its audit entry).
    pub fn replace_leads(&mut self, vid: i64, leads: &[Lead]) -> Result<()> {
        self.conn
            .execute("DELETE FROM lead WHERE vid = ?1", [vid])?;
        let mut st = self.conn.prepare_cached(
            "INSERT INTO lead(vid, id, rank, score, lat, lon, tlp, rel, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for l in leads {
            let body = serde_json::to_string(l).map_err(|e| StoreError::Decode {
                kind: "lead".into(),
                id: l.id.clone(),
                err: e.to_string(),
            })?;
            st.execute(params![
                vid,
                l.id,
                l.rank,
                l.score,
                l.lat,
                l.lon,
                l.marking.tlp.code(),
                rel_text(&l.marking),
                body
            ])?;
        }
        Ok(())
    }

    /// Replaces view `vid`'s uncalibrated ranking (empty: the view has no feedback, so its
    /// leads are that ranking).
    pub fn replace_lead_baseline(&mut self, vid: i64, leads: &[Lead]) -> Result<()> {
        self.conn
            .execute("DELETE FROM lead_baseline WHERE vid = ?1", [vid])?;
        let mut st = self.conn.prepare_cached(
            "INSERT INTO lead_baseline(vid, rank, id, score, lat, lon) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for l in leads {
            st.execute(params![vid, l.rank, l.id, l.score, l.lat, l.lon])?;
        }
        Ok(())
    }

    /// View `vid`'s uncalibrated ranking as (id, score, lat, lon) by rank; empty when the
    /// view's leads were not calibrated.
    pub fn lead_baseline(&self, vid: i64) -> Result<Vec<(String, f64, f64, f64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, score, lat, lon FROM lead_baseline WHERE vid = ?1 ORDER BY rank",
        )?;
        let rows = st.query_map([vid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Leads of view `vid` by rank, at most `limit`.
    pub fn leads(&self, vid: i64, limit: u32) -> Result<Vec<Lead>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, body FROM lead WHERE vid = ?1 ORDER BY rank LIMIT ?2")?;
        let rows = st
            .query_map(params![vid, limit], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|(id, b)| decode(&id, &b)).collect()
    }

    pub fn lead(&self, vid: i64, id: &str) -> Result<Option<Lead>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM lead WHERE vid = ?1 AND id = ?2",
                params![vid, id],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| decode(id, &b)).transpose()
    }

    /// Every decision an organisation made, newest first.
    pub fn lead_decisions(&self, org: &str) -> Result<Vec<LeadDecision>> {
        let mut st = self.conn.prepare_cached(
            "SELECT org, id, status, note, actor, t_ms, cells FROM lead_decision WHERE org = ?1 ORDER BY t_ms DESC, id",
        )?;
        let rows = st
            .query_map([org], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(org, id, status, note, actor, t_ms, cells)| {
                let status = LeadStatus::parse(&status).ok_or_else(|| StoreError::Decode {
                    kind: "lead_decision".into(),
                    id: id.clone(),
                    err: format!("unknown status {status}"),
                })?;
                Ok(LeadDecision {
                    org,
                    id,
                    status,
                    note,
                    actor,
                    t_ms,
                    cells: split(&cells),
                })
            })
            .collect()
    }

    /// Records an organisation's decision on a lead (made on `cells`) and its audit entry in
    /// one transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn set_lead_status(
        &mut self,
        actor: &Actor,
        org: &str,
        id: &str,
        cells: &[String],
        status: LeadStatus,
        note: Option<&str>,
        t_ms: i64,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let change = LeadStatusChange {
            org: org.to_string(),
            id: id.to_string(),
            cells: cells.to_vec(),
            status,
            note: note.map(str::to_string),
            t_ms,
        };
        apply_lead_status(&tx, actor, &change)?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a release and its audit entry (naming the content hash) in one transaction.
    pub fn add_release(&mut self, actor: &Actor, r: &ReleaseRow) -> Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO lead_release(lead, org, actor, t_ms, recipients, body, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![r.lead, r.org, actor.as_str(), r.t_ms, r.recipients.join(";"), r.body, r.sha256],
        )?;
        let rid = tx.last_insert_rowid();
        let mut ev = AuditEvent::new("lead.release");
        ev.records = vec![r.lead.clone(), format!("release:{rid}")];
        ev.detail = serde_json::json!({"org": r.org, "to": r.recipients, "sha256": r.sha256});
        append(&tx, actor.as_str(), ev)?;
        tx.commit()?;
        Ok(rid)
    }

    /// Revokes a release (audited); false when it does not exist or was already revoked.
    pub fn revoke_release(&mut self, actor: &Actor, rid: i64, t_ms: i64) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE lead_release SET revoked_ms = ?2, revoked_by = ?3 WHERE rid = ?1 AND revoked_ms IS NULL",
            params![rid, t_ms, actor.as_str()],
        )?;
        if n == 1 {
            let mut ev = AuditEvent::new("lead.release.revoke");
            ev.records = vec![format!("release:{rid}")];
            append(&tx, actor.as_str(), ev)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// Every release, oldest first (the caller decides who may see which).
    pub fn releases(&self) -> Result<Vec<ReleaseRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{RELEASE_SELECT} ORDER BY rid"))?;
        let rows = st.query_map([], release_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn release(&self, rid: i64) -> Result<Option<ReleaseRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{RELEASE_SELECT} WHERE rid = ?1"))?;
        Ok(st.query_row([rid], release_row).optional()?)
    }
}

/// A lead status an organisation sets, written with its audit entry inside a caller's
/// transaction (an operation's outcome and the statuses it sets commit together).
#[derive(Debug, Clone, PartialEq)]
pub struct LeadStatusChange {
    pub org: String,
    pub id: String,
    pub cells: Vec<String>,
    pub status: LeadStatus,
    pub note: Option<String>,
    pub t_ms: i64,
}

pub(crate) fn apply_lead_status(
    tx: &rusqlite::Transaction<'_>,
    actor: &Actor,
    c: &LeadStatusChange,
) -> Result<()> {
    tx.execute(
        "INSERT INTO lead_decision(org, id, status, note, actor, t_ms, cells) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(org, id) DO UPDATE SET status = ?3, note = ?4, actor = ?5, t_ms = ?6, cells = ?7",
        params![c.org, c.id, c.status.as_str(), c.note, actor.as_str(), c.t_ms, c.cells.join(";")],
    )?;
    let mut ev = AuditEvent::new("lead.status");
    ev.records = vec![c.id.clone()];
    ev.detail = serde_json::json!({"org": c.org, "status": c.status.as_str(), "note": c.note});
    append(tx, actor.as_str(), ev)?;
    Ok(())
}
