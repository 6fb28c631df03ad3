//! Attacks by the roles the design must not trust too far (issue 11): a legitimate staff key,
//! the relay, the SMS channel, and someone who can read or write the agent's directory. One
//! test per item of the issue; docs/threat-model.md names each of them in its per-role table.

use chrono::Duration;
use quietline_core::device;
use quietline_core::trust::{self, SigningKey, TrustError};
use quietline_core::wire::{self, CommandAction, EnrollResponse, PerformedScope, ReceiptOutcome};
use quietline_core::{
    AckResult, ActionKind, Agent, AgentConfig, AgentError, Clock, CommandStatus, Event, FileKeyProtector, KeyProtector,
    KeyProtectorError, PlatformCaps, StateError, Verdict, WipeScope,
};
use std::sync::Arc;

mod common;
use common::*;

const S1: &str = "2075550100";

/// Item 1: no key can make another key's honestly numbered commands unacceptable; ping needs
/// a role.
#[test]
fn sequence_exhaustion_by_one_key_never_blocks_another() {
    let (org, mut p) = setup("seq-exhaust", "work");
    let t = now_secs(&p.clock);
    // The lock-only helpdesk key may not ping: a ping needs a role like every other action.
    let ping = command(&org, &org.locker, CommandAction::Ping, 1, t, 3600);
    assert!(matches!(trust_err(p.agent.apply_command(&text(&ping))), TrustError::RoleNotAllowed(_)));
    // It may lock, but not jump to the largest sequence number in one go...
    let lock = command(&org, &org.locker, CommandAction::Lock, u32::MAX, t, 3600);
    assert!(matches!(trust_err(p.agent.apply_command(&text(&lock))), TrustError::SequenceJump { .. }));
    // ...and the largest jump it may make, or any number, uses up only its own window...
    let lock = command(&org, &org.locker, CommandAction::Lock, trust::MAX_SEQ_STEP, t, 3600);
    assert_eq!(p.agent.apply_command(&text(&lock)).expect("lock").status, CommandStatus::Applied);
    // ...which exhausts only its own window: the IT lead's wipe numbered 1 is still accepted.
    let wipe = command(&org, &org.staff, CommandAction::WipeSelective, 1, t, 3600);
    assert_eq!(p.agent.apply_command(&text(&wipe)).expect("wipe").status, CommandStatus::Applied);
}

/// Item 1: two IT staff on two laptops, each with their own key and no shared file, both
/// number their first command 1; neither is refused, and each is still a replay if resent.
#[test]
fn two_admins_numbering_independently_never_collide() {
    let (org, mut p) = setup("two-admins", "work");
    let t = now_secs(&p.clock);
    let a = text(&command(&org, &org.staff, CommandAction::Lock, 1, t, 3600));
    let b = text(&command(&org, &org.locker, CommandAction::Lock, 1, t, 3600));
    assert_eq!(p.agent.apply_command(&a).expect("a").status, CommandStatus::Applied);
    assert_eq!(p.agent.apply_command(&b).expect("b").status, CommandStatus::Applied);
    assert_eq!(p.agent.apply_command(&a).expect("a again").status, CommandStatus::Replayed);
    assert_eq!(p.agent.apply_command(&b).expect("b again").status, CommandStatus::Replayed);
    let stale = text(&command(&org, &org.locker, CommandAction::Lock, 1, t + 1, 3600));
    assert_eq!(trust_err(p.agent.apply_command(&stale)), TrustError::SequenceReused(1));
}

