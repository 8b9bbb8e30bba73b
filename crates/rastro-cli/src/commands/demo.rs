//! `rastro demo`: simulate a scenario into a fresh folder, ingest it, analyse it and print the
//! evaluation: the whole system in one command.

use super::analysis::{run_analyze, AnalyzeArgs};
use super::ctx;
use super::Global;
use crate::output::Bar;
use anyhow::Context;
use clap::Args;
use rastro_app::{IngestOptions, OrgKind, Role};
use rastro_core::Kind;
use rastro_sim::{Config, Difficulty, Scale};
use std::path::PathBuf;
use std::process::ExitCode;

/// Operations the demo runs on the commander's best leads.
const OPERATIONS: usize = 5;
/// Cycles of operations the demo runs, each on the best leads not yet acted on.
const CYCLES: usize = 3;

/// Marks a folder as made by `rastro demo`, so a re-run may replace it.
const MARKER: &str = ".rastro-demo";

#[derive(Args)]
pub struct DemoArgs {
    #[arg(long, default_value = "small", value_parser = ["small", "medium", "national"])]
    pub scale: String,
    /// How hard the simulated world is on the analytics (roads, registry, telemetry, noise).
    #[arg(long, default_value = "medium", value_parser = ["easy", "medium", "hard"])]
    pub difficulty: String,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Folder for the scenario files (replaced if an earlier demo made it).
    #[arg(long, default_value = "rastro-demo")]
    pub dir: PathBuf,
    /// Do not start the server afterwards.
    #[arg(long)]
    pub no_serve: bool,
    /// Where the server listens after the demo.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
}

