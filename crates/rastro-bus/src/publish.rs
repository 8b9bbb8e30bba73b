//! `rastro publish`: a file parsed and validated as `rastro ingest` would, published in
//! bounded batches per partition.

use crate::envelope::{Envelope, Line, ENVELOPE_VERSION, MAX_ENVELOPE_BYTES, MAX_ENVELOPE_RECORDS};
use crate::partition::{partition_key, partition_of, subject, PARTITIONS};
use crate::{Bus, BusError};
use rastro_core::{Kind, Quarantine};
use rastro_ingest::{open, Item, OpenError, RawLines};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub kind: Option<Kind>,
    /// Records per batch (at most [`MAX_ENVELOPE_RECORDS`]).
    pub batch_records: usize,
    /// Hold publishing to about this many records per second (a steady load for latency
    /// measurements); as fast as the bus takes them when `None`.
    pub rate_per_s: Option<u64>,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            kind: None,
            batch_records: MAX_ENVELOPE_RECORDS,
            rate_per_s: None,
        }
    }
}

/// What publishing one file did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PublishReport {
    pub source: String,
    pub kind: Option<Kind>,
    pub records: u64,
    /// Lines rejected by validation; published as quarantine entries, for the worker to keep.
    pub rejected: u64,
    pub batches: u64,
    pub bytes: u64,
    /// The first few rejections, for the terminal.
    pub examples: Vec<Quarantine>,
}

struct Pending {
    records: Vec<Line>,
    quarantine: Vec<Quarantine>,
}

/// Publishes one file. The source is its canonical path, as `rastro ingest` names it, so a file
/// ingested directly and the same file through the bus are one source.
pub async fn publish_file(
    bus: &Bus,
    path: &Path,
    opts: &PublishOptions,
) -> Result<PublishReport, BusError> {
    let io = |err| BusError::Io {
        path: path.display().to_string(),
        err,
    };
    let canonical = std::fs::canonicalize(path).map_err(io)?;
    let source = canonical.display().to_string();
    let file = std::fs::File::open(&canonical).map_err(io)?;
    let mut report = PublishReport {
        source: source.clone(),
        kind: opts.kind,
        ..Default::default()
    };
    let input = std::io::BufReader::with_capacity(1 << 20, file);
    let mut reader = match open(input, &source, opts.kind) {
        Ok(r) => r,
        Err(OpenError::Rejected(q)) => {
            // The whole file is refused (say, an unknown header): publish that one entry so
            // the store records why, as a direct ingest does.
            let kind = q.kind.or(opts.kind).unwrap_or(Kind::Observation);
            report.rejected = 1;
            report.examples.push((*q).clone());
            let env = Envelope {
                v: ENVELOPE_VERSION,
                source: source.clone(),
                kind,
                partition: 0,
                records: Vec::new(),
                quarantine: vec![*q],
            };
            send(bus, env, &mut report).await?;
            return Ok(report);
        }
        Err(OpenError::Io { err, .. }) => return Err(BusError::Io { path: source, err }),
    };
    let kind = reader.kind();
    report.kind = Some(kind);
    let per_batch = opts.batch_records.clamp(1, MAX_ENVELOPE_RECORDS);
    let mut parser = reader.parser();
    let mut pending: Vec<Pending> = (0..PARTITIONS)
        .map(|_| Pending {
            records: Vec::new(),
            quarantine: Vec::new(),
        })
        .collect();
    let mut raw = RawLines::default();
    let started = std::time::Instant::now();
    loop {
        let more = reader
            .next_lines(&mut raw, 8192)
            .map_err(|err| BusError::Io {
                path: source.clone(),
                err,
            })?;
        let mut items = Vec::with_capacity(raw.len());
        parser.parse_lines(&raw, |i| items.push(i));
        for item in items {
            match item {
                Item::Record { line, record } => {
                    report.records += 1;
                    let p = partition_of(partition_key(&record));
                    pending[p as usize].records.push(Line { line, record });
                }
                Item::Quarantine(q) => {
                    report.rejected += 1;
                    if report.examples.len() < 5 {
                        report.examples.push(q.clone());
                    }
                    // Rejected lines have no trustworthy key; spread them by line number.
                    let p = (q.line % u64::from(PARTITIONS)) as usize;
                    pending[p].quarantine.push(q);
                }
            }
        }
        for (p, buf) in pending.iter_mut().enumerate() {
            while buf.records.len() >= per_batch || (!more && !buf.is_empty()) {
                let take = buf.records.len().min(per_batch);
                let env = Envelope {
                    v: ENVELOPE_VERSION,
                    source: source.clone(),
                    kind,
                    partition: p as u32,
                    records: buf.records.drain(..take).collect(),
                    quarantine: std::mem::take(&mut buf.quarantine),
                };
                send(bus, env, &mut report).await?;
                pace(opts.rate_per_s, started, report.records).await;
            }
        }
        if !more {
            break;
        }
    }
    Ok(report)
}

/// Waits until `sent` records are due at `rate` records a second since `started`.
async fn pace(rate: Option<u64>, started: std::time::Instant, sent: u64) {
    if let Some(rate) = rate.filter(|&r| r > 0) {
        let due = std::time::Duration::from_secs_f64(sent as f64 / rate as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.records.is_empty() && self.quarantine.is_empty()
    }
}

/// Encodes and publishes a batch, halving one whose encoding is over the size limit.
async fn send(bus: &Bus, env: Envelope, report: &mut PublishReport) -> Result<(), BusError> {
    let mut stack = vec![env];
    while let Some(env) = stack.pop() {
        let bytes = env.encode();
        if bytes.len() > MAX_ENVELOPE_BYTES && env.records.len() > 1 {
            let mut first = env;
            let second = Envelope {
                v: first.v,
                source: first.source.clone(),
                kind: first.kind,
                partition: first.partition,
                records: first.records.split_off(first.records.len() / 2),
                quarantine: Vec::new(),
            };
            // Second pushed first so the first half is published first: file order.
            stack.push(second);
            stack.push(first);
            continue;
        }
        report.bytes += bytes.len() as u64;
        report.batches += 1;
        bus.publish(&subject(env.kind, env.partition), bytes)
            .await?;
    }
    Ok(())
}
