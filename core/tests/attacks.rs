//! The attack suite: one test per trust rule. Every object is forged, replayed, expired,
//! misaddressed, rolled back, truncated or oversized the way an attacker on an untrusted
//! channel (SMS, push, relay) could.

use chrono::Duration;
use quietline_core::device::{self, FailPoint};
use quietline_core::trust::{self, Role, RootBody, SigningKey, TrustError};
use quietline_core::wire::{self, CommandAction, PerformedScope, ReceiptOutcome, ReceiptReason};
use quietline_core::{ActionKind, Agent, AgentError, CommandStatus, FileKeyProtector, KeyProtector, WipeScope};
use std::sync::Arc;

mod common;
use common::*;

#[test]
fn valid_lock_command_is_applied_and_receipted_on_ack() {
    let (org, mut p) = setup("valid", "work");
    let t = now_secs(&p.clock);
    let r = p.agent.apply_command(&text(&command(&org, &org.locker, CommandAction::Lock, 1, t, 3600))).expect("ok");
    assert_eq!(r.status, CommandStatus::Applied);
    assert!(r.receipt.is_none(), "no receipt before the lock is done");
    let lock = r.actions.iter().find(|a| a.kind == ActionKind::LockNow).expect("lock action");
    p.agent.ack(lock.id, quietline_core::AckResult::Done).expect("ack");
    let receipts = p.agent.queued_receipts();
    assert_eq!(receipts.len(), 1);
    let rc = device::verify_receipt(&receipts[0], &p.device_key).expect("receipt verifies");
    assert_eq!((rc.outcome, rc.seq, rc.requested), (ReceiptOutcome::Done, 1, CommandAction::Lock));
}

#[test]
fn forged_command_is_rejected() {
    let (org, mut p) = setup("forged", "work");
    let t = now_secs(&p.clock);
    let mut c = command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600);
    c.signature[10] ^= 0x40;
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::BadSignature);
    // Signed by a key nobody enrolled, but claiming a trusted key id.
    let mallory = SigningKey::generate().expect("k");
    let mut c = command(&org, &mallory, CommandAction::WipeFull, 1, t, 3600);
    c.key_id = org.staff.key_id();
    c.signature = mallory.sign(&c.signed_bytes());
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::BadSignature);
    let c = command(&org, &mallory, CommandAction::WipeFull, 1, t, 3600);
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::UnknownSigner);
    assert!(p.agent.compliance().pending_actions > 0 || p.agent.queued_receipts().is_empty());
}

#[test]
fn unsigned_command_is_rejected() {
    let (org, mut p) = setup("unsigned", "work");
    let t = now_secs(&p.clock);
    let mut c = command(&org, &org.staff, CommandAction::Lock, 1, t, 3600);
    c.signature = [0; 64];
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::BadSignature);
    let mut bytes = c.to_bytes();
    bytes.truncate(wire::COMMAND_SIGNED_LEN);
    assert!(matches!(trust_err(p.agent.apply_command(&wire::to_text(&bytes))), TrustError::Wire(_)));
}

#[test]
fn wrong_key_role_is_rejected() {
    let (org, mut p) = setup("role", "work");
    let t = now_secs(&p.clock);
    let c = command(&org, &org.locker, CommandAction::WipeFull, 1, t, 3600);
    assert!(matches!(trust_err(p.agent.apply_command(&text(&c))), TrustError::RoleNotAllowed(_)));
    assert!(reopen(&p).is_ok(), "a refused wipe erased nothing");
}

#[test]
fn replayed_command_changes_nothing_and_returns_original_receipt() {
    let (org, mut p) = setup("replay", "work");
    let t = now_secs(&p.clock);
    let c = text(&command(&org, &org.staff, CommandAction::Ping, 5, t, 3600));
    let first = p.agent.apply_command(&c).expect("first");
    let gen = p.agent.all_pending_actions().len();
    let again = p.agent.apply_command(&c).expect("replay");
    assert_eq!(again.status, CommandStatus::Replayed);
    assert_eq!(again.receipt, first.receipt);
    assert_eq!(p.agent.all_pending_actions().len(), gen);
    assert_eq!(p.agent.queued_receipts().len(), 1, "a replay queues no new receipt");
}

