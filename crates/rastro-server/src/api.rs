//! Routes, handlers and the mapping from errors to HTTP statuses. Each handler authenticates
//! the bearer token and does its store work through `Guard` on the bounded pool.

use crate::pool::{Pool, PoolError};
use crate::Limits;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use rastro_core::{Kind, LeadStatus, Typology};
use rastro_policy::guard::{Guard, GuardError, TokenCache};
use rastro_store::{AlertFilter, AuditFilter, Store};
use serde::Deserialize;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// WAL size (pages of 16 KiB) at which the server's connections checkpoint: 32 MiB.
pub(crate) const SERVER_WAL_PAGES: u32 = 2048;

/// Largest page any list returns.
pub const MAX_LIMIT: u32 = 1000;
const DEFAULT_LIMIT: u32 = 100;
/// Refusals listed in one rejected ingest.
const MAX_REFUSALS: usize = 10;

/// Read entries waiting for the audit writer; a full queue makes requests wait.
const AUDIT_QUEUE: usize = 8192;
/// Entries committed per audit transaction at most.
const AUDIT_BATCH: usize = 2000;
/// Cached alert replies at most (the cache is emptied when full).
const REPLY_CACHE_MAX: usize = 1024;

enum AuditMsg {
    Entry(String, rastro_store::AuditEvent),
    /// Answered once every entry queued before it is committed.
    Flush(SyncSender<()>),
}

/// A serialised alert reply, valid while the alerts' generation is unchanged, and the ids
/// whose read must be logged each time it is served.
struct CachedReply {
    generation: i64,
    body: Arc<Vec<u8>>,
    ids: Arc<Vec<String>>,
}

