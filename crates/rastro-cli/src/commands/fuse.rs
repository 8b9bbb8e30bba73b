//! `rastro hotspots`: Getis-Ord local G / Gi* on any point CSV (esda `G_Local` semantics).

use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Args;
use rastro_fuse::{distance_band, g_local, Transform};
use rastro_ingest::table::{read_points, PointColumns};
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct HotspotsArgs {
    /// CSV with a header row.
    #[arg(long)]
    pub input: PathBuf,
    /// Neighbours are the other points within this distance (units of x and y).
    #[arg(long)]
    pub distance_band: f64,
    /// Gi* (each point counts as its own neighbour) instead of Gi.
    #[arg(long)]
    pub star: bool,
    /// Weights: B (binary) or R (row-standardised).
    #[arg(long, default_value = "R", value_parser = ["B", "R", "b", "r"])]
    pub transform: String,
    #[arg(long, default_value = "x")]
    pub x_col: String,
    #[arg(long, default_value = "y")]
    pub y_col: String,
    #[arg(long, default_value = "value")]
    pub value_col: String,
    #[arg(long)]
    pub json: bool,
}

pub fn hotspots(g: &Global, a: HotspotsArgs) -> anyhow::Result<ExitCode> {
    super::ctx::operator_only(g, "hotspots")?;
    anyhow::ensure!(
        a.distance_band.is_finite() && a.distance_band > 0.0,
        "--distance-band must be a positive number"
    );
    let file =
        std::fs::File::open(&a.input).with_context(|| format!("opening {}", a.input.display()))?;
    let cols = PointColumns {
        id: None,
        time: None,
        x: a.x_col.clone(),
        y: a.y_col.clone(),
        value: Some(a.value_col.clone()),
    };
    let name = a.input.display().to_string();
    let (rows, bad) = read_points(BufReader::with_capacity(1 << 20, file), &name, &cols)?;
    super::ctx::report_bad_rows(&name, &bad);
    let xy: Vec<(f64, f64)> = rows.iter().map(|r| (r.x, r.y)).collect();
    let y: Vec<f64> = rows.iter().map(|r| r.value).collect();
    let transform = if a.transform.eq_ignore_ascii_case("b") {
        Transform::Binary
    } else {
        Transform::Row
    };
    let result = g_local(&y, &distance_band(&xy, a.distance_band), a.star, transform);
    if a.json {
        print_json(&result)?;
    } else {
        println!("line,g,expected,variance,z,p");
        for (r, s) in rows.iter().zip(&result) {
            println!(
                "{},{},{},{},{},{}",
                r.line, s.g, s.expected, s.variance, s.z, s.p
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
