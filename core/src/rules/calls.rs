//! Calls: caller ID hidden on helpline and survivor calls (rule 2), the survivor's safe times
//! (rule 7), no trace after a survivor call (rule 4), and screening off duty (rule 6).

use super::{hours, Desk};
use crate::actions::{ActionKind, NotifyKind};
use crate::audit::AuditKind;
use crate::error::AgentError;
use crate::event::{BlockReason, CallGuidance, Line, Outcome, Verdict, WarnReason};
use crate::numbers::{self, Classified, E164};
use crate::policy::{AfterHours, CallerIdMethod, Mode};
use crate::registry::{DroppedCall, HiddenNumbers};
use chrono::{DateTime, Duration, Utc};

/// The advocate is about to place a call.
pub(crate) fn outgoing(
    d: &mut Desk<'_>,
    out: &mut Outcome,
    number: &str,
    line: Line,
    confirmed: bool,
) -> Result<(), AgentError> {
    let Classified::Number(n) = numbers::classify_for_lookup(number, d.region)? else {
        return Ok(());
    };
    let entry = d.registry.get(&n).cloned();
    let hide = match line {
        Line::Helpline => true,
        Line::Direct => entry.is_some() && (d.policy.mode == Mode::Byod || d.policy.caller_id.hide_on_direct_calls),
    };
    let mut hidden_numbers = HiddenNumbers::Accepted;
    if let Some(e) = &entry {
        out.guidance = Some(CallGuidance::for_plan(&e.plan, d.policy, d.now, d.offset));
        if hide {
            hidden_numbers = e.plan.hidden_numbers;
        }
        if !confirmed {
            // One warning names everything the advocate confirms: a confirmation covers both.
            let mut reasons = Vec::new();
            let mut next_safe_at = None;
            if let Some(next) = e.plan.next_safe_time(d.now, d.offset) {
                let local = next.with_timezone(&d.offset);
                next_safe_at = Some(next);
                reasons.push((
                    WarnReason::OutsideSafeWindow,
                    format!(
                        "This survivor asked not to be called now. Next safe time: {}.",
                        local.format("%a %d %b %H:%M")
                    ),
                ));
            }
            if hidden_numbers == HiddenNumbers::ShowNumberAfterConfirm {
                reasons.push((
                    WarnReason::NumberWillShow,
                    "This survivor's phone rejects hidden numbers, and they agreed to see yours: this call \
                     will show your number."
                        .into(),
                ));
            }
            if let Some((reason, _)) = reasons.first() {
                let message = reasons.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(" ");
                out.verdict = Verdict::Warn { reason: *reason, message, next_safe_at };
                d.count(AuditKind::OutgoingCallWarned);
                return Ok(());
            }
        }
    }
    match hidden_numbers {
        // Confirmed: dialled as typed, so the number shows, as the survivor agreed.
        HiddenNumbers::ShowNumberAfterConfirm => return Ok(()),
        // The organisation's VoIP line presents its alternate caller name and number.
        HiddenNumbers::AlternateCallerId => {
            out.verdict = Verdict::Dial { dial_string: n.expose().to_string(), via_voip: true };
            return Ok(());
        }
        HiddenNumbers::Accepted => {}
    }
    if hide {
        if d.policy.caller_id.method == CallerIdMethod::Prefix && !d.caps.prefix_dialing {
            out.verdict = Verdict::Block {
                reason: BlockReason::CallerIdCannotBeHidden,
                message: "This phone cannot hide caller ID with a dialling prefix. Call through the \
                          organisation's VoIP line, or ask IT for a policy that uses it."
                    .into(),
            };
            return Ok(());
        }
        let (dial_string, via_voip) = dial_string(d, &n);
        out.verdict = Verdict::Dial { dial_string, via_voip };
    }
    Ok(())
}

