//! End-to-end ingest tests through the real `rastro` binary: bad input, idempotency, strict
//! mode, and kill-and-resume with SIGKILL at several points.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rastro(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rastro"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RASTRO_FAULT_KILL_AFTER_ROWS")
        .output()
        .expect("run rastro")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "rastro failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Ingests `files` into a fresh database and returns (ingest report, quarantine as
/// `file:line field: reason` lines, stats).
fn check(files: &[&Path], extra: &[&str]) -> (serde_json::Value, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut args: Vec<&str> = vec!["ingest", "--json"];
    args.extend_from_slice(extra);
    let paths: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let report = json(&rastro(&db, &args));
    let q = json(&rastro(&db, &["quarantine", "--json"]));
    let root = std::fs::canonicalize(root()).unwrap().display().to_string();
    let lines: Vec<String> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let file = Path::new(e["source"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let reason = e["reason"].as_str().unwrap().replace(&root, "<root>");
            format!(
                "{file}:{} {}: {reason}",
                e["line"],
                e["field"].as_str().unwrap_or("-")
            )
        })
        .collect();
    let stats = json(&rastro(&db, &["stats", "--json"]));
    (report, lines.join("\n"), stats)
}

fn bad(name: &str) -> PathBuf {
    root().join("tests/data/bad").join(name)
}

#[test]
fn every_example_file_ingests_cleanly_in_both_formats() {
    let dir = root().join("tests/data/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (report, quarantine, stats) = check(&refs, &["--strict"]);
    assert_eq!(quarantine, "");
    // Every JSON Lines file repeats its CSV twin: same records, so all duplicates.
    for r in report.as_array().unwrap() {
        let src = r["source"].as_str().unwrap();
        if src.ends_with(".jsonl") {
            assert_eq!(r["inserted"], 0, "{src}");
            assert!(r["duplicates"].as_u64().unwrap() > 0, "{src}");
        } else {
            assert!(r["inserted"].as_u64().unwrap() > 0, "{src}");
        }
    }
    assert_eq!(stats["observations"], 6);
    assert_eq!(stats["quarantined"], 0);
}

#[test]
fn bad_input_is_quarantined_with_file_line_field_and_reason() {
    let names = [
        "truncated_last_line.csv",
        "wrong_column_count.csv",
        "time_without_offset.csv",
        "latitude_95.csv",
        "invalid_utf8.csv",
        "empty.csv",
        "duplicate_id_conflict.csv",
        "consignment_errors.csv",
    ];
    let files: Vec<PathBuf> = names.iter().map(|n| bad(n)).collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (report, quarantine, stats) = check(&refs, &[]);
    insta::assert_snapshot!("bad_input_quarantine", quarantine);
    // The good lines of every file were still ingested.
    let inserted: Vec<u64> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["inserted"].as_u64().unwrap())
        .collect();
    assert_eq!(inserted, vec![1, 2, 1, 1, 1, 0, 2, 1]);
    assert_eq!(stats["quarantined"], 12);
}

#[test]
fn a_ten_megabyte_line_is_quarantined_without_stopping_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("huge.csv");
    let mut text = String::from("id,originator,tlp,releasable_to,source,subject_kind,subject,time,lat,lon,accuracy_m,confidence\n");
    text.push_str("H-1,ANAM,AMBER,,gps,vehicle,");
    text.push_str(&"x".repeat(10 << 20));
    text.push_str(",2026-03-03T15:10:00Z,19.06,-104.29,8,1\n");
    text.push_str("H-2,ANAM,AMBER,,gps,vehicle,V1,2026-03-03T15:11:00Z,19.07,-104.28,8,1\n");
    std::fs::write(&f, text).unwrap();
    let (report, quarantine, _) = check(&[&f], &[]);
    assert_eq!(report[0]["inserted"], 1);
    assert_eq!(
        quarantine,
        "huge.csv:2 -: line is 10485827 bytes, over the 1048576-byte limit"
    );
}

#[test]
fn a_file_of_another_kind_than_kind_says_is_rejected_whole() {
    let f = root().join("tests/data/examples/consignments.csv");
    let (report, quarantine, stats) = check(&[&f], &["--kind", "observation"]);
    assert_eq!(report[0]["inserted"], 0);
    assert_eq!(report[0]["rejected"], 1);
    assert!(quarantine.starts_with("consignments.csv:1 source: not a observation file: missing column(s) source, subject, time, lat, lon; it looks like a consignment file"), "{quarantine}");
    assert_eq!(stats["quarantined"], 1);
}

#[test]
fn truth_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("diversions.jsonl");
    std::fs::write(
        &f,
        "{\"truth_kind\":\"diversion\",\"consignment\":\"C1\"}\n",
    )
    .unwrap();
    let (report, quarantine, _) = check(&[&f], &[]);
    assert_eq!(report[0]["inserted"], 0);
    assert!(quarantine.contains("simulator truth file"), "{quarantine}");
}

