//! The demo's closing of the loop (issue 15): operations on the commander's best leads, run
//! end to end as the demo's users would (package, plan, legal review, two approvals,
//! execution, an outcome the simulator's truth decides: a laboratory within 250 m of the site
//! is found), then a second analysis that learns from the outcomes. What it prints on stdout
//! is deterministic; times and package hashes go to stderr.

use super::ctx;
use super::Global;
use rastro_app::ops::OpsCommand;
use rastro_app::package::Pap;
use rastro_ops::{LabFinding, OpRole, Outcome, Schedule, Site};
use std::path::Path;

/// What the loop did: per operation its lead and what it found.
pub struct LoopReport {
    pub operations: Vec<(String, String, bool)>,
    pub pdf: Option<String>,
    /// The sites acted on.
    pub sites: Vec<(f64, f64)>,
}

fn act(g: &Global, user: &str, id: &str, cmd: OpsCommand) -> anyhow::Result<()> {
    let g2 = Global {
        as_user: Some(user.into()),
        ..g.clone()
    };
    let mut node = ctx::node(&g2)?;
    ctx::guard(&g2, &mut node)?
        .act_on_operation(id, None, cmd, ctx::now_ms())
        .map_err(|e| anyhow::anyhow!("demo operation {id}, {user}: {e}"))?
        .ok_or_else(|| anyhow::anyhow!("demo operation {id} is not visible to {user}"))?;
    Ok(())
}

/// The partner's paperwork for its surveillance flights, before their sightings arrive: the
/// DEA liaison asks for one 30-day surveillance request per period over the Pacific corridor
/// (Manzanillo and Lázaro Cárdenas to Guadalajara and Mexico City), and the host commander
/// approves each an hour later. Sightings outside the corridor, in that first hour, or naming
/// no request that covers them are flagged on ingest.
pub fn partner_requests(g: &Global, start_ms: i64, days: i64) -> anyhow::Result<usize> {
    const DAY_MS: i64 = 86_400_000;
    let period_ms = rastro_sim::PARTNER_REQUEST_DAYS * DAY_MS;
    let n = (days * DAY_MS + period_ms - 1) / period_ms;
    let as_user = |u: &str| Global {
        as_user: Some(u.into()),
        ..g.clone()
    };
    let (liaison, cmdr) = (as_user("enlace-dea"), as_user("comandante"));
    for k in 1..=n {
        let id = format!("{}{k}", rastro_sim::PARTNER_REQUEST_PREFIX);
        let from = start_ms + (k - 1) * period_ms;
        let mut node = ctx::node(&liaison)?;
        let r = ctx::guard(&liaison, &mut node)?
            .create_request(
                &id,
                rastro_ops::RequestKind::Surveillance {
                    of: rastro_ops::Target::Area {
                        min_lat: 17.5,
                        min_lon: -105.0,
                        max_lat: 21.5,
                        max_lon: -98.5,
                    },
                },
                "vuelos de vigilancia sobre el corredor del Pacífico (sintético)",
                "acuerdo bilateral de cooperación (sintético)",
                (from, from + period_ms),
                from + period_ms,
                from,
            )
            .map_err(|e| anyhow::anyhow!("demo request {id}: {e}"))?;
        drop(node);
        let mut node = ctx::node(&cmdr)?;
        ctx::guard(&cmdr, &mut node)?
            .decide_request(
                &id,
                r.version,
                true,
                "vuelos coordinados con SEMAR",
                from + 3_600_000,
            )
            .map_err(|e| anyhow::anyhow!("demo request {id}: {e}"))?;
    }
    Ok(n as usize)
}