/// Item 2: a key with `update_policy` cannot weaken protection or exhaust versions, and a
/// root-signed policy supersedes whatever it signed.
#[test]
fn staff_signed_policy_cannot_weaken_or_exhaust_versions_and_root_supersedes() {
    let (org, mut p) = setup("staff-weaken", "work");
    let t = now_secs(&p.clock);
    // Within the field guidance (so not refused for that), but weaker than the root's rules.
    let weak = r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":600,"require_secure_lock":false},
        "wipe":{"allow_selective":true,"allow_full":false},"caller_id":{"method":"carrier"},
        "offline":{"check_in":{"notify_after_hours":null,"lock_after_hours":null},"max_failed_unlocks":null}}"#;
    let body = policy_body_with(&org, weak, 2, t, t + 86400);
    let r = p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.staff]).expect("sign"));
    assert!(matches!(trust_err(r), TrustError::StaffWeakening(_)), "a staff key may not weaken the rules");
    let body = policy_body(&org, "work", u64::MAX, t, t + 86400);
    let r = p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.staff]).expect("sign"));
    assert!(matches!(trust_err(r), TrustError::VersionJump { .. }), "versions cannot be exhausted");
    // A renewal the staff key may sign, numbered high...
    let body = policy_body(&org, "work", 1000, t, t + 40 * 86400);
    p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.staff]).expect("sign")).expect("renewal");
    // ...never keeps the root out: the root's next policy supersedes it.
    let body = policy_body(&org, "work", 2, t + 60, t + 86400);
    p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("sign")).expect("root wins");
    assert_eq!(p.agent.policy_version(), Some(2));
}

/// Item 3: the relay cannot substitute its own device key in the enrollment response.
#[test]
fn substituted_enrollment_response_is_refused() {
    let (_org, p) = setup("substituted", "work");
    let genuine = p.agent.enrollment_response().expect("response");
    let real = device::verify_enroll_response(&genuine).expect("genuine verifies");
    let relay = SigningKey::generate().expect("k");
    let mut forged = EnrollResponse { device_key: relay.public_key(), ..real };
    forged.signature = relay.sign(&forged.signed_bytes());
    let forged = wire::to_text(&forged.to_bytes());
    device::verify_enroll_response_for_bundle(&genuine, &p.bundle).expect("the genuine response is bound");
    assert!(device::verify_enroll_response(&forged).is_ok(), "it proves possession of the relay's key...");
    assert_eq!(
        device::verify_enroll_response_for_bundle(&forged, &p.bundle).err(),
        Some(TrustError::NotBoundToBundle),
        "...but not knowledge of the bundle's secret"
    );
}

/// Item 4: enrolling again from the same bundle (or a photo of its QR code) starts a new
/// enrollment; nothing signed for the earlier one is accepted.
#[test]
fn reenrolling_from_the_same_bundle_refuses_what_was_signed_before() {
    let (org, p) = setup("reenroll-1", "work");
    let t = now_secs(&p.clock);
    let captured = text(&command(&org, &org.staff, CommandAction::WipeSelective, 1, t, 3600));
    let mut again = enroll(tmp("reenroll-2"), p.clock.clone(), &p.bundle);
    assert_ne!(again.enrollment_id, p.enrollment_id, "a fresh enrollment id");
    assert_eq!(trust_err(again.agent.apply_command(&captured)), TrustError::WrongEnrollment);
}

/// Item 5: replaying the installed policy (or a relay poll that merely succeeded) is not a
/// check-in; the offline rule still locks the phone.
#[test]
fn replayed_policy_or_bare_poll_is_not_a_check_in() {
    let rules = r#"{"schema":1,"mode":"work","offline":{"check_in":{"lock_after_hours":48,"warn_lead_hours":12}}}"#;
    let (org, mut p) = setup_with("checkin-replay", rules);
    let t = now_secs(&p.clock);
    let installed = trust::sign_policy(&policy_body_with(&org, rules, 2, t, t + 30 * 86400), &[&org.root]).expect("p");
    p.agent.install_signed_policy(&installed).expect("v2");
    let mut locked = false;
    for _ in 0..5 {
        p.clock.advance(Duration::hours(12));
        p.agent.install_signed_policy(&installed).expect("the same policy again changes nothing");
        p.agent.handle(Event::CheckIn).expect("a poll");
        let out = p.agent.handle(Event::Tick).expect("tick");
        locked |= out.actions.iter().any(|a| a.kind == ActionKind::LockNow);
    }
    assert!(locked, "60 hours without fresh evidence from the organisation lock the phone");
    // A fresh signed command is evidence: it resets the timer.
    let now = now_secs(&p.clock);
    p.agent.apply_command(&text(&command(&org, &org.staff, CommandAction::Ping, 1, now, 3600))).expect("ping");
}

