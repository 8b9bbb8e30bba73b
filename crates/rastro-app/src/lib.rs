//! The application layer: the one place that holds the store for front-ends. A front-end (the
//! CLI, the HTTP server) opens a [`Node`] and asks it for a capability:
//!
//! - a [`Guard`] for a viewer (a user by name or token, or the operator at the console): every
//!   read a person makes, every decision (triage, lead status, release) and API ingest;
//! - a [`System`] for an explicit system actor (analysis, the operator's file ingest, audit
//!   signing and verification, evaluation);
//! - an [`Admin`] for the operator's management of organisations, users and settings.
//!
//! The store is a private field of each, and front-ends do not depend on `rastro-store`, so a
//! handler or command that forgets the guard does not compile:
//!
//! ```compile_fail,E0616
//! fn handler(node: &mut rastro_app::Node) {
//!     // The store is not reachable from outside this crate.
//!     let _ = node.store.leads(1, 10);
//! }
//! ```
//!
//! Reads return the versioned wire types of [`views`].

pub mod entities;
pub mod forensics;
pub mod guard;
pub mod ingest;
pub mod leads;
pub mod ops;
pub mod ops_views;
pub mod package;
pub mod pg;
pub mod share;
pub mod system;
pub mod taxii;
pub mod views;

pub use guard::{Guard, ObservationQuery};
pub use pg::PgIngest;
pub use rastro_pipeline::{
    AnalysisSettings, AnalyzeOptions, AnalyzeReport, FileReport, IngestOptions, Progress,
};
pub use rastro_policy::{Audience, OrgKind, Policy, Role, Viewer};
pub use rastro_store::{AlertFilter, AuditFilter};
pub use system::{Admin, OrgInfo, System, UserInfo};

