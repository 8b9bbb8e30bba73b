//! Views: the sets of marking classes that audiences may see, each with its own derived data.
//!
//! A view is identified by a key computed outside this crate (a hash of the policy and of the
//! `(originator, marking)` of every class it holds: content, not row ids, so two databases
//! that hold the same visible data give the same key). Every audience (an organisation, or the
//! operator `*`) is mapped to the view of what it may see; audiences that see the same classes
//! share one view and one computation. Each view keeps its own analysis cursors and learned
//! model; alerts, consignment states and leads are stored under its id.

use crate::{Result, Store};
use rusqlite::{params, OptionalExtension};

/// One stored view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewRow {
    pub vid: i64,
    pub key: String,
    /// The class ids it holds, for a reader that filters records (`1,4,9`).
    pub classes: Vec<i64>,
    pub obs_cursor: i64,
    pub rec_cursor: i64,
    pub analysed_ms: Option<i64>,
}

fn class_list(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|c| c.parse().ok()).collect()
}

const VIEW_SELECT: &str =
    "SELECT vid, key, classes, obs_cursor, rec_cursor, analysed_ms FROM derived_view";

fn view_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ViewRow> {
    Ok(ViewRow {
        vid: r.get(0)?,
        key: r.get(1)?,
        classes: class_list(&r.get::<_, String>(2)?),
        obs_cursor: r.get(3)?,
        rec_cursor: r.get(4)?,
        analysed_ms: r.get(5)?,
    })
}

impl Store {
    /// Every stored view.
    pub fn views(&self) -> Result<Vec<ViewRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{VIEW_SELECT} ORDER BY vid"))?;
        let rows = st.query_map([], view_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn view(&self, vid: i64) -> Result<Option<ViewRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{VIEW_SELECT} WHERE vid = ?1"))?;
        Ok(st.query_row([vid], view_row).optional()?)
    }

    pub fn view_by_key(&self, key: &str) -> Result<Option<ViewRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{VIEW_SELECT} WHERE key = ?1"))?;
        Ok(st.query_row([key], view_row).optional()?)
    }

    /// Creates a view with cursors at zero (nothing analysed yet); returns its id.
    pub fn create_view(&mut self, key: &str, classes: &[i64]) -> Result<i64> {
        let text = classes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        self.conn.execute(
            "INSERT INTO derived_view(key, classes) VALUES (?1, ?2)",
            params![key, text],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Moves a view to a new key and class set, keeping its derived data and cursors: used
    /// when a view only gains classes whose records all arrived after its cursors.
    pub fn rekey_view(&mut self, vid: i64, key: &str, classes: &[i64]) -> Result<()> {
        let text = classes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        self.conn.execute(
            "UPDATE derived_view SET key = ?2, classes = ?3 WHERE vid = ?1",
            params![vid, key, text],
        )?;
        Ok(())
    }

    /// Advances a view's cursors once everything up to them is analysed (inside the caller's
    /// transaction).
    pub fn set_view_cursors(
        &mut self,
        vid: i64,
        obs_cursor: i64,
        rec_cursor: i64,
        analysed_ms: i64,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE derived_view SET obs_cursor = ?2, rec_cursor = ?3, analysed_ms = ?4 WHERE vid = ?1",
            params![vid, obs_cursor, rec_cursor, analysed_ms],
        )?;
        Ok(())
    }

    /// Resets a view so that the next analysis recomputes it whole.
    pub fn reset_view(&mut self, vid: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE derived_view SET obs_cursor = 0, rec_cursor = 0, model = NULL WHERE vid = ?1",
            [vid],
        )?;
        Ok(())
    }

    /// Deletes a view and everything derived under it.
    pub fn delete_view(&mut self, vid: i64) -> Result<()> {
        for sql in [
            "DELETE FROM alert WHERE vid = ?1",
            "DELETE FROM consignment_state WHERE vid = ?1",
            "DELETE FROM lead WHERE vid = ?1",
            "DELETE FROM lead_baseline WHERE vid = ?1",
            "DELETE FROM audience_view WHERE vid = ?1",
            "DELETE FROM derived_view WHERE vid = ?1",
        ] {
            self.conn.execute(sql, [vid])?;
        }
        Ok(())
    }

    /// The view's learned model, as the bytes its owner wrote.
    pub fn view_model(&self, vid: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT model FROM derived_view WHERE vid = ?1",
                [vid],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?
            .flatten())
    }

    pub fn set_view_model(&mut self, vid: i64, model: &[u8]) -> Result<()> {
        self.conn.execute(
            "UPDATE derived_view SET model = ?2 WHERE vid = ?1",
            params![vid, model],
        )?;
        Ok(())
    }

    /// Replaces the audience-to-view map (inside the caller's transaction).
    pub fn set_audience_views(&mut self, map: &[(String, i64)]) -> Result<()> {
        self.conn.execute("DELETE FROM audience_view", [])?;
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO audience_view(audience, vid) VALUES (?1, ?2)")?;
        for (a, v) in map {
            st.execute(params![a, v])?;
        }
        Ok(())
    }

    /// The lowest record and observation sequence numbers of a marking class: when its first
    /// record arrived.
    pub fn class_first_seqs(&self, class: i64) -> Result<(Option<i64>, Option<i64>)> {
        let rec: Option<i64> = self.conn.query_row(
            "SELECT MIN(seq) FROM record WHERE class = ?1",
            [class],
            |r| r.get(0),
        )?;
        let obs: Option<i64> = self.conn.query_row(
            "SELECT MIN(seq) FROM obs_block WHERE class = ?1",
            [class],
            |r| r.get(0),
        )?;
        Ok((rec, obs))
    }

    /// The view an audience was given by the last analysis.
    pub fn audience_view(&self, audience: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT vid FROM audience_view WHERE audience = ?1",
                [audience],
                |r| r.get(0),
            )
            .optional()?)
    }
}
