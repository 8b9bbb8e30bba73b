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
        let mut node = match crate::pool::Pool::open(&db) {
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
    });
    Writer { tx, thread }
}