/// Item 6: a forged wipe marker cannot widen the wipe past the enrolled mode, nor make the
/// device sign a receipt for a command it never verified.
#[test]
fn forged_wipe_marker_cannot_widen_the_wipe_or_choose_what_is_signed() {
    let (_org, p) = setup("marker-forged", "byod");
    let state = p.dir.join("state");
    let marker = serde_json::json!({
        "scope": "full", "reason": "none", "requested": "wipe_full", "seq": 77, "command_id": vec![7u8; 16],
    });
    std::fs::write(state.join(device::WIPE_INTENT_FILE), marker.to_string()).expect("marker");
    drop(p.agent);
    let opened = Agent::open(&state, p.protector.clone(), p.clock.clone());
    assert!(!matches!(opened, Err(AgentError::Wiped { scope: WipeScope::Full })), "never Full on byod");
    if let Some(r) = device::take_wipe_receipt(&state) {
        let r = device::verify_receipt(&r, &p.device_key).expect("verifies");
        assert!(r.seq != 77 && r.command_id != [7u8; 16], "the device signed for a command it never saw");
    }
}

struct Locked(FileKeyProtector);
impl KeyProtector for Locked {
    fn wrap(&self, k: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        self.0.wrap(k)
    }
    fn unwrap(&self, _w: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        Err(KeyProtectorError::Unavailable("before first unlock".into()))
    }
    fn destroy(&self) -> Result<(), KeyProtectorError> {
        Err(KeyProtectorError::Unavailable("before first unlock".into()))
    }
}

/// Item 6: garbage in the marker and a key store that is only locked for now (before first
/// unlock) erase nothing; the agent opens normally once the key store is back.
#[test]
fn garbage_marker_with_a_locked_key_store_erases_nothing() {
    let (_org, p) = setup("marker-locked", "work");
    let state = p.dir.join("state");
    std::fs::write(state.join(device::WIPE_INTENT_FILE), b"\x00garbage").expect("marker");
    drop(p.agent);
    let locked: Arc<dyn KeyProtector> = Arc::new(Locked(FileKeyProtector::new(p.dir.join("kek"))));
    assert!(Agent::open(&state, locked, p.clock.clone()).is_err(), "not opened while the key store is locked");
    assert!(state.join("state.qls").exists() && p.dir.join("kek").exists(), "nothing erased");
    let a = Agent::open(&state, p.protector.clone(), p.clock.clone()).expect("opens once the key store is back");
    assert!(a.wiped().is_none());
}

/// Item 7: copying back an older state directory (state and registry file) is detected.
#[test]
fn rolled_back_state_directory_is_detected() {
    let (_org, mut p) = setup("rollback-dir", "work");
    p.agent.register_survivor(S1, None).expect("register");
    let state = p.dir.join("state");
    let snapshot = tmp("rollback-dir-copy");
    std::fs::create_dir_all(&snapshot).expect("mkdir");
    for e in std::fs::read_dir(&state).expect("ls").flatten() {
        std::fs::copy(e.path(), snapshot.join(e.file_name())).expect("copy");
    }
    p.agent.purge_survivor_data().expect("purge");
    let fresh = reopen(&p).expect("reopen");
    drop(std::mem::replace(&mut p.agent, fresh));
    for e in std::fs::read_dir(&snapshot).expect("ls").flatten() {
        std::fs::copy(e.path(), state.join(e.file_name())).expect("restore");
    }
    match reopen(&p) {
        Err(e) => assert!(e.to_string().contains("rolled back"), "unexpected error: {e}"),
        Ok(a) => panic!("a rolled-back directory was opened (survivor revived: {:?})", a.is_survivor(S1)),
    }
}

