//! Observations stored in blocks: one row per run of up to [`BLOCK_ROWS`] fixes of one subject
//! under one originator and marking, with a key table for idempotency and a sparse H3 index.
//!
//! Observations are the bulk of the data (millions per scenario). Stored one row per fix with
//! a unique-id index, a subject/time index and a cell index, every fix cost four B-tree inserts
//! and the writer could not pass about 75,000 fixes a second. Stored in blocks, a fix costs one
//! insert (its key, which idempotency needs) and its share of a block row; the subject/time and
//! cell indexes are kept per block, which is what their readers need: a track is read whole, a
//! cell is read by scanning the few blocks that touched it.
//!
//! Layout (schema migration 11):
//! - `obs_run(id_min, id_max, seq_lo, seq_hi)`: one batch whose ids are unique and whose range
//!   `[id_min, id_max]` held no stored id, stored with no per-id index insert at all: its
//!   observations are exactly `seq_lo..seq_hi`, and to look an id up, those blocks are
//!   decoded (once per batch that needs it). Runs never overlap, so the one run that can hold
//!   an id is the last one starting at or before it.
//! - `obs_key(id, hash, src, line)`: ids of batches that could not be a run (their range
//!   overlaps stored ids, or they repeat an id), one row each. An id is stored once, in a run
//!   or here; a duplicate or conflict is decided from these two without reading any block.
//! - `obs_block(seq, n, src, originator, tlp, rel, subject_kind, subject, t_min, t_max, data)`:
//!   observation `seq + i` is the block's `i`-th row; rows are in time order; `data` is the
//!   encoding below. Index on `(subject, t_min)`.
//! - `obs_zone(seq, t_min, t_max, lat_min, lat_max, lon_min, lon_max, cells)`: each block's
//!   zone map, in a narrow table of its own so that a scan of it reads megabytes, not the
//!   blocks: time range, bounding box, and a sorted list of H3 cells (u64, little-endian) at
//!   [`CELL_RESOLUTION`] such that every fix of the block lies in one of them or in a
//!   neighbour of one.
//!   Each fix comes with such a cell (see
//!   `rastro_core::grid::Anchor`, which finds it without an H3 lookup per fix). A query by
//!   cell scans the zone map, decodes the blocks whose time range, box and cell list meet the
//!   query's, and tests each fix exactly.
//!   A B-tree keyed by cell was tried first: its random inserts rewrote hundreds of pages per
//!   commit and wrote three times the data to the write-ahead log.
//!
//! Keys are namespaced by originator (schema 12): the key of an observation is its
//! originator, the byte 0x1F, and its id ([`key_of`]), so the same id from two originators
//! names two observations and a partner's id never collides with another agency's.
//!
//! Block encoding (`data`): a format byte ([`FORMAT`]), then per row, each field against the
//! row before (the first against zeros and an empty id): a flag byte (1: has an accuracy,
//! 2: the same accuracy, 4: the same confidence); the id as the length of the prefix it shares
//! with the previous id and the rest (LEB128 length, bytes); the line and the time in ms as
//! zigzag LEB128 differences; the source code (u8); lat and lon (f64, little-endian); the
//! accuracy unless absent or the same; the confidence unless the same. Tracks are written in
//! order, so a fix takes about 30 bytes instead of 70: bulk ingest writes every byte twice
//! (write-ahead log, then database), so bytes are time.

use crate::{Prepared, Result, StoreError};
use rastro_core::{grid, Marking, Observation, ObservationSource, SubjectKind, Tlp};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeSet, HashMap};

/// Most rows in one block: bounds what a reader decodes to find one fix, and the time span a
/// block's `t_min`/`t_max` covers.
pub const BLOCK_ROWS: usize = 1024;

/// Resolution of the sparse cell index. Resolution 5 cells (about 250 km²) give a block a few
/// dozen entries for a day's drive; a query at a finer resolution reads the blocks of its
/// resolution-5 ancestor and keeps the fixes in its own cell.
pub const CELL_RESOLUTION: u8 = 5;

/// Version of the block encoding, the first byte of every block. Format 2 adds telematics
/// (flag 8: a mask byte, then speed, heading, ignition and power as the mask says); format 1
/// blocks are still read.
pub const FORMAT: u8 = 2;
const FORMAT_V1: u8 = 1;

/// The key of an observation: its originator and id joined by 0x1F (ids and originators
/// cannot hold control characters, so the join is unambiguous).
pub fn key_of(originator: &str, id: &str) -> String {
    let mut k = String::with_capacity(originator.len() + 1 + id.len());
    k.push_str(originator);
    k.push('\u{1f}');
    k.push_str(id);
    k
}

