//! `rastro worker`: takes batches off its share of the partitions, applies each through the
//! caller's store write, and acknowledges it only once that write has committed.

use crate::envelope::Envelope;
use crate::partition::PARTITIONS;
use crate::{Bus, BusError};
use futures::StreamExt;
use serde::Serialize;
use std::time::{Duration, Instant};

/// The partitions one worker takes: `index` of `of` workers takes every partition `p` with
/// `p % of == index`, so any number of workers up to [`PARTITIONS`] split the stream without
/// overlap and one key's batches always reach the same worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerShare {
    pub index: u32,
    pub of: u32,
}

impl WorkerShare {
    pub const ALL: WorkerShare = WorkerShare { index: 0, of: 1 };

    pub fn parse(s: &str) -> Result<WorkerShare, BusError> {
        let bad = || BusError::Share(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let of: u32 = n.trim().parse().map_err(|_| bad())?;
        if of == 0 || of > PARTITIONS || index >= of {
            return Err(bad());
        }
        Ok(WorkerShare { index, of })
    }

    pub fn partitions(&self) -> Vec<u32> {
        (0..PARTITIONS)
            .filter(|p| p % self.of == self.index)
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub share: WorkerShare,
    /// Stop once no batch has arrived for this long (a batch job); run until killed if `None`.
    pub until_idle_s: Option<f64>,
    /// Batches asked for at once from one partition.
    pub fetch_batches: usize,
    /// Fault hook for the kill tests: SIGKILL this process after this many batches have been
    /// committed but before the last of them is acknowledged.
    pub kill_before_ack_after: Option<u64>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            share: WorkerShare::ALL,
            until_idle_s: None,
            fetch_batches: 16,
            kill_before_ack_after: None,
        }
    }
}

/// One delivery, as the store write sees it.
pub enum Delivery {
    Batch(Envelope),
    /// A message that is not a batch this worker can read: to be quarantined with where it
    /// was on the stream, and never delivered again.
    Bad {
        subject: String,
        seq: u64,
        reason: String,
        raw: String,
    },
}

/// What the store write did with one delivery.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Applied {
    pub records: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerReport {
    pub partitions: Vec<u32>,
    pub batches: u64,
    pub bad_batches: u64,
    pub records: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub secs: f64,
    /// From publish to committed in the store, per batch: median and 99th percentile (ms).
    pub stored_ms_p50: Option<u64>,
    pub stored_ms_p99: Option<u64>,
    /// From publish to the end of the analysis that included the batch (with `--analyze`).
    pub analysed_ms_p50: Option<u64>,
    pub analysed_ms_p99: Option<u64>,
}

/// Consecutive failed fetches (500 ms apart) before a worker gives up: a minute.
const MAX_FETCH_FAILURES: u32 = 120;

/// Most latency samples kept (one per batch); later batches are not sampled.
const MAX_SAMPLES: usize = 1 << 20;

fn percentile(v: &mut [u64], q: f64) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    Some(v[i.min(v.len() - 1)])
}

/// Where a worker's batches go: the store write, and what to do once the queue is drained.
pub trait Sink {
    /// Writes one delivery and returns once it is committed. An error stops the worker with
    /// the batch unacknowledged, so it is delivered again.
    fn apply(&mut self, d: Delivery) -> Result<Applied, String>;
    /// Called when a round that applied batches is followed by an empty one: the moment for
    /// incremental analysis of what arrived. Returns whether it analysed.
    fn drained(&mut self) -> Result<bool, String> {
        Ok(false)
    }
}

