//! The system actor's capability (analysis, the operator's file ingest, audit signing and
//! verification, the operator's evaluation reads) and the operator's management of
//! organisations, users and settings. Every write names its actor.

use crate::AppError;
use rastro_audit::{SignedTreeHead, Tree, VerifyReport};
use rastro_core::{Alert, ConsignmentState, Lead};
use rastro_pipeline::audit as paudit;
use rastro_pipeline::{
    AnalysisSettings, AnalyzeOptions, AnalyzeReport, FileReport, IngestOptions, Progress,
};
use rastro_policy::{OrgKind, Role};
use rastro_store::{Actor, AlertFilter, AuditEvent, OrgRow, Store, UserRow};
use std::path::{Path, PathBuf};

/// The operator's alerts, leads and consignment states (for evaluation against the truth).
pub type OperatorResults = (Vec<Alert>, Vec<Lead>, Vec<(String, ConsignmentState)>);

/// A system actor's jobs.
pub struct System<'a> {
    store: &'a mut Store,
    actor: Actor,
    db: PathBuf,
}

impl<'a> System<'a> {
    pub(crate) fn new(store: &'a mut Store, actor: Actor, db: PathBuf) -> System<'a> {
        System { store, actor, db }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The analysis settings stored in the database.
    pub fn settings(&self) -> Result<AnalysisSettings, AppError> {
        Ok(AnalysisSettings::load(self.store)?)
    }

    /// Incremental analysis with the stored settings.
    pub fn analyze(
        &mut self,
        now_ms: i64,
        full: bool,
        progress: &dyn Fn(usize, usize),
    ) -> Result<AnalyzeReport, AppError> {
        let settings = AnalysisSettings::load(self.store)?;
        let opts = AnalyzeOptions {
            now_ms,
            full,
            settings,
        };
        Ok(rastro_pipeline::analyze(
            self.store,
            &self.actor,
            &opts,
            progress,
        )?)
    }

    /// Ingests one file as this actor (the operator at the console).
    pub fn ingest_path(
        &mut self,
        path: &Path,
        opts: &IngestOptions,
        progress: &dyn Progress,
    ) -> Result<FileReport, AppError> {
        Ok(rastro_pipeline::ingest_path(
            self.store,
            &self.actor,
            path,
            opts,
            progress,
        )?)
    }

    /// Writes a batch of records parsed and validated elsewhere (taken off the ingest bus)
    /// under the name of the file they came from; see [`rastro_pipeline::ingest_items`].
    pub fn ingest_items(
        &mut self,
        source: &str,
        records: Vec<(u64, rastro_core::Record)>,
        quarantine: &[rastro_core::Quarantine],
        opts: &IngestOptions,
    ) -> Result<FileReport, AppError> {
        Ok(rastro_pipeline::ingest_items(
            self.store,
            &self.actor,
            source,
            records,
            quarantine,
            opts,
        )?)
    }

    /// Signs the current tree head with the key beside the database (created on first use,
    /// mode 0600) or at `key`, and stores it.
    pub fn sign_head(
        &mut self,
        key: Option<&Path>,
        now_ms: i64,
    ) -> Result<SignedTreeHead, AppError> {
        let key = key
            .map(Path::to_path_buf)
            .unwrap_or_else(|| paudit::default_key_path(&self.db));
        let signer = paudit::load_or_create_key(&key)?;
        Ok(paudit::sign_head(self.store, &signer, now_ms)?)
    }

    pub fn tree(&self) -> Result<Tree, AppError> {
        Ok(paudit::tree(self.store)?)
    }

    pub fn verify(
        &self,
        earlier: Option<&SignedTreeHead>,
        trusted_key: Option<&str>,
    ) -> Result<VerifyReport, AppError> {
        Ok(paudit::verify(self.store, earlier, trusted_key)?)
    }

    /// Every entry's exact bytes and stored leaf hash (for export), and an audit entry saying
    /// the log was exported.
    pub fn export_entries(
        &mut self,
        to: Option<String>,
    ) -> Result<Vec<rastro_audit::StoredEntry>, AppError> {
        let entries = self.store.audit_entries()?;
        let mut ev = AuditEvent::new("export");
        ev.detail = serde_json::json!({ "what": "audit log", "entries": entries.len() });
        ev.from = to;
        self.store.audit(&self.actor, ev)?;
        Ok(entries)
    }

    /// The operator's complete results (its view), for evaluation against simulator truth:
    /// alerts, leads and consignment states. Logged as a read.
    pub fn operator_results(&mut self) -> Result<OperatorResults, AppError> {
        let Some(vid) = self.store.audience_view("*")? else {
            return Ok(Default::default());
        };
        let alerts = self.store.alerts(vid, &AlertFilter::default())?;
        let leads = self.store.leads(vid, u32::MAX)?;
        let mut states = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.store.consignment_states(vid, &after, 5000)?;
            let Some(last) = page.last() else { break };
            after = last.0.clone();
            states.extend(page);
        }
        let mut ev = AuditEvent::new("read");
        ev.detail = serde_json::json!({"what": "evaluation", "alerts": alerts.len(), "leads": leads.len(), "states": states.len()});
        self.store.audit(&self.actor, ev)?;
        Ok((alerts, leads, states))
    }

    /// Every party record resolved into entities (record id, entity id), for evaluation.
    pub fn operator_entities(&mut self) -> Result<Vec<(String, String)>, AppError> {
        let out = rastro_pipeline::entities::resolve_all(self.store)?;
        let mut ev = AuditEvent::new("read");
        ev.detail = serde_json::json!({"what": "evaluation.entities", "parties": out.len()});
        self.store.audit(&self.actor, ev)?;
        Ok(out)
    }

    /// The operator view's leads as ranked without feedback, as (id, score, lat, lon) by
    /// rank; empty when no closed operation calibrated them.
    pub fn operator_baseline(&mut self) -> Result<Vec<(String, f64, f64, f64)>, AppError> {
        let Some(vid) = self.store.audience_view("*")? else {
            return Ok(Vec::new());
        };
        Ok(self.store.lead_baseline(vid)?)
    }

    /// What the store holds (counts, digest): the operator's overview.
    pub fn stats(&self) -> Result<(rastro_store::Stats, String), AppError> {
        Ok((self.store.stats()?, self.store.content_digest()?))
    }
}

/// An organisation as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrgInfo {
    pub code: String,
    pub name: String,
    pub nation: String,
    pub kind: String,
}

