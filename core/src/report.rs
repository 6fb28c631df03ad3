//! What a phone and IT staff say to the relay, and how the relay checks it: device-signed
//! request authentication, the device-signed check-in status report (type `07`), staff-signed
//! IT requests and short-lived fleet-view grants. The formats are in `docs/relay-protocol.md`
//! and `docs/relay.md`.
//!
//! Every message here is signed over bytes that start with `QL-RELAY-`, which no signed wire
//! object can start with (those start `51 4c 01`): a relay signature can never be taken for a
//! receipt, a command or a policy. The relay is untrusted: these signatures let it keep
//! strangers out of a device's queue and out of the fleet view; the phone still verifies
//! everything the relay hands it.

use crate::event::{Finding, RuleGap};
use crate::policy::Mode;
use crate::trust::{self, SigningKey, TrustError};
use crate::wire;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Domain of a device's request signature.
pub const DEVICE_AUTH_DOMAIN: &str = "QL-RELAY-DEVICE-1";
/// Domain of a staff request signature.
pub const STAFF_AUTH_DOMAIN: &str = "QL-RELAY-STAFF-1";
/// Domain of a fleet-view grant.
pub const VIEW_GRANT_DOMAIN: &str = "QL-RELAY-VIEW-1";
/// The wire type byte of a status report.
pub const REPORT_TYPE: u8 = 7;
/// The largest status report body.
pub const MAX_REPORT_BODY: usize = 4096;
/// The longest a fleet-view grant may live (seconds): the browser never holds a long-lived secret.
pub const MAX_VIEW_GRANT_SECS: i64 = 3600;
/// The longest an `Authorization` header may be before it is parsed.
pub const MAX_AUTH_HEADER: usize = 512;

/// Why a relay message was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// The header or object is malformed (the field named).
    #[error("malformed `{0}`")]
    Malformed(&'static str),
    /// Larger than allowed.
    #[error("too large")]
    TooLarge,
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The grant's lifetime is over or longer than allowed.
    #[error("expired or too long-lived")]
    Expired,
    /// A signed wire object was refused.
    #[error(transparent)]
    Trust(#[from] TrustError),
}

fn sha256_hex(b: &[u8]) -> String {
    wire::hex(digest::digest(&digest::SHA256, b).as_ref())
}

pub(crate) fn random16() -> Result<[u8; 16], ReportError> {
    let mut n = [0u8; 16];
    SystemRandom::new().fill(&mut n).map_err(|_| ReportError::Malformed("random"))?;
    Ok(n)
}

fn sig_from_b64(s: &str) -> Result<[u8; 64], ReportError> {
    let v = URL_SAFE_NO_PAD.decode(s.as_bytes()).map_err(|_| ReportError::Malformed("sig"))?;
    v.try_into().map_err(|_| ReportError::Malformed("sig"))
}

fn lower_hex<const N: usize>(s: &str, field: &'static str) -> Result<[u8; N], ReportError> {
    // Lower case only: one text form per value, so a header cannot be re-spelt.
    if s.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(ReportError::Malformed(field));
    }
    wire::unhex::<N>(s).ok_or(ReportError::Malformed(field))
}

fn parse_ts(s: &str) -> Result<i64, ReportError> {
    if s.is_empty() || s.len() > 12 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ReportError::Malformed("ts"));
    }
    s.parse().map_err(|_| ReportError::Malformed("ts"))
}

/// A device's request authentication, from `Authorization: QL-Device …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    /// The device.
    pub device_id: [u8; 8],
    /// Its enrollment.
    pub enrollment_id: [u8; 4],
    /// The phone's clock when it signed, unix seconds.
    pub ts: i64,
    /// Random per request, so the relay can refuse a replay.
    pub nonce: [u8; 16],
    /// Ed25519 by the device key.
    pub signature: [u8; 64],
}

impl DeviceAuth {
    /// Parses the header value (`QL-Device <device>.<enrollment>.<ts>.<nonce>.<sig>`).
    pub fn parse(header: &str) -> Result<Self, ReportError> {
        if header.len() > MAX_AUTH_HEADER {
            return Err(ReportError::TooLarge);
        }
        let rest = header.strip_prefix("QL-Device ").ok_or(ReportError::Malformed("scheme"))?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [d, e, ts, n, s] = parts.as_slice() else { return Err(ReportError::Malformed("parts")) };
        Ok(Self {
            device_id: lower_hex::<8>(d, "device_id")?,
            enrollment_id: lower_hex::<4>(e, "enrollment_id")?,
            ts: parse_ts(ts)?,
            nonce: lower_hex::<16>(n, "nonce")?,
            signature: sig_from_b64(s)?,
        })
    }

