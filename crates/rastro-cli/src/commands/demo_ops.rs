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

/// Runs an operation on each of the commander's `k` best leads.
pub fn close_the_loop(g: &Global, dir: &Path, data: &Path, k: usize) -> anyhow::Result<LoopReport> {
    let cmdr = Global {
        as_user: Some("comandante".into()),
        ..g.clone()
    };
    let mut node = ctx::node(&cmdr)?;
    let leads = ctx::guard(&cmdr, &mut node)?.leads(k as u32)?;
    drop(node);
    let pkg_dir = dir.join("packages");
    std::fs::create_dir_all(&pkg_dir)?;
    let mut report = LoopReport {
        operations: Vec::new(),
        pdf: None,
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
        if i == 0 {
            let pdf = pkg_dir.join(format!("{}.pdf", lead.id));
            match super::package::write(&p, &pdf) {
                Ok(()) => report.pdf = Some(pdf.display().to_string()),
                Err(e) => eprintln!("    (no PDF: {e})"),
            }
        }
        let id = format!("op-{}", i + 1);
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
    }
    Ok(report)
}
