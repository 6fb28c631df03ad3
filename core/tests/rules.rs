//! Integration tests named for the rules of DESIGN.md and issue 2, through the public API only.

use chrono::{DateTime, Duration, Utc};
use quietline_core::audit::verify_chain;
use quietline_core::policy::{Day, LocalTime};
use quietline_core::store::{KEY_FILE, STATE_FILE};
use quietline_core::AuditKind;
use quietline_core::{
    AckOutcome, AckResult, Action, ActionKind, Agent, AgentConfig, AgentError, BlockReason, CallDirection, ContactPlan,
    DroppedCall, Event, FileKeyProtector, Finding, KeyProtector, KeyProtectorError, Line, NotifyKind, NumberError,
    Policy, PolicyError, RegistryError, RuleGap, SafeWindow, StoreError, Verdict, WarnReason,
};
mod common;
use common::env::{Env, T0};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SURVIVOR: &str = "+1 207-555-0100";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("rfc3339").with_timezone(&Utc)
}

const BYOD: &str = r#"{"schema":1,"mode":"byod"}"#;
const WORK: &str = r#"{"schema":1,"mode":"work"}"#;

fn call(number: &str, line: Line, confirmed: bool) -> Event {
    Event::OutgoingCall { number: number.into(), line, confirmed }
}

fn sms(number: &str) -> Event {
    Event::OutgoingSms { number: number.into() }
}

fn call_ended(number: &str, line: Line, started_at: DateTime<Utc>, dropped: bool) -> Event {
    Event::CallEnded { number: number.into(), line, direction: CallDirection::Outgoing, started_at, dropped }
}

fn posture(lock: Option<u32>, secure: Option<bool>, hidden: Option<bool>) -> Event {
    Event::Posture { lock_timeout_secs: lock, secure_lock: secure, caller_id_hidden: hidden }
}

fn dial(s: &str) -> Verdict {
    Verdict::Dial { dial_string: s.into(), via_voip: false }
}

fn kinds(actions: &[Action]) -> Vec<ActionKind> {
    actions.iter().map(|a| a.kind.clone()).collect()
}

fn notifies(actions: &[Action], kind: NotifyKind) -> bool {
    actions.iter().any(|a| a.kind == ActionKind::Notify { kind })
}

fn deletes_number(a: &Action) -> Option<&str> {
    match &a.kind {
        ActionKind::DeleteCallLog { number, .. } | ActionKind::DeleteContact { number } => Some(number.expose()),
        _ => None,
    }
}

fn plan(dropped_call: DroppedCall) -> ContactPlan {
    ContactPlan { dropped_call, ..ContactPlan::default() }
}

#[test]
fn helpline_call_on_us_byod_dials_star67() {
    let env = Env::new("star67");
    let mut agent = env.create("US", BYOD);
    for number in ["(207) 555-0100", "+1 207-555-0100", "2075550100"] {
        let out = agent.handle(call(number, Line::Helpline, false)).expect("handle");
        assert_eq!(out.verdict, dial("*672075550100"), "{number}");
    }
    // An international number from a North American phone goes through 011 after the prefix.
    let out = agent.handle(call("+44 7400 123456", Line::Helpline, false)).expect("handle");
    assert_eq!(out.verdict, dial("*67011447400123456"));
}

#[test]
fn helpline_call_on_uk_phone_dials_hash31() {
    let env = Env::new("hash31");
    let mut agent = env.create("GB", BYOD);
    let out = agent.handle(call("07400 123456", Line::Helpline, false)).expect("handle");
    assert_eq!(out.verdict, dial("#31#+447400123456"));
}

#[test]
fn direct_call_to_non_survivor_shows_number() {
    let env = Env::new("direct");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"work","caller_id":{"hide_on_direct_calls":false}}"#);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let out = agent.handle(call("(207) 555-0199", Line::Direct, false)).expect("handle");
    assert_eq!(out.verdict, Verdict::Allow);
    assert_eq!(out.guidance, None);
    // The policy lets a work phone show its number to a client on a direct call.
    let out = agent.handle(call("(207) 555-0100", Line::Direct, false)).expect("handle");
    assert_eq!(out.verdict, Verdict::Allow);
    assert!(out.guidance.is_some(), "a survivor call carries the survivor's plan");

    // On a personal phone a direct call to a survivor is always hidden.
    let env2 = Env::new("direct-byod");
    let mut byod = env2.create("US", BYOD);
    byod.register_survivor(SURVIVOR, None).expect("register");
    assert_eq!(byod.handle(call("2075550100", Line::Direct, false)).expect("handle").verdict, dial("*672075550100"));
    assert_eq!(byod.handle(call("2075550199", Line::Direct, false)).expect("handle").verdict, Verdict::Allow);
}