    /// The bytes the device signs for a request.
    pub fn signed_bytes(&self, method: &str, endpoint: &str, body: &[u8]) -> Vec<u8> {
        format!(
            "{DEVICE_AUTH_DOMAIN}\n{method}\n{endpoint}\n{}\n{}\n{}\n{}\n{}",
            wire::hex(&self.device_id),
            wire::hex(&self.enrollment_id),
            self.ts,
            wire::hex(&self.nonce),
            sha256_hex(body)
        )
        .into_bytes()
    }

    /// Whether the signature verifies under `device_key` for this request.
    pub fn verify(&self, method: &str, endpoint: &str, body: &[u8], device_key: &[u8; 32]) -> bool {
        trust::verify(device_key, &self.signed_bytes(method, endpoint, body), &self.signature)
    }

    /// The header value.
    pub fn header(&self) -> String {
        format!(
            "QL-Device {}.{}.{}.{}.{}",
            wire::hex(&self.device_id),
            wire::hex(&self.enrollment_id),
            self.ts,
            wire::hex(&self.nonce),
            URL_SAFE_NO_PAD.encode(self.signature)
        )
    }

    /// Signs a request with a device key (the agent does this with its own key; tests and the
    /// load benchmark use it directly).
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        key: &SigningKey,
        device_id: [u8; 8],
        enrollment_id: [u8; 4],
        ts: i64,
        method: &str,
        endpoint: &str,
        body: &[u8],
    ) -> Result<Self, ReportError> {
        let mut a = Self { device_id, enrollment_id, ts, nonce: random16()?, signature: [0; 64] };
        a.signature = key.sign(&a.signed_bytes(method, endpoint, body));
        Ok(a)
    }
}

/// A staff request's authentication, from `Authorization: QL-Staff …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAuth {
    /// The signing key's id (a root key or a staff key of the org's policy).
    pub key_id: [u8; 8],
    /// Signing time, unix seconds.
    pub ts: i64,
    /// Random per request.
    pub nonce: [u8; 16],
    /// Ed25519 by the staff key.
    pub signature: [u8; 64],
}

impl StaffAuth {
    /// Parses the header value (`QL-Staff <key_id>.<ts>.<nonce>.<sig>`).
    pub fn parse(header: &str) -> Result<Self, ReportError> {
        if header.len() > MAX_AUTH_HEADER {
            return Err(ReportError::TooLarge);
        }
        let rest = header.strip_prefix("QL-Staff ").ok_or(ReportError::Malformed("scheme"))?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [k, ts, n, s] = parts.as_slice() else { return Err(ReportError::Malformed("parts")) };
        Ok(Self {
            key_id: lower_hex::<8>(k, "key_id")?,
            ts: parse_ts(ts)?,
            nonce: lower_hex::<16>(n, "nonce")?,
            signature: sig_from_b64(s)?,
        })
    }

    /// The bytes signed: the org, the request (method, endpoint, query) and the body's hash.
    pub fn signed_bytes(&self, org: &str, method: &str, endpoint: &str, query: &str, body: &[u8]) -> Vec<u8> {
        format!(
            "{STAFF_AUTH_DOMAIN}\n{org}\n{method}\n{endpoint}\n{query}\n{}\n{}\n{}\n{}",
            wire::hex(&self.key_id),
            self.ts,
            wire::hex(&self.nonce),
            sha256_hex(body)
        )
        .into_bytes()
    }

    /// Whether the signature verifies under `key`.
    #[allow(clippy::too_many_arguments)]
    pub fn verify(&self, org: &str, method: &str, endpoint: &str, query: &str, body: &[u8], key: &[u8; 32]) -> bool {
        wire::key_id(key) == self.key_id
            && trust::verify(key, &self.signed_bytes(org, method, endpoint, query, body), &self.signature)
    }