/// Coarsest resolution a query by cell accepts: a cell coarser than the index resolution
/// expands into `7^(CELL_RESOLUTION - res)` index cells, and resolution 2 would be 343.
pub const MIN_QUERY_RESOLUTION: u8 = 3;

/// One new observation bound for a block.
pub(crate) struct NewObs<'a> {
    pub src: i64,
    /// Marking class of the observation (`mclass.id`); `None` only in migration 11, before
    /// classes existed.
    pub class: Option<i64>,
    pub line: u64,
    pub obs: &'a Observation,
    /// A cell at [`CELL_RESOLUTION`] whose disk of radius 1 holds it, found by the caller
    /// (off the writer thread).
    pub cell: Option<u64>,
}

type GroupKey<'a> = (i64, u8, &'a str, &'a str, u8, &'a BTreeSet<String>);

/// The next free observation sequence number.
pub(crate) fn next_seq(conn: &Connection) -> Result<i64> {
    let mut st = conn.prepare_cached("SELECT seq + n FROM obs_block ORDER BY seq DESC LIMIT 1")?;
    let mut rows = st.query([])?;
    Ok(match rows.next()? {
        Some(r) => r.get(0)?,
        None => 1,
    })
}

fn rel_text(m: &Marking) -> Option<String> {
    (!m.releasable_to.is_empty()).then(|| m.releasable_text())
}