struct Inner {
    pool: Arc<Pool>,
    tokens: TokenCache,
    audit_tx: Mutex<Option<SyncSender<AuditMsg>>>,
    audit_worker: Mutex<Option<std::thread::JoinHandle<()>>>,
    replies: Mutex<std::collections::HashMap<String, CachedReply>>,
    /// Wakes the analysis worker; a full channel means a run is already due (coalescing).
    analyse: Mutex<Option<SyncSender<()>>>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl AppState {
    /// Opens the store (creating or migrating it) and starts the analysis worker, which
    /// analyses records posted to the API exactly as `rastro analyze` analyses ingested files.
    pub fn open(
        db: &std::path::Path,
        limits: &Limits,
        lead_config: rastro_fuse::LeadConfig,
    ) -> Result<AppState, rastro_store::StoreError> {
        drop(Store::open(db)?);
        let (tx, rx) = sync_channel::<()>(1);
        let db2 = db.to_path_buf();
        let worker = std::thread::spawn(move || {
            while rx.recv().is_ok() {
                let run = || -> Result<(), String> {
                    let mut store = Store::open(&db2).map_err(|e| e.to_string())?;
                    store.set_actor("rastro-server:analysis");
                    let opts = rastro_pipeline::AnalyzeOptions {
                        config: rastro_pipeline::DetectConfig::default(),
                        now_ms: now_ms(),
                        full: false,
                        catalogue: rastro_core::Catalogue::builtin(),
                    };
                    rastro_pipeline::analyze(&mut store, &opts, &|_, _| {})
                        .map_err(|e| e.to_string())?;
                    rastro_pipeline::compute_leads(&mut store, now_ms(), &lead_config)
                        .map_err(|e| e.to_string())?;
                    Ok(())
                };
                if let Err(e) = run() {
                    tracing::error!("analysis after API ingest failed: {e}");
                }
            }
        });
        // One writer appends every request's read entries, many per transaction: the chain
        // tip is read once per batch and requests never queue behind each other's commits.
        let (audit_tx, audit_rx) = sync_channel::<AuditMsg>(AUDIT_QUEUE);
        let db3 = db.to_path_buf();
        let audit_worker = std::thread::spawn(move || {
            let mut store = match Store::open(&db3) {
                Ok(mut s) => {
                    if let Err(e) = s.set_wal_autocheckpoint(SERVER_WAL_PAGES) {
                        tracing::error!("audit writer: {e}");
                    }
                    s
                }
                Err(e) => {
                    tracing::error!("audit writer cannot open the store: {e}");
                    return;
                }
            };
            while let Ok(first) = audit_rx.recv() {
                let mut batch = Vec::new();
                let mut acks = Vec::new();
                let mut next = Some(first);
                while let Some(msg) = next.take() {
                    match msg {
                        AuditMsg::Entry(actor, ev) => batch.push((actor, ev)),
                        AuditMsg::Flush(ack) => acks.push(ack),
                    }
                    if batch.len() < AUDIT_BATCH {
                        next = audit_rx.try_recv().ok();
                    }
                }
                if !batch.is_empty() {
                    if let Err(e) = store.audit_batch(batch) {
                        tracing::error!("audit writer: {e}");
                    }
                }
                for ack in acks {
                    let _ = ack.send(());
                }
            }
        });
        Ok(AppState {
            inner: Arc::new(Inner {
                pool: Arc::new(Pool::new(db.to_path_buf(), limits.pool_size)),
                tokens: TokenCache::default(),
                audit_tx: Mutex::new(Some(audit_tx)),
                audit_worker: Mutex::new(Some(audit_worker)),
                replies: Mutex::new(std::collections::HashMap::new()),
                analyse: Mutex::new(Some(tx)),
                worker: Mutex::new(Some(worker)),
            }),
        })
    }

    /// Waits until every read entry queued so far is committed (call on a blocking thread).
    fn flush_audit(&self) {
        let tx = self.inner.audit_tx.lock().ok().and_then(|t| t.clone());
        if let Some(tx) = tx {
            let (ack_tx, ack_rx) = sync_channel(1);
            if tx.send(AuditMsg::Flush(ack_tx)).is_ok() {
                let _ = ack_rx.recv();
            }
        }
    }

    fn request_analysis(&self) {
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
    pub fn finish_analysis(&self) {
        if let Ok(mut g) = self.inner.analyse.lock() {
            g.take();
        }
        if let Some(h) = self.inner.worker.lock().ok().and_then(|mut w| w.take()) {
            let _ = h.join();
        }
        if let Ok(mut g) = self.inner.audit_tx.lock() {
            g.take();
        }
        if let Some(h) = self
            .inner
            .audit_worker
            .lock()
            .ok()
            .and_then(|mut w| w.take())
        {
            let _ = h.join();
        }
    }

    /// Runs `f` with the caller's guard on a pooled store.
    async fn guarded<T: Send + 'static>(
        &self,
        token: String,
        f: impl FnOnce(&mut Guard<'_>) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let inner = self.inner.clone();
        self.inner
            .pool
            .run(move |store| {
                let mut g = Guard::with_token_cached(store, &token, &inner.tokens)?;
                let tx = inner.audit_tx.lock().ok().and_then(|t| t.clone());
                if let Some(tx) = tx {
                    g.defer_audit(Arc::new(move |actor, ev| {
                        // A closed queue means shutdown has begun; the entry is then written
                        // by no one, so say so in the log rather than pretend.
                        if tx.send(AuditMsg::Entry(actor, ev)).is_err() {
                            tracing::error!("audit queue closed; a read entry was not written");
                        }
                    }));
                }
                f(&mut g)
            })
            .await?
    }
}

/// The `typology` query parameter.
fn typology_param(x: Option<&str>) -> Result<Option<Typology>, ApiError> {
    x.map(|x| {
        Typology::parse(x).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown typology {x:?}; one of: {}",
                Typology::ALL.map(|t| t.as_str()).join(", ")
            ))
        })
    })
    .transpose()
}

/// The `since` query parameter (RFC 3339).
fn since_param(x: Option<&str>) -> Result<Option<i64>, ApiError> {
    x.map(|x| {
        rastro_core::parse_time_ms(x).map_err(|e| ApiError::BadRequest(format!("since: {e}")))
    })
    .transpose()
}

/// The page size a `limit` parameter asks for, within bounds.
fn page(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT)
}

