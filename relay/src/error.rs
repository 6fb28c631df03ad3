//! The relay's typed HTTP errors. A body is `{"error": "<code>"}` from a fixed list: nothing
//! from the request is ever echoed (no ids, no header values, no parser messages).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Every way a request can fail.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum ApiError {
    /// Malformed header, path, query or JSON.
    #[error("bad_request")]
    BadRequest,
    /// A `QL:` object that does not decode or does not verify.
    #[error("bad_object")]
    BadObject,
    /// Missing or bad authentication, unknown device, stale time, replayed nonce.
    #[error("unauthenticated")]
    Unauthenticated,
    /// Authenticated but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// Nothing there (unknown org, device, route).
    #[error("not_found")]
    NotFound,
    /// IT never announced this enrollment.
    #[error("unknown_enrollment")]
    UnknownEnrollment,
    /// Another device key was already posted for this enrollment.
    #[error("enrollment_conflict")]
    EnrollmentConflict,
    /// The check-in's challenge is unknown, used or expired.
    #[error("stale_challenge")]
    StaleChallenge,
    /// Conflicts with what is stored.
    #[error("conflict")]
    Conflict,
    /// The method is not allowed on this path.
    #[error("method_not_allowed")]
    MethodNotAllowed,
    /// The body is over the endpoint's limit.
    #[error("too_large")]
    TooLarge,
    /// Wrong `Content-Type`.
    #[error("unsupported_media_type")]
    UnsupportedMediaType,
    /// Too many requests; retry after this many seconds.
    #[error("rate_limited")]
    RateLimited(u64),
    /// A bug or a database failure: nothing was stored.
    #[error("internal")]
    Internal,
    /// The database is unreachable: try again.
    #[error("unavailable")]
    Unavailable,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            ApiError::BadRequest | ApiError::BadObject => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::UnknownEnrollment => StatusCode::NOT_FOUND,
            ApiError::EnrollmentConflict | ApiError::StaleChallenge | ApiError::Conflict => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => ApiError::Unavailable,
            _ => ApiError::Internal,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = format!("{{\"error\":\"{self}\"}}");
        let mut r = (self.status(), body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let ApiError::RateLimited(secs) = self {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}
