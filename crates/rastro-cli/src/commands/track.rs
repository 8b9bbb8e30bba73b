//! `rastro stops`: the general stop-detection tool (MovingPandas semantics) on any CSV.

use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Args;
use rastro_ingest::table::{read_points, PointColumns};
use rastro_track::{detect_stops, Metric};
use std::collections::HashMap;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct StopsArgs {
    /// CSV with a header row.
    #[arg(long)]
    pub input: PathBuf,
    /// Column with the trajectory id (one trajectory when absent from the file).
    #[arg(long, default_value = "id")]
    pub id_col: String,
    /// Column with the time: RFC 3339 or seconds since the epoch.
    #[arg(long, default_value = "time")]
    pub time_col: String,
    /// Latitude column (WGS84 degrees).
    #[arg(long, conflicts_with_all = ["x_col", "y_col"])]
    pub lat_col: Option<String>,
    /// Longitude column (WGS84 degrees).
    #[arg(long, requires = "lat_col")]
    pub lon_col: Option<String>,
    /// Planar x column, metres.
    #[arg(long, requires = "y_col")]
    pub x_col: Option<String>,
    /// Planar y column, metres.
    #[arg(long, requires = "x_col")]
    pub y_col: Option<String>,
    /// Largest diameter of a stop, metres.
    #[arg(long)]
    pub max_diameter: f64,
    /// Shortest stop, seconds.
    #[arg(long)]
    pub min_duration: f64,
    /// Machine-readable output on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(serde::Serialize)]
struct StopOut {
    id: String,
    start: String,
    end: String,
    duration_s: f64,
    x: f64,
    y: f64,
    points: usize,
}

pub fn stops(g: &Global, a: StopsArgs) -> anyhow::Result<ExitCode> {
    super::ctx::operator_only(g, "stops")?;
    anyhow::ensure!(
        a.max_diameter.is_finite() && a.max_diameter > 0.0 && a.min_duration.is_finite() && a.min_duration >= 0.0,
        "--max-diameter must be a positive number and --min-duration a non-negative number of seconds"
    );
    let (metric, cols) = match (&a.x_col, &a.y_col, &a.lat_col, &a.lon_col) {
        (Some(x), Some(y), _, _) => (Metric::Planar, (x.clone(), y.clone())),
        (_, _, lat, lon) => (
            Metric::LatLon,
            (
                lon.clone().unwrap_or_else(|| "lon".into()),
                lat.clone().unwrap_or_else(|| "lat".into()),
            ),
        ),
    };
    let file =
        std::fs::File::open(&a.input).with_context(|| format!("opening {}", a.input.display()))?;
    let pc = PointColumns {
        id: Some(a.id_col.clone()),
        time: Some(a.time_col.clone()),
        x: cols.0,
        y: cols.1,
        value: None,
    };
    let name = a.input.display().to_string();
    let (rows, bad) = read_points(BufReader::with_capacity(1 << 20, file), &name, &pc)?;
    super::ctx::report_bad_rows(&name, &bad);
    // Group rows by trajectory (hashing, not comparing, the ids), then order the trajectories
    // by id so the output is deterministic.
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_id.entry(&*r.id).or_default().push(i);
    }
    let mut groups: Vec<(&str, Vec<usize>)> = by_id.into_iter().collect();
    groups.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let min_ms = (a.min_duration * 1000.0).round() as i64;
    let detect = |(id, mut idx): (&str, Vec<usize>)| -> Vec<StopOut> {
        // Stable sort by time: MovingPandas sorts each trajectory by its time index too.
        idx.sort_by_key(|&i| rows[i].t_ms);
        let t: Vec<i64> = idx.iter().map(|&i| rows[i].t_ms).collect();
        let x: Vec<f64> = idx.iter().map(|&i| rows[i].x).collect();
        let y: Vec<f64> = idx.iter().map(|&i| rows[i].y).collect();
        detect_stops(&t, &x, &y, metric, a.max_diameter, min_ms)
            .into_iter()
            .map(|s| StopOut {
                id: id.to_string(),
                start: rastro_core::format_time_ms(s.start_ms),
                end: rastro_core::format_time_ms(s.end_ms),
                duration_s: s.duration_s(),
                x: s.x,
                y: s.y,
                points: s.last - s.first + 1,
            })
            .collect()
    };
    // Trajectories are independent: split them over the available cores (two here), keeping
    // the output in id order.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = groups.len().div_ceil(threads).max(1);
    let mut parts: Vec<Vec<(&str, Vec<usize>)>> = Vec::new();
    let mut it = groups.into_iter().peekable();
    while it.peek().is_some() {
        parts.push(it.by_ref().take(chunk).collect());
    }
    let out: Vec<StopOut> = std::thread::scope(|sc| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|p| sc.spawn(move || p.into_iter().flat_map(detect).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if a.json {
        print_json(&out)?;
    } else {
        println!("id,start,end,duration_s,x,y,points");
        for s in &out {
            println!(
                "{},{},{},{},{},{},{}",
                s.id, s.start, s.end, s.duration_s, s.x, s.y, s.points
            );
        }
        eprintln!("{} stops in {} points", out.len(), rows.len());
    }
    Ok(ExitCode::SUCCESS)
}
