//! STIX 2.1 over the JSON API, through the guard: a bundle for a recipient organisation (what
//! the caller and it may both read) and the import of a bundle as the caller's organisation.
//! TAXII 2.1 is not served yet (docs/federation.md).

use crate::auth::Caller;
use crate::error::{bounded, ApiError};
use crate::extract::Q;
use crate::state::{now_ms, AppState};
use crate::Errors;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rastro_app::share::{ImportReportV1, StixObjectV1};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The recipient organisation's code.
    #[serde(rename = "for")]
    to: String,
    /// RFC 3339: only records, alerts and leads with a time from this one.
    since: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/share/export", params(ExportQuery), security(("token" = [])),
    responses((status = 200, description = "A STIX 2.1 bundle of what the caller and the recipient may both read", content_type = "application/stix+json;version=2.1"), Errors))]
pub async fn export(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<ExportQuery>,
) -> Result<Response, ApiError> {
    let since = q
        .since
        .as_deref()
        .map(|t| {
            rastro_core::parse_time_ms(t)
                .map_err(|e| ApiError::BadRequest(format!("since {:?}: {e}", bounded(t, 40))))
        })
        .transpose()?;
    let to = q.to;
    let (bundle, _) = s
        .guarded(c, move |g| Ok(g.export_bundle(&to, since, now_ms())?))
        .await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/stix+json;version=2.1",
        )],
        bundle.to_string(),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/share/import", security(("token" = [])),
    request_body(content = String, description = "A STIX 2.1 bundle of the caller's organisation", content_type = "application/stix+json"),
    responses((status = 200, description = "What the import did", body = ImportReportV1), Errors))]
pub async fn import(
    State(s): State<AppState>,
    c: Caller,
    body: Bytes,
) -> Result<Json<ImportReportV1>, ApiError> {
    let limits = s.inner.ingest_limits;
    let report = s
        .guarded(c, move |g| Ok(g.import_bundle(&body, &limits, now_ms())?))
        .await?;
    if report.inserted.values().any(|n| *n > 0) {
        s.request_analysis();
    }
    Ok(Json(report))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObjectsQuery {
    /// Every version, not only the newest of each object.
    #[serde(default)]
    all_versions: bool,
    /// At most this many (default 1000, at most 10000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/share/objects", params(ObjectsQuery), security(("token" = [])),
    responses((status = 200, description = "Imported STIX objects the caller may read that map to no record, as they came", body = Vec<StixObjectV1>), Errors))]
pub async fn objects(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<ObjectsQuery>,
) -> Result<Json<Vec<StixObjectV1>>, ApiError> {
    let limit = q.limit.unwrap_or(1000);
    Ok(Json(
        s.guarded(c, move |g| Ok(g.stix_objects(q.all_versions, limit)?))
            .await?,
    ))
}