/// Groups `rows` (already keyed: none is a duplicate) into blocks and writes them, with their
/// cells, inside the caller's transaction. Blocks are written in order of each group's first
/// row, each group's rows in time order, so the same input always gives the same blocks.
pub(crate) fn write_blocks(conn: &Connection, rows: &[NewObs<'_>]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut index: HashMap<GroupKey<'_>, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let o = r.obs;
        let key = (
            r.src,
            o.subject_kind.code(),
            o.subject.as_str(),
            o.originator.as_str(),
            o.marking.tlp.code(),
            &o.marking.releasable_to,
        );
        let g = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    let mut seq = next_seq(conn)?;
    // Migration 11 writes blocks before the class column exists (schema 12 adds it).
    let with_class = rows.iter().any(|r| r.class.is_some());
    let mut ins_block = conn.prepare_cached(if with_class {
        "INSERT INTO obs_block(seq, n, src, originator, tlp, rel, subject_kind, subject, t_min, t_max, data, class)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    } else {
        "INSERT INTO obs_block(seq, n, src, originator, tlp, rel, subject_kind, subject, t_min, t_max, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    })?;
    let mut ins_zone = conn.prepare_cached(
        "INSERT INTO obs_zone(seq, t_min, t_max, lat_min, lat_max, lon_min, lon_max, cells)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut cell_blob = Vec::with_capacity(64 * 8);
    let mut data = Vec::with_capacity(BLOCK_ROWS * 72);
    let mut cells = Vec::with_capacity(64);
    for mut g in groups {
        g.sort_by_key(|&i| (rows[i].obs.time_ms, rows[i].line));
        for chunk in g.chunks(BLOCK_ROWS) {
            let first = rows[chunk[0]].obs;
            data.clear();
            data.push(FORMAT);
            cells.clear();
            let mut prev = Prev::default();
            let mut bbox = (
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
            );
            for &i in chunk {
                let o = rows[i].obs;
                encode_row(&mut data, &mut prev, rows[i].line, o);
                cells.extend(rows[i].cell);
                bbox = (
                    bbox.0.min(o.lat),
                    bbox.1.max(o.lat),
                    bbox.2.min(o.lon),
                    bbox.3.max(o.lon),
                );
            }
            let (t_min, t_max) = (first.time_ms, rows[chunk[chunk.len() - 1]].obs.time_ms);
            cells.sort_unstable();
            cells.dedup();
            cell_blob.clear();
            for c in &cells {
                cell_blob.extend_from_slice(&c.to_le_bytes());
            }
            let head = params![
                seq,
                chunk.len() as i64,
                rows[chunk[0]].src,
                first.originator,
                first.marking.tlp.code(),
                rel_text(&first.marking),
                first.subject_kind.code(),
                first.subject,
                t_min,
                t_max,
                data,
            ];
            match rows[chunk[0]].class {
                Some(class) => {
                    let mut all: Vec<&dyn rusqlite::ToSql> = head.to_vec();
                    all.push(&class);
                    ins_block.execute(all.as_slice())?
                }
                None => ins_block.execute(head)?,
            };
            ins_zone.execute(params![
                seq, t_min, t_max, bbox.0, bbox.1, bbox.2, bbox.3, cell_blob
            ])?;
            seq += chunk.len() as i64;
        }
    }
    Ok(())
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// What the next row is encoded against.
#[derive(Default)]
struct Prev {
    id: Vec<u8>,
    line: u64,
    time_ms: i64,
    accuracy_m: Option<f64>,
    confidence: f64,
}

const HAS_ACCURACY: u8 = 1;
const SAME_ACCURACY: u8 = 2;
const SAME_CONFIDENCE: u8 = 4;
const HAS_TELEMATICS: u8 = 8;
const T_SPEED: u8 = 1;
const T_HEADING: u8 = 2;
const T_IGNITION: u8 = 4;
const T_IGNITION_ON: u8 = 8;
const T_POWER: u8 = 16;

fn encode_row(out: &mut Vec<u8>, prev: &mut Prev, line: u64, o: &Observation) {
    let same_acc = o.accuracy_m.map(f64::to_bits) == prev.accuracy_m.map(f64::to_bits);
    let same_conf = o.confidence.to_bits() == prev.confidence.to_bits();
    let mut flags = 0u8;
    if o.accuracy_m.is_some() {
        flags |= HAS_ACCURACY;
        if same_acc {
            flags |= SAME_ACCURACY;
        }
    }
    if same_conf {
        flags |= SAME_CONFIDENCE;
    }
    if o.has_telematics() {
        flags |= HAS_TELEMATICS;
    }
    out.push(flags);
    let id = o.id.as_bytes();
    let shared = id.iter().zip(&prev.id).take_while(|(a, b)| a == b).count();
    put_uvarint(out, shared as u64);
    put_uvarint(out, (id.len() - shared) as u64);
    out.extend_from_slice(&id[shared..]);
    put_uvarint(out, zigzag(line.wrapping_sub(prev.line) as i64));
    put_uvarint(out, zigzag(o.time_ms.wrapping_sub(prev.time_ms)));
    out.push(o.source.code());
    out.extend_from_slice(&o.lat.to_bits().to_le_bytes());
    out.extend_from_slice(&o.lon.to_bits().to_le_bytes());
    if let (Some(a), false) = (o.accuracy_m, same_acc) {
        out.extend_from_slice(&a.to_bits().to_le_bytes());
    }
    if !same_conf {
        out.extend_from_slice(&o.confidence.to_bits().to_le_bytes());
    }
    if o.has_telematics() {
        let mut mask = 0u8;
        if o.speed_kmh.is_some() {
            mask |= T_SPEED;
        }
        if o.heading_deg.is_some() {
            mask |= T_HEADING;
        }
        match o.ignition {
            Some(true) => mask |= T_IGNITION | T_IGNITION_ON,
            Some(false) => mask |= T_IGNITION,
            None => {}
        }
        if o.power.is_some() {
            mask |= T_POWER;
        }
        out.push(mask);
        // Full f64: keys of a run are checked by re-hashing decoded rows, so every field
        // must come back bit for bit.
        for v in [o.speed_kmh, o.heading_deg].into_iter().flatten() {
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        if let Some(p) = o.power {
            out.push(p.code());
        }
    }
    prev.id.clear();
    prev.id.extend_from_slice(id);
    prev.line = line;
    prev.time_ms = o.time_ms;
    prev.accuracy_m = o.accuracy_m;
    prev.confidence = o.confidence;
}

/// A stored block's header, as read with its data.
pub(crate) struct Block {
    pub seq: i64,
    pub n: i64,
    pub class: i64,
    pub originator: String,
    pub tlp: u8,
    pub rel: Option<String>,
    pub subject_kind: u8,
    pub subject: String,
    pub data: Vec<u8>,
}

/// Columns of [`Block`] in the order [`block_row`] reads them.
pub(crate) const BLOCK_COLS: &str =
    "seq, n, originator, tlp, rel, subject_kind, subject, data, class";

pub(crate) fn block_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Block> {
    Ok(Block {
        seq: r.get(0)?,
        n: r.get(1)?,
        originator: r.get(2)?,
        tlp: r.get(3)?,
        rel: r.get(4)?,
        subject_kind: r.get(5)?,
        subject: r.get(6)?,
        data: r.get(7)?,
        class: r.get(8)?,
    })
}

/// A decoded row: sequence number, line in its source, observation.
pub(crate) type Decoded = (i64, u64, Observation);

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.b.get(self.at..self.at + N)?;
        self.at += N;
        s.try_into().ok()
    }
    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take::<8>().map(u64::from_le_bytes)
    }
    fn f64(&mut self) -> Option<f64> {
        self.u64().map(f64::from_bits)
    }

    fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.b.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
}

impl Block {
    fn corrupt(&self, what: &str) -> StoreError {
        StoreError::Decode {
            kind: "observation block".into(),
            id: self.seq.to_string(),
            err: format!("{what}; the block is damaged, restore the database from a backup"),
        }
    }

    /// Decodes every row. Codes were written by this crate from the same enums; an unknown
    /// code can only come from damage or a foreign writer, and is refused rather than guessed.
    pub fn decode(&self) -> Result<Vec<Decoded>> {
        self.decode_where(|_, _, _| true)
    }

    /// Decodes the rows for which `keep(time_ms, lat, lon)` holds; the others cost no
    /// allocation, which matters to queries that read many blocks for few fixes.
    pub fn decode_where(
        &self,
        mut keep: impl FnMut(i64, f64, f64) -> bool,
    ) -> Result<Vec<Decoded>> {
        let (originator, marking) = self.origin()?;
        let subject_kind = SubjectKind::from_code(self.subject_kind)
            .ok_or_else(|| self.corrupt("unknown subject kind"))?;
        let mut out = Vec::with_capacity(usize::try_from(self.n).unwrap_or(0).min(BLOCK_ROWS));
        self.for_each_row(|i, r| {
            if !keep(r.time_ms, r.lat, r.lon) {
                return Some(());
            }
            let id = String::from_utf8(r.id.to_vec()).ok()?;
            out.push((
                self.seq + i as i64,
                r.line,
                Observation {
                    id,
                    originator: originator.clone(),
                    marking: marking.clone(),
                    source: r.source,
                    subject_kind,
                    subject: self.subject.clone(),
                    time_ms: r.time_ms,
                    lat: r.lat,
                    lon: r.lon,
                    accuracy_m: r.accuracy_m,
                    confidence: r.confidence,
                    speed_kmh: r.speed_kmh,
                    heading_deg: r.heading_deg,
                    ignition: r.ignition,
                    power: r.power,
                    // Provenance lives in the collection table, not in the blocks.
                    request: None,
                },
            ));
            Some(())
        })?;
        Ok(out)
    }

    /// The rows for which `keep(time_ms)` holds, as track fixes: an id (one allocation) and
    /// the fields a track needs; the originator and marking are the block's, shared.
    pub fn track_where(
        &self,
        origin: &std::sync::Arc<(String, Marking)>,
        mut keep: impl FnMut(i64) -> bool,
        out: &mut Vec<crate::TrackObs>,
    ) -> Result<()> {
        self.for_each_row(|i, r| {
            if !keep(r.time_ms) {
                return Some(());
            }
            out.push(crate::TrackObs {
                seq: self.seq + i as i64,
                class: self.class,
                id: std::str::from_utf8(r.id).ok()?.into(),
                origin: origin.clone(),
                t_ms: r.time_ms,
                lat: r.lat,
                lon: r.lon,
                source: r.source,
                accuracy_m: r.accuracy_m,
            });
            Some(())
        })
    }

    /// The block's originator and marking, as every row of it carries them.
    pub fn origin(&self) -> Result<(String, Marking)> {
        Ok((
            self.originator.clone(),
            Marking {
                tlp: Tlp::from_code(self.tlp).ok_or_else(|| self.corrupt("unknown TLP code"))?,
                releasable_to: self
                    .rel
                    .as_deref()
                    .map(Marking::parse_releasable)
                    .unwrap_or_default(),
            },
        ))
    }

    /// The block's fixes as positions only (`seq`, time, source, lat, lon): what learning a
    /// fleet's roads and stops needs, without building a record per fix.
    pub fn points(&self) -> Result<Vec<Point>> {
        let mut out = Vec::with_capacity(usize::try_from(self.n).unwrap_or(0).min(BLOCK_ROWS));
        self.for_each_row(|i, r| {
            out.push((self.seq + i as i64, r.time_ms, r.source, r.lat, r.lon));
            Some(())
        })?;
        Ok(out)
    }

    /// Parses every row in order and hands it to `f` (which returns `None` for a row it
    /// finds corrupt). One parser serves every reader of blocks.
    fn for_each_row(&self, mut f: impl FnMut(usize, Row<'_>) -> Option<()>) -> Result<()> {
        let mut c = Cursor {
            b: &self.data,
            at: 0,
        };
        let format = c.take::<1>().map(|b| b[0]);
        if format != Some(FORMAT) && format != Some(FORMAT_V1) {
            return Err(self.corrupt("unknown block format"));
        }
        let known_flags = if format == Some(FORMAT) {
            HAS_ACCURACY | SAME_ACCURACY | SAME_CONFIDENCE | HAS_TELEMATICS
        } else {
            HAS_ACCURACY | SAME_ACCURACY | SAME_CONFIDENCE
        };
        let n = usize::try_from(self.n).map_err(|_| self.corrupt("negative row count"))?;
        let mut prev = Prev::default();
        for i in 0..n {
            let ok = (|| {
                let flags = c.take::<1>()?[0];
                if flags & !known_flags != 0 {
                    return None;
                }
                let shared = usize::try_from(c.uvarint()?).ok()?;
                let rest = usize::try_from(c.uvarint()?).ok()?;
                if shared > prev.id.len() {
                    return None;
                }
                prev.id.truncate(shared);
                prev.id.extend_from_slice(c.bytes(rest)?);
                let line = prev.line.wrapping_add(unzigzag(c.uvarint()?) as u64);
                let time_ms = prev.time_ms.wrapping_add(unzigzag(c.uvarint()?));
                let source = ObservationSource::from_code(c.take::<1>()?[0])?;
                let lat = c.f64()?;
                let lon = c.f64()?;
                let accuracy_m = match (flags & HAS_ACCURACY != 0, flags & SAME_ACCURACY != 0) {
                    (false, _) => None,
                    (true, true) => Some(prev.accuracy_m?),
                    (true, false) => Some(c.f64()?),
                };
                let confidence = if flags & SAME_CONFIDENCE != 0 {
                    prev.confidence
                } else {
                    c.f64()?
                };
                let (mut speed_kmh, mut heading_deg, mut ignition, mut power) =
                    (None, None, None, None);
                if flags & HAS_TELEMATICS != 0 {
                    let mask = c.take::<1>()?[0];
                    if mask & !(T_SPEED | T_HEADING | T_IGNITION | T_IGNITION_ON | T_POWER) != 0 {
                        return None;
                    }
                    if mask & T_SPEED != 0 {
                        speed_kmh = Some(c.f64()?);
                    }
                    if mask & T_HEADING != 0 {
                        heading_deg = Some(c.f64()?);
                    }
                    if mask & T_IGNITION != 0 {
                        ignition = Some(mask & T_IGNITION_ON != 0);
                    }
                    if mask & T_POWER != 0 {
                        power = Some(rastro_core::PowerState::from_code(c.take::<1>()?[0])?);
                    }
                }
                prev.line = line;
                prev.time_ms = time_ms;
                prev.accuracy_m = accuracy_m;
                prev.confidence = confidence;
                f(
                    i,
                    Row {
                        id: &prev.id,
                        line,
                        time_ms,
                        source,
                        lat,
                        lon,
                        accuracy_m,
                        confidence,
                        speed_kmh,
                        heading_deg,
                        ignition,
                        power,
                    },
                )
            })();
            ok.ok_or_else(|| self.corrupt(&format!("row {i} is truncated")))?;
        }
        if c.at != self.data.len() {
            return Err(self.corrupt("bytes after the last row"));
        }
        Ok(())
    }
}

/// A fix as a position: `(seq, time_ms, source, lat, lon)`.
pub type Point = (i64, i64, ObservationSource, f64, f64);

/// One parsed row of a block, borrowing the id from the parser.
struct Row<'a> {
    id: &'a [u8],
    line: u64,
    time_ms: i64,
    source: ObservationSource,
    lat: f64,
    lon: f64,
    accuracy_m: Option<f64>,
    confidence: f64,
    speed_kmh: Option<f64>,
    heading_deg: Option<f64>,
    ignition: Option<bool>,
    power: Option<rastro_core::PowerState>,
}

/// Runs `sql` (selecting [`BLOCK_COLS`]) and decodes every block it returns.
/// Blocks of a class `visible` refuses are skipped before decoding.
pub(crate) fn decode_query(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    visible: &dyn Fn(i64) -> bool,
    mut keep: impl FnMut(i64, f64, f64) -> bool,
) -> Result<Vec<(i64, i64, Observation)>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(p)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let b = block_row(r)?;
        if !visible(b.class) {
            continue;
        }
        out.extend(
            b.decode_where(&mut keep)?
                .into_iter()
                .map(|(seq, _, o)| (seq, b.class, o)),
        );
    }
    Ok(out)
}

/// Index cells a block must list to possibly hold a fix inside `cell`: the cells at
/// [`CELL_RESOLUTION`] that cover it (its ancestor, or its descendants when it is coarser)
/// and their neighbours, sorted. `None` when the cell is invalid or coarser than
/// [`MIN_QUERY_RESOLUTION`].
pub(crate) fn index_cells(cell: u64) -> Option<Vec<u64>> {
    let res = grid::resolution(cell)?;
    let covering = if res >= CELL_RESOLUTION {
        vec![grid::parent(cell, CELL_RESOLUTION)?]
    } else if res >= MIN_QUERY_RESOLUTION {
        grid::children(cell, CELL_RESOLUTION)
    } else {
        return None;
    };
    let mut out: Vec<u64> = covering
        .into_iter()
        .flat_map(|c| grid::disk(c, 1))
        .collect();
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// Whether a block's cell list (see the module documentation) meets `wanted` (sorted).
pub(crate) fn cells_meet(blob: &[u8], wanted: &[u64]) -> bool {
    blob.chunks_exact(8).any(|c| {
        let cell = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        wanted.binary_search(&cell).is_ok()
    })
}

/// Moves observations from the version-1 table (one row per fix) into blocks, in batches so
/// that memory stays bounded whatever the table's size. Part of migration 11.
pub(crate) fn migrate_rows(conn: &Connection) -> Result<()> {
    const BATCH: i64 = 65_536;
    let mut after = 0i64;
    loop {
        let mut st = conn.prepare(
            "SELECT seq, id, hash, src, line, originator, tlp, rel, source, subject_kind, subject, t_ms, lat, lon, accuracy_m, confidence
             FROM observation WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let mut batch: Vec<(i64, u64, u64, Observation)> = Vec::new();
        let mut rows = st.query(params![after, BATCH])?;
        while let Some(r) = rows.next()? {
            after = r.get(0)?;
            let rel: Option<String> = r.get(7)?;
            // Old rows were written by this crate; unknown codes fall to the most restrictive
            // marking and the first source, as the version-1 reader did.
            let o = Observation {
                id: r.get(1)?,
                originator: r.get(5)?,
                marking: Marking::from_stored(r.get(6)?, rel.as_deref()),
                source: ObservationSource::from_code(r.get(8)?).unwrap_or(ObservationSource::Gps),
                subject_kind: SubjectKind::from_code(r.get(9)?).unwrap_or(SubjectKind::Vehicle),
                subject: r.get(10)?,
                time_ms: r.get(11)?,
                lat: r.get(12)?,
                lon: r.get(13)?,
                accuracy_m: r.get(14)?,
                confidence: r.get(15)?,
                speed_kmh: None,
                heading_deg: None,
                ignition: None,
                power: None,
                request: None,
            };
            batch.push((
                r.get(3)?,
                r.get::<_, i64>(4)? as u64,
                r.get::<_, i64>(2)? as u64,
                o,
            ));
        }
        if batch.is_empty() {
            return Ok(());
        }
        let mut ins_key = conn
            .prepare_cached("INSERT INTO obs_key(id, hash, src, line) VALUES (?1, ?2, ?3, ?4)")?;
        for (src, line, hash, o) in &batch {
            ins_key.execute(params![o.id, *hash as i64, src, *line as i64])?;
        }
        let new: Vec<NewObs<'_>> = batch
            .iter()
            .map(|(src, line, _, o)| NewObs {
                src: *src,
                class: None,
                line: *line,
                obs: o,
                cell: grid::cell(o.lat, o.lon, CELL_RESOLUTION),
            })
            .collect();
        write_blocks(conn, &new)?;
    }
}

/// What storing one observation's key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    New,
    Duplicate,
    /// Already stored with other content. Where it came from is not said: the answer to a
    /// submitter must not describe another submission.
    Conflict,
}

/// The decoded keys of one run, kept while a batch looks keys up in it.
struct Run {
    id_min: String,
    id_max: String,
    /// (key, hash), sorted by key.
    keys: Vec<(String, u64)>,
}

/// The keys of observations `lo..hi`, decoded from their blocks, sorted.
fn run_keys(conn: &Connection, lo: i64, hi: i64) -> Result<Vec<(String, u64)>> {
    let mut keys = Vec::new();
    for_each_key(conn, lo, hi, |key, hash, _, _, _| keys.push((key, hash)))?;
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(keys)
}

/// Calls `f(key, content hash, source id, source name, line)` for every observation
/// `lo..hi`, block by block, holding one block at a time.
pub(crate) fn for_each_key(
    conn: &Connection,
    lo: i64,
    hi: i64,
    mut f: impl FnMut(String, u64, i64, &str, u64),
) -> Result<()> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {BLOCK_COLS}, src, (SELECT name FROM source WHERE id = src) FROM obs_block WHERE seq >= ?1 AND seq < ?2"
    ))?;
    let mut rows = st.query(params![lo, hi])?;
    while let Some(r) = rows.next()? {
        let src: i64 = r.get(9)?;
        let source: String = r.get(10)?;
        for (_, line, o) in block_row(r)?.decode()? {
            let hash = o.content_hash();
            f(key_of(&o.originator, &o.id), hash, src, &source, line);
        }
    }
    Ok(())
}

