//! Durable actions: what the core asks the app to do. Each has an id and stays pending until
//! the app acknowledges it, across restarts; a failed attempt is retried with backoff. A number
//! that a pending deletion needs lives only inside the encrypted state and is dropped on ack.

use crate::numbers::E164;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An action's id, unique for the life of the agent's state.
pub type ActionId = u64;

/// Which wipe the app performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum WipeScope {
    /// The agent's own data and the work profile; never personal data.
    Selective,
    /// The whole phone (work phones only).
    Full,
}

/// Why the advocate is notified. Apps map each kind to their own wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum NotifyKind {
    /// The screen lock timeout is longer than the policy allows.
    LockTimeoutTooLong,
    /// No secure lock (PIN, password, biometric) is set.
    SecureLockMissing,
    /// The periodic check found caller ID is no longer hidden.
    CallerIdBlockingFailed,
    /// Working hours have ended: turn the phone off.
    OffDutyPowerOff,
    /// A survivor called outside working hours and the call was let through.
    OffDutySurvivorCall,
    /// A survivor call dropped; the plan says the advocate calls back.
    DroppedCallWeCallBack,
    /// A survivor call dropped; the plan says to wait for the survivor to call back.
    DroppedCallTheyCallBack,
    /// An action keeps failing on this phone.
    ActionFailing,
    /// The installed policy has expired and no newer one has arrived.
    PolicyStale,
    /// No contact with the organisation for a while: connect the phone.
    NoCheckIn,
    /// The phone has not been unlocked for a while.
    NoUnlock,
    /// The phone will lock itself soon unless it checks in or is unlocked.
    OfflineLockSoon,
    /// The phone will wipe itself soon unless it checks in or is unlocked.
    OfflineWipeSoon,
}

/// What the app must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionKind {
    /// Set the maximum time to lock.
    SetMaxTimeToLock {
        /// Seconds.
        secs: u32,
    },
    /// Require a secure lock (PIN, password or biometric).
    RequireSecureLock,
    /// Lock the screen now.
    LockNow,
    /// Set how many failed unlock attempts wipe the phone (or the work profile).
    SetMaxFailedUnlocks {
        /// Attempts.
        count: u32,
    },
    /// Delete call-log entries for a number from a time on.
    DeleteCallLog {
        /// The number (E.164).
        number: E164,
        /// Entries at or after this time.
        since: DateTime<Utc>,
    },
    /// Delete every contact holding this number.
    DeleteContact {
        /// The number (E.164).
        number: E164,
    },
    /// Show a notification to the advocate.
    Notify {
        /// Why.
        kind: NotifyKind,
    },
    /// Run the caller-ID check (a test call to a number-echo service) at a time.
    ScheduleCallerIdCheck {
        /// When.
        at: DateTime<Utc>,
    },
    /// Remove survivor data held by the app (its contacts, notes, caches).
    PurgeSurvivorData,
    /// Wipe.
    Wipe {
        /// Which wipe.
        scope: WipeScope,
    },
}

impl ActionKind {
    /// A short name for audit records; never includes a number.
    pub fn name(&self) -> &'static str {
        match self {
            ActionKind::SetMaxTimeToLock { .. } => "set_max_time_to_lock",
            ActionKind::RequireSecureLock => "require_secure_lock",
            ActionKind::LockNow => "lock_now",
            ActionKind::SetMaxFailedUnlocks { .. } => "set_max_failed_unlocks",
            ActionKind::DeleteCallLog { .. } => "delete_call_log",
            ActionKind::DeleteContact { .. } => "delete_contact",
            ActionKind::Notify { .. } => "notify",
            ActionKind::ScheduleCallerIdCheck { .. } => "schedule_caller_id_check",
            ActionKind::PurgeSurvivorData => "purge_survivor_data",
            ActionKind::Wipe { .. } => "wipe",
        }
    }
}

/// A pending action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Its id, for [`crate::Agent::ack`].
    pub id: ActionId,
    /// What to do.
    pub kind: ActionKind,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// Not to be done before this time (the after-call delay, retry backoff).
    pub due_at: DateTime<Utc>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last failure the app reported, with long digit runs masked.
    pub last_error: Option<String>,
}

