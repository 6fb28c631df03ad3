//! The survivor registry: who the advocate's survivors are, known only as keyed hashes.
//!
//! An entry's key is HMAC-SHA256 of the number's E.164 form under a secret that never leaves
//! the device's encrypted state; the plaintext number is never stored. Each entry carries the
//! survivor-led contact plan and expires per the policy's retention rule.

use crate::hex::{hex, unhex};
use crate::numbers::E164;
use crate::policy::{Day, LocalTime};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Why a registry operation failed. Never names a number.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// The policy's anonymous-hotline mode keeps no numbers at all.
    #[error("this hotline promises anonymity: no survivor numbers are kept")]
    AnonymousHotline,
    /// A contact plan is inconsistent.
    #[error("contact plan field `{field}`: {reason}")]
    BadPlan {
        /// The offending field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The stored registry is damaged.
    #[error("the stored survivor registry is damaged")]
    Damaged,
}

/// What the survivor wants when a call drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DroppedCall {
    /// The advocate calls back.
    WeCallBack,
    /// The advocate waits for the survivor to call back (safer if someone may be listening).
    #[default]
    TheyCallBack,
}

/// What a voicemail may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MessageLevel {
    /// Leave no words at all.
    None,
    /// A vague script that names neither the organisation nor the purpose.
    #[default]
    Vague,
}

/// A time range on one weekday, in the device's local time, when calling is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeWindow {
    /// The weekday.
    pub day: Day,
    /// Start, local time.
    pub start: LocalTime,
    /// End, local time (after start).
    pub end: LocalTime,
}

/// What the survivor's phone does with calls from hidden numbers, and what they agreed instead.
/// Some survivors reject hidden callers, or run an app that reveals them, to stop harassment:
/// the advocate explains why the organisation hides its number, and they choose together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HiddenNumbers {
    /// Hidden calls reach the survivor: caller ID is hidden as the policy says.
    #[default]
    Accepted,
    /// The survivor's phone rejects hidden calls, and they agreed to see the advocate's number:
    /// the call shows it, but only after the advocate confirms each call.
    ShowNumberAfterConfirm,
    /// The survivor's phone rejects hidden calls, and they agreed to calls from the
    /// organisation's alternate caller name and number: the call goes out through its VoIP line.
    AlternateCallerId,
}

/// The survivor-led contact plan: the survivor decides, the agent reminds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContactPlan {
    /// When calls are safe. Empty means any time.
    pub safe_windows: Vec<SafeWindow>,
    /// Whether a voicemail may be left.
    pub voicemail_allowed: bool,
    /// What a voicemail may say.
    pub message_level: MessageLevel,
    /// What happens when a call drops.
    pub dropped_call: DroppedCall,
    /// What their phone does with hidden numbers, and the agreed alternative.
    pub hidden_numbers: HiddenNumbers,
    /// When the advocate checks the plan with the survivor again, since needs change
    /// (`"YYYY-MM-DD"`, the device's local date). From that day the advocate is told a review is due.
    pub review_on: Option<NaiveDate>,
}
impl Default for ContactPlan {
    fn default() -> Self {
        Self {
            safe_windows: Vec::new(),
            voicemail_allowed: true,
            message_level: MessageLevel::Vague,
            dropped_call: DroppedCall::TheyCallBack,
            hidden_numbers: HiddenNumbers::Accepted,
            review_on: None,
        }
    }
}

impl ContactPlan {
    /// Checks the plan's windows.
    pub fn validate(&self) -> Result<(), RegistryError> {
        if self.safe_windows.len() > 64 {
            return Err(RegistryError::BadPlan { field: "safe_windows".into(), reason: "at most 64 windows".into() });
        }
        for (i, w) in self.safe_windows.iter().enumerate() {
            if w.start >= w.end {
                return Err(RegistryError::BadPlan {
                    field: format!("safe_windows[{i}].end"),
                    reason: "a window must end after it starts".into(),
                });
            }
        }
        Ok(())
    }

    /// Whether the plan is due for review at `now` (local date at `offset`).
    pub fn review_due(&self, now: DateTime<Utc>, offset: FixedOffset) -> bool {
        self.review_on.is_some_and(|d| now.with_timezone(&offset).date_naive() >= d)
    }

