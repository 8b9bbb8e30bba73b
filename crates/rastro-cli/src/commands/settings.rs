//! `rastro settings`: the analysis settings kept in the database, so that the CLI, the demo
//! and the server's background analysis analyse alike.

use super::ctx;
use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::Subcommand;
use rastro_app::AnalysisSettings;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SettingsCmd {
    /// Print the settings in force (JSON): detect, learn, leads, catalogue_toml.
    Show,
    /// Replace the settings with a JSON file (as `show` prints; missing fields take defaults).
    Import { file: PathBuf },
    /// Set one value by its dotted path, e.g. `leads.resolution 9`, `learn.k_anonymity 5`,
    /// `detect.alert_threshold 0.6`. The value is JSON (a number, true/false, or a string).
    Set { key: String, value: String },
    /// Add catalogue entries from a TOML file with [[chemical]] tables.
    Catalogue { file: PathBuf },
}

pub fn settings(g: &Global, cmd: SettingsCmd) -> anyhow::Result<ExitCode> {
    ctx::operator_only(g, "settings")?;
    let mut node = ctx::node(g)?;
    let current = node.admin().settings()?;
    let new = match cmd {
        SettingsCmd::Show => {
            print_json(&current)?;
            return Ok(ExitCode::SUCCESS);
        }
        SettingsCmd::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            serde_json::from_str::<AnalysisSettings>(&text).with_context(|| {
                format!(
                    "{}: not analysis settings (see `rastro settings show`)",
                    file.display()
                )
            })?
        }
        SettingsCmd::Set { key, value } => {
            let mut v = serde_json::to_value(&current)?;
            let parsed: serde_json::Value = serde_json::from_str(&value)
                .unwrap_or_else(|_| serde_json::Value::String(value.clone()));
            let mut at = &mut v;
            for part in key.split('.') {
                at = at.get_mut(part).with_context(|| {
                    format!("no setting {key:?}; `rastro settings show` lists them")
                })?;
            }
            *at = parsed;
            serde_json::from_value::<AnalysisSettings>(v)
                .with_context(|| format!("{key} = {value}: not a valid value"))?
        }
        SettingsCmd::Catalogue { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            AnalysisSettings {
                catalogue_toml: Some(text),
                ..current
            }
        }
    };
    if let Err(e) = node.admin().save_settings(&new) {
        return ctx::refused(e);
    }
    ctx::sign_after_write(&mut node)?;
    eprintln!(
        "settings saved; the next `rastro analyze` uses them (add --full to recompute everything)"
    );
    Ok(ExitCode::SUCCESS)
}
