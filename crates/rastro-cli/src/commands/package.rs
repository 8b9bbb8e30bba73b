//! `rastro package create|show`: a lead package for a commander, built as you see the leads,
//! written as self-contained HTML or, through Chromium's headless print, as PDF.

use super::ctx;
use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Subcommand;
use rastro_app::package::{PackageV1, Pap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum PackageCmd {
    /// Build a package from leads you can see and write it as FILE.html or FILE.pdf.
    Create {
        #[arg(long = "lead", required = true)]
        leads: Vec<String>,
        #[arg(long, default_value = "es", value_parser = ["es", "en"])]
        lang: String,
        /// What recipients may do with it: clear, green, amber or red (FIRST PAP).
        #[arg(long, default_value = "amber", value_parser = |s: &str| Pap::parse(s).ok_or_else(|| format!("{s:?}: give clear, green, amber or red")))]
        pap: Pap,
        #[arg(long)]
        out: PathBuf,
        /// Also print the package's data as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Write a stored package of your organisation again.
    Show {
        id: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// The Chromium that prints PDFs: `CHROMIUM`, else `chromium` on the PATH.
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// Writes `p` to `out`, as HTML or (by extension) PDF.
pub fn write(p: &PackageV1, out: &Path) -> anyhow::Result<()> {
    let html = rastro_report::package_html(p);
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => {
            std::fs::write(out, html).with_context(|| format!("writing {}", out.display()))
        }
        "pdf" => {
            let dir = tempfile_dir(out)?;
            let src = dir.join(format!("{}.html", p.id));
            std::fs::write(&src, &html).with_context(|| format!("writing {}", src.display()))?;
            let abs_out = std::path::absolute(out)?;
            let status = std::process::Command::new(chromium())
                .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--allow-file-access-from-files"])
                .arg(format!("--print-to-pdf={}", abs_out.display()))
                .arg(format!("file://{}", std::path::absolute(&src)?.display()))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .with_context(|| format!("running {} to print the PDF (install chromium, or set CHROMIUM, or write .html and print it from a browser)", chromium()))?;
            let _ = std::fs::remove_file(&src);
            let _ = std::fs::remove_dir(&dir);
            let ok = std::fs::metadata(&abs_out)
                .map(|m| m.len() > 0)
                .unwrap_or(false);
            if !status.success() || !ok {
                anyhow::bail!("{} could not print {} ({status}); write .html instead and print it from a browser", chromium(), out.display());
            }
            Ok(())
        }
        _ => anyhow::bail!(
            "--out {}: give a file ending in .html or .pdf",
            out.display()
        ),
    }
}

/// A private directory beside the output for the HTML Chromium prints.
fn tempfile_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = parent.join(format!(".rastro-print-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

pub fn package(g: &Global, cmd: PackageCmd) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    match cmd {
        PackageCmd::Create {
            leads,
            lang,
            pap,
            out,
            json,
        } => {
            let p =
                match ctx::guard(g, &mut node)?.create_package(&leads, &lang, pap, ctx::now_ms()) {
                    Ok(p) => p,
                    Err(e) => return ctx::refused(e),
                };
            ctx::sign_after_write(&mut node)?;
            write(&p, &out)?;
            if json {
                print_json(&p)?;
            } else {
                println!("{}\t{}\t{}", p.id, p.marking.text, out.display());
            }
        }
        PackageCmd::Show { id, out, json } => {
            let Some(p) = ctx::guard(g, &mut node)?.package(&id)? else {
                return Ok(ctx::missing(
                    "package",
                    &id,
                    "packages are kept for the organisation that built them",
                ));
            };
            if let Some(out) = out {
                write(&p, &out)?;
            }
            if json {
                print_json(&p)?;
            } else {
                println!(
                    "{}\t{}\t{} leads\tby {} of {} at {}",
                    p.id,
                    p.marking.text,
                    p.leads.len(),
                    p.created_by,
                    p.org,
                    p.created
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