/// Item 8: crypto-erase overwrites the wrapped data key and the desktop key-encryption key in
/// place (the same blocks), before they are removed.
#[test]
fn crypto_erase_overwrites_key_bytes_in_place() {
    let (org, mut p) = setup("erase-in-place", "work");
    // A second name for the same inode shows what is left in its blocks after the wipe.
    let data_key = p.dir.join("data.key.link");
    let kek = p.dir.join("kek.link");
    std::fs::hard_link(p.dir.join("state").join("data.key"), &data_key).expect("link");
    std::fs::hard_link(p.dir.join("kek"), &kek).expect("link");
    let t = now_secs(&p.clock);
    p.agent.apply_command(&text(&command(&org, &org.staff, CommandAction::WipeSelective, 1, t, 3600))).expect("wipe");
    for f in [data_key, kek] {
        let left = std::fs::read(&f).expect("read");
        assert!(!left.is_empty() && left.iter().all(|b| *b == 0), "{} still holds key bytes", f.display());
    }
}

/// Item 9: after hours, a call from a registered survivor and from anyone else get the same
/// answer, so a spoofed caller ID learns nothing about who is a client.
#[test]
fn off_duty_answer_does_not_reveal_who_is_registered() {
    let rules = r#"{"schema":1,"mode":"work","off_duty":{"enabled":true,
        "days":["mon","tue","wed","thu","fri","sat","sun"],"start":"09:00","end":"17:00","survivor_calls":"voicemail"}}"#;
    let (_org, mut p) = setup_with("off-duty-oracle", rules);
    p.agent.register_survivor(S1, None).expect("register");
    p.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-23T22:00:00Z").expect("t").into());
    let survivor = p.agent.handle(Event::IncomingCall { number: Some(S1.into()) }).expect("call");
    let stranger = p.agent.handle(Event::IncomingCall { number: Some("2075550199".into()) }).expect("call");
    assert_eq!(survivor.verdict, stranger.verdict);
    assert!(matches!(stranger.verdict, Verdict::SendToVoicemail { .. }));
}

/// Item 10: a clock set ten years ahead once, then corrected, does not lock IT out: trusted
/// time advances only from evidence (signed issue times, the monotonic clock within a boot), so
/// the next honestly timed command is accepted without waiting for IT's next policy, also after
/// a restart; and an object that expired in real time stays refused, even with the clock set
/// back to when it was valid.
#[test]
fn clock_set_forward_then_corrected_does_not_lock_it_out() {
    let (org, mut p) = setup("clock-forward", "work");
    p.clock.set_monotonic(7, 1_000);
    p.agent.handle(Event::Tick).expect("tick anchors the monotonic clock");
    let t0 = now_secs(&p.clock);
    // Signed now, valid for an hour, never delivered in time.
    let stale = text(&command(&org, &org.locker, CommandAction::Lock, 1, t0, 3600));
    // Two real hours pass (the monotonic clock runs with them)...
    p.clock.advance(Duration::hours(2));
    p.agent.handle(Event::Tick).expect("tick");
    let real = p.clock.now();
    // ...then the wall clock alone is set ten years ahead, and the agent commits at that time...
    p.clock.set(real + Duration::days(3650));
    p.agent.handle(Event::Tick).expect("tick at the wrong time");
    // ...and corrected. The next honestly timed command is accepted: no new policy needed.
    p.clock.set(real);
    let t = now_secs(&p.clock);
    let c = text(&command(&org, &org.staff, CommandAction::Lock, 1, t, 3600));
    assert_eq!(p.agent.apply_command(&c).expect("an honest command").status, CommandStatus::Applied);
    let fresh = reopen(&p).expect("reopen");
    drop(std::mem::replace(&mut p.agent, fresh));
    let c = text(&command(&org, &org.staff, CommandAction::Ping, 2, t, 3600));
    assert_eq!(p.agent.apply_command(&c).expect("also after a restart").status, CommandStatus::Applied);
    // The command that expired in real time stays refused, even with the clock set back to
    // when it was valid: the monotonic evidence says two hours have passed.
    p.clock.set(real - Duration::minutes(110));
    assert_eq!(trust_err(p.agent.apply_command(&stale)), TrustError::Expired);
}