#[test]
fn sms_to_survivor_blocked_on_byod() {
    let env = Env::new("sms-byod");
    let mut agent = env.create("US", BYOD);
    agent.register_survivor(SURVIVOR, None).expect("register");
    for number in ["(207) 555-0100", "2075550100", "+12075550100"] {
        let out = agent.handle(sms(number)).expect("handle");
        match out.verdict {
            Verdict::Block { reason, message } => {
                assert_eq!(reason, BlockReason::SmsToSurvivor);
                assert!(!message.is_empty());
                assert!(!message.contains("555"), "the message must not name the number");
            }
            other => panic!("expected a block for {number}, got {other:?}"),
        }
    }
    assert_eq!(agent.handle(sms("(207) 555-0199")).expect("handle").verdict, Verdict::Allow);
    let blocked_count = |agent: &Agent| -> u64 {
        let records = agent.audit_export().expect("audit");
        records.iter().filter(|r| r.kind == quietline_core::AuditKind::SmsBlocked).map(|r| r.count).sum()
    };
    let before = blocked_count(&agent);
    // Blocked-SMS counts are survivor traffic: counted for the day, written once the day is over.
    env.clock.advance(Duration::days(1));
    agent.handle(Event::Tick).expect("tick");
    assert_eq!(blocked_count(&agent) - before, 3, "three blocked texts are counted");
}

#[test]
fn sms_to_survivor_allowed_on_work_when_policy_allows() {
    let env = Env::new("sms-work");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"work","sms":{"block_to_survivors":false}}"#);
    agent.register_survivor(SURVIVOR, None).expect("register");
    assert_eq!(agent.handle(sms("2075550100")).expect("handle").verdict, Verdict::Allow);

    // The default work policy blocks them.
    let env2 = Env::new("sms-work-default");
    let mut strict = env2.create("US", WORK);
    strict.register_survivor(SURVIVOR, None).expect("register");
    assert!(matches!(
        strict.handle(sms("2075550100")).expect("handle").verdict,
        Verdict::Block { reason: BlockReason::SmsToSurvivor, .. }
    ));
}

#[test]
fn sms_to_emergency_never_blocked() {
    let env = Env::new("sms-911");
    let mut agent = env.create("US", BYOD);
    agent.register_survivor(SURVIVOR, None).expect("register");
    for number in ["911", "112", "311", "+1 911"] {
        assert_eq!(agent.handle(sms(number)).expect(number).verdict, Verdict::Allow, "{number}");
        assert_eq!(agent.handle(call(number, Line::Direct, false)).expect(number).verdict, Verdict::Allow, "{number}");
    }
    let env2 = Env::new("sms-999");
    let mut uk = env2.create("GB", BYOD);
    for number in ["999", "112", "+44 999"] {
        assert_eq!(uk.handle(sms(number)).expect(number).verdict, Verdict::Allow, "{number}");
    }
}

#[test]
fn emergency_numbers_are_never_registered() {
    let env = Env::new("emergency-reg");
    let mut agent = env.create("US", BYOD);
    for number in ["911", "112", "999", "+1 911", "*611"] {
        assert_eq!(agent.register_survivor(number, None), Err(AgentError::Number(NumberError::Special)), "{number}");
    }
    assert_eq!(agent.survivor_count(), 0);
    let env2 = Env::new("emergency-reg-gb");
    let mut uk = env2.create("GB", BYOD);
    for number in ["999", "112", "+44 999"] {
        assert_eq!(uk.register_survivor(number, None), Err(AgentError::Number(NumberError::Special)), "{number}");
    }
    assert_eq!(uk.survivor_count(), 0);
}

#[test]
fn survivor_call_end_deletes_call_log_and_contact_immediately() {
    let env = Env::new("call-end");
    let mut agent = env.create("US", BYOD);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let started = t(T0) - Duration::minutes(12);
    let out = agent.handle(call_ended("(207) 555-0100", Line::Direct, started, false)).expect("handle");
    assert_eq!(out.verdict, Verdict::Allow);
    let now = t(T0);
    let log =
        out.actions.iter().find(|a| matches!(a.kind, ActionKind::DeleteCallLog { .. })).expect("a call-log deletion");
    match &log.kind {
        ActionKind::DeleteCallLog { number, since } => {
            assert_eq!(number.expose(), "+12075550100");
            assert!(*since <= started, "the deletion covers the whole call");
        }
        _ => unreachable!(),
    }
    let contact =
        out.actions.iter().find(|a| matches!(a.kind, ActionKind::DeleteContact { .. })).expect("a contact deletion");
    assert_eq!(deletes_number(contact), Some("+12075550100"));
    for a in [log, contact] {
        assert_eq!(a.due_at, now, "deletion is due at once");
    }
    let pending: Vec<_> = agent.pending_actions().iter().map(|a| a.id).collect();
    assert!(pending.contains(&log.id) && pending.contains(&contact.id));

    // A call with someone who is not a survivor, on a direct line, leaves no actions.
    let out = agent.handle(call_ended("(207) 555-0199", Line::Direct, started, false)).expect("handle");
    assert!(out.actions.is_empty(), "{:?}", kinds(&out.actions));
    // Every helpline call is cleaned, survivor or not.
    let out = agent.handle(call_ended("(207) 555-0199", Line::Helpline, started, false)).expect("handle");
    assert!(out.actions.iter().any(|a| deletes_number(a) == Some("+12075550199")));
}

