//! Relay poll sessions (docs/relay-protocol.md, "Poll sessions"): after a `GET /queue`
//! authenticated with the device key, the relay hands the phone a short-lived session
//! (`QL-Session: <sid>.<key>.<expires>`); later polls authenticate with one HMAC-SHA256 under
//! that key instead of an Ed25519 signature. A session can do exactly what a device signature on
//! `GET /queue` can, for at most 24 hours, and nothing else; the phone still trusts nothing the
//! relay says.
//!
//! The MAC is over bytes that start with `QL-RELAY-SESSION-1`, a domain no other relay
//! signature or signed wire object uses.

use crate::error::AgentError;
use crate::report::MAX_AUTH_HEADER;
use crate::trust::TrustError;
use crate::wire;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// Domain of a session request MAC.
pub const SESSION_AUTH_DOMAIN: &str = "QL-RELAY-SESSION-1";
/// How long a session lives from issuance (seconds).
pub const SESSION_LIFETIME_SECS: i64 = 24 * 3600;
/// A session is not used within this many seconds of its expiry (clock skew margin).
pub const SESSION_EXPIRY_MARGIN_SECS: i64 = 60;

/// Why a session or a session-authenticated request was refused.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// The `QL-Session` value or the `Authorization` header is malformed (the field named).
    #[error("malformed session `{0}`")]
    Malformed(&'static str),
    /// The session is expired or within a minute of its expiry.
    #[error("the session has expired")]
    Expired,
    /// No random nonce could be drawn.
    #[error("no randomness available")]
    Random,
}

impl From<SessionError> for AgentError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Expired => AgentError::Trust(TrustError::Expired),
            other => AgentError::Trust(TrustError::BadBody { field: "session".into(), reason: other.to_string() }),
        }
    }
}

fn lower_hex<const N: usize>(s: &str, field: &'static str) -> Result<[u8; N], SessionError> {
    // Lower case only: one text form per value.
    if s.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(SessionError::Malformed(field));
    }
    wire::unhex::<N>(s).ok_or(SessionError::Malformed(field))
}

fn parse_unix(s: &str, field: &'static str) -> Result<i64, SessionError> {
    if s.is_empty() || s.len() > 12 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(SessionError::Malformed(field));
    }
    s.parse().map_err(|_| SessionError::Malformed(field))
}

/// A poll session as the relay issued it (the `QL-Session` response header's value).
#[derive(Clone, PartialEq, Eq)]
pub struct RelaySession {
    /// The session id (16 random bytes).
    pub sid: [u8; 16],
    /// The MAC key (32 random bytes). Secret: never logged, never on disk on the phone.
    pub key: [u8; 32],
    /// When it expires, unix seconds.
    pub expires: i64,
}

impl std::fmt::Debug for RelaySession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never appears in a debug print or a log line.
        f.debug_struct("RelaySession").field("sid", &wire::hex(&self.sid)).field("expires", &self.expires).finish()
    }
}

impl RelaySession {
    /// Parses `<sid>.<key>.<expires>` (lower-case hex, decimal unix seconds).
    pub fn parse(value: &str) -> Result<Self, SessionError> {
        if value.len() > MAX_AUTH_HEADER {
            return Err(SessionError::Malformed("length"));
        }
        let parts: Vec<&str> = value.split('.').collect();
        let [sid, key, exp] = parts.as_slice() else { return Err(SessionError::Malformed("parts")) };
        Ok(Self {
            sid: lower_hex::<16>(sid, "sid")?,
            key: lower_hex::<32>(key, "key")?,
            expires: parse_unix(exp, "expires")?,
        })
    }

    /// The `QL-Session` response header value.
    pub fn header_value(&self) -> String {
        format!("{}.{}.{}", wire::hex(&self.sid), wire::hex(&self.key), self.expires)
    }

    /// Whether the phone may still use it at `now_unix` (`now_unix < expires - 60`).
    pub fn usable_at(&self, now_unix: i64) -> bool {
        now_unix < self.expires.saturating_sub(SESSION_EXPIRY_MARGIN_SECS)
    }

    /// The request's MAC (base64url, no padding) over the normative bytes.
    pub fn mac(&self, method: &str, endpoint: &str, ts: i64, nonce: &[u8; 16], body: &[u8]) -> String {
        let bytes = session_mac_bytes(method, endpoint, &self.sid, ts, nonce, body);
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.key), &bytes);
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }
}

