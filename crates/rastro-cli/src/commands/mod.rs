//! Command-line grammar and dispatch.

mod access;
mod analysis;
mod audit;
mod bus;
mod ctx;
mod data;
mod demo;
mod demo_ops;
mod eval;
mod federate;
mod forensics;
mod fuse;
mod leads;
mod links;
mod ops;
mod package;
mod requests;
mod resolve;
mod serve;
mod settings;
mod share;
mod sim;
mod track;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Rastro: track precursor chemicals from port to destination and turn weak signals into
/// explainable leads.
#[derive(Parser)]
#[command(name = "rastro", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The database used when neither `--db` nor `RASTRO_DB` names one.
pub const DEFAULT_DB: &str = "rastro.db";

#[derive(Args, Clone)]
pub struct Global {
    /// Database file (created if missing).
    #[arg(long, global = true, env = "RASTRO_DB", default_value = DEFAULT_DB)]
    pub db: PathBuf,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Read (and decide) as this user: see exactly what they may see, and log the reads under
    /// their name. Commands that are the operator's refuse it.
    #[arg(long = "as", global = true, env = "RASTRO_AS", value_name = "USER")]
    pub as_user: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Simulate, ingest, analyse and evaluate a scenario in one go.
    Demo(demo::DemoArgs),
    /// Ingest CSV or JSON Lines files (kind detected from the header unless --kind is given).
    Ingest(data::IngestArgs),
    /// Publish files to the ingest bus (NATS JetStream), validated, in batches per partition.
    Publish(bus::PublishArgs),
    /// Apply batches from the ingest bus to the store; any number run side by side.
    Worker(bus::WorkerArgs),
    /// The digest of what a store holds, the same for the embedded and the PostgreSQL store.
    Digest(bus::DigestArgs),
    /// List quarantined records: what was rejected, where, and why.
    Quarantine(data::QuarantineArgs),
    /// Counts of what the database holds.
    Stats(data::StatsArgs),
    /// Observations of one subject, or inside one H3 cell, in a time window.
    Observations(data::ObservationsArgs),
    /// Simulate a national scenario: exchange files plus ground truth.
    Simulate(sim::SimulateArgs),
    /// Analyse what changed since the last run: tracking and diversion detection.
    Analyze(analysis::AnalyzeArgs),
    /// List alerts, highest score first.
    Alerts(analysis::AlertsArgs),
    /// Triage one alert (acknowledge, dismiss with a reason, escalate) for your organisation.
    #[command(subcommand)]
    Alert(analysis::AlertCmd),
    /// Consignments: list them, or show one (custody, track, status, alerts).
    #[command(subcommand)]
    Consignment(analysis::ConsignmentCmd),
    /// The tamper-evident audit log: entries, signed heads, proofs, verification.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Measure the analytics against simulator truth.
    Evaluate(eval::EvaluateArgs),
    /// Ranked lead sites fused from alerts, stops, tips, seizures and purchases.
    Leads(leads::LeadsArgs),
    /// One lead: evidence and contributions; record a decision on it; release it.
    #[command(subcommand)]
    Lead(leads::LeadCmd),
    /// Releases: leads released to you, or by your organisation; show or revoke one.
    Releases(leads::ReleasesArgs),
    #[command(subcommand)]
    Release(leads::ReleaseCmd),
    /// Analysis settings kept in the database (detectors, learning, leads, catalogue).
    #[command(subcommand)]
    Settings(settings::SettingsCmd),
    /// Serve the HTTP API (JSON under /api/v1, OpenAPI at /api/v1/openapi.json).
    Serve(serve::ServeArgs),
    /// Organisations that originate and receive data.
    #[command(subcommand)]
    Org(access::OrgCmd),
    /// Users, their roles and API tokens.
    #[command(subcommand)]
    User(access::UserCmd),
    /// Operations under host-nation command: plan, approve, execute, close (as --as USER).
    #[command(subcommand)]
    Ops(ops::OpsCmd),
    /// Partner requests to the host nation: operations, surveillance, information.
    #[command(subcommand)]
    Request(requests::RequestCmd),
    /// Lead packages for commanders, as printable HTML or PDF.
    #[command(subcommand)]
    Package(package::PackageCmd),
    /// The host nation's law for operations, as a policy file.
    #[command(subcommand)]
    Law(ops::LawCmd),
    /// STIX 2.1 bundles to and from other nodes and tools (as --as USER).
    #[command(subcommand)]
    Share(share::ShareCmd),
    /// TAXII 2.1 with peer nodes and tools: pull a peer's collection, push to one.
    #[command(subcommand)]
    Federate(federate::FederateCmd),
    /// Getis-Ord local G / Gi* hot spots on any point CSV (esda G_Local semantics).
    Hotspots(fuse::HotspotsArgs),
    /// Find stops in any point CSV (MovingPandas TrajectoryStopDetector semantics).
    Stops(track::StopsArgs),
    /// Record linkage (Fellegi–Sunter) on any CSV: scored pairs that explain themselves, and
    /// clusters.
    Resolve(resolve::ResolveArgs),
    /// Entities: party records resolved into one, with their links.
    #[command(subcommand)]
    Entity(links::EntityCmd),
    /// What a node (entity, party, consignment, place, phone) links to, up to --hops away.
    Links(links::LinksArgs),
    /// How two nodes are connected: the shortest chain of links, with the records behind each.
    Path(links::PathArgs),
    /// Impurity-profile linkage of seized samples: calibrate, link, group.
    #[command(subcommand)]
    Forensics(forensics::ForensicsCmd),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(a) => demo::demo(&cli.global, a),
        Command::Ingest(a) => data::ingest(&cli.global, a),
        Command::Publish(a) => bus::publish(&cli.global, a),
        Command::Worker(a) => bus::worker(&cli.global, a),
        Command::Digest(a) => bus::digest(&cli.global, a),
        Command::Quarantine(a) => data::quarantine(&cli.global, a),
        Command::Stats(a) => data::stats(&cli.global, a),
        Command::Observations(a) => data::observations(&cli.global, a),
        Command::Simulate(a) => sim::simulate(&cli.global, a),
        Command::Stops(a) => track::stops(&cli.global, a),
        Command::Resolve(a) => resolve::resolve(&cli.global, a),
        Command::Entity(c) => links::entity(&cli.global, c),
        Command::Links(a) => links::links(&cli.global, a),
        Command::Path(a) => links::path(&cli.global, a),
        Command::Forensics(c) => forensics::forensics(&cli.global, c),
        Command::Hotspots(a) => fuse::hotspots(&cli.global, a),
        Command::Audit(c) => audit::audit(&cli.global, c),
        Command::Evaluate(a) => eval::evaluate(&cli.global, a),
        Command::Analyze(a) => analysis::analyze_cmd(&cli.global, a),
        Command::Alerts(a) => analysis::alerts(&cli.global, a),
        Command::Alert(c) => analysis::alert(&cli.global, c),
        Command::Consignment(c) => analysis::consignment(&cli.global, c),
        Command::Serve(a) => serve::serve(&cli.global, a),
        Command::Org(c) => access::org(&cli.global, c),
        Command::User(c) => access::user(&cli.global, c),
        Command::Leads(a) => leads::leads(&cli.global, a),
        Command::Lead(c) => leads::lead(&cli.global, c),
        Command::Releases(a) => leads::releases(&cli.global, a),
        Command::Release(c) => leads::release(&cli.global, c),
        Command::Settings(c) => settings::settings(&cli.global, c),
        Command::Ops(c) => ops::ops(&cli.global, c),
        Command::Request(c) => requests::request(&cli.global, c),
        Command::Package(c) => package::package(&cli.global, c),
        Command::Law(c) => ops::law(&cli.global, c),
        Command::Share(c) => share::share(&cli.global, c),
        Command::Federate(c) => federate::federate(&cli.global, c),
    }
}