    /// `None` if `now` lies in a safe window (or the plan has none); otherwise the start of the
    /// next safe window.
    pub fn next_safe_time(&self, now: DateTime<Utc>, offset: FixedOffset) -> Option<DateTime<Utc>> {
        if self.safe_windows.is_empty() {
            return None;
        }
        let local = now.with_timezone(&offset);
        let today = local.date_naive();
        let mut best: Option<DateTime<Utc>> = None;
        for d in 0..=7 {
            let date = today + chrono::Duration::days(d);
            for w in self.safe_windows.iter().filter(|w| w.day.weekday() == date.weekday()) {
                let (Some(start), Some(end)) = (
                    offset.from_local_datetime(&date.and_time(w.start.0)).single(),
                    offset.from_local_datetime(&date.and_time(w.end.0)).single(),
                ) else {
                    continue;
                };
                if start <= local && local < end {
                    return None;
                }
                let start = start.with_timezone(&Utc);
                if start > now && best.is_none_or(|b| start < b) {
                    best = Some(start);
                }
            }
        }
        best
    }
}

/// One registered survivor, without the number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The survivor's contact plan.
    pub plan: ContactPlan,
    /// When the entry is purged.
    pub expires_at: DateTime<Utc>,
}

/// The serialisable form of the registry (inside the encrypted state).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegistryState {
    secret: String,
    /// (hex key, expiry in unix seconds, contact plan unless it is the default): compact, and
    /// quick to read back when the agent opens.
    entries: Vec<(String, i64, Option<ContactPlan>)>,
}

/// The registry: HMAC keys of E.164 numbers to entries.
pub struct Registry {
    secret: [u8; 32],
    key: hmac::Key,
    entries: HashMap<[u8; 32], Entry>,
    changes: u64,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Registry({} entries)", self.entries.len())
    }
}