    /// Signs a request with a staff (or root) key.
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        key: &SigningKey,
        ts: i64,
        org: &str,
        method: &str,
        endpoint: &str,
        query: &str,
        body: &[u8],
    ) -> Result<Self, ReportError> {
        let mut a = Self { key_id: key.key_id(), ts, nonce: random16()?, signature: [0; 64] };
        a.signature = key.sign(&a.signed_bytes(org, method, endpoint, query, body));
        Ok(a)
    }

    /// The header value.
    pub fn header(&self) -> String {
        format!(
            "QL-Staff {}.{}.{}.{}",
            wire::hex(&self.key_id),
            self.ts,
            wire::hex(&self.nonce),
            URL_SAFE_NO_PAD.encode(self.signature)
        )
    }
}

/// A read-only, short-lived grant to view one organisation's fleet (the browser's only
/// credential: it can read the fleet table until it expires, and do nothing else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewGrant {
    /// The granting staff key's id.
    pub key_id: [u8; 8],
    /// Unix seconds after which it is refused.
    pub expires: i64,
    /// Ed25519 by the staff key.
    pub signature: [u8; 64],
}

impl ViewGrant {
    /// Parses `<key_id>.<expires>.<sig>` (the URL fragment of the fleet page, or
    /// `Authorization: QL-View …`).
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        if text.len() > MAX_AUTH_HEADER {
            return Err(ReportError::TooLarge);
        }
        let rest = text.strip_prefix("QL-View ").unwrap_or(text);
        let parts: Vec<&str> = rest.split('.').collect();
        let [k, e, s] = parts.as_slice() else { return Err(ReportError::Malformed("parts")) };
        Ok(Self { key_id: lower_hex::<8>(k, "key_id")?, expires: parse_ts(e)?, signature: sig_from_b64(s)? })
    }

    /// The bytes signed.
    pub fn signed_bytes(&self, org: &str) -> Vec<u8> {
        format!("{VIEW_GRANT_DOMAIN}\n{org}\n{}\n{}", wire::hex(&self.key_id), self.expires).into_bytes()
    }

    /// Makes a grant for `org` that expires at `expires` (at most [`MAX_VIEW_GRANT_SECS`] after `now`).
    pub fn sign(key: &SigningKey, org: &str, now: i64, expires: i64) -> Result<Self, ReportError> {
        if expires <= now || expires - now > MAX_VIEW_GRANT_SECS {
            return Err(ReportError::Expired);
        }
        let mut g = Self { key_id: key.key_id(), expires, signature: [0; 64] };
        g.signature = key.sign(&g.signed_bytes(org));
        Ok(g)
    }

    /// Checks signature and lifetime at `now`.
    pub fn verify(&self, org: &str, key: &[u8; 32], now: i64) -> Result<(), ReportError> {
        if wire::key_id(key) != self.key_id || !trust::verify(key, &self.signed_bytes(org), &self.signature) {
            return Err(ReportError::BadSignature);
        }
        if self.expires <= now || self.expires - now > MAX_VIEW_GRANT_SECS {
            return Err(ReportError::Expired);
        }
        Ok(())
    }

    /// The text form.
    pub fn text(&self) -> String {
        format!("{}.{}.{}", wire::hex(&self.key_id), self.expires, URL_SAFE_NO_PAD.encode(self.signature))
    }
}

/// The body of a device-signed check-in status report: rule kinds and counts, never a
/// survivor number, count or anything derived from one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    /// The device, hex.
    pub device_id: String,
    /// The enrollment, hex.
    pub enrollment_id: String,
    /// The device's trusted time, unix seconds.
    pub at: i64,
    /// The relay's challenge this report answers (hex, 16 bytes).
    pub challenge: String,
    /// The phone's random nonce (hex, 16 bytes), for an acknowledgment that names it.
    pub nonce: String,
    /// Work or personal phone.
    pub mode: Mode,
    /// The installed signed policy's version.
    pub policy_version: u64,
    /// Its expiry, unix seconds.
    pub policy_expires_at: i64,
    /// Whether it has expired (it stays enforced).
    pub policy_stale: bool,
    /// The root set's version.
    pub root_version: u64,
    /// Compliance findings by kind: counts.
    pub findings: BTreeMap<String, u64>,
    /// Actions the app has not acknowledged.
    pub pending_actions: u64,
    /// Receipts not yet delivered.
    pub queued_receipts: u64,
    /// Whether a wall-clock jump has been seen.
    pub clock_jumped: bool,
}

