//! Offline safety: rules the agent enforces on its own for a phone that no command can reach.
//! Time since the last check-in with the organisation, time since the last successful unlock,
//! and failed unlock attempts each lead, step by step, to a notification, a lock and (if the
//! policy says so) a wipe — with a warning ahead of every step. The timers run on the latest
//! time the agent has seen, advanced by the platform's monotonic clock, so setting the wall
//! clock back never delays a step; a clock jump is itself recorded.

use crate::actions::{ActionKind, NotifyKind};
use crate::policy::Offline;
use crate::wire::ReceiptReason;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A wall-clock difference from the monotonic expectation larger than this is a clock jump.
pub const CLOCK_JUMP_SECS: i64 = 300;

/// Which offline rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum OfflineRule {
    /// Too long without contact with the organisation.
    CheckIn,
    /// Too long without a successful unlock.
    Unlock,
    /// Too many failed unlock attempts.
    FailedUnlocks,
}

impl OfflineRule {
    /// The reason a receipt gives for a wipe this rule decided.
    pub(crate) fn receipt_reason(self) -> ReceiptReason {
        match self {
            OfflineRule::CheckIn => ReceiptReason::OfflineCheckIn,
            OfflineRule::Unlock => ReceiptReason::OfflineUnlock,
            OfflineRule::FailedUnlocks => ReceiptReason::FailedUnlocks,
        }
    }
}

/// The monotonic anchor: wall time trusted at a known monotonic reading in one boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MonoAnchor {
    boot_id: u64,
    mono_secs: u64,
    at: DateTime<Utc>,
}

/// What the offline rules remember.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct OfflineState {
    last_check_in: Option<DateTime<Utc>>,
    last_unlock: Option<DateTime<Utc>>,
    failed_unlocks: u32,
    fired: BTreeSet<String>,
    anchor: Option<MonoAnchor>,
    clock_jumps: u64,
}

fn hours(h: u32) -> Duration {
    Duration::hours(i64::from(h))
}

/// What the offline timers decided on a tick or a failed unlock: actions to issue, in order,
/// and possibly a wipe (always the last step: nothing follows it).
#[derive(Debug, Default)]
pub(crate) struct OfflineSteps {
    pub(crate) actions: Vec<ActionKind>,
    pub(crate) wipe: Option<OfflineRule>,
}

impl OfflineState {
    /// Wall-clock jumps seen so far.
    pub(crate) fn clock_jumps(&self) -> u64 {
        self.clock_jumps
    }

    /// The time the offline timers run on: never earlier than `last_seen`, and advanced by the
    /// platform's monotonic clock (`mono`: boot id and seconds) when the wall clock was set back.
    /// Returns that time and, if the wall clock jumped, the time to record the jump at.
    pub(crate) fn timer_now(
        &mut self,
        wall: DateTime<Utc>,
        last_seen: DateTime<Utc>,
        mono: Option<(u64, u64)>,
    ) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
        let mut t = wall.max(last_seen);
        let mut jump = None;
        if let Some((boot_id, mono_secs)) = mono {
            if let Some(a) = self.anchor.filter(|a| a.boot_id == boot_id && mono_secs >= a.mono_secs) {
                let expected = a.at + Duration::seconds(i64::try_from(mono_secs - a.mono_secs).unwrap_or(i64::MAX / 2));
                if (wall - expected).num_seconds().abs() > CLOCK_JUMP_SECS {
                    self.clock_jumps += 1;
                    jump = Some(t);
                }
                t = t.max(expected);
            }
            self.anchor = Some(MonoAnchor { boot_id, mono_secs, at: t });
        }
        (t, jump)
    }

    /// Records a successful contact with the organisation at `t`; resets the check-in timer.
    /// Evidence of an earlier contact than the one recorded changes nothing.
    pub(crate) fn record_check_in(&mut self, t: DateTime<Utc>) {
        if self.last_check_in.is_some_and(|last| last >= t) {
            return;
        }
        self.last_check_in = Some(t);
        self.fired.retain(|f| !f.starts_with("check_in"));
    }

    /// A successful unlock at `t`: resets the unlock timer and the failed-attempt count.
    pub(crate) fn record_unlock(&mut self, t: DateTime<Utc>) {
        self.last_unlock = Some(t);
        self.failed_unlocks = 0;
        self.fired.retain(|f| !f.starts_with("unlock") && !f.starts_with("failed"));
    }

    /// A failed unlock attempt; decides a wipe once the policy's maximum is reached.
    pub(crate) fn record_failed_unlock(&mut self, max_failed_unlocks: Option<u32>) -> Option<OfflineRule> {
        self.failed_unlocks = self.failed_unlocks.saturating_add(1);
        match max_failed_unlocks {
            Some(max) if self.failed_unlocks >= max => Some(OfflineRule::FailedUnlocks),
            _ => None,
        }
    }

    /// Runs the timers at timer time `now`; timers that never started run from `start` (the
    /// last time the agent committed, its setup).
    pub(crate) fn tick(&mut self, rules: &Offline, start: DateTime<Utc>, now: DateTime<Utc>) -> OfflineSteps {
        let mut steps_out = OfflineSteps::default();
        let last_check_in = *self.last_check_in.get_or_insert(start);
        let last_unlock = *self.last_unlock.get_or_insert(start);
        let timers = [
            (OfflineRule::CheckIn, "check_in", &rules.check_in, last_check_in),
            (OfflineRule::Unlock, "unlock", &rules.unlock, last_unlock),
        ];
        for (rule, name, r, since) in timers {
            let elapsed = now - since;
            let lead = hours(r.warn_lead_hours);
            let steps: [(&str, Option<u32>); 3] =
                [("notify", r.notify_after_hours), ("lock", r.lock_after_hours), ("wipe", r.wipe_after_hours)];
            for (step, after) in steps {
                let Some(after) = after else { continue };
                let at = hours(after);
                if step != "notify" && elapsed >= at - lead && self.fire(&format!("{name}.{step}.warn")) {
                    let kind = if step == "lock" { NotifyKind::OfflineLockSoon } else { NotifyKind::OfflineWipeSoon };
                    steps_out.actions.push(ActionKind::Notify { kind });
                }
                if elapsed >= at && self.fire(&format!("{name}.{step}")) {
                    match step {
                        "notify" => {
                            let kind = match rule {
                                OfflineRule::CheckIn => NotifyKind::NoCheckIn,
                                _ => NotifyKind::NoUnlock,
                            };
                            steps_out.actions.push(ActionKind::Notify { kind });
                        }
                        "lock" => {
                            steps_out.actions.push(ActionKind::RequireSecureLock);
                            steps_out.actions.push(ActionKind::LockNow);
                        }
                        _ => {
                            steps_out.wipe = Some(rule);
                            return steps_out;
                        }
                    }
                }
            }
        }
        steps_out
    }

    fn fire(&mut self, step: &str) -> bool {
        self.fired.insert(step.to_string())
    }
}