/// The bytes a session request's MAC covers: `QL-RELAY-SESSION-1`, METHOD, endpoint, sid, ts,
/// nonce, hex(SHA-256(body)), joined by `\n`, no trailing newline.
pub fn session_mac_bytes(
    method: &str,
    endpoint: &str,
    sid: &[u8; 16],
    ts: i64,
    nonce: &[u8; 16],
    body: &[u8],
) -> Vec<u8> {
    format!(
        "{SESSION_AUTH_DOMAIN}\n{method}\n{endpoint}\n{}\n{ts}\n{}\n{}",
        wire::hex(sid),
        wire::hex(nonce),
        crate::hex::sha256_hex(body)
    )
    .into_bytes()
}

/// A session-authenticated request, from `Authorization: QL-Session <sid>.<ts>.<nonce>.<mac>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAuth {
    /// The session id.
    pub sid: [u8; 16],
    /// The phone's clock, unix seconds.
    pub ts: i64,
    /// Random per request, for replay refusal.
    pub nonce: [u8; 16],
    /// HMAC-SHA256 tag.
    pub mac: [u8; 32],
}

impl SessionAuth {
    /// Parses the `Authorization` header value.
    pub fn parse(header: &str) -> Result<Self, SessionError> {
        if header.len() > MAX_AUTH_HEADER {
            return Err(SessionError::Malformed("length"));
        }
        let rest = header.strip_prefix("QL-Session ").ok_or(SessionError::Malformed("scheme"))?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [sid, ts, nonce, mac] = parts.as_slice() else { return Err(SessionError::Malformed("parts")) };
        let mac = URL_SAFE_NO_PAD.decode(mac.as_bytes()).map_err(|_| SessionError::Malformed("mac"))?;
        Ok(Self {
            sid: lower_hex::<16>(sid, "sid")?,
            ts: parse_unix(ts, "ts")?,
            nonce: lower_hex::<16>(nonce, "nonce")?,
            mac: mac.try_into().map_err(|_| SessionError::Malformed("mac"))?,
        })
    }

    /// Whether the MAC verifies under `key` for this request (constant-time comparison).
    pub fn verify(&self, key: &[u8; 32], method: &str, endpoint: &str, body: &[u8]) -> bool {
        let bytes = session_mac_bytes(method, endpoint, &self.sid, self.ts, &self.nonce, body);
        hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), &bytes, &self.mac).is_ok()
    }
}

/// Draws a new session (relay side): random sid and key, expiring `SESSION_LIFETIME_SECS` after
/// `now_unix`.
pub fn new_session(now_unix: i64) -> Result<RelaySession, SessionError> {
    let rng = SystemRandom::new();
    let mut sid = [0u8; 16];
    let mut key = [0u8; 32];
    rng.fill(&mut sid).map_err(|_| SessionError::Random)?;
    rng.fill(&mut key).map_err(|_| SessionError::Random)?;
    Ok(RelaySession { sid, key, expires: now_unix + SESSION_LIFETIME_SECS })
}

/// The `Authorization` header value (`QL-Session <sid>.<ts>.<nonce>.<mac>`) for a request
/// authenticated by the poll session `session` (the `QL-Session` response header's value), at
/// `now_unix` with `nonce`. Refuses a malformed session and one that is expired or within 60 s
/// of its expiry (typed errors).
pub fn relay_session_authorization(
    session: &str,
    method: &str,
    endpoint: &str,
    body: &[u8],
    now_unix: i64,
    nonce: [u8; 16],
) -> Result<String, AgentError> {
    let s = RelaySession::parse(session)?;
    if !s.usable_at(now_unix) {
        return Err(SessionError::Expired.into());
    }
    if now_unix < 0 {
        return Err(SessionError::Malformed("ts").into());
    }
    let mac = s.mac(method, endpoint, now_unix, &nonce, body);
    Ok(format!("QL-Session {}.{now_unix}.{}.{mac}", wire::hex(&s.sid), wire::hex(&nonce)))
}

