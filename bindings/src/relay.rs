//! The relay's phone side (docs/relay-protocol.md) over the FFI: the device-signed
//! `Authorization` header and the check-in status report. Thin: the core does the work.

use crate::agent::Agent;
use crate::error::ApiError;

#[uniffi::export]
impl Agent {
    /// The `Authorization` header value for a request to the organisation's relay: signed with
    /// this phone's device key over `method`, `endpoint` (`/queue`, `/checkin`, `/push-token`)
    /// and the exact `body` bytes. It authenticates the request only; nothing the relay answers
    /// is trusted, and a successful poll is not a check-in.
    pub fn relay_authorization(&self, method: String, endpoint: String, body: Vec<u8>) -> Result<String, ApiError> {
        self.with(|a| a.relay_authorization(&method, &endpoint, &body))
    }

    /// As `relayAuthorization`, signed at `unixSeconds` (the relay's `Date` after a `401` for a
    /// clock that is off): the time only affects this request's authentication.
    pub fn relay_authorization_at(
        &self,
        method: String,
        endpoint: String,
        body: Vec<u8>,
        unix_seconds: i64,
    ) -> Result<String, ApiError> {
        self.with(|a| a.relay_authorization_at(&method, &endpoint, &body, unix_seconds))
    }

    /// The device-signed status report (`QL:` text) for `POST /checkin`, answering the
    /// `QL-Challenge` of this poll's `GET /queue`: policy version and staleness, compliance
    /// findings by kind, pending counts, the clock-jump flag. It carries nothing about survivors.
    /// Its nonce is remembered: the organisation's acknowledgement of it, in a later queue
    /// answer, is what resets the offline check-in timer.
    pub fn status_report(&self, challenge: String) -> Result<String, ApiError> {
        self.with(|a| a.status_report(&challenge))
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The `Authorization` header value (`QL-Session …`) for a `GET /queue` authenticated by the
/// poll session the relay issued (`session`: the `QL-Session` response header's value), at this
/// phone's clock with a fresh random nonce: one HMAC instead of a device signature. Throws
/// `Untrusted` when the session is malformed or within 60 s of its expiry; then poll with
/// `relayAuthorization` instead. Keep the session in memory only, never on disk or in a log.
#[uniffi::export]
pub fn relay_session_authorization(
    session: String,
    method: String,
    endpoint: String,
    body: Vec<u8>,
) -> Result<String, ApiError> {
    Ok(quietline_core::relay_session_authorization_random(&session, &method, &endpoint, &body, unix_now())?)
}

/// As `relaySessionAuthorization`, at `unixSeconds` (the relay's `Date` after a `401` for a clock
/// that is off).
#[uniffi::export]
pub fn relay_session_authorization_at(
    session: String,
    method: String,
    endpoint: String,
    body: Vec<u8>,
    unix_seconds: i64,
) -> Result<String, ApiError> {
    Ok(quietline_core::relay_session_authorization_random(&session, &method, &endpoint, &body, unix_seconds)?)
}

/// Whether `session` (a `QL-Session` response header's value) is well formed and not within 60 s
/// of its expiry at this phone's clock.
#[uniffi::export]
pub fn relay_session_valid(session: String) -> bool {
    quietline_core::relay_session_valid(&session, unix_now())
}