/// Runs a worker until it has been idle for `until_idle_s` (or forever).
pub async fn run_worker(
    bus: &Bus,
    opts: &WorkerOptions,
    sink: &mut dyn Sink,
) -> Result<WorkerReport, BusError> {
    let started = Instant::now();
    let partitions = opts.share.partitions();
    let mut consumers = Vec::with_capacity(partitions.len());
    for &p in &partitions {
        consumers.push(bus.partition_consumer(p).await?);
    }
    let mut report = WorkerReport {
        partitions,
        ..Default::default()
    };
    let mut last_batch = Instant::now();
    let mut idle_round = 0u32;
    let mut dirty = false;
    let mut failures = 0u32;
    let (mut stored, mut analysed_ms, mut awaiting) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let mut got = 0u64;
        for c in &consumers {
            let mut msgs = match c
                .fetch()
                .max_messages(opts.fetch_batches.clamp(1, 256))
                .messages()
                .await
            {
                Ok(m) => {
                    failures = 0;
                    m
                }
                // The server restarting: the client reconnects on its own; ask again after a
                // pause, and give up only after a minute of failures.
                Err(e) if failures < MAX_FETCH_FAILURES => {
                    failures += 1;
                    tracing::warn!(err = %e, failures, "cannot fetch batches; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                Err(e) => {
                    return Err(BusError::JetStream {
                        what: format!("fetching batches ({failures} attempts)"),
                        err: e.to_string(),
                    })
                }
            };
            while let Some(m) = msgs.next().await {
                let m = match m {
                    Ok(m) => m,
                    Err(e) => {
                        // A broken fetch (say, the server restarting): the batches it held
                        // are redelivered; ask again on the next round.
                        tracing::warn!(err = %e, "fetch interrupted");
                        break;
                    }
                };
                let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
                let published_ms: Option<i64> = m
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(crate::transport::PUBLISHED_MS_HEADER))
                    .and_then(|v| v.as_str().parse().ok());
                let subject = m.subject.to_string();
                let delivery = match Envelope::decode(&m.payload) {
                    Ok(env) => Delivery::Batch(env),
                    Err(reason) => {
                        report.bad_batches += 1;
                        Delivery::Bad {
                            subject: subject.clone(),
                            seq,
                            reason,
                            raw: String::from_utf8_lossy(&m.payload[..m.payload.len().min(200)])
                                .into_owned(),
                        }
                    }
                };
                let a = tokio::task::block_in_place(|| sink.apply(delivery))
                    .map_err(BusError::Apply)?;
                report.batches += 1;
                report.records += a.records;
                report.inserted += a.inserted;
                report.duplicates += a.duplicates;
                report.rejected += a.rejected;
                if let Some(p) = published_ms {
                    if stored.len() < MAX_SAMPLES {
                        stored.push(crate::transport::now_ms().saturating_sub(p).max(0) as u64);
                        awaiting.push(p);
                    }
                }
                if opts
                    .kill_before_ack_after
                    .is_some_and(|k| report.batches >= k)
                {
                    kill_self();
                }
                // Double ack: wait for the server to confirm, so a batch reported done here is
                // not delivered again. A failed ack only means a harmless redelivery.
                if let Err(e) = m.double_ack().await {
                    tracing::warn!(%subject, seq, err = %e, "ack not confirmed; the batch may be delivered again (harmless)");
                }
                got += 1;
            }
        }
        if got > 0 {
            last_batch = Instant::now();
            idle_round = 0;
            dirty = true;
            continue;
        }
        if dirty {
            let analysed =
                tokio::task::block_in_place(|| sink.drained()).map_err(BusError::Apply)?;
            if analysed {
                let now = crate::transport::now_ms();
                analysed_ms.extend(
                    awaiting
                        .iter()
                        .map(|p| now.saturating_sub(*p).max(0) as u64),
                );
            }
            awaiting.clear();
            dirty = false;
            continue;
        }
        if let Some(idle) = opts.until_idle_s {
            if last_batch.elapsed().as_secs_f64() >= idle {
                break;
            }
        }
        // Nothing waiting: poll again soon, backing off to 200 ms while idle.
        idle_round = (idle_round + 1).min(4);
        tokio::time::sleep(Duration::from_millis(25 << idle_round.min(3))).await;
    }
    report.secs = started.elapsed().as_secs_f64();
    report.stored_ms_p50 = percentile(&mut stored, 0.5);
    report.stored_ms_p99 = percentile(&mut stored, 0.99);
    report.analysed_ms_p50 = percentile(&mut analysed_ms, 0.5);
    report.analysed_ms_p99 = percentile(&mut analysed_ms, 0.99);
    Ok(report)
}

fn kill_self() -> ! {
    // As `kill -9`: no destructor, no flush, no ack.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_split_the_partitions_without_overlap() {
        for n in 1..=PARTITIONS {
            let mut all: Vec<u32> = (0..n)
                .flat_map(|i| WorkerShare { index: i, of: n }.partitions())
                .collect();
            all.sort();
            assert_eq!(all, (0..PARTITIONS).collect::<Vec<_>>(), "{n} workers");
        }
        assert!(WorkerShare::parse("2/2").is_err());
        assert!(WorkerShare::parse("0/0").is_err());
        assert!(WorkerShare::parse("0/17").is_err());
        assert_eq!(
            WorkerShare::parse("1/4").unwrap(),
            WorkerShare { index: 1, of: 4 }
        );
    }
}