#[test]
fn after_call_delay_defers_deletion() {
    let env = Env::new("delay");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"byod","after_call":{"delay_secs":600}}"#);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let out = agent.handle(call_ended("2075550100", Line::Direct, t(T0), false)).expect("handle");
    let ids: Vec<_> = out.actions.iter().filter(|a| deletes_number(a).is_some()).map(|a| a.id).collect();
    assert_eq!(ids.len(), 2);
    for a in &out.actions {
        assert_eq!(a.due_at, t(T0) + Duration::seconds(600));
    }
    let due = |agent: &Agent| agent.pending_actions().iter().filter(|a| ids.contains(&a.id)).count();
    assert_eq!(due(&agent), 0, "not handed out before the delay");
    assert_eq!(agent.all_pending_actions().iter().filter(|a| ids.contains(&a.id)).count(), 2);
    env.clock.advance(Duration::seconds(599));
    assert_eq!(due(&agent), 0);
    env.clock.advance(Duration::seconds(1));
    assert_eq!(due(&agent), 2);
}

#[test]
fn dropped_call_follows_plan() {
    for (name, protocol, expected, other) in [
        ("we", DroppedCall::WeCallBack, NotifyKind::DroppedCallWeCallBack, NotifyKind::DroppedCallTheyCallBack),
        ("they", DroppedCall::TheyCallBack, NotifyKind::DroppedCallTheyCallBack, NotifyKind::DroppedCallWeCallBack),
    ] {
        let env = Env::new(&format!("dropped-{name}"));
        let mut agent = env.create("US", BYOD);
        agent.register_survivor(SURVIVOR, Some(plan(protocol))).expect("register");
        let out = agent.handle(call_ended("2075550100", Line::Direct, t(T0), true)).expect("handle");
        assert!(notifies(&out.actions, expected), "{name}: {:?}", kinds(&out.actions));
        assert!(!notifies(&out.actions, other), "{name}");
        assert_eq!(out.guidance.map(|g| g.dropped_call), Some(protocol));
        // Deletion still happens on a dropped call.
        assert_eq!(out.actions.iter().filter(|a| deletes_number(a).is_some()).count(), 2);
        // A call that was hung up normally raises no dropped-call notice.
        let env2 = Env::new(&format!("hungup-{name}"));
        let mut agent2 = env2.create("US", BYOD);
        agent2.register_survivor(SURVIVOR, Some(plan(protocol))).expect("register");
        let out = agent2.handle(call_ended("2075550100", Line::Direct, t(T0), false)).expect("handle");
        assert!(!notifies(&out.actions, expected) && !notifies(&out.actions, other));
    }
}

#[test]
fn call_outside_safe_window_warns_with_next_safe_time() {
    // Monday 10:00 local at UTC-5; the survivor is safe on Tuesdays 18:00–20:00.
    let env = Env::at("safe-window", T0, -5 * 3600);
    let mut agent = env.create("US", BYOD);
    let plan = ContactPlan {
        safe_windows: vec![SafeWindow {
            day: Day::Tue,
            start: LocalTime::parse("18:00").expect("time"),
            end: LocalTime::parse("20:00").expect("time"),
        }],
        ..ContactPlan::default()
    };
    agent.register_survivor(SURVIVOR, Some(plan)).expect("register");
    let out = agent.handle(call("2075550100", Line::Helpline, false)).expect("handle");
    match out.verdict {
        Verdict::Warn { reason, message, next_safe_at } => {
            assert_eq!(reason, WarnReason::OutsideSafeWindow);
            assert_eq!(next_safe_at, Some(t("2026-11-24T23:00:00Z")));
            assert!(message.contains("Tue 24 Nov 18:00"), "{message}");
            assert!(!message.contains("555"));
        }
        other => panic!("expected a warning, got {other:?}"),
    }
    // Confirmed, the call goes ahead with caller ID hidden.
    let out = agent.handle(call("2075550100", Line::Helpline, true)).expect("handle");
    assert_eq!(out.verdict, dial("*672075550100"));
    // Inside the window, no warning at all.
    env.clock.set(t("2026-11-24T23:30:00Z"));
    let out = agent.handle(call("2075550100", Line::Helpline, false)).expect("handle");
    assert_eq!(out.verdict, dial("*672075550100"));
}

const OFF_DUTY_WORK: &str = r#"{"schema":1,"mode":"work","off_duty":{"enabled":true}}"#;

#[test]
fn incoming_survivor_call_after_hours_on_work_phone_goes_to_voicemail() {
    // Monday 20:00 local: after the default 09:00–17:00 working hours.
    let env = Env::at("voicemail", "2026-11-23T20:00:00Z", 0);
    let mut agent = env.create("US", OFF_DUTY_WORK);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let out = agent.handle(Event::IncomingCall { number: Some("2075550100".into()) }).expect("handle");
    assert!(matches!(out.verdict, Verdict::SendToVoicemail { .. }), "{:?}", out.verdict);
    // Anyone else gets the same answer, so a spoofed caller ID learns nothing (issue 11 item 9).
    let other = agent.handle(Event::IncomingCall { number: Some("2075550199".into()) }).expect("handle");
    assert_eq!(other.verdict, out.verdict);
    let hidden = agent.handle(Event::IncomingCall { number: None }).expect("handle");
    assert_eq!(hidden.verdict, out.verdict);
    // During working hours the survivor's call rings.
    env.clock.set(t("2026-11-24T10:00:00Z"));
    let out = agent.handle(Event::IncomingCall { number: Some("2075550100".into()) }).expect("handle");
    assert_eq!(out.verdict, Verdict::Allow);
    // Saturday is not a working day.
    env.clock.set(t("2026-11-28T10:00:00Z"));
    let out = agent.handle(Event::IncomingCall { number: Some("2075550100".into()) }).expect("handle");
    assert!(matches!(out.verdict, Verdict::SendToVoicemail { .. }));
}

