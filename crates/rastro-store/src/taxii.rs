//! TAXII 2.1 collections' contents: every version of every object a collection holds, in the
//! order it was added. `seq` orders entries and `added_ms` never decreases along it (an insert
//! takes the later of now and the newest entry's time), so a cursor on `seq` pages through
//! objects that share one `date_added` without losing or repeating any. Whose an entry is and
//! its marking are kept beside it: the reader is checked per entry, never by collection.

use crate::{Result, Store};
use rastro_core::Marking;
use rusqlite::{params, OptionalExtension};

/// One object version to add to a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub stix_id: String,
    pub ty: String,
    /// `modified`, `created`, or (for an object with neither) `None`: the date it is added.
    pub version: Option<String>,
    pub version_ms: Option<i64>,
    /// `None` for definitions (TLP:CLEAR, anyone's).
    pub originator: Option<String>,
    pub marking: Marking,
    pub derived: bool,
    pub body: String,
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub seq: i64,
    pub stix_id: String,
    pub ty: String,
    pub version: String,
    pub version_ms: i64,
    pub added_ms: i64,
    pub originator: Option<String>,
    pub marking: Marking,
    pub derived: bool,
    pub body: String,
}

/// Which versions of an object a read returns (TAXII's `match[version]`).
#[derive(Debug, Clone, PartialEq)]
pub enum VersionSel {
    Last,
    First,
    All,
    /// Versions at these times (ms).
    At(Vec<i64>),
}

/// What a page of entries is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryQuery {
    /// Only entries after this `seq` (the `next` cursor).
    pub after_seq: i64,
    /// Only entries added after this time (`added_after`).
    pub added_after_ms: Option<i64>,
    pub ids: Option<Vec<String>>,
    pub types: Option<Vec<String>>,
    pub version: VersionSel,
}

/// Entries one answer holds at most.
pub const MAX_ENTRY_PAGE: usize = 10_000;

/// Rows read per query while filling a page (entries the reader may not see are skipped).
const SCAN_BATCH: i64 = 2_000;

fn entry(r: &rusqlite::Row) -> rusqlite::Result<EntryRow> {
    Ok(EntryRow {
        seq: r.get(0)?,
        stix_id: r.get(1)?,
        ty: r.get(2)?,
        version: r.get(3)?,
        version_ms: r.get(4)?,
        added_ms: r.get(5)?,
        originator: r.get(6)?,
        marking: Marking::from_stored(r.get(7)?, r.get::<_, Option<String>>(8)?.as_deref()),
        derived: r.get::<_, i64>(9)? != 0,
        body: r.get(10)?,
    })
}

/// A time as TAXII dates travel: RFC 3339, UTC, always to the millisecond.
pub fn stamp_ms(ms: i64) -> String {
    let t = rastro_core::format_time_ms(ms);
    match t.strip_suffix('Z') {
        Some(base) if !base.contains('.') => format!("{base}.000Z"),
        _ => t,
    }
}

const COLS: &str =
    "seq, stix_id, type, version, version_ms, added_ms, originator, tlp, rel, derived, body";

impl Store {
    /// Adds the versions a collection does not hold yet, all at one `date_added` (the later of
    /// `now_ms` and the newest entry's), and, when `withdraw` is set, removes the entries of
    /// objects not in `entries` (an object no longer published). One transaction. Returns
    /// (added, withdrawn).
    pub fn put_taxii(
        &mut self,
        collection: &str,
        entries: &[NewEntry],
        withdraw: bool,
        now_ms: i64,
    ) -> Result<(u64, u64)> {
        let tx = self.conn.transaction()?;
        // `added_ms` never decreases along `seq`, so the last entry holds the newest.
        let newest: Option<i64> = tx
            .query_row(
                "SELECT added_ms FROM taxii_entry ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let added_ms = newest.map_or(now_ms, |n| n.max(now_ms));
        let stamp = stamp_ms(added_ms);
        let (mut added, mut withdrawn) = (0u64, 0u64);
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO taxii_entry(collection, stix_id, type, version, version_ms, added_ms,
                    originator, tlp, rel, derived, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING",
            )?;
            // An object without `modified` or `created` (an observable) has its `date_added`
            // as version; it is added once, not again at every publication.
            let mut held = tx.prepare_cached(
                "SELECT 1 FROM taxii_entry WHERE collection = ?1 AND stix_id = ?2 LIMIT 1",
            )?;
            for e in entries {
                if e.version.is_none() && held.exists(params![collection, e.stix_id])? {
                    continue;
                }
                added += st.execute(params![
                    collection,
                    e.stix_id,
                    e.ty,
                    e.version.as_deref().unwrap_or(&stamp),
                    e.version_ms.unwrap_or(added_ms),
                    added_ms,
                    e.originator,
                    e.marking.tlp.code(),
                    Some(e.marking.releasable_text()).filter(|t| !t.is_empty()),
                    e.derived as i64,
                    e.body
                ])? as u64;
            }
        }
        if withdraw {
            tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS taxii_keep(id TEXT PRIMARY KEY)")?;
            tx.execute("DELETE FROM temp.taxii_keep", [])?;
            {
                let mut st =
                    tx.prepare_cached("INSERT OR IGNORE INTO temp.taxii_keep(id) VALUES (?1)")?;
                for e in entries {
                    st.execute([&e.stix_id])?;
                }
            }
            withdrawn = tx.execute(
                "DELETE FROM taxii_entry WHERE collection = ?1
                 AND stix_id NOT IN (SELECT id FROM temp.taxii_keep)",
                [collection],
            )? as u64;
            tx.execute("DELETE FROM temp.taxii_keep", [])?;
        }
        tx.commit()?;
        Ok((added, withdrawn))
    }

