//! `rastro analyze`, `rastro alerts`, `rastro consignment show`.

use super::data::open_store;
use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rastro_core::{Catalogue, Kind, Record, Typology};
use rastro_pipeline::{analyze, AnalyzeOptions};
use rastro_store::AlertFilter;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Re-analyse everything instead of only what changed since the last run.
    #[arg(long)]
    pub full: bool,
    /// Analysis clock (RFC 3339) for status and ETA; defaults to now.
    #[arg(long)]
    pub now: Option<String>,
    /// Extra catalogue entries (TOML with [[chemical]] tables).
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
    /// Machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
    /// H3 resolution of the lead grid (7 to 10 make sense; 9 is about 0.1 km² per cell).
    #[arg(long, default_value_t = 9)]
    pub lead_resolution: u8,
    /// Gi* distance band for leads, in metres.
    #[arg(long, default_value_t = 1000.0)]
    pub lead_band_m: f64,
    /// Gi* z-score a cell needs to count as significant (3.09 is one-sided p = 0.001).
    #[arg(long, default_value_t = 3.09)]
    pub lead_z_min: f64,
}

/// What `rastro analyze` did: detection, then leads.
#[derive(serde::Serialize)]
pub struct AnalyzeOutcome {
    #[serde(flatten)]
    pub analysis: rastro_pipeline::AnalyzeReport,
    pub leads: rastro_pipeline::LeadsReport,
}

