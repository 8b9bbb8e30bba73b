//! The web UI in a real browser: runs the small demo, serves it, and drives Debian's headless
//! Chromium with Playwright (`web/tests/ui.mjs`) as a host-nation analyst, a partner liaison and
//! an auditor. Screenshots land in `target/ui-screenshots/`. Needs Node.js, `npm ci` in `web/`
//! and `/usr/bin/chromium`, which `.ci/run` installs.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn the_ui_shows_each_user_what_they_may_see() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let web = root.join("web");
    assert!(
        web.join("node_modules/playwright-core").is_dir(),
        "web/node_modules is missing: run `npm ci` in web/ (or .ci/run, which does)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: `apt-get install chromium` (or .ci/run, which does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let d = dir.path().join("demo");
    rastro(
        &db,
        &["-q", "demo", "--no-serve", "--dir", d.to_str().unwrap()],
    );
    let mut server = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(|u| u.trim_end_matches("/api/v1").to_string())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    let shots = root.join("target/ui-screenshots");
    let out = Command::new("node")
        .current_dir(&web)
        .arg("tests/ui.mjs")
        .arg(&base)
        .arg(d.join("tokens.txt"))
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node (is Node.js installed?)");
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        out.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for shot in [
        "map-analyst-1366x768.png",
        "map-analyst-1920x1080.png",
        "alerts-analyst-es-1366x768.png",
        "leads-analyst-en-1366x768.png",
        "map-liaison-1366x768.png",
        "audit-1366x768.png",
        "track-analyst-1366x768.png",
        "consignments-analyst-1366x768.png",
    ] {
        let len = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 10_000, "{shot} missing or empty");
    }
}
