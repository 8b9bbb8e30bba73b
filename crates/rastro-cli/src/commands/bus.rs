//! `rastro publish` and `rastro worker`: ingest through the NATS JetStream bus.

use super::ctx;
use super::data::parse_kind;
use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Args;
use rastro_app::{IngestOptions, Node, PgIngest};
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
    /// Publish at about this many records per second (a steady load), not as fast as possible.
    #[arg(long)]
    pub rate: Option<u64>,
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
            rate_per_s: a.rate,
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
    /// Write to this PostgreSQL store (`postgres://USER:PASSWORD@HOST/DB`) instead of --db.
    #[arg(long, env = "RASTRO_STORE")]
    pub store: Option<String>,
    /// The PostgreSQL schema of the Rastro tables (created if missing).
    #[arg(long, env = "RASTRO_PG_SCHEMA", default_value = "rastro")]
    pub pg_schema: String,
    /// Machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

/// A delivery as the store write takes it: source, records with their lines, quarantine.
type Parts = (String, Vec<(u64, rastro_core::Record)>, Vec<Quarantine>);

fn parts(d: Delivery) -> Parts {
    match d {
        Delivery::Batch(env) => (
            env.source,
            env.records
                .into_iter()
                .map(|l| (l.line, l.record))
                .collect(),
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
    }
}

fn applied(n: u64, r: &rastro_app::FileReport) -> Applied {
    Applied {
        records: n,
        inserted: r.stats.inserted,
        duplicates: r.stats.duplicates,
        rejected: r.rejected,
    }
}

/// The worker's write into PostgreSQL, as the `system:ingest-worker` actor.
struct PgSink {
    pg: PgIngest,
    opts: IngestOptions,
}

impl Sink for PgSink {
    fn apply(&mut self, d: Delivery) -> Result<Applied, String> {
        let (source, records, quarantine) = parts(d);
        let n = records.len() as u64;
        let r = self
            .pg
            .ingest_items(&source, records, &quarantine, &self.opts)
            .map_err(|e| format!("writing a batch of {source} to PostgreSQL: {e}"))?;
        Ok(applied(n, &r))
    }
}

/// The worker's store write: the same ingest as a file, as the `ingest-worker` system actor.
struct StoreSink<'a> {
    node: &'a mut Node,
    opts: IngestOptions,
    analyze: bool,
}

impl Sink for StoreSink<'_> {
    fn apply(&mut self, d: Delivery) -> Result<Applied, String> {
        let (source, records, quarantine) = parts(d);
        let n = records.len() as u64;
        let r = self
            .node
            .system("ingest-worker")
            .ingest_items(&source, records, &quarantine, &self.opts)
            .map_err(|e| format!("writing a batch of {source}: {e}"))?;
        Ok(applied(n, &r))
    }

    fn drained(&mut self) -> Result<bool, String> {
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
        Ok(self.analyze)
    }
}

pub fn worker(g: &Global, a: WorkerArgs) -> anyhow::Result<ExitCode> {
    ctx::operator_only(g, "worker")?;
    let share = WorkerShare::parse(&a.share)?;
    if a.store.is_some() && a.analyze {
        anyhow::bail!(
            "--analyze runs on the embedded store only; analysis over PostgreSQL is not built yet (drop --analyze or --store)"
        );
    }
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
    let report = match &a.store {
        Some(url) => {
            let pg = PgIngest::connect(url, &a.pg_schema, "ingest-worker")?;
            let mut sink = PgSink { pg, opts: ingest };
            rt.block_on(async {
                let bus = Bus::connect(&a.bus, cfg).await?;
                anyhow::Ok(rastro_bus::run_worker(&bus, &opts, &mut sink).await?)
            })?
        }
        None => {
            let mut node = ctx::node(g)?;
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
            report
        }
    };
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

#[derive(Args)]
pub struct DigestArgs {
    /// A PostgreSQL store to digest instead of --db.
    #[arg(long, env = "RASTRO_STORE")]
    pub store: Option<String>,
    /// The PostgreSQL schema of the Rastro tables.
    #[arg(long, env = "RASTRO_PG_SCHEMA", default_value = "rastro")]
    pub pg_schema: String,
}

/// `rastro digest`: the backend-neutral digest of what a store holds (and, for PostgreSQL,
/// its audit chain verified), to compare an embedded and a PostgreSQL store.
pub fn digest(g: &Global, a: DigestArgs) -> anyhow::Result<ExitCode> {
    ctx::operator_only(g, "digest")?;
    let v = match &a.store {
        Some(url) => {
            let mut pg = PgIngest::connect(url, &a.pg_schema, "digest")?;
            let report = pg.verify_audit()?;
            serde_json::json!({
                "digest": pg.keyed_digest()?,
                "audit": report,
            })
        }
        None => serde_json::json!({ "digest": ctx::node(g)?.keyed_digest()? }),
    };
    print_json(&v)?;
    Ok(ExitCode::SUCCESS)
}
