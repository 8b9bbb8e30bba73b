//! `rastro federate pull|push`: TAXII 2.1 between this node and a peer's (another Rastro node
//! or any TAXII 2.1 server). A pull is the node operator's: what a peer serves is imported
//! under the peer's originators and markings, page by page, resuming after a cut from the
//! last page applied, then analysed like local data. A push is a user's: your organisation's
//! own objects, exported for the peer's organisation, posted to the collection you may write.

use super::ctx;
use super::ctx::parse_time;
use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Subcommand;
use rastro_app::ingest::IngestLimits;
use rastro_taxii::{Auth, Client};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum FederateCmd {
    /// Pull a peer's TAXII 2.1 collection into this node (the operator's; resumable).
    Pull {
        #[command(flatten)]
        spec: PullSpec,
        #[arg(long)]
        json: bool,
    },
    /// Post your organisation's objects for a peer's organisation to its collection (as --as USER).
    Push {
        /// The API root (with --collection) or the collection's own URL.
        #[arg(long)]
        to: String,
        #[arg(long)]
        collection: Option<String>,
        /// The organisation the objects are for (registered here).
        #[arg(long = "for")]
        recipient: String,
        /// Only records, alerts and leads with a time from this one (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        since: Option<i64>,
        #[arg(long)]
        token_file: Option<PathBuf>,
        #[arg(long, conflicts_with = "token_file")]
        basic_auth_file: Option<PathBuf>,
        #[arg(long)]
        ca_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn collection_url(base: &str, collection: Option<&str>) -> String {
    let mut u = base.trim().to_string();
    if !u.ends_with('/') {
        u.push('/');
    }
    match collection {
        Some(c) => format!("{u}collections/{c}/"),
        None => u,
    }
}

fn client(url: &str, a: Auth, ca: Option<&PathBuf>) -> anyhow::Result<Client> {
    Ok(match ca {
        None => Client::new(url, a),
        Some(f) => {
            let pem =
                std::fs::read(f).with_context(|| format!("reading the CA file {}", f.display()))?;
            Client::with_ca(url, a, &pem)?
        }
    })
}

fn auth(token: Option<&PathBuf>, basic: Option<&PathBuf>) -> anyhow::Result<Auth> {
    let read = |f: &PathBuf| {
        std::fs::read_to_string(f)
            .map(|t| t.trim().to_string())
            .with_context(|| format!("reading the credentials file {}", f.display()))
    };
    Ok(match (token, basic) {
        (Some(t), _) => Auth::Bearer(read(t)?),
        (None, Some(b)) => Auth::Basic(read(b)?),
        (None, None) => Auth::None,
    })
}

#[derive(Serialize, Default)]
pub struct PullSummary {
    url: String,
    peer: String,
    pages: u64,
    objects: u64,
    own: u64,
    inserted: u64,
    duplicates: u64,
    stored: u64,
    resume_after: Option<String>,
    analysed: bool,
}

/// One pull, from the command line or from `serve --federate FILE` (`[[pull]]` tables, the
/// same names with underscores).
#[derive(Debug, Clone, serde::Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct PullSpec {
    /// The API root (with --collection) or the collection's own URL.
    #[arg(long)]
    pub from: String,
    /// The collection's id, under the API root given by --from.
    #[arg(long)]
    pub collection: Option<String>,
    /// The organisation whose node this is (registered here): what it serves must be created
    /// by organisations of its nation.
    #[arg(long)]
    pub peer: String,
    /// A file holding the bearer token the peer issued to this node.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// A file holding `user:password` for HTTP Basic authentication instead.
    #[arg(long, conflicts_with = "token_file")]
    pub basic_auth_file: Option<PathBuf>,
    /// PEM certificate authorities to trust instead of the public ones (a private PKI).
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Objects per page asked for.
    #[arg(long, default_value_t = default_limit())]
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// Pages at most in this run.
    #[arg(long, default_value_t = default_max_pages())]
    #[serde(default = "default_max_pages")]
    pub max_pages: u64,
    /// Start again from the first object, not from where the last pull got to.
    #[arg(long)]
    #[serde(default)]
    pub from_start: bool,
    /// How often `serve` pulls (seconds; at least 10). Not a command-line option.
    #[arg(skip = default_every_s())]
    #[serde(default = "default_every_s")]
    pub every_s: u64,
}

fn default_limit() -> u32 {
    1000
}
fn default_max_pages() -> u64 {
    100_000
}
fn default_every_s() -> u64 {
    300
}

/// The pulls `serve --federate FILE` runs.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationFile {
    #[serde(default)]
    pub pull: Vec<PullSpec>,
}

