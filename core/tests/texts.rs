//! Texts from and to survivors are held by the agent, never in the phone's SMS provider (rules 3,
//! 4 and 8 on work phones): encrypted at rest, listed without the number, replied to only as rule
//! 3 allows, and gone at expiry, on purge, on forgetting the survivor and on wipe.

use chrono::Duration;
use quietline_core::texts::MAX_TEXT_BYTES;
use quietline_core::{
    Agent, AgentError, AuditKind, BlockReason, Clock, Event, Policy, StoreError, TextDirection, TextError, Verdict,
};
mod common;
use common::env::Env;
use std::path::Path;

const SURVIVOR: &str = "(207) 555-0143";
const OTHER: &str = "+1 207-555-0199";
const WORK: &str = r#"{"schema":1,"mode":"work"}"#;
const WORK_TEXTS_ALLOWED: &str = r#"{"schema":1,"mode":"work","sms":{"block_to_survivors":false}}"#;

/// A work phone's agent in the North American plan, with [`SURVIVOR`] registered.
fn create(env: &Env, policy: &str) -> Agent {
    let mut a = env.create("US", policy);
    a.register_survivor(SURVIVOR, None).expect("register");
    a
}

/// The survivor's number as people and programs write it.
const NEEDLES: [&str; 6] = ["2075550143", "207-555-0143", "555-0143", "5550143", "+12075550143", "(207) 555"];

fn assert_no_number(label: &str, hay: &[u8]) {
    for n in NEEDLES {
        assert!(!hay.windows(n.len()).any(|w| w == n.as_bytes()), "{label} holds the survivor's number ({n})");
    }
}

fn scan_dir(dir: &Path, found: &mut Vec<u8>) {
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            scan_dir(&p, found);
        } else {
            found.extend(std::fs::read(&p).expect("read"));
        }
    }
}

#[test]
fn rule3_a_text_from_a_survivor_is_held_and_shown_without_the_number_work() {
    let env = Env::new("held");
    let mut a = create(&env, WORK);
    let id = a.hold_text("+12075550143", TextDirection::Incoming, "can you call after 6").expect("hold");
    assert!(id.is_some(), "a survivor's text is held");
    assert_eq!(a.hold_text(OTHER, TextDirection::Incoming, "hello").expect("other"), None, "others go to the provider");
    assert_eq!(a.hold_text("911", TextDirection::Incoming, "x").expect("special"), None);
    let held = a.held_texts();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].id, id.expect("id"));
    assert_eq!(held[0].body, "can you call after 6");
    assert_eq!(held[0].direction, TextDirection::Incoming);
    assert_eq!(held[0].expires_at - held[0].at, Duration::hours(72), "the default retention");
    assert_eq!(held[0].conversation, 1);
    assert_no_number("the list's Debug", format!("{held:?} {a:?}").as_bytes());
}

#[test]
fn rule8_no_survivor_number_or_text_is_on_disk_in_plaintext() {
    let env = Env::new("disk");
    let mut a = create(&env, WORK);
    a.hold_text(SURVIVOR, TextDirection::Incoming, "meet at the library").expect("hold");
    let mut bytes = Vec::new();
    scan_dir(&env.dir, &mut bytes);
    assert!(bytes.len() > 100, "the scan read the state");
    assert_no_number("the state directory", &bytes);
    let body = b"meet at the library";
    assert!(!bytes.windows(body.len()).any(|w| w == body), "the text's body is on disk in plaintext");
}

