//! A bounded pool of nodes (database connections). SQLite connections are not shareable
//! between threads, so each request borrows one for its blocking work and gives it back; the
//! semaphore bounds how many requests do store work at once.

use rastro_app::{AppError, Node};
use std::path::PathBuf;
use std::sync::Mutex;
use tokio::sync::Semaphore;

/// WAL size (pages of 16 KiB) at which the server's connections checkpoint: 32 MiB.
pub(crate) const SERVER_WAL_PAGES: u32 = 2048;

pub struct Pool {
    db: PathBuf,
    idle: Mutex<Vec<Node>>,
    permits: Semaphore,
}

impl Pool {
    pub fn new(db: PathBuf, size: usize) -> Pool {
        Pool {
            db,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
        }
    }

    /// Opens a node with the server's checkpoint setting.
    pub fn open(db: &std::path::Path) -> Result<Node, AppError> {
        let mut n = Node::open(db)?;
        n.set_wal_autocheckpoint(SERVER_WAL_PAGES)?;
        Ok(n)
    }

    /// Runs `f` with a node on a blocking thread, waiting for a permit first.
    pub async fn run<T: Send + 'static>(
        self: &std::sync::Arc<Self>,
        f: impl FnOnce(&mut Node) -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PoolError::Stopped)?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let taken = pool.idle.lock().ok().and_then(|mut v| v.pop());
            let mut node = match taken {
                Some(s) => s,
                None => Pool::open(&pool.db).map_err(PoolError::App)?,
            };
            let out = f(&mut node);
            if let Ok(mut v) = pool.idle.lock() {
                v.push(node);
            }
            Ok(out)
        })
        .await
        .map_err(|_| PoolError::Stopped)?
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("the store worker stopped (shutting down?)")]
    Stopped,
}