#[test]
fn strict_mode_exits_1_when_anything_is_quarantined_even_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let f = bad("latitude_95.csv");
    let f = f.to_str().unwrap();
    let out = rastro(&db, &["ingest", "--strict", f]);
    assert_eq!(out.status.code(), Some(1));
    let out = rastro(&db, &["ingest", "--strict", f]);
    assert_eq!(out.status.code(), Some(1));
    let out = rastro(&db, &["ingest", f]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("latitude_95.csv:2: field lat: latitude 95 is outside -90..90"),
        "{stderr}"
    );
}

fn write_observations(path: &Path, n: usize) {
    use std::fmt::Write;
    let mut s = String::from("id,originator,tlp,releasable_to,source,subject_kind,subject,time,lat,lon,accuracy_m,confidence\n");
    for i in 0..n {
        if i % 997 == 13 {
            // A bad record now and then, so the quarantine is part of what must match.
            writeln!(
                s,
                "K-{i:07},ANAM,AMBER,,gps,vehicle,V{},2026-03-03T15:10:00,19.0,-104.0,8,1",
                i % 50
            )
            .unwrap();
        } else {
            let t = 1_772_550_000 + i as i64;
            let lat = 19.0 + (i % 1000) as f64 * 0.001;
            writeln!(
                s,
                "K-{i:07},ANAM,AMBER,,gps,vehicle,V{},{},{lat},-104.0,8,1",
                i % 50,
                rastro_core_time(t)
            )
            .unwrap();
        }
    }
    std::fs::write(path, s).unwrap();
}

fn rastro_core_time(unix_s: i64) -> String {
    let days = unix_s.div_euclid(86_400);
    let secs = unix_s.rem_euclid(86_400);
    // 2026-03-03 is day 20515 since the epoch; the test only needs distinct valid times.
    let day_of_month = 3 + (days - 20_515);
    format!(
        "2026-03-{:02}T{:02}:{:02}:{:02}Z",
        day_of_month,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn digest(db: &Path) -> String {
    json(&rastro(db, &["stats", "--json"]))["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn same_file_twice_leaves_the_database_unchanged_and_reports_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("obs.csv");
    write_observations(&f, 5_000);
    let db = dir.path().join("t.db");
    let first = json(&rastro(&db, &["ingest", "--json", f.to_str().unwrap()]));
    let d1 = digest(&db);
    let second = json(&rastro(&db, &["ingest", "--json", f.to_str().unwrap()]));
    assert_eq!(digest(&db), d1);
    assert_eq!(second[0]["inserted"], 0);
    assert_eq!(second[0]["duplicates"], first[0]["inserted"]);
    assert_eq!(second[0]["rejected"], first[0]["rejected"]);
    assert_eq!(
        second[0]["quarantined"], 0,
        "no quarantine entry is stored twice"
    );
}

#[test]
fn a_run_killed_with_sigkill_at_any_point_resumes_to_the_same_database() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("obs.csv");
    write_observations(&f, 30_000);
    let f = f.to_str().unwrap();
    let reference = dir.path().join("reference.db");
    let full = json(&rastro(
        &reference,
        &["ingest", "--json", "--batch-rows", "4096", f],
    ));
    let total = full[0]["inserted"].as_u64().unwrap();
    let want = digest(&reference);
    // Kill points: the first row, inside the first batch, exactly at a batch end, just after
    // a commit, in the middle, and on the very last rows.
    for kill_at in [1u64, 1000, 4096, 4097, 15_000, 29_960] {
        let db = dir.path().join(format!("killed-{kill_at}.db"));
        let out = Command::new(env!("CARGO_BIN_EXE_rastro"))
            .arg("--db")
            .arg(&db)
            .args(["ingest", "--batch-rows", "4096", f])
            .env("RASTRO_FAULT_KILL_AFTER_ROWS", kill_at.to_string())
            .output()
            .unwrap();
        assert_eq!(
            out.status.signal(),
            Some(9),
            "run should have died by SIGKILL at row {kill_at}"
        );
        let resumed = json(&rastro(
            &db,
            &["ingest", "--json", "--batch-rows", "4096", f],
        ));
        assert_eq!(
            digest(&db),
            want,
            "database after kill at row {kill_at} and resume differs"
        );
        // Rows committed before the kill come back as duplicates, never as new rows, and the
        // transaction the kill interrupted left nothing behind.
        let dup = resumed[0]["duplicates"].as_u64().unwrap();
        assert_eq!(
            resumed[0]["inserted"].as_u64().unwrap() + dup,
            total,
            "kill at {kill_at}"
        );
        assert!(
            dup < kill_at,
            "kill at {kill_at}: {dup} rows survived, more than were written"
        );
        if kill_at > 8192 {
            assert!(
                dup >= 4096,
                "kill at {kill_at}: committed batches were lost"
            );
        }
    }
}
