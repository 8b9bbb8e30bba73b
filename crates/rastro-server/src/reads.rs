//! The read endpoints. Each authenticates the caller and asks the caller's guard; the reply
//! leaves only once the read's audit entry is durable (see `AppState::guarded`).

use crate::auth::Caller;
use crate::error::{bounded, not_found, ApiError};
use crate::extract::{P, Q};
use crate::state::{AppState, CachedReply};
use crate::Errors;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rastro_app::views::*;
use rastro_app::{AlertFilter, AuditFilter, ObservationQuery};
use rastro_core::{ConsignmentStatus, Typology};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// Largest page any list returns.
pub const MAX_LIMIT: u32 = 1000;
const DEFAULT_LIMIT: u32 = 100;
/// Cached replies at most.
const REPLY_CACHE_MAX: usize = 1024;

/// The page size a `limit` parameter asks for, within bounds.
fn page(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

fn typology_param(x: Option<&str>) -> Result<Option<Typology>, ApiError> {
    x.map(|x| {
        Typology::parse(x).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown typology {:?}; one of: {}",
                bounded(x, 40),
                typologies().join(", ")
            ))
        })
    })
    .transpose()
}

fn time_param(name: &str, x: Option<&str>) -> Result<Option<i64>, ApiError> {
    x.map(|x| {
        rastro_core::parse_time_ms(x).map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))
    })
    .transpose()
}

#[utoipa::path(get, path = "/api/v1/health", security(("token" = [])),
    responses((status = 200, description = "The server answers and the caller is authenticated"), Errors))]
pub async fn health(
    State(s): State<AppState>,
    c: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    s.guarded(c, |_| Ok(())).await?;
    Ok(Json(serde_json::json!({"status": "ok"})))
}

#[utoipa::path(get, path = "/api/v1/me", security(("token" = [])),
    responses((status = 200, description = "Who the caller is", body = MeV1), Errors))]
pub async fn me(State(s): State<AppState>, c: Caller) -> Result<Json<MeV1>, ApiError> {
    Ok(Json(s.guarded(c, |g| Ok(g.me()?)).await?))
}

#[utoipa::path(get, path = "/api/v1/orgs", security(("token" = [])),
    responses((status = 200, description = "Registered organisations, for choosing release recipients (host-nation commanders and administrators)", body = Vec<OrgV1>), Errors))]