/// An error as the client sees it: a status and a message that reveals nothing it may not know.
#[derive(Debug)]
pub enum ApiError {
    Unauthenticated,
    Forbidden(String),
    NotFound(String),
    BadRequest(String),
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "not authenticated: send `Authorization: Bearer <token>` with a valid token".into(),
            ),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Internal(m) => {
                tracing::error!("internal error: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details".into(),
                )
            }
        };
        (status, Json(serde_json::json!({ "error": msg }))).into_response()
    }
}

impl From<GuardError> for ApiError {
    fn from(e: GuardError) -> Self {
        match e {
            GuardError::Unauthenticated => ApiError::Unauthenticated,
            GuardError::Forbidden(m) => ApiError::Forbidden(m),
            GuardError::Invalid(m) => ApiError::BadRequest(m),
            GuardError::Store(s) => ApiError::Internal(s.to_string()),
        }
    }
}

impl From<PoolError> for ApiError {
    fn from(e: PoolError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<rastro_store::StoreError> for ApiError {
    fn from(e: rastro_store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .ok_or(ApiError::Unauthenticated)
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("no {what} {id:?}"))
}

#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, description = "The server is up")))]
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

#[utoipa::path(get, path = "/api/v1/me", security(("token" = [])),
    responses((status = 200, description = "Who the token belongs to"), (status = 401, description = "No valid token")))]
async fn me(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let t = bearer(&headers)?;
    let v = s
        .guarded(t, |g| {
            Ok(serde_json::to_value(g.viewer()).unwrap_or_default())
        })
        .await?;
    Ok(Json(v))
}

#[derive(Deserialize, IntoParams)]
struct AlertsQuery {
    /// One typology (route_deviation, unscheduled_stop, ...).
    typology: Option<String>,
    /// RFC 3339; only alerts at or after it.
    since: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/alerts", params(AlertsQuery), security(("token" = [])),
    responses((status = 200, description = "Alerts the caller may see, highest score first"), (status = 400, description = "Bad parameter"), (status = 401, description = "No valid token")))]
async fn alerts(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AlertsQuery>,
) -> Result<Response, ApiError> {
    let t = bearer(&headers)?;
    let typology = typology_param(q.typology.as_deref())?;
    let since_ms = since_param(q.since.as_deref())?;
    let filter = AlertFilter {
        typology,
        since_ms,
        subject: None,
        limit: Some(page(q.limit)),
    };
    // Replies are cached per audience (which the guard defines) and query, and served again
    // while the alerts are unchanged; every serving is still logged as a read.
    let query = format!("{typology:?}|{since_ms:?}|{:?}", filter.limit);
    let inner = s.inner.clone();
    let body = s
        .guarded(t, move |g| {
            let key = format!("{}|{query}", g.derived_audience_key());
            let generation = g.alert_generation()?;
            let hit = inner.replies.lock().ok().and_then(|c| {
                c.get(&key)
                    .filter(|r| r.generation == generation)
                    .map(|r| (r.body.clone(), r.ids.clone()))
            });
            if let Some((body, ids)) = hit {
                g.log_read("alerts", ids.to_vec())?;
                return Ok(body);
            }
            let list = g.alerts(&filter)?;
            let body =
                Arc::new(serde_json::to_vec(&list).map_err(|e| ApiError::Internal(e.to_string()))?);
            let ids = Arc::new(
                list.iter()
                    .filter(|a| a.marking.tlp != rastro_core::Tlp::Clear)
                    .map(|a| a.id.clone())
                    .collect::<Vec<_>>(),
            );
            if let Ok(mut c) = inner.replies.lock() {
                if c.len() >= REPLY_CACHE_MAX {
                    c.clear();
                }
                c.insert(
                    key,
                    CachedReply {
                        generation,
                        body: body.clone(),
                        ids,
                    },
                );
            }
            Ok(body)
        })
        .await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_vec(),
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
struct LimitQuery {
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/leads", params(LimitQuery), security(("token" = [])),
    responses((status = 200, description = "Leads the caller may see, by rank, with the evidence the caller may see"), (status = 401, description = "No valid token")))]
async fn leads(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Vec<rastro_core::Lead>>, ApiError> {
    let t = bearer(&headers)?;
    let limit = page(q.limit);
    Ok(Json(s.guarded(t, move |g| Ok(g.leads(limit)?)).await?))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}", params(("id" = String, Path, description = "Lead id")), security(("token" = [])),
    responses((status = 200, description = "One lead with its evidence"), (status = 404, description = "No such lead, or not visible to the caller")))]