#[test]
fn replayed_command_after_restart_is_recognised() {
    let (org, mut p) = setup("replay-restart", "work");
    let t = now_secs(&p.clock);
    let c = text(&command(&org, &org.staff, CommandAction::Lock, 9, t, 3600));
    let first = p.agent.apply_command(&c).expect("first");
    let pending = p.agent.all_pending_actions();
    let fresh = reopen(&p).expect("reopen");
    drop(std::mem::replace(&mut p.agent, fresh));
    let again = p.agent.apply_command(&c).expect("replay");
    assert_eq!(again.status, CommandStatus::Replayed);
    assert_eq!(p.agent.all_pending_actions(), pending);
    assert_eq!(first.command_id, again.command_id);
}

#[test]
fn re_encoded_or_malleated_signature_is_a_replay_not_a_new_command() {
    let (org, mut p) = setup("malleate", "work");
    let t = now_secs(&p.clock);
    let c = command(&org, &org.staff, CommandAction::Ping, 3, t, 3600);
    p.agent.apply_command(&text(&c)).expect("first");
    // Whitespace around the text is the same command.
    let again = p.agent.apply_command(&format!("  {}\n", text(&c))).expect("re-encoded");
    assert_eq!(again.status, CommandStatus::Replayed);
    // S + L (the group order) is the classic Ed25519 malleation: it must never be a new command.
    let mut m = c.clone();
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (sig, add) in m.signature[32..].iter_mut().zip(l) {
        let s = u16::from(*sig) + u16::from(add) + carry;
        *sig = s as u8;
        carry = s >> 8;
    }
    match p.agent.apply_command(&text(&m)) {
        Ok(r) => assert_eq!(r.status, CommandStatus::Replayed),
        Err(AgentError::Trust(TrustError::BadSignature)) => {}
        other => panic!("malleated signature must be refused or treated as the replay it is: {other:?}"),
    }
    assert_eq!(p.agent.queued_receipts().len(), 1);
}

#[test]
fn wrong_device_is_rejected() {
    let (org, mut p) = setup("device", "work");
    let t = now_secs(&p.clock);
    let mut c = command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600);
    c.device_id[0] ^= 1;
    c.signature = org.staff.sign(&c.signed_bytes());
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::WrongDevice);
}

#[test]
fn wrong_enrollment_is_rejected() {
    let (org, mut p) = setup("enrollment", "work");
    let t = now_secs(&p.clock);
    let mut c = command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600);
    c.enrollment_id = [9, 9, 9, 9];
    c.signature = org.staff.sign(&c.signed_bytes());
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::WrongEnrollment);
}

#[test]
fn expired_command_is_rejected() {
    let (org, mut p) = setup("expired", "work");
    let t = now_secs(&p.clock);
    let c = command(&org, &org.staff, CommandAction::WipeFull, 1, t - 7200, 3600);
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::Expired);
}

#[test]
fn future_dated_command_is_rejected() {
    let (org, mut p) = setup("future", "work");
    let t = now_secs(&p.clock);
    let c = command(&org, &org.staff, CommandAction::Lock, 1, t + 3600, 3600);
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::FutureDated);
    let ok = command(&org, &org.staff, CommandAction::Lock, 2, t + 120, 3600);
    assert!(p.agent.apply_command(&text(&ok)).is_ok(), "within the allowed skew");
}

#[test]
fn clock_set_back_never_revives_an_expired_command() {
    let (org, mut p) = setup("clockback", "work");
    let t = now_secs(&p.clock);
    let c = command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600);
    // Two real hours pass, measured by the monotonic clock within this boot (the evidence)...
    p.clock.set_monotonic(1, 100);
    p.agent.handle(quietline_core::Event::Tick).expect("tick anchors the monotonic clock");
    p.clock.advance(Duration::hours(2));
    p.agent.handle(quietline_core::Event::Tick).expect("tick commits the time the evidence supports");
    // ...then the wall clock alone is set back to when the command was valid.
    p.clock.set(quietline_core::Clock::now(&*p.clock) - Duration::hours(2));
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::Expired);
    let fresh = reopen(&p).expect("reopen");
    drop(std::mem::replace(&mut p.agent, fresh));
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::Expired, "also after a restart");
}

