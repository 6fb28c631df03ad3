//! The rules of DESIGN.md, grouped by what they are about: calls, texts, the device's posture,
//! working hours, retention (and sharing the phone). Each takes a [`Desk`] — the parts of the
//! agent's state a rule may read or change — and adds to an [`Outcome`](crate::event::Outcome).
//! The agent dispatches each event to one of them and commits afterwards.

pub(crate) mod calls;
pub(crate) mod hours;
pub(crate) mod posture;
pub(crate) mod retention;
pub(crate) mod sms;

use crate::actions::{ActionKind, Outbox};
use crate::audit::{AuditKind, AuditLog, Tally};
use crate::event::{Outcome, PlatformCaps};
use crate::numbers::Region;
use crate::policy::Policy;
use crate::registry::Registry;
use crate::state::Posture;
use crate::texts::HeldTexts;
use chrono::{DateTime, FixedOffset, Utc};

/// What a rule works with: the time, the policy and the parts of the state it may change.
pub(crate) struct Desk<'a> {
    /// The time of the event.
    pub(crate) now: DateTime<Utc>,
    /// The phone's local offset (working hours and safe windows are local).
    pub(crate) offset: FixedOffset,
    pub(crate) region: Region,
    pub(crate) caps: PlatformCaps,
    pub(crate) policy: &'a Policy,
    pub(crate) registry: &'a mut Registry,
    pub(crate) texts: &'a mut HeldTexts,
    pub(crate) posture: &'a mut Posture,
    pub(crate) outbox: &'a mut Outbox,
    pub(crate) audit: &'a mut AuditLog,
    pub(crate) tally: &'a mut Tally,
    pub(crate) last_off_duty_reminder: &'a mut Option<DateTime<Utc>>,
}

impl Desk<'_> {
    /// Issues an action due now.
    pub(crate) fn act(&mut self, out: &mut Outcome, kind: ActionKind) {
        out.push(self.outbox, kind, self.now, self.now);
    }

    /// Counts an event for the audit log: survivor traffic in the day's count, anything else
    /// folded into the next commit.
    pub(crate) fn count(&mut self, kind: AuditKind) {
        if kind.per_day() {
            self.audit.append(self.now, kind, 1, vec![], "");
        } else {
            *self.tally.entry(kind).or_default() += 1;
        }
    }

    /// Appends an audit record now.
    pub(crate) fn record(&mut self, kind: AuditKind, count: u64) {
        self.audit.append(self.now, kind, count, vec![], "");
    }
}
