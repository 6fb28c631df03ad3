//! The organisation's calling app in the signed policy (`caller_id.softphone`): every template
//! that would not stay in a calling app is refused at parse time with the field named, the section
//! round-trips, a policy without it parses as before, no error carries a number, and only the
//! root can set, change or remove it on an enrolled phone.

use quietline_core::softphone::{Softphone, REFUSED_SCHEMES};
use quietline_core::trust::{self, TrustError};
use quietline_core::{Policy, PolicyError};

mod common;
use common::*;

const SURVIVOR_DIGITS: &str = "2025550143";

fn with_softphone(mode: &str, softphone: &str) -> String {
    format!(r#"{{"schema":1,"mode":"{mode}","caller_id":{{"method":"voip","softphone":{softphone}}}}}"#)
}

fn refused_field(json: &str) -> (String, String) {
    match Policy::from_json(json) {
        Err(PolicyError::OutOfRange { field, reason }) | Err(PolicyError::Malformed { field, reason }) => {
            (field, reason)
        }
        other => panic!("{json}: expected a refusal, got {other:?}"),
    }
}

#[test]
fn every_invalid_template_is_refused_with_the_field_named() {
    let mut bad: Vec<String> = REFUSED_SCHEMES.iter().map(|s| format!("{s}:{{number}}")).collect();
    bad.extend(
        [
            "TEL:{number}",
            "Sip:{number}@pbx.example.org",
            "https://voice.example.org/c?n={number}",
            "acmevoice://call",
            "acmevoice://{number}/{number}",
            "acmevoice://call?to={number} ",
            "acmevoice://call?\tto={number}",
            "acmevoice://call?to={number}\u{0}",
            "acmevoice://call?to=\u{202e}{number}",
            "//call?to={number}",
            "{number}",
            "",
        ]
        .map(String::from),
    );
    bad.push(format!("acmevoice://call?to={{number}}&p={}", "x".repeat(300)));
    for t in bad {
        let (field, reason) = refused_field(&with_softphone("byod", &serde_json::json!({ "call_uri": t }).to_string()));
        assert_eq!(field, "caller_id.softphone.call_uri", "{t:?}: {reason}");
    }
    for pkg in ["acme", "com..acme", "com.acme voice", "1com.acme", "com.acme/../x"] {
        let sp = serde_json::json!({ "call_uri": "acmevoice://call?to={number}", "android_package": pkg });
        let (field, reason) = refused_field(&with_softphone("work", &sp.to_string()));
        assert_eq!(field, "caller_id.softphone.android_package", "{pkg:?}: {reason}");
    }
}

#[test]
fn unknown_and_missing_fields_are_refused_with_the_path() {
    let (field, _) = refused_field(&with_softphone("byod", r#"{"call_uri":"acmevoice:{number}","ios_bundle":"x"}"#));
    assert_eq!(field, "caller_id.softphone.ios_bundle");
    let (field, _) = refused_field(&with_softphone("byod", r#"{"android_package":"com.acme.voice"}"#));
    assert_eq!(field, "caller_id.softphone");
    let (field, _) = refused_field(&with_softphone("byod", r#""acmevoice:{number}""#));
    assert_eq!(field, "caller_id.softphone");
}

#[test]
fn the_section_round_trips_and_an_old_policy_parses_unchanged() {
    let json =
        with_softphone("byod", r#"{"call_uri":"acmevoice://call?to={number}","android_package":"com.acme.voice"}"#);
    let p = Policy::from_json(&json).expect("valid");
    assert_eq!(
        p.caller_id.softphone,
        Some(Softphone::new("acmevoice://call?to={number}", Some("com.acme.voice")).expect("ok"))
    );
    assert_eq!(Policy::from_json(&p.to_json()).expect("round trip"), p);
    assert_eq!(Policy::from_json(&p.to_compact_value().to_string()).expect("compact"), p);
    // Without a package the key stays out of the JSON too.
    let p = Policy::from_json(&with_softphone("work", r#"{"call_uri":"acmevoice:{number}"}"#)).expect("valid");
    assert!(!p.to_json().contains("android_package"));
    assert_eq!(Policy::from_json(&p.to_json()).expect("round trip"), p);
    // A policy written before the section exists parses, has no softphone, and serialises exactly
    // as before (no `softphone` key), so signed policies and their digests are unchanged.
    let old = Policy::from_json(r#"{"schema":1,"mode":"byod","caller_id":{"method":"voip"}}"#).expect("old");
    assert_eq!(old.caller_id.softphone, None);
    assert!(!old.to_json().contains("softphone"), "{}", old.to_json());
}

#[test]
fn no_error_carries_a_number() {
    // IT's template may hold literal digits; a dial string never reaches an error at all.
    for t in [
        format!("tel:+1{SURVIVOR_DIGITS}{{number}}"),
        format!("acmevoice://call?from={SURVIVOR_DIGITS}&to={{number}} "),
        format!("acmevoice://{SURVIVOR_DIGITS}"),
        format!("{SURVIVOR_DIGITS}:{{number}}"),
        format!("acmevoice://c?to={{number}}&{}", SURVIVOR_DIGITS.repeat(40)),
    ] {
        let err = Policy::from_json(&with_softphone("byod", &serde_json::json!({ "call_uri": t }).to_string()))
            .expect_err("refused");
        assert!(!err.to_string().contains(SURVIVOR_DIGITS), "{err}");
    }
    let s = Softphone::new("acmevoice://call?to={number}", None).expect("ok");
    assert_eq!(s.call_uri_for("+1 202 555 0143").as_deref(), Some("acmevoice://call?to=%2B12025550143"));
}

#[test]
fn only_the_root_sets_changes_or_removes_the_softphone() {
    let base = r#"{"schema":1,"mode":"byod","caller_id":{"method":"voip"}}"#;
    let (org, mut p) = setup_with("softphone-root", base);
    let t = now_secs(&p.clock);
    assert_eq!(p.agent.softphone(), None);
    let acme =
        with_softphone("byod", r#"{"call_uri":"acmevoice://call?to={number}","android_package":"com.acme.voice"}"#);
    let evil = with_softphone("byod", r#"{"call_uri":"whatsapp://send?phone={number}"}"#);
    // A staff key allowed to update policy may not point survivors' numbers at another app.
    let staff = policy_body_with(&org, &evil, 2, t, t + 86400);
    assert_eq!(
        trust_err(p.agent.install_signed_policy(&trust::sign_policy(&staff, &[&org.staff]).expect("sign"))),
        TrustError::StaffWeakening("rules.caller_id".into())
    );
    assert_eq!(p.agent.softphone(), None);
    // The root names the organisation's calling app.
    let root = policy_body_with(&org, &acme, 2, t, t + 86400);
    p.agent.install_signed_policy(&trust::sign_policy(&root, &[&org.root]).expect("sign")).expect("installed");
    assert_eq!(p.agent.softphone().map(|s| s.call_uri.as_str()), Some("acmevoice://call?to={number}"));
    // Nor may a staff key change it, or remove it.
    for rules in [evil.as_str(), base] {
        let staff = policy_body_with(&org, rules, 3, t, t + 86400);
        assert_eq!(
            trust_err(p.agent.install_signed_policy(&trust::sign_policy(&staff, &[&org.staff]).expect("sign"))),
            TrustError::StaffWeakening("rules.caller_id".into())
        );
    }
    // It survives a restart (it is the signed policy's, committed with it).
    assert_eq!(reopen(&p).expect("reopen").softphone(), p.agent.softphone());
    // A replay of the older root policy (without it) cannot take it away.
    let older = policy_body_with(&org, base, 1, t, t + 86400);
    assert!(p.agent.install_signed_policy(&trust::sign_policy(&older, &[&org.root]).expect("sign")).is_err());
    assert!(p.agent.softphone().is_some());
    // The root's next policy removes it.
    let root = policy_body_with(&org, base, 3, t, t + 86400);
    p.agent.install_signed_policy(&trust::sign_policy(&root, &[&org.root]).expect("sign")).expect("installed");
    assert_eq!(p.agent.softphone(), None);
}

#[test]
fn a_root_signed_policy_with_a_refused_template_is_refused_by_the_phone() {
    let (org, mut p) = setup_with("softphone-bad", r#"{"schema":1,"mode":"byod","caller_id":{"method":"voip"}}"#);
    let t = now_secs(&p.clock);
    // Built past the parser, as a tool other than quietline-admin could sign it.
    let mut body =
        policy_body_with(&org, r#"{"schema":1,"mode":"byod","caller_id":{"method":"voip"}}"#, 2, t, t + 86400);
    body.rules.caller_id.softphone = Some(Softphone { call_uri: "tel:{number}".into(), android_package: None });
    let err =
        p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("sign")).expect_err("refused");
    assert!(err.to_string().contains("caller_id.softphone.call_uri"), "{err}");
    assert_eq!(p.agent.softphone(), None);
}