async fn lead(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<rastro_core::Lead>, ApiError> {
    let t = bearer(&headers)?;
    let id2 = id.clone();
    s.guarded(t, move |g| Ok(g.lead(&id2)?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("lead", &id))
}

#[derive(Deserialize, ToSchema)]
struct StatusBody {
    /// new, under_review, released, actioned or closed.
    status: String,
    note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/status", params(("id" = String, Path, description = "Lead id")), request_body = StatusBody, security(("token" = [])),
    responses((status = 200, description = "The lead with its new status"), (status = 403, description = "Not a host-nation analyst or commander"), (status = 404, description = "No such lead, or not visible")))]
async fn lead_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<StatusBody>,
) -> Result<Json<rastro_core::Lead>, ApiError> {
    let t = bearer(&headers)?;
    let status = LeadStatus::parse(&b.status)
        .ok_or_else(|| ApiError::BadRequest(format!("unknown status {:?}", b.status)))?;
    let id2 = id.clone();
    s.guarded(t, move |g| {
        Ok(g.set_lead_status(&id2, status, b.note.as_deref(), now_ms())?)
    })
    .await?
    .map(Json)
    .ok_or_else(|| not_found("lead", &id))
}

#[derive(Deserialize, ToSchema)]
struct ReleaseBody {
    /// Organisation codes or ISO 3166 nations.
    to: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/release", params(("id" = String, Path, description = "Lead id")), request_body = ReleaseBody, security(("token" = [])),
    responses((status = 200, description = "The lead with its widened marking"), (status = 403, description = "Not a host-nation commander"), (status = 404, description = "No such lead, or not visible")))]
async fn lead_release(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<ReleaseBody>,
) -> Result<Json<rastro_core::Lead>, ApiError> {
    let t = bearer(&headers)?;
    let id2 = id.clone();
    s.guarded(t, move |g| Ok(g.release_lead(&id2, &b.to, now_ms())?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("lead", &id))
}

#[derive(Deserialize, IntoParams)]
struct ConsignmentsQuery {
    /// Only this tracking status (e.g. delivered, in_transit, overdue).
    status: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/consignments", params(ConsignmentsQuery), security(("token" = [])),
    responses((status = 200, description = "Consignments the caller may see, with their status")))]
async fn consignments(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ConsignmentsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let t = bearer(&headers)?;
    let limit = page(q.limit) as usize;
    let list = s
        .guarded(t, move |g| Ok(g.consignments(q.status.as_deref(), limit)?))
        .await?;
    let v: Vec<_> = list
        .into_iter()
        .map(|(c, st)| serde_json::json!({"consignment": c, "status": st}))
        .collect();
    Ok(Json(serde_json::Value::Array(v)))
}

#[utoipa::path(get, path = "/api/v1/consignments/{id}", params(("id" = String, Path, description = "Consignment id")), security(("token" = [])),
    responses((status = 200, description = "The consignment, its custody events and alerts the caller may see"), (status = 404, description = "No such consignment, or not visible")))]
async fn consignment(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let t = bearer(&headers)?;
    let id2 = id.clone();
    s.guarded(t, move |g| {
        let Some(rec) = g.record(Kind::Consignment, &id2)? else {
            return Ok(None);
        };
        let custody: Vec<_> = g
            .records_by_ref(Kind::Custody, &id2)?
            .into_iter()
            .map(|r| r.record)
            .collect();
        let alerts = g.alerts(&AlertFilter {
            subject: Some(id2.clone()),
            ..Default::default()
        })?;
        let (status, fixes) = g.track(&id2)?.unwrap_or_default();
        let coords: Vec<[f64; 2]> = fixes.iter().map(|f| [f[0], f[1]]).collect();
        Ok(Some(serde_json::json!({
            "consignment": rec.record,
            "status": status,
            "custody": custody,
            "alerts": alerts,
            "track": {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": {"status": status, "fixes": coords.len()}},
        })))
    })
    .await?
    .map(Json)
    .ok_or_else(|| not_found("consignment", &id))
}

#[derive(Deserialize, IntoParams)]
struct QueueQuery {
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
    /// One typology.
    typology: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/alert-queue", params(QueueQuery), security(("token" = [])),
    responses((status = 200, description = "Alerts the caller may see with their triage: {alerts, triage: {id: {state, reason, by, time}}}")))]
