//! Streaming, batched, idempotent ingest of one file into the store.

use rastro_core::{Kind, Quarantine};
use rastro_ingest::{open, Item, OpenError, RawLines};
use rastro_store::{Actor, BatchStats, Prepared, Store, StoreError, Submitter};
use serde::Serialize;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::mpsc::sync_channel;

/// Most threads that parse one file. Parsing is a pure function of a line, so it spreads over
/// cores; beyond four the single writer is the bottleneck on any machine.
pub const MAX_PARSERS: usize = 4;

/// Upper bound on a batch, whatever the caller asks, so memory stays bounded.
pub const MAX_BATCH_ROWS: usize = 100_000;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The kind the user said the file holds; detected from the header when `None`.
    pub kind: Option<Kind>,
    /// Records per transaction.
    pub batch_rows: usize,
    /// Test hook: the process kills itself with SIGKILL after writing this many rows (in the
    /// middle of a transaction), to prove that a killed run resumes without loss.
    pub kill_after_rows: Option<u64>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            kind: None,
            batch_rows: 8192,
            kill_after_rows: None,
        }
    }
}

/// Receives progress from a long ingest; the CLI draws a bar with it.
pub trait Progress: Sync {
    fn start(&self, _source: &str, _total_bytes: u64) {}
    fn advance(&self, _bytes_done: u64) {}
    fn finish(&self) {}
}

impl Progress for () {}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot read {path}: {err}; check the path and permissions")]
    Io { path: String, err: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the reader thread of {0} stopped unexpectedly")]
    ReaderDied(String),
}

/// What ingesting one file did.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub source: String,
    pub kind: Option<Kind>,
    /// Lines read that held a record or a rejected record.
    pub lines: u64,
    #[serde(flatten)]
    pub stats: BatchStats,
    /// Records rejected in this run (already-quarantined lines count again here, so a strict
    /// re-run of a bad file still fails).
    pub rejected: u64,
    /// The first few rejections, for the terminal.
    pub examples: Vec<Quarantine>,
    /// Partner observations (and any naming a request) checked against the approved
    /// requests: under one, and flagged because none covers them (kept, not dropped).
    pub collected_under_request: u64,
    pub collection_flagged: u64,
    /// The first few flags, for the terminal.
    pub flag_examples: Vec<String>,
}

impl FileReport {
    fn new(source: &str, kind: Option<Kind>) -> FileReport {
        FileReport {
            source: source.to_string(),
            kind,
            lines: 0,
            stats: BatchStats::default(),
            rejected: 0,
            examples: Vec::new(),
            collected_under_request: 0,
            collection_flagged: 0,
            flag_examples: Vec::new(),
        }
    }
}

struct Batch {
    records: Vec<Prepared>,
    quarantine: Vec<Quarantine>,
    bytes: u64,
}

