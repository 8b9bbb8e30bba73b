//! TAXII 2.1 under `/taxii2/` (OASIS TAXII 2.1, sections 4–5): discovery, one API root, the
//! collections the caller may see, objects (GET with `added_after`, `limit`/`next` and the
//! `match[...]` filters; POST answering 202 with a status), one object (GET, DELETE), its
//! versions, the manifest, and status. Every answer is `application/taxii+json;version=2.1`;
//! a request that accepts nothing of it is answered 406, a POST of another media type 415, an
//! unknown collection, object or status 404, and errors take TAXII's error shape (see
//! `error::taxii_errors`). Every read goes through the guard, entry by entry.

use crate::auth::Caller;
use crate::error::{bounded, ApiError};
use crate::state::{now_ms, AppState};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rastro_app::taxii::{TaxiiPage, TaxiiQuery, VersionSel};
use rastro_taxii::{accepts_taxii, is_taxii, ApiRoot, Collections, Discovery, TAXII};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/taxii2/api/", get(api_root))
        .route("/taxii2/api/collections/", get(collections))
        .route("/taxii2/api/collections/{cid}/", get(collection))
        .route(
            "/taxii2/api/collections/{cid}/objects/",
            get(objects).post(post_objects),
        )
        .route(
            "/taxii2/api/collections/{cid}/objects/{oid}/",
            get(object).delete(delete_object),
        )
        .route(
            "/taxii2/api/collections/{cid}/objects/{oid}/versions/",
            get(versions),
        )
        .route("/taxii2/api/collections/{cid}/manifest/", get(manifest))
        .route("/taxii2/api/status/{sid}/", get(status))
}

fn accept(h: &HeaderMap) -> Result<(), ApiError> {
    let a = h.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if accepts_taxii(a) {
        Ok(())
    } else {
        Err(ApiError::NotAcceptable(format!(
            "this server answers {TAXII} only; the request accepts {:?}",
            bounded(a.unwrap_or_default(), 80)
        )))
    }
}

fn taxii(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII));
    r
}

fn json<T: serde::Serialize>(v: &T) -> Response {
    taxii(
        StatusCode::OK,
        serde_json::to_string(v).unwrap_or_else(|_| "{}".into()),
    )
}

/// TAXII's URL parameters, as given (`match[...]` keys included).
type Params = Query<Vec<(String, String)>>;

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn time(name: &str, v: &str) -> Result<i64, ApiError> {
    rastro_core::parse_time_ms(v)
        .map_err(|e| ApiError::BadRequest(format!("{name} {:?}: {e}", bounded(v, 40))))
}

/// The filters of a request; `version_default` is TAXII's default for the endpoint.
fn query(p: &[(String, String)], version_default: VersionSel) -> Result<TaxiiQuery, ApiError> {
    let mut q = TaxiiQuery {
        version: version_default,
        ..Default::default()
    };
    for (k, v) in p {
        match k.as_str() {
            "added_after" => q.added_after_ms = Some(time("added_after", v)?),
            "next" => q.next = Some(v.clone()),
            "limit" => {
                q.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        ApiError::BadRequest(format!(
                            "limit {:?} is not a positive whole number",
                            bounded(v, 20)
                        ))
                    })?
                    .min(rastro_app::taxii::MAX_PAGE)
            }
            "match[id]" => q.ids = Some(list(v)),
            "match[type]" => q.types = Some(list(v)),
            "match[spec_version]" => q.spec_versions = Some(list(v)),
            "match[version]" => {
                let items = list(v);
                q.version = if items.iter().any(|s| s == "all") {
                    VersionSel::All
                } else if items.iter().all(|s| s == "last") {
                    VersionSel::Last
                } else if items.iter().all(|s| s == "first") {
                    VersionSel::First
                } else {
                    VersionSel::At(
                        items
                            .iter()
                            .map(|s| time("match[version]", s))
                            .collect::<Result<_, _>>()?,
                    )
                }
            }
            // Other parameters (a client's own, or filters this server does not offer) are
            // ignored, as TAXII asks of servers.
            _ => {}
        }
    }
    Ok(q)
}

/// The date headers of a page (none when it is empty).
fn dated(mut r: Response, p: &TaxiiPage) -> Response {
    for (name, v) in [
        (rastro_taxii::DATE_ADDED_FIRST, p.date_added_first()),
        (rastro_taxii::DATE_ADDED_LAST, p.date_added_last()),
    ] {
        if let Some(v) = v.and_then(|v| HeaderValue::from_str(v).ok()) {
            r.headers_mut().insert(name, v);
        }
    }
    r
}