/// Item 11: a full-wipe receipt says what was true when it was signed: the agent's data is
/// erased and the platform wipe requested, never "performed full" before the platform tried.
#[test]
fn wipe_receipt_never_claims_a_platform_wipe_before_it_happened() {
    let (org, mut p) = setup("honest-wipe", "work");
    let t = now_secs(&p.clock);
    let r = p.agent.apply_command(&text(&command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600))).expect("w");
    let rc = device::verify_receipt(r.receipt.as_deref().expect("receipt"), &p.device_key).expect("verifies");
    assert_ne!((rc.outcome, rc.performed), (ReceiptOutcome::Done, PerformedScope::Full));
}

/// Item 11: the app must declare what its platform can do before any command is accepted (a
/// typed error, nothing changed or lost); declared without a full wipe, the receipt says only
/// the selective wipe was requested, and why.
#[test]
fn commands_before_declared_capabilities_are_refused_and_never_yield_a_full_wipe() {
    let (org, p) = setup("caps-first", "work");
    drop(p.agent);
    let dir = tmp("caps-first-2");
    let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let config = AgentConfig::new(dir.join("state"), "US");
    let (mut agent, response) = Agent::enroll(config, protector, p.clock.clone(), &p.bundle).expect("enroll");
    let r = device::verify_enroll_response(&response).expect("response");
    let org = common::Org { enrollment_id: r.enrollment_id, ..org };
    let t = now_secs(&p.clock);
    let c = text(&command(&org, &org.staff, CommandAction::WipeFull, 1, t, 3600));
    // Before the app declared its capabilities no command is accepted: a typed error, no
    // state change, and the command is not used up (nothing is lost).
    let gen = agent.generation();
    let refused = agent.apply_command(&c).expect_err("caps first");
    assert_eq!(refused, AgentError::WrongState(StateError::CapsNotDeclared));
    assert_eq!(agent.generation(), gen, "nothing committed");
    assert!(agent.queued_receipts().is_empty(), "no receipt");
    // Declared as it is (no full wipe on this platform): the same command now goes through,
    // and its receipt says exactly what was possible.
    agent.set_platform_caps(PlatformCaps { full_wipe: false, prefix_dialing: true }).expect("caps");
    let result = agent.apply_command(&c).expect("wipe");
    assert_eq!(result.wipe, Some(WipeScope::Selective));
    let rc = device::verify_receipt(result.receipt.as_deref().expect("receipt"), &r.device_key).expect("verifies");
    assert_eq!((rc.performed, rc.reason), (PerformedScope::Selective, wire::ReceiptReason::PlatformSelectiveOnly));
    assert_eq!(rc.outcome, wire::ReceiptOutcome::Erased, "agent data erased, platform wipe requested");
}

/// Item 11: every accepted lock command gets its own receipt, even when the app locks once.
#[test]
fn every_accepted_lock_gets_its_own_receipt() {
    let (org, mut p) = setup("two-locks", "work");
    let t = now_secs(&p.clock);
    let first = p.agent.apply_command(&text(&command(&org, &org.staff, CommandAction::Lock, 1, t, 3600))).expect("1");
    let second = p.agent.apply_command(&text(&command(&org, &org.staff, CommandAction::Lock, 2, t, 3600))).expect("2");
    for a in first.actions.iter().chain(&second.actions).filter(|a| a.kind == ActionKind::LockNow) {
        let _ = p.agent.ack(a.id, AckResult::Done).expect("ack");
    }
    let seqs: Vec<u32> = p
        .agent
        .queued_receipts()
        .iter()
        .map(|r| device::verify_receipt(r, &p.device_key).expect("verifies").seq)
        .collect();
    assert_eq!(seqs, vec![1, 2]);
}

