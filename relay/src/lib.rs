//! quietline-relay: the untrusted mailbox between IT staff and phones, and the fleet view.
//!
//! It stores and forwards signed objects and device-signed reports. It holds no private key
//! and no survivor data, and the phone trusts nothing it says. It still checks everything it
//! can, as defence in depth: phones authenticate every request with their device key (nobody
//! else can read or drain a queue or post a check-in), IT requests are signed with an org key,
//! and a queued object is accepted only if it verifies against the organisation's keys.
//! Protocols: `docs/relay-protocol.md` (phones) and `docs/relay.md` (IT, operation).
#![deny(clippy::unwrap_used)]
#![deny(missing_docs)]

pub mod auth;
pub mod db;
pub mod error;
pub mod fleet;
pub mod heartbeat;
pub mod hot;
pub mod it;
pub mod limits;
pub mod phone;
pub mod request;
pub mod row;
pub mod tls;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use error::ApiError;
use std::sync::Arc;

/// Largest enrollment response, receipt or command body.
pub const SMALL_BODY: usize = 1024;
/// Largest check-in body.
pub const CHECKIN_BODY: usize = 8 * 1024;
/// Largest push-token body.
pub const PUSH_BODY: usize = 4 * 1024;
/// Largest policy, rotation or bundle body (the wire format's text limit).
pub const OBJECT_BODY: usize = quietline_core::wire::MAX_TEXT;
/// How far a request's signing time may be from the relay's clock (seconds).
pub const AUTH_WINDOW_SECS: i64 = 600;
/// How long a nonce is remembered (longer than twice the window, so no replay slips through).
pub const NONCE_TTL_SECS: i64 = 1200;
/// How long a check-in challenge is valid.
pub const CHALLENGE_TTL_SECS: i64 = 900;

/// How the relay runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The organisations served, with the root public key each was configured with (the root
    /// set then follows verified rotations).
    pub orgs: Vec<(String, [u8; 32])>,
    /// Days receipts, silent devices and push tokens are kept.
    pub retention_days: u32,
    /// Requests a minute per device.
    pub rate_per_device: u32,
    /// Requests a minute per client address.
    pub rate_per_addr: u32,
    /// Suggested seconds between polls.
    pub poll_after_secs: u32,
    /// Seconds between retention sweeps.
    pub prune_every_secs: u64,
    /// Keys (role `checkin` only) to acknowledge verified check-ins with (`heartbeat`).
    pub heartbeat_keys: Vec<heartbeat::HeartbeatKey>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            orgs: Vec::new(),
            retention_days: 90,
            rate_per_device: 60,
            rate_per_addr: 1200,
            poll_after_secs: 900,
            prune_every_secs: 60,
            heartbeat_keys: Vec::new(),
        }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub db: db::Db,
    /// The configuration.
    pub cfg: Config,
    /// Rate limits.
    pub limits: limits::Limits,
    /// Device keys this process has read (checked against the database at every poll).
    pub keys: auth::KeyCache,
    /// Poll sessions this process has issued or read (docs/relay-protocol.md). On SQLite they
    /// live only here (with their nonces): a restart ends every session.
    pub sessions: auth::SessionCache,
}

/// Shared state.
pub type Shared = Arc<AppState>;

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Opens the database, seeds the configured organisations and returns the shared state.
pub async fn state(db_url: &str, cfg: Config) -> Result<Shared, sqlx::Error> {
    // Reads only with SQLite (it has one writer connection of its own); each SQLite
    // connection is a thread, and a 2-core machine gains nothing from more of them.
    let pool_size = if db_url.starts_with("sqlite:") { 4 } else { 16 };
    let db = db::Db::open_relay(db_url, pool_size).await?;
    for (org, key) in &cfg.orgs {
        if db.org_root(org).await?.is_none() {
            db.set_org_root(org, 1, &[quietline_core::wire::hex(key)], 1).await?;
        }
    }
    let limits = limits::Limits::new(cfg.rate_per_device, cfg.rate_per_addr);
    Ok(Arc::new(AppState { db, cfg, limits, keys: auth::KeyCache::default(), sessions: auth::SessionCache::default() }))
}

/// Starts the retention sweep.
pub fn spawn_retention(state: Shared) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(state.cfg.prune_every_secs.max(1)));
        loop {
            tick.tick().await;
            let keep = i64::from(state.cfg.retention_days) * 86_400;
            state.sessions.prune(now());
            if let Err(e) = state.db.prune(now(), keep).await {
                eprintln!("quietline-relay: retention sweep failed: {}", ApiError::from(e));
            }
        }
    });
}

/// The HTTP API.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/openapi.yaml", get(openapi))
        .route("/o/{org}/enrollments", post(phone::post_enrollment))
        .route("/o/{org}/queue", get(phone::get_queue))
        .route("/o/{org}/receipts", post(phone::post_receipt))
        .route("/o/{org}/checkin", post(phone::post_checkin))
        .route("/o/{org}/push-token", axum::routing::put(phone::put_push_token).delete(phone::delete_push_token))
        .route("/o/{org}/admin/enrollments", post(it::post_enrollment).get(it::get_enrollments))
        .route("/o/{org}/admin/devices", post(it::post_device))
        .route("/o/{org}/admin/policies", post(it::post_policy))
        .route("/o/{org}/admin/roots", post(it::post_root))
        .route("/o/{org}/admin/commands", post(it::post_command))
        .route("/o/{org}/admin/fleet", get(it::get_fleet))
        .route("/o/{org}/admin/receipts", get(it::get_receipts))
        .route("/o/{org}/fleet", get(fleet::page))
        .route("/fleet.js", get(fleet::script))
        .route("/fleet.css", get(fleet::style))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut r: axum::response::Response) -> axum::response::Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

async fn openapi() -> impl axum::response::IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], include_str!("../openapi.yaml"))
}

/// Reads a body of at most `limit` bytes. A `Content-Length` over the limit is refused before
/// a byte of the body is read; a body that grows past it is refused before it is parsed.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    if let Some(v) = headers.get(header::CONTENT_LENGTH) {
        let n: u64 = v.to_str().ok().and_then(|s| s.parse().ok()).ok_or(ApiError::BadRequest)?;
        if n > limit as u64 {
            return Err(ApiError::TooLarge);
        }
    }
    axum::body::to_bytes(body, limit).await.map_err(|_| ApiError::TooLarge)
}

/// Checks the `Content-Type` (its media type only).
pub fn require_type(headers: &HeaderMap, media: &str) -> Result<(), ApiError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(media));
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// A `text/plain` body holding one `QL:` object.
pub fn ql_text(body: &[u8]) -> Result<&str, ApiError> {
    let s = std::str::from_utf8(body).map_err(|_| ApiError::BadObject)?.trim();
    if !s.starts_with(quietline_core::wire::TEXT_PREFIX) || s.contains(char::is_whitespace) {
        return Err(ApiError::BadObject);
    }
    Ok(s)
}

/// Checks an org name from the path and that the relay serves it.
pub fn served_org<'a>(state: &Shared, org: &'a str) -> Result<&'a str, ApiError> {
    if state.cfg.orgs.iter().any(|(o, _)| o == org) {
        Ok(org)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Serves the API over plain HTTP (loopback only: the binary refuses other addresses; the demo
/// and tests use this).
pub async fn serve_plain(tcp: tokio::net::TcpListener, state: Shared) -> std::io::Result<()> {
    axum::serve(tcp, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>()).await
}
