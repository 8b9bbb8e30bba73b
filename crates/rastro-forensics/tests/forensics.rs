//! Forensic linkage: scipy as the oracle for every pretreatment and distance, calibration on
//! generated reference collections, linking against brute force, grouping, and bad input.

mod common;

use proptest::prelude::*;
use rastro_forensics::link::link_with;
use rastro_forensics::{
    calibrate, groups, link_all, Distance, ForensicsError, Link, Method, Pretreatment, ProfileSet,
    SampleInput,
};
use std::io::Write;
use std::process::{Command, Stdio};

/// Equal to 1e-12, relative to the value's magnitude where it exceeds 1: raw peak areas run to
/// 1e4, where one unit in the last place of an f64 is already 2e-12.
fn check_close(what: &str, ours: f64, theirs: f64) {
    assert!(
        (ours - theirs).abs() <= 1e-12 * theirs.abs().max(1.0)
            || (ours.is_nan() && theirs.is_nan()),
        "{what}: rastro {ours:e} vs scipy {theirs:e} (difference {:e})",
        (ours - theirs).abs()
    );
}

#[test]
fn pretreatments_and_distances_equal_scipy_to_1e_12() {
    let cfg = common::config(30);
    let (set, rejected) = ProfileSet::build(&cfg, &common::samples(11, 12, 3, 30, 0.3));
    assert!(rejected.is_empty(), "{rejected:?}");
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for p in Pretreatment::ALL {
        for d in Distance::ALL {
            for k in 0..12 {
                let (u, v) = (
                    &set.profiles[k].areas,
                    &set.profiles[(k * 7 + 3) % set.len()].areas,
                );
                let (pu, pv) = (p.apply(u), p.apply(v));
                ours.push((p, d, pu.clone(), pv.clone(), d.raw(&pu, &pv)));
                cases.push(serde_json::json!({"pretreatment": p.name(), "distance": d.name(), "u": u, "v": v}));
            }
        }
    }
    let mut child = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/scipy_oracle.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (bench/requirements.txt installs scipy)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "scipy oracle failed");
    let theirs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs.len(), ours.len());
    for ((p, d, pu, pv, value), t) in ours.iter().zip(&theirs) {
        let what = format!("{} + {}", p.name(), d.name());
        for (a, b) in pu.iter().zip(t["u"].as_array().unwrap()) {
            check_close(&format!("{what} pretreated u"), *a, b.as_f64().unwrap());
        }
        for (a, b) in pv.iter().zip(t["v"].as_array().unwrap()) {
            check_close(&format!("{what} pretreated v"), *a, b.as_f64().unwrap());
        }
        check_close(&what, *value, t["value"].as_f64().unwrap());
    }
}

#[test]
fn calibration_separates_groups_and_holds_the_stated_rate() {
    let cfg = common::config(30);
    let (set, _) = ProfileSet::build(&cfg, &common::samples(3, 40, 5, 30, 0.15));
    let c = calibrate(&cfg, &set).unwrap();
    assert_eq!(c.linked_pairs, 40 * 10);
    assert_eq!(c.candidates.len(), 20);
    assert!(c.auc > 0.95, "AUC {}", c.auc);
    assert!(c.false_link_rate <= 0.01, "{}", c.false_link_rate);
    assert!(c.true_link_rate > 0.9, "{}", c.true_link_rate);
    // Dilution varies fivefold: on raw areas only a scale-free distance can win.
    if c.method.pretreatment == Pretreatment::None {
        assert!(
            matches!(c.method.distance, Distance::Pearson | Distance::Cosine),
            "{}",
            c.method
        );
    }
    let none_best = c
        .candidates
        .iter()
        .filter(|k| {
            k.method.pretreatment == Pretreatment::None
                && !matches!(k.method.distance, Distance::Pearson | Distance::Cosine)
        })
        .map(|k| k.true_link_rate)
        .fold(0.0, f64::max);
    assert!(none_best < c.true_link_rate);
    // The rate read back at the cut never exceeds what was stated.
    assert!(c.false_link_rate_at(c.cut + 1e-12) <= 0.01);
    // The ROC curve climbs from (0,0) to (1,1).
    assert_eq!(c.roc.first(), Some(&(0.0, 0.0)));
    assert_eq!(c.roc.last(), Some(&(1.0, 1.0)));
    assert!(c
        .roc
        .windows(2)
        .all(|w| w[1].0 >= w[0].0 && w[1].1 >= w[0].1));
}

