//! The endpoints of operations, partner requests and lead packages: each a guard method, so
//! the CLI and the API apply the same law; each change names the version it was made on (409
//! when it moved) and commits with its audit entry.

use crate::auth::Caller;
use crate::error::{bounded, not_found, ApiError};
use crate::extract::{J, P, Q};
use crate::state::{now_ms, AppState};
use crate::Errors;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rastro_app::ops::OpsCommand;
use rastro_app::ops_views::{CollectionV1, KindRateV1, OperationV1, RequestV1};
use rastro_app::package::{PackageV1, Pap};
use rastro_ops::{LabFinding, OpRole, Outcome, RequestKind, Schedule, Seized, Site};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

fn time(field: &str, s: &str) -> Result<i64, ApiError> {
    rastro_core::parse_time_ms(s).map_err(|e| {
        ApiError::BadRequest(format!(
            "{field}: {:?} is not an RFC 3339 time: {e}",
            bounded(s, 40)
        ))
    })
}

#[utoipa::path(get, path = "/api/v1/operations", security(("token" = [])),
    responses((status = 200, description = "Operations the caller may see, each as the caller may see it (full, or the partner view the law allows)", body = Vec<OperationV1>), Errors))]
pub async fn operations(
    State(s): State<AppState>,
    c: Caller,
) -> Result<Json<Vec<OperationV1>>, ApiError> {
    Ok(Json(s.guarded(c, move |g| Ok(g.operations()?)).await?))
}

#[utoipa::path(get, path = "/api/v1/operations/{id}", params(("id" = String, Path, description = "Operation id")), security(("token" = [])),
    responses((status = 200, description = "One operation as the caller may see it", body = OperationV1), Errors))]
pub async fn operation(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
) -> Result<Json<OperationV1>, ApiError> {
    let id2 = id.clone();
    s.guarded(c, move |g| Ok(g.operation(&id2)?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("operation", &id))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOperationBody {
    id: String,
    objective: String,
    #[serde(default)]
    leads: Vec<String>,
    /// The approved partner request the operation answers.
    request: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/operations", request_body = CreateOperationBody, security(("token" = [])),
    responses((status = 200, description = "The new draft, owned by the caller's organisation", body = OperationV1), Errors))]
pub async fn create_operation(
    State(s): State<AppState>,
    c: Caller,
    J(b): J<CreateOperationBody>,
) -> Result<Json<OperationV1>, ApiError> {
    Ok(Json(
        s.guarded(c, move |g| {
            Ok(g.create_operation(
                &b.id,
                &b.objective,
                &b.leads,
                b.request.as_deref(),
                now_ms(),
            )?)
        })
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteBody {
    label: String,
    lat: f64,
    lon: f64,
    radius_m: f64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeizedBody {
    cas: String,
    quantity: f64,
    unit: String,
}

/// One change to an operation; `action` says which.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionBody {
    Edit {
        version: u64,
        objective: Option<String>,
        commander: Option<String>,
        sites: Option<Vec<SiteBody>>,
        /// RFC 3339; give both or neither.
        start: Option<String>,
        end: Option<String>,
        #[serde(default)]
        leads: Vec<String>,
        #[serde(default)]
        packages: Vec<String>,
        #[serde(default)]
        why: String,
    },
    Join {
        version: u64,
        user: String,
        role: String,
    },
    Leave {
        version: u64,
        user: String,
    },
    AddTask {
        version: u64,
        name: String,
    },
    Task {
        version: u64,
        name: String,
        note: String,
    },
    Propose {
        version: u64,
        #[serde(default)]
        why: String,
    },
    Withdraw {
        version: u64,
        why: String,
    },
    Approve {
        version: u64,
        reason: String,
    },
    Execute {
        version: u64,
        #[serde(default)]
        why: String,
    },
    Close {
        version: u64,
        /// `confirmed` or `not_found`.
        laboratory: String,
        #[serde(default)]
        seized: Vec<SeizedBody>,
        #[serde(default)]
        equipment: Vec<String>,
        #[serde(default)]
        arrests: u32,
        #[serde(default)]
        notes: String,
        #[serde(default)]
        why: String,
    },
    Cancel {
        version: u64,
        why: String,
    },
}

fn role(s: &str) -> Result<OpRole, ApiError> {
    OpRole::parse(s).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "unknown operation role {:?}; one of command, ground, intelligence_support, advisory, legal_review",
            bounded(s, 40)
        ))
    })
}