/// The report's finding kinds: the names of the rules, fixed, so no free text reaches the relay.
pub fn finding_kind(f: &Finding) -> &'static str {
    match f {
        Finding::LockTimeoutTooLong { .. } => "lock_timeout_too_long",
        Finding::SecureLockMissing => "secure_lock_missing",
        Finding::CallerIdNotHidden => "caller_id_not_hidden",
        Finding::CallerIdCheckOverdue => "caller_id_check_overdue",
        Finding::ActionFailing { .. } => "action_failing",
        Finding::ActionsAbandoned { .. } => "actions_abandoned",
        Finding::ActionUnsupported { .. } => "action_unsupported",
        Finding::ClockJumps { .. } => "clock_jumps",
        Finding::PolicyStale { .. } => "policy_stale",
        // One kind per gap, so IT sees which rule the phone cannot enforce.
        Finding::RuleNotEnforced { gap: RuleGap::SmsFromOtherAppsUnchecked } => "sms_from_other_apps_unchecked",
        Finding::RuleNotEnforced { gap: RuleGap::NoHelplineCallRoute } => "no_helpline_call_route",
    }
}

/// The finding kinds a report may name.
pub const FINDING_KINDS: [&str; 11] = [
    "lock_timeout_too_long",
    "secure_lock_missing",
    "caller_id_not_hidden",
    "caller_id_check_overdue",
    "action_failing",
    "actions_abandoned",
    "action_unsupported",
    "clock_jumps",
    "policy_stale",
    "sms_from_other_apps_unchecked",
    "no_helpline_call_route",
];

impl StatusReport {
    fn check(&self) -> Result<([u8; 8], [u8; 4]), ReportError> {
        let d = lower_hex::<8>(&self.device_id, "device_id")?;
        let e = lower_hex::<4>(&self.enrollment_id, "enrollment_id")?;
        lower_hex::<16>(&self.challenge, "challenge")?;
        lower_hex::<16>(&self.nonce, "nonce")?;
        if self.findings.keys().any(|k| !FINDING_KINDS.contains(&k.as_str())) {
            return Err(ReportError::Malformed("findings"));
        }
        Ok((d, e))
    }

    /// Encodes and signs: `QL:` text of a type `07` object.
    pub fn sign(&self, key: &SigningKey) -> Result<String, ReportError> {
        self.check()?;
        let body = serde_json::to_vec(self).map_err(|_| ReportError::Malformed("body"))?;
        if body.len() > MAX_REPORT_BODY {
            return Err(ReportError::TooLarge);
        }
        let len = u32::try_from(body.len()).map_err(|_| ReportError::TooLarge)?;
        let mut b = vec![b'Q', b'L', wire::VERSION, REPORT_TYPE];
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(&body);
        let sig = key.sign(&b);
        b.extend_from_slice(&sig);
        Ok(wire::to_text(&b))
    }

    /// Decodes a report and verifies it under `device_key`; also checks that it names
    /// `device_id` and `enrollment_id`.
    pub fn verify(
        text: &str,
        device_key: &[u8; 32],
        device_id: &[u8; 8],
        enrollment_id: &[u8; 4],
    ) -> Result<Self, ReportError> {
        // Size is checked on the text before it is decoded.
        if text.len() > 2 * MAX_REPORT_BODY + 128 {
            return Err(ReportError::TooLarge);
        }
        let b = wire::from_text(text).map_err(TrustError::from)?;
        if b.len() < 8 || &b[..2] != b"QL" || b[2] != wire::VERSION || b[3] != REPORT_TYPE {
            return Err(ReportError::Malformed("header"));
        }
        let len = u32::from_be_bytes([b[4], b[5], b[6], b[7]]) as usize;
        if len > MAX_REPORT_BODY {
            return Err(ReportError::TooLarge);
        }
        if b.len() != 8 + len + 64 {
            return Err(ReportError::Malformed("length"));
        }
        let (signed, sig) = b.split_at(8 + len);
        let sig: [u8; 64] = sig.try_into().map_err(|_| ReportError::Malformed("sig"))?;
        if !trust::verify(device_key, signed, &sig) {
            return Err(ReportError::BadSignature);
        }
        let r: StatusReport = serde_json::from_slice(&signed[8..]).map_err(|_| ReportError::Malformed("body"))?;
        let (d, e) = r.check()?;
        if &d != device_id || &e != enrollment_id {
            return Err(ReportError::Trust(TrustError::WrongDevice));
        }
        Ok(r)
    }
}