pub async fn orgs(State(s): State<AppState>, c: Caller) -> Result<Json<Vec<OrgV1>>, ApiError> {
    Ok(Json(s.guarded(c, |g| Ok(g.orgs()?)).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// One typology (`route_deviation`, `unscheduled_stop`, ...).
    typology: Option<String>,
    /// Only alerts at or after this time (RFC 3339).
    since: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/alerts", params(AlertsQuery), security(("token" = [])),
    responses((status = 200, description = "Alerts of the caller's view, highest score first", body = Vec<AlertV1>), Errors))]
pub async fn alerts(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<AlertsQuery>,
) -> Result<Response, ApiError> {
    let f = AlertFilter {
        typology: typology_param(q.typology.as_deref())?,
        since_ms: time_param("since", q.since.as_deref())?,
        subject: None,
        limit: Some(page(q.limit)),
    };
    let inner = s.inner.clone();
    let body = s
        .guarded(c, move |g| {
            // Two callers of one view see the same alerts: a reply is cached per view and query
            // while the alerts are unchanged, and still logged as a read each time.
            let key = format!(
                "{}|{:?}|{:?}|{:?}",
                g.view_key(),
                f.typology,
                f.since_ms,
                f.limit
            );
            let generation = g.alert_generation()?;
            let hit = inner.replies.lock().ok().and_then(|c| {
                c.get(&key)
                    .filter(|r| r.generation == generation)
                    .map(|r| (r.body.clone(), r.ids.clone()))
            });
            if let Some((body, ids)) = hit {
                g.log_cached_alerts(ids.to_vec())?;
                return Ok(body);
            }
            let list = g.alerts(&f)?;
            let body =
                Arc::new(serde_json::to_vec(&list).map_err(|e| ApiError::Internal(e.to_string()))?);
            let ids = Arc::new(
                list.iter()
                    .filter(|a| a.marking.tlp != "CLEAR")
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
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// One typology.
    typology: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/alert-queue", params(QueueQuery), security(("token" = [])),
    responses((status = 200, description = "Alerts of the caller's view with the caller's organisation's triage", body = AlertQueueV1), Errors))]
pub async fn alert_queue(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<QueueQuery>,
) -> Result<Json<AlertQueueV1>, ApiError> {
    let f = AlertFilter {
        typology: typology_param(q.typology.as_deref())?,
        limit: Some(page(q.limit)),
        ..Default::default()
    };
    Ok(Json(s.guarded(c, move |g| Ok(g.alert_queue(&f)?)).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/leads", params(LimitQuery), security(("token" = [])),
    responses((status = 200, description = "Leads of the caller's view, by rank, with the caller's organisation's decisions", body = Vec<LeadV1>), Errors))]
pub async fn leads(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<LimitQuery>,
) -> Result<Json<Vec<LeadV1>>, ApiError> {
    let limit = page(q.limit);
    Ok(Json(s.guarded(c, move |g| Ok(g.leads(limit)?)).await?))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}", params(("id" = String, Path, description = "Lead id")), security(("token" = [])),
    responses((status = 200, description = "One lead with its evidence", body = LeadV1), Errors))]
pub async fn lead(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
) -> Result<Json<LeadV1>, ApiError> {
    let id2 = id.clone();
    s.guarded(c, move |g| Ok(g.lead(&id2)?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("lead", &id))
}

#[utoipa::path(get, path = "/api/v1/leads.geojson", params(LimitQuery), security(("token" = [])),
    responses((status = 200, description = "The caller's leads and the releases reaching the caller, as an RFC 7946 FeatureCollection of H3 cells"), Errors))]
pub async fn leads_geojson(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<LimitQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = q.limit.map(|l| l.clamp(1, MAX_LIMIT)).unwrap_or(MAX_LIMIT);
    Ok(Json(
        s.guarded(c, move |g| Ok(g.leads_geojson(limit)?)).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/releases", security(("token" = [])),
    responses((status = 200, description = "Releases reaching the caller, and those the caller's organisation made", body = Vec<ReleaseV1>), Errors))]
pub async fn releases(
    State(s): State<AppState>,
    c: Caller,
) -> Result<Json<Vec<ReleaseV1>>, ApiError> {
    Ok(Json(s.guarded(c, |g| Ok(g.releases()?)).await?))
}

#[utoipa::path(get, path = "/api/v1/releases/{id}", params(("id" = i64, Path, description = "Release number")), security(("token" = [])),
    responses((status = 200, description = "One release: the lead as released", body = ReleaseV1), Errors))]
pub async fn release(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
) -> Result<Json<ReleaseV1>, ApiError> {
    let rid: i64 = id.parse().map_err(|_| not_found("release", &id))?;
    s.guarded(c, move |g| Ok(g.release(rid)?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("release", &id))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsignmentsQuery {
    /// Only this status: at_port, in_transit, delivered, overdue, lost.
    status: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/consignments", params(ConsignmentsQuery), security(("token" = [])),
    responses((status = 200, description = "Consignments the caller may see, with their status in the caller's view", body = Vec<ConsignmentItemV1>), Errors))]
pub async fn consignments(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<ConsignmentsQuery>,
) -> Result<Json<Vec<ConsignmentItemV1>>, ApiError> {
    let limit = page(q.limit) as usize;
    let status = q
        .status
        .as_deref()
        .map(|x| {
            ConsignmentStatus::parse(x).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "unknown status {:?}; one of: {}",
                    bounded(x, 40),
                    ConsignmentStatus::choices()
                ))
            })
        })
        .transpose()?;
    Ok(Json(
        s.guarded(c, move |g| Ok(g.consignments(status, limit)?))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/consignments/{id}", params(("id" = String, Path, description = "Consignment id")), security(("token" = [])),
    responses((status = 200, description = "The consignment, the custody events and alerts the caller may see, its status, state and track in the caller's view", body = ConsignmentV1), Errors))]