#[test]
fn incoming_survivor_call_after_hours_ring_variant_notifies() {
    let env = Env::at("ring", "2026-11-23T20:00:00Z", 0);
    let mut agent =
        env.create("US", r#"{"schema":1,"mode":"work","off_duty":{"enabled":true,"survivor_calls":"ring"}}"#);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let out = agent.handle(Event::IncomingCall { number: Some("(207) 555-0100".into()) }).expect("handle");
    assert_eq!(out.verdict, Verdict::Allow);
    assert!(notifies(&out.actions, NotifyKind::OffDutySurvivorCall), "{:?}", kinds(&out.actions));
}

#[test]
fn byod_ignores_off_duty() {
    let env = Env::at("byod-off-duty", "2026-11-23T20:00:00Z", 0);
    let mut agent = env.create("US", r#"{"schema":1,"mode":"byod","off_duty":{"enabled":true}}"#);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let out = agent.handle(Event::IncomingCall { number: Some("2075550100".into()) }).expect("handle");
    assert_eq!(out.verdict, Verdict::Allow);
    assert!(!notifies(&out.actions, NotifyKind::OffDutySurvivorCall));
    let out = agent.handle(Event::Tick).expect("tick");
    assert!(!notifies(&out.actions, NotifyKind::OffDutyPowerOff));

    // The same hour on a work phone does remind the advocate, once per evening.
    let env2 = Env::at("work-off-duty", "2026-11-23T20:00:00Z", 0);
    let mut work = env2.create("US", OFF_DUTY_WORK);
    assert!(notifies(&work.handle(Event::Tick).expect("tick").actions, NotifyKind::OffDutyPowerOff));
    let again = work.handle(Event::Tick).expect("tick");
    assert!(!notifies(&again.actions, NotifyKind::OffDutyPowerOff), "no second reminder the same evening");
}

#[test]
fn posture_with_five_minute_timeout_is_non_compliant_and_sets_lock() {
    let env = Env::new("posture-lock");
    let mut agent = env.create("US", BYOD);
    let out = agent.handle(posture(Some(300), Some(true), None)).expect("handle");
    assert_eq!(out.findings, vec![Finding::LockTimeoutTooLong { observed_secs: 300, max_secs: 30 }]);
    assert!(out.actions.iter().any(|a| a.kind == ActionKind::SetMaxTimeToLock { secs: 30 }));
    assert!(notifies(&out.actions, NotifyKind::LockTimeoutTooLong));
    assert!(agent.compliance().findings.contains(&Finding::LockTimeoutTooLong { observed_secs: 300, max_secs: 30 }));
    // "Never locks" is as bad.
    let out = agent.handle(posture(Some(0), None, None)).expect("handle");
    assert_eq!(out.findings, vec![Finding::LockTimeoutTooLong { observed_secs: 0, max_secs: 30 }]);
    // A compliant timeout clears the finding.
    let out = agent.handle(posture(Some(30), None, None)).expect("handle");
    assert!(out.findings.is_empty(), "{:?}", out.findings);
    assert!(!agent.compliance().findings.iter().any(|f| matches!(f, Finding::LockTimeoutTooLong { .. })));
}

#[test]
fn missing_secure_lock_requires_it() {
    let env = Env::new("secure-lock");
    let mut agent = env.create("US", BYOD);
    let out = agent.handle(posture(Some(15), Some(false), None)).expect("handle");
    assert_eq!(out.findings, vec![Finding::SecureLockMissing]);
    assert!(out.actions.iter().any(|a| a.kind == ActionKind::RequireSecureLock));
    assert!(notifies(&out.actions, NotifyKind::SecureLockMissing));
    // A new agent asks for the policy's lock settings at once.
    let env2 = Env::new("secure-lock-initial");
    let fresh = env2.create("US", BYOD);
    let initial = kinds(&fresh.pending_actions());
    assert!(initial.contains(&ActionKind::RequireSecureLock));
    assert!(initial.contains(&ActionKind::SetMaxTimeToLock { secs: 30 }));
}

#[test]
fn caller_id_check_failure_notifies_and_is_scheduled_on_tick() {
    let env = Env::new("caller-id");
    let mut agent = env.create("US", BYOD);
    assert!(agent.compliance().findings.contains(&Finding::CallerIdCheckOverdue));
    let out = agent.handle(Event::Tick).expect("tick");
    let check = out
        .actions
        .iter()
        .find(|a| matches!(a.kind, ActionKind::ScheduleCallerIdCheck { .. }))
        .expect("a scheduled caller-ID check")
        .clone();
    // Not issued twice while pending.
    let out = agent.handle(Event::Tick).expect("tick");
    assert!(out
        .actions
        .iter()
        .all(|a| a.id == check.id || !matches!(a.kind, ActionKind::ScheduleCallerIdCheck { .. })));
    assert_eq!(agent.ack(check.id, AckResult::Done).expect("ack"), AckOutcome::Completed);

    let out = agent.handle(posture(None, None, Some(false))).expect("handle");
    assert!(out.findings.contains(&Finding::CallerIdNotHidden));
    assert!(notifies(&out.actions, NotifyKind::CallerIdBlockingFailed));
    assert!(agent.compliance().findings.contains(&Finding::CallerIdNotHidden));

    let out = agent.handle(posture(None, None, Some(true))).expect("handle");
    assert!(out.findings.is_empty(), "{:?}", out.findings);
    let report = agent.compliance();
    assert!(!report.findings.contains(&Finding::CallerIdNotHidden));
    assert!(!report.findings.contains(&Finding::CallerIdCheckOverdue));
    // Within the recheck interval no new check; after it, one is scheduled.
    env.clock.advance(Duration::days(6));
    let out = agent.handle(Event::Tick).expect("tick");
    assert!(!out.actions.iter().any(|a| matches!(a.kind, ActionKind::ScheduleCallerIdCheck { .. })));
    env.clock.advance(Duration::days(1));
    let out = agent.handle(Event::Tick).expect("tick");
    assert!(out.actions.iter().any(|a| matches!(a.kind, ActionKind::ScheduleCallerIdCheck { .. })));
}

#[test]
fn handoff_on_byod_purges() {
    let env = Env::new("handoff-byod");
    let mut agent = env.create("US", BYOD);
    agent.register_survivor(SURVIVOR, None).expect("register");
    agent.register_survivor("2075550101", None).expect("register");
    let out = agent.handle(Event::HandoffRequested).expect("handle");
    assert_eq!(out.verdict, Verdict::Allow);
    assert!(out.actions.iter().any(|a| a.kind == ActionKind::PurgeSurvivorData));
    assert_eq!(agent.survivor_count(), 0);
    assert!(!agent.is_survivor("2075550100").expect("lookup"));
    drop(agent);
    let agent = env.open().expect("reopen");
    assert_eq!(agent.survivor_count(), 0, "the purge was committed");
}

#[test]
fn handoff_on_work_is_refused() {
    let env = Env::new("handoff-work");
    let mut agent = env.create("US", WORK);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let out = agent.handle(Event::HandoffRequested).expect("handle");
    assert!(matches!(out.verdict, Verdict::Block { reason: BlockReason::WorkPhoneNeverShared, .. }));
    assert!(!out.actions.iter().any(|a| a.kind == ActionKind::PurgeSurvivorData));
    assert_eq!(agent.survivor_count(), 1);
}

#[test]
fn expired_survivor_is_purged_on_next_tick() {
    let env = Env::new("expiry");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"byod","retention":{"survivor_days":1}}"#);
    agent.register_survivor(SURVIVOR, None).expect("register");
    env.clock.advance(Duration::hours(23));
    agent.handle(Event::Tick).expect("tick");
    assert_eq!(agent.survivor_count(), 1, "not expired yet");
    env.clock.advance(Duration::hours(1));
    agent.handle(Event::Tick).expect("tick");
    assert_eq!(agent.survivor_count(), 0);
    assert!(!agent.is_survivor(SURVIVOR).expect("lookup"));
    assert_eq!(agent.handle(sms("2075550100")).expect("sms").verdict, Verdict::Allow);
    drop(agent);
    assert_eq!(env.open().expect("reopen").survivor_count(), 0);
}

#[test]
fn anonymous_hotline_refuses_registration() {
    let env = Env::new("anonymous");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"work","retention":{"anonymous_hotline":true}}"#);
    assert_eq!(agent.register_survivor(SURVIVOR, None), Err(AgentError::Registry(RegistryError::AnonymousHotline)));
    assert_eq!(agent.survivor_count(), 0);
    // Every helpline call is still cleaned from the call log.
    let out = agent.handle(call_ended("2075550100", Line::Helpline, t(T0), false)).expect("handle");
    assert!(out.actions.iter().any(|a| matches!(a.kind, ActionKind::DeleteCallLog { .. })));
}