fn command(b: ActionBody) -> Result<(u64, OpsCommand), ApiError> {
    Ok(match b {
        ActionBody::Edit {
            version,
            objective,
            commander,
            sites,
            start,
            end,
            leads,
            packages,
            why,
        } => {
            let schedule = match (start, end) {
                (Some(a), Some(z)) => Some(Schedule {
                    start_ms: time("start", &a)?,
                    end_ms: time("end", &z)?,
                }),
                (None, None) => None,
                _ => {
                    return Err(ApiError::BadRequest(
                        "give both start and end, or neither".into(),
                    ))
                }
            };
            let sites = sites.map(|v| {
                v.into_iter()
                    .map(|s| Site {
                        label: s.label,
                        lat: s.lat,
                        lon: s.lon,
                        radius_m: s.radius_m,
                    })
                    .collect()
            });
            (
                version,
                OpsCommand::Edit {
                    objective,
                    commander,
                    sites,
                    schedule,
                    add_leads: leads,
                    add_packages: packages,
                    why,
                },
            )
        }
        ActionBody::Join {
            version,
            user,
            role: r,
        } => (
            version,
            OpsCommand::Join {
                user,
                role: role(&r)?,
            },
        ),
        ActionBody::Leave { version, user } => (version, OpsCommand::Leave { user }),
        ActionBody::AddTask { version, name } => (version, OpsCommand::AddTask { name }),
        ActionBody::Task {
            version,
            name,
            note,
        } => (version, OpsCommand::Task { name, note }),
        ActionBody::Propose { version, why } => (version, OpsCommand::Propose { why }),
        ActionBody::Withdraw { version, why } => (version, OpsCommand::Withdraw { why }),
        ActionBody::Approve { version, reason } => (version, OpsCommand::Approve { reason }),
        ActionBody::Execute { version, why } => (version, OpsCommand::Execute { why }),
        ActionBody::Close {
            version,
            laboratory,
            seized,
            equipment,
            arrests,
            notes,
            why,
        } => {
            let lab = LabFinding::parse(&laboratory).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "laboratory {:?}: give confirmed or not_found",
                    bounded(&laboratory, 40)
                ))
            })?;
            let seized = seized
                .into_iter()
                .map(|s| Seized {
                    cas: s.cas,
                    quantity: s.quantity,
                    unit: s.unit,
                })
                .collect();
            (
                version,
                OpsCommand::Close {
                    outcome: Outcome {
                        laboratory: lab,
                        seized,
                        equipment,
                        arrests,
                        notes,
                    },
                    why,
                },
            )
        }
        ActionBody::Cancel { version, why } => (version, OpsCommand::Cancel { why }),
    })
}

#[utoipa::path(post, path = "/api/v1/operations/{id}/actions", params(("id" = String, Path, description = "Operation id")), request_body = ActionBody, security(("token" = [])),
    responses((status = 200, description = "The operation after the change", body = OperationV1), (status = 409, description = "The operation moved past `version`: read it again"), Errors))]
pub async fn operation_action(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
    J(b): J<ActionBody>,
) -> Result<Json<OperationV1>, ApiError> {
    let (version, cmd) = command(b)?;
    let id2 = id.clone();
    s.guarded(c, move |g| {
        Ok(g.act_on_operation(&id2, Some(version), cmd, now_ms())?)
    })
    .await?
    .map(Json)
    .ok_or_else(|| not_found("operation", &id))
}

#[utoipa::path(get, path = "/api/v1/feedback", security(("token" = [])),
    responses((status = 200, description = "Hit rates per evidence kind over the closed operations of the caller's organisation", body = Vec<KindRateV1>), Errors))]
pub async fn feedback(
    State(s): State<AppState>,
    c: Caller,
) -> Result<Json<Vec<KindRateV1>>, ApiError> {
    Ok(Json(s.guarded(c, move |g| Ok(g.hit_rates()?)).await?))
}

#[utoipa::path(get, path = "/api/v1/requests", security(("token" = [])),
    responses((status = 200, description = "Partner requests the caller may see", body = Vec<RequestV1>), Errors))]