use guard::Window;
use rastro_store::{Actor, Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Deliberately vague: the same answer for an unknown user, a revoked one and a bad token.
    #[error("not authenticated: unknown or revoked user, or malformed or wrong token")]
    Unauthenticated,
    #[error("not permitted: {0}")]
    Forbidden(String),
    /// The request itself is malformed (an unknown state, a missing reason, a bad name).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No such item, or not one the caller may see (the same answer).
    #[error("not found: {0}")]
    NotFound(String),
    /// The change was made on an older version of what it changes; read it again and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A bound was reached (rejected lines per user and hour, say); try again later.
    #[error("too many requests: {0}")]
    TooMany(String),
    #[error(transparent)]
    Pipeline(#[from] rastro_pipeline::PipelineError),
    #[error(transparent)]
    Analyze(#[from] rastro_pipeline::AnalyzeError),
    #[error(transparent)]
    Settings(#[from] rastro_pipeline::SettingsError),
    #[error(transparent)]
    Audit(#[from] rastro_pipeline::audit::AuditError),
}

/// Verified tokens remembered at most; the cache is emptied when full (a bound, not an LRU:
/// the cost of a miss is one argon2 verification).
pub const TOKEN_CACHE_MAX: usize = 10_000;

/// Tokens already verified, by SHA-256 of the whole token, with the hash they verified
/// against (so a re-issued token is verified afresh).
#[derive(Default)]
pub struct TokenCache {
    map: std::sync::Mutex<std::collections::HashMap<[u8; 32], String>>,
}

impl TokenCache {
    /// Whether `token` was verified before (against the hash its user then had). The guard
    /// still reads the user's row on every request, so a revoked user is refused there.
    pub fn verified_before(&self, token: &str) -> bool {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.map
            .lock()
            .map(|m| m.contains_key(&key))
            .unwrap_or(false)
    }
}

/// The operator's actor name at the console: `local:<os user>`.
pub fn console_actor() -> String {
    format!(
        "local:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// A Rastro node: its database, and the capabilities front-ends ask for.
pub struct Node {
    store: Store,
    db: PathBuf,
    /// The policy and the windows built from it, kept while the store's policy generation is
    /// unchanged: a server's node serves request after request without re-reading
    /// organisations, settings, marking classes and views each time.
    cache: Option<WindowCache>,
}

/// What [`Node`] keeps between guards: valid exactly while `generation` is the store's.
struct WindowCache {
    generation: i64,
    policy: Arc<Policy>,
    windows: HashMap<String, Window>,
}

/// Audiences whose windows a node keeps at most (a bound: the map is emptied when full).
const WINDOW_CACHE_MAX: usize = 256;

fn viewer_of(policy: &Policy, u: &rastro_store::UserRow) -> Result<Viewer, AppError> {
    if u.revoked {
        return Err(AppError::Unauthenticated);
    }
    let role = Role::parse(&u.role).ok_or(AppError::Unauthenticated)?;
    Ok(Viewer {
        user: u.name.clone(),
        org: u.org.clone(),
        nation: policy.nation_of(&u.org).to_string(),
        role,
    })
}

impl Node {
    /// Opens (creating, mode 0600, and migrating) the database at `db`.
    pub fn open(db: &Path) -> Result<Node, AppError> {
        Ok(Node {
            store: Store::open(db)?,
            db: db.to_path_buf(),
            cache: None,
        })
    }

    /// The backend-neutral digest of the stored data (equal to [`PgIngest::keyed_digest`] for
    /// the same data): how a bus run into PostgreSQL is compared with an embedded ingest.
    pub fn keyed_digest(&self) -> Result<String, AppError> {
        Ok(self.store.keyed_digest()?)
    }

    /// The policy as of now, from the cache when nothing that decides it has changed.
    fn policy(&mut self) -> Result<Arc<Policy>, AppError> {
        let generation = self.store.policy_generation()?;
        match &self.cache {
            Some(c) if c.generation == generation => Ok(c.policy.clone()),
            _ => {
                // Read the generation before the policy: a change racing with the read leaves
                // the cache marked stale, never fresh.
                let policy = Arc::new(rastro_pipeline::load_policy(&self.store)?);
                self.cache = Some(WindowCache {
                    generation,
                    policy: policy.clone(),
                    windows: HashMap::new(),
                });
                Ok(policy)
            }
        }
    }

    /// The window of `audience` under `policy` (just returned by [`Node::policy`]).
    fn window(&mut self, policy: &Policy, audience: &Audience) -> Result<Window, AppError> {
        let key = audience.key();
        if let Some(w) = self.cache.as_ref().and_then(|c| c.windows.get(&key)) {
            return Ok(w.clone());
        }
        let w = Window::of(&self.store, policy, audience)?;
        if let Some(c) = &mut self.cache {
            if c.windows.len() >= WINDOW_CACHE_MAX {
                c.windows.clear();
            }
            c.windows.insert(key, w.clone());
        }
        Ok(w)
    }

    /// A guard for `viewer` (the operator when `None`).
    fn guard(
        &mut self,
        policy: Arc<Policy>,
        viewer: Option<Viewer>,
        actor: Actor,
        deferred: bool,
    ) -> Result<Guard<'_>, AppError> {
        let audience = match &viewer {
            Some(v) => Audience::Org(v.org.clone()),
            None => Audience::Operator,
        };
        let window = self.window(&policy, &audience)?;
        Ok(Guard::new(
            &mut self.store,
            policy,
            window,
            viewer,
            actor,
            deferred,
        ))
    }

    pub fn db(&self) -> &Path {
        &self.db
    }

    /// The operator's guard at the console (sees everything; reads audited as the operator).
    pub fn operator(&mut self) -> Result<Guard<'_>, AppError> {
        let policy = self.policy()?;
        self.guard(policy, None, Actor::new(console_actor()), false)
    }

    /// The guard of a named, active user (the CLI's `--as USER`).
    pub fn as_user(&mut self, name: &str) -> Result<Guard<'_>, AppError> {
        let policy = self.policy()?;
        let u = self.store.user(name)?.ok_or(AppError::Unauthenticated)?;
        let v = viewer_of(&policy, &u)?;
        let actor = Actor::new(&v.user);
        self.guard(policy, Some(v), actor, false)
    }

    /// The guard of whoever holds `token` (the HTTP API's bearer token). An unknown token id
    /// costs one argon2 verification, exactly as a wrong secret does. With `deferred`, read
    /// entries are kept for the caller to commit before it answers.
    pub fn with_token(
        &mut self,
        token: &str,
        cache: &TokenCache,
        deferred: bool,
    ) -> Result<Guard<'_>, AppError> {
        let (id, secret) = rastro_policy::token::split(token).ok_or(AppError::Unauthenticated)?;
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let u = self.store.user_by_token_id(id)?;
        let known = u.as_ref().is_some_and(|u| {
            cache
                .map
                .lock()
                .map(|m| m.get(&key) == Some(&u.token_hash))
                .unwrap_or(false)
        });
        if !known {
            if !rastro_policy::token::verify_known_or_dummy(
                secret,
                u.as_ref().map(|u| u.token_hash.as_str()),
            ) {
                return Err(AppError::Unauthenticated);
            }
            if let (Ok(mut m), Some(u)) = (cache.map.lock(), u.as_ref()) {
                if m.len() >= TOKEN_CACHE_MAX {
                    m.clear();
                }
                m.insert(key, u.token_hash.clone());
            }
        }
        let u = u.ok_or(AppError::Unauthenticated)?;
        let policy = self.policy()?;
        let v = viewer_of(&policy, &u)?;
        let actor = Actor::new(&v.user);
        self.guard(policy, Some(v), actor, deferred)
    }

    /// The capability of an explicit system actor (`system:<name>`).
    pub fn system(&mut self, name: &str) -> System<'_> {
        System::new(
            &mut self.store,
            Actor::new(format!("system:{name}")),
            self.db.clone(),
        )
    }

    /// The operator's own jobs at the console (file ingest, signing heads), as
    /// `local:<os user>`.
    pub fn console(&mut self) -> System<'_> {
        System::new(
            &mut self.store,
            Actor::new(console_actor()),
            self.db.clone(),
        )
    }

    /// The operator's management of organisations, users and settings.
    pub fn admin(&mut self) -> Admin<'_> {
        Admin::new(&mut self.store, Actor::new(console_actor()))
    }

    /// Commits read entries a deferred guard kept (the server's audit writer), in one
    /// transaction: when this returns `Ok`, they are durable.
    pub fn commit_reads(
        &mut self,
        entries: Vec<(Actor, rastro_store::AuditEvent)>,
    ) -> Result<(), AppError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.store.audit_batch(entries)?;
        Ok(())
    }

    /// The tables of the store's current schema (for the tidy test of ARCHITECTURE.md).
    pub fn schema_tables(&self) -> Result<Vec<String>, AppError> {
        Ok(self.store.table_names()?)
    }

    /// A passive checkpoint (see `Store::checkpoint_passive`).
    pub fn checkpoint_passive(&mut self) -> Result<(), AppError> {
        Ok(self.store.checkpoint_passive()?)
    }

    /// WAL size at which this connection checkpoints (servers want small ones).
    pub fn set_wal_autocheckpoint(&mut self, pages: u32) -> Result<(), AppError> {
        Ok(self.store.set_wal_autocheckpoint(pages)?)
    }
}