impl Registry {
    /// An empty registry under a fresh secret.
    pub fn new(secret: [u8; 32]) -> Self {
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, &secret), secret, entries: HashMap::new(), changes: 0 }
    }

    /// The keyed hash under which a number is filed.
    pub fn tag(&self, n: &E164) -> [u8; 32] {
        let t = hmac::sign(&self.key, n.expose().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(t.as_ref());
        out
    }

    /// Registers (or re-registers, renewing the expiry) a survivor.
    pub fn insert(&mut self, n: &E164, plan: ContactPlan, expires_at: DateTime<Utc>) -> Result<(), RegistryError> {
        plan.validate()?;
        let tag = self.tag(n);
        self.entries.insert(tag, Entry { plan, expires_at });
        self.changes += 1;
        Ok(())
    }

    /// Looks a number up.
    pub fn get(&self, n: &E164) -> Option<&Entry> {
        self.entries.get(&self.tag(n))
    }

    /// Removes a number; true if it was there.
    pub fn remove(&mut self, n: &E164) -> bool {
        let tag = self.tag(n);
        let removed = self.entries.remove(&tag).is_some();
        self.changes += u64::from(removed);
        removed
    }

    /// Removes every entry expired at `now`; returns how many.
    pub fn purge_expired(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.expires_at > now);
        let n = before - self.entries.len();
        self.changes += n as u64;
        n
    }

    /// Removes every entry; returns how many.
    /// Empties the registry and keys it by a new HMAC secret, so that nothing computed under the
    /// old secret (a tag in a copied file, in memory) matches a number any more.
    pub fn rekey(&mut self, secret: [u8; 32]) -> usize {
        let n = self.clear();
        self.key = hmac::Key::new(hmac::HMAC_SHA256, &secret);
        self.secret = secret;
        self.changes += 1;
        n
    }

    /// A short, one-way name of the HMAC secret (the first 8 bytes of its SHA-256, hex): shows
    /// that a purge rotated it, without revealing it.
    pub fn secret_id(&self) -> String {
        hex(&ring::digest::digest(&ring::digest::SHA256, &self.secret).as_ref()[..8])
    }

    /// Removes every entry (the secret stays).
    pub fn clear(&mut self) -> usize {
        let n = self.entries.len();
        self.entries.clear();
        self.changes += n as u64;
        n
    }

    /// A counter that moves whenever an entry is added, renewed or removed, so the store knows
    /// when the registry must be written again.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// How many survivors are registered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nobody is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The serialisable form.
    pub fn to_state(&self) -> RegistryState {
        let default_plan = ContactPlan::default();
        let mut entries: Vec<(String, i64, Option<ContactPlan>)> = self
            .entries
            .iter()
            .map(|(k, v)| (hex(k), v.expires_at.timestamp(), Some(v.plan.clone()).filter(|p| *p != default_plan)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        RegistryState { secret: hex(&self.secret), entries }
    }

    /// Rebuilds from the serialisable form.
    pub fn from_state(s: RegistryState) -> Result<Self, RegistryError> {
        let secret = unhex::<32>(&s.secret).ok_or(RegistryError::Damaged)?;
        let mut r = Registry::new(secret);
        r.entries.reserve(s.entries.len());
        for (k, expires, plan) in s.entries {
            let expires_at = DateTime::from_timestamp(expires, 0).ok_or(RegistryError::Damaged)?;
            r.entries.insert(
                unhex::<32>(&k).ok_or(RegistryError::Damaged)?,
                Entry { plan: plan.unwrap_or_default(), expires_at },
            );
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::{normalise, Region};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
    }

    #[test]
    fn us_formats_hit_the_same_entry() {
        let us = Region::parse("US").expect("US");
        let mut r = Registry::new([7; 32]);
        let n = normalise("+1 207-555-0100", us).expect("n");
        r.insert(&n, ContactPlan::default(), t("2030-01-01T00:00:00Z")).expect("insert");
        for s in ["(207) 555-0100", "2075550100"] {
            assert!(r.get(&normalise(s, us).expect(s)).is_some(), "{s}");
        }
        assert!(r.get(&normalise("2075550101", us).expect("other")).is_none());
    }

    #[test]
    fn state_holds_no_plaintext_number_and_round_trips() {
        let us = Region::parse("US").expect("US");
        let mut r = Registry::new([9; 32]);
        let n = normalise("2075550100", us).expect("n");
        r.insert(&n, ContactPlan::default(), t("2030-01-01T00:00:00Z")).expect("insert");
        let json = serde_json::to_string(&r.to_state()).expect("json");
        assert!(!json.contains("5550100"));
        let back = Registry::from_state(serde_json::from_str(&json).expect("parse")).expect("state");
        assert!(back.get(&n).is_some());
    }

    #[test]
    fn expired_entries_are_purged() {
        let us = Region::parse("US").expect("US");
        let mut r = Registry::new([1; 32]);
        let n = normalise("2075550100", us).expect("n");
        r.insert(&n, ContactPlan::default(), t("2026-01-02T00:00:00Z")).expect("insert");
        assert_eq!(r.purge_expired(t("2026-01-01T00:00:00Z")), 0);
        assert_eq!(r.purge_expired(t("2026-01-02T00:00:00Z")), 1);
        assert!(r.get(&n).is_none());
    }

    #[test]
    fn next_safe_time_finds_the_next_window() {
        // Monday 2026-11-23. Safe: Tue 18:00–20:00 local, offset -5h.
        let off = FixedOffset::west_opt(5 * 3600).expect("offset");
        let plan = ContactPlan {
            safe_windows: vec![SafeWindow {
                day: Day::Tue,
                start: LocalTime::parse("18:00").expect("t"),
                end: LocalTime::parse("20:00").expect("t"),
            }],
            ..ContactPlan::default()
        };
        let next = plan.next_safe_time(t("2026-11-23T15:00:00Z"), off);
        assert_eq!(next, Some(t("2026-11-24T23:00:00Z")));
        assert_eq!(plan.next_safe_time(t("2026-11-24T23:30:00Z"), off), None);
    }

    #[test]
    fn reversed_window_is_rejected() {
        let plan = ContactPlan {
            safe_windows: vec![SafeWindow {
                day: Day::Tue,
                start: LocalTime::parse("20:00").expect("t"),
                end: LocalTime::parse("18:00").expect("t"),
            }],
            ..ContactPlan::default()
        };
        assert!(matches!(plan.validate(), Err(RegistryError::BadPlan { .. })));
    }
}
