//! `rastro stops` against MovingPandas' TrajectoryStopDetector on the same generated tracks.
//! Needs python3 with movingpandas (`.ci/run` installs it from bench/requirements.txt).

use std::path::Path;
use std::process::Command;

/// Deterministic pseudo-random numbers (SplitMix64), so the test data never changes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Tracks that drive, dwell (with GPS jitter), and drive again, with irregular sampling and
/// some dwell lengths and jitters close to the thresholds, so the edge cases are exercised.
fn generate(path: &Path, tracks: usize, seed: u64) {
    let mut rng = Rng(seed);
    let mut s = String::from("id,time,x,y\n");
    for k in 0..tracks {
        let (mut x, mut y, mut t) = (
            rng.next() * 10_000.0,
            rng.next() * 10_000.0,
            1_767_225_600.0 + k as f64 * 100_000.0,
        );
        let mut heading = rng.next() * std::f64::consts::TAU;
        for _ in 0..(3 + (rng.next() * 5.0) as usize) {
            for _ in 0..(5 + (rng.next() * 30.0) as usize) {
                heading += (rng.next() - 0.5) * 0.6;
                let dt = 20.0 + rng.next() * 70.0;
                let v = 5.0 + rng.next() * 20.0;
                x += heading.cos() * v * dt;
                y += heading.sin() * v * dt;
                t += dt.round();
                s.push_str(&format!("T{k},{t},{x:.3},{y:.3}\n"));
            }
            let dwell_points = (rng.next() * 40.0) as usize;
            let jitter = 10.0 + rng.next() * 60.0;
            for _ in 0..dwell_points {
                t += (20.0 + rng.next() * 70.0).round();
                s.push_str(&format!(
                    "T{k},{t},{:.3},{:.3}\n",
                    x + (rng.next() - 0.5) * jitter,
                    y + (rng.next() - 0.5) * jitter
                ));
            }
        }
    }
    std::fs::write(path, s).unwrap();
}

fn oracle(input: &Path, max_d: f64, min_s: f64) -> Vec<(String, i64, i64)> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oracles/movingpandas_stops.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(input)
        .arg(max_d.to_string())
        .arg(min_s.to_string())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "MovingPandas oracle failed (install bench/requirements.txt): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut r: Vec<(String, i64, i64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["start_s"].as_f64().unwrap() as i64,
                s["end_s"].as_f64().unwrap() as i64,
            )
        })
        .collect();
    r.sort();
    r
}

fn rastro(input: &Path, max_d: f64, min_s: f64) -> Vec<(String, i64, i64)> {
    let out = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .args(["stops", "--input"])
        .arg(input)
        .args([
            "--x-col",
            "x",
            "--y-col",
            "y",
            "--max-diameter",
            &max_d.to_string(),
            "--min-duration",
            &min_s.to_string(),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = |s: &str| rastro_core::parse_time_ms(s).unwrap() / 1000;
    let mut r: Vec<(String, i64, i64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                t(s["start"].as_str().unwrap()),
                t(s["end"].as_str().unwrap()),
            )
        })
        .collect();
    r.sort();
    r
}

#[test]
fn rastro_stops_equal_movingpandas_stops() {
    let dir = tempfile::tempdir().unwrap();
    let mut total = 0;
    for (seed, max_d, min_s) in [
        (1u64, 50.0, 300.0),
        (2, 30.0, 600.0),
        (3, 80.0, 120.0),
        (4, 40.0, 900.0),
    ] {
        let input = dir.path().join(format!("tracks-{seed}.csv"));
        generate(&input, 40, seed);
        let want = oracle(&input, max_d, min_s);
        let got = rastro(&input, max_d, min_s);
        assert!(!want.is_empty(), "the generated data must contain stops");
        assert_eq!(
            got, want,
            "seed {seed}, max_diameter {max_d}, min_duration {min_s}"
        );
        total += want.len();
    }
    assert!(total > 50, "only {total} stops compared");
}