pub fn catalogue(path: Option<&PathBuf>) -> anyhow::Result<Catalogue> {
    let mut c = Catalogue::builtin();
    if let Some(p) = path {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("reading catalogue {}", p.display()))?;
        c.merge_toml(&text)
            .with_context(|| format!("{}: invalid catalogue", p.display()))?;
    }
    Ok(c)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn run_analyze(g: &Global, a: &AnalyzeArgs) -> anyhow::Result<AnalyzeOutcome> {
    let lead_cfg = rastro_fuse::LeadConfig {
        resolution: a.lead_resolution,
        band_m: a.lead_band_m,
        z_min: a.lead_z_min,
        ..Default::default()
    };
    lead_cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut store = open_store(g)?;
    let now = match &a.now {
        Some(t) => rastro_core::parse_time_ms(t).map_err(|e| anyhow::anyhow!("--now: {e}"))?,
        None => now_ms(),
    };
    let opts = AnalyzeOptions {
        config: rastro_detect::Config::default(),
        now_ms: now,
        full: a.full,
        catalogue: catalogue(a.catalogue.as_ref())?,
    };
    let bar = ProgressBar::with_draw_target(
        None,
        if g.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("analysing [{bar:30}] {pos}/{len} consignments eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let report = analyze(&mut store, &opts, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    let leads = rastro_pipeline::compute_leads(&mut store, now, &lead_cfg)?;
    super::audit::sign_after_write(g, &mut store)?;
    Ok(AnalyzeOutcome {
        analysis: report,
        leads,
    })
}

pub fn analyze_cmd(g: &Global, a: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let t0 = std::time::Instant::now();
    let outcome = run_analyze(g, &a)?;
    let report = &outcome.analysis;
    if a.json {
        print_json(&outcome)?;
    } else {
        println!(
            "analysed {} of {} consignments in {:.1} s ({} fixes used, {} rejected; {} consignments without observations; {} unlinked subjects; {} undeclared consignment ids in custody)",
            report.consignments_analysed,
            report.consignments_total,
            t0.elapsed().as_secs_f64(),
            report.fixes_used,
            report.fixes_rejected,
            report.consignments_without_observations,
            report.unlinked_subjects,
            report.undeclared_consignment_ids
        );
        for (t, n) in &report.alerts {
            println!("  {t:<24} {n} alerts");
        }
        let l = &outcome.leads;
        println!(
            "leads: {} from {} evidence items over {} cells ({} with evidence, {} significant); {} routine deliveries as background",
            l.leads,
            l.evidence.values().sum::<usize>(),
            l.cells_analysed,
            l.cells_with_evidence,
            l.significant_cells,
            l.routine_deliveries
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_typology(s: &str) -> Result<Typology, String> {
    Typology::parse(s).ok_or_else(|| {
        format!(
            "unknown typology {s:?}; one of: {}",
            Typology::ALL.map(|t| t.as_str()).join(", ")
        )
    })
}

#[derive(Args)]
pub struct AlertsArgs {
    #[arg(long, value_parser = parse_typology)]
    pub typology: Option<Typology>,
    /// Only alerts at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

pub fn alerts(g: &Global, a: AlertsArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_store(g)?;
    let since_ms = a
        .since
        .as_deref()
        .map(rastro_core::parse_time_ms)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let list = super::access::guard(g, &mut store)?.alerts(&AlertFilter {
        typology: a.typology,
        since_ms,
        subject: None,
        limit: Some(a.limit),
    })?;
    if a.json {
        print_json(&list)?;
    } else {
        for al in &list {
            println!(
                "{:.2} {:<22} {:<16} {} {} [{}] {}",
                al.score,
                al.typology.as_str(),
                al.subject,
                rastro_core::format_time_ms(al.time_ms),
                al.marking,
                al.evidence.len(),
                al.summary
            );
        }
        if list.is_empty() {
            eprintln!("no alerts; run `rastro analyze` after ingesting");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum ConsignmentCmd {
    /// Custody, track (GeoJSON), status and alerts with evidence for one consignment.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn consignment(g: &Global, cmd: ConsignmentCmd) -> anyhow::Result<ExitCode> {
    let ConsignmentCmd::Show { id, json } = cmd;
    let mut store = open_store(g)?;
    let mut guard = super::access::guard(g, &mut store)?;
    let Some(rec) = guard.record(Kind::Consignment, &id)? else {
        eprintln!("error: no consignment {id:?}");
        return Ok(ExitCode::from(1));
    };
    let custody: Vec<Record> = guard
        .records_by_ref(Kind::Custody, &id)?
        .into_iter()
        .map(|r| r.record)
        .collect();
    let alerts = guard.alerts(&AlertFilter {
        subject: Some(id.clone()),
        ..Default::default()
    })?;
    let operator = guard.viewer().is_none();
    // A user's track holds only the observations they may see, each judged by its marking.
    let user_fixes: Option<Vec<[f64; 2]>> = if operator {
        None
    } else {
        Some(
            guard
                .track(&id)?
                .map(|(_, f)| f.iter().map(|x| [x[0], x[1]]).collect())
                .unwrap_or_default(),
        )
    };
    drop(guard);
    // The stored state (stops, gaps) is built from all observations, so only the operator
    // sees it (docs/security.md).
    let state = if operator {
        store.consignment_state(&id)?
    } else {
        None
    };
    let state_json: serde_json::Value = state
        .as_ref()
        .and_then(|s| serde_json::from_str(&s.2).ok())
        .unwrap_or(serde_json::Value::Null);
    let vehicle = state_json.get("vehicle").and_then(|v| v.as_str());
    let coords = match user_fixes {
        Some(c) => c,
        None => operator_fixes(&store, &custody, vehicle)?,
    };
    let track = track_geojson(coords, &custody, vehicle);
    if json {
        print_json(&serde_json::json!({
            "consignment": rec.record,
            "source": rec.source,
            "line": rec.line,
            "state": state_json,
            "custody": custody,
            "alerts": alerts,
            "track": track,
        }))?;
    } else {
        if let Record::Consignment(c) = &rec.record {
            println!(
                "{} {} {} {} {} -> {} via {} ({})",
                c.id,
                c.marking,
                c.cas,
                c.description,
                format_args!("{} {}", c.quantity, c.unit),
                c.destination,
                c.port,
                c.declaration
            );
        }
        if let Some((status, eta, _)) = &state {
            println!(
                "status {status}, eta {}",
                eta.map(rastro_core::format_time_ms)
                    .unwrap_or_else(|| "-".into())
            );
        }
        for e in &custody {
            if let Record::Custody(e) = e {
                println!(
                    "  {} {:<9} {} {}",
                    rastro_core::format_time_ms(e.time_ms),
                    e.event,
                    e.place.as_deref().unwrap_or("-"),
                    e.id
                );
            }
        }
        let n = track["features"]
            .get(0)
            .and_then(|f| f["geometry"]["coordinates"].as_array())
            .map(Vec::len)
            .unwrap_or(0);
        println!("track: {n} points (use --json for GeoJSON)");
        for a in &alerts {
            println!(
                "  ALERT {:.2} {} {}: {} evidence: {}",
                a.score,
                a.typology,
                a.marking,
                a.summary,
                a.evidence.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every fix of the consignment's vehicle around its custody events (the operator's view).
fn operator_fixes(
    store: &rastro_store::Store,
    custody: &[Record],
    vehicle: Option<&str>,
) -> anyhow::Result<Vec<[f64; 2]>> {
    let times: Vec<i64> = custody
        .iter()
        .filter_map(|r| {
            if let Record::Custody(e) = r {
                Some(e.time_ms)
            } else {
                None
            }
        })
        .collect();
    let mut coords = Vec::new();
    if let (Some(v), Some(from), Some(to)) = (vehicle, times.iter().min(), times.iter().max()) {
        for (_, o) in store.observations_of(v, from - 3_600_000, to + 3 * 3_600_000)? {
            coords.push([o.lon, o.lat]);
        }
    }
    Ok(coords)
}

fn track_geojson(
    coords: Vec<[f64; 2]>,
    custody: &[Record],
    vehicle: Option<&str>,
) -> serde_json::Value {
    let mut features = vec![
        serde_json::json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": {"kind": "track", "vehicle": vehicle}}),
    ];
    for r in custody {
        if let Record::Custody(e) = r {
            if let Some(p) = e.position {
                features.push(serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]}, "properties": {"kind": "custody", "id": e.id, "event": e.event, "time": rastro_core::format_time_ms(e.time_ms), "tlp": e.marking.tlp}}));
            }
        }
    }
    serde_json::json!({"type": "FeatureCollection", "features": features})
}