#[test]
fn pending_actions_survive_restart() {
    let env = Env::new("restart");
    let mut agent = env.create("US", BYOD);
    agent.register_survivor(SURVIVOR, None).expect("register");
    agent.handle(call_ended("2075550100", Line::Direct, t(T0), false)).expect("handle");
    let before = agent.pending_actions();
    let generation = agent.generation();
    assert!(before.iter().filter(|a| deletes_number(a).is_some()).count() == 2);
    drop(agent);
    let mut agent = env.open().expect("reopen");
    assert_eq!(agent.generation(), generation);
    assert_eq!(agent.pending_actions(), before, "the same actions, ids and numbers");
    // Acknowledging after the restart works, and repeating the ack is harmless.
    let id = before[0].id;
    assert_eq!(agent.ack(id, AckResult::Done).expect("ack"), AckOutcome::Completed);
    assert_eq!(agent.ack(id, AckResult::Done).expect("ack"), AckOutcome::AlreadyDone);
    assert_eq!(agent.ack(10_000, AckResult::Done), Err(AgentError::UnknownAction(10_000)));
    // Re-handling the same call end does not duplicate the remaining pending deletion.
    let n = agent.all_pending_actions().len();
    agent.handle(call_ended("2075550100", Line::Direct, t(T0), false)).expect("handle");
    assert!(agent.all_pending_actions().len() <= n + 1);
}