async fn alert_queue(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let t = bearer(&headers)?;
    let typology = typology_param(q.typology.as_deref())?;
    let f = AlertFilter {
        typology,
        limit: Some(page(q.limit)),
        ..Default::default()
    };
    let v = s
        .guarded(t, move |g| {
            let alerts = g.alerts(&f)?;
            let triage = g.alert_triage(&alerts)?;
            Ok(serde_json::json!({"alerts": alerts, "triage": triage}))
        })
        .await?;
    Ok(Json(v))
}

#[derive(Deserialize, ToSchema)]
struct TriageBody {
    /// acknowledged, dismissed (with a reason) or escalated.
    state: String,
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/triage", params(("id" = String, Path, description = "Alert id")), request_body = TriageBody, security(("token" = [])),
    responses((status = 200, description = "Recorded"), (status = 403, description = "Not a host-nation analyst or commander, or no reason to dismiss"), (status = 404, description = "No such alert, or not visible")))]
async fn alert_triage(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<TriageBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let t = bearer(&headers)?;
    let id2 = id.clone();
    let done = s
        .guarded(t, move |g| {
            Ok(g.triage_alert(&id2, &b.state, b.reason.as_deref(), now_ms())?)
        })
        .await?;
    if done {
        Ok(Json(serde_json::json!({"alert": id, "recorded": true})))
    } else {
        Err(not_found("alert", &id))
    }
}

#[utoipa::path(get, path = "/api/v1/leads.geojson", security(("token" = [])),
    responses((status = 200, description = "Leads the caller may see as an RFC 7946 FeatureCollection of their H3 cells")))]
async fn leads_geojson(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let t = bearer(&headers)?;
    let leads = s.guarded(t, move |g| Ok(g.leads(MAX_LIMIT)?)).await?;
    Ok(Json(rastro_core::lead::geojson(&leads)))
}

#[utoipa::path(get, path = "/api/v1/ports", security(("token" = [])),
    responses((status = 200, description = "The host nation's container ports (public facts)")))]
async fn ports(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let t = bearer(&headers)?;
    // Authenticated like everything else, though the data is public.
    s.guarded(t, |_| Ok(())).await?;
    let geo = rastro_geo::Geography::mexico();
    let list: Vec<_> = geo
        .ports
        .iter()
        .map(|p| serde_json::json!({"name": p.name, "locode": p.locode, "lat": p.pos.lat, "lon": p.pos.lon}))
        .collect();
    Ok(Json(serde_json::Value::Array(list)))
}

#[utoipa::path(get, path = "/api/v1/stats", security(("token" = [])),
    responses((status = 200, description = "Counts per kind of what the caller may see")))]
async fn stats(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let t = bearer(&headers)?;
    let counts = s.guarded(t, |g| Ok(g.counts()?)).await?;
    Ok(Json(serde_json::json!({ "visible": counts })))
}

#[derive(Deserialize, IntoParams)]
struct AuditQuery {
    /// Only entries by this actor.
    who: Option<String>,
    /// RFC 3339.
    since: Option<String>,
    /// Only entries naming this record id.
    record: Option<String>,
    limit: Option<u32>,
    /// `true`: the latest entries, newest first.
    newest_first: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), security(("token" = [])),
    responses((status = 200, description = "Audit log entries"), (status = 403, description = "Not an auditor or administrator")))]
