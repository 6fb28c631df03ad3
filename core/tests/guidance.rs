//! The guidance rules (core/src/guidance.rs): one test per error and per warning, named for it,
//! and the proof that the core refuses an erroneous policy wherever a policy enters.

use quietline_core::guidance::{self, Level, Review, Terms, RULES};
use quietline_core::trust::{self, PolicyBody, Role, SigningKey, StaffKey, TrustError};
use quietline_core::{wire, Agent, AgentConfig, AgentError, FileKeyProtector, FixedClock, Policy, PolicyError};
use std::sync::Arc;

const DAY: i64 = 86_400;
const T: i64 = 1_795_000_000;

fn rules(json: &str) -> Policy {
    Policy::from_json(json).expect("the rules parse and are in range")
}

fn ids(r: &Review, level: Level) -> Vec<&'static str> {
    r.findings.iter().filter(|f| f.rule.level == level).map(|f| f.rule.id).collect()
}

/// The rule fires as an error, and the core's acceptance check refuses the policy for it.
fn refused(json: &str, id: &str) {
    let p = rules(json);
    assert!(ids(&guidance::review(&p), Level::Error).contains(&id), "{id} not raised by {json}");
    match guidance::accept(&p) {
        Err(PolicyError::AgainstGuidance { rule, .. }) => assert_eq!(rule, id),
        other => panic!("{json}: expected a refusal for {id}, got {other:?}"),
    }
}

/// The rule fires as a warning only: the core accepts the policy.
fn warned(json: &str, id: &str) {
    let p = rules(json);
    let r = guidance::review(&p);
    assert!(ids(&r, Level::Warning).contains(&id), "{id} not raised by {json}: {:?}", r.findings);
    assert_eq!(guidance::accept(&p), Ok(()), "a warning never refuses");
}

fn terms(version: u64, days: i64, staff_keys: usize, staff_who_can_wipe: usize) -> Terms {
    Terms { version, issued_at: T, expires_at: T + days * DAY, staff_keys, staff_who_can_wipe }
}

#[test]
fn every_rule_has_an_id_a_field_and_a_reason() {
    let mut seen = std::collections::HashSet::new();
    for r in RULES {
        assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
        assert!(!r.field.is_empty() && r.guidance.len() > 20, "{}", r.id);
    }
}

const CONFIRMED: &str = r#""checklist":{"voicemail_transcription_off":"2026-11-20","carrier_accounts_restricted":"2026-11-20","billing_records_destroyed":"2026-11-20","no_free_voip":"2026-11-20","voip_numbers_not_reused":"2026-11-20"}"#;