/// What to dial so that caller ID is hidden as the policy says.
fn dial_string(d: &Desk<'_>, n: &E164) -> (String, bool) {
    let cid = &d.policy.caller_id;
    match cid.method {
        CallerIdMethod::Carrier => (n.expose().to_string(), false),
        CallerIdMethod::Voip => (n.expose().to_string(), true),
        CallerIdMethod::Prefix => {
            let prefix = cid.prefix.clone().unwrap_or_else(|| d.region.caller_id_prefix().to_string());
            let home = d.region.calling_code();
            let body = if home == Some(1) && n.calling_code() == 1 {
                n.national().to_string()
            } else if home == Some(1) {
                // North American phones dial abroad with 011; `+` after *67 is not reliable there.
                format!("011{}{}", n.calling_code(), n.national())
            } else {
                n.expose().to_string()
            };
            (format!("{prefix}{body}"), false)
        }
    }
}

/// A call ended: its traces go (at once, or after the policy's delay), and a dropped call
/// follows the survivor's plan.
pub(crate) fn ended(
    d: &mut Desk<'_>,
    out: &mut Outcome,
    number: &str,
    line: Line,
    started_at: DateTime<Utc>,
    dropped: bool,
) -> Result<(), AgentError> {
    let Classified::Number(n) = numbers::classify_for_lookup(number, d.region)? else {
        return Ok(());
    };
    let entry = d.registry.get(&n).cloned();
    if entry.is_none() && line != Line::Helpline {
        return Ok(());
    }
    let now = d.now;
    let ac = &d.policy.after_call;
    let due = now + Duration::seconds(i64::from(ac.delay_secs));
    if ac.delete_call_log {
        let since = started_at.min(now) - Duration::minutes(1);
        out.push(d.outbox, ActionKind::DeleteCallLog { number: n.clone(), since }, now, due);
    }
    if ac.delete_contact {
        out.push(d.outbox, ActionKind::DeleteContact { number: n }, now, due);
    }
    let Some(e) = entry else {
        // A helpline caller with no plan: the hotline's practice, never a call back.
        out.guidance = Some(CallGuidance::hotline_caller());
        if dropped {
            d.act(out, ActionKind::Notify { kind: NotifyKind::DroppedCallTheyCallBack });
        }
        return Ok(());
    };
    out.guidance = Some(CallGuidance::for_plan(&e.plan, d.policy, d.now, d.offset));
    if dropped {
        let kind = match e.plan.dropped_call {
            DroppedCall::WeCallBack => NotifyKind::DroppedCallWeCallBack,
            DroppedCall::TheyCallBack => NotifyKind::DroppedCallTheyCallBack,
        };
        d.act(out, ActionKind::Notify { kind });
    }
    Ok(())
}

/// A call is ringing. Off duty on a work phone whose policy sends survivor calls to voicemail,
/// **every** call goes to voicemail, registered or not: the answer a caller gets must not tell
/// someone spoofing a survivor's number whether that survivor is a client.
pub(crate) fn incoming(d: &mut Desk<'_>, out: &mut Outcome, number: Option<&str>) {
    let p = d.policy;
    let off_duty = p.mode == Mode::Work && p.off_duty.enabled && !hours::in_working_hours(p, d.offset, d.now);
    if off_duty && p.off_duty.survivor_calls == AfterHours::Voicemail {
        d.count(AuditKind::IncomingCallScreened);
        out.verdict = Verdict::SendToVoicemail {
            message: "Outside working hours: calls go to voicemail, as survivors are told.".into(),
        };
    }
    let Some(number) = number else { return };
    let n = match numbers::classify_for_lookup(number, d.region) {
        Ok(Classified::Number(n)) => n,
        // A caller's number we cannot read is not a survivor we know.
        Ok(Classified::Special) | Err(_) => return,
    };
    let Some(e) = d.registry.get(&n).cloned() else { return };
    // Guidance is for the advocate's screen, never for the caller.
    out.guidance = Some(CallGuidance::for_plan(&e.plan, d.policy, d.now, d.offset));
    if off_duty && p.off_duty.survivor_calls == AfterHours::Ring {
        // The call rings like any other; only the advocate is told who it is.
        d.count(AuditKind::IncomingCallScreened);
        d.act(out, ActionKind::Notify { kind: NotifyKind::OffDutySurvivorCall });
    }
}