/// An envelope written from the stored bodies as they are (no re-encoding of objects).
fn envelope(p: &TaxiiPage) -> String {
    let size: usize = p.entries.iter().map(|e| e.body.len() + 1).sum();
    let mut out = String::with_capacity(size + 64);
    out.push_str(if p.more {
        "{\"more\":true"
    } else {
        "{\"more\":false"
    });
    if let Some(n) = &p.next {
        out.push_str(",\"next\":");
        out.push_str(&serde_json::to_string(n).unwrap_or_default());
    }
    if !p.entries.is_empty() {
        out.push_str(",\"objects\":[");
        for (i, e) in p.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&e.body);
        }
        out.push(']');
    }
    out.push('}');
    out
}

async fn discovery(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    accept(&h)?;
    s.guarded(c, |_| Ok(())).await?;
    Ok(json(&Discovery {
        title: "Rastro".into(),
        description: Some(
            "Precursor-chemical intelligence of this node, shared under TLP 2.0 markings".into(),
        ),
        contact: None,
        default: Some("/taxii2/api/".into()),
        api_roots: vec!["/taxii2/api/".into()],
    }))
}

async fn api_root(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    accept(&h)?;
    s.guarded(c, |_| Ok(())).await?;
    Ok(json(&ApiRoot {
        title: "Rastro".into(),
        description: Some(
            "One collection per partner organisation to read, and one to write".into(),
        ),
        versions: vec![TAXII.into()],
        max_content_length: s.inner.max_body_bytes as u64,
    }))
}

async fn collections(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    accept(&h)?;
    let collections = s.guarded(c, |g| Ok(g.taxii_collections())).await?;
    Ok(json(&Collections { collections }))
}

async fn collection(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(cid): Path<String>,
) -> Result<Response, ApiError> {
    accept(&h)?;
    Ok(json(
        &s.guarded(c, move |g| Ok(g.taxii_collection(&cid)?)).await?,
    ))
}

/// One page of a collection (of one object's versions when `oid` is given) as the caller may
/// read it, the filters taken from the request with `default` as `match[version]`'s default.
async fn page(
    s: &AppState,
    c: Caller,
    cid: String,
    oid: Option<String>,
    p: &[(String, String)],
    default: VersionSel,
) -> Result<TaxiiPage, ApiError> {
    let q = query(p, default)?;
    s.guarded(c, move |g| Ok(g.taxii_objects(&cid, oid.as_deref(), &q)?))
        .await
}

async fn objects(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(cid): Path<String>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    accept(&h)?;
    let page = page(&s, c, cid, None, &p, VersionSel::Last).await?;
    Ok(dated(taxii(StatusCode::OK, envelope(&page)), &page))
}

async fn object(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    accept(&h)?;
    let page = page(&s, c, cid, Some(oid), &p, VersionSel::Last).await?;
    Ok(dated(taxii(StatusCode::OK, envelope(&page)), &page))
}

async fn versions(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    accept(&h)?;
    // The versions resource lists every version; `match[version]` is not one of its filters.
    let p: Vec<(String, String)> = p
        .into_iter()
        .filter(|(k, _)| k != "match[version]")
        .collect();
    let page = page(&s, c, cid, Some(oid), &p, VersionSel::All).await?;
    let v = rastro_taxii::Versions {
        more: page.more,
        next: page.next.clone(),
        versions: page.entries.iter().map(|e| e.version.clone()).collect(),
    };
    Ok(dated(json(&v), &page))
}

async fn manifest(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(cid): Path<String>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    accept(&h)?;
    let page = page(&s, c, cid, None, &p, VersionSel::Last).await?;
    let m = rastro_taxii::Manifest {
        more: page.more,
        next: page.next.clone(),
        objects: page
            .entries
            .iter()
            .map(|e| rastro_taxii::ManifestRecord {
                id: e.id.clone(),
                date_added: e.date_added.clone(),
                version: e.version.clone(),
                media_type: Some(rastro_taxii::STIX.into()),
            })
            .collect(),
    };
    Ok(dated(json(&m), &page))
}

async fn post_objects(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(cid): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    accept(&h)?;
    let ct = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_taxii(ct) {
        return Err(ApiError::UnsupportedType(format!(
            "post objects as {TAXII} (an envelope); this body is {:?}",
            bounded(ct, 80)
        )));
    }
    let limits = s.inner.ingest_limits;
    let status = s
        .guarded(c, move |g| {
            Ok(g.taxii_post(&cid, &body, &limits, now_ms())?)
        })
        .await?;
    if status.success_count > 0 {
        s.request_analysis();
    }
    Ok(taxii(
        StatusCode::ACCEPTED,
        serde_json::to_string(&status).unwrap_or_default(),
    ))
}

async fn delete_object(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    accept(&h)?;
    s.guarded(c, move |g| Ok(g.taxii_delete(&cid, &oid)?))
        .await?;
    Ok(taxii(StatusCode::OK, String::new()))
}

async fn status(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(sid): Path<String>,
) -> Result<Response, ApiError> {
    accept(&h)?;
    Ok(json(
        &s.guarded(c, move |g| Ok(g.taxii_status(&sid)?)).await?,
    ))
}