#[test]
fn failed_ack_is_retried_with_backoff_and_reported_in_compliance() {
    let env = Env::new("backoff");
    let mut agent = env.create("US", BYOD);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let out = agent.handle(call_ended("2075550100", Line::Direct, t(T0), false)).expect("handle");
    let id = out.actions.iter().find(|a| deletes_number(a).is_some()).expect("deletion").id;
    let failed = AckResult::Failed { reason: "SecurityException deleting 207-555-0100".into() };
    assert_eq!(agent.ack(id, failed.clone()).expect("ack"), AckOutcome::WillRetry);
    let is_due = |agent: &Agent| agent.pending_actions().iter().any(|a| a.id == id);
    assert!(!is_due(&agent));
    let failing = |agent: &Agent| {
        agent.compliance().findings.iter().find_map(|f| match f {
            Finding::ActionFailing { id: fid, attempts, .. } if *fid == id => Some(*attempts),
            _ => None,
        })
    };
    assert_eq!(failing(&agent), Some(1));
    let stored = agent.all_pending_actions().into_iter().find(|a| a.id == id).expect("still pending");
    let last_error = stored.last_error.expect("error recorded");
    assert!(!last_error.contains("555"), "the number is masked: {last_error}");
    env.clock.advance(Duration::seconds(29));
    assert!(!is_due(&agent));
    env.clock.advance(Duration::seconds(1));
    assert!(is_due(&agent));
    agent.ack(id, failed).expect("ack");
    env.clock.advance(Duration::seconds(59));
    assert!(!is_due(&agent), "the second wait is longer");
    env.clock.advance(Duration::seconds(1));
    assert!(is_due(&agent));
    assert_eq!(failing(&agent), Some(2));
    drop(agent);
    let mut agent = env.open().expect("reopen");
    assert_eq!(failing(&agent), Some(2), "failures survive a restart");
    assert_eq!(agent.ack(id, AckResult::Done).expect("ack"), AckOutcome::Completed);
    assert_eq!(failing(&agent), None);
}

#[test]
fn ack_done_drops_the_number() {
    let env = Env::new("ack-drops");
    let mut agent = env.create("US", BYOD);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let out = agent.handle(call_ended("2075550100", Line::Direct, t(T0), false)).expect("handle");
    let holding = |agent: &Agent| agent.all_pending_actions().iter().filter(|a| deletes_number(a).is_some()).count();
    assert_eq!(holding(&agent), 2);
    for a in out.actions.iter().filter(|a| deletes_number(a).is_some()) {
        agent.ack(a.id, AckResult::Done).expect("ack");
    }
    assert_eq!(holding(&agent), 0);
    drop(agent);
    let agent = env.open().expect("reopen");
    assert_eq!(holding(&agent), 0, "the number is gone from the committed state");
    assert!(agent.is_survivor(SURVIVOR).expect("lookup"), "the registration itself stays");
}

#[test]
fn audit_chain_verifies() {
    let env = Env::new("audit");
    let mut agent = env.create("US", BYOD);
    agent.register_survivor(SURVIVOR, None).expect("register");
    agent.handle(sms("2075550100")).expect("sms");
    agent.handle(call_ended("2075550100", Line::Direct, t(T0), true)).expect("call end");
    // Survivor traffic reaches the chain as per-day counts once the day is over.
    env.clock.advance(Duration::days(1));
    agent.handle(Event::Tick).expect("tick");
    assert_eq!(agent.verify_audit(), Ok(()));
    let records = agent.audit_export().expect("export");
    assert!(records.len() >= 5);
    assert!(records.iter().any(|r| r.kind == quietline_core::AuditKind::SurvivorRegistered));
    assert!(records.iter().any(|r| r.kind == quietline_core::AuditKind::CallEnded));
    let anchor = records[0].prev.clone();
    assert_eq!(verify_chain(&anchor, &records), Ok(()));
    for i in 0..records.len() {
        let mut edited = records.clone();
        edited[i].count += 1;
        assert!(verify_chain(&anchor, &edited).is_err(), "an edited record {i} is detected");
        let mut cut = records.clone();
        cut.remove(i);
        if i + 1 < records.len() {
            assert!(verify_chain(&anchor, &cut).is_err(), "a removed record {i} is detected");
        }
    }
    drop(agent);
    let agent = env.open().expect("reopen");
    assert_eq!(agent.verify_audit(), Ok(()));
    assert_eq!(agent.audit_export().expect("export"), records);
}

fn field_of(e: &PolicyError) -> &str {
    match e {
        PolicyError::Malformed { field, .. }
        | PolicyError::OutOfRange { field, .. }
        | PolicyError::AgainstGuidance { field, .. } => field,
        PolicyError::TooLarge(_) => "",
    }
}