pub async fn requests(
    State(s): State<AppState>,
    c: Caller,
) -> Result<Json<Vec<RequestV1>>, ApiError> {
    Ok(Json(
        s.guarded(c, move |g| Ok(g.requests(now_ms())?)).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CollectionQuery {
    /// Only observations flagged as collected without an approved request.
    #[serde(default)]
    pub flagged: bool,
    /// At most this many (default 1000, at most 10000).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/collection", params(CollectionQuery), security(("token" = [])),
    responses((status = 200, description = "Partner observations checked on ingest, with the approved request each was collected under or why it is flagged", body = Vec<CollectionV1>), Errors))]
pub async fn collection(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<CollectionQuery>,
) -> Result<Json<Vec<CollectionV1>>, ApiError> {
    let limit = q.limit.unwrap_or(1000);
    Ok(Json(
        s.guarded(c, move |g| Ok(g.collection(q.flagged, limit)?))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/requests/{id}", params(("id" = String, Path, description = "Request id")), security(("token" = [])),
    responses((status = 200, description = "One request", body = RequestV1), Errors))]
pub async fn request(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
) -> Result<Json<RequestV1>, ApiError> {
    let id2 = id.clone();
    s.guarded(c, move |g| Ok(g.request(&id2, now_ms())?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("request", &id))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequestBody {
    id: String,
    /// `{"kind": "operation", "lead": …}`, `{"kind": "surveillance", "of": {"target": "area", "min_lat": …}}`
    /// or `{"kind": "information", "question": …}`.
    #[schema(value_type = Object)]
    about: RequestKind,
    purpose: String,
    legal_basis: String,
    start: String,
    end: String,
    expires: String,
}

#[utoipa::path(post, path = "/api/v1/requests", request_body = CreateRequestBody, security(("token" = [])),
    responses((status = 200, description = "The pending request", body = RequestV1), Errors))]
pub async fn create_request(
    State(s): State<AppState>,
    c: Caller,
    J(b): J<CreateRequestBody>,
) -> Result<Json<RequestV1>, ApiError> {
    let period = (time("start", &b.start)?, time("end", &b.end)?);
    let expires = time("expires", &b.expires)?;
    Ok(Json(
        s.guarded(c, move |g| {
            Ok(g.create_request(
                &b.id,
                b.about,
                &b.purpose,
                &b.legal_basis,
                period,
                expires,
                now_ms(),
            )?)
        })
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    version: u64,
    approve: bool,
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/decision", params(("id" = String, Path, description = "Request id")), request_body = DecisionBody, security(("token" = [])),
    responses((status = 200, description = "The decided request", body = RequestV1), (status = 409, description = "The request changed: read it again"), Errors))]
pub async fn request_decision(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
    J(b): J<DecisionBody>,
) -> Result<Json<RequestV1>, ApiError> {
    let id2 = id.clone();
    s.guarded(c, move |g| {
        Ok(g.decide_request(&id2, b.version, b.approve, &b.reason, now_ms())?)
    })
    .await?
    .map(Json)
    .ok_or_else(|| not_found("request", &id))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageBody {
    leads: Vec<String>,
    /// `es` or `en`.
    lang: String,
    /// `PAP:CLEAR`, `PAP:GREEN`, `PAP:AMBER` or `PAP:RED`.
    pap: String,
}

#[utoipa::path(post, path = "/api/v1/packages", request_body = PackageBody, security(("token" = [])),
    responses((status = 200, description = "The package, built from the leads as the caller sees them", body = PackageV1), Errors))]
pub async fn create_package(
    State(s): State<AppState>,
    c: Caller,
    J(b): J<PackageBody>,
) -> Result<Json<PackageV1>, ApiError> {
    let pap = Pap::parse(&b.pap).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "pap {:?}: give PAP:CLEAR, PAP:GREEN, PAP:AMBER or PAP:RED",
            bounded(&b.pap, 40)
        ))
    })?;
    Ok(Json(
        s.guarded(c, move |g| {
            Ok(g.create_package(&b.leads, &b.lang, pap, now_ms())?)
        })
        .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/packages/{id}", params(("id" = String, Path, description = "Package id")), security(("token" = [])),
    responses((status = 200, description = "A package of the caller's organisation", body = PackageV1), Errors))]
pub async fn package(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
) -> Result<Json<PackageV1>, ApiError> {
    let id2 = id.clone();
    s.guarded(c, move |g| Ok(g.package(&id2)?))
        .await?
        .map(Json)
        .ok_or_else(|| not_found("package", &id))
}

#[utoipa::path(get, path = "/api/v1/packages/{id}/html", params(("id" = String, Path, description = "Package id")), security(("token" = [])),
    responses((status = 200, description = "The package as one self-contained printable HTML page (print it to PDF from the browser)", content_type = "text/html"), Errors))]
pub async fn package_html(
    State(s): State<AppState>,
    c: Caller,
    P(id): P,
) -> Result<Response, ApiError> {
    let id2 = id.clone();
    let p = s
        .guarded(c, move |g| Ok(g.package(&id2)?))
        .await?
        .ok_or_else(|| not_found("package", &id))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ),
        ],
        rastro_report::package_html(&p),
    )
        .into_response())
}
