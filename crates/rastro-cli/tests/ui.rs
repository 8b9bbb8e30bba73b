//! The web UI in a real browser: runs the small demo, serves it, and drives Debian's headless
//! Chromium with Playwright (`web/tests/ui.mjs`) as a host-nation analyst, a partner liaison and
//! an auditor. Screenshots land in `target/ui-screenshots/`. Needs Node.js, `npm ci` in `web/`
//! and `/usr/bin/chromium`, which `.ci/run` installs.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

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
    let (db, d) = small_demo(dir.path());
    let (mut server, addr) = start_server(&db);
    let base = format!("http://{addr}");
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

    // The demo's lead package: its PDF (printed by Chromium) and a screenshot of its first
    // printed page, kept with the other screenshots.
    let packages: Vec<_> = std::fs::read_dir(d.join("packages"))
        .expect("the demo writes lead packages")
        .map(|e| e.unwrap().path())
        .collect();
    let pdf = packages
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "pdf"))
        .expect("the demo prints its best lead's package to PDF");
    let bytes = std::fs::read(pdf).unwrap();
    assert!(
        bytes.starts_with(b"%PDF-") && bytes.len() > 20_000,
        "{} is no PDF",
        pdf.display()
    );
    std::fs::copy(pdf, shots.join("package.pdf")).unwrap();
    let html = pdf.with_extension("html");
    let out = Command::new("node")
        .current_dir(&web)
        .arg("tests/package.mjs")
        .arg(&html)
        .arg(shots.join("package-print-es.png"))
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "package test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let len = std::fs::metadata(shots.join("package-print-es.png"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(len > 10_000, "package-print-es.png missing or empty");
}
