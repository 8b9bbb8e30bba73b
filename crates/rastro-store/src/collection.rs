//! The provenance of partner collection: for each observation a partner organisation
//! contributed (or that names a request), the approved request it was collected under, or the
//! reason it is flagged. The first verdict on an observation stands: re-sending a flagged
//! sighting with a request id does not clear its flag.

use crate::{Result, Store};
use rastro_core::Marking;
use rusqlite::params;

/// One observation's collection verdict: `request` when an approved request covers it,
/// `flag` (the reason) when none does.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionRow {
    pub originator: String,
    pub obs_id: String,
    /// The observation's own marking: a verdict is read only by who may read the sighting.
    pub marking: Marking,
    pub subject: String,
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub request: Option<String>,
    pub flag: Option<String>,
}

/// Rows listed in one answer.
pub const MAX_COLLECTION_ROWS: u32 = 10_000;

impl Store {
    /// Records verdicts in one transaction, keeping any verdict already recorded for an
    /// observation. Returns how many were new.
    pub fn put_collection(&mut self, rows: &[CollectionRow]) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        let mut n = 0u64;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO collection(originator, obs_id, tlp, rel, subject, time_ms, lat, lon, request, flag)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
            )?;
            for r in rows {
                n += st.execute(params![
                    r.originator,
                    r.obs_id,
                    r.marking.tlp.code(),
                    Some(r.marking.releasable_text()).filter(|t| !t.is_empty()),
                    r.subject,
                    r.time_ms,
                    r.lat,
                    r.lon,
                    r.request,
                    r.flag
                ])? as u64;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Verdicts by time then observation, flagged ones only if asked: the first `limit`
    /// (at most [`MAX_COLLECTION_ROWS`]) that `keep` admits, so rows the caller may not see
    /// never take the place of rows it may.
    pub fn collection(
        &self,
        flagged_only: bool,
        limit: u32,
        mut keep: impl FnMut(&CollectionRow) -> bool,
    ) -> Result<Vec<CollectionRow>> {
        let limit = limit.min(MAX_COLLECTION_ROWS) as usize;
        let mut st = self.conn.prepare_cached(
            "SELECT originator, obs_id, tlp, rel, subject, time_ms, lat, lon, request, flag FROM collection
             WHERE (?1 = 0 OR flag IS NOT NULL) ORDER BY time_ms, originator, obs_id",
        )?;
        let mut rows = st.query(params![flagged_only as i64])?;
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(r) = rows.next()? else { break };
            let row = CollectionRow {
                originator: r.get(0)?,
                obs_id: r.get(1)?,
                marking: Marking::from_stored(r.get(2)?, r.get::<_, Option<String>>(3)?.as_deref()),
                subject: r.get(4)?,
                time_ms: r.get(5)?,
                lat: r.get(6)?,
                lon: r.get(7)?,
                request: r.get(8)?,
                flag: r.get(9)?,
            };
            if keep(&row) {
                out.push(row);
            }
        }
        Ok(out)
    }
}
