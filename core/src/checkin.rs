//! Check-in freshness (issue 11, item 5): the authenticated round trip that resets the offline
//! check-in timer. The phone puts a random nonce in each status report and remembers it; the
//! organisation's acknowledgement (wire type `08`, signed by a key whose only role is
//! `checkin`, which the relay holds) names that nonce, this device and this enrollment. The
//! phone accepts an acknowledgement only for one of its own outstanding nonces, once, before
//! the nonce expires, and then counts a check-in at the time it issued the nonce: a delayed
//! acknowledgement proves no more than that. A replay, a poll or a relay's 2xx proves nothing.
//!
//! What the key can do is therefore bounded: it can keep a phone from locking or wiping itself
//! for lack of check-ins, never lock, wipe, purge, change the policy, make a receipt or move the
//! device's trusted time (its times are not evidence of the time).

use crate::trust::{SigningKey, TrustError};
use crate::wire::{self, CheckinAck};
use serde::{Deserialize, Serialize};

/// How long a nonce waits for its acknowledgement (seconds): longer than any poll interval.
pub const NONCE_TTL_SECS: i64 = 7 * 24 * 3600;
/// How many check-ins may wait for an acknowledgement at once (a retried check-in makes a
/// second report); the oldest is forgotten first.
pub const MAX_OUTSTANDING: usize = 8;
/// The longest lifetime an acknowledgement may claim (seconds).
pub const MAX_ACK_LIFETIME_SECS: u32 = 24 * 3600;
/// The lifetime the relay gives its acknowledgements (seconds): the phone applies one in the
/// poll that fetched it.
pub const ACK_LIFETIME_SECS: u32 = 3600;

/// The nonces of check-ins that wait for an acknowledgement, with the time each was issued.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Outstanding {
    nonces: Vec<([u8; 16], i64)>,
}

impl Outstanding {
    /// Remembers a new nonce issued at `at` (unix seconds, the offline timers' time).
    pub(crate) fn issue(&mut self, nonce: [u8; 16], at: i64) {
        self.nonces.push((nonce, at));
        if self.nonces.len() > MAX_OUTSTANDING {
            let drop = self.nonces.len() - MAX_OUTSTANDING;
            self.nonces.drain(..drop);
        }
    }

    /// When `nonce` was issued, if it is outstanding and not expired at `now`.
    pub(crate) fn issued_at(&self, nonce: &[u8; 16], now: i64) -> Option<i64> {
        self.nonces
            .iter()
            .find(|(n, _)| n == nonce)
            .map(|(_, at)| *at)
            .filter(|at| now.saturating_sub(*at) <= NONCE_TTL_SECS)
    }

    /// Uses `nonce` up, with every nonce issued before it: an older check-in proves less.
    pub(crate) fn consume(&mut self, nonce: &[u8; 16]) {
        if let Some(pos) = self.nonces.iter().position(|(n, _)| n == nonce) {
            self.nonces.drain(..=pos);
        }
    }
}

/// Signs an acknowledgement of the check-in whose report carried `nonce` (`QL:` text). The
/// relay does this with its `checkin` key; IT tools and tests may too.
pub fn sign_ack(
    key: &SigningKey,
    device_id: [u8; 8],
    enrollment_id: [u8; 4],
    nonce: [u8; 16],
    issued_at: u32,
    expires_at: u32,
) -> String {
    let mut a =
        CheckinAck { device_id, enrollment_id, nonce, issued_at, expires_at, key_id: key.key_id(), signature: [0; 64] };
    a.signature = key.sign(&a.signed_bytes());
    wire::to_text(&a.to_bytes())
}

/// Decodes an acknowledgement and checks its signature under `key` (as a phone or IT would).
pub fn verify_ack(text: &str, key: &[u8; 32]) -> Result<CheckinAck, TrustError> {
    let a = CheckinAck::from_bytes(&wire::from_text(text)?)?;
    if wire::key_id(key) != a.key_id || !crate::trust::verify(key, &a.signed_bytes(), &a.signature) {
        return Err(TrustError::BadSignature);
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outstanding_nonce_is_used_once_with_the_older_ones() {
        let mut o = Outstanding::default();
        o.issue([1; 16], 100);
        o.issue([2; 16], 200);
        o.issue([3; 16], 300);
        assert_eq!(o.issued_at(&[2; 16], 400), Some(200));
        o.consume(&[2; 16]);
        assert_eq!(o.issued_at(&[1; 16], 400), None);
        assert_eq!(o.issued_at(&[2; 16], 400), None);
        assert_eq!(o.issued_at(&[3; 16], 300 + NONCE_TTL_SECS), Some(300));
        assert_eq!(o.issued_at(&[3; 16], 301 + NONCE_TTL_SECS), None, "expired");
        for i in 0..20u8 {
            o.issue([i; 16], 1000);
        }
        assert_eq!(o.nonces.len(), MAX_OUTSTANDING);
    }
}
