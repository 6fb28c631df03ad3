//! Guidance rules that had no home: hidden-number alternatives, plan reviews, the voicemail
//! script, hotline practice on dropped calls, the compliance checklist, and an audit log that
//! keeps survivor traffic only as per-day counts.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use quietline_core::{
    ActionKind, Agent, AuditKind, CallDirection, ChecklistItem, ContactPlan, DroppedCall, Event, HiddenNumbers, Line,
    MessageLevel, NotifyKind, Policy, Verdict, WarnReason,
};
mod common;
use common::env::{Env, T0};

const SURVIVOR: &str = "+1 207-555-0100";
const WORK_HOURS: &str = r#"{"schema":1,"mode":"work","off_duty":{"enabled":true}}"#;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("rfc3339").with_timezone(&Utc)
}

fn call(confirmed: bool) -> Event {
    Event::OutgoingCall { number: "2075550100".into(), line: Line::Direct, confirmed }
}

fn ended(number: &str, line: Line, dropped: bool) -> Event {
    Event::CallEnded {
        number: number.into(),
        line,
        direction: CallDirection::Incoming,
        started_at: t(T0) - Duration::minutes(5),
        dropped,
    }
}

#[test]
fn survivor_rejecting_hidden_numbers_is_called_with_the_number_shown_only_after_confirming() {
    let env = Env::new("show");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"byod"}"#);
    let plan = ContactPlan { hidden_numbers: HiddenNumbers::ShowNumberAfterConfirm, ..ContactPlan::default() };
    agent.register_survivor(SURVIVOR, Some(plan)).expect("register");
    let out = agent.handle(call(false)).expect("call");
    match &out.verdict {
        Verdict::Warn { reason, message, .. } => {
            assert_eq!(*reason, WarnReason::NumberWillShow);
            assert!(message.contains("show your number") && !message.contains("555"), "{message}");
        }
        other => panic!("expected a warning, got {other:?}"),
    }
    assert_eq!(out.guidance.expect("guidance").hidden_numbers, HiddenNumbers::ShowNumberAfterConfirm);
    // Confirmed: dialled as typed, without the hiding prefix.
    assert_eq!(agent.handle(call(true)).expect("call").verdict, Verdict::Allow);
}

#[test]
fn survivor_accepting_calls_from_the_alternate_caller_name_is_called_through_the_voip_line() {
    let env = Env::new("alt");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"byod"}"#);
    let plan = ContactPlan { hidden_numbers: HiddenNumbers::AlternateCallerId, ..ContactPlan::default() };
    agent.register_survivor(SURVIVOR, Some(plan)).expect("register");
    let out = agent.handle(call(false)).expect("call");
    assert_eq!(out.verdict, Verdict::Dial { dial_string: "+12075550100".into(), via_voip: true });
}

