//! Analysis settings live in the database (setting `analysis`, JSON), so the CLI, the demo and
//! the server's background worker analyse alike. Changing them is an audited write.

use rastro_core::Catalogue;
use rastro_store::{Actor, Store, StoreError};
use serde::{Deserialize, Serialize};

/// The setting key.
pub const ANALYSIS_SETTING: &str = "analysis";

/// Everything analysis is configured by.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisSettings {
    pub detect: rastro_detect::Config,
    pub leads: rastro_fuse::LeadConfig,
    pub learn: rastro_learn::LearnConfig,
    /// Extra catalogue entries (TOML with `[[chemical]]` tables) merged into the built-in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalogue_toml: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "stored analysis settings are not valid: {0}; set them again with `rastro settings import`"
    )]
    Stored(String),
    #[error("analysis settings: {0}")]
    Invalid(String),
}

impl AnalysisSettings {
    /// The settings stored in `store`, or the defaults when none are.
    pub fn load(store: &Store) -> Result<AnalysisSettings, SettingsError> {
        match store.setting(ANALYSIS_SETTING)? {
            None => Ok(AnalysisSettings::default()),
            Some(t) => serde_json::from_str(&t).map_err(|e| SettingsError::Stored(e.to_string())),
        }
    }

    /// Checks and stores the settings (audited, under `actor`).
    pub fn save(&self, store: &mut Store, actor: &Actor) -> Result<(), SettingsError> {
        self.validate()?;
        let text =
            serde_json::to_string(self).map_err(|e| SettingsError::Invalid(e.to_string()))?;
        store.set_setting(actor, ANALYSIS_SETTING, &text)?;
        Ok(())
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        self.leads
            .validate()
            .map_err(|e| SettingsError::Invalid(e.to_string()))?;
        self.learn.validate().map_err(SettingsError::Invalid)?;
        self.catalogue()?;
        Ok(())
    }

    /// The built-in catalogue with the extra entries merged in.
    pub fn catalogue(&self) -> Result<Catalogue, SettingsError> {
        let mut c = Catalogue::builtin();
        if let Some(t) = &self.catalogue_toml {
            c.merge_toml(t)
                .map_err(|e| SettingsError::Invalid(format!("catalogue: {e}")))?;
        }
        Ok(c)
    }
}
