//! Keeps the codebase honest: every module documents itself, no leftover debugging, and the
//! boundaries ARCHITECTURE.md promises hold (SQL only in rastro-store, the simulator's truth
//! never a dependency of analysis, the CLI the only crate that touches argv and the terminal).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n != "target" && n != "snapshots")
            {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn crates() -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(root().join("crates"))
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect()
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("fuzz"), &mut files);
    assert!(files.len() > 10);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            !text
                .lines()
                .find(|l| !l.trim().is_empty() && !l.starts_with("#!"))
                .is_some_and(|l| l.starts_with("//!"))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a leading //! line: {missing:#?}"
    );
}

#[test]
fn no_leftover_markers_or_debug_macros() {
    let banned = [
        concat!("FIX", "ME"),
        concat!("db", "g!("),
        concat!("tod", "o!("),
        concat!("unimpl", "emented!("),
    ];
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    let mut hits = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            for b in banned {
                if line.contains(b) {
                    hits.push(format!("{}:{}: {b}", f.display(), n + 1));
                }
            }
        }
    }
    assert!(hits.is_empty(), "{hits:#?}");
}

#[test]
fn only_the_store_speaks_sql() {
    let sql = ["SELECT ", "INSERT INTO", "CREATE TABLE", "rusqlite"];
    let mut hits = Vec::new();
    for (name, dir) in crates() {
        if name == "rastro-store" {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for s in sql {
                if text.contains(s) {
                    hits.push(format!("{}: {s}", f.display()));
                }
            }
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        if manifest.contains("rusqlite") {
            hits.push(format!("{name}/Cargo.toml depends on rusqlite"));
        }
    }
    assert!(hits.is_empty(), "SQL outside rastro-store: {hits:#?}");
}

fn deps(name: &str) -> Vec<String> {
    let manifest =
        std::fs::read_to_string(root().join("crates").join(name).join("Cargo.toml")).unwrap();
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_deps = l == "[dependencies]";
            continue;
        }
        if in_deps {
            if let Some(dep) = l
                .split(['=', '.'])
                .next()
                .map(str::trim)
                .filter(|d| d.starts_with("rastro-"))
            {
                out.push(dep.to_string());
            }
        }
    }
    out
}

/// Every rastro crate `name` depends on, directly or not.
fn closure(name: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut stack = deps(name);
    while let Some(d) = stack.pop() {
        if !seen.contains(&d) {
            stack.extend(deps(&d));
            seen.push(d);
        }
    }
    seen
}

#[test]
fn the_simulator_truth_never_reaches_analysis() {
    // Analysis and everything that feeds it may not depend on the simulator, even indirectly.
    let analysis = [
        "rastro-core",
        "rastro-store",
        "rastro-ingest",
        "rastro-pipeline",
        "rastro-track",
        "rastro-detect",
        "rastro-fuse",
        "rastro-policy",
        "rastro-audit",
        "rastro-server",
    ];
    for (name, _) in crates() {
        if analysis.contains(&name.as_str()) {
            let c = closure(&name);
            assert!(
                !c.contains(&"rastro-sim".to_string()),
                "{name} depends on rastro-sim: {c:?}"
            );
            assert!(
                !c.contains(&"rastro-eval".to_string()),
                "{name} depends on rastro-eval: {c:?}"
            );
        }
    }
}

#[test]
fn the_simulator_drives_its_own_roads() {
    // Lesson of issue 14: analytics tuned against a simulator that shares their model of the
    // world measure the simulator. The simulator takes only public facts from rastro-geo
    // (cities, ports, urban radii); its roads, stops and routes are its own (world/roads.rs).
    // The road graph the analytics fall back on (nodes, edges, paths, roadside stops, the
    // road factor) must not appear in it.
    let forbidden = [
        "ROAD_FACTOR",
        "rastro_geo::Roadside",
        "g.path(",
        "g.path_length_m",
        "g.roadside",
        "g.port_node",
        "g.nearest_node",
        "g.node_name",
        "g.nodes",
        "g.adj",
        "g.edges",
    ];
    let mut files = Vec::new();
    rust_files(&crates()["rastro-sim"].join("src"), &mut files);
    assert!(!files.is_empty());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            for bad in forbidden {
                assert!(
                    !line.contains(bad),
                    "{}:{}: the simulator uses the analytics' road graph ({bad}); drive on \
                     world/roads.rs instead",
                    f.display(),
                    n + 1
                );
            }
        }
    }
}

#[test]
fn analysis_crates_do_no_io() {
    // The pure stages take values and return values; the store and the filesystem are the
    // pipeline's business.
    let pure = [
        "rastro-core",
        "rastro-track",
        "rastro-detect",
        "rastro-fuse",
        "rastro-resolve",
    ];
    let io = ["std::fs", "std::net", "File::open", "rastro_store", "tokio"];
    let mut hits = Vec::new();
    for name in pure {
        let dir = root().join("crates").join(name).join("src");
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for s in io {
                if text.contains(s) {
                    hits.push(format!("{}: {s}", f.display()));
                }
            }
        }
    }
    assert!(hits.is_empty(), "I/O in pure analysis crates: {hits:#?}");
}

#[test]
fn only_the_cli_reads_argv_or_draws_progress() {
    let mut hits = Vec::new();
    for (name, dir) in crates() {
        if name == "rastro-cli" {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for s in ["std::env::args", "indicatif", "clap::"] {
                if text.contains(s) {
                    hits.push(format!("{}: {s}", f.display()));
                }
            }
        }
    }
    assert!(hits.is_empty(), "{hits:#?}");
}