/// Runs an operation on each of the commander's `k` best leads not in `done` (leads already
/// acted on), numbering operations from `first`.
pub fn close_the_loop(
    g: &Global,
    dir: &Path,
    data: &Path,
    k: usize,
    done: &std::collections::BTreeSet<String>,
    first: usize,
) -> anyhow::Result<LoopReport> {
    let cmdr = Global {
        as_user: Some("comandante".into()),
        ..g.clone()
    };
    let mut node = ctx::node(&cmdr)?;
    let leads: Vec<_> = ctx::guard(&cmdr, &mut node)?
        .leads(1000)?
        .into_iter()
        .filter(|l| !done.contains(&l.id))
        .take(k)
        .collect();
    drop(node);
    let pkg_dir = dir.join("packages");
    std::fs::create_dir_all(&pkg_dir)?;
    let mut report = LoopReport {
        operations: Vec::new(),
        pdf: None,
        sites: Vec::new(),
    };
    let analyst = Global {
        as_user: Some("analista".into()),
        ..g.clone()
    };
    for (i, lead) in leads.iter().enumerate() {
        // The package the commander reads: HTML always, PDF for the first when Chromium is here.
        let mut node = ctx::node(&cmdr)?;
        let p = ctx::guard(&cmdr, &mut node)?
            .create_package(
                std::slice::from_ref(&lead.id),
                "es",
                Pap::Amber,
                ctx::now_ms(),
            )
            .map_err(|e| anyhow::anyhow!("demo package for {}: {e}", lead.id))?;
        drop(node);
        super::package::write(&p, &pkg_dir.join(format!("{}.html", lead.id)))?;
        if i == 0 && first == 1 {
            let pdf = pkg_dir.join(format!("{}.pdf", lead.id));
            match super::package::write(&p, &pdf) {
                Ok(()) => report.pdf = Some(pdf.display().to_string()),
                Err(e) => eprintln!("    (no PDF: {e})"),
            }
        }
        let id = format!("op-{}", first + i);
        let mut node = ctx::node(&analyst)?;
        ctx::guard(&analyst, &mut node)?
            .create_operation(
                &id,
                &format!("Verificar un posible laboratorio (pista {})", lead.id),
                std::slice::from_ref(&lead.id),
                None,
                ctx::now_ms(),
            )
            .map_err(|e| anyhow::anyhow!("demo operation {id}: {e}"))?;
        drop(node);
        let start = ctx::now_ms() + 86_400_000;
        act(
            g,
            "analista",
            &id,
            OpsCommand::Edit {
                objective: None,
                commander: Some("comandante".into()),
                sites: Some(vec![Site {
                    label: format!("Sitio de la pista {}", lead.rank),
                    lat: lead.lat,
                    lon: lead.lon,
                    radius_m: 250.0,
                }]),
                schedule: Some(Schedule {
                    start_ms: start,
                    end_ms: start + 43_200_000,
                }),
                add_leads: Vec::new(),
                add_packages: vec![p.id.clone()],
                why: "plan".into(),
            },
        )?;
        act(
            g,
            "analista",
            &id,
            OpsCommand::Join {
                user: "juridico".into(),
                role: OpRole::LegalReview,
            },
        )?;
        act(
            g,
            "analista",
            &id,
            OpsCommand::Join {
                user: "enlace-dea".into(),
                role: OpRole::IntelligenceSupport,
            },
        )?;
        act(
            g,
            "juridico",
            &id,
            OpsCommand::Task {
                name: "legal_review".into(),
                note: "orden de cateo del juez de control (sintética)".into(),
            },
        )?;
        act(
            g,
            "comandante",
            &id,
            OpsCommand::Task {
                name: "deconfliction".into(),
                note: "sin operaciones en conflicto".into(),
            },
        )?;
        act(
            g,
            "analista",
            &id,
            OpsCommand::Propose {
                why: format!("pista {} de rango {}", lead.id, lead.rank),
            },
        )?;
        act(
            g,
            "comandante",
            &id,
            OpsCommand::Approve {
                reason: "evidencia suficiente".into(),
            },
        )?;
        act(
            g,
            "comandante-gn",
            &id,
            OpsCommand::Approve {
                reason: "apoyo de la Guardia Nacional".into(),
            },
        )?;
        act(
            g,
            "comandante",
            &id,
            OpsCommand::Execute {
                why: "según lo previsto".into(),
            },
        )?;
        let found =
            rastro_eval::lab_within(data, lead.lat, lead.lon, rastro_eval::OPERATION_FINDS_M)?;
        act(
            g,
            "comandante",
            &id,
            OpsCommand::Task {
                name: "after_action_report".into(),
                note: "informe posterior entregado".into(),
            },
        )?;
        act(
            g,
            "comandante",
            &id,
            OpsCommand::Close {
                outcome: Outcome {
                    laboratory: if found {
                        LabFinding::Confirmed
                    } else {
                        LabFinding::NotFound
                    },
                    seized: Vec::new(),
                    equipment: Vec::new(),
                    arrests: 0,
                    notes: "resultado del simulador: un laboratorio a 250 m o menos del sitio"
                        .into(),
                },
                why: "operación concluida".into(),
            },
        )?;
        report.operations.push((id, lead.id.clone(), found));
        report.sites.push((lead.lat, lead.lon));
    }
    Ok(report)
}
