//! STIX objects imported from partners that map to no Rastro record, kept as they came: every
//! version by (id, `modified`), so a newer version supersedes an older for display while the
//! older stays readable, and a re-import of the same version changes nothing.

use crate::{Result, Store};
use rastro_core::Marking;
use rusqlite::params;

/// One stored version.
#[derive(Debug, Clone, PartialEq)]
pub struct StixRow {
    pub id: String,
    pub modified: String,
    pub ty: String,
    pub originator: String,
    pub marking: Marking,
    pub body: String,
    pub added_ms: i64,
}

/// Versions listed in one answer at most.
pub const MAX_STIX_ROWS: u32 = 10_000;

impl Store {
    /// Stores versions not yet held; returns how many were new. One transaction.
    pub fn put_stix(&mut self, rows: &[StixRow]) -> Result<u64> {
        let tx = self.conn.transaction()?;
        let mut n = 0u64;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO stix_object(id, modified, type, originator, tlp, rel, body, added_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            )?;
            for r in rows {
                n += st.execute(params![
                    r.id,
                    r.modified,
                    r.ty,
                    r.originator,
                    r.marking.tlp.code(),
                    Some(r.marking.releasable_text()).filter(|t| !t.is_empty()),
                    r.body,
                    r.added_ms
                ])? as u64;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Stored versions by id then `modified` (every version when `all_versions`, else the
    /// newest of each id): the first `limit` (at most [`MAX_STIX_ROWS`]) that `keep` admits.
    pub fn stix_objects(
        &self,
        all_versions: bool,
        limit: u32,
        mut keep: impl FnMut(&StixRow) -> bool,
    ) -> Result<Vec<StixRow>> {
        let limit = limit.min(MAX_STIX_ROWS) as usize;
        let mut st = self.conn.prepare_cached(
            "SELECT id, modified, type, originator, tlp, rel, body, added_ms FROM stix_object
             ORDER BY id, modified DESC",
        )?;
        let mut rows = st.query([])?;
        let mut out: Vec<StixRow> = Vec::new();
        let mut last_id = String::new();
        while out.len() < limit {
            let Some(r) = rows.next()? else { break };
            let row = StixRow {
                id: r.get(0)?,
                modified: r.get(1)?,
                ty: r.get(2)?,
                originator: r.get(3)?,
                marking: Marking::from_stored(r.get(4)?, r.get::<_, Option<String>>(5)?.as_deref()),
                body: r.get(6)?,
                added_ms: r.get(7)?,
            };
            // Newest first within an id: the first kept version is the current one. A version
            // the caller may not see never hides an older one it may.
            if !keep(&row) || (!all_versions && row.id == last_id) {
                continue;
            }
            last_id = row.id.clone();
            out.push(row);
        }
        Ok(out)
    }
}
