//! Persistence of operations, partner requests and lead packages: each a versioned body kept
//! by id with its owning organisation. A write names the version it was made on and is refused
//! as a conflict when the stored version moved (compare-and-swap, never a silent merge); every
//! write commits with its audit entry in one transaction.

use crate::audit::{append, AuditEvent};
use crate::{Actor, Result, Store, StoreError};
use rusqlite::{params, OptionalExtension};

/// Which table a document lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Operation,
    Request,
    Package,
}

impl DocKind {
    fn table(self) -> &'static str {
        match self {
            DocKind::Operation => "operation",
            DocKind::Request => "partner_request",
            DocKind::Package => "lead_package",
        }
    }
}

/// One stored document: its id, owning organisation, version, body and time of last write.
#[derive(Debug, Clone, PartialEq)]
pub struct DocRow {
    pub id: String,
    pub org: String,
    pub version: i64,
    pub body: String,
    pub t_ms: i64,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DocRow> {
    Ok(DocRow {
        id: r.get(0)?,
        org: r.get(1)?,
        version: r.get(2)?,
        body: r.get(3)?,
        t_ms: r.get(4)?,
    })
}

impl Store {
    /// Writes `doc` (at `doc.version`) if the stored version is `prev` (`None`: the id must be
    /// new), with its audit entry and the lead statuses it sets, in one transaction.
    /// `Ok(false)` is a conflict: nothing was written.
    pub fn put_doc(
        &mut self,
        actor: &Actor,
        kind: DocKind,
        prev: Option<i64>,
        doc: &DocRow,
        ev: AuditEvent,
        statuses: &[crate::LeadStatusChange],
    ) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let t = kind.table();
        let n = match prev {
            None => tx.execute(
                &format!("INSERT INTO {t}(id, org, version, body, t_ms) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO NOTHING"),
                params![doc.id, doc.org, doc.version, doc.body, doc.t_ms],
            )?,
            Some(v) => tx.execute(
                &format!("UPDATE {t} SET version = ?3, body = ?4, t_ms = ?5 WHERE id = ?1 AND version = ?2"),
                params![doc.id, v, doc.version, doc.body, doc.t_ms],
            )?,
        };
        if n != 1 {
            return Ok(false);
        }
        append(&tx, actor.as_str(), ev)?;
        for c in statuses {
            crate::leads::apply_lead_status(&tx, actor, c)?;
        }
        tx.commit()?;
        Ok(true)
    }

    pub fn doc(&self, kind: DocKind, id: &str) -> Result<Option<DocRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT id, org, version, body, t_ms FROM {} WHERE id = ?1",
            kind.table()
        ))?;
        Ok(st.query_row([id], row).optional()?)
    }

    /// Every document of a kind, by id (the caller decides who may see which).
    pub fn docs(&self, kind: DocKind) -> Result<Vec<DocRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT id, org, version, body, t_ms FROM {} ORDER BY id",
            kind.table()
        ))?;
        let rows = st.query_map([], row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A body that does not decode, named for the error.
    pub fn doc_error(kind: DocKind, id: &str, err: impl std::fmt::Display) -> StoreError {
        StoreError::Decode {
            kind: kind.table().into(),
            id: id.into(),
            err: err.to_string(),
        }
    }
}