/// Pulls once: every page after where the last pull got to, imported as the peer's, then
/// analysed when anything was new. What was applied before an error stays, and the next pull
/// resumes after it.
pub fn pull_once(db: &Path, spec: &PullSpec, quiet: bool) -> anyhow::Result<PullSummary> {
    let now = ctx::now_ms();
    let url = collection_url(&spec.from, spec.collection.as_deref());
    let client = client(
        &url,
        auth(spec.token_file.as_ref(), spec.basic_auth_file.as_ref())?,
        spec.ca_file.as_ref(),
    )?;
    let mut node =
        rastro_app::Node::open(db).with_context(|| format!("opening database {}", db.display()))?;
    let key = spec.collection.clone().unwrap_or_default();
    let cursor = if spec.from_start {
        None
    } else {
        node.operator()?
            .federation_cursor(&url, &key)?
            .map(|c| c.0)
            .filter(|c| !c.is_empty())
    };
    let mut s = PullSummary {
        url: url.clone(),
        peer: spec.peer.clone(),
        resume_after: cursor.clone(),
        ..Default::default()
    };
    let limits = IngestLimits::default();
    let result = client.pull(
        cursor.as_deref(),
        spec.limit,
        spec.max_pages,
        |objects, resume| {
            let mut gd = node.operator().map_err(|e| e.to_string())?;
            let r = gd
                .import_from_peer(&spec.peer, objects, &limits, ctx::now_ms())
                .map_err(|e| e.to_string())?;
            s.own += r.own as u64;
            s.inserted += r.import.inserted.values().sum::<u64>();
            s.duplicates += r.import.duplicates.values().sum::<u64>();
            s.stored += r.import.stored;
            if let Some(res) = resume {
                gd.set_federation_cursor(&url, &key, res, s.objects as i64, ctx::now_ms())
                    .map_err(|e| e.to_string())?;
                s.resume_after = Some(res.to_string());
            }
            if !quiet {
                eprintln!(
                    "page: {} objects ({} records new)",
                    objects.len(),
                    r.import.inserted.values().sum::<u64>()
                );
            }
            Ok::<(), String>(())
        },
    );
    match result {
        Ok(p) => {
            s.pages = p.pages;
            s.objects = p.objects;
        }
        Err(e) => {
            ctx::sign_after_write(&mut node)?;
            anyhow::bail!(
                "pull from {url} stopped: {e}; {} records taken before it; run the pull again to resume",
                s.inserted
            );
        }
    }
    if s.inserted > 0 {
        node.system("analysis").analyze(now, false, &|_, _| {})?;
        s.analysed = true;
    }
    ctx::sign_after_write(&mut node)?;
    Ok(s)
}

/// Runs the pulls of `file` in the background, each every `every_s` seconds (the first at
/// once), for as long as the process lives; a failed pull is logged and tried again at its
/// next turn.
pub fn schedule(db: PathBuf, file: FederationFile) {
    if file.pull.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        let mut due: Vec<std::time::Instant> = vec![std::time::Instant::now(); file.pull.len()];
        loop {
            for (i, spec) in file.pull.iter().enumerate() {
                if std::time::Instant::now() < due[i] {
                    continue;
                }
                match pull_once(&db, spec, true) {
                    Ok(s) => tracing::info!(
                        "pulled {}: {} objects, {} records new",
                        s.url,
                        s.objects,
                        s.inserted
                    ),
                    Err(e) => tracing::warn!("scheduled pull failed: {e:#}"),
                }
                due[i] = std::time::Instant::now()
                    + std::time::Duration::from_secs(spec.every_s.max(10));
            }
            let next = due
                .iter()
                .min()
                .copied()
                .unwrap_or_else(std::time::Instant::now);
            std::thread::sleep(next.saturating_duration_since(std::time::Instant::now()));
        }
    });
}