/// The store's audit types a front-end passes along, never builds itself.
pub use rastro_store::Actor as AuditActor;
pub use rastro_store::AuditEvent;

#[cfg(test)]
mod tests {
    use super::*;

    /// A node keeps the policy and windows between guards; a change made on another
    /// connection (another server worker, the CLI) must show in the next guard it builds.
    #[test]
    fn the_cached_policy_follows_changes_made_on_other_connections() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("n.db");
        let mut server = Node::open(&db).unwrap();
        let mut cli = Node::open(&db).unwrap();
        cli.admin().set_host_nation("MX").unwrap();
        cli.admin()
            .add_org("SEMAR", "Marina", "MX", OrgKind::Navy, 0)
            .unwrap();
        cli.admin()
            .add_user("ana", "SEMAR", Role::Analyst, 0)
            .unwrap()
            .unwrap();
        let me = server.as_user("ana").unwrap().me().unwrap();
        assert_eq!((me.nation.as_str(), me.host_nation.as_str()), ("MX", "MX"));
        // Built again from the cache: same answer.
        assert_eq!(server.as_user("ana").unwrap().me().unwrap(), me);
        // The host nation changes elsewhere: SEMAR is now a foreign agency's view.
        cli.admin().set_host_nation("US").unwrap();
        let me = server.as_user("ana").unwrap().me().unwrap();
        assert_eq!(me.host_nation, "US");
        // A new organisation registered elsewhere is known to the next guard.
        cli.admin()
            .add_org("DEA", "DEA", "US", OrgKind::Police, 0)
            .unwrap();
        cli.admin()
            .add_user("bob", "DEA", Role::Analyst, 0)
            .unwrap()
            .unwrap();
        assert_eq!(server.as_user("bob").unwrap().me().unwrap().nation, "US");
    }
}