#[test]
fn outside_the_safe_window_one_warning_names_the_shown_number_too() {
    let env = Env::new("both");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"byod"}"#);
    let window = quietline_core::SafeWindow {
        day: quietline_core::policy::Day::Tue,
        start: quietline_core::policy::LocalTime::parse("18:00").expect("t"),
        end: quietline_core::policy::LocalTime::parse("20:00").expect("t"),
    };
    let plan = ContactPlan {
        safe_windows: vec![window],
        hidden_numbers: HiddenNumbers::ShowNumberAfterConfirm,
        ..ContactPlan::default()
    };
    agent.register_survivor(SURVIVOR, Some(plan)).expect("register");
    match agent.handle(call(false)).expect("call").verdict {
        Verdict::Warn { reason, message, next_safe_at } => {
            assert_eq!(reason, WarnReason::OutsideSafeWindow);
            assert!(next_safe_at.is_some());
            assert!(message.contains("not to be called now") && message.contains("show your number"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn plan_review_is_due_from_its_review_date() {
    let env = Env::new("review");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"byod"}"#);
    let plan = ContactPlan { review_on: NaiveDate::from_ymd_opt(2026, 11, 25), ..ContactPlan::default() };
    agent.register_survivor(SURVIVOR, Some(plan)).expect("register");
    let due = |agent: &mut Agent| agent.handle(call(true)).expect("call").guidance.expect("guidance").review_due;
    assert!(!due(&mut agent), "two days early");
    env.clock.set(t("2026-11-25T08:00:00Z"));
    assert!(due(&mut agent), "on the review date");
    drop(agent);
    let mut again = env.open().expect("reopen");
    assert!(due(&mut again), "the review date is kept with the plan");
}

#[test]
fn vague_voicemail_script_names_the_hours_and_neither_organisation_nor_number() {
    let env = Env::new("script");
    let mut agent = env.create("US", WORK_HOURS);
    agent.register_survivor(SURVIVOR, None).expect("register");
    let g = agent.handle(call(true)).expect("call").guidance.expect("guidance");
    let script = g.voicemail_script.expect("a vague voicemail may be left by default");
    assert!(script.contains("between 09:00 and 17:00, Monday to Friday"), "{script}");
    assert!(!script.chars().any(|c| c.is_ascii_digit() && !"0917:".contains(c)), "no number: {script}");
    assert!(!script.to_lowercase().contains("shelter") && !script.to_lowercase().contains("violence"));
}

#[test]
fn no_voicemail_script_when_the_survivor_wants_no_message() {
    let env = Env::new("nomsg");
    let mut agent = env.create("US", WORK_HOURS);
    let plan = ContactPlan { message_level: MessageLevel::None, ..ContactPlan::default() };
    agent.register_survivor(SURVIVOR, Some(plan)).expect("register");
    let g = agent.handle(call(true)).expect("call").guidance.expect("guidance");
    assert_eq!(g.voicemail_script, None);
    let env2 = Env::new("novm");
    let mut agent2 = env2.create("US", WORK_HOURS);
    let plan = ContactPlan { voicemail_allowed: false, ..ContactPlan::default() };
    agent2.register_survivor(SURVIVOR, Some(plan)).expect("register");
    assert_eq!(agent2.handle(call(true)).expect("call").guidance.expect("guidance").voicemail_script, None);
}

#[test]
fn dropped_hotline_call_from_a_caller_with_no_plan_follows_the_hotline_practice() {
    let env = Env::new("hotline");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"work","retention":{"anonymous_hotline":true}}"#);
    let out = agent.handle(ended("2075550123", Line::Helpline, true)).expect("ended");
    let g = out.guidance.expect("hotline guidance");
    assert_eq!(g.dropped_call, DroppedCall::TheyCallBack);
    assert!(!g.voicemail_allowed && g.voicemail_script.is_none());
    let practice = g.dropped_call_practice.expect("practice");
    assert!(practice.contains("do not call back") && practice.contains("call the hotline again"), "{practice}");
    assert!(out.actions.iter().any(|a| a.kind == ActionKind::Notify { kind: NotifyKind::DroppedCallTheyCallBack }));
    // A call that ends normally gets the same words, without a notification.
    let out = agent.handle(ended("2075550124", Line::Helpline, false)).expect("ended");
    assert!(out.guidance.expect("guidance").dropped_call_practice.is_some());
    assert!(!out.actions.iter().any(|a| matches!(a.kind, ActionKind::Notify { .. })));
}

#[test]
fn compliance_report_lists_the_checklist_with_the_dates_it_confirms() {
    let env = Env::new("checklist");
    let mut agent =
        env.create("US", r#"{"schema":1,"mode":"byod","checklist":{"voicemail_transcription_off":"2026-11-20"}}"#);
    let report = agent.compliance();
    assert_eq!(report.checklist.len(), ChecklistItem::ALL.len());
    let vm = report.checklist.iter().find(|e| e.item == ChecklistItem::VoicemailTranscriptionOff).expect("item");
    assert_eq!(vm.confirmed_on, NaiveDate::from_ymd_opt(2026, 11, 20));
    assert!(report.checklist.iter().filter(|e| e.confirmed_on.is_none()).count() == 4);
    let all = r#"{"schema":1,"mode":"byod","checklist":{"voicemail_transcription_off":"2026-11-20","carrier_accounts_restricted":"2026-11-21","billing_records_destroyed":"2026-11-21","no_free_voip":"2026-11-21","voip_numbers_not_reused":"2026-11-21"}}"#;
    agent.install_policy(Policy::from_json(all).expect("policy")).expect("install");
    assert!(agent.compliance().checklist.iter().all(|e| e.confirmed_on.is_some()));
}

#[test]
fn audit_keeps_only_per_day_counts_of_survivor_calls() {
    let env = Env::new("audit");
    let mut agent = env.create("US", r#"{"schema":1,"mode":"byod"}"#);
    agent.register_survivor(SURVIVOR, None).expect("register");
    for (at, number) in [("2026-11-23T15:07:13Z", "2075550100"), ("2026-11-23T19:42:51Z", "2075550100")] {
        env.clock.set(t(at));
        agent.handle(call(true)).expect("call");
        let out = agent.handle(ended(number, Line::Direct, false)).expect("ended");
        for a in out.actions {
            agent.ack(a.id, quietline_core::AckResult::Done).expect("ack");
        }
        agent.handle(Event::OutgoingSms { number: number.into() }).expect("sms");
    }
    env.clock.set(t("2026-11-24T09:00:00Z"));
    agent.handle(Event::Tick).expect("tick");
    let records = agent.audit_export().expect("export");
    assert_eq!(agent.verify_audit(), Ok(()));
    let traffic: Vec<_> = records
        .iter()
        .filter(|r| r.kind.per_day() || r.detail.starts_with("per day") || r.detail.contains("delete_"))
        .collect();
    assert!(!traffic.is_empty());
    for r in &traffic {
        assert_eq!((r.at.hour(), r.at.minute(), r.at.second()), (0, 0, 0), "only the day is kept: {r:?}");
        assert!(r.action_ids.is_empty(), "no action ids tie a record to a call: {r:?}");
    }
    let count = |kind: AuditKind| records.iter().filter(|r| r.kind == kind).map(|r| r.count).sum::<u64>();
    assert_eq!(count(AuditKind::CallEnded), 2);
    assert_eq!(count(AuditKind::SmsBlocked), 2);
    assert_eq!(records.iter().filter(|r| r.kind == AuditKind::CallEnded).count(), 1, "one record for the day");
    // Nothing else recorded that day carries a time between the calls.
    let day = t("2026-11-23T15:00:01Z")..t("2026-11-24T00:00:00Z");
    assert!(records.iter().all(|r| !day.contains(&r.at)), "{records:?}");
}