pub async fn consignment(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
) -> Result<Json<ConsignmentV1>, ApiError> {
    let id2 = id.clone();
    s.guarded(c, move |g| Ok(g.consignment(&id2)?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("consignment", &id))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObservationsQuery {
    /// One subject's fixes: a vehicle id, a plate, an MMSI.
    subject: Option<String>,
    /// Fixes inside this H3 cell (hexadecimal, resolution 3 or finer).
    cell: Option<String>,
    /// From this time (RFC 3339).
    from: Option<String>,
    /// Up to this time (RFC 3339, inclusive).
    to: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/observations", params(ObservationsQuery), security(("token" = [])),
    responses((status = 200, description = "Observations of one subject or in one cell that the caller may see, in time order", body = Vec<ObservationV1>), Errors))]
pub async fn observations(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<ObservationsQuery>,
) -> Result<Json<Vec<ObservationV1>>, ApiError> {
    let query = match (q.subject, q.cell) {
        (Some(s), None) => ObservationQuery::Subject(s),
        (None, Some(c)) => {
            ObservationQuery::Cell(rastro_core::grid::parse(&c).ok_or_else(|| {
                ApiError::BadRequest(format!("{:?} is not an H3 cell", bounded(&c, 40)))
            })?)
        }
        _ => {
            return Err(ApiError::BadRequest(
                "give exactly one of subject or cell".into(),
            ))
        }
    };
    let from = time_param("from", q.from.as_deref())?.unwrap_or(i64::MIN);
    let to = time_param("to", q.to.as_deref())?.unwrap_or(i64::MAX);
    let limit = page(q.limit) as usize;
    Ok(Json(
        s.guarded(c, move |g| Ok(g.observations(&query, from, to, limit)?))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stats", security(("token" = [])),
    responses((status = 200, description = "Counts per kind of what the caller may see", body = StatsV1), Errors))]
pub async fn stats(State(s): State<AppState>, c: Caller) -> Result<Json<StatsV1>, ApiError> {
    Ok(Json(s.guarded(c, |g| Ok(g.counts()?)).await?))
}

#[utoipa::path(get, path = "/api/v1/quarantine", params(LimitQuery), security(("token" = [])),
    responses((status = 200, description = "Rejected lines of the caller's organisation's submissions", body = Vec<QuarantineV1>), Errors))]
pub async fn quarantine(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<LimitQuery>,
) -> Result<Json<Vec<QuarantineV1>>, ApiError> {
    let limit = page(q.limit);
    Ok(Json(s.guarded(c, move |g| Ok(g.quarantine(limit)?)).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries by this actor.
    who: Option<String>,
    /// RFC 3339.
    since: Option<String>,
    /// Only entries naming this record id.
    record: Option<String>,
    /// Only entries of this action (`lead.release`, `alert.triage`, `read`, ...).
    action: Option<String>,
    /// Only entries with a lower sequence number: with `newest_first`, the next page.
    before: Option<u64>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
    /// `true`: the latest entries, newest first.
    newest_first: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), security(("token" = [])),
    responses((status = 200, description = "Audit log entries (auditors and administrators)", body = Vec<AuditEntryV1>), Errors))]
pub async fn audit(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<AuditQuery>,
) -> Result<Json<Vec<AuditEntryV1>>, ApiError> {
    let f = AuditFilter {
        actor: q.who.map(|w| bounded(&w, 200)),
        since_ms: time_param("since", q.since.as_deref())?,
        record: q.record.map(|r| bounded(&r, 200)),
        action: q.action.map(|a| bounded(&a, 80)),
        before_seq: q.before,
        limit: Some(page(q.limit)),
        newest_first: q.newest_first.unwrap_or(false),
        // The guard sets it from the caller; a caller never chooses it.
        actor_org: None,
    };
    Ok(Json(s.guarded(c, move |g| Ok(g.audit_log(&f)?)).await?))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", security(("token" = [])),
    responses((status = 200, description = "The whole audit chain recomputed from its stored bytes and checked against the stored signed heads (host-nation auditors and administrators)", body = AuditVerifyV1), Errors))]
pub async fn audit_verify(
    State(s): State<AppState>,
    c: Caller,
) -> Result<Json<AuditVerifyV1>, ApiError> {
    Ok(Json(s.guarded(c, |g| Ok(g.audit_verify()?)).await?))
}