/// Rebuilds every observation key from the blocks, namespaced by originator (migration 12):
/// one key row per observation.
pub(crate) fn rekey_all(conn: &Connection) -> Result<()> {
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO obs_key(id, hash, src, line) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for_each_key(conn, i64::MIN, i64::MAX, |key, hash, src, _, line| {
        // A failed insert here would leave an observation without a key; it is reported by
        // the transaction failing below (the statement's error is kept).
        let _ = ins.execute(params![key, hash as i64, src, line as i64]);
    })?;
    Ok(())
}

/// Whether no stored id lies in `[min, max]`: no key row inside it and no run overlapping it.
fn range_is_free(conn: &Connection, min: &str, max: &str) -> Result<bool> {
    let mut keys =
        conn.prepare_cached("SELECT 1 FROM obs_key WHERE id >= ?1 AND id <= ?2 LIMIT 1")?;
    if keys.exists(params![min, max])? {
        return Ok(false);
    }
    // Runs are disjoint, so only the last one starting at or before `max` can reach `min`.
    let mut runs = conn.prepare_cached(
        "SELECT id_max FROM obs_run WHERE id_min <= ?1 ORDER BY id_min DESC LIMIT 1",
    )?;
    let mut rows = runs.query([max])?;
    Ok(match rows.next()? {
        Some(r) => r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)? < min,
        None => true,
    })
}

