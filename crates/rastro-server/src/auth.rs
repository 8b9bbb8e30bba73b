//! Who is calling: the bearer token (the scheme matched case-insensitively, RFC 7235) and the
//! client address; and the per-address bound on failed authentications, so that guessing
//! tokens costs an attacker far more than it costs the server.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

/// Failed authentications one address may make per window.
pub const MAX_FAILURES: u32 = 20;
/// The window, in seconds.
pub const WINDOW_S: u64 = 60;
/// Addresses remembered at most (the table is emptied when full: a bound, not an LRU).
const MAX_ADDRESSES: usize = 10_000;

/// The caller of one request.
pub struct Caller {
    pub token: Option<String>,
    pub addr: Option<IpAddr>,
}

/// Authentication is the first thing a request meets: a caller without a valid token is
/// answered 401 before its path, query or body is looked at, so no other error can tell an
/// unauthenticated client anything about a route.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| rest.trim().to_string())
            })
            // A token is 85 characters; anything much longer is not one.
            .filter(|t| t.len() <= 256);
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if state.inner.failures.blocked(addr) {
            return Err(ApiError::TooMany(format!(
                "too many failed authentications from this address; wait {WINDOW_S} s"
            )));
        }
        let Some(t) = token.clone() else {
            return Err(ApiError::Unauthenticated);
        };
        // A token verified before is let through to the handler, whose guard reads the user's
        // row (so revocation takes effect at once) in the same trip to the store as the work:
        // one trip per request, not two.
        if state.inner.tokens.verified_before(&t) {
            return Ok(Caller { token, addr });
        }
        let inner = state.inner.clone();
        // Verified once here (then remembered in the token cache, so the guard's own check is
        // a lookup); unknown ids and wrong secrets cost the same argon2 run.
        let ok = state
            .inner
            .pool
            .run(move |node| node.with_token(&t, &inner.tokens, true).map(|_| ()))
            .await?;
        match ok {
            Ok(()) => Ok(Caller { token, addr }),
            Err(rastro_app::AppError::Unauthenticated) => {
                state.inner.failures.fail(addr);
                Err(ApiError::Unauthenticated)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Failed authentications per address: the current window's count and the previous one's.
/// An address is blocked when the two add up to the limit, so a burst that straddles a window
/// boundary is counted whole (a fixed window alone let it start afresh at the boundary).
#[derive(Default)]
pub struct Failures {
    map: Mutex<HashMap<IpAddr, Counts>>,
}

#[derive(Clone, Copy)]
struct Counts {
    window: u64,
    now: u32,
    before: u32,
}

impl Counts {
    /// The counts as of window `w`.
    fn at(self, w: u64) -> Counts {
        match w.saturating_sub(self.window) {
            0 => self,
            1 => Counts {
                window: w,
                now: 0,
                before: self.now,
            },
            _ => Counts {
                window: w,
                now: 0,
                before: 0,
            },
        }
    }
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Failures {
    /// Whether `addr` has used up its failures in this window.
    pub fn blocked(&self, addr: Option<IpAddr>) -> bool {
        let Some(a) = addr else { return false };
        let w = now_s() / WINDOW_S;
        self.map
            .lock()
            .map(|m| {
                m.get(&a).is_some_and(|c| {
                    let c = c.at(w);
                    c.now + c.before >= MAX_FAILURES
                })
            })
            .unwrap_or(false)
    }

    /// Counts one failed authentication from `addr`.
    pub fn fail(&self, addr: Option<IpAddr>) {
        let Some(a) = addr else { return };
        let w = now_s() / WINDOW_S;
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= MAX_ADDRESSES && !m.contains_key(&a) {
                m.clear();
            }
            let e = m.entry(a).or_insert(Counts {
                window: w,
                now: 0,
                before: 0,
            });
            *e = e.at(w);
            e.now += 1;
        }
    }
}