#[test]
fn policy_errors_name_the_field() {
    for secs in [0, 4, 901, 7200] {
        let json = format!(r#"{{"schema":1,"mode":"work","auto_lock":{{"max_timeout_secs":{secs}}}}}"#);
        let e = Policy::from_json(&json).expect_err("out of range");
        assert!(matches!(e, PolicyError::OutOfRange { .. }), "{e:?}");
        assert_eq!(field_of(&e), "auto_lock.max_timeout_secs");
        assert!(e.to_string().contains("auto_lock.max_timeout_secs"));
    }
    let e = Policy::from_json(r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_sec":30}}"#).expect_err("unknown");
    assert!(matches!(e, PolicyError::Malformed { .. }), "{e:?}");
    assert!(e.to_string().contains("max_timeout_sec"), "{e}");
    assert!(field_of(&e).starts_with("auto_lock"), "{e:?}");
    let e = Policy::from_json(r#"{"schema":1,"mode":"work","surprise":true}"#).expect_err("unknown");
    assert!(e.to_string().contains("surprise"), "{e}");
    let e = Policy::from_json(r#"{"schema":1,"mode":"byod","sms":{"block_to_survivors":false}}"#).expect_err("byod");
    assert_eq!(field_of(&e), "sms.block_to_survivors");
    let e = Policy::from_json(r#"{"schema":2,"mode":"byod"}"#).expect_err("schema");
    assert_eq!(field_of(&e), "schema");
    let e = Policy::from_json(r#"{"schema":1,"mode":"work","off_duty":{"start":"18:00","end":"09:00"}}"#)
        .expect_err("hours");
    assert_eq!(field_of(&e), "off_duty.end");
    let e = Policy::from_json(r#"{"schema":1,"mode":"byod","wipe":{"allow_full":true}}"#).expect_err("wipe");
    assert_eq!(field_of(&e), "wipe.allow_full");
    // The boundaries themselves are fine, and the defaults follow the guidance.
    for secs in [5, 900] {
        let json = format!(r#"{{"schema":1,"mode":"work","auto_lock":{{"max_timeout_secs":{secs}}}}}"#);
        assert!(Policy::from_json(&json).is_ok());
    }
    let p = Policy::from_json(BYOD).expect("default");
    assert!(p.auto_lock.max_timeout_secs <= 30 && p.auto_lock.require_secure_lock);
    assert!(!p.full_wipe_allowed());
    // An invalid policy never reaches an agent.
    let env = Env::new("bad-policy");
    let mut agent = env.create("US", WORK);
    let mut bad = Policy::from_json(WORK).expect("policy");
    bad.auto_lock.max_timeout_secs = 7200;
    assert!(matches!(agent.install_policy(bad), Err(AgentError::Policy(PolicyError::OutOfRange { .. }))));
    assert_eq!(agent.policy().auto_lock.max_timeout_secs, 30);
}

fn files(env: &Env) -> (PathBuf, Vec<u8>) {
    let path = env.dir.join(STATE_FILE);
    let bytes = std::fs::read(&path).expect("state file");
    (path, bytes)
}

fn assert_open_fails(env: &Env, what: &str) -> AgentError {
    match env.open() {
        Ok(a) => panic!("{what}: opened a damaged state (generation {})", a.generation()),
        Err(e) => e,
    }
}

#[test]
fn corrupt_state_file_is_a_typed_error() {
    let env = Env::new("corrupt");
    let mut agent = env.create("US", BYOD);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let generation = agent.generation();
    drop(agent);
    let (path, good) = files(&env);

    // A flipped bit anywhere: header, nonce, ciphertext or tag.
    for i in [0, 4, 5, 10, 17, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[i] ^= 0x40;
        std::fs::write(&path, &bad).expect("write");
        let e = assert_open_fails(&env, &format!("flip at {i}"));
        assert!(matches!(e, AgentError::Store(_)), "flip at {i}: {e:?}");
        assert_eq!(std::fs::read(&path).expect("read"), bad, "the damaged file is not replaced");
    }
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 1;
    std::fs::write(&path, &bad).expect("write");
    assert_eq!(assert_open_fails(&env, "flip"), AgentError::Store(StoreError::Corrupt));

    // Truncated at every length class, and empty.
    for cut in [0, 3, 5, 16, 33, good.len() / 2, good.len() - 1] {
        std::fs::write(&path, &good[..cut]).expect("write");
        let e = assert_open_fails(&env, &format!("cut at {cut}"));
        assert!(matches!(e, AgentError::Store(StoreError::Truncated | StoreError::Corrupt)), "cut at {cut}: {e:?}");
    }
    std::fs::write(&path, b"").expect("write");
    assert_eq!(assert_open_fails(&env, "empty"), AgentError::Store(StoreError::Truncated));

    // A missing state file is not a fresh start either.
    std::fs::remove_file(&path).expect("remove");
    assert_eq!(assert_open_fails(&env, "missing"), AgentError::Store(StoreError::NotInitialized));

    // Restoring the good bytes opens the same state: nothing was reset along the way.
    std::fs::write(&path, &good).expect("write");
    let agent = env.open().expect("reopen");
    assert_eq!(agent.generation(), generation);
    assert!(agent.is_survivor(SURVIVOR).expect("lookup"));
}

#[test]
fn wrong_key_is_a_typed_error() {
    let env = Env::new("wrong-key");
    let agent = env.create("US", BYOD);
    drop(agent);
    let other = Env::new("wrong-key-other");
    let foreign = FileKeyProtector::new(other.dir.join("kek"));
    foreign.wrap(&[0u8; 32]).expect("create the foreign key");
    let e = Agent::open(&env.dir, Arc::new(foreign), env.clock.clone()).expect_err("foreign key");
    assert_eq!(e, AgentError::Store(StoreError::Key(KeyProtectorError::KeyInvalidated)));
    // A damaged wrapped data key is as clear.
    let key_path = env.dir.join(KEY_FILE);
    let mut wrapped = std::fs::read(&key_path).expect("read");
    wrapped[20] ^= 1;
    std::fs::write(&key_path, &wrapped).expect("write");
    assert!(matches!(env.open(), Err(AgentError::Store(StoreError::Key(_)))));
    // Destroying the protecting key leaves no way in.
    wrapped[20] ^= 1;
    std::fs::write(&key_path, &wrapped).expect("write");
    env.open().expect("the right key opens again");
    env.protector.destroy().expect("destroy");
    assert_eq!(env.open().err(), Some(AgentError::Store(StoreError::Key(KeyProtectorError::KeyInvalidated))));
}

/// A file protector that records whether the state was still on disk when its key was destroyed.
struct OrderProbe {
    inner: FileKeyProtector,
    dir: PathBuf,
    files_at_destroy: Mutex<Option<(bool, bool)>>,
}

impl KeyProtector for OrderProbe {
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        self.inner.wrap(data_key)
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        self.inner.unwrap(wrapped)
    }
    fn destroy(&self) -> Result<(), KeyProtectorError> {
        let seen = (self.dir.join(STATE_FILE).exists(), self.dir.join(KEY_FILE).exists());
        if let Ok(mut g) = self.files_at_destroy.lock() {
            *g = Some(seen);
        }
        self.inner.destroy()
    }
}

fn exists(p: &Path) -> bool {
    p.exists()
}

#[test]
fn wipe_erases_key_then_files() {
    let env = Env::new("wipe");
    let probe = Arc::new(OrderProbe {
        inner: FileKeyProtector::new(env.dir.join("kek")),
        dir: env.dir.clone(),
        files_at_destroy: Mutex::new(None),
    });
    let policy = Policy::from_json(BYOD).expect("policy");
    let mut agent =
        Agent::create(AgentConfig::new(&env.dir, "US"), probe.clone(), env.clock.clone(), policy).expect("create");
    agent.register_survivor(SURVIVOR, None).expect("register");
    assert!(exists(&env.dir.join("kek")) && exists(&env.dir.join(STATE_FILE)) && exists(&env.dir.join(KEY_FILE)));
    agent.wipe().expect("wipe");
    let seen = probe.files_at_destroy.lock().expect("lock").take();
    assert_eq!(seen, Some((true, true)), "the key is destroyed while the files still exist");
    for name in ["kek", STATE_FILE, KEY_FILE, "state.qls.tmp", "data.key.tmp"] {
        assert!(!exists(&env.dir.join(name)), "{name} survives the wipe");
    }
    let e = Agent::open(&env.dir, probe, env.clock.clone()).expect_err("nothing to open");
    assert_eq!(e, AgentError::Store(StoreError::NotInitialized));
}

fn gap_findings(agent: &Agent) -> Vec<Finding> {
    agent.compliance().findings.into_iter().filter(|f| matches!(f, Finding::RuleNotEnforced { .. })).collect()
}

#[test]
fn reported_rule_gaps_reach_the_compliance_report_until_cleared_and_survive_reopen() {
    let env = Env::new("rule-gaps");
    let mut agent = env.create("US", WORK);
    assert!(gap_findings(&agent).is_empty());
    let gaps = vec![RuleGap::NoHelplineCallRoute, RuleGap::SmsFromOtherAppsUnchecked, RuleGap::NoHelplineCallRoute];
    let out = agent.handle(Event::PlatformGaps { gaps }).expect("gaps");
    let both = vec![
        Finding::RuleNotEnforced { gap: RuleGap::SmsFromOtherAppsUnchecked },
        Finding::RuleNotEnforced { gap: RuleGap::NoHelplineCallRoute },
    ];
    assert_eq!(out.findings, both, "answered at once, each gap once");
    assert_eq!(gap_findings(&agent), both);
    assert!(agent.audit_export().expect("audit").iter().any(|r| r.kind == AuditKind::PlatformGapsReported));
    drop(agent);
    let mut agent = env.open().expect("reopen");
    assert_eq!(gap_findings(&agent), both, "the gaps were committed");
    // A new report replaces the set; an empty one clears it.
    agent.handle(Event::PlatformGaps { gaps: vec![RuleGap::NoHelplineCallRoute] }).expect("gaps");
    assert_eq!(gap_findings(&agent), vec![Finding::RuleNotEnforced { gap: RuleGap::NoHelplineCallRoute }]);
    let out = agent.handle(Event::PlatformGaps { gaps: vec![] }).expect("clear");
    assert!(out.findings.is_empty());
    assert!(gap_findings(&agent).is_empty());
    drop(agent);
    assert!(gap_findings(&env.open().expect("reopen")).is_empty(), "the clearing was committed");
}

#[test]
fn the_sms_gap_is_no_finding_when_the_policy_lets_texts_through() {
    let env = Env::new("rule-gaps-sms-off");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"work","sms":{"block_to_survivors":false}}"#);
    let out = agent.handle(Event::PlatformGaps { gaps: vec![RuleGap::SmsFromOtherAppsUnchecked] }).expect("gaps");
    assert!(out.findings.is_empty());
    assert!(gap_findings(&agent).is_empty());
}
