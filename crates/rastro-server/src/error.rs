//! Errors as the client sees them: a status and a JSON body (`ErrorV1`) that reveals nothing
//! the client may not know and never echoes unbounded input. Every reply the server makes is
//! JSON, including the rejections of extractors and layers (bad query, bad body, body too
//! large, timeout, unknown route), which [`json_errors`] rewrites.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rastro_app::views::ErrorV1;
use rastro_app::AppError;

/// Longest message a reply carries.
const MAX_MESSAGE: usize = 600;

#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthenticated,
    Forbidden(String),
    NotFound(String),
    /// The change was made on an older version; the client reads again and retries.
    Conflict(String),
    Unprocessable(String),
    UnsupportedMedia,
    /// A body of another media type than the endpoint takes, with what it takes.
    UnsupportedType(String),
    /// The request accepts no media type the endpoint answers with.
    NotAcceptable(String),
    TooMany(String),
    /// The audit log cannot take the read's entry: nothing is served.
    Unavailable(String),
    Internal(String),
}

/// Text of at most `n` characters, for messages that quote input.
pub fn bounded(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

pub fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("no {what} {:?}", bounded(id, 64)))
}

fn body(status: StatusCode, code: &str, message: &str) -> Response {
    let e = ErrorV1 {
        error: code.into(),
        message: bounded(message, MAX_MESSAGE),
    };
    let mut r = (status, axum::Json(e)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, msg) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "give a valid token as `Authorization: Bearer rst_...`".into(),
            ),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            ApiError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", m),
            ApiError::UnsupportedMedia => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json".into(),
            ),
            ApiError::UnsupportedType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m,
            ),
            ApiError::NotAcceptable(m) => (StatusCode::NOT_ACCEPTABLE, "not_acceptable", m),
            ApiError::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
            ApiError::Internal(m) => {
                tracing::error!("internal error: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; the server log says more".into(),
                )
            }
        };
        body(status, code, &msg)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated => ApiError::Unauthenticated,
            AppError::Forbidden(m) => ApiError::Forbidden(m),
            AppError::Invalid(m) => ApiError::BadRequest(m),
            AppError::NotFound(m) => ApiError::NotFound(m),
            AppError::TooMany(m) => ApiError::TooMany(m),
            AppError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::pool::PoolError> for ApiError {
    fn from(e: crate::pool::PoolError) -> Self {
        match e {
            crate::pool::PoolError::App(a) => a.into(),
            crate::pool::PoolError::Stopped => {
                ApiError::Unavailable("the server is shutting down".into())
            }
        }
    }
}

/// Rewrites any error reply that is not JSON (a layer's 408 or 413, the router's 405, an
/// extractor's rejection) into an `ErrorV1` body with the same status.
pub async fn json_errors(r: Response) -> Response {
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    let is_json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return r;
    }
    let (code, msg) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("too_large", "the body is larger than this server accepts")
        }
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "the request took too long (headers and body must arrive in time)",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this method is not allowed here; see /api/v1/openapi.json",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as application/json",
        ),
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint; see /api/v1/openapi.json"),
        _ => ("error", "the request could not be served"),
    };
    body(status, code, msg)
}

/// The error shape TAXII clients read (TAXII 2.1 section 3.6.1), for every error reply under
/// `/taxii2/`: the handlers' and the layers' alike, rewritten from their `ErrorV1` or plain
/// bodies with the same status and headers.
pub async fn taxii_errors(r: Response) -> Response {
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    let (mut parts, b) = r.into_parts();
    let bytes = axum::body::to_bytes(b, 64 << 10).await.unwrap_or_default();
    let (code, message) = match serde_json::from_slice::<ErrorV1>(&bytes) {
        Ok(e) => (e.error, e.message),
        Err(_) => (
            "error".to_string(),
            match status {
                StatusCode::PAYLOAD_TOO_LARGE => {
                    "the body is larger than max_content_length of the API root".to_string()
                }
                StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed here".to_string(),
                StatusCode::NOT_FOUND => "no such TAXII resource".to_string(),
                StatusCode::REQUEST_TIMEOUT => "the request took too long".to_string(),
                StatusCode::BAD_REQUEST => bounded(&String::from_utf8_lossy(&bytes), 300),
                _ => "the request could not be served".to_string(),
            },
        ),
    };
    let e = rastro_taxii::Error {
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        description: Some(bounded(&message, MAX_MESSAGE)),
        error_code: Some(code),
        http_status: Some(status.as_u16().to_string()),
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(rastro_taxii::TAXII),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        axum::body::Body::from(serde_json::to_string(&e).unwrap_or_default()),
    )
}

/// Error replies by where they go: TAXII's shape under `/taxii2/`, `ErrorV1` elsewhere.
pub async fn errors_by_path(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let taxii = req.uri().path().starts_with("/taxii2");
    let r = next.run(req).await;
    if taxii {
        taxii_errors(json_errors(r).await).await
    } else {
        json_errors(r).await
    }
}