#[test]
fn lower_sequence_is_rejected() {
    let (org, mut p) = setup("seq", "work");
    let t = now_secs(&p.clock);
    p.agent.apply_command(&text(&command(&org, &org.staff, CommandAction::Ping, 10, t, 3600))).expect("10");
    let c = command(&org, &org.staff, CommandAction::Ping, 4, t, 3600);
    assert_eq!(trust_err(p.agent.apply_command(&text(&c))), TrustError::SequenceReused(4));
    let same_seq_other = command(&org, &org.staff, CommandAction::Lock, 10, t, 3600);
    assert_eq!(trust_err(p.agent.apply_command(&text(&same_seq_other))), TrustError::SequenceReused(10));
}

#[test]
fn policy_rollback_is_rejected() {
    let (org, mut p) = setup("rollback", "work");
    let t = now_secs(&p.clock);
    let v3 = trust::sign_policy(&policy_body(&org, "work", 3, t, t + 86400), &[&org.root]).expect("v3");
    p.agent.install_signed_policy(&v3).expect("v3 installs");
    let v2 = trust::sign_policy(&policy_body(&org, "work", 2, t, t + 86400), &[&org.root]).expect("v2");
    assert_eq!(trust_err(p.agent.install_signed_policy(&v2)), TrustError::Rollback { installed: 3, got: 2 });
    assert_eq!(p.agent.policy_version(), Some(3));
}

#[test]
fn same_version_different_content_is_rejected() {
    let (org, mut p) = setup("samever", "work");
    let t = now_secs(&p.clock);
    let mut body = policy_body(&org, "work", 2, t, t + 86400);
    p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("v2")).expect("v2");
    assert!(p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("v2")).is_ok());
    body.rules.auto_lock.max_timeout_secs = 600;
    let other = trust::sign_policy(&body, &[&org.root]).expect("v2'");
    assert_eq!(trust_err(p.agent.install_signed_policy(&other)), TrustError::SameVersionDifferentContent(2));
    assert_eq!(p.agent.policy().auto_lock.max_timeout_secs, 30);
}

#[test]
fn expired_policy_is_never_installed_and_freeze_keeps_last_policy_then_locks() {
    let (org, mut p) = setup("freeze", "work");
    let t = now_secs(&p.clock);
    let mut strict = policy_body(&org, "work", 2, t, t + 3600);
    strict.rules.auto_lock.max_timeout_secs = 15;
    strict.grace_hours = 2;
    p.agent.install_signed_policy(&trust::sign_policy(&strict, &[&org.root]).expect("v2")).expect("v2");
    let old = trust::sign_policy(&policy_body(&org, "work", 3, t - 7200, t - 60), &[&org.root]).expect("old");
    assert_eq!(trust_err(p.agent.install_signed_policy(&old)), TrustError::Expired);
    // Freeze: the policy expires and nothing newer arrives.
    p.clock.advance(Duration::hours(2));
    let out = p.agent.handle(quietline_core::Event::Tick).expect("tick");
    assert_eq!(p.agent.policy().auto_lock.max_timeout_secs, 15, "never relaxed to defaults");
    assert!(p.agent.policy_is_stale());
    assert!(p.agent.compliance().findings.iter().any(|f| matches!(f, quietline_core::Finding::PolicyStale { .. })));
    assert!(!out.actions.iter().any(|a| a.kind == ActionKind::LockNow), "no lock within the grace period");
    let stale = |o: &quietline_core::Outcome| {
        o.actions.iter().any(|a| a.kind == ActionKind::Notify { kind: quietline_core::NotifyKind::PolicyStale })
    };
    assert!(stale(&out), "the advocate is told the policy is stale");
    for a in &out.actions {
        p.agent.ack(a.id, quietline_core::AckResult::Done).expect("ack");
    }
    p.clock.advance(Duration::minutes(30));
    assert!(!stale(&p.agent.handle(quietline_core::Event::Tick).expect("tick")), "at most once a day");
    p.clock.advance(Duration::minutes(90));
    let out = p.agent.handle(quietline_core::Event::Tick).expect("tick");
    assert!(out.actions.iter().any(|a| a.kind == ActionKind::LockNow), "locks after the grace period");
}

