//! `rastro entity show`, `rastro links` and `rastro path`: the link graph of entities, their
//! records, phones, addresses, consignments and places, read as the caller (`--as`) may see it.

use super::{ctx, Global};
use crate::output::print_json;
use clap::{Args, Subcommand};
use rastro_app::entities::LinkV1;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum EntityCmd {
    /// An entity (by `ENT-…` or any of its party record ids): its records and direct links.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct LinksArgs {
    /// A node: `ENT-…`, a party record id, `consignment:ID`, `place:ID`, `phone:NUMBER`.
    pub id: String,
    /// How far to follow links (1 to 6).
    #[arg(long, default_value_t = 1)]
    pub hops: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PathArgs {
    pub from: String,
    pub to: String,
    #[arg(long)]
    pub json: bool,
}

fn print_links(links: &[LinkV1]) {
    for l in links {
        println!(
            "{} —{}→ {}: {} [{}]",
            l.from,
            l.kind,
            l.to,
            l.why,
            l.records.join(", ")
        );
    }
}

pub fn entity(g: &Global, c: EntityCmd) -> anyhow::Result<ExitCode> {
    let EntityCmd::Show { id, json } = c;
    let mut node = ctx::node(g)?;
    let mut guard = ctx::guard(g, &mut node)?;
    let Some(e) = guard.entity(&id)? else {
        anyhow::bail!(
            "no entity {id:?} you may see; `rastro links {id}` lists what an id links to"
        );
    };
    if json {
        print_json(&e)?;
    } else {
        println!("{} ({} records)", e.id, e.records.len());
        for p in &e.records {
            println!(
                "  {} {} · {} · RFC {} · phone {} · {}",
                p.id,
                p.name,
                p.originator,
                p.rfc.as_ref().map(|r| r.as_str()).unwrap_or("-"),
                p.phone.as_deref().unwrap_or("-"),
                p.address.as_deref().unwrap_or("-")
            );
        }
        print_links(&e.links);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn links(g: &Global, a: LinksArgs) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    let mut guard = ctx::guard(g, &mut node)?;
    let Some(l) = guard.links(&a.id, a.hops)? else {
        anyhow::bail!("no node {:?} you may see", a.id);
    };
    if a.json {
        print_json(&l)?;
    } else {
        print_links(&l);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn path(g: &Global, a: PathArgs) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    let mut guard = ctx::guard(g, &mut node)?;
    let Some(p) = guard.path(&a.from, &a.to)? else {
        anyhow::bail!("no node {:?} or {:?} you may see", a.from, a.to);
    };
    if a.json {
        print_json(&p)?;
    } else if p.is_empty() {
        println!("{} and {} are not linked in what you may see", a.from, a.to);
    } else {
        print_links(&p);
    }
    Ok(ExitCode::SUCCESS)
}