    /// The first `limit` (at most [`MAX_ENTRY_PAGE`]) entries of a collection in `seq` order
    /// that match `q` and that `keep` admits, and whether more follow. For `Last` and `First`
    /// an entry is returned when no *admitted* version of its object is newer (older): a
    /// version the reader may not see never hides one it may.
    pub fn taxii_page(
        &self,
        collection: &str,
        q: &EntryQuery,
        limit: usize,
        keep: impl Fn(&EntryRow) -> bool,
    ) -> Result<(Vec<EntryRow>, bool)> {
        let limit = limit.clamp(1, MAX_ENTRY_PAGE);
        let mut out: Vec<EntryRow> = Vec::new();
        let mut after = q.after_seq;
        let mut scan = self.conn.prepare_cached(&format!(
            "SELECT {COLS} FROM taxii_entry WHERE collection = ?1 AND seq > ?2 AND added_ms > ?3
             ORDER BY seq LIMIT ?4"
        ))?;
        let mut siblings = self.conn.prepare_cached(&format!(
            "SELECT {COLS} FROM taxii_entry WHERE collection = ?1 AND stix_id = ?2 AND seq != ?3"
        ))?;
        let added_after = q.added_after_ms.unwrap_or(i64::MIN);
        loop {
            let batch: Vec<EntryRow> = scan
                .query_map(params![collection, after, added_after, SCAN_BATCH], entry)?
                .collect::<rusqlite::Result<_>>()?;
            let Some(last) = batch.last() else {
                return Ok((out, false));
            };
            after = last.seq;
            let full = batch.len() as i64 == SCAN_BATCH;
            for e in batch {
                if q.ids.as_ref().is_some_and(|ids| !ids.contains(&e.stix_id))
                    || q.types.as_ref().is_some_and(|ts| !ts.contains(&e.ty))
                    || !keep(&e)
                {
                    continue;
                }
                let wanted = match &q.version {
                    VersionSel::All => true,
                    VersionSel::At(ts) => ts.contains(&e.version_ms),
                    sel => {
                        let mut best = true;
                        let others = siblings
                            .query_map(params![collection, e.stix_id, e.seq], entry)?
                            .collect::<rusqlite::Result<Vec<_>>>()?;
                        for o in others {
                            let beats = match sel {
                                VersionSel::Last => (o.version_ms, o.seq) > (e.version_ms, e.seq),
                                _ => (o.version_ms, o.seq) < (e.version_ms, e.seq),
                            };
                            if beats && keep(&o) {
                                best = false;
                                break;
                            }
                        }
                        best
                    }
                };
                if !wanted {
                    continue;
                }
                if out.len() == limit {
                    return Ok((out, true));
                }
                out.push(e);
            }
            if !full {
                return Ok((out, false));
            }
        }
    }