/// Item 12: after a purge nothing names a survivor except the deletions the app must still
/// make (due at once), and the registry's HMAC secret is new.
#[test]
fn purge_is_complete_and_rotates_the_registry_secret() {
    let rules = r#"{"schema":1,"mode":"byod","after_call":{"delay_secs":600}}"#;
    let (_org, mut p) = setup_with("purge-complete", rules);
    p.agent.register_survivor(S1, None).expect("register");
    let at = p.agent.clock().now();
    let ended = Event::CallEnded {
        number: S1.into(),
        line: quietline_core::Line::Helpline,
        direction: quietline_core::CallDirection::Outgoing,
        started_at: at,
        dropped: false,
    };
    p.agent.handle(ended).expect("call ended");
    let before = p.agent.registry_secret_id();
    p.agent.handle(Event::HandoffRequested).expect("handoff purges");
    assert_ne!(p.agent.registry_secret_id(), before, "a new HMAC secret");
    let due = p.agent.pending_actions();
    for a in p.agent.all_pending_actions() {
        if matches!(a.kind, ActionKind::DeleteCallLog { .. } | ActionKind::DeleteContact { .. }) {
            assert!(due.contains(&a), "a deletion the app must still make is due at once");
        }
    }
    assert!(!p.agent.is_survivor(S1).expect("lookup"));
}

/// Item 13: signed times at the extremes of their range never overflow arithmetic.
#[test]
fn signed_times_at_the_extremes_never_overflow() {
    let (org, mut p) = setup("extreme-times", "work");
    let t = now_secs(&p.clock);
    // An expiry at the end of time is refused as a typed error (the lifetime check itself
    // must not overflow)...
    let body = policy_body(&org, "work", 2, t, i64::MAX);
    let r = p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("p"));
    assert!(r.is_err(), "a policy that never expires is refused");
    // ...and the largest grace period on an expiring policy never overflows a tick.
    let mut body = policy_body(&org, "work", 2, t, t + 300 * 86400);
    body.grace_hours = u32::MAX;
    p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("p")).expect("installed");
    p.clock.advance(Duration::days(400));
    p.agent.handle(Event::Tick).expect("tick");
    let mut body = policy_body(&org, "work", 3, i64::MIN, t + 86400);
    body.grace_hours = u32::MAX;
    let _ = p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("p"));
    p.agent.handle(Event::Tick).expect("tick");
}