/// The stored content hash of `id` (a key, see [`key_of`]), looking in the key table and
/// then in the one run that can hold it (kept in `cache` for the next keys, which are in
/// sorted order).
fn lookup(conn: &Connection, id: &str, cache: &mut Option<Run>) -> Result<Option<u64>> {
    let mut key = conn.prepare_cached("SELECT hash FROM obs_key WHERE id = ?1")?;
    let mut rows = key.query([id])?;
    if let Some(r) = rows.next()? {
        return Ok(Some(r.get::<_, i64>(0)? as u64));
    }
    let covers = |run: &Run| run.id_min.as_str() <= id && id <= run.id_max.as_str();
    if !cache.as_ref().is_some_and(covers) {
        let mut st = conn.prepare_cached(
            "SELECT id_min, id_max, seq_lo, seq_hi FROM obs_run WHERE id_min <= ?1 ORDER BY id_min DESC LIMIT 1",
        )?;
        let found: Option<(String, String, i64, i64)> = st
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        *cache = match found {
            Some((id_min, id_max, lo, hi)) if id <= id_max.as_str() => Some(Run {
                keys: run_keys(conn, lo, hi)?,
                id_min,
                id_max,
            }),
            _ => None,
        };
    }
    Ok(cache.as_ref().filter(|run| covers(run)).and_then(|run| {
        let at = run
            .keys
            .binary_search_by(|(k, _)| k.as_str().cmp(id))
            .ok()?;
        Some(run.keys[at].1)
    }))
}

