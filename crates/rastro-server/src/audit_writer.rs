//! The audit writer: one thread that makes every request's read entries durable, many
//! requests per transaction (group commit). A request that carries restricted data waits for
//! its batch to commit before it answers; if the batch cannot be written (or the writer has
//! stopped), the request is refused with 503 and nothing is served: the log fails closed.

use rastro_app::{AuditActor, AuditEvent};
use std::path::PathBuf;
use tokio::sync::{mpsc, oneshot};

/// Jobs waiting for the writer; a full queue makes requests wait (never drops an entry).
pub const AUDIT_QUEUE: usize = 8192;
/// Entries committed per transaction at most.
pub const AUDIT_BATCH: usize = 4000;

/// How often the background checkpointer folds the WAL into the database.
pub const CHECKPOINT_EVERY_MS: u64 = 200;

/// One request's entries and where to say whether they are durable.
pub struct Job {
    pub entries: Vec<(AuditActor, AuditEvent)>,
    pub ack: oneshot::Sender<Result<(), String>>,
}

/// The writer's handle.
pub struct Writer {
    pub tx: mpsc::Sender<Job>,
    pub thread: std::thread::JoinHandle<()>,
}

/// Starts the writer on `db`. It stops when every sender is dropped, after writing what was
/// queued.
pub fn start(db: PathBuf) -> Writer {
    let (tx, mut rx) = mpsc::channel::<Job>(AUDIT_QUEUE);
    let thread = std::thread::spawn(move || {
        // The writer never checkpoints itself: a checkpoint inside a commit would hold every
        // request of that batch. A second thread checkpoints passively, beside the commits.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let checkpointer = {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let Ok(mut n) = crate::pool::Pool::open(&db) else {
                    return;
                };
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::park_timeout(std::time::Duration::from_millis(
                        CHECKPOINT_EVERY_MS,
                    ));
                    if let Err(e) = n.checkpoint_passive() {
                        tracing::warn!("background checkpoint: {e}");
                    }
                }
            })
        };
        let mut node = match crate::pool::Pool::open(&db).and_then(|mut n| {
            n.set_wal_autocheckpoint(0)?;
            Ok(n)
        }) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::error!(
                    "audit writer cannot open the store: {e}; every read will be refused"
                );
                None
            }
        };
        while let Some(first) = rx.blocking_recv() {
            let mut jobs = vec![first];
            let mut n = jobs[0].entries.len();
            while n < AUDIT_BATCH {
                match rx.try_recv() {
                    Ok(j) => {
                        n += j.entries.len();
                        jobs.push(j);
                    }
                    Err(_) => break,
                }
            }
            let entries: Vec<(AuditActor, AuditEvent)> = jobs
                .iter_mut()
                .flat_map(|j| std::mem::take(&mut j.entries))
                .collect();
            let result = match node.as_mut() {
                Some(node) => node.commit_reads(entries).map_err(|e| e.to_string()),
                None => Err("the audit store is not available".to_string()),
            };
            if let Err(e) = &result {
                tracing::error!("audit writer: {e}; the reads of this batch are refused");
            }
            for j in jobs {
                let _ = j.ack.send(result.clone());
            }
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        checkpointer.thread().unpark();
        let _ = checkpointer.join();
    });
    Writer { tx, thread }
}
