//! Streaming, batched, idempotent ingest of one file into the store.

use rastro_core::{Kind, Quarantine};
use rastro_ingest::{open, Item, OpenError};
use rastro_store::{BatchStats, Prepared, Store, StoreError};
use serde::Serialize;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::mpsc::sync_channel;

/// Batches in flight between the reader and the writer.
pub const CHANNEL_BATCHES: usize = 4;

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
        &source,
        BufReader::with_capacity(1 << 20, file),
        total,
        opts,
        progress,
    )
}

/// Ingests one stream named `source` (a canonical path, or `api:<user>:<sha256>` for a body
/// posted to the HTTP API): the same validation, quarantine, idempotency and batching as a
/// file, because it is the same code.
pub fn ingest_stream<R: std::io::BufRead + Send>(
    store: &mut Store,
    source: &str,
    input: R,
    total: u64,
    opts: &IngestOptions,
    progress: &dyn Progress,
) -> Result<FileReport, PipelineError> {
    let source = source.to_string();
    let started = now_ms();
    let src_id = store.source_id(&source, started)?;
    let mut report = FileReport {
        source: source.clone(),
        kind: opts.kind,
        lines: 0,
        stats: BatchStats::default(),
        rejected: 0,
        examples: Vec::new(),
    };
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
    let (tx, rx) = sync_channel::<Result<Batch, std::io::Error>>(CHANNEL_BATCHES);
    // Written batches come back to the reader to be refilled: allocating a fresh multi-megabyte
    // vector per batch made the kernel zero pages for every batch.
    let (recycle_tx, recycle_rx) = sync_channel::<Batch>(CHANNEL_BATCHES + 2);

    let result = std::thread::scope(|s| -> Result<(), PipelineError> {
        let src_name = source.clone();
        let handle = s.spawn(move || {
            let mut reader = reader;
            loop {
                let mut batch = recycle_rx.try_recv().unwrap_or_else(|_| Batch {
                    records: Vec::with_capacity(batch_rows),
                    quarantine: Vec::new(),
                    bytes: 0,
                });
                batch.records.clear();
                batch.quarantine.clear();
                let mut eof = false;
                while batch.records.len() + batch.quarantine.len() < batch_rows {
                    match reader.next_item() {
                        Ok(Some(Item::Record { line, record })) => {
                            batch.records.push(Prepared::new(line, record))
                        }
                        Ok(Some(Item::Quarantine(q))) => batch.quarantine.push(q),
                        Ok(None) => {
                            eof = true;
                            break;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                batch.bytes = reader.bytes_read();
                if tx.send(Ok(batch)).is_err() || eof {
                    return;
                }
            }
        });
        let mut written = 0u64;
        for msg in rx.iter() {
            let batch = msg.map_err(|err| PipelineError::Io {
                path: src_name.clone(),
                err,
            })?;
            report.lines += (batch.records.len() + batch.quarantine.len()) as u64;
            report.rejected += batch.quarantine.len() as u64;
            for q in batch
                .quarantine
                .iter()
                .take(EXAMPLES.saturating_sub(report.examples.len()))
            {
                report.examples.push(q.clone());
            }
            let kill_at = opts.kill_after_rows;
            let base = written;
            let stats = store.write_batch_with(src_id, &batch.records, &batch.quarantine, |n| {
                if kill_at.is_some_and(|k| base + n >= k) {
                    kill_self();
                }
            })?;
            written += batch.records.len() as u64;
            report.rejected += stats.conflicts;
            report.stats.add(stats);
            progress.advance(batch.bytes);
            // The reader may have finished; a full or closed recycle channel just drops it.
            let _ = recycle_tx.try_send(batch);
        }
        handle
            .join()
            .map_err(|_| PipelineError::ReaderDied(src_name))?;
        Ok(())
    });
    progress.finish();
    result?;
    if report.stats.conflicts > 0 && report.examples.len() < EXAMPLES {
        // Conflicts are found by the writer; fetch their entries for the terminal summary.
        report.examples.extend(
            store
                .quarantine(0, u32::MAX)?
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