pub fn demo(g: &Global, a: DemoArgs) -> anyhow::Result<ExitCode> {
    ctx::operator_only(g, "demo")?;
    let t0 = std::time::Instant::now();
    // Stage lines are progress: stderr, and silent with -q.
    let say = |m: String| {
        if !g.quiet {
            eprintln!("{m}");
        }
    };
    // `--db` (or RASTRO_DB) when given; otherwise a database inside the demo folder, so the
    // demo never touches a ./rastro.db holding real work.
    let db = if g.db != std::path::Path::new("rastro.db") {
        g.db.clone()
    } else {
        a.dir.join("rastro.db")
    };
    let explicit_db = g.db != std::path::Path::new("rastro.db");
    anyhow::ensure!(!(explicit_db && db.exists()), "{} already exists; the demo needs a fresh database, and never writes into an existing one: choose another --db", db.display());
    if a.dir.exists() {
        anyhow::ensure!(
            a.dir.join(MARKER).exists(),
            "{} exists and was not made by `rastro demo`; choose another --dir",
            a.dir.display()
        );
        std::fs::remove_dir_all(&a.dir)
            .with_context(|| format!("removing the previous demo in {}", a.dir.display()))?;
    }
    std::fs::create_dir_all(&a.dir)?;
    std::fs::write(a.dir.join(MARKER), "made by rastro demo\n")?;
    let mut cfg = Config::default_config();
    cfg.apply_scale(Scale::parse(&a.scale).unwrap_or(Scale::Small));
    cfg.apply_difficulty(Difficulty::parse(&a.difficulty).unwrap_or(Difficulty::Medium));
    cfg.seed = a.seed;
    let data = a.dir.join("scenario");
    say(format!(
        "1/5 simulating a {} scenario ({} difficulty, seed {}) into {}",
        a.scale,
        a.difficulty,
        a.seed,
        data.display()
    ));
    let s = rastro_sim::run(&cfg, &data)?;
    say(format!(
        "    {} consignments, {} observations, {} diverted",
        s.consignments, s.observations, s.diverted
    ));

    let g2 = Global {
        db: db.clone(),
        ..g.clone()
    };
    say(format!("2/5 ingesting into {}", db.display()));
    // The agencies first: markings are judged against the organisations a deployment knows.
    let tokens = setup_access(&db, &a.dir)?;
    {
        let mut node = ctx::node(&g2)?;
        let bar = Bar::new(g.quiet);
        let opts = IngestOptions::default();
        for kind in [
            Kind::Place,
            Kind::Party,
            Kind::Vehicle,
            Kind::Consignment,
            Kind::Custody,
            Kind::Report,
            Kind::Sample,
            Kind::Observation,
        ] {
            let file = data.join(format!("{}.csv", file_stem(kind)));
            let r = node.console().ingest_path(&file, &opts, &bar)?;
            say(format!(
                "    {:<13} {:>9} inserted, {} rejected",
                kind.as_str(),
                r.stats.inserted,
                r.rejected
            ));
        }
        // The partner's flights: their requests first, then their sightings, checked against
        // them on ingest.
        let start_ms = rastro_core::parse_time_ms(&cfg.start).unwrap_or(0);
        let n = super::demo_ops::partner_requests(&g2, start_ms, i64::from(cfg.period_days) + 30)?;
        let r = node
            .console()
            .ingest_path(&data.join("partner-observations.csv"), &opts, &bar)?;
        say(format!(
            "    partner sightings {:>4} inserted: {} under one of {n} approved requests, {} flagged (see `rastro request collection --flagged`)",
            r.stats.inserted, r.collected_under_request, r.collection_flagged
        ));
    }
    say("3/5 analysing".to_string());
    let end = rastro_core::parse_time_ms(&cfg.start).unwrap_or(0)
        + i64::from(cfg.period_days + 30) * 86_400_000;
    // Analysis at the end of the period, then the operator's results against the truth: done
    // once before the operations and once after their outcomes.
    let analyse = || {
        run_analyze(
            &g2,
            &AnalyzeArgs {
                full: false,
                now: Some(rastro_core::format_time_ms(end)),
                json: false,
            },
        )
    };
    let evaluate = || -> anyhow::Result<rastro_eval::Evaluation> {
        let mut node = ctx::node(&g2)?;
        let (alerts, leads, states) = node.system("evaluation").operator_results()?;
        let mut e = rastro_eval::evaluate(&alerts, &leads, &states, &data)?;
        let assignments = node.system("evaluation").operator_entities()?;
        e.entities = Some(rastro_eval::entity_quality(&assignments, &data)?);
        super::eval::forensics(&mut node, &leads, &data, &mut e)?;
        Ok(e)
    };
    let report = analyse()?;
    say(format!(
        "    {} consignments analysed, {} alerts, {} leads",
        report.consignments_analysed,
        report.alerts.values().sum::<u64>(),
        report.leads.leads
    ));
    say("4/5 evaluating against the simulator's truth".to_string());
    let e = evaluate()?;
    print!("{}", rastro_eval::table(&e));
    println!();
    say("5/5 closing the loop: operations on the commander's best leads, outcomes from the truth, analysis again".to_string());
    // Cycles of operations (a month's worth each): the commander acts on the best leads not
    // yet acted on, the outcomes teach the scoring, and the next cycle picks from the
    // re-ranked leads. Each cycle compares the next picks ranked with and without what the
    // operations so far taught (the same leads, the first analysis's order).
    let operator_leads = || -> anyhow::Result<Vec<rastro_core::Lead>> {
        let mut node = ctx::node(&g2)?;
        Ok(node.system("evaluation").operator_results()?.1)
    };
    let before = operator_leads()?;
    let mut done = std::collections::BTreeSet::new();
    let mut sites: Vec<(f64, f64)> = Vec::new();
    let mut ops: Vec<(String, String, bool)> = Vec::new();
    let mut pdf = None;
    let mut cycles = Vec::new();
    for cycle in 1..=CYCLES {
        let lp =
            super::demo_ops::close_the_loop(&g2, &a.dir, &data, OPERATIONS, &done, ops.len() + 1)?;
        if lp.operations.is_empty() {
            break;
        }
        pdf = pdf.or(lp.pdf);
        for (_, lead, _) in &lp.operations {
            done.insert(lead.clone());
        }
        sites.extend(lp.sites.iter().copied());
        analyse()?;
        let now = operator_leads()?;
        let acted = |l: &&rastro_core::Lead| {
            sites.iter().any(|&(la, lo)| {
                rastro_core::geo::haversine_m(la, lo, l.lat, l.lon)
                    <= rastro_eval::OPERATION_FINDS_M
            })
        };
        let fmt = |p: Option<f64>| p.map(|p| format!("{p:.3}")).unwrap_or_else(|| "-".into());
        cycles.push(format!(
            "{cycle:<5}  {:>10}  {:>5}  {:>12}  {:>23}  {:>20}",
            lp.operations.len(),
            lp.operations.iter().filter(|o| o.2).count(),
            fmt(rastro_eval::lead_precision_at(
                &data,
                now.iter().map(|l| (l.lat, l.lon)),
                10
            )?),
            fmt(rastro_eval::lead_precision_at(
                &data,
                before.iter().filter(|l| !acted(l)).map(|l| (l.lat, l.lon)),
                OPERATIONS
            )?),
            fmt(rastro_eval::lead_precision_at(
                &data,
                now.iter().filter(|l| !acted(l)).map(|l| (l.lat, l.lon)),
                OPERATIONS
            )?),
        ));
        ops.extend(lp.operations);
    }
    let after = evaluate()?;
    let rates = ctx::node(&g2)?.operator()?.hit_rates()?;
    let p10 = |e: &rastro_eval::Evaluation| {
        e.leads
            .as_ref()
            .and_then(|l| l.precision_at_10)
            .map(|p| format!("{p:.3}"))
            .unwrap_or_else(|| "-".into())
    };
    let found = ops.iter().filter(|o| o.2).count();
    println!(
        "operations: {} run end to end (package, plan, legal review, two approvals, execution, outcome); {} found a laboratory",
        ops.len(),
        found
    );
    for (id, lead, hit) in &ops {
        println!(
            "  {id} on {lead}: laboratory {}",
            if *hit { "confirmed" } else { "not found" }
        );
    }
    println!(
        "feedback by cycle ({OPERATIONS} operations a cycle on the best leads not yet acted on; a lead is correct within {:.0} m of a laboratory):",
        rastro_eval::LEAD_MATCH_M
    );
    println!("cycle  operations  found  precision@10  next {OPERATIONS} without feedback  next {OPERATIONS} with feedback");
    for c in &cycles {
        println!("{c}");
    }
    println!(
        "feedback: leads precision@10 {} before the outcomes, {} after; hit rates {}",
        p10(&e),
        p10(&after),
        rates
            .iter()
            .map(|r| format!("{} {}/{} ({:.2})", r.kind, r.hits, r.trials, r.rate))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let lp = super::demo_ops::LoopReport {
        operations: ops,
        pdf,
        sites,
    };
    if let Some(pdf) = &lp.pdf {
        say(format!("    package of the best lead: {pdf}"));
    }
    println!("scenario files: {}", data.display());
    println!("truth (never ingested): {}", data.join("truth").display());
    println!("database: {}", db.display());
    println!("try: rastro --db {} alerts | head", db.display());
    println!("     rastro --db {} leads", db.display());
    println!("demo users and their API tokens: {}", tokens.display());
    say(format!(
        "demo finished in {:.1} s",
        t0.elapsed().as_secs_f64()
    ));
    if !a.no_serve {
        let g2 = Global {
            db: db.clone(),
            ..g.clone()
        };
        let args = super::serve::ServeArgs {
            addr: a.addr,
            tls_cert: None,
            tls_key: None,
            max_body_mib: 16,
            pool_size: 8,
            federate: None,
        };
        super::serve::run_server(&g2, &args, |addr| {
            println!(
                "web UI: http://{addr}/ (log in with a token from {}); API: http://{addr}/api/v1",
                tokens.display()
            );
            println!("Ctrl-C stops the server");
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The simulator's originators as organisations, a partner liaison, and one user per role
/// that the demo shows; writes `name token` lines to `DIR/tokens.txt` (mode 0600).
fn setup_access(db: &std::path::Path, dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    let mut node = rastro_app::Node::open(db)?;
    let orgs = [
        (
            "ANAM",
            "Agencia Nacional de Aduanas de México",
            "MX",
            "customs",
        ),
        (
            "SAT",
            "Servicio de Administración Tributaria",
            "MX",
            "regulator",
        ),
        (
            "UIF",
            "Unidad de Inteligencia Financiera",
            "MX",
            "financial_intelligence",
        ),
        ("GN", "Guardia Nacional", "MX", "police"),
        ("SEMAR", "Secretaría de Marina", "MX", "navy"),
        (
            "FGR",
            "Fiscalía General de la República",
            "MX",
            "prosecutor",
        ),
        (
            "SFP",
            "Secretaría Anticorrupción y Buen Gobierno (auditor)",
            "MX",
            "regulator",
        ),
        (
            "DEA",
            "US Drug Enforcement Administration, liaison office",
            "US",
            "foreign_liaison",
        ),
    ];
    for (code, name, nation, kind) in orgs {
        node.admin().add_org(
            code,
            name,
            nation,
            OrgKind::parse(kind).unwrap_or(OrgKind::Other),
            ctx::now_ms(),
        )?;
    }
    let users = [
        ("analista", "SEMAR", "analyst"),
        ("comandante", "SEMAR", "commander"),
        ("enlace-dea", "DEA", "liaison"),
        ("auditora", "SFP", "auditor"),
        ("comandante-gn", "GN", "commander"),
        ("juridico", "FGR", "analyst"),
    ];
    let mut lines =
        String::from("# demo users (synthetic): name token; shown once, keep private\n");
    for (name, org, role) in users {
        let token = node
            .admin()
            .add_user(
                name,
                org,
                Role::parse(role).unwrap_or(Role::Analyst),
                ctx::now_ms(),
            )?
            .context("demo user already exists")?;
        lines.push_str(&format!("{name} {token}\n"));
    }
    let path = dir.join("tokens.txt");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    std::io::Write::write_all(&mut opts.open(&path)?, lines.as_bytes())?;
    Ok(path)
}

fn file_stem(kind: Kind) -> &'static str {
    match kind {
        Kind::Party => "parties",
        Kind::Place => "places",
        Kind::Consignment => "consignments",
        Kind::Vehicle => "vehicles",
        Kind::Custody => "custody",
        Kind::Observation => "observations",
        Kind::Report => "reports",
        Kind::Sample => "samples",
    }
}
