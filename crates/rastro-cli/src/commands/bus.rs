//! `rastro publish` and `rastro worker`: ingest through the NATS JetStream bus.

use super::ctx;
use super::data::parse_kind;
use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Args;
use rastro_app::{IngestOptions, Node};
use rastro_bus::{
    Applied, Bus, BusConfig, Delivery, PublishOptions, Sink, WorkerOptions, WorkerShare,
};
use rastro_core::{Kind, Quarantine};
use std::path::PathBuf;
use std::process::ExitCode;

/// The bus when neither `--bus` nor `RASTRO_BUS` names one.
pub const DEFAULT_BUS: &str = "nats://127.0.0.1:4222";

#[derive(Args)]
pub struct PublishArgs {
    /// Files to publish (CSV with a header row, or JSON Lines), validated here as by ingest.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Record kind of every file; checked against each header.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// The NATS server (JetStream enabled, 2.10 or later).
    #[arg(long, env = "RASTRO_BUS", default_value = DEFAULT_BUS)]
    pub bus: String,
    /// Records per batch (at most 2000).
    #[arg(long, default_value_t = 2000)]
    pub batch_records: usize,
    /// Machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn publish(g: &Global, a: PublishArgs) -> anyhow::Result<ExitCode> {
    ctx::operator_only(g, "publish")?;
    let rt = runtime()?;
    let reports = rt.block_on(async {
        let bus = Bus::connect(&a.bus, BusConfig::default()).await?;
        let opts = PublishOptions {
            kind: a.kind,
            batch_records: a.batch_records,
        };
        let mut reports = Vec::new();
        for f in &a.files {
            let r = rastro_bus::publish_file(&bus, f, &opts)
                .await
                .with_context(|| format!("publishing {}", f.display()))?;
            if !g.quiet {
                for q in &r.examples {
                    eprintln!("warning: {q}");
                }
            }
            if !a.json {
                println!(
                    "{}: {} {} records in {} batches, {} rejected (quarantined by the worker)",
                    r.source,
                    r.kind.map(|k| k.as_str()).unwrap_or("?"),
                    r.records,
                    r.batches,
                    r.rejected
                );
            }
            reports.push(r);
        }
        anyhow::Ok(reports)
    })?;
    if a.json {
        print_json(&reports)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct WorkerArgs {
    /// The NATS server (JetStream enabled, 2.10 or later).
    #[arg(long, env = "RASTRO_BUS", default_value = DEFAULT_BUS)]
    pub bus: String,
    /// This worker's share of the 16 partitions, as I/N: worker I of N takes partitions p with
    /// p mod N = I.
    #[arg(long, default_value = "0/1")]
    pub share: String,
    /// Stop once no batch has arrived for this many seconds (otherwise run until stopped).
    #[arg(long)]
    pub until_idle: Option<f64>,
    /// Run incremental analysis whenever the queue is drained.
    #[arg(long)]
    pub analyze: bool,
    /// Seconds a delivered batch may stay unacknowledged before it is delivered again.
    #[arg(long, default_value_t = 30)]
    pub ack_wait: u64,
    /// Machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The worker's store write: the same ingest as a file, as the `ingest-worker` system actor.
struct StoreSink<'a> {
    node: &'a mut Node,
    opts: IngestOptions,
    analyze: bool,
}

impl Sink for StoreSink<'_> {
    fn apply(&mut self, d: Delivery) -> Result<Applied, String> {
        let (source, records, quarantine) = match d {
            Delivery::Batch(env) => (
                env.source,
                env.records
                    .into_iter()
                    .map(|l| (l.line, l.record))
                    .collect::<Vec<_>>(),
                env.quarantine,
            ),
            Delivery::Bad {
                subject,
                seq,
                reason,
                raw,
            } => {
                let source = format!("bus:{}/{subject}", rastro_bus::STREAM);
                let q = Quarantine {
                    source: source.clone(),
                    line: seq,
                    kind: None,
                    field: None,
                    reason: format!("not a readable batch: {reason}"),
                    raw,
                };
                (source, Vec::new(), vec![q])
            }
        };
        let n = records.len() as u64;
        let r = self
            .node
            .system("ingest-worker")
            .ingest_items(&source, records, &quarantine, &self.opts)
            .map_err(|e| format!("writing a batch of {source}: {e}"))?;
        Ok(Applied {
            records: n,
            inserted: r.stats.inserted,
            duplicates: r.stats.duplicates,
            rejected: r.rejected,
        })
    }

    fn drained(&mut self) -> Result<(), String> {
        if self.analyze {
            let r = self
                .node
                .system("analysis")
                .analyze(ctx::now_ms(), false, &|_, _| {})
                .map_err(|e| format!("analysis after a drained queue: {e}"))?;
            tracing::info!(
                consignments = r.consignments_analysed,
                alerts = r.alerts.values().sum::<u64>(),
                "analysed"
            );
        }
        Ok(())
    }
}

pub fn worker(g: &Global, a: WorkerArgs) -> anyhow::Result<ExitCode> {
    ctx::operator_only(g, "worker")?;
    let share = WorkerShare::parse(&a.share)?;
    let mut node = ctx::node(g)?;
    // Hidden fault-injection hooks for the kill tests: die inside a store transaction, or
    // after a commit and before its acknowledgement.
    let env_u64 = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let opts = WorkerOptions {
        share,
        until_idle_s: a.until_idle,
        kill_before_ack_after: env_u64("RASTRO_FAULT_KILL_BEFORE_ACK"),
        ..Default::default()
    };
    let ingest = IngestOptions {
        kill_after_rows: env_u64("RASTRO_FAULT_KILL_AFTER_ROWS"),
        ..Default::default()
    };
    let cfg = BusConfig {
        ack_wait_s: a.ack_wait.max(1),
        ..Default::default()
    };
    let rt = runtime()?;
    let report = rt.block_on(async {
        let bus = Bus::connect(&a.bus, cfg).await?;
        let mut sink = StoreSink {
            node: &mut node,
            opts: ingest,
            analyze: a.analyze,
        };
        anyhow::Ok(rastro_bus::run_worker(&bus, &opts, &mut sink).await?)
    })?;
    ctx::sign_after_write(&mut node)?;
    if a.json {
        print_json(&report)?;
    } else {
        println!(
            "worker {}: {} batches, {} records ({} inserted, {} duplicates), {} rejected, in {:.1} s",
            a.share,
            report.batches,
            report.records,
            report.inserted,
            report.duplicates,
            report.rejected,
            report.secs
        );
    }
    Ok(ExitCode::SUCCESS)
}
