//! The device's posture: the shortest lock timeout and a secure lock (rule 1), and the periodic
//! check that caller-ID blocking still works (rule 2). What the app reports is kept; what falls
//! short becomes findings and the actions that restore it.

use super::Desk;
use crate::actions::{ActionKind, NotifyKind, Outbox};
use crate::audit::AuditKind;
use crate::event::{Finding, Outcome, RuleGap};
use crate::policy::Policy;
use crate::state::Posture;
use chrono::{DateTime, Duration, Utc};

/// The actions that enforce a newly installed policy's lock rules.
pub(crate) fn enforce_policy(d: &mut Desk<'_>, out: &mut Outcome) {
    let p = d.policy;
    d.act(out, ActionKind::SetMaxTimeToLock { secs: p.auto_lock.max_timeout_secs });
    if p.auto_lock.require_secure_lock {
        d.act(out, ActionKind::RequireSecureLock);
    }
    if let Some(count) = p.offline.max_failed_unlocks {
        d.act(out, ActionKind::SetMaxFailedUnlocks { count });
    }
}

/// The app reports what it observed about the device.
pub(crate) fn report(
    d: &mut Desk<'_>,
    out: &mut Outcome,
    lock_timeout_secs: Option<u32>,
    secure_lock: Option<bool>,
    caller_id_hidden: Option<bool>,
) {
    if lock_timeout_secs.is_some() {
        d.posture.lock_timeout_secs = lock_timeout_secs;
    }
    if secure_lock.is_some() {
        d.posture.secure_lock = secure_lock;
    }
    if let Some(h) = caller_id_hidden {
        d.posture.caller_id_last_check = Some(d.now);
        d.posture.caller_id_last_hidden = Some(h);
    }
    out.findings = findings(d.policy, d.posture);
    for f in out.findings.clone() {
        match f {
            Finding::LockTimeoutTooLong { max_secs, .. } => {
                d.act(out, ActionKind::SetMaxTimeToLock { secs: max_secs });
                d.act(out, ActionKind::Notify { kind: NotifyKind::LockTimeoutTooLong });
            }
            Finding::SecureLockMissing => {
                d.act(out, ActionKind::RequireSecureLock);
                d.act(out, ActionKind::Notify { kind: NotifyKind::SecureLockMissing });
            }
            Finding::CallerIdNotHidden if caller_id_hidden == Some(false) => {
                d.act(out, ActionKind::Notify { kind: NotifyKind::CallerIdBlockingFailed });
            }
            _ => {}
        }
    }
    if !out.findings.is_empty() {
        d.record(AuditKind::PostureNonCompliant, out.findings.len() as u64);
    }
}

/// The app reports the rules it cannot enforce on this phone: the set replaces the last one.
/// Answers with the findings they make under the installed policy.
pub(crate) fn report_gaps(d: &mut Desk<'_>, out: &mut Outcome, mut gaps: Vec<RuleGap>) {
    gaps.sort();
    gaps.dedup();
    d.posture.gaps = gaps;
    out.findings = gap_findings(d.policy, d.posture);
}

/// The reported gaps the policy cares about, as findings: the SMS gap only matters when texts
/// to survivors are blocked.
fn gap_findings(p: &Policy, posture: &Posture) -> Vec<Finding> {
    posture
        .gaps
        .iter()
        .filter(|g| match g {
            RuleGap::SmsFromOtherAppsUnchecked => p.sms.block_to_survivors,
            RuleGap::NoHelplineCallRoute => true,
        })
        .map(|&gap| Finding::RuleNotEnforced { gap })
        .collect()
}

/// On a tick: schedule a caller-ID check when the last one is older than the policy allows.
pub(crate) fn schedule_caller_id_check(d: &mut Desk<'_>, out: &mut Outcome) {
    let now = d.now;
    let check_due = match d.posture.caller_id_last_check {
        None => true,
        Some(t) => now - t >= Duration::days(i64::from(d.policy.caller_id.recheck_days)),
    };
    // A scheduled check waits a day for its result before it is scheduled again.
    let recently_scheduled = d.posture.caller_id_check_scheduled_at.is_some_and(|t| now - t < Duration::days(1));
    if check_due && !recently_scheduled && !d.outbox.has(|k| matches!(k, ActionKind::ScheduleCallerIdCheck { .. })) {
        d.posture.caller_id_check_scheduled_at = Some(now);
        d.act(out, ActionKind::ScheduleCallerIdCheck { at: now });
    }
}

/// How the last reported posture falls short of the policy.
pub(crate) fn findings(p: &Policy, posture: &Posture) -> Vec<Finding> {
    let mut f = Vec::new();
    if let Some(t) = posture.lock_timeout_secs {
        if t == 0 || t > p.auto_lock.max_timeout_secs {
            f.push(Finding::LockTimeoutTooLong { observed_secs: t, max_secs: p.auto_lock.max_timeout_secs });
        }
    }
    if p.auto_lock.require_secure_lock && posture.secure_lock == Some(false) {
        f.push(Finding::SecureLockMissing);
    }
    if posture.caller_id_last_hidden == Some(false) {
        f.push(Finding::CallerIdNotHidden);
    }
    f
}

/// The compliance findings of posture and actions: what the report to IT lists first.
pub(crate) fn compliance_findings(p: &Policy, posture: &Posture, outbox: &Outbox, now: DateTime<Utc>) -> Vec<Finding> {
    let mut findings = findings(p, posture);
    let overdue = match posture.caller_id_last_check {
        None => true,
        Some(t) => now - t > Duration::days(i64::from(p.caller_id.recheck_days)),
    };
    if overdue {
        findings.push(Finding::CallerIdCheckOverdue);
    }
    for a in outbox.all().filter(|a| a.attempts > 0) {
        findings.push(Finding::ActionFailing { id: a.id, kind: a.kind.name().into(), attempts: a.attempts });
    }
    if outbox.abandoned() > 0 {
        findings.push(Finding::ActionsAbandoned { count: outbox.abandoned() });
    }
    for (kind, count) in outbox.unsupported() {
        findings.push(Finding::ActionUnsupported { kind: kind.clone(), count: *count });
    }
    findings.extend(gap_findings(p, posture));
    findings
}
