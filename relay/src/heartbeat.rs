//! Check-in acknowledgements (issue 11, item 5; `docs/relay-protocol.md`, "Check-in freshness").
//!
//! A relay started with `--heartbeat-key` holds one private key: a staff key whose only role in
//! the organisation's policy is `checkin`. After a phone's verified check-in, the next
//! `GET /queue` answer carries the acknowledgement (wire type `08`) naming the nonce of that
//! report, this device and enrollment. The phone accepts it once, for its own outstanding
//! nonce, and only then resets its offline check-in timer. The key can therefore at most keep
//! a phone from locking or wiping itself for lack of check-ins: it can never lock, wipe, purge,
//! change a policy, sign a receipt or move the phone's trusted time.

use crate::db::DeviceRow;
use quietline_core::checkin;
use quietline_core::report::StatusReport;
use quietline_core::trust::SigningKey;
use quietline_core::wire;
use std::sync::Arc;

/// How recent a verified check-in must be for the relay to acknowledge it (seconds); the phone
/// itself waits at most `checkin::NONCE_TTL_SECS` for an acknowledgement.
pub const ACK_WINDOW_SECS: i64 = 24 * 3600;

/// A key the relay signs check-in acknowledgements with, for one organisation or for all.
#[derive(Debug, Clone)]
pub struct HeartbeatKey {
    /// The organisation it signs for; `None` for every organisation served.
    pub org: Option<String>,
    /// The private key (PKCS#8, as `quietline-admin keygen` writes it).
    pub key: Arc<SigningKey>,
}

impl HeartbeatKey {
    /// Reads `FILE` or `ORG=FILE` (the `--heartbeat-key` argument).
    pub fn from_spec(spec: &str) -> Result<Self, String> {
        let (org, file) = match spec.split_once('=') {
            Some((o, f)) => (Some(o.to_string()), f),
            None => (None, spec),
        };
        let bytes = std::fs::read(file).map_err(|e| format!("--heartbeat-key: cannot read {file}: {e}"))?;
        let key = SigningKey::from_pkcs8(&bytes)
            .map_err(|_| format!("--heartbeat-key: {file} is not a private key (quietline-admin keygen)"))?;
        Ok(Self { org, key: Arc::new(key) })
    }
}

/// The acknowledgement (`QL:` text) of `dev`'s last verified check-in, if the relay holds a
/// key for `org` and that check-in is recent. The report was verified under the device's key
/// when it was stored, so the nonce is the phone's own.
pub fn ack_for(keys: &[HeartbeatKey], org: &str, dev: &DeviceRow, now: i64) -> Option<String> {
    let hb = keys.iter().find(|k| k.org.as_deref() == Some(org)).or_else(|| keys.iter().find(|k| k.org.is_none()))?;
    let at = dev.last_checkin?;
    if now.saturating_sub(at) > ACK_WINDOW_SECS {
        return None;
    }
    let report: StatusReport = serde_json::from_str(dev.report.as_deref()?).ok()?;
    if report.device_id != dev.device_id || report.enrollment_id != dev.enrollment_id {
        return None;
    }
    let nonce = wire::unhex::<16>(&report.nonce)?;
    let device_id = wire::unhex::<8>(&dev.device_id)?;
    let enrollment_id = wire::unhex::<4>(&dev.enrollment_id)?;
    let t = u32::try_from(now).ok()?;
    Some(checkin::sign_ack(&hb.key, device_id, enrollment_id, nonce, t, t.saturating_add(checkin::ACK_LIFETIME_SECS)))
}