#[test]
fn rule8_a_held_text_expires_after_survivor_text_hours() {
    let env = Env::new("expiry");
    let mut a = create(&env, r#"{"schema":1,"mode":"work","retention":{"survivor_text_hours":2}}"#);
    a.hold_text(SURVIVOR, TextDirection::Incoming, "x").expect("hold");
    env.clock.advance(Duration::hours(2) - Duration::seconds(1));
    assert_eq!(a.held_texts().len(), 1);
    env.clock.advance(Duration::seconds(1));
    assert!(a.held_texts().is_empty(), "an expired text is never shown");
    a.handle(Event::Tick).expect("tick");
    let expired = a.audit_export().expect("audit").into_iter().filter(|r| r.kind == AuditKind::TextsExpired).count();
    assert_eq!(expired, 1, "the tick deleted it and counted it");
    drop(a);
    // After a reopen, too: it is gone from the state, not only hidden.
    env.clock.set(env.clock.now() - Duration::hours(2));
    assert!(env.open().expect("reopen").held_texts().is_empty());
}

#[test]
fn rule8_a_held_text_goes_with_its_survivors_registration() {
    let env = Env::new("registration");
    let mut a = create(&env, r#"{"schema":1,"mode":"work","retention":{"survivor_days":1,"survivor_text_hours":720}}"#);
    a.hold_text(SURVIVOR, TextDirection::Incoming, "x").expect("hold");
    env.clock.advance(Duration::days(1));
    a.handle(Event::Tick).expect("tick");
    assert!(a.held_texts().is_empty());
    a.register_survivor(SURVIVOR, None).expect("register again");
    assert!(a.held_texts().is_empty(), "registering again does not revive an expired survivor's texts");
}

#[test]
fn rule8_held_texts_survive_a_reopen_within_their_expiry() {
    let env = Env::new("reopen");
    let mut a = create(&env, WORK);
    a.hold_text(SURVIVOR, TextDirection::Incoming, "first").expect("hold");
    a.hold_text(SURVIVOR, TextDirection::Outgoing, "second").expect("hold");
    drop(a);
    let a = env.open().expect("open");
    let bodies: Vec<String> = a.held_texts().into_iter().map(|t| t.body).collect();
    assert_eq!(bodies, vec!["first".to_string(), "second".to_string()]);
}

#[test]
fn rule5_purge_drops_every_held_text() {
    let env = Env::new("purge");
    let mut a = create(&env, WORK);
    a.hold_text(SURVIVOR, TextDirection::Incoming, "x").expect("hold");
    a.purge_survivor_data().expect("purge");
    assert!(a.held_texts().is_empty());
    drop(a);
    let a = env.open().expect("open");
    assert!(a.held_texts().is_empty());
    let purged =
        a.audit_export().expect("audit").into_iter().any(|r| r.kind == AuditKind::TextsDiscarded && r.count == 1);
    assert!(purged, "the purge counted the discarded text");
}

#[test]
fn rule4_forgetting_a_survivor_drops_their_held_texts_only() {
    let env = Env::new("forget");
    let mut a = create(&env, WORK);
    a.register_survivor("207-555-0144", None).expect("second survivor");
    a.hold_text(SURVIVOR, TextDirection::Incoming, "mine").expect("hold");
    a.hold_text("207-555-0144", TextDirection::Incoming, "theirs").expect("hold");
    assert_eq!(a.held_texts().iter().map(|t| t.conversation).collect::<Vec<_>>(), vec![1, 2]);
    assert!(a.forget_survivor("+12075550143").expect("forget"));
    let left: Vec<String> = a.held_texts().into_iter().map(|t| t.body).collect();
    assert_eq!(left, vec!["theirs".to_string()]);
}

#[test]
fn rule3_a_reply_to_a_survivor_is_blocked_when_the_policy_blocks_texts_work() {
    let env = Env::new("reply-blocked");
    let mut a = create(&env, WORK);
    let id = a.hold_text(SURVIVOR, TextDirection::Incoming, "x").expect("hold").expect("held");
    let r = a.reply_to_held_text(id, "call me").expect("reply");
    assert!(matches!(r.outcome.verdict, Verdict::Block { reason: BlockReason::SmsToSurvivor, .. }), "{r:?}");
    assert_eq!(r.send_to, None, "no number to send to");
    assert_eq!(r.held, None);
    assert_eq!(a.held_texts().len(), 1, "the refused reply is not held");
    assert_no_number("the reply's Debug", format!("{r:?}").as_bytes());
}

#[test]
fn rule3_a_reply_the_policy_allows_is_held_and_the_number_handed_only_to_send_work() {
    let env = Env::new("reply-allowed");
    let mut a = create(&env, WORK_TEXTS_ALLOWED);
    let id = a.hold_text(SURVIVOR, TextDirection::Incoming, "x").expect("hold").expect("held");
    let r = a.reply_to_held_text(id, "call me at 6").expect("reply");
    assert_eq!(r.outcome.verdict, Verdict::Allow);
    assert_eq!(r.send_to.as_ref().map(|n| n.expose().to_string()), Some("+12075550143".to_string()));
    assert_no_number("the reply's Debug", format!("{r:?}").as_bytes());
    let held = a.held_texts();
    assert_eq!(held.len(), 2);
    assert_eq!(held[1].id, r.held.expect("held"));
    assert_eq!(
        (held[1].direction, held[1].body.as_str(), held[1].conversation),
        (TextDirection::Outgoing, "call me at 6", 1)
    );
    // A discarded or unknown text cannot be replied to.
    assert!(a.discard_held_text(id).expect("discard"));
    assert!(!a.discard_held_text(id).expect("again"));
    let e = a.reply_to_held_text(id, "x").expect_err("gone");
    assert!(matches!(e, AgentError::Text(TextError::Unknown(_))), "{e:?}");
}

#[test]
fn rule8_an_oversized_text_is_refused_with_a_typed_error_naming_no_number() {
    let env = Env::new("oversized");
    let mut a = create(&env, WORK_TEXTS_ALLOWED);
    let long = "x".repeat(MAX_TEXT_BYTES + 1);
    let e = a.hold_text(SURVIVOR, TextDirection::Incoming, &long).expect_err("too long");
    assert!(matches!(e, AgentError::Text(TextError::TooLong { .. })), "{e:?}");
    assert_no_number("the error", format!("{e} {e:?}").as_bytes());
    let id = a.hold_text(SURVIVOR, TextDirection::Incoming, "x").expect("hold").expect("held");
    let e = a.reply_to_held_text(id, &long).expect_err("reply too long");
    assert!(matches!(e, AgentError::Text(TextError::TooLong { .. })), "{e:?}");
    assert_eq!(a.held_texts().len(), 1, "nothing half-held");
}

#[test]
fn rule8_survivor_text_hours_outside_its_range_is_refused() {
    for hours in [0, 721] {
        let json = format!(r#"{{"schema":1,"mode":"work","retention":{{"survivor_text_hours":{hours}}}}}"#);
        let e = Policy::from_json(&json).expect_err("out of range");
        assert!(e.to_string().contains("survivor_text_hours"), "{e}");
    }
}

#[test]
fn rule9_a_wipe_takes_the_held_texts_with_it() {
    let env = Env::new("wipe");
    let mut a = create(&env, WORK);
    a.hold_text(SURVIVOR, TextDirection::Incoming, "x").expect("hold");
    a.wipe().expect("wipe");
    let e = env.open().expect_err("nothing to open");
    assert!(matches!(e, AgentError::Store(StoreError::NotInitialized)), "{e:?}");
}