pub fn federate(g: &Global, cmd: FederateCmd) -> anyhow::Result<ExitCode> {
    let now = ctx::now_ms();
    match cmd {
        FederateCmd::Pull { spec, json } => {
            ctx::operator_only(g, "federate pull")?;
            let s = pull_once(&g.db, &spec, g.quiet)?;
            if json {
                print_json(&s)?;
            } else {
                println!(
                    "{}: {} pages, {} objects; records new {}, already held {}; objects kept as they came {}; {} of this nation skipped{}",
                    s.url,
                    s.pages,
                    s.objects,
                    s.inserted,
                    s.duplicates,
                    s.stored,
                    s.own,
                    if s.analysed { "; analysed" } else { "" }
                );
            }
        }
        FederateCmd::Push {
            to,
            collection,
            recipient,
            since,
            token_file,
            basic_auth_file,
            ca_file,
            json,
        } => {
            let url = collection_url(&to, collection.as_deref());
            let client = client(
                &url,
                auth(token_file.as_ref(), basic_auth_file.as_ref())?,
                ca_file.as_ref(),
            )?;
            let mut node = ctx::node(g)?;
            let mut gd = ctx::guard(g, &mut node)?;
            let Some(v) = gd.viewer().cloned() else {
                anyhow::bail!(
                    "a push speaks for an organisation: run it as one of its users (--as USER)"
                );
            };
            let (bundle, _) = gd.export_bundle(&recipient, since, now)?;
            let objects = own_objects(&bundle, &v.org);
            drop(gd);
            let status = client.post(&objects)?;
            ctx::sign_after_write(&mut node)?;
            if json {
                print_json(&status)?;
            } else {
                println!(
                    "{url}: {} objects posted, {} taken, {} refused (status {})",
                    status.total_count, status.success_count, status.failure_count, status.id
                );
                if let Some(f) = status.failures.first() {
                    eprintln!(
                        "refused: {}",
                        f.message.as_deref().unwrap_or("no reason given")
                    );
                }
            }
            if status.failure_count > 0 {
                return Ok(ExitCode::from(ctx::REFUSED));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The objects of a bundle that `org` may post as its own: those it created, the definitions,
/// and the observables its objects refer to (another organisation's observable would be
/// claimed as this one's by the receiver).
fn own_objects(bundle: &serde_json::Value, org: &str) -> Vec<serde_json::Value> {
    let me = rastro_stix::organisation_id(org).to_string();
    let node = rastro_stix::marking::rastro_identity().to_string();
    let objects = bundle["objects"].as_array().cloned().unwrap_or_default();
    let mine: Vec<&serde_json::Value> = objects
        .iter()
        .filter(|o| o["created_by_ref"].as_str() == Some(me.as_str()))
        .collect();
    let referred: std::collections::HashSet<&str> = mine
        .iter()
        .flat_map(|o| o["object_refs"].as_array().into_iter().flatten())
        .filter_map(|r| r.as_str())
        .collect();
    objects
        .iter()
        .filter(|o| {
            let ty = o["type"].as_str().unwrap_or_default();
            o["created_by_ref"].as_str() == Some(me.as_str())
                // Who the organisations are (created by the Rastro identity), and it.
                || o["created_by_ref"].as_str() == Some(node.as_str())
                || o["id"].as_str() == Some(node.as_str())
                || matches!(ty, "marking-definition" | "extension-definition")
                || (o.get("created_by_ref").is_none()
                    && o["id"].as_str().is_some_and(|id| referred.contains(id)))
        })
        .cloned()
        .collect()
}
