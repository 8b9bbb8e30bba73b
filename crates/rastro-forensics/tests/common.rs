//! Profiles generated for the tests by a model of their own (not the simulator's): a group
//! signature, multiplicative noise, peaks under a detection limit dropped, random dilution.

use rand::{Rng, SeedableRng};
use rastro_forensics::{Config, SampleInput};

pub fn config(dims: usize) -> Config {
    let names: Vec<String> = (0..dims).map(|k| format!("\"C{k:02}\"")).collect();
    Config::parse(
        &format!(
            "compounds = [{}]\nfalse_link_rate = 0.01\n",
            names.join(",")
        ),
        "test.toml",
    )
    .unwrap()
}

fn normal(rng: &mut impl Rng) -> f64 {
    // Box–Muller.
    let u: f64 = rng.random_range(1e-12..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `groups` groups of `per` samples over `dims` compounds; group k's samples are `G{k}`.
pub fn samples(seed: u64, groups: usize, per: usize, dims: usize, noise: f64) -> Vec<SampleInput> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for g in 0..groups {
        let sig: Vec<f64> = (0..dims).map(|_| (normal(&mut rng) * 1.2).exp()).collect();
        for s in 0..per {
            let dilution = rng.random_range(0.2..1.0);
            let areas: Vec<(String, f64)> = sig
                .iter()
                .enumerate()
                .map(|(k, a)| (k, a * dilution * (normal(&mut rng) * noise).exp() * 1000.0))
                .filter(|(_, a)| *a > 60.0)
                .map(|(k, a)| (format!("C{k:02}"), a))
                .collect();
            out.push(SampleInput {
                id: format!("S-{g}-{s}"),
                seizure: None,
                group: Some(format!("G{g}")),
                areas,
            });
        }
    }
    out
}