#[utoipa::path(get, path = "/api/v1/ports", security(("token" = [])),
    responses((status = 200, description = "The host nation's container ports (public facts)", body = Vec<PortV1>), Errors))]
pub async fn ports(State(s): State<AppState>, c: Caller) -> Result<Json<Vec<PortV1>>, ApiError> {
    // Authenticated like everything else, though the data is public.
    s.guarded(c, |_| Ok(())).await?;
    let geo = rastro_geo::Geography::mexico();
    Ok(Json(
        geo.ports
            .iter()
            .map(|p| PortV1 {
                name: p.name.into(),
                locode: p.locode.into(),
                lat: p.pos.lat,
                lon: p.pos.lon,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/entities/{id}", params(("id" = String, Path, description = "An entity id (ENT-…) or any of its party record ids")), security(("token" = [])),
    responses((status = 200, description = "The entity's party records and direct links, built from what the caller may see", body = rastro_app::entities::EntityV1), Errors))]
pub async fn entity(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
) -> Result<Json<rastro_app::entities::EntityV1>, ApiError> {
    let id2 = id.clone();
    s.guarded(c, move |g| Ok(g.entity(&id2)?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("entity", &id))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinksQuery {
    /// How far to follow links (1 to 6, default 1).
    hops: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/links/{id}", params(("id" = String, Path, description = "A node: ENT-…, a party record id, consignment:ID, place:ID, phone:NUMBER"), LinksQuery), security(("token" = [])),
    responses((status = 200, description = "Links within the given hops, each with the records behind it", body = Vec<rastro_app::entities::LinkV1>), Errors))]
pub async fn links(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
    Q(q): Q<LinksQuery>,
) -> Result<Json<Vec<rastro_app::entities::LinkV1>>, ApiError> {
    let id2 = id.clone();
    let hops = q.hops.unwrap_or(1);
    s.guarded(c, move |g| Ok(g.links(&id2, hops)?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("node", &id))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathQuery {
    /// The node to start from.
    from: String,
    /// The node to reach.
    to: String,
}

#[utoipa::path(get, path = "/api/v1/path", params(PathQuery), security(("token" = [])),
    responses((status = 200, description = "The shortest chain of links between the two nodes (empty when not linked in what the caller may see)", body = Vec<rastro_app::entities::LinkV1>), Errors))]
pub async fn path(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<PathQuery>,
) -> Result<Json<Vec<rastro_app::entities::LinkV1>>, ApiError> {
    let (a, b) = (q.from.clone(), q.to.clone());
    s.guarded(c, move |g| Ok(g.path(&a, &b)?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("node", &format!("{} or {}", q.from, q.to)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForensicsQuery {
    /// Only the links of this sample.
    sample: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/forensics", params(ForensicsQuery), security(("token" = [])),
    responses((status = 200, description = "Forensic linkage over the samples, seizures and reference samples the caller may see: the calibration, refused samples with reasons, links with their false-link rate, and seizure groups tied to leads", body = rastro_app::forensics::ForensicsV1), Errors))]
pub async fn forensics(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<ForensicsQuery>,
) -> Result<Json<rastro_app::forensics::ForensicsV1>, ApiError> {
    let mut v = s.guarded(c, move |g| Ok(g.forensics_job()?.view)).await?;
    if let Some(id) = q.sample {
        v.links.retain(|l| l.a == id || l.b == id);
    }
    Ok(Json(v))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlotQuery {
    /// Language of the labels: `en` (default) or `es`.
    lang: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/forensics/plot/{which}", params(("which" = String, Path, description = "`distributions` (linked and unlinked score distributions with the threshold) or `roc`"), PlotQuery), security(("token" = [])),
    responses((status = 200, description = "The plot of the caller's calibration as SVG", content_type = "image/svg+xml"), Errors))]
pub async fn forensics_plot(
    State(s): State<AppState>,
    c: Caller,
    P(which): P,
    Q(q): Q<PlotQuery>,
) -> Result<Response, ApiError> {
    let lang = q.lang.unwrap_or_else(|| "en".into());
    let w = which.clone();
    let svg = s
        .guarded(c, move |g| Ok(g.forensics_plot(&w, &lang)?))
        .await?
        .ok_or_else(|| not_found("plot (distributions or roc, once calibrated)", &which))?;
    Ok(([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