const EXAMPLES: usize = 5;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn kill_self() -> ! {
    // SIGKILL, not abort: the point is to die exactly as `kill -9` would, with no destructor,
    // no flush and no rollback run by us.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

/// Ingests one file. The source is named by its canonical path, so the same file given by
/// two relative paths is one source.
pub fn ingest_path(
    store: &mut Store,
    actor: &Actor,
    path: &Path,
    opts: &IngestOptions,
    progress: &dyn Progress,
) -> Result<FileReport, PipelineError> {
    let canonical = std::fs::canonicalize(path).map_err(|err| PipelineError::Io {
        path: path.display().to_string(),
        err,
    })?;
    let source = canonical.display().to_string();
    let file = File::open(&canonical).map_err(|err| PipelineError::Io {
        path: source.clone(),
        err,
    })?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    ingest_stream(
        store,
        actor,
        &source,
        None,
        BufReader::with_capacity(1 << 20, file),
        total,
        opts,
        progress,
    )
}

/// Writes one batch and checks its records against the approved collection requests, adding
/// to `report`: the one write step of file, feed and bus ingest. `kill_at(n)` is the fault
/// hook, asked after each of the batch's `n` rows is written.
#[allow(clippy::too_many_arguments)]
fn write_one(
    store: &mut Store,
    actor: &Actor,
    src_id: i64,
    records: &[Prepared],
    quarantine: &[Quarantine],
    collection: &crate::collection::CollectionCheck,
    report: &mut FileReport,
    kill_at: impl Fn(u64) -> bool,
) -> Result<(), PipelineError> {
    report.lines += (records.len() + quarantine.len()) as u64;
    report.rejected += quarantine.len() as u64;
    for q in quarantine
        .iter()
        .take(EXAMPLES.saturating_sub(report.examples.len()))
    {
        report.examples.push(q.clone());
    }
    let stats = store.write_batch_with(actor, src_id, records, quarantine, |n| {
        if kill_at(n) {
            kill_self();
        }
    })?;
    // After the batch: a kill in between leaves the records, and the re-run, whose records
    // are duplicates, still checks them (the first verdict stands).
    let verdicts: Vec<_> = records
        .iter()
        .filter_map(|p| collection.check(&p.record))
        .collect();
    for v in &verdicts {
        match &v.flag {
            None => report.collected_under_request += 1,
            Some(why) => {
                report.collection_flagged += 1;
                if report.flag_examples.len() < EXAMPLES {
                    report
                        .flag_examples
                        .push(format!("{} {}: {why}", v.originator, v.obs_id));
                }
            }
        }
    }
    store.put_collection(&verdicts)?;
    report.rejected += stats.conflicts;
    report.stats.add(stats);
    Ok(())
}

/// Hashes and places records parsed elsewhere, with one anchor for the batch (a bus batch
/// holds whole runs of one subject's fixes, as a file's run does).
pub fn prepare_all(records: Vec<(u64, rastro_core::Record)>) -> Vec<Prepared> {
    let mut anchor = rastro_core::grid::Anchor::new(rastro_store::CELL_RESOLUTION);
    records
        .into_iter()
        .map(|(line, r)| Prepared::with_anchor(line, r, &mut anchor))
        .collect()
}

/// Ingests records already parsed and validated elsewhere (a batch taken off the ingest bus):
/// the same store write, idempotency, quarantine and collection check as a file, under the
/// name of the file they came from. Applying the same batch again only finds duplicates, so
/// a redelivered batch is harmless.
pub fn ingest_items(
    store: &mut Store,
    actor: &Actor,
    source: &str,
    records: Vec<(u64, rastro_core::Record)>,
    quarantine: &[Quarantine],
    opts: &IngestOptions,
) -> Result<FileReport, PipelineError> {
    let started = now_ms();
    let src_id = store.source_id(source, None, started)?;
    let mut report = FileReport::new(source, records.first().map(|(_, r)| r.kind()).or(opts.kind));
    let collection = crate::collection::CollectionCheck::load(store, &crate::load_policy(store)?)?;
    let prepared = prepare_all(records);
    let kill_at = opts.kill_after_rows;
    write_one(
        store,
        actor,
        src_id,
        &prepared,
        quarantine,
        &collection,
        &mut report,
        |n| kill_at.is_some_and(|k| n >= k),
    )?;
    store.log_run(started, now_ms(), source, &report.stats, "done")?;
    Ok(report)
}

/// As [`ingest_items`], into the PostgreSQL store: the same preparation, keys, idempotency
/// and quarantine, with records already prepared ([`prepare_all`]) so that a caller retrying
/// after a lost connection prepares them once. Partner observations are not checked against
/// collection requests here, because the requests live in the SQLite store; the report's
/// collection counts stay 0.
pub fn ingest_prepared_pg(
    pg: &mut rastro_store::PgStore,
    actor: &Actor,
    source: &str,
    prepared: &[Prepared],
    quarantine: &[Quarantine],
    opts: &IngestOptions,
) -> Result<FileReport, PipelineError> {
    let started = now_ms();
    let src_id = pg.source_id(source, started)?;
    let mut report = FileReport::new(
        source,
        prepared.first().map(|p| p.record.kind()).or(opts.kind),
    );
    report.lines = (prepared.len() + quarantine.len()) as u64;
    report.rejected = quarantine.len() as u64;
    report.examples = quarantine.iter().take(EXAMPLES).cloned().collect();
    let kill_at = opts.kill_after_rows;
    let stats = pg.write_batch_with(actor, src_id, prepared, quarantine, |n| {
        if kill_at.is_some_and(|k| n >= k) {
            kill_self();
        }
    })?;
    report.rejected += stats.conflicts;
    report.stats.add(stats);
    pg.log_run(started, now_ms(), source, &report.stats, "done")?;
    Ok(report)
}

/// Ingests one stream named `source` (a canonical path, or `api:<user>:<sha256>` for a body
/// posted to the HTTP API): the same validation, quarantine, idempotency and batching as a
/// file, because it is the same code.
#[allow(clippy::too_many_arguments)]
pub fn ingest_stream<R: std::io::BufRead + Send>(
    store: &mut Store,
    actor: &Actor,
    source: &str,
    submitter: Option<&Submitter>,
    input: R,
    total: u64,
    opts: &IngestOptions,
    progress: &dyn Progress,
) -> Result<FileReport, PipelineError> {
    let source = source.to_string();
    let started = now_ms();
    let src_id = store.source_id(&source, submitter, started)?;
    let mut report = FileReport::new(&source, opts.kind);
    // Read once: requests decided during this ingest apply to the next one.
    let collection = crate::collection::CollectionCheck::load(store, &crate::load_policy(store)?)?;
    progress.start(&source, total);

    let reader = match open(input, &source, opts.kind) {
        Ok(r) => r,
        Err(OpenError::Rejected(q)) => {
            report.rejected = 1;
            report.stats.quarantined = u64::from(store.quarantine_one(&q)?);
            report.examples.push(*q);
            store.log_run(started, now_ms(), &source, &report.stats, "rejected")?;
            progress.finish();
            return Ok(report);
        }
        Err(OpenError::Io { err, .. }) => return Err(PipelineError::Io { path: source, err }),
    };
    report.kind = Some(reader.kind());
    let batch_rows = opts.batch_rows.clamp(1, MAX_BATCH_ROWS);
    let parsers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, MAX_PARSERS);

    // Three stages: one thread reads raw lines (cheap: find newlines, copy bytes), `parsers`
    // threads validate and prepare them, and this thread writes. Run `i` goes to parser
    // `i % parsers` and is taken back in the same order, so the store sees the file's lines in
    // file order whatever the thread timing, and the same file always gives the same database.
    let result =
        std::thread::scope(|s| -> Result<(), PipelineError> {
            let (raw_back_tx, raw_back_rx) = sync_channel::<RawLines>(2 * parsers + 2);
            let mut to_parser = Vec::with_capacity(parsers);
            let mut from_parser = Vec::with_capacity(parsers);
            let mut batch_back = Vec::with_capacity(parsers);
            let mut threads = Vec::with_capacity(parsers + 1);
            for _ in 0..parsers {
                let (raw_tx, raw_rx) = sync_channel::<std::io::Result<RawLines>>(2);
                let (out_tx, out_rx) = sync_channel::<Result<Batch, std::io::Error>>(2);
                let (back_tx, back_rx) = sync_channel::<Batch>(2);
                to_parser.push(raw_tx);
                from_parser.push(out_rx);
                batch_back.push(back_tx);
                let mut parser = reader.parser();
                let raw_back = raw_back_tx.clone();
                threads.push(s.spawn(move || {
                    let mut anchor = rastro_core::grid::Anchor::new(rastro_store::CELL_RESOLUTION);
                    for raw in raw_rx.iter() {
                        let raw = match raw {
                            Ok(raw) => raw,
                            Err(e) => {
                                let _ = out_tx.send(Err(e));
                                return;
                            }
                        };
                        let mut batch = back_rx.try_recv().unwrap_or_else(|_| Batch {
                            records: Vec::with_capacity(raw.len()),
                            quarantine: Vec::new(),
                            bytes: 0,
                        });
                        batch.records.clear();
                        batch.quarantine.clear();
                        // Each run starts afresh, so the cells found do not depend on which thread
                        // parsed what before.
                        anchor.reset();
                        parser.parse_lines(&raw, |item| match item {
                            Item::Record { line, record } => batch
                                .records
                                .push(Prepared::with_anchor(line, record, &mut anchor)),
                            Item::Quarantine(q) => batch.quarantine.push(q),
                        });
                        batch.bytes = raw.bytes_read;
                        // A full or closed recycle channel just drops the buffer.
                        let _ = raw_back.try_send(raw);
                        if out_tx.send(Ok(batch)).is_err() {
                            return;
                        }
                    }
                }));
            }
            drop(raw_back_tx);
            threads.push(s.spawn(move || {
                let mut reader = reader;
                // `sent` counts runs handed out, not reads: run `sent` must go to parser
                // `sent % parsers` for the writer to find it there, even if a read came back empty.
                let mut sent = 0usize;
                loop {
                    let mut raw = raw_back_rx.try_recv().unwrap_or_default();
                    let to = &to_parser[sent % parsers];
                    match reader.next_lines(&mut raw, batch_rows) {
                        Ok(more) => {
                            if !raw.is_empty() {
                                if to.send(Ok(raw)).is_err() {
                                    return;
                                }
                                sent += 1;
                            }
                            if !more {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = to.send(Err(e));
                            return;
                        }
                    }
                }
            }));

            let mut written = 0u64;
            for i in 0.. {
                // A closed channel in turn means the reader sent no run `i`: the file is done.
                let Ok(msg) = from_parser[i % parsers].recv() else {
                    break;
                };
                let batch = msg.map_err(|err| PipelineError::Io {
                    path: source.clone(),
                    err,
                })?;
                let kill_at = opts.kill_after_rows;
                write_one(
                    store,
                    actor,
                    src_id,
                    &batch.records,
                    &batch.quarantine,
                    &collection,
                    &mut report,
                    |n| kill_at.is_some_and(|k| written + n >= k),
                )?;
                written += batch.records.len() as u64;
                progress.advance(batch.bytes);
                let _ = batch_back[i % parsers].try_send(batch);
            }
            // A thread that died closed its channel early, which looks like the end of the file:
            // say so instead of reporting a complete run.
            drop(from_parser);
            for t in threads {
                t.join()
                    .map_err(|_| PipelineError::ReaderDied(source.clone()))?;
            }
            Ok(())
        });
    progress.finish();
    result?;
    if report.stats.conflicts > 0 && report.examples.len() < EXAMPLES {
        // Conflicts are found by the writer; fetch their entries for the terminal summary.
        report.examples.extend(
            store
                .quarantine(&rastro_store::QuarantineFilter {
                    limit: u32::MAX,
                    ..Default::default()
                })?
                .into_iter()
                .map(|r| r.entry)
                .filter(|q| q.source == source && q.reason.starts_with("conflict"))
                .take(EXAMPLES - report.examples.len()),
        );
    }
    store.log_run(started, now_ms(), &source, &report.stats, "done")?;
    store.checkpoint()?;
    Ok(report)
}
