//! A blocking TAXII 2.1 client for one collection: pages of objects (following `next`, with
//! `added_after` to start from), and posting envelopes. Every answer is checked before it is
//! read: the HTTP status, the media type (a server that answers anything but TAXII 2.1 is
//! refused, not guessed at) and the size.

use crate::media::{is_taxii, TAXII};
use crate::types::{Collection, Envelope, Status, DATE_ADDED_FIRST, DATE_ADDED_LAST};
use std::time::Duration;

/// The largest answer read (a page of objects, a status).
pub const MAX_ANSWER_BYTES: u64 = 64 << 20;
/// How long one request may take, connection to last byte.
pub const REQUEST_TIMEOUT_S: u64 = 120;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url}: cannot reach the server: {err}; check the address and that it is serving")]
    Transport { url: String, err: String },
    #[error("{url}: the server answered {status}: {message}")]
    Http {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: the server answered with media type {got:?}, not TAXII 2.1 ({TAXII}); is this a TAXII 2.1 collection URL?")]
    MediaType { url: String, got: String },
    #[error("{url}: the answer could not be read whole ({err}); nothing of it was used")]
    Body { url: String, err: String },
}

/// One page of objects and the dates it spans.
#[derive(Debug, Clone)]
pub struct Page {
    pub envelope: Envelope,
    pub date_added_first: Option<String>,
    pub date_added_last: Option<String>,
}

/// How the client authenticates.
#[derive(Clone)]
pub enum Auth {
    None,
    /// `Authorization: Bearer ...` (Rastro's tokens).
    Bearer(String),
    /// HTTP Basic, `user:password` (medallion and many TAXII servers).
    Basic(String),
}

impl Auth {
    fn header(&self) -> Option<String> {
        use base64::Engine;
        match self {
            Auth::None => None,
            Auth::Bearer(t) => Some(format!("Bearer {t}")),
            Auth::Basic(up) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(up)
            )),
        }
    }
}

/// A client of one collection (`.../collections/{id}/`).
pub struct Client {
    agent: ureq::Agent,
    collection_url: String,
    auth: Option<String>,
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// `collection_url` is the collection's own URL; server certificates are checked against
    /// Mozilla's roots.
    pub fn new(collection_url: &str, auth: Auth) -> Client {
        Self::build(collection_url, auth, ureq::tls::RootCerts::WebPki)
    }

    /// A client that trusts only the certificate authorities in `ca_pem` (a node of a
    /// private PKI, as sovereign deployments often are).
    pub fn with_ca(collection_url: &str, auth: Auth, ca_pem: &[u8]) -> Result<Client, ClientError> {
        let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(ca_pem)
            .filter_map(|p| match p {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()
            .map_err(|e| ClientError::Body {
                url: collection_url.to_string(),
                err: format!("the CA file is not PEM certificates: {e}"),
            })?;
        if certs.is_empty() {
            return Err(ClientError::Body {
                url: collection_url.to_string(),
                err: "the CA file holds no certificate".into(),
            });
        }
        Ok(Self::build(
            collection_url,
            auth,
            ureq::tls::RootCerts::new_with_certs(&certs),
        ))
    }

    fn build(collection_url: &str, auth: Auth, roots: ureq::tls::RootCerts) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(REQUEST_TIMEOUT_S)))
            .max_redirects(0)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .unversioned_rustls_crypto_provider(std::sync::Arc::new(
                        rustls::crypto::aws_lc_rs::default_provider(),
                    ))
                    .root_certs(roots)
                    .build(),
            )
            .build();
        let mut url = collection_url.trim().to_string();
        if !url.ends_with('/') {
            url.push('/');
        }
        Client {
            agent: ureq::Agent::new_with_config(config),
            collection_url: url,
            auth: auth.header(),
        }
    }

    pub fn url(&self) -> &str {
        &self.collection_url
    }

    fn answer(
        &self,
        url: &str,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        want: u16,
    ) -> Result<(ureq::http::HeaderMap, String), ClientError> {
        let mut r = r.map_err(|e| ClientError::Transport {
            url: url.to_string(),
            err: e.to_string(),
        })?;
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = r
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| ClientError::Body {
                url: url.to_string(),
                err: e.to_string(),
            })?;
        if status != want {
            let message = serde_json::from_str::<crate::types::Error>(&body)
                .map(|e| match e.description {
                    Some(d) => format!("{}: {d}", e.title),
                    None => e.title,
                })
                .unwrap_or_else(|_| body.chars().take(300).collect());
            return Err(ClientError::Http {
                url: url.to_string(),
                status,
                message,
            });
        }
        if !is_taxii(&ct) {
            return Err(ClientError::MediaType {
                url: url.to_string(),
                got: ct,
            });
        }
        Ok((r.headers().clone(), body))
    }

    fn parse<T: serde::de::DeserializeOwned>(url: &str, body: &str) -> Result<T, ClientError> {
        serde_json::from_str(body).map_err(|e| ClientError::Body {
            url: url.to_string(),
            err: format!("not a TAXII 2.1 resource: {e}"),
        })
    }

    fn get(&self, url: &str) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        let mut rq = self.agent.get(url).header("Accept", TAXII);
        if let Some(a) = &self.auth {
            rq = rq.header("Authorization", a);
        }
        rq
    }

    /// The collection resource.
    pub fn collection(&self) -> Result<Collection, ClientError> {
        let url = self.collection_url.clone();
        let (_, body) = self.answer(&url, self.get(&url).call(), 200)?;
        Self::parse(&url, &body)
    }

    /// One page of objects added after `added_after`, from `next` when given (the server's
    /// cursor: the same filters are sent with it, as servers that check them require); at
    /// most `limit`.
    pub fn objects(
        &self,
        added_after: Option<&str>,
        next: Option<&str>,
        limit: u32,
    ) -> Result<Page, ClientError> {
        let mut url = format!("{}objects/?limit={limit}", self.collection_url);
        if let Some(a) = added_after {
            url.push_str(&format!("&added_after={}", enc(a)));
        }
        if let Some(n) = next {
            url.push_str(&format!("&next={}", enc(n)));
        }
        let (h, body) = self.answer(&url, self.get(&url).call(), 200)?;
        let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        Ok(Page {
            envelope: Self::parse(&url, &body)?,
            date_added_first: header(DATE_ADDED_FIRST),
            date_added_last: header(DATE_ADDED_LAST),
        })
    }

    /// Posts objects as one envelope; the server's status of it.
    pub fn post(&self, objects: &[serde_json::Value]) -> Result<Status, ClientError> {
        let url = format!("{}objects/", self.collection_url);
        let body = serde_json::json!({ "objects": objects }).to_string();
        let mut rq = self
            .agent
            .post(&url)
            .header("Accept", TAXII)
            .header("Content-Type", TAXII);
        if let Some(a) = &self.auth {
            rq = rq.header("Authorization", a);
        }
        let (_, body) = self.answer(&url, rq.send(body.as_bytes()), 202)?;
        Self::parse(&url, &body)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            super::enc("2026-01-01T00:00:00.000Z"),
            "2026-01-01T00%3A00%3A00.000Z"
        );
        assert_eq!(super::enc("a b+c"), "a%20b%2Bc");
    }
}

