//! What the platform can and cannot do changes what the agent asks of it, never the rules:
//! a call whose caller ID cannot be hidden is refused, an action the platform can never do is
//! dropped and reported, and iOS gets its off-duty block list ahead of time.

use quietline_core::{
    AckOutcome, AckResult, ActionKind, Agent, AgentConfig, Event, FileKeyProtector, Finding, FixedClock, Line,
    PlatformCaps, Policy, Verdict,
};
use std::sync::Arc;

fn agent(name: &str, policy: &str, at: &str, offset: i32) -> (Agent, Arc<FixedClock>) {
    let dir = std::env::temp_dir().join(format!("ql-platform-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = Arc::new(FixedClock::at(at, offset).expect("clock"));
    let a = Agent::create(
        AgentConfig::new(&dir, "US"),
        Arc::new(FileKeyProtector::new(dir.join("kek"))),
        clock.clone(),
        Policy::from_json(policy).expect("policy"),
    )
    .expect("create");
    (a, clock)
}

const IOS: PlatformCaps = PlatformCaps { full_wipe: false, prefix_dialing: false };

#[test]
fn prefix_caller_id_on_a_platform_that_cannot_dial_it_is_refused_not_exposed() {
    let (mut a, _) = agent("ios-prefix", r#"{"schema":1,"mode":"byod"}"#, "2026-11-23T15:00:00Z", 0);
    a.set_platform_caps(IOS).expect("caps");
    let out = a
        .handle(Event::OutgoingCall { number: "2075550100".into(), line: Line::Helpline, confirmed: false })
        .expect("call");
    assert!(matches!(out.verdict, Verdict::Block { reason: quietline_core::BlockReason::CallerIdCannotBeHidden, .. }));
}

#[test]
fn voip_caller_id_works_where_prefixes_cannot() {
    let (mut a, _) =
        agent("ios-voip", r#"{"schema":1,"mode":"byod","caller_id":{"method":"voip"}}"#, "2026-11-23T15:00:00Z", 0);
    a.set_platform_caps(IOS).expect("caps");
    let out = a
        .handle(Event::OutgoingCall { number: "(207) 555-0100".into(), line: Line::Helpline, confirmed: false })
        .expect("call");
    assert_eq!(out.verdict, Verdict::Dial { dial_string: "+12075550100".into(), via_voip: true });
}

#[test]
fn unsupported_ack_drops_the_action_and_reports_the_gap() {
    let (mut a, _) = agent("unsupported", r#"{"schema":1,"mode":"work"}"#, "2026-11-23T15:00:00Z", 0);
    a.register_survivor("2075550100", None).expect("register");
    let out = a
        .handle(Event::CallEnded {
            number: "2075550100".into(),
            line: Line::Direct,
            direction: quietline_core::CallDirection::Outgoing,
            started_at: chrono::Utc::now(),
            dropped: false,
        })
        .expect("end");
    let del = out.actions.iter().find(|x| matches!(x.kind, ActionKind::DeleteCallLog { .. })).expect("delete");
    let r = a.ack(del.id, AckResult::Unsupported { reason: "iOS has no call-log API".into() }).expect("ack");
    assert_eq!(r, AckOutcome::Unsupported);
    assert!(!a.all_pending_actions().iter().any(|x| x.id == del.id), "dropped, with its number");
    assert!(a
        .compliance()
        .findings
        .iter()
        .any(|f| matches!(f, Finding::ActionUnsupported { kind, count: 1 } if kind == "delete_call_log")));
}
