//! What every `/o/{org}/…` handler starts with, in one place: the organisation named in the
//! path (one this relay serves, or `404` before anything else is looked at), the caller's
//! address and the headers; then, as each endpoint needs, its body (media type, and the size
//! limit applied before a byte is read) and who is asking (a device or a staff key).

use crate::auth::{self, Device, Staff};
use crate::error::ApiError;
use crate::{now, read_body, require_type, served_org, Shared};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::net::SocketAddr;

/// A request to an organisation this relay serves.
#[derive(Debug)]
pub struct OrgRequest {
    /// The shared state.
    pub st: Shared,
    /// The organisation, from the path.
    pub org: String,
    /// The caller's address (for the per-address rate limit).
    pub peer: SocketAddr,
    /// The request's headers.
    pub headers: HeaderMap,
}

impl FromRequestParts<Shared> for OrgRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, ApiError> {
        // A path parameter that is not UTF-8 gets the typed error, not the framework's message
        // (which would echo it).
        let Path(org) = Path::<String>::from_request_parts(parts, st).await.map_err(|_| ApiError::BadRequest)?;
        served_org(st, &org)?;
        let ConnectInfo(peer) =
            ConnectInfo::<SocketAddr>::from_request_parts(parts, st).await.map_err(|_| ApiError::Internal)?;
        Ok(OrgRequest { st: st.clone(), org, peer, headers: parts.headers.clone() })
    }
}

impl OrgRequest {
    /// Counts the request against its address's rate limit (for endpoints whose body
    /// authenticates itself; `device` and `staff` count it themselves).
    pub fn count_addr(&self) -> Result<(), ApiError> {
        self.st.limits.addr(self.peer.ip(), now())
    }

    /// The body, if it is of media type `media` and at most `limit` bytes: a `Content-Length`
    /// over the limit is refused before a byte is read.
    pub async fn body(&self, body: Body, media: &str, limit: usize) -> Result<Bytes, ApiError> {
        require_type(&self.headers, media)?;
        read_body(&self.headers, body, limit).await
    }

    /// The device that signed this request (`method`, `endpoint`, `body`); its nonce is used up.
    pub async fn device(&self, method: &str, endpoint: &str, body: &[u8]) -> Result<Device, ApiError> {
        auth::device(&self.st, &self.org, self.peer, method, endpoint, &self.headers, body).await
    }

    /// The staff key that signed this request.
    pub async fn staff(&self, method: &str, endpoint: &str, query: &str, body: &[u8]) -> Result<Staff, ApiError> {
        auth::staff(&self.st, &self.org, self.peer, method, endpoint, query, &self.headers, body).await
    }

    /// The staff key that signed this request, also accepting the staff keys `also` (see
    /// `auth::staff_or`).
    pub async fn staff_or(
        &self,
        method: &str,
        endpoint: &str,
        body: &[u8],
        also: &[[u8; 32]],
    ) -> Result<Staff, ApiError> {
        auth::staff_or(&self.st, &self.org, self.peer, (method, endpoint, ""), &self.headers, body, also).await
    }

    /// A staff key or a view grant reading the fleet.
    pub async fn fleet_reader(&self, endpoint: &str, query: &str) -> Result<Staff, ApiError> {
        auth::fleet_reader(&self.st, &self.org, self.peer, endpoint, query, &self.headers).await
    }
}