/// What the agent lends the relay messages: its ids, versions and signing key.
pub(crate) struct DeviceView {
    pub(crate) device_id: [u8; 8],
    pub(crate) enrollment_id: [u8; 4],
    pub(crate) key: SigningKey,
    pub(crate) mode: Mode,
    pub(crate) root_version: u64,
    pub(crate) policy_expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::generate().expect("key")
    }

    #[test]
    fn device_auth_round_trips_and_binds_the_request() {
        let k = key();
        let a = DeviceAuth::sign(&k, [1; 8], [2; 4], 1_800_000_000, "GET", "/queue", b"").expect("sign");
        let p = DeviceAuth::parse(&a.header()).expect("parse");
        assert_eq!(p, a);
        assert!(p.verify("GET", "/queue", b"", &k.public_key()));
        assert!(!p.verify("POST", "/queue", b"", &k.public_key()));
        assert!(!p.verify("GET", "/checkin", b"", &k.public_key()));
        assert!(!p.verify("GET", "/queue", b"x", &k.public_key()));
        assert!(!p.verify("GET", "/queue", b"", &key().public_key()));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for h in ["", "QL-Device", "QL-Device a.b.c.d.e", "Bearer x", &"x".repeat(600)] {
            assert!(DeviceAuth::parse(h).is_err(), "{h}");
            assert!(StaffAuth::parse(h).is_err());
        }
        let k = key();
        let a = DeviceAuth::sign(&k, [0xab; 8], [2; 4], 5, "GET", "/queue", b"").expect("sign");
        let upper = a.header().replace("abab", "ABAB");
        assert!(DeviceAuth::parse(&upper).is_err(), "upper-case hex is a second spelling");
    }

    #[test]
    fn staff_auth_binds_org_and_query() {
        let k = key();
        let a = StaffAuth::sign(&k, 10, "acme", "GET", "/admin/receipts", "device=01", b"").expect("sign");
        let p = StaffAuth::parse(&a.header()).expect("parse");
        assert!(p.verify("acme", "GET", "/admin/receipts", "device=01", b"", &k.public_key()));
        assert!(!p.verify("other", "GET", "/admin/receipts", "device=01", b"", &k.public_key()));
        assert!(!p.verify("acme", "GET", "/admin/receipts", "device=02", b"", &k.public_key()));
    }

    #[test]
    fn view_grants_expire_and_cannot_be_long_lived() {
        let k = key();
        assert_eq!(ViewGrant::sign(&k, "acme", 0, MAX_VIEW_GRANT_SECS + 1), Err(ReportError::Expired));
        let g = ViewGrant::sign(&k, "acme", 0, 600).expect("grant");
        let p = ViewGrant::parse(&g.text()).expect("parse");
        assert_eq!(p.verify("acme", &k.public_key(), 10), Ok(()));
        assert_eq!(p.verify("acme", &k.public_key(), 600), Err(ReportError::Expired));
        assert_eq!(p.verify("evil", &k.public_key(), 10), Err(ReportError::BadSignature));
    }

    #[test]
    fn reports_verify_only_under_the_device_key_and_refuse_unknown_kinds() {
        let k = key();
        let mut r = StatusReport {
            device_id: wire::hex(&[1; 8]),
            enrollment_id: wire::hex(&[2; 4]),
            at: 1,
            challenge: wire::hex(&[3; 16]),
            nonce: wire::hex(&[4; 16]),
            mode: Mode::Work,
            policy_version: 2,
            policy_expires_at: 3,
            policy_stale: false,
            root_version: 1,
            findings: BTreeMap::from([
                ("secure_lock_missing".to_string(), 1),
                ("sms_from_other_apps_unchecked".to_string(), 1),
                ("no_helpline_call_route".to_string(), 1),
            ]),
            pending_actions: 0,
            queued_receipts: 0,
            clock_jumped: false,
        };
        let t = r.sign(&k).expect("sign");
        assert_eq!(StatusReport::verify(&t, &k.public_key(), &[1; 8], &[2; 4]).expect("verify"), r);
        assert_eq!(StatusReport::verify(&t, &key().public_key(), &[1; 8], &[2; 4]), Err(ReportError::BadSignature));
        assert!(StatusReport::verify(&t, &k.public_key(), &[9; 8], &[2; 4]).is_err());
        r.findings.insert("survivor_count".into(), 3);
        assert!(r.sign(&k).is_err());
    }
}