/// Item 5: check-in freshness by an authenticated round trip. The phone's status report
/// carries a nonce it remembers; only the organisation's signed acknowledgement naming that
/// nonce (this device, this enrollment, a key whose only role is `checkin`, within its
/// lifetime) resets the offline check-in timer, and only once. Forged, wrong-role,
/// wrong-device, wrong-enrollment, wrong-nonce, expired, replayed and late acknowledgements
/// change nothing, and the `checkin` role cannot be combined with any other.
#[test]
fn only_a_fresh_signed_ack_of_its_own_nonce_resets_the_check_in_timer_once() {
    use quietline_core::checkin;
    use quietline_core::report::StatusReport;
    use quietline_core::trust::{Role, StaffKey};
    let rules = r#"{"schema":1,"mode":"work","offline":{"check_in":{"lock_after_hours":48,"warn_lead_hours":12}}}"#;
    let (org, mut p) = setup_with("checkin-ack", rules);
    let relay_key = SigningKey::generate().expect("the relay's checkin key");
    let t = now_secs(&p.clock);
    let mut body = policy_body_with(&org, rules, 2, t, t + 30 * 86400);
    let listed = StaffKey { name: "relay".into(), key: wire::hex(&relay_key.public_key()), roles: vec![Role::Checkin] };
    body.staff.push(listed.clone());
    // The checkin role is a key's only role: a policy giving the relay's key more is refused.
    let mut greedy = body.clone();
    greedy.staff.last_mut().expect("relay").roles.push(Role::Lock);
    let refused = p.agent.install_signed_policy(&trust::sign_policy(&greedy, &[&org.root]).expect("p"));
    assert!(matches!(trust_err(refused), TrustError::BadBody { .. }));
    p.agent.install_signed_policy(&trust::sign_policy(&body, &[&org.root]).expect("p")).expect("v2");

    // 36 hours later the phone checks in; its report names a nonce.
    p.clock.advance(Duration::hours(36));
    let report = p.agent.status_report(&"00".repeat(16)).expect("report");
    let r = StatusReport::verify(&report, &p.device_key, &org.device_id, &p.enrollment_id).expect("verifies");
    let nonce = wire::unhex::<16>(&r.nonce).expect("nonce");
    let (did, eid) = (org.device_id, p.enrollment_id);
    let now = u32::try_from(now_secs(&p.clock)).expect("u32");
    let ack = |key: &SigningKey, did, eid, nonce, issued: u32, expires: u32| {
        checkin::sign_ack(key, did, eid, nonce, issued, expires)
    };
    let mallory = SigningKey::generate().expect("mallory");
    let gen = p.agent.generation();
    let attacks = [
        (ack(&mallory, did, eid, nonce, now, now + 3600), "forged"),
        (ack(&org.locker, did, eid, nonce, now, now + 3600), "a lock key, not the checkin role"),
        (ack(&relay_key, [9; 8], eid, nonce, now, now + 3600), "another device"),
        (ack(&relay_key, did, [9; 4], nonce, now, now + 3600), "another enrollment"),
        (ack(&relay_key, did, eid, [7; 16], now, now + 3600), "another nonce"),
        (ack(&relay_key, did, eid, nonce, now - 7200, now - 3600), "expired"),
        (ack(&relay_key, did, eid, nonce, now, now + 2 * 86400), "living too long"),
    ];
    for (text, what) in &attacks {
        let err = trust_err(p.agent.apply_checkin_ack(text));
        let expected = match *what {
            "forged" => TrustError::UnknownSigner,
            "a lock key, not the checkin role" => TrustError::RoleNotAllowed("checkin".into()),
            "another device" => TrustError::WrongDevice,
            "another enrollment" => TrustError::WrongEnrollment,
            "another nonce" => TrustError::NotOutstanding,
            "expired" => TrustError::Expired,
            _ => TrustError::LifetimeTooLong,
        };
        assert_eq!(err, expected, "{what}");
    }
    assert_eq!(p.agent.generation(), gen, "refused acknowledgements change nothing");

    // The genuine acknowledgement, through the path apps already call for queued lines.
    let good = ack(&relay_key, did, eid, nonce, now, now + 3600);
    assert_eq!(p.agent.install_signed_policy(&good).expect("acknowledged"), vec![]);
    assert_eq!(trust_err(p.agent.install_signed_policy(&good)), TrustError::NotOutstanding, "used once");

    // The timer now runs from the check-in (hour 36): at hour 60 nothing locks, though it
    // would have at hour 48 without the acknowledgement.
    p.clock.advance(Duration::hours(24));
    let out = p.agent.handle(Event::Tick).expect("tick");
    assert!(!out.actions.iter().any(|a| a.kind == ActionKind::LockNow), "the check-in counted");
    // The replayed acknowledgement buys nothing more: 48 hours after the check-in, it locks.
    p.clock.advance(Duration::hours(25));
    assert!(p.agent.apply_checkin_ack(&good).is_err());
    let out = p.agent.handle(Event::Tick).expect("tick");
    assert!(out.actions.iter().any(|a| a.kind == ActionKind::LockNow), "locks 48 hours after its last check-in");

    // A nonce waits at most a week for its acknowledgement.
    let report = p.agent.status_report(&"00".repeat(16)).expect("report");
    let r = StatusReport::verify(&report, &p.device_key, &org.device_id, &p.enrollment_id).expect("verifies");
    let late_nonce = wire::unhex::<16>(&r.nonce).expect("nonce");
    p.clock.advance(Duration::days(8));
    let now = u32::try_from(now_secs(&p.clock)).expect("u32");
    let late = ack(&relay_key, did, eid, late_nonce, now, now + 3600);
    assert_eq!(trust_err(p.agent.apply_checkin_ack(&late)), TrustError::NotOutstanding, "too late");
}
