//! A bounded pool of store connections. SQLite connections are not shareable between
//! threads, so each request borrows one for its blocking work and gives it back; the
//! semaphore bounds how many requests do store work at once.

use rastro_store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::Mutex;
use tokio::sync::Semaphore;

pub struct Pool {
    db: PathBuf,
    idle: Mutex<Vec<Store>>,
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

    /// Runs `f` with a store on a blocking thread, waiting for a permit first.
    pub async fn run<T: Send + 'static>(
        self: &std::sync::Arc<Self>,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PoolError::Stopped)?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let taken = pool.idle.lock().ok().and_then(|mut v| v.pop());
            let mut store = match taken {
                Some(s) => s,
                None => {
                    let mut s = Store::open(&pool.db).map_err(PoolError::Store)?;
                    s.set_wal_autocheckpoint(crate::api::SERVER_WAL_PAGES)
                        .map_err(PoolError::Store)?;
                    s
                }
            };
            let out = f(&mut store);
            if let Ok(mut v) = pool.idle.lock() {
                v.push(store);
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
    Store(#[from] StoreError),
    #[error("the store worker stopped (shutting down?)")]
    Stopped,
}