/// As [`relay_session_authorization`], with a fresh nonce from the system's random source.
pub fn relay_session_authorization_random(
    session: &str,
    method: &str,
    endpoint: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<String, AgentError> {
    let mut nonce = [0u8; 16];
    SystemRandom::new().fill(&mut nonce).map_err(|_| AgentError::from(SessionError::Random))?;
    relay_session_authorization(session, method, endpoint, body, now_unix, nonce)
}

/// Whether `session` is a well-formed `QL-Session` value that is usable at `now_unix` (not
/// within 60 s of its expiry).
pub fn relay_session_valid(session: &str, now_unix: i64) -> bool {
    RelaySession::parse(session).map(|s| s.usable_at(now_unix)).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "00112233445566778899aabbccddeeff";
    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn session(exp: i64) -> String {
        format!("{SID}.{KEY}.{exp}")
    }

    #[test]
    fn authorization_round_trips_through_the_relay_side_parser_and_binds_the_request() {
        let s = session(1_800_086_400);
        let h = relay_session_authorization(&s, "GET", "/queue", b"", 1_800_000_000, [7u8; 16]).expect("value");
        let a = SessionAuth::parse(&h).expect("value");
        assert_eq!(wire::hex(&a.sid), SID);
        assert_eq!(a.ts, 1_800_000_000);
        assert_eq!(a.nonce, [7u8; 16]);
        let key = RelaySession::parse(&s).expect("value").key;
        assert!(a.verify(&key, "GET", "/queue", b""));
        assert!(!a.verify(&key, "POST", "/queue", b""));
        assert!(!a.verify(&key, "GET", "/checkin", b""));
        assert!(!a.verify(&key, "GET", "/queue", b"x"));
        let mut other = key;
        other[0] ^= 1;
        assert!(!a.verify(&other, "GET", "/queue", b""));
    }

    #[test]
    fn exact_bytes_and_mac_are_the_normative_ones() {
        let bytes = session_mac_bytes("GET", "/queue", &[0x11; 16], 1_800_000_000, &[0x22; 16], b"");
        assert_eq!(
            String::from_utf8(bytes.clone()).expect("value"),
            "QL-RELAY-SESSION-1\nGET\n/queue\n11111111111111111111111111111111\n1800000000\n\
             22222222222222222222222222222222\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // Independent of this module's helper: HMAC over exactly those bytes.
        let key = [0x33u8; 32];
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &bytes);
        let s = RelaySession { sid: [0x11; 16], key, expires: 1_800_086_400 };
        let h = relay_session_authorization(&s.header_value(), "GET", "/queue", b"", 1_800_000_000, [0x22; 16])
            .expect("value");
        assert_eq!(
            h,
            format!(
                "QL-Session 11111111111111111111111111111111.1800000000.22222222222222222222222222222222.{}",
                URL_SAFE_NO_PAD.encode(tag.as_ref())
            )
        );
    }

    #[test]
    fn malformed_sessions_are_refused_with_a_typed_error() {
        let long = "a".repeat(600);
        let bad = [
            "".to_string(),
            SID.to_string(),
            format!("{SID}.{KEY}"),
            format!("{SID}.{KEY}.1800000000.1"),
            format!("{}.{KEY}.1800000000", SID.to_uppercase()),
            format!("{SID}.{}.1800000000", &KEY[..62]),
            format!("{SID}.{KEY}.-5"),
            format!("{SID}.{KEY}.18e8"),
            format!("zz{}.{KEY}.1800000000", &SID[2..]),
            long,
        ];
        for b in &bad {
            let e = relay_session_authorization(b, "GET", "/queue", b"", 1_700_000_000, [0; 16]).expect_err("refused");
            assert!(
                matches!(&e, AgentError::Trust(TrustError::BadBody { field, .. }) if field == "session"),
                "{b}: {e:?}"
            );
            assert!(!relay_session_valid(b, 1_700_000_000), "{b}");
        }
        for h in ["", "QL-Session", "QL-Device a.b.c.d", "QL-Session a.b.c.d", &format!("QL-Session {SID}.1.2.3.4")] {
            assert!(SessionAuth::parse(h).is_err(), "{h}");
        }
    }

    #[test]
    fn expired_sessions_are_refused_from_a_minute_before_expiry() {
        let s = session(1_800_000_000);
        assert!(relay_session_authorization(&s, "GET", "/queue", b"", 1_799_999_939, [0; 16]).is_ok());
        assert!(relay_session_valid(&s, 1_799_999_939));
        for now in [1_799_999_940, 1_800_000_000, 1_900_000_000] {
            let e = relay_session_authorization(&s, "GET", "/queue", b"", now, [0; 16]).expect_err("refused");
            assert!(matches!(e, AgentError::Trust(TrustError::Expired)), "{now}: {e:?}");
            assert!(!relay_session_valid(&s, now));
        }
    }

    #[test]
    fn the_key_never_appears_in_a_debug_print_and_nonces_are_fresh() {
        let s = RelaySession::parse(&session(1_800_000_000)).expect("value");
        assert!(!format!("{s:?}").contains(KEY));
        let a = relay_session_authorization_random(&session(1_800_000_000), "GET", "/queue", b"", 1_700_000_000)
            .expect("value");
        let b = relay_session_authorization_random(&session(1_800_000_000), "GET", "/queue", b"", 1_700_000_000)
            .expect("value");
        assert_ne!(SessionAuth::parse(&a).expect("value").nonce, SessionAuth::parse(&b).expect("value").nonce);
        let n = new_session(1_700_000_000).expect("value");
        assert_eq!(n.expires, 1_700_000_000 + SESSION_LIFETIME_SECS);
        assert_eq!(RelaySession::parse(&n.header_value()).expect("value"), n);
    }
}
