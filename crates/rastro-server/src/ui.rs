//! The web UI's files, built from `web/` by `npm run build` and embedded at compile time, so
//! that the server (and `cargo run -- demo`) needs no npm. Served with a content security
//! policy that allows nothing from other origins: command centres are often offline, and the
//! page must not be able to leak anything elsewhere.

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const INDEX: &[u8] = include_bytes!("../../../web/dist/index.html");
const APP_JS: &[u8] = include_bytes!("../../../web/dist/app.js");
const APP_CSS: &[u8] = include_bytes!("../../../web/dist/app.css");
const COUNTRIES: &[u8] = include_bytes!("../../../web/dist/countries-50m.json");
/// Digest of the sources the embedded files were built from (checked by the tidy test).
pub const SOURCES_SHA256: &str = include_str!("../../../web/dist/SOURCES.sha256");

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";

fn file(bytes: &'static [u8], content_type: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            (CONTENT_SECURITY_POLICY, CSP),
            (CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
}

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|| async { file(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/assets/app.js",
            get(|| async { file(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/app.css",
            get(|| async { file(APP_CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/assets/countries-50m.json",
            get(|| async { file(COUNTRIES, "application/json") }),
        )
}