#[test]
fn every_crate_is_described_in_architecture_md() {
    let arch = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    for (name, _) in crates() {
        assert!(
            arch.contains(&format!("`{name}`")),
            "ARCHITECTURE.md does not describe {name}"
        );
    }
}

/// ARCHITECTURE.md names every table of the current schema and every route of the API.
#[test]
fn every_schema_table_and_api_route_is_in_architecture_md() {
    let arch = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let node = rastro_app::Node::open(&dir.path().join("t.db")).unwrap();
    let tables = node.schema_tables().unwrap();
    assert!(tables.len() > 15, "{tables:?}");
    let missing: Vec<&String> = tables
        .iter()
        .filter(|t| !arch.contains(&format!("`{t}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not describe tables {missing:?}"
    );
    let doc: serde_json::Value = serde_json::from_str(&rastro_server::openapi_json()).unwrap();
    let missing: Vec<&String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|p| !arch.contains(&format!("`{}`", p.trim_start_matches("/api/v1"))))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not list routes {missing:?}"
    );
}

/// The enforcement point is sealed by the dependency graph: only the application layer and
/// the pipeline (the system actor) reach the store; front-ends reach it through rastro-app.
#[test]
fn only_the_application_layer_and_the_pipeline_reach_the_store() {
    for (name, _) in crates() {
        if deps(&name).contains(&"rastro-store".to_string()) {
            assert!(
                ["rastro-app", "rastro-pipeline"].contains(&name.as_str()),
                "{name} depends on rastro-store directly: go through rastro-app's guard"
            );
        }
    }
    for front in ["rastro-cli", "rastro-server"] {
        assert!(deps(front).contains(&"rastro-app".to_string()), "{front}");
        assert!(
            !deps(front).contains(&"rastro-pipeline".to_string()),
            "{front} reaches the pipeline around rastro-app"
        );
    }
    // The simulator shares no analysis code.
    for d in closure("rastro-sim") {
        assert!(
            ![
                "rastro-detect",
                "rastro-fuse",
                "rastro-learn",
                "rastro-track",
                "rastro-pipeline",
                "rastro-store"
            ]
            .contains(&d.as_str()),
            "rastro-sim depends on {d}"
        );
    }
}

#[test]
fn every_record_kind_is_documented_in_formats_md() {
    let doc = std::fs::read_to_string(root().join("docs/formats.md")).unwrap();
    for kind in rastro_core::Kind::ALL {
        for col in rastro_ingest::columns(kind) {
            assert!(
                doc.contains(&format!("`{col}`")),
                "docs/formats.md does not document column {col} of {kind}"
            );
        }
    }
}

/// The UI that `rastro serve` embeds (`web/dist/`) was built from the sources as they are now:
/// `web/build.mjs` writes a digest of them, which this recomputes the same way.
#[test]
fn the_embedded_ui_is_built_from_the_current_sources() {
    use sha2::{Digest, Sha256};
    fn walk(d: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names {
            let p = d.join(&n);
            let r = format!("{rel}/{n}");
            if p.is_dir() {
                walk(&p, &r, out);
            } else {
                out.push((r, p));
            }
        }
    }
    let web = root().join("web");
    let mut files: Vec<(String, PathBuf)> = ["build.mjs", "package.json", "package-lock.json"]
        .iter()
        .map(|f| (f.to_string(), web.join(f)))
        .collect();
    walk(&web.join("src"), "src", &mut files);
    let mut h = Sha256::new();
    for (name, path) in &files {
        h.update(name.as_bytes());
        h.update(std::fs::read(path).unwrap());
    }
    let now = hex_of(&h.finalize());
    let built = std::fs::read_to_string(web.join("dist/SOURCES.sha256")).unwrap();
    assert_eq!(
        built.trim(),
        now,
        "web/dist is stale: run `npm ci && npm run build` in web/ and commit web/dist"
    );
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every status and typology the server can send has a translation in both of the UI's
/// languages, and the UI filters by no status the server never sends.
#[test]
fn the_ui_knows_every_status_and_typology_the_server_sends() {
    let web = root().join("web/src");
    let keys = |lang: &str| -> Vec<String> {
        std::fs::read_to_string(web.join(format!("locales/{lang}.ftl")))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_string()))
            .collect()
    };
    let (es, en) = (keys("es"), keys("en"));
    let mut wanted: Vec<String> = rastro_core::ConsignmentStatus::ALL
        .iter()
        .map(|s| format!("status-{}", s.as_str()))
        .collect();
    wanted.extend(
        rastro_core::LeadStatus::ALL
            .iter()
            .map(|s| format!("status-{}", s.as_str())),
    );
    wanted.extend(
        rastro_core::Typology::ALL
            .iter()
            .map(|t| format!("typology-{}", t.as_str())),
    );
    for k in &wanted {
        assert!(es.contains(k), "es.ftl lacks {k}");
        assert!(en.contains(k), "en.ftl lacks {k}");
    }
    for k in es
        .iter()
        .filter(|k| k.starts_with("status-") && *k != "status-any")
    {
        assert!(
            wanted.contains(k),
            "es.ftl translates {k}, which the server never sends"
        );
    }
    let html = std::fs::read_to_string(web.join("index.html")).unwrap();
    for opt in html.split("<option value=\"").skip(1) {
        let v = opt.split('"').next().unwrap();
        if !v.is_empty() && html.contains("status-filter") {
            assert!(
                rastro_core::ConsignmentStatus::ALL
                    .iter()
                    .any(|s| s.as_str() == v)
                    || !opt.contains("data-l10n=\"status-"),
                "the UI filters by status {v:?}, which the server never sends"
            );
        }
    }
}