/// Decides for each observation (all from source `src`) whether it is new, a duplicate or a
/// conflict, and stores the keys of the new ones: as one run when the batch allows it (see
/// the module documentation), else one key row each. Calls `after_row` once per observation.
/// Outcomes are in the order of `items`.
pub(crate) fn key_batch(
    conn: &Connection,
    src: i64,
    items: &[&Prepared],
    after_row: &mut dyn FnMut(),
) -> Result<Vec<Outcome>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = items
        .iter()
        .map(|p| key_of(p.record.originator(), p.record.id()))
        .collect();
    let id = |i: usize| keys[i].as_str();
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Files are usually written in id order; sorting is then a check. The sort is stable, so
    // of two rows with one id the earlier line is looked at first and wins.
    if !order.windows(2).all(|w| id(w[0]) <= id(w[1])) {
        order.sort_by(|&a, &b| id(a).cmp(id(b)));
    }
    let repeats = order.windows(2).any(|w| id(w[0]) == id(w[1]));
    let (min, max) = (id(order[0]), id(order[order.len() - 1]));
    if !repeats && range_is_free(conn, min, max)? {
        // Every observation is new, so the blocks the caller writes next hold exactly these,
        // numbered from the next free sequence number.
        let lo = next_seq(conn)?;
        let mut ins = conn.prepare_cached(
            "INSERT INTO obs_run(id_min, id_max, seq_lo, seq_hi) VALUES (?1, ?2, ?3, ?4)",
        )?;
        ins.execute(params![min, max, lo, lo + order.len() as i64])?;
        for _ in &order {
            after_row();
        }
        return Ok(vec![Outcome::New; items.len()]);
    }
    let mut ins =
        conn.prepare_cached("INSERT INTO obs_key(id, hash, src, line) VALUES (?1, ?2, ?3, ?4)")?;
    let mut out = vec![Outcome::New; items.len()];
    let mut cache = None;
    for &i in &order {
        let p = items[i];
        out[i] = match lookup(conn, id(i), &mut cache)? {
            None => {
                ins.execute(params![id(i), p.hash as i64, src, p.line as i64])?;
                Outcome::New
            }
            Some(hash) if hash == p.hash => Outcome::Duplicate,
            Some(_) => Outcome::Conflict,
        };
        after_row();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn block_of(data: Vec<u8>, n: i64) -> Block {
        Block {
            seq: 1,
            n,
            originator: "ANAM".into(),
            tlp: Tlp::Amber.code(),
            rel: Some("MX".into()),
            subject_kind: SubjectKind::Vehicle.code(),
            subject: "SYN-V-1".into(),
            data,
            class: 1,
        }
    }

    fn observation() -> impl Strategy<Value = (u64, Observation)> {
        (
            "[A-Z0-9-]{1,24}",
            any::<u32>(),
            0u8..5,
            any::<i64>(),
            -90.0f64..90.0,
            -180.0f64..180.0,
            prop::option::of(prop_oneof![Just(8.0f64), 0.0f64..1e4]),
            prop_oneof![Just(1.0f64), 0.0f64..1.0],
            prop::option::of((
                prop::option::of(0.0f64..300.0),
                prop::option::of(0.0f64..360.0),
                prop::option::of(any::<bool>()),
                prop::option::of(0u8..4),
            )),
        )
            .prop_map(|(id, line, src, t, lat, lon, acc, conf, tele)| {
                let (speed, heading, ignition, power) = tele.unwrap_or((None, None, None, None));
                (
                    u64::from(line),
                    Observation {
                        id,
                        originator: "ANAM".into(),
                        marking: Marking::new(Tlp::Amber).explicit("ANAM", "MX"),
                        source: ObservationSource::from_code(src).unwrap_or(ObservationSource::Gps),
                        subject_kind: SubjectKind::Vehicle,
                        subject: "SYN-V-1".into(),
                        time_ms: t,
                        lat,
                        lon,
                        accuracy_m: acc,
                        confidence: conf,
                        speed_kmh: speed,
                        heading_deg: heading,
                        ignition,
                        power: power.and_then(rastro_core::PowerState::from_code),
                        request: None,
                    },
                )
            })
    }

    proptest! {
        /// Any rows, in any order, with any gaps in lines and times, come back exactly.
        #[test]
        fn blocks_round_trip(rows in prop::collection::vec(observation(), 1..200)) {
            let mut data = vec![FORMAT];
            let mut prev = Prev::default();
            for (line, o) in &rows {
                encode_row(&mut data, &mut prev, *line, o);
            }
            let back = block_of(data, rows.len() as i64).decode().unwrap();
            let back: Vec<(u64, Observation)> = back.into_iter().map(|(_, l, o)| (l, o)).collect();
            prop_assert_eq!(back, rows);
        }

        /// A damaged block is an error, never a panic or a wrong row count.
        #[test]
        fn damaged_blocks_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..400), n in 0i64..50) {
            if let Ok(rows) = block_of(bytes, n).decode() {
                prop_assert_eq!(rows.len() as i64, n);
            }
        }
    }
}