async fn audit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<rastro_store::AuditRow>>, ApiError> {
    let t = bearer(&headers)?;
    let since_ms = since_param(q.since.as_deref())?;
    let f = AuditFilter {
        actor: q.who,
        since_ms,
        record: q.record,
        limit: Some(page(q.limit)),
        newest_first: q.newest_first.unwrap_or(false),
    };
    // An auditor sees every read made before their request.
    let s2 = s.clone();
    Ok(Json(
        s.guarded(t, move |g| {
            g.require_audit()?;
            s2.flush_audit();
            Ok(g.audit_log(&f)?)
        })
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
struct IngestQuery {
    /// The record kind; detected from the header or first record when absent.
    kind: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/ingest", params(IngestQuery), security(("token" = [])),
    request_body(content = String, description = "CSV with a header row, or JSON Lines, as in docs/formats.md", content_type = "text/csv"),
    responses((status = 200, description = "What was ingested, duplicated and quarantined, as for a file"),
        (status = 403, description = "A record claims another originator, or a partner used a marking below AMBER: nothing was written"),
        (status = 413, description = "Body too large")))]
async fn ingest(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<IngestQuery>,
    body: Bytes,
) -> Result<Json<rastro_pipeline::FileReport>, ApiError> {
    let t = bearer(&headers)?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| Kind::parse(k).ok_or_else(|| ApiError::BadRequest(format!("unknown kind {k:?}"))))
        .transpose()?;
    let report = s
        .guarded(t, move |g| {
            let user = g.viewer().map(|v| v.user.clone()).unwrap_or_default();
            let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
            let source = format!("api:{user}:{digest}");
            // Every record is checked before anything is written: a refused batch leaves no
            // trace but its audit-free 403.
            let refusals = match rastro_ingest::open(std::io::Cursor::new(&body[..]), &source, kind)
            {
                Ok(mut reader) => {
                    // Streamed, so a large body is never held as records: only refusals are.
                    let mut refusals = Vec::new();
                    while refusals.len() < MAX_REFUSALS {
                        match reader.next_item() {
                            Ok(Some(rastro_ingest::Item::Record { line, record })) => {
                                if let Some(why) = g.origin_refusal(&record) {
                                    refusals.push((line, why));
                                }
                            }
                            Ok(Some(rastro_ingest::Item::Quarantine(_))) => {}
                            Ok(None) => break,
                            Err(e) => {
                                refusals.push((reader.line(), format!("unreadable: {e}")));
                                break;
                            }
                        }
                    }
                    refusals
                }
                // An unreadable body is quarantined by the pipeline below, like a bad file.
                Err(_) => Vec::new(),
            };
            if !refusals.is_empty() {
                let list: Vec<String> = refusals
                    .iter()
                    .map(|(line, why)| format!("line {line}: {why}"))
                    .collect();
                return Err(ApiError::Forbidden(format!(
                    "nothing was ingested: {}",
                    list.join("; ")
                )));
            }
            let opts = rastro_pipeline::IngestOptions {
                kind,
                ..Default::default()
            };
            let len = body.len() as u64;
            rastro_pipeline::ingest_stream(
                g.store_mut(),
                &source,
                std::io::Cursor::new(body),
                len,
                &opts,
                &(),
            )
            .map_err(|e| ApiError::Internal(e.to_string()))
        })
        .await?;
    if report.stats.inserted > 0 {
        s.request_analysis();
    }
    Ok(Json(report))
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
    info(title = "Rastro API", description = "Precursor tracking, alerts and leads. Every item is filtered by the caller's organisation and the item's marking (docs/security.md)."),
    modifiers(&SecurityAddon)
)]
struct ApiDoc;

/// The router and the OpenAPI document generated from the same handler list, so the two
/// cannot drift; the document is served at `/api/v1/openapi.json`.
pub fn router(state: AppState, limits: &Limits) -> Router {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(me))
        .routes(routes!(alerts))
        .routes(routes!(leads))
        .routes(routes!(lead))
        .routes(routes!(lead_status))
        .routes(routes!(lead_release))
        .routes(routes!(consignment))
        .routes(routes!(consignments))
        .routes(routes!(stats))
        .routes(routes!(audit))
        .routes(routes!(ingest))
        .routes(routes!(alert_queue))
        .routes(routes!(alert_triage))
        .routes(routes!(leads_geojson))
        .routes(routes!(ports))
        .split_for_parts();
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
        .merge(crate::ui::routes())
        .fallback(|| async {
            ApiError::NotFound("no such endpoint; see /api/v1/openapi.json".into())
        })
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_s),
        ))
        .with_state(state)
}
