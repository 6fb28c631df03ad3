//! Offline safety: rules the agent enforces on its own for a phone that no command can reach.
//! Time since the last check-in with the organisation, time since the last successful unlock,
//! and failed unlock attempts each lead, step by step, to a notification, a lock and (if the
//! policy says so) a wipe — with a warning ahead of every step. The timers run on the latest
//! time the agent has seen, advanced by the platform's monotonic clock, so setting the wall
//! clock back never delays a step; a clock jump is itself recorded.

use crate::actions::{ActionKind, NotifyKind, WipeScope};
use crate::audit::AuditKind;
use crate::engine::{Agent, AgentError, Outcome};
use crate::policy::{FreshnessRule, Mode};
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
    fn receipt_reason(self) -> ReceiptReason {
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

impl OfflineState {
    pub(crate) fn clock_jumps(&self) -> u64 {
        self.clock_jumps
    }
}

fn hours(h: u32) -> Duration {
    Duration::hours(i64::from(h))
}

impl Agent {
    /// The time the offline timers run on: never earlier than any time seen before, and
    /// advanced by the platform's monotonic clock when the wall clock was set back.
    pub(crate) fn timer_now(&mut self, wall: DateTime<Utc>) -> DateTime<Utc> {
        let mut t = wall.max(self.state.last_seen);
        if let Some((boot_id, mono_secs)) = self.clock().monotonic() {
            if let Some(a) = self.state.offline.anchor.filter(|a| a.boot_id == boot_id && mono_secs >= a.mono_secs) {
                let expected = a.at + Duration::seconds(i64::try_from(mono_secs - a.mono_secs).unwrap_or(i64::MAX / 2));
                if (wall - expected).num_seconds().abs() > CLOCK_JUMP_SECS {
                    self.state.offline.clock_jumps += 1;
                    self.state.audit.append(t, AuditKind::ClockJump, 1, vec![], "");
                }
                t = t.max(expected);
            }
            self.state.offline.anchor = Some(MonoAnchor { boot_id, mono_secs, at: t });
        }
        self.state.last_seen = self.state.last_seen.max(t);
        t
    }

    /// Records a successful contact with the organisation; resets the check-in timer.
    pub(crate) fn record_check_in(&mut self, now: DateTime<Utc>) {
        let t = now.max(self.state.last_seen);
        self.state.offline.last_check_in = Some(t);
        self.state.offline.fired.retain(|f| !f.starts_with("check_in"));
    }

    /// A successful unlock: resets the unlock timer and the failed-attempt count.
    pub(crate) fn record_unlock(&mut self, now: DateTime<Utc>) {
        let t = now.max(self.state.last_seen);
        self.state.offline.last_unlock = Some(t);
        self.state.offline.failed_unlocks = 0;
        self.state.offline.fired.retain(|f| !f.starts_with("unlock") && !f.starts_with("failed"));
    }

    /// A failed unlock attempt; may decide a wipe.
    pub(crate) fn record_failed_unlock(&mut self, out: &mut Outcome, now: DateTime<Utc>) -> Result<(), AgentError> {
        self.state.offline.failed_unlocks = self.state.offline.failed_unlocks.saturating_add(1);
        if let Some(max) = self.state.policy.offline.max_failed_unlocks {
            if self.state.offline.failed_unlocks >= max {
                return self.offline_wipe(out, OfflineRule::FailedUnlocks, now);
            }
        }
        Ok(())
    }

    /// Runs the offline timers; called on every tick.
    pub(crate) fn offline_tick(&mut self, out: &mut Outcome, wall: DateTime<Utc>) -> Result<(), AgentError> {
        // Timers that never started run from the last time the agent committed (its setup).
        let start = self.state.last_seen;
        let now = self.timer_now(wall);
        let last_check_in = *self.state.offline.last_check_in.get_or_insert(start);
        let last_unlock = *self.state.offline.last_unlock.get_or_insert(start);
        let rules = [
            (OfflineRule::CheckIn, "check_in", self.state.policy.offline.check_in.clone(), last_check_in),
            (OfflineRule::Unlock, "unlock", self.state.policy.offline.unlock.clone(), last_unlock),
        ];
        for (rule, name, r, since) in rules {
            let elapsed = now - since;
            let lead = hours(r.warn_lead_hours);
            let steps: [(&str, Option<u32>); 3] =
                [("notify", r.notify_after_hours), ("lock", r.lock_after_hours), ("wipe", r.wipe_after_hours)];
            for (step, after) in steps {
                let Some(after) = after else { continue };
                let at = hours(after);
                if step != "notify" && elapsed >= at - lead && self.fire(&format!("{name}.{step}.warn")) {
                    let kind = if step == "lock" { NotifyKind::OfflineLockSoon } else { NotifyKind::OfflineWipeSoon };
                    self.push_action(out, ActionKind::Notify { kind }, wall, wall);
                }
                if elapsed >= at && self.fire(&format!("{name}.{step}")) {
                    match step {
                        "notify" => {
                            let kind = match rule {
                                OfflineRule::CheckIn => NotifyKind::NoCheckIn,
                                _ => NotifyKind::NoUnlock,
                            };
                            self.push_action(out, ActionKind::Notify { kind }, wall, wall);
                        }
                        "lock" => {
                            self.push_action(out, ActionKind::RequireSecureLock, wall, wall);
                            self.push_action(out, ActionKind::LockNow, wall, wall);
                        }
                        _ => return self.offline_wipe(out, rule, wall),
                    }
                }
            }
        }
        Ok(())
    }

    fn fire(&mut self, step: &str) -> bool {
        self.state.offline.fired.insert(step.to_string())
    }

    /// A wipe the agent decides on its own: the same intent, erase and signed receipt as a
    /// commanded wipe, naming the rule that fired.
    fn offline_wipe(&mut self, out: &mut Outcome, rule: OfflineRule, now: DateTime<Utc>) -> Result<(), AgentError> {
        let scope = match self.state.policy.mode {
            Mode::Work if self.state.policy.full_wipe_allowed() && self.state.caps.full_wipe => WipeScope::Full,
            _ => WipeScope::Selective,
        };
        self.push_action(out, ActionKind::Wipe { scope }, now, now);
        self.state.audit.append(now, AuditKind::WipeStarted, 1, vec![], &format!("{rule:?}"));
        self.begin_self_wipe(scope, rule.receipt_reason())
    }
}

/// Checks a freshness rule's steps are in order.
pub(crate) fn validate_rule(prefix: &str, r: &FreshnessRule) -> Result<(), crate::policy::PolicyError> {
    let steps = [r.notify_after_hours, r.lock_after_hours, r.wipe_after_hours];
    let mut last = 0;
    for (name, v) in ["notify_after_hours", "lock_after_hours", "wipe_after_hours"].iter().zip(steps) {
        if let Some(v) = v {
            if v == 0 || v > 24 * 365 || v < last {
                return Err(crate::policy::PolicyError::OutOfRange {
                    field: format!("{prefix}.{name}"),
                    reason: "1–8760 hours, and each step after the one before".into(),
                });
            }
            if v <= r.warn_lead_hours && name != &"notify_after_hours" {
                return Err(crate::policy::PolicyError::OutOfRange {
                    field: format!("{prefix}.warn_lead_hours"),
                    reason: "the warning must come after the timer starts".into(),
                });
            }
            last = v;
        }
    }
    Ok(())
}