/// How far a pull got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pulled {
    pub pages: u64,
    pub objects: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PullError<E: std::fmt::Display + std::fmt::Debug> {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    Apply(E),
    #[error("{url}: the server says more objects follow but gives no way on (no `next`, no new `date_added`); stopped after {pages} pages")]
    Stalled { url: String, pages: u64 },
}

/// The `added_after` that resumes after a page whose newest `date_added` is `last`: one
/// millisecond earlier, so objects sharing `last` that a later page holds are not lost (what
/// is fetched twice is harmless: imports are idempotent).
pub fn resume_after(last: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(last).ok()?;
    let t = t.with_timezone(&chrono::Utc) - chrono::Duration::milliseconds(1);
    Some(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl Client {
    /// Pulls every object added after `cursor` (all when `None`), page by page: `next` while
    /// the server gives one, else `added_after`. `apply` is given each page's objects and the
    /// cursor to resume from once they are applied; a page is applied whole or (on a broken
    /// answer) not at all, so a pull cut mid-page resumes from the last page applied. At most
    /// `max_pages` pages.
    pub fn pull<E: std::fmt::Display + std::fmt::Debug>(
        &self,
        cursor: Option<&str>,
        limit: u32,
        max_pages: u64,
        mut apply: impl FnMut(&[serde_json::Value], Option<&str>) -> Result<(), E>,
    ) -> Result<Pulled, PullError<E>> {
        let mut done = Pulled::default();
        let mut added_after = cursor.map(str::to_string);
        let mut next: Option<String> = None;
        let mut resume = cursor.map(str::to_string);
        while done.pages < max_pages {
            let page = self.objects(added_after.as_deref(), next.as_deref(), limit)?;
            done.pages += 1;
            done.objects += page.envelope.objects.len() as u64;
            if let Some(r) = page.date_added_last.as_deref().and_then(resume_after) {
                resume = Some(r);
            }
            apply(&page.envelope.objects, resume.as_deref()).map_err(PullError::Apply)?;
            if !page.envelope.more {
                break;
            }
            match (page.envelope.next, page.date_added_last) {
                (Some(n), _) => next = Some(n),
                (None, Some(last)) if added_after.as_deref() != Some(last.as_str()) => {
                    next = None;
                    added_after = Some(last);
                }
                _ => {
                    return Err(PullError::Stalled {
                        url: self.collection_url.clone(),
                        pages: done.pages,
                    })
                }
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    proptest! {
        /// The resume point is strictly before the page's newest `date_added` and at most one
        /// millisecond before it, so nothing after it is skipped and little is fetched twice.
        #[test]
        fn resume_after_is_just_before(ms in 946_684_800_000i64..4_102_444_800_000, us in 0u32..1000) {
            let t = chrono::DateTime::from_timestamp_millis(ms).unwrap()
                + chrono::Duration::microseconds(us as i64);
            let last = t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let r = super::resume_after(&last).unwrap();
            let rt = chrono::DateTime::parse_from_rfc3339(&r).unwrap();
            prop_assert!(rt < t);
            prop_assert!(t - rt.with_timezone(&chrono::Utc) <= chrono::Duration::milliseconds(2));
        }
    }
}
