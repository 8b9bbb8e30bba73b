//! The HTTP API: JSON under `/api/v1`, an OpenAPI document generated from the handlers, every
//! read through `rastro_app`'s guard and answered only once its audit entry is durable, ingest
//! through the same pipeline as files.
//!
//! Only this crate knows HTTP. It does not depend on the store: a handler gets a guard or
//! nothing, so one that reads without the guard does not compile:
//!
//! ```compile_fail,E0433
//! // rastro-server has no path to the store.
//! let _ = rastro_store::Store::open_in_memory();
//! ```
//!
//! Modules: [`state`] (shared state and the guarded call), `pool` (nodes), `audit_writer`
//! (group commit, fail closed), `auth` (bearer token, failed-authentication bound), `extract`
//! (JSON rejections), `error`, `reads`, `writes`, `ui` (the embedded web UI). Limits: request
//! bodies ([`Limits::max_body_bytes`]), request time including the body
//! ([`Limits::request_timeout_s`]), header read time, concurrent store work
//! ([`Limits::pool_size`]), list sizes ([`MAX_LIMIT`]), ingest per user and hour
//! ([`Limits::ingest`]), failed authentications per address.

mod audit_writer;
mod auth;
pub use auth::{MAX_FAILURES, WINDOW_S as FAILURE_WINDOW_S};
mod error;
mod extract;
mod ops;
mod pool;
mod reads;
mod share;
pub mod state;
mod taxii;
mod ui;
mod writes;

pub use reads::MAX_LIMIT;
pub use state::AppState;
pub use ui::SOURCES_SHA256 as UI_SOURCES_SHA256;

use axum::http::StatusCode;
use axum::Router;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    /// What one user may make the node keep of API ingest per hour.
    pub ingest: rastro_app::ingest::IngestLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 << 20,
            request_timeout_s: 60,
            header_read_timeout_s: 10,
            pool_size: 8,
            shutdown_grace_s: 30,
            ingest: Default::default(),
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

/// The error replies every endpoint may give, each with an `ErrorV1` body.
pub struct Errors;

impl utoipa::IntoResponses for Errors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            ("400", "Bad request: a parameter or body field is malformed"),
            ("401", "No valid token (`Authorization: Bearer rst_...`)"),
            ("403", "Not permitted for the caller's role or nation"),
            ("404", "No such item, or not visible to the caller (the same answer)"),
            ("408", "The request took too long"),
            ("413", "The body is too large"),
            ("415", "The body is not of the media type the endpoint takes"),
            ("422", "The body is JSON but not of the expected shape"),
            ("429", "Too many failed authentications from this address, or an hourly ingest bound reached"),
            ("503", "The audit log cannot record the read, or the server is shutting down: nothing was served"),
        ]
        .into_iter()
        .map(|(code, description)| {
            (
                code.to_string(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorV1")))
                                .build(),
                        )
                        .build(),
                ),
            )
        })
        .collect()
    }
}

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "token",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Rastro API", version = "1", description = "Precursor tracking, alerts, leads and releases. Every item a caller receives was computed from, or is, data the caller's organisation may see (docs/security.md); reads are answered once their audit entry is durable."),
    components(schemas(rastro_app::views::ErrorV1)),
    modifiers(&SecurityAddon)
)]
struct ApiDoc;

/// The router and the OpenAPI document generated from the same handler list, so the two
/// cannot drift; the document is served at `/api/v1/openapi.json`.
pub fn router(state: AppState, limits: &Limits) -> Router {
    let (router, api) = api_router().split_for_parts();
    let doc = Arc::new(api.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        doc.as_str().to_string(),
                    )
                }
            }),
        )
        .merge(ui::routes())
        .merge(taxii::routes())
        .fallback(|| async {
            error::ApiError::NotFound("no such endpoint; see /api/v1/openapi.json".into())
        })
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_s),
        ))
        // Outermost, so the replies of the layers above (413, 408) are JSON too.
        .layer(axum::middleware::from_fn(error::errors_by_path))
        .with_state(state)
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(reads::health))
        .routes(routes!(reads::me))
        .routes(routes!(reads::alerts))
        .routes(routes!(reads::alert_queue))
        .routes(routes!(reads::leads))
        .routes(routes!(reads::lead))
        .routes(routes!(reads::leads_geojson))
        .routes(routes!(reads::releases))
        .routes(routes!(reads::release))
        .routes(routes!(reads::consignments))
        .routes(routes!(reads::consignment))
        .routes(routes!(reads::entity))
        .routes(routes!(reads::links))
        .routes(routes!(reads::path))
        .routes(routes!(reads::forensics))
        .routes(routes!(reads::forensics_plot))
        .routes(routes!(reads::observations))
        .routes(routes!(reads::stats))
        .routes(routes!(reads::quarantine))
        .routes(routes!(reads::audit))
        .routes(routes!(reads::audit_verify))
        .routes(routes!(reads::orgs))
        .routes(routes!(reads::ports))
        .routes(routes!(writes::alert_triage))
        .routes(routes!(writes::lead_status))
        .routes(routes!(writes::lead_release))
        .routes(routes!(writes::release_revoke))
        .routes(routes!(writes::ingest))
        .routes(routes!(ops::operations, ops::create_operation))
        .routes(routes!(ops::operation))
        .routes(routes!(ops::operation_action))
        .routes(routes!(ops::feedback))
        .routes(routes!(ops::requests, ops::create_request))
        .routes(routes!(ops::request))
        .routes(routes!(ops::request_decision))
        .routes(routes!(ops::collection))
        .routes(routes!(share::export))
        .routes(routes!(share::import))
        .routes(routes!(share::objects))
        .routes(routes!(ops::create_package))
        .routes(routes!(ops::package))
        .routes(routes!(ops::package_html))
}

/// The OpenAPI document as JSON text (for tests and `rastro serve --openapi`).
pub fn openapi_json() -> String {
    let (_, api) = api_router().split_for_parts();
    api.to_pretty_json().unwrap_or_else(|_| "{}".into())
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
    let state = AppState::open(&opts.db, &opts.limits).map_err(|e| ServeError::Store {
        path: opts.db.display().to_string(),
        err: e.to_string(),
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
    state.finish();
    Ok(())
}
