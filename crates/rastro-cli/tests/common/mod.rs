//! Helpers shared by the end-to-end tests: run the real binary against a database.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

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

/// Runs the small demo (no server) into `dir`; returns the database and the demo folder, whose
/// `tokens.txt` holds the demo users' tokens.
#[allow(dead_code)]
pub fn small_demo(dir: &Path) -> (PathBuf, PathBuf) {
    let (db, d) = (dir.join("r.db"), dir.join("demo"));
    rastro(
        &db,
        &["-q", "demo", "--no-serve", "--dir", d.to_str().unwrap()],
    );
    (db, d)
}

/// Starts `rastro serve` on a free loopback port; returns the process and `host:port` read
/// from the line it prints once it listens.
#[allow(dead_code)]
pub fn start_server(db: &Path) -> (Child, String) {
    start_server_with(db, &[])
}

/// [`start_server`] with more `serve` options (`--max-body-mib 1`, `--tls-cert ...`).
#[allow(dead_code)]
pub fn start_server_with(db: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .arg("--db")
        .arg(db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rastro serve");
    let mut banner = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let addr = banner
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_string();
    (child, addr)
}

/// A demo user's token, from the demo folder's `tokens.txt`.
#[allow(dead_code)]
pub fn token_of(demo: &Path, user: &str) -> String {
    std::fs::read_to_string(demo.join("tokens.txt"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{user} ")))
        .unwrap_or_else(|| panic!("no token for {user}"))
        .trim()
        .to_string()
}

/// A loopback port free at the moment of asking, for a server a test starts.
#[allow(dead_code)]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