    /// One version in a collection (a page cursor names it).
    pub fn taxii_entry(
        &self,
        collection: &str,
        stix_id: &str,
        version: &str,
    ) -> Result<Option<EntryRow>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLS} FROM taxii_entry WHERE collection = ?1 AND stix_id = ?2 AND version = ?3"
                ),
                [collection, stix_id, version],
                entry,
            )
            .optional()?)
    }

    /// Removes every version of an object from a collection; returns how many.
    pub fn delete_taxii(&mut self, collection: &str, stix_id: &str) -> Result<u64> {
        Ok(self.conn.execute(
            "DELETE FROM taxii_entry WHERE collection = ?1 AND stix_id = ?2",
            [collection, stix_id],
        )? as u64)
    }

    /// Keeps the status resource of one POST.
    pub fn put_taxii_status(
        &mut self,
        id: &str,
        collection: &str,
        org: &str,
        requested_ms: i64,
        body: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO taxii_status(id, collection, org, requested_ms, body)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, collection, org, requested_ms, body],
        )?;
        Ok(())
    }

    /// A status resource: (organisation that posted, body).
    pub fn taxii_status(&self, id: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT org, body FROM taxii_status WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Where a pull from (url, collection) has got to: the `added_after` to resume from and
    /// how many objects it has brought.
    pub fn federation_cursor(&self, url: &str, collection: &str) -> Result<Option<(String, i64)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT added_after, pulled FROM federation_cursor WHERE url = ?1 AND collection = ?2",
                [url, collection],
                |r| Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get(1)?)),
            )
            .optional()?)
    }

    pub fn set_federation_cursor(
        &mut self,
        url: &str,
        collection: &str,
        added_after: &str,
        pulled: i64,
        now_ms: i64,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO federation_cursor(url, collection, added_after, pulled, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (url, collection) DO UPDATE SET added_after = ?3, pulled = ?4, updated_ms = ?5",
            params![url, collection, added_after, pulled, now_ms],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rastro_core::Tlp;

    fn new_entry(i: usize, version_ms: i64, red: bool) -> NewEntry {
        NewEntry {
            stix_id: format!("indicator--{i}"),
            ty: "indicator".into(),
            version: Some(stamp_ms(version_ms)),
            version_ms: Some(version_ms),
            originator: Some(if red { "A" } else { "B" }.into()),
            marking: Marking::new(if red { Tlp::Red } else { Tlp::Clear }),
            derived: false,
            body: format!("{{\"id\":{i},\"v\":{version_ms}}}"),
        }
    }

    proptest! {
        /// However a collection was filled (batches sharing one `date_added`, several versions
        /// of one object, entries the reader may not read) and whatever the page size, paging
        /// with `next` gives each readable newest version exactly once, in the order added,
        /// and a version the reader may not read never hides an older one it may.
        #[test]
        fn pages_give_each_readable_version_once(
            batches in proptest::collection::vec(
                proptest::collection::vec((0usize..30, 0i64..3, any::<bool>()), 1..40), 1..5),
            limit in 1usize..50,
        ) {
            let mut s = Store::open_in_memory().unwrap();
            for (k, b) in batches.iter().enumerate() {
                let es: Vec<NewEntry> = b.iter().map(|(i, v, red)| new_entry(*i, *v, *red)).collect();
                s.put_taxii("c", &es, false, 1_000 + k as i64).unwrap();
            }
            let keep = |e: &EntryRow| e.originator.as_deref() == Some("B");
            let all = s
                .taxii_page("c", &EntryQuery { after_seq: 0, added_after_ms: None, ids: None, types: None, version: VersionSel::All }, MAX_ENTRY_PAGE, keep)
                .unwrap()
                .0;
            // The oracle: per object, the newest readable version (ties: the later added).
            let mut best: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
            for e in &all {
                let b = best.entry(e.stix_id.clone()).or_insert((e.version_ms, e.seq));
                if (e.version_ms, e.seq) > *b {
                    *b = (e.version_ms, e.seq);
                }
            }
            let mut want: Vec<i64> = best.values().map(|(_, seq)| *seq).collect();
            want.sort();
            let mut got: Vec<i64> = Vec::new();
            let mut q = EntryQuery { after_seq: 0, added_after_ms: None, ids: None, types: None, version: VersionSel::Last };
            loop {
                let (page, more) = s.taxii_page("c", &q, limit, keep).unwrap();
                prop_assert!(page.len() <= limit);
                prop_assert!(page.iter().all(keep));
                got.extend(page.iter().map(|e| e.seq));
                match page.last() {
                    Some(l) if more => q.after_seq = l.seq,
                    _ => break,
                }
            }
            prop_assert_eq!(got, want);
            // `date_added` never decreases along the order entries are given.
            prop_assert!(all.windows(2).all(|w| w[0].added_ms <= w[1].added_ms));
        }
    }
}
