//! Extractors whose rejections are JSON errors with bounded messages: query strings, JSON
//! bodies and path segments.

use crate::error::{bounded, ApiError};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A query string.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, s)
            .await
            .map(|q| Q(q.0))
            .map_err(|e| ApiError::BadRequest(bounded(&e.body_text(), 200)))
    }
}

/// A JSON body (`Content-Type: application/json`; 415 otherwise, 422 when it does not fit).
pub struct J<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for J<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, s).await {
            Ok(j) => Ok(J(j.0)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMedia),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ApiError::Unprocessable(bounded(&e.body_text(), 200)))
            }
            Err(e) => Err(ApiError::BadRequest(bounded(&e.body_text(), 200))),
        }
    }
}

/// A path segment.
pub struct P(pub String);

impl<S: Send + Sync> FromRequestParts<S> for P {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, s)
            .await
            .map(|p| P(p.0))
            .map_err(|e| ApiError::BadRequest(bounded(&e.body_text(), 200)))
    }
}
