//! The write endpoints: decisions (triage, lead status, releases) and ingest. Each is a guard
//! method, so the CLI and the API apply the same rules; each writes its audit entry in the
//! transaction that makes the change.

use crate::auth::Caller;
use crate::error::{bounded, not_found, ApiError};
use crate::extract::{J, P, Q};
use crate::state::{now_ms, AppState};
use crate::Errors;
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use rastro_app::views::*;
use rastro_core::{Kind, LeadStatus};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
pub struct TriageBody {
    /// `acknowledged`, `dismissed` (with a reason) or `escalated`.
    state: String,
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/triage", params(("id" = String, Path, description = "Alert id")), request_body = TriageBody, security(("token" = [])),
    responses((status = 200, description = "Recorded for the caller's organisation"), Errors))]
pub async fn alert_triage(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
    J(b): J<TriageBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id2 = id.clone();
    let done = s
        .guarded(c, move |g| {
            Ok(g.triage_alert(&id2, &b.state, b.reason.as_deref(), now_ms())?)
        })
        .await?;
    if done {
        Ok(Json(serde_json::json!({"alert": id, "recorded": true})))
    } else {
        Err(not_found("alert", &id))
    }
}

#[derive(Deserialize, ToSchema)]
pub struct StatusBody {
    /// `new`, `under_review`, `released`, `actioned` or `closed`.
    status: String,
    note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/status", params(("id" = String, Path, description = "Lead id")), request_body = StatusBody, security(("token" = [])),
    responses((status = 200, description = "The lead with the caller's organisation's new decision", body = LeadV1), Errors))]
pub async fn lead_status(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
    J(b): J<StatusBody>,
) -> Result<Json<LeadV1>, ApiError> {
    let status = LeadStatus::parse(&b.status).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "unknown status {:?}; one of new, under_review, released, actioned, closed",
            bounded(&b.status, 40)
        ))
    })?;
    let id2 = id.clone();
    s.guarded(c, move |g| {
        Ok(g.set_lead_status(&id2, status, b.note.as_deref(), now_ms())?)
    })
    .await?
    .map(Json)
    .ok_or_else(|| not_found("lead", &id))
}

#[derive(Deserialize, ToSchema)]
pub struct ReleaseBody {
    /// Registered organisation codes; ISO 3166 nations too, below TLP:RED.
    to: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/release", params(("id" = String, Path, description = "Lead id")), request_body = ReleaseBody, security(("token" = [])),
    responses((status = 200, description = "The release: the lead frozen as the caller sees it now, with its content hash", body = ReleaseV1), Errors))]
pub async fn lead_release(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
    J(b): J<ReleaseBody>,
) -> Result<Json<ReleaseV1>, ApiError> {
    let id2 = id.clone();
    s.guarded(c, move |g| Ok(g.release_lead(&id2, &b.to, now_ms())?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("lead", &id))
}

#[utoipa::path(post, path = "/api/v1/releases/{id}/revoke", params(("id" = i64, Path, description = "Release number")), security(("token" = [])),
    responses((status = 200, description = "Revoked: its recipients no longer see it"), Errors))]
pub async fn release_revoke(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rid: i64 = id.parse().map_err(|_| not_found("release", &id))?;
    let done = s
        .guarded(c, move |g| Ok(g.revoke_release(rid, now_ms())?))
        .await?;
    if done {
        Ok(Json(serde_json::json!({"release": rid, "revoked": true})))
    } else {
        Err(not_found("release", &id))
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// The record kind; detected from the header or first record when absent.
    kind: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/ingest", params(IngestQuery), security(("token" = [])),
    request_body(content = String, description = "CSV with a header row, or JSON Lines, as in docs/formats.md", content_type = "text/csv"),
    responses((status = 200, description = "What was ingested, duplicated and quarantined, as for a file", body = IngestReportV1), Errors))]
pub async fn ingest(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<IngestQuery>,
    body: Bytes,
) -> Result<Json<IngestReportV1>, ApiError> {
    let kind = q
        .kind
        .as_deref()
        .map(|k| {
            Kind::parse(k)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown kind {:?}", bounded(k, 40))))
        })
        .transpose()?;
    let limits = s.inner.ingest_limits;
    let report = s
        .guarded(c, move |g| Ok(g.ingest(&body, kind, &limits, now_ms())?))
        .await?;
    if report.inserted > 0 {
        s.request_analysis();
    }
    Ok(Json(report))
}