/// A user as listed (never their token).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserInfo {
    pub name: String,
    pub org: String,
    pub role: String,
    pub revoked: bool,
}

/// The operator's management of the deployment.
pub struct Admin<'a> {
    store: &'a mut Store,
    actor: Actor,
}

impl<'a> Admin<'a> {
    pub(crate) fn new(store: &'a mut Store, actor: Actor) -> Admin<'a> {
        Admin { store, actor }
    }

    /// Registers an organisation; false when the code is taken.
    pub fn add_org(
        &mut self,
        code: &str,
        name: &str,
        nation: &str,
        kind: OrgKind,
        t_ms: i64,
    ) -> Result<bool, AppError> {
        Ok(self.store.add_org(
            &self.actor,
            &OrgRow {
                code: code.into(),
                name: name.into(),
                nation: nation.into(),
                kind: kind.as_str().into(),
            },
            t_ms,
        )?)
    }

    pub fn orgs(&self) -> Result<Vec<OrgInfo>, AppError> {
        Ok(self
            .store
            .orgs()?
            .into_iter()
            .map(|o| OrgInfo {
                code: o.code,
                name: o.name,
                nation: o.nation,
                kind: o.kind,
            })
            .collect())
    }

    /// Adds a user and returns the token to show them once (only its argon2id hash is
    /// stored); `None` when the name is taken or the organisation unknown.
    pub fn add_user(
        &mut self,
        name: &str,
        org: &str,
        role: Role,
        t_ms: i64,
    ) -> Result<Option<String>, AppError> {
        if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control() || c == ':') {
            return Err(AppError::Invalid(
                "a user name is 1 to 64 characters, without control characters or ':'".into(),
            ));
        }
        let t = rastro_policy::token::generate().map_err(|e| AppError::Invalid(e.to_string()))?;
        let row = UserRow {
            name: name.into(),
            org: org.into(),
            role: role.as_str().into(),
            token_id: t.token_id,
            token_hash: t.hash,
            revoked: false,
        };
        Ok(self
            .store
            .add_user(&self.actor, &row, t_ms)?
            .then_some(t.token))
    }

    pub fn revoke_user(&mut self, name: &str, t_ms: i64) -> Result<bool, AppError> {
        Ok(self.store.revoke_user(&self.actor, name, t_ms)?)
    }

    pub fn users(&self) -> Result<Vec<UserInfo>, AppError> {
        Ok(self
            .store
            .users()?
            .into_iter()
            .map(|u| UserInfo {
                name: u.name,
                org: u.org,
                role: u.role,
                revoked: u.revoked,
            })
            .collect())
    }

    pub fn set_host_nation(&mut self, nation: &str) -> Result<(), AppError> {
        Ok(self
            .store
            .set_setting(&self.actor, rastro_pipeline::HOST_NATION_SETTING, nation)?)
    }

    pub fn settings(&self) -> Result<AnalysisSettings, AppError> {
        Ok(AnalysisSettings::load(self.store)?)
    }

    /// The law for operations in force (the stored file, or the embedded default) and its
    /// text.
    pub fn law(&self) -> Result<(rastro_ops::Law, String), AppError> {
        crate::ops::stored_law(self.store)
    }

    /// Puts a law file in force: refused, with its line, unless it parses and is coherent
    /// (audited as a setting change).
    pub fn set_law(&mut self, file: &str, text: &str) -> Result<rastro_ops::Law, AppError> {
        let law =
            rastro_ops::Law::parse(file, text).map_err(|e| AppError::Invalid(e.to_string()))?;
        let host = self
            .store
            .setting(rastro_pipeline::HOST_NATION_SETTING)?
            .unwrap_or_else(|| rastro_pipeline::DEFAULT_HOST_NATION.to_string());
        if law.host_nation != host {
            return Err(AppError::Invalid(format!(
                "{file}: the law is for host nation {}, but this node's host nation is {host}; set the host nation first",
                law.host_nation
            )));
        }
        self.store
            .set_setting(&self.actor, crate::ops::LAW_SETTING, text)?;
        Ok(law)
    }

    /// Stores analysis settings (validated, audited).
    pub fn save_settings(&mut self, s: &AnalysisSettings) -> Result<(), AppError> {
        s.save(self.store, &self.actor)?;
        Ok(())
    }
}