#[test]
fn too_few_reference_pairs_is_a_clear_error() {
    let cfg = common::config(10);
    let (set, _) = ProfileSet::build(&cfg, &common::samples(1, 3, 2, 10, 0.1));
    let e = calibrate(&cfg, &set).unwrap_err();
    assert!(
        matches!(e, ForensicsError::TooFewReferencePairs { linked: 3, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("reference_group"), "{e}");
}

#[test]
fn linking_finds_the_groups_and_grouping_resists_a_false_bridge() {
    let cfg = common::config(30);
    let (set, _) = ProfileSet::build(&cfg, &common::samples(5, 30, 4, 30, 0.12));
    let c = calibrate(&cfg, &set).unwrap();
    let links = link_all(&set, 30, &c, 100_000).unwrap();
    let group_of = |i: u32| set.profiles[i as usize].group.clone().unwrap();
    let true_links = links
        .links
        .iter()
        .filter(|l| group_of(l.a) == group_of(l.b))
        .count();
    assert!(true_links as f64 >= 0.9 * 30.0 * 6.0, "{true_links}");
    let mut with_bridge = links.links.clone();
    // A false link between the first samples of two groups, as a false link is: just past the cut.
    let s = c.cut + 1e-6;
    with_bridge.push(Link {
        a: 0,
        b: 4,
        raw: c.method.distance.unorient(s),
        score: s,
    });
    let gs = groups(set.len(), &with_bridge, c.cut, c.unlinked_median());
    // The bridge alone does not join groups 0 and 1.
    let of = |i: u32| gs.iter().position(|g| g.members.contains(&i));
    assert!(
        of(0).is_some() && of(4).is_some() && of(0) != of(4),
        "{gs:?}"
    );
    // At a 1% false-link rate some groups are alike (here two pairs of groups whose every
    // cross pair links, a shared dominant peak); the rest stay pure and whole.
    let pure = gs
        .iter()
        .filter(|g| {
            g.members
                .iter()
                .all(|m| group_of(*m) == group_of(g.members[0]))
        })
        .filter(|g| g.members.len() == 4)
        .count();
    assert!(pure >= 25, "{pure} of 30 groups pure and whole: {gs:?}");
    assert!(gs.iter().all(|g| g.mean_score > c.cut));
}

#[test]
fn bad_profiles_are_refused_with_reasons() {
    let cfg = common::config(5);
    let s = |id: &str, areas: Vec<(&str, f64)>| SampleInput {
        id: id.into(),
        seizure: Some("R-1".into()),
        group: None,
        areas: areas.into_iter().map(|(c, a)| (c.to_string(), a)).collect(),
    };
    let inputs = vec![
        s("empty", vec![]),
        s("negative", vec![("C00", 1.0), ("C01", -2.0), ("C02", 1.0)]),
        s("nan", vec![("C00", f64::NAN), ("C01", 1.0), ("C02", 1.0)]),
        s("unknown", vec![("C00", 1.0), ("X-99", 1.0), ("C02", 1.0)]),
        s("few", vec![("C00", 1.0), ("C01", 0.0)]),
        s("twice", vec![("C00", 1.0), ("C00", 1.0), ("C02", 1.0)]),
        s("good", vec![("C00", 1.0), ("C01", 2.0), ("C02", 3.0)]),
        s("good", vec![("C00", 1.0), ("C01", 2.0), ("C02", 3.0)]),
        SampleInput {
            seizure: None,
            ..s("orphan", vec![("C00", 1.0), ("C01", 2.0), ("C02", 3.0)])
        },
    ];
    let (set, rejected) = ProfileSet::build(&cfg, &inputs);
    assert_eq!(set.len(), 1);
    let reason = |id: &str| {
        rejected
            .iter()
            .find(|r| r.sample == id)
            .map(|r| r.reason.clone())
            .unwrap_or_default()
    };
    assert!(reason("empty").contains("no compounds"));
    assert!(reason("negative").contains("finite number ≥ 0"));
    assert!(reason("nan").contains("finite number ≥ 0"));
    assert!(reason("unknown").contains("\"X-99\" is not in the configured target list"));
    assert!(reason("few").contains("fewer than min_compounds"));
    assert!(reason("twice").contains("appears twice"));
    assert!(reason("good").contains("appears twice"));
    assert!(reason("orphan").contains("neither a seizure nor a reference group"));
    assert_eq!(rejected.len(), 8);
}

#[test]
fn configurations_that_cannot_work_are_refused() {
    use rastro_forensics::Config;
    for (text, needle) in [
        ("compounds = []", "compounds is empty"),
        ("compounds = [\"A\", \"A\"]", "listed twice"),
        (
            "compounds = [\"A\",\"B\",\"C\"]\nfalse_link_rate = 0",
            "false_link_rate",
        ),
        (
            "compounds = [\"A\",\"B\",\"C\"]\ndistances = [\"hamming\"]",
            "unknown variant",
        ),
        ("compounds = [\"A=B\"]", "'='"),
        (
            "compounds = [\"A\",\"B\"]\nmin_compounds = 3",
            "min_compounds",
        ),
    ] {
        let e = Config::parse(text, "f.toml").unwrap_err().to_string();
        assert!(e.contains(needle) && e.contains("f.toml"), "{text}: {e}");
    }
    assert_eq!(Config::fentanyl().compounds.len(), 40);
}

fn brute(set: &ProfileSet, dims: usize, m: Method, cut: f64) -> Vec<(u32, u32)> {
    let x = set.pretreated(m.pretreatment);
    let mut out = Vec::new();
    for i in 0..set.len() {
        for j in i + 1..set.len() {
            let s = m.distance.oriented(
                m.distance
                    .raw(&x[i * dims..(i + 1) * dims], &x[j * dims..(j + 1) * dims]),
            );
            if s > cut {
                out.push((i as u32, j as u32));
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn tiled_linking_equals_brute_force(seed in 0u64..1000, n_groups in 1usize..150, p in 0usize..4, d in 0usize..5, q in 0.0f64..1.0, constant in proptest::bool::ANY) {
        let cfg = common::config(12);
        // Up to 450 profiles: several tiles, so pivot blocking skips some tile pairs.
        let mut input = common::samples(seed, n_groups, 3, 12, 0.3);
        if constant {
            // A constant profile first: Pearson gives NaN for it, and it must not become the
            // pivot nor link.
            input.insert(0, SampleInput { id: "flat".into(), seizure: None, group: None, areas: (0..12).map(|k| (format!("C{k:02}"), 5.0)).collect() });
        }
        let (set, _) = ProfileSet::build(&cfg, &input);
        let m = Method { pretreatment: Pretreatment::ALL[p], distance: Distance::ALL[d] };
        // A cut at a quantile of the real scores, so some pairs fall on each side.
        let mut all: Vec<f64> = {
            let x = set.pretreated(m.pretreatment);
            (1..set.len()).map(|j| m.distance.oriented(m.distance.raw(&x[0..12], &x[j * 12..(j + 1) * 12]))).collect()
        };
        all.sort_by(f64::total_cmp);
        let cut = all.get(((all.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0.0);
        let got = link_with(&set, 12, m, cut, usize::MAX).unwrap();
        let mut pairs: Vec<(u32, u32)> = got.links.iter().map(|l| (l.a, l.b)).collect();
        pairs.sort();
        prop_assert_eq!(pairs, brute(&set, 12, m, cut));
    }

    #[test]
    fn distances_are_symmetric_and_sum_pretreatment_is_scale_free(areas in proptest::collection::vec(0.0f64..1e6, 6), other in proptest::collection::vec(0.0f64..1e6, 6), scale in 0.01f64..100.0) {
        prop_assume!(areas.iter().sum::<f64>() > 0.0 && other.iter().sum::<f64>() > 0.0);
        let scaled: Vec<f64> = areas.iter().map(|a| a * scale).collect();
        for p in [Pretreatment::Sum, Pretreatment::SumRoot4, Pretreatment::SumLog] {
            for (a, b) in p.apply(&areas).iter().zip(p.apply(&scaled)) {
                prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0));
            }
        }
        for d in Distance::ALL {
            let (u, v) = (Pretreatment::Sum.apply(&areas), Pretreatment::Sum.apply(&other));
            let (x, y) = (d.raw(&u, &v), d.raw(&v, &u));
            prop_assert!((x - y).abs() <= 1e-12 || (x.is_nan() && y.is_nan()));
            if !d.similarity() { prop_assert!(x >= 0.0); }
        }
    }
}