#[test]
fn threshold_with_duplicated_key_counts_once() {
    let (org, mut p) = setup("threshold", "work");
    let t = now_secs(&p.clock);
    let second = SigningKey::generate().expect("k2");
    let rot = RootBody {
        org: "org-1".into(),
        version: 2,
        keys: vec![wire::hex(&org.root.public_key()), wire::hex(&second.public_key())],
        threshold: 2,
    };
    p.agent.apply_root_rotation(&trust::sign_root(&rot, &[&org.root, &second]).expect("rot")).expect("v2 root");
    let body = policy_body(&org, "work", 2, t, t + 86400);
    let twice = trust::sign_policy(&body, &[&org.root, &org.root]).expect("dup");
    assert_eq!(trust_err(p.agent.install_signed_policy(&twice)), TrustError::ThresholdNotMet { need: 2, got: 1 });
    let both = trust::sign_policy(&body, &[&org.root, &second]).expect("both");
    assert!(p.agent.install_signed_policy(&both).is_ok());
    // A rotation that lists one key twice cannot reach a threshold of two with it.
    let dup = RootBody { version: 3, keys: vec![wire::hex(&second.public_key()); 2], threshold: 2, ..rot.clone() };
    assert!(matches!(
        trust_err(p.agent.apply_root_rotation(&trust::sign_root(&dup, &[&org.root, &second]).expect("dup"))),
        TrustError::BadBody { .. }
    ));
}

#[test]
fn root_rotation_needs_old_and_new_keys_and_exactly_n_plus_1() {
    let (org, mut p) = setup("rotation", "work");
    let k2 = SigningKey::generate().expect("k2");
    let k3 = SigningKey::generate().expect("k3");
    let r2 = RootBody { org: "org-1".into(), version: 2, keys: vec![wire::hex(&k2.public_key())], threshold: 1 };
    let r3 = RootBody { org: "org-1".into(), version: 3, keys: vec![wire::hex(&k3.public_key())], threshold: 1 };
    let r2_text = trust::sign_root(&r2, &[&org.root, &k2]).expect("r2");
    let r3_text = trust::sign_root(&r3, &[&k2, &k3]).expect("r3");
    assert_eq!(
        trust_err(p.agent.apply_root_rotation(&r3_text)),
        TrustError::RotationGap { expected: 2, got: 3 },
        "N+2 is refused"
    );
    let only_new = trust::sign_root(&r2, &[&k2]).expect("new only");
    assert!(p.agent.apply_root_rotation(&only_new).is_err(), "the old root must sign");
    let only_old = trust::sign_root(&r2, &[&org.root]).expect("old only");
    assert!(p.agent.apply_root_rotation(&only_old).is_err(), "the new root must sign");
    // A device that missed two rotations catches up in order.
    assert_eq!(p.agent.apply_root_rotation(&r2_text).expect("2"), 2);
    assert_eq!(p.agent.apply_root_rotation(&r3_text).expect("3"), 3);
    assert!(matches!(trust_err(p.agent.apply_root_rotation(&r2_text)), TrustError::Rollback { .. }));
    let t = now_secs(&p.clock);
    let by_old_root = trust::sign_policy(&policy_body(&org, "work", 2, t, t + 86400), &[&org.root]).expect("p");
    assert_eq!(trust_err(p.agent.install_signed_policy(&by_old_root)), TrustError::BadSignature);
    let by_new_root = trust::sign_policy(&policy_body(&org, "work", 2, t, t + 86400), &[&k3]).expect("p");
    assert!(p.agent.install_signed_policy(&by_new_root).is_ok());
}

#[test]
fn byod_full_wipe_performs_selective_and_receipt_says_so() {
    let (org, mut p) = setup("byod-wipe", "byod");
    let t = now_secs(&p.clock);
    let c = command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600);
    let r = p.agent.apply_command(&text(&c)).expect("wipe");
    assert_eq!(r.wipe, Some(WipeScope::Selective));
    let rc = device::verify_receipt(r.receipt.as_deref().expect("receipt"), &p.device_key).expect("verifies");
    assert_eq!(
        (rc.requested, rc.outcome, rc.performed, rc.reason),
        (CommandAction::WipeFull, ReceiptOutcome::Erased, PerformedScope::Selective, ReceiptReason::ByodSelectiveOnly)
    );
    assert!(matches!(p.agent.handle(quietline_core::Event::Tick), Err(AgentError::Wiped { .. })));
    assert!(!p.dir.join("kek").exists(), "the protecting key is destroyed");
    assert!(!p.dir.join("state").join("state.qls").exists());
}

