//! Persistence of organisations, users and deployment settings. Tokens are never stored:
//! only their public id and an argon2id hash of the secret (computed by rastro-policy).
//! Every change is written with its audit entry in one transaction.

use crate::audit::{append, AuditEvent};
use crate::{Actor, Result, Store};
use rusqlite::{params, OptionalExtension};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    pub code: String,
    pub name: String,
    pub nation: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub org: String,
    pub role: String,
    pub token_id: String,
    pub token_hash: String,
    pub revoked: bool,
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        name: r.get(0)?,
        org: r.get(1)?,
        role: r.get(2)?,
        token_id: r.get(3)?,
        token_hash: r.get(4)?,
        revoked: r.get::<_, Option<i64>>(5)?.is_some(),
    })
}

/// What one user has spent of their hourly ingest allowance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaUse {
    pub attempts: u64,
    pub rejected_lines: u64,
    pub rejected_bytes: u64,
}

/// How many records of a kind share one originator and marking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkingCount {
    pub kind: String,
    pub originator: String,
    pub tlp: u8,
    pub rel: Option<String>,
    pub count: u64,
    pub class: i64,
}

const USER_SELECT: &str = "SELECT name, org, role, token_id, token_hash, revoked_ms FROM app_user";

impl Store {
    /// Adds an organisation; false when the code is taken (nothing written).
    pub fn add_org(&mut self, actor: &Actor, o: &OrgRow, t_ms: i64) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "INSERT OR IGNORE INTO org(code, name, nation, kind, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![o.code, o.name, o.nation, o.kind, t_ms],
        )?;
        if n == 1 {
            let mut ev = AuditEvent::new("org.add");
            ev.detail = serde_json::json!({"code": o.code, "nation": o.nation, "kind": o.kind});
            append(&tx, actor.as_str(), ev)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    pub fn orgs(&self) -> Result<Vec<OrgRow>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT code, name, nation, kind FROM org ORDER BY code")?;
        let rows = st.query_map([], |r| {
            Ok(OrgRow {
                code: r.get(0)?,
                name: r.get(1)?,
                nation: r.get(2)?,
                kind: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Adds a user; false when the name is taken or the organisation unknown.
    pub fn add_user(&mut self, actor: &Actor, u: &UserRow, t_ms: i64) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let org_known: bool = tx
            .query_row("SELECT 1 FROM org WHERE code = ?1", [&u.org], |_| Ok(()))
            .optional()?
            .is_some();
        if !org_known {
            return Ok(false);
        }
        let n = tx.execute(
            "INSERT OR IGNORE INTO app_user(name, org, role, token_id, token_hash, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![u.name, u.org, u.role, u.token_id, u.token_hash, t_ms],
        )?;
        if n == 1 {
            let mut ev = AuditEvent::new("user.add");
            ev.detail = serde_json::json!({"user": u.name, "org": u.org, "role": u.role});
            append(&tx, actor.as_str(), ev)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRow>> {
        let sql = format!("{USER_SELECT} WHERE name = ?1");
        Ok(self.conn.query_row(&sql, [name], user_row).optional()?)
    }

    pub fn user_by_token_id(&self, token_id: &str) -> Result<Option<UserRow>> {
        let sql = format!("{USER_SELECT} WHERE token_id = ?1");
        Ok(self.conn.query_row(&sql, [token_id], user_row).optional()?)
    }

    pub fn users(&self) -> Result<Vec<UserRow>> {
        let sql = format!("{USER_SELECT} ORDER BY name");
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map([], user_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Revokes a user's token; false when there is no such active user.
    pub fn revoke_user(&mut self, actor: &Actor, name: &str, t_ms: i64) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE app_user SET revoked_ms = ?2 WHERE name = ?1 AND revoked_ms IS NULL",
            params![name, t_ms],
        )?;
        if n == 1 {
            let mut ev = AuditEvent::new("user.revoke");
            ev.detail = serde_json::json!({"user": name});
            append(&tx, actor.as_str(), ev)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// How many records of each kind there are per (originator, TLP code, releasable-to):
    /// what a guarded count needs, without reading any record body. Observations are kind
    /// `observation`.
    pub fn marking_counts(&self) -> Result<Vec<MarkingCount>> {
        let mut out = Vec::new();
        for sql in [
            "SELECT kind, originator, tlp, rel, COUNT(*), class FROM record GROUP BY kind, class",
            "SELECT 'observation', originator, tlp, rel, SUM(n), class FROM obs_block GROUP BY class",
        ] {
            let mut st = self.conn.prepare_cached(sql)?;
            let rows = st.query_map([], |r| {
                Ok(MarkingCount {
                    kind: r.get(0)?,
                    originator: r.get(1)?,
                    tlp: r.get(2)?,
                    rel: r.get(3)?,
                    count: r.get::<_, i64>(4)? as u64,
                    class: r.get(5)?,
                })
            })?;
            out.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
        }
        Ok(out)
    }

    /// What `user` has spent in hour `hour` (hours since the epoch).
    pub fn quota_use(&self, user: &str, hour: i64) -> Result<QuotaUse> {
        Ok(self
            .conn
            .query_row(
                "SELECT attempts, rejected_lines, rejected_bytes FROM ingest_quota WHERE user = ?1 AND hour = ?2",
                params![user, hour],
                |r| {
                    Ok(QuotaUse {
                        attempts: r.get::<_, i64>(0)? as u64,
                        rejected_lines: r.get::<_, i64>(1)? as u64,
                        rejected_bytes: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Adds to what `user` has spent in hour `hour`; older hours are forgotten.
    pub fn quota_add(&mut self, user: &str, hour: i64, add: QuotaUse) -> Result<()> {
        self.conn.execute(
            "INSERT INTO ingest_quota(user, hour, attempts, rejected_lines, rejected_bytes) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(user, hour) DO UPDATE SET attempts = attempts + ?3, rejected_lines = rejected_lines + ?4, rejected_bytes = rejected_bytes + ?5",
            params![user, hour, add.attempts as i64, add.rejected_lines as i64, add.rejected_bytes as i64],
        )?;
        self.conn
            .execute("DELETE FROM ingest_quota WHERE hour < ?1", [hour - 24])?;
        Ok(())
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&mut self, actor: &Actor, key: &str, value: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO setting(key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        let mut ev = AuditEvent::new("setting.set");
        ev.detail = serde_json::json!({"key": key, "value": value});
        append(&tx, actor.as_str(), ev)?;
        tx.commit()?;
        Ok(())
    }
}