#[test]
fn default_policies_follow_the_guidance() {
    let byod = guidance::review(&rules(&format!(r#"{{"schema":1,"mode":"byod",{CONFIRMED}}}"#)));
    assert!(byod.findings.is_empty(), "{:?}", byod.findings);
    let work = guidance::review(&rules(&format!(r#"{{"schema":1,"mode":"work",{CONFIRMED}}}"#)));
    assert_eq!(ids(&work, Level::Error), Vec::<&str>::new());
    assert_eq!(ids(&work, Level::Warning), ["work-off-duty-off"]);
}

#[test]
fn unconfirmed_checklist_is_warned_by_item() {
    warned(r#"{"schema":1,"mode":"byod"}"#, "checklist-unconfirmed");
    let one = rules(r#"{"schema":1,"mode":"byod","checklist":{"no_free_voip":"2026-11-01"}}"#);
    let f = guidance::review(&one).findings;
    let detail = &f.iter().find(|f| f.rule.id == "checklist-unconfirmed").expect("warned").detail;
    assert!(detail.contains("voicemail_transcription_off") && !detail.contains("no_free_voip"), "{detail}");
}

#[test]
fn prefix_star82_that_shows_the_number_is_refused() {
    refused(r#"{"schema":1,"mode":"work","caller_id":{"prefix":"*82"}}"#, "caller-id-prefix-shows");
}

#[test]
fn prefix_hash30_that_only_queries_is_refused() {
    refused(r##"{"schema":1,"mode":"work","caller_id":{"prefix":"#30#"}}"##, "caller-id-prefix-shows");
    refused(r#"{"schema":1,"mode":"byod","caller_id":{"prefix":"*31#"}}"#, "caller-id-prefix-shows");
}

#[test]
fn known_hiding_prefixes_raise_nothing() {
    for p in guidance::HIDING_PREFIXES {
        let r = guidance::review(&rules(&format!(
            r#"{{"schema":1,"mode":"byod","caller_id":{{"prefix":"{p}"}},{CONFIRMED}}}"#
        )));
        assert!(r.findings.is_empty(), "{p}: {:?}", r.findings);
    }
}

#[test]
fn unknown_prefix_is_warned() {
    warned(r#"{"schema":1,"mode":"byod","caller_id":{"prefix":"*99"}}"#, "caller-id-prefix-unknown");
}

#[test]
fn byod_without_secure_lock_is_refused() {
    refused(r#"{"schema":1,"mode":"byod","auto_lock":{"require_secure_lock":false}}"#, "byod-secure-lock");
}

#[test]
fn byod_keeping_the_call_log_is_refused() {
    refused(r#"{"schema":1,"mode":"byod","after_call":{"delete_call_log":false}}"#, "byod-delete-call-log");
}

#[test]
fn byod_keeping_contacts_is_refused() {
    refused(r#"{"schema":1,"mode":"byod","after_call":{"delete_contact":false}}"#, "byod-delete-contact");
}

#[test]
fn anonymous_hotline_keeping_the_call_log_is_refused() {
    let j =
        r#"{"schema":1,"mode":"work","retention":{"anonymous_hotline":true},"after_call":{"delete_call_log":false}}"#;
    refused(j, "hotline-keeps-numbers");
}

#[test]
fn both_wipe_scopes_disabled_is_refused() {
    refused(r#"{"schema":1,"mode":"work","wipe":{"allow_selective":false,"allow_full":false}}"#, "no-wipe-scope");
    refused(r#"{"schema":1,"mode":"byod","wipe":{"allow_selective":false}}"#, "no-wipe-scope");
    // Full wipe alone is a plan for remote wipes on a work phone.
    let p = rules(r#"{"schema":1,"mode":"work","wipe":{"allow_selective":false}}"#);
    assert_eq!(guidance::accept(&p), Ok(()));
}

#[test]
fn work_phone_without_secure_lock_is_warned() {
    warned(r#"{"schema":1,"mode":"work","auto_lock":{"require_secure_lock":false}}"#, "work-secure-lock");
}

#[test]
fn auto_lock_longer_than_a_minute_is_warned() {
    warned(r#"{"schema":1,"mode":"byod","auto_lock":{"max_timeout_secs":120}}"#, "auto-lock-long");
}

#[test]
fn work_phone_keeping_the_call_log_is_warned() {
    warned(r#"{"schema":1,"mode":"work","after_call":{"delete_call_log":false}}"#, "work-cleanup-off");
    warned(r#"{"schema":1,"mode":"work","after_call":{"delete_contact":false}}"#, "work-cleanup-off");
}

#[test]
fn delayed_cleanup_is_warned() {
    warned(r#"{"schema":1,"mode":"byod","after_call":{"delay_secs":600}}"#, "cleanup-delayed");
}

#[test]
fn texts_to_survivors_on_a_work_phone_are_warned() {
    warned(r#"{"schema":1,"mode":"work","sms":{"block_to_survivors":false}}"#, "sms-shows-number");
}

#[test]
fn rare_caller_id_recheck_is_warned() {
    warned(r#"{"schema":1,"mode":"byod","caller_id":{"recheck_days":60}}"#, "caller-id-recheck-rare");
}

#[test]
fn byod_softphone_with_a_prefix_or_carrier_method_is_warned() {
    let sp = r#""softphone":{"call_uri":"acmevoice://call?to={number}","android_package":"com.acme.voice"}"#;
    warned(&format!(r#"{{"schema":1,"mode":"byod","caller_id":{{{sp}}}}}"#), "softphone-not-voip");
    warned(&format!(r#"{{"schema":1,"mode":"byod","caller_id":{{"method":"carrier",{sp}}}}}"#), "softphone-not-voip");
    let voip =
        guidance::review(&rules(&format!(r#"{{"schema":1,"mode":"byod","caller_id":{{"method":"voip",{sp}}}}}"#)));
    assert!(!ids(&voip, Level::Warning).contains(&"softphone-not-voip"), "{:?}", voip.findings);
    // On a work phone the calling app carries only the calls the agent sends through VoIP.
    let work = guidance::review(&rules(&format!(r#"{{"schema":1,"mode":"work","caller_id":{{{sp}}}}}"#)));
    assert!(!ids(&work, Level::Warning).contains(&"softphone-not-voip"), "{:?}", work.findings);
}

#[test]
fn softphone_without_an_android_package_is_warned() {
    warned(
        r#"{"schema":1,"mode":"byod","caller_id":{"method":"voip","softphone":{"call_uri":"acmevoice://call?to={number}"}}}"#,
        "softphone-no-package",
    );
}

#[test]
fn work_phone_without_off_duty_hours_is_warned() {
    warned(r#"{"schema":1,"mode":"work"}"#, "work-off-duty-off");
}

#[test]
fn off_duty_without_power_off_reminder_is_warned() {
    let j = r#"{"schema":1,"mode":"work","off_duty":{"enabled":true,"remind_power_off":false}}"#;
    warned(j, "off-duty-no-reminder");
}

#[test]
fn long_retention_is_warned() {
    warned(r#"{"schema":1,"mode":"byod","retention":{"survivor_days":365}}"#, "retention-long");
    warned(r#"{"schema":1,"mode":"byod","retention":{"audit_days":180}}"#, "retention-long");
}

#[test]
fn policy_version_zero_is_refused() {
    assert!(ids(&guidance::review_terms(&terms(0, 30, 1, 1)), Level::Error).contains(&"policy-version-zero"));
}

#[test]
fn policy_living_longer_than_366_days_is_refused() {
    let r = guidance::review_terms(&terms(1, 4_294_967_295, 1, 1));
    assert!(ids(&r, Level::Error).contains(&"policy-lifetime"), "{:?}", r.findings);
    assert!(!ids(&r, Level::Warning).contains(&"policy-lifetime-long"), "one finding for one fault");
}

#[test]
fn policy_living_longer_than_90_days_is_warned() {
    let r = guidance::review_terms(&terms(1, 180, 1, 1));
    assert_eq!(ids(&r, Level::Warning), ["policy-lifetime-long"]);
    assert!(r.refuse().is_ok());
}

#[test]
fn policy_without_staff_key_is_warned() {
    let r = guidance::review_terms(&terms(1, 30, 0, 0));
    assert_eq!(ids(&r, Level::Warning), ["no-staff-key"]);
    assert!(r.refuse().is_ok());
}

#[test]
fn staff_without_a_wipe_role_is_warned() {
    let r = guidance::review_terms(&terms(1, 30, 2, 0));
    assert_eq!(ids(&r, Level::Warning), ["no-wipe-role"]);
}

fn body(version: u64, days: i64, rules_json: &str, staff: Vec<StaffKey>) -> PolicyBody {
    PolicyBody {
        org: "org-1".into(),
        version,
        issued_at: T,
        expires_at: T + days * DAY,
        targets: vec!["*".into()],
        grace_hours: 24,
        staff,
        rules: rules(rules_json),
    }
}

#[test]
fn wipe_role_counts_only_for_a_scope_the_rules_allow() {
    let k = SigningKey::generate().expect("key");
    let staff = vec![StaffKey { name: "it".into(), key: wire::hex(&k.public_key()), roles: vec![Role::WipeFull] }];
    let byod = body(1, 30, r#"{"schema":1,"mode":"byod"}"#, staff.clone());
    assert_eq!(ids(&byod.review_terms(), Level::Warning), ["no-wipe-role"], "byod is never wiped whole");
    let work = body(1, 30, r#"{"schema":1,"mode":"work"}"#, staff);
    assert!(work.review_terms().findings.is_empty());
}

fn decode(b: &PolicyBody) -> Result<trust::SignedPolicy, TrustError> {
    let root = SigningKey::generate().expect("root");
    // Signing does not check the guidance: the phone's decoder must.
    let text = trust::sign_policy(b, &[&root]).expect("sign");
    trust::decode_policy(&text)
}

#[test]
fn phone_refuses_a_signed_policy_against_the_guidance() {
    let bad = body(1, 30, r#"{"schema":1,"mode":"byod","auto_lock":{"require_secure_lock":false}}"#, vec![]);
    match decode(&bad) {
        Err(TrustError::Policy(PolicyError::AgainstGuidance { rule, field, .. })) => {
            assert_eq!((rule.as_str(), field.as_str()), ("byod-secure-lock", "auto_lock.require_secure_lock"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn phone_refuses_a_signed_policy_of_version_zero_or_endless_lifetime() {
    let zero = body(0, 30, r#"{"schema":1,"mode":"work"}"#, vec![]);
    assert!(
        matches!(decode(&zero), Err(TrustError::Policy(PolicyError::AgainstGuidance { rule, .. })) if rule == "policy-version-zero")
    );
    let endless = body(1, 4_294_967_295, r#"{"schema":1,"mode":"work"}"#, vec![]);
    assert!(
        matches!(decode(&endless), Err(TrustError::Policy(PolicyError::AgainstGuidance { rule, .. })) if rule == "policy-lifetime")
    );
    let fine = body(1, 366, r#"{"schema":1,"mode":"work"}"#, vec![]);
    assert!(decode(&fine).is_ok(), "warnings never refuse");
}

#[test]
fn agent_refuses_a_policy_against_the_guidance_and_keeps_its_own() {
    let dir = std::env::temp_dir().join(format!("ql-guidance-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let clock = Arc::new(FixedClock::at("2026-11-23T15:00:00Z", 0).expect("clock"));
    let bad = rules(r#"{"schema":1,"mode":"work","caller_id":{"prefix":"*82"}}"#);
    let cfg = AgentConfig::new(dir.join("a"), "US");
    let refused = Agent::create(cfg.clone(), protector.clone(), clock.clone(), bad.clone());
    assert!(matches!(refused, Err(AgentError::Policy(PolicyError::AgainstGuidance { .. }))));
    let good = rules(r#"{"schema":1,"mode":"work"}"#);
    let mut agent = Agent::create(cfg, protector, clock, good.clone()).expect("create");
    assert!(matches!(agent.install_policy(bad), Err(AgentError::Policy(PolicyError::AgainstGuidance { .. }))));
    assert_eq!(agent.policy(), &good, "the installed policy is kept");
    drop(agent);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn relay_url_without_https_is_refused() {
    assert!(guidance::check_relay_url("http://relay.example/acme").is_err());
    assert!(guidance::check_relay_url("ftp://relay.example/").is_err());
}

#[test]
fn relay_url_that_is_not_a_url_is_refused() {
    for bad in
        ["relay.example", "https://", "https:///path", "https://re lay.example/", "https://user:pw@relay.example/"]
    {
        assert!(guidance::check_relay_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn https_and_loopback_relay_urls_are_accepted() {
    for good in
        ["https://relay.example/acme", "HTTPS://relay.example:8443", "http://127.0.0.1:8080/r", "http://[::1]:9/"]
    {
        assert_eq!(guidance::check_relay_url(good), Ok(()), "{good}");
    }
}
