//! What every handler shares: the pool of nodes, the token cache, the failed-authentication
//! bound, the audit writer, the analysis worker and the reply cache; and [`AppState::guarded`],
//! the one way a handler does store work: as the caller's guard, with the caller's read entries
//! made durable before the reply leaves.

use crate::audit_writer::{self, Job};
use crate::auth::{Caller, Failures};
use crate::error::ApiError;
use crate::pool::Pool;
use crate::Limits;
use rastro_app::ingest::IngestLimits;
use rastro_app::{AppError, Guard, TokenCache};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// A serialised reply, valid while the alerts' generation is unchanged, and the ids whose read
/// must be logged each time it is served.
pub(crate) struct CachedReply {
    pub generation: i64,
    pub body: Arc<Vec<u8>>,
    pub ids: Arc<Vec<String>>,
}

pub(crate) struct Inner {
    pub pool: Arc<Pool>,
    pub tokens: TokenCache,
    pub failures: Failures,
    pub audit: Mutex<Option<mpsc::Sender<Job>>>,
    pub audit_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub replies: Mutex<std::collections::HashMap<String, CachedReply>>,
    /// Wakes the analysis worker; a full channel means a run is already due (coalescing).
    pub analyse: Mutex<Option<SyncSender<()>>>,
    pub worker: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub ingest_limits: IngestLimits,
    /// The largest request body (TAXII's API root states it).
    pub max_body_bytes: usize,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl AppState {
    /// Opens the store (creating or migrating it) and starts the audit writer and the analysis
    /// worker, which analyses records posted to the API exactly as `rastro analyze` analyses
    /// ingested files (same settings, from the database).
    pub fn open(db: &std::path::Path, limits: &Limits) -> Result<AppState, AppError> {
        drop(Pool::open(db)?);
        let (tx, rx) = sync_channel::<()>(1);
        let db2 = db.to_path_buf();
        let worker = std::thread::spawn(move || {
            while rx.recv().is_ok() {
                let run = || -> Result<(), AppError> {
                    let mut node = Pool::open(&db2)?;
                    node.system("analysis")
                        .analyze(now_ms(), false, &|_, _| {})?;
                    Ok(())
                };
                if let Err(e) = run() {
                    tracing::error!("analysis after API ingest failed: {e}");
                }
            }
        });
        let w = audit_writer::start(db.to_path_buf());
        Ok(AppState {
            inner: Arc::new(Inner {
                pool: Arc::new(Pool::new(db.to_path_buf(), limits.pool_size)),
                tokens: TokenCache::default(),
                failures: Failures::default(),
                audit: Mutex::new(Some(w.tx)),
                audit_thread: Mutex::new(Some(w.thread)),
                replies: Mutex::new(std::collections::HashMap::new()),
                analyse: Mutex::new(Some(tx)),
                worker: Mutex::new(Some(worker)),
                ingest_limits: limits.ingest,
                max_body_bytes: limits.max_body_bytes,
            }),
        })
    }

    pub(crate) fn request_analysis(&self) {
        if let Ok(g) = self.inner.analyse.lock() {
            if let Some(tx) = g.as_ref() {
                match tx.try_send(()) {
                    Ok(()) | Err(TrySendError::Full(())) => {}
                    Err(TrySendError::Disconnected(())) => {
                        tracing::error!("the analysis worker has stopped")
                    }
                }
            }
        }
    }

    /// Lets a pending analysis finish, writes every queued audit entry, and stops both
    /// workers (graceful shutdown).
    pub fn finish(&self) {
        if let Ok(mut g) = self.inner.analyse.lock() {
            g.take();
        }
        if let Some(h) = self.inner.worker.lock().ok().and_then(|mut w| w.take()) {
            let _ = h.join();
        }
        if let Ok(mut g) = self.inner.audit.lock() {
            g.take();
        }
        if let Some(h) = self
            .inner
            .audit_thread
            .lock()
            .ok()
            .and_then(|mut w| w.take())
        {
            let _ = h.join();
        }
    }

    /// Makes `entries` durable, or says why not (then the reply must not be sent).
    async fn commit_reads(
        &self,
        entries: Vec<(rastro_app::AuditActor, rastro_app::AuditEvent)>,
    ) -> Result<(), ApiError> {
        if entries.is_empty() {
            return Ok(());
        }
        let tx = self.inner.audit.lock().ok().and_then(|t| t.clone());
        let Some(tx) = tx else {
            return Err(ApiError::Unavailable(
                "the audit log is closed (shutting down); nothing was served".into(),
            ));
        };
        let (ack, done) = oneshot::channel();
        tx.send(Job { entries, ack }).await.map_err(|_| {
            ApiError::Unavailable("the audit log is not taking entries; nothing was served".into())
        })?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            _ => Err(ApiError::Unavailable(
                "the audit log could not record this read; nothing was served".into(),
            )),
        }
    }

    /// Runs `f` as the caller's guard on a pooled node; answers only once the reads `f` made
    /// are durable in the audit log (503 if they cannot be). Failed authentications count
    /// against the caller's address.
    pub(crate) async fn guarded<T: Send + 'static>(
        &self,
        caller: Caller,
        f: impl FnOnce(&mut Guard<'_>) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        if self.inner.audit.lock().map(|g| g.is_none()).unwrap_or(true) {
            return Err(ApiError::Unavailable(
                "the audit log is closed (shutting down); nothing was served".into(),
            ));
        }
        if self.inner.failures.blocked(caller.addr) {
            return Err(ApiError::TooMany(format!(
                "too many failed authentications from this address; wait {} s",
                crate::auth::WINDOW_S
            )));
        }
        let token = caller.token.ok_or(ApiError::Unauthenticated)?;
        let inner = self.inner.clone();
        let (result, pending) = self
            .inner
            .pool
            .run(
                move |node| match node.with_token(&token, &inner.tokens, true) {
                    Ok(mut g) => {
                        let r = f(&mut g);
                        (r, g.take_pending())
                    }
                    Err(e) => (Err(e.into()), Vec::new()),
                },
            )
            .await?;
        if matches!(result, Err(ApiError::Unauthenticated)) {
            self.inner.failures.fail(caller.addr);
        }
        let committed = self.commit_reads(pending).await;
        match (result, committed) {
            (Ok(v), Ok(())) => Ok(v),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), _) => Err(e),
        }
    }
}
