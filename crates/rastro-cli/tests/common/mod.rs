//! Helpers shared by the end-to-end tests: run the real binary against a database.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `rastro --db DB ARGS...` whatever its outcome.
#[allow(dead_code)]
pub fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rastro"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run rastro")
}

/// Runs `rastro --db DB ARGS...` and fails the test, with its stderr, unless it succeeded.
pub fn rastro(db: &Path, args: &[&str]) -> Output {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "rastro {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The command's stdout as JSON.
#[allow(dead_code)]
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}
