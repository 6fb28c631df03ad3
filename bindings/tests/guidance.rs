//! The guidance fields through the FFI surface: the contact plan's hidden-number choice and
//! review date, the call guidance the app shows, and the compliance checklist.

use quietline_ffi::{
    default_contact_plan, Agent, ApiError, ChecklistItem, Event, HiddenNumbers, Line, Verdict, WarnReason,
};
use std::sync::Arc;

mod common;
use common::{Frozen, Xor};

fn agent(name: &str, policy: &str) -> (Arc<Agent>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("ql-ffi-guidance-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let a =
        Agent::create(dir.to_string_lossy().into(), "US".into(), policy.into(), Arc::new(Xor), Some(Arc::new(Frozen)))
            .expect("create");
    (a, dir)
}

#[test]
fn plan_with_hidden_number_choice_and_review_date_crosses_the_ffi() {
    let (a, dir) = agent("plan", r#"{"schema":1,"mode":"byod"}"#);
    let mut plan = default_contact_plan();
    assert_eq!((plan.hidden_numbers, plan.review_on.clone()), (None, None), "defaults: accepted, no review");
    plan.hidden_numbers = Some(HiddenNumbers::ShowNumberAfterConfirm);
    plan.review_on = Some("2026-11-23".into());
    a.register_survivor("2075550100".into(), Some(plan)).expect("register");
    let out = a
        .handle(Event::OutgoingCall { number: "2075550100".into(), line: Line::Direct, confirmed: false })
        .expect("call");
    assert!(matches!(out.verdict, Verdict::Warn { reason: WarnReason::NumberWillShow, .. }), "{:?}", out.verdict);
    let g = out.guidance.expect("guidance");
    assert!(g.review_due && g.voicemail_script.is_some());
    assert_eq!(g.hidden_numbers, HiddenNumbers::ShowNumberAfterConfirm);
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[test]
fn a_review_date_that_is_not_a_date_is_a_typed_error() {
    let (a, dir) = agent("baddate", r#"{"schema":1,"mode":"byod"}"#);
    let mut plan = default_contact_plan();
    plan.review_on = Some("next week".into());
    let r = a.register_survivor("2075550100".into(), Some(plan));
    assert!(matches!(r, Err(ApiError::InvalidContactPlan { ref reason }) if reason.contains("review_on")), "{r:?}");
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[test]
fn compliance_report_carries_the_checklist_dates() {
    let (a, dir) = agent("checklist", r#"{"schema":1,"mode":"byod","checklist":{"no_free_voip":"2026-11-20"}}"#);
    let report = a.compliance().expect("report");
    assert_eq!(report.checklist.len(), 5);
    let voip = report.checklist.iter().find(|e| e.item == ChecklistItem::NoFreeVoip).expect("item");
    // The app reads it as the string "2026-11-20" (the `IsoDate` custom type, src/custom.rs).
    assert_eq!(voip.confirmed_on.map(|d| d.to_string()).as_deref(), Some("2026-11-20"));
    assert_eq!(report.checklist.iter().filter(|e| e.confirmed_on.is_none()).count(), 4);
    std::fs::remove_dir_all(dir).expect("cleanup");
}