#[test]
fn work_full_wipe_crypto_erases_and_receipt_verifies() {
    let (org, mut p) = setup("work-wipe", "work");
    p.agent.register_survivor("2075550100", None).expect("register");
    let t = now_secs(&p.clock);
    let r = p.agent.apply_command(&text(&command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600))).expect("w");
    assert_eq!(r.wipe, Some(WipeScope::Full));
    let rc = device::verify_receipt(r.receipt.as_deref().expect("receipt"), &p.device_key).expect("verifies");
    assert_eq!(rc.performed, PerformedScope::Full);
    assert!(matches!(reopen(&p), Err(AgentError::Store(_))), "nothing left to open");
    assert_eq!(device::take_wipe_receipt(&p.dir.join("state")), r.receipt);
}

#[test]
fn crash_between_wipe_intent_and_wipe_resumes_on_open() {
    let (org, mut p) = setup("wipe-crash", "work");
    p.agent.set_fail_point(Some(FailPoint::AfterWipeIntent));
    let t = now_secs(&p.clock);
    let c = command(&org, &org.staff, CommandAction::WipeSelective, 1, t, 3600);
    assert!(p.agent.apply_command(&text(&c)).is_err(), "the process 'dies' after the intent");
    assert!(p.dir.join("kek").exists(), "nothing erased yet");
    match reopen(&p) {
        Err(AgentError::Wiped { scope }) => assert_eq!(scope, WipeScope::Selective),
        other => panic!("the wipe must resume on open: {other:?}"),
    }
    assert!(!p.dir.join("kek").exists());
    let receipt = device::take_wipe_receipt(&p.dir.join("state")).expect("a receipt is left for the app");
    let rc = device::verify_receipt(&receipt, &p.device_key).expect("verifies");
    assert_eq!((rc.outcome, rc.performed), (ReceiptOutcome::Erased, PerformedScope::Selective));
}

#[test]
fn truncated_and_oversized_input_is_rejected_before_parsing() {
    let (org, mut p) = setup("sizes", "work");
    let t = now_secs(&p.clock);
    let good = text(&command(&org, &org.staff, CommandAction::Lock, 1, t, 3600));
    for cut in [0, 3, 10, good.len() / 2, good.len() - 1] {
        assert!(p.agent.apply_command(&good[..cut]).is_err(), "cut at {cut}");
    }
    let huge = format!("QL:{}", "A".repeat(wire::MAX_TEXT + 10));
    assert_eq!(trust_err(p.agent.apply_command(&huge)), TrustError::Wire(wire::WireError::TooLarge(huge.len())));
    assert_eq!(
        trust_err(p.agent.install_signed_policy(&huge)),
        TrustError::Wire(wire::WireError::TooLarge(huge.len()))
    );
    assert!(p.agent.apply_command("").is_err());
    assert!(p.agent.apply_command("hello").is_err());
    assert!(p.agent.apply_command(&good).is_ok(), "nothing was consumed by the garbage");
}

#[test]
fn policy_for_another_device_or_org_or_mode_is_rejected() {
    let (org, mut p) = setup("policy-target", "work");
    let t = now_secs(&p.clock);
    let mut body = policy_body(&org, "work", 2, t, t + 86400);
    body.targets = vec!["0000000000000000".into()];
    assert_eq!(
        trust_err(p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("p"))),
        TrustError::WrongDevice
    );
    let mut body = policy_body(&org, "work", 2, t, t + 86400);
    body.org = "other".into();
    assert_eq!(
        trust_err(p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("p"))),
        TrustError::WrongOrg
    );
    let body = policy_body(&org, "byod", 2, t, t + 86400);
    assert_eq!(
        trust_err(p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("p"))),
        TrustError::ModeMismatch
    );
}

#[test]
fn staff_signed_policy_cannot_escalate() {
    let (org, mut p) = setup("escalate", "work");
    let t = now_secs(&p.clock);
    let mut body = policy_body(&org, "work", 2, t, t + 86400);
    body.rules.auto_lock.max_timeout_secs = 20;
    assert!(p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.staff]).expect("p")).is_ok());
    let mut body = policy_body(&org, "work", 3, t, t + 86400);
    body.staff[1].roles.push(Role::WipeFull);
    assert_eq!(
        trust_err(p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.staff]).expect("p"))),
        TrustError::StaffEscalation
    );
    let body = policy_body(&org, "work", 3, t, t + 86400);
    assert_eq!(
        trust_err(p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.locker]).expect("p"))),
        TrustError::BadSignature
    );
}