/// How the app reports an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AckResult {
    /// Done.
    Done,
    /// Failed; it will be handed out again after a backoff.
    Failed {
        /// Why (for IT staff; digit runs are masked before it is stored).
        reason: String,
    },
    /// The platform can never do this (e.g. iOS cannot delete the system call log): the action
    /// is dropped, with any number it held, and compliance reports the gap.
    Unsupported {
        /// Why (digit runs are masked).
        reason: String,
    },
}

/// The first retry waits this long; each further failure doubles it up to [`MAX_BACKOFF_SECS`].
pub const FIRST_BACKOFF_SECS: i64 = 30;
/// The longest wait between retries.
pub const MAX_BACKOFF_SECS: i64 = 3600;

/// Masks every run of 4 or more digits, so an app's error text cannot smuggle a number in.
/// Digits are any numeric characters (full-width ones too) and anything that is neither a
/// letter nor a digit (`/`, `_`, dashes of every width, spaces) may separate them.
pub fn mask_digits(s: &str) -> String {
    let digit = |c: char| c.is_numeric();
    let mut out = String::with_capacity(s.len().min(200));
    let chars: Vec<char> = s.chars().take(200).collect();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]) {
            let mut j = i;
            while j < chars.len() && (digit(chars[j]) || !chars[j].is_alphanumeric()) {
                j += 1;
            }
            // Trailing separators belong to the text, not to the number.
            while j > i && !digit(chars[j - 1]) {
                j -= 1;
            }
            let run = chars[i..j].iter().filter(|c| digit(**c)).count();
            if run >= 4 {
                out.push('#');
            } else {
                out.extend(&chars[i..j]);
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Result of acknowledging an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// The action is done and removed.
    Completed,
    /// The failure was recorded; it will be retried.
    WillRetry,
    /// The action had already been acknowledged (an ack repeated after a restart).
    AlreadyDone,
    /// The platform cannot do it; the action was dropped and the gap is reported.
    Unsupported,
}

/// The durable outbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    next_id: ActionId,
    pending: BTreeMap<ActionId, Action>,
    abandoned: u64,
    #[serde(default)]
    unsupported: BTreeMap<String, u64>,
}

impl Outbox {
    /// Issues an action unless an identical one is already pending (actions are idempotent).
    pub fn push(&mut self, kind: ActionKind, now: DateTime<Utc>, due_at: DateTime<Utc>) -> Action {
        if let Some(a) = self.pending.values().find(|a| a.kind == kind) {
            return a.clone();
        }
        self.next_id += 1;
        let a = Action { id: self.next_id, kind, created_at: now, due_at, attempts: 0, last_error: None };
        self.pending.insert(a.id, a.clone());
        a
    }

