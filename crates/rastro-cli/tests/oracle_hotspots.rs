//! `rastro hotspots` against PySAL esda `G_Local` with libpysal `DistanceBand` weights, on the
//! same generated points, for binary and row-standardised weights, with and without star; every
//! G, E[G], V[G], z and p must agree to 1e-9.

use std::path::Path;
use std::process::Command;

fn generate(path: &Path, n: usize, seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut s = String::from("x,y,value\n");
    for _ in 0..n {
        let (x, y) = (next() * 1000.0, next() * 1000.0);
        // A hot corner, so the statistics are not all noise.
        let v = next() * 5.0 + if x < 250.0 && y < 250.0 { 8.0 } else { 0.0 };
        s.push_str(&format!("{x:.4},{y:.4},{v:.4}\n"));
    }
    std::fs::write(path, s).unwrap();
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

#[test]
fn rastro_hotspots_equal_esda_for_every_weight_and_star_combination() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("points.csv");
    generate(&input, 600, 11);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oracles/esda_glocal.py");
    for (star, transform) in [(false, "B"), (false, "R"), (true, "B"), (true, "R")] {
        let band = "90";
        let oracle = Command::new("python3")
            .arg(&script)
            .arg(&input)
            .arg(band)
            .arg(if star { "1" } else { "0" })
            .arg(transform)
            .output()
            .expect("python3 runs");
        assert!(
            oracle.status.success(),
            "esda oracle failed (install bench/requirements.txt): {}",
            String::from_utf8_lossy(&oracle.stderr)
        );
        let want: serde_json::Value = serde_json::from_slice(&oracle.stdout).unwrap();
        let mut args = vec![
            "hotspots",
            "--input",
            input.to_str().unwrap(),
            "--distance-band",
            band,
            "--transform",
            transform,
            "--json",
        ];
        if star {
            args.push("--star");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_rastro"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let (want, got) = (want.as_array().unwrap(), got.as_array().unwrap());
        assert_eq!(want.len(), got.len());
        let mut significant = 0;
        for (i, (w, g)) in want.iter().zip(got).enumerate() {
            for (wk, gk) in [
                ("g", "g"),
                ("e", "expected"),
                ("v", "variance"),
                ("z", "z"),
                ("p", "p"),
            ] {
                let (a, b) = (
                    g[gk].as_f64().unwrap_or(f64::NAN),
                    w[wk].as_f64().unwrap_or(f64::NAN),
                );
                assert!(
                    close(a, b),
                    "star {star} {transform}, point {i}, {gk}: rastro {a} esda {b}"
                );
            }
            if w["p"].as_f64().is_some_and(|p| p < 0.01) {
                significant += 1;
            }
        }
        assert!(
            significant > 5,
            "the data should hold a hot spot ({significant} significant points)"
        );
    }
}
