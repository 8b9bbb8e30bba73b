//! The HTTP API: JSON under `/api/v1`, an OpenAPI document generated from the handlers, every
//! read through `rastro_policy::Guard`, ingest through the same pipeline as files.
//!
//! Only this crate knows HTTP. Handlers are thin: they authenticate, hand a blocking closure
//! to a bounded pool of store connections, and map errors to statuses. Limits: request bodies
//! ([`Limits::max_body_bytes`]), request time including the body ([`Limits::request_timeout_s`]),
//! header read time, concurrent store work ([`Limits::pool_size`]), list sizes ([`MAX_LIMIT`]).

mod api;
mod pool;
mod ui;

pub use ui::SOURCES_SHA256 as UI_SOURCES_SHA256;

pub use api::{router, AppState, MAX_LIMIT};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Bounds on what one client can make the server do.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout_s: u64,
    pub header_read_timeout_s: u64,
    /// Store connections, and so requests doing store work at once.
    pub pool_size: usize,
    /// How long a graceful shutdown waits for requests in flight.
    pub shutdown_grace_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 << 20,
            request_timeout_s: 60,
            header_read_timeout_s: 10,
            pool_size: 8,
            shutdown_grace_s: 30,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub db: PathBuf,
    pub addr: SocketAddr,
    /// PEM certificate chain and private key: serve HTTPS (rustls) instead of HTTP.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub limits: Limits,
    /// Lead settings for the analysis that follows API ingest.
    pub lead_config: rastro_fuse::LeadConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the database {path}: {err}")]
    Store { path: String, err: String },
    #[error("cannot listen on {addr}: {err}; is another server running there?")]
    Bind {
        addr: SocketAddr,
        err: std::io::Error,
    },
    #[error("TLS certificate or key {0}")]
    Tls(String),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// A client must send its request headers within `timeout` (against slowloris).
fn header_timeout_on(
    b: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    timeout: Duration,
) {
    b.http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout);
}

/// Runs the server until `shutdown` resolves (Ctrl-C or SIGTERM in the CLI), then stops
/// accepting connections and lets requests in flight finish for up to the grace period.
/// `ready` is called with the bound address once the server listens.
pub async fn serve(
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr) + Send,
) -> Result<(), ServeError> {
    let state = AppState::open(&opts.db, &opts.limits, opts.lead_config.clone()).map_err(|e| {
        ServeError::Store {
            path: opts.db.display().to_string(),
            err: e.to_string(),
        }
    })?;
    let app = router(state.clone(), &opts.limits);
    let listener = std::net::TcpListener::bind(opts.addr).map_err(|err| ServeError::Bind {
        addr: opts.addr,
        err,
    })?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let grace = Duration::from_secs(opts.limits.shutdown_grace_s);
    let h2 = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        h2.graceful_shutdown(Some(grace));
    });
    ready(local);
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let header_timeout = Duration::from_secs(opts.limits.header_read_timeout_s);
    match &opts.tls {
        Some((cert, key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| {
                    ServeError::Tls(format!("{} / {}: {e}", cert.display(), key.display()))
                })?;
            let mut server = axum_server::from_tcp_rustls(listener, config).handle(handle);
            header_timeout_on(server.http_builder(), header_timeout);
            server.serve(service).await?;
        }
        None => {
            let mut server = axum_server::from_tcp(listener).handle(handle);
            header_timeout_on(server.http_builder(), header_timeout);
            server.serve(service).await?;
        }
    }
    state.finish_analysis();
    Ok(())
}