#[test]
fn key_store_failure_during_wipe_is_reported_not_claimed() {
    struct Broken(FileKeyProtector);
    impl KeyProtector for Broken {
        fn wrap(&self, k: &[u8]) -> Result<Vec<u8>, quietline_core::KeyProtectorError> {
            self.0.wrap(k)
        }
        fn unwrap(&self, w: &[u8]) -> Result<Vec<u8>, quietline_core::KeyProtectorError> {
            self.0.unwrap(w)
        }
        fn destroy(&self) -> Result<(), quietline_core::KeyProtectorError> {
            Err(quietline_core::KeyProtectorError::Unavailable("locked".into()))
        }
    }
    let (org, p) = setup("broken-ks", "work");
    let dir = p.dir.clone();
    drop(p.agent);
    let protector = Arc::new(Broken(FileKeyProtector::new(dir.join("kek"))));
    let mut agent = Agent::open(dir.join("state"), protector, p.clock.clone()).expect("open");
    let t = now_secs(&p.clock);
    let r = agent.apply_command(&text(&command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600)));
    assert!(r.is_err(), "the wipe reports the key store failure");
    let receipt = device::take_wipe_receipt(&dir.join("state")).expect("receipt left");
    let rc = device::verify_receipt(&receipt, &p.device_key).expect("verifies");
    assert_eq!(
        (rc.outcome, rc.performed, rc.reason),
        (ReceiptOutcome::Failed, PerformedScope::None, ReceiptReason::KeyStoreUnavailable)
    );
}

#[test]
fn full_wipe_on_a_platform_without_it_is_selective_and_receipt_says_why() {
    let (org, mut p) = setup("caps-wipe", "work");
    p.agent.set_platform_caps(quietline_core::PlatformCaps { full_wipe: false, prefix_dialing: false }).expect("caps");
    let t = now_secs(&p.clock);
    let r = p.agent.apply_command(&text(&command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600))).expect("w");
    assert_eq!(r.wipe, Some(WipeScope::Selective));
    let rc = device::verify_receipt(r.receipt.as_deref().expect("receipt"), &p.device_key).expect("verifies");
    assert_eq!((rc.performed, rc.reason), (PerformedScope::Selective, ReceiptReason::PlatformSelectiveOnly));
}

#[test]
fn crash_after_the_wipe_marker_but_before_the_intent_commit_still_wipes() {
    let (org, mut p) = setup("marker-only", "work");
    let t = now_secs(&p.clock);
    let c = command(&org, &org.staff, CommandAction::WipeSelective, 1, t, 3600);
    let state = p.dir.join("state");
    // The process 'dies' after writing the (tagged) marker, before the commit of the intent.
    p.agent.set_fail_point(Some(FailPoint::AfterWipeMarker));
    assert!(p.agent.apply_command(&text(&c)).is_err());
    drop(p.agent);
    match Agent::open(&state, p.protector.clone(), p.clock.clone()) {
        Err(AgentError::Wiped { scope }) => assert_eq!(scope, WipeScope::Selective),
        other => panic!("the marker is the intent: {other:?}"),
    }
    assert!(!p.dir.join("kek").exists());
    let r = device::verify_receipt(&device::take_wipe_receipt(&state).expect("receipt"), &p.device_key).expect("ok");
    assert_eq!((r.performed, r.command_id), (PerformedScope::Selective, c.id()));
}

#[test]
fn unreadable_wipe_marker_is_not_an_instruction() {
    let (_org, p) = setup("marker-garbage", "work");
    let state = p.dir.join("state");
    std::fs::write(state.join(device::WIPE_INTENT_FILE), b"\x00garbage").expect("marker");
    drop(p.agent);
    let a = Agent::open(&state, p.protector.clone(), p.clock.clone()).expect("opens normally");
    assert!(a.wiped().is_none());
    assert!(!state.join(device::WIPE_INTENT_FILE).exists());
}

#[test]
fn enrollment_response_survives_a_restart() {
    let (_org, p) = setup("response", "work");
    let before = p.agent.enrollment_response().expect("kept");
    drop(p.agent);
    let a = Agent::open(p.dir.join("state"), p.protector.clone(), p.clock.clone()).expect("open");
    assert_eq!(a.enrollment_response(), Some(before.clone()));
    assert_eq!(device::verify_enroll_response(&before).expect("verifies").device_key, p.device_key);
}