    /// Actions due at `now`, oldest first.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<Action> {
        self.pending.values().filter(|a| a.due_at <= now).cloned().collect()
    }

    /// Every pending action.
    pub fn all(&self) -> impl Iterator<Item = &Action> {
        self.pending.values()
    }

    /// Records an acknowledgement. `None` if the id was never issued.
    pub fn ack(&mut self, id: ActionId, result: &AckResult, now: DateTime<Utc>) -> Option<(AckOutcome, &'static str)> {
        if id == 0 || id > self.next_id {
            return None;
        }
        match result {
            AckResult::Done => match self.pending.remove(&id) {
                Some(a) => Some((AckOutcome::Completed, a.kind.name())),
                None => Some((AckOutcome::AlreadyDone, "unknown")),
            },
            AckResult::Failed { reason } => match self.pending.get_mut(&id) {
                Some(a) => {
                    a.attempts = a.attempts.saturating_add(1);
                    let exp = a.attempts.saturating_sub(1).min(12);
                    let wait = (FIRST_BACKOFF_SECS << exp).min(MAX_BACKOFF_SECS);
                    a.due_at = now + Duration::seconds(wait);
                    a.last_error = Some(mask_digits(reason));
                    Some((AckOutcome::WillRetry, a.kind.name()))
                }
                None => Some((AckOutcome::AlreadyDone, "unknown")),
            },
            AckResult::Unsupported { .. } => match self.pending.remove(&id) {
                Some(a) => {
                    *self.unsupported.entry(a.kind.name().to_string()).or_default() += 1;
                    Some((AckOutcome::Unsupported, a.kind.name()))
                }
                None => Some((AckOutcome::AlreadyDone, "unknown")),
            },
        }
    }

    /// Action kinds the platform said it can never do, with counts.
    pub fn unsupported(&self) -> &BTreeMap<String, u64> {
        &self.unsupported
    }

    /// Drops actions pending since before `cutoff`; returns how many.
    pub fn abandon_older_than(&mut self, cutoff: DateTime<Utc>) -> usize {
        let before = self.pending.len();
        self.pending.retain(|_, a| a.created_at >= cutoff);
        let n = before - self.pending.len();
        self.abandoned += n as u64;
        n
    }

    /// How many actions were ever abandoned.
    pub fn abandoned(&self) -> u64 {
        self.abandoned
    }

    /// Whether an action of this kind is pending.
    pub fn has(&self, pred: impl Fn(&ActionKind) -> bool) -> bool {
        self.pending.values().any(|a| pred(&a.kind))
    }

    /// Makes the pending actions that match `pred` due at `now` (never later than they were).
    pub fn make_due(&mut self, pred: impl Fn(&ActionKind) -> bool, now: DateTime<Utc>) {
        for a in self.pending.values_mut().filter(|a| pred(&a.kind)) {
            a.due_at = a.due_at.min(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z").expect("t").with_timezone(&Utc)
    }

    #[test]
    fn identical_pending_actions_are_issued_once() {
        let mut o = Outbox::default();
        let a = o.push(ActionKind::LockNow, t0(), t0());
        let b = o.push(ActionKind::LockNow, t0(), t0());
        assert_eq!(a.id, b.id);
        assert_eq!(o.due(t0()).len(), 1);
    }

    #[test]
    fn failed_ack_backs_off_then_done_removes() {
        let mut o = Outbox::default();
        let a = o.push(ActionKind::LockNow, t0(), t0());
        let fail = AckResult::Failed { reason: "SecurityException".into() };
        assert_eq!(o.ack(a.id, &fail, t0()).map(|x| x.0), Some(AckOutcome::WillRetry));
        assert!(o.due(t0()).is_empty());
        assert_eq!(o.due(t0() + Duration::seconds(30)).len(), 1);
        o.ack(a.id, &fail, t0());
        assert!(o.due(t0() + Duration::seconds(59)).is_empty());
        assert_eq!(o.due(t0() + Duration::seconds(60))[0].attempts, 2);
        assert_eq!(o.ack(a.id, &AckResult::Done, t0()).map(|x| x.0), Some(AckOutcome::Completed));
        assert_eq!(o.ack(a.id, &AckResult::Done, t0()).map(|x| x.0), Some(AckOutcome::AlreadyDone));
        assert_eq!(o.ack(99, &AckResult::Done, t0()), None);
    }

    #[test]
    fn digit_runs_are_masked() {
        assert_eq!(mask_digits("could not delete 207-555-0100 (err 13)"), "could not delete # (err 13)");
        assert!(!mask_digits("+1 (207) 555 0100").contains("555"));
    }

    #[test]
    fn digit_runs_with_any_separator_are_masked() {
        // Regression: `/`, `_` and en dashes used to end a run, leaving area code and exchange.
        assert_eq!(mask_digits("207/555/0100"), "#");
        assert_eq!(mask_digits("id 207_555_0100."), "id #.");
        assert_eq!(mask_digits("207\u{2013}555\u{2013}0100 busy"), "# busy");
        assert_eq!(mask_digits("\u{ff12}\u{ff10}\u{ff17}\u{ff15}\u{ff15}\u{ff15}"), "#");
        assert_eq!(mask_digits("err 13, retry 2 of 5"), "err 13, retry 2 of 5");
    }
}
