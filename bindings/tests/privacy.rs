//! The FFI crate's own values keep survivor numbers out of `Debug` (logs, panic messages): the
//! core's types it exposes as they are (`Verdict`, `Action`, `Outcome`, …) print the core's
//! redacting `Debug`, and its hand mirrors (`Event`, `SurvivorEntry`) redact too.
//! And the one hand-checked input: a call time the core cannot hold is a typed error.

use quietline_ffi::{ActionKind, Agent, ApiError, CallDirection, Clock, Event, Line, SurvivorEntry, Verdict};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

mod common;
use common::{Frozen, Xor};

const NUMBER: &str = "2075550100";
/// Digit runs of the number that must never show (the national number and its line part).
const LEAKS: [&str; 3] = ["2075550100", "5550100", "555-0100"];

fn agent(name: &str) -> (Arc<Agent>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("ql-ffi-privacy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let policy = r#"{"schema":1,"mode":"work"}"#;
    let a =
        Agent::create(dir.to_string_lossy().into(), "US".into(), policy.into(), Arc::new(Xor), Some(Arc::new(Frozen)))
            .expect("create");
    (a, dir)
}

fn assert_clean(what: &str, debug: &str) {
    for leak in LEAKS {
        assert!(!debug.contains(leak), "{what} shows the number: {debug}");
    }
}

#[test]
fn debug_of_what_crosses_the_ffi_never_shows_a_survivor_number() {
    let (a, dir) = agent("debug");
    a.register_survivor(NUMBER.into(), None).expect("register");

    let call = Event::OutgoingCall { number: NUMBER.into(), line: Line::Helpline, confirmed: false };
    assert_clean("Event", &format!("{call:?}"));
    let out = a.handle(call).expect("call");
    let Verdict::Dial { dial_string, .. } = &out.verdict else { panic!("a helpline call dials: {:?}", out.verdict) };
    assert!(dial_string.ends_with(NUMBER), "the dial string really holds the number");
    let shown = format!("{:?}", out.verdict);
    assert!(shown.contains("<redacted>"), "{shown}");
    assert_clean("Verdict::Dial", &shown);
    assert_clean("Outcome", &format!("{out:?}"));

    let ended = Event::CallEnded {
        number: NUMBER.into(),
        line: Line::Helpline,
        direction: CallDirection::Outgoing,
        started_at: Frozen.now() - Duration::from_secs(300),
        dropped: false,
    };
    assert_clean("Event::CallEnded", &format!("{ended:?}"));
    let out = a.handle(ended).expect("call ended");
    assert_clean("Outcome of a survivor call", &format!("{out:?}"));

    let pending = a.all_pending_actions().expect("pending");
    let deletions: Vec<_> = pending
        .iter()
        .filter_map(|p| match &p.kind {
            ActionKind::DeleteCallLog { number, .. } | ActionKind::DeleteContact { number } => Some(number),
            _ => None,
        })
        .collect();
    assert!(!deletions.is_empty(), "a survivor call is cleaned up: {pending:?}");
    assert!(deletions.iter().all(|n| n.expose() == "+12075550100"), "the app gets the number to delete");
    assert_clean("pending actions", &format!("{pending:?}"));
    assert_clean("compliance", &format!("{:?}", a.compliance().expect("compliance")));
    assert_clean("audit", &format!("{:?}", a.audit_export().expect("audit")));

    let entry = SurvivorEntry { number: NUMBER.into(), plan: None };
    assert_clean("SurvivorEntry", &format!("{entry:?}"));
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[test]
fn a_call_time_the_core_cannot_hold_is_a_typed_error_naming_the_field() {
    let (a, dir) = agent("time");
    let before = a.generation().expect("generation");
    let far = UNIX_EPOCH + Duration::from_secs(1 << 50);
    let ended = Event::CallEnded {
        number: NUMBER.into(),
        line: Line::Direct,
        direction: CallDirection::Incoming,
        started_at: far,
        dropped: false,
    };
    match a.handle(ended) {
        Err(ApiError::InvalidInput { reason }) => assert!(reason.contains("started_at"), "{reason}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert_eq!(a.generation().expect("generation"), before, "nothing was committed");
    a.handle(Event::Tick).expect("the agent is still usable");
    std::fs::remove_dir_all(dir).expect("cleanup");
}
