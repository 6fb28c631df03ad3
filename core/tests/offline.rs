//! Offline safety, with a frozen clock: each rule in each mode, warnings before steps, clock
//! set back, restart mid-step, and check-ins that reset the timers.

use chrono::Duration;
use quietline_core::device;
use quietline_core::trust::{self, PolicyBody, Role, SigningKey, StaffKey};
use quietline_core::wire::{self, PerformedScope, ReceiptReason};
use quietline_core::{
    ActionKind, Agent, AgentConfig, AgentError, Event, FileKeyProtector, FixedClock, NotifyKind, Outcome, Policy,
    WipeScope,
};
use std::path::PathBuf;
use std::sync::Arc;

struct Phone {
    root: SigningKey,
    agent: Agent,
    clock: Arc<FixedClock>,
    protector: Arc<FileKeyProtector>,
    dir: PathBuf,
    device_key: [u8; 32],
}

fn rules(mode: &str, offline: &str) -> Policy {
    Policy::from_json(&format!(r#"{{"schema":1,"mode":"{mode}","offline":{offline}}}"#)).expect("rules")
}

const WIPE_RULES: &str = r#"{"check_in":{"notify_after_hours":24,"lock_after_hours":48,"wipe_after_hours":96,"warn_lead_hours":6},
    "unlock":{"notify_after_hours":null,"lock_after_hours":null,"wipe_after_hours":null,"warn_lead_hours":1},
    "max_failed_unlocks":5}"#;

fn enrolled(name: &str, mode: &str, offline: &str) -> Phone {
    let root = SigningKey::generate().expect("root");
    let clock = Arc::new(FixedClock::at("2026-11-23T15:00:00Z", 0).expect("clock"));
    clock.set_monotonic(1, 1000);
    use quietline_core::Clock;
    let t = clock.now().timestamp();
    let body = PolicyBody {
        org: "org".into(),
        version: 1,
        issued_at: t,
        expires_at: t + 365 * 86400,
        targets: vec!["*".into()],
        grace_hours: 24,
        staff: vec![StaffKey {
            name: "it".into(),
            key: wire::hex(&root.public_key()),
            roles: vec![Role::Lock, Role::Ping],
        }],
        rules: rules(mode, offline),
    };
    let bundle = trust::encode_bundle(&trust::BundleBody {
        org: "org".into(),
        root_key: wire::hex(&root.public_key()),
        device_id: "0102030405060708".into(),
        enrollment_id: "0a0b0c0d".into(),
        mode: body.rules.mode,
        policy: trust::sign_policy(&body, &[&root]).expect("policy"),
        relay_url: None,
        enroll_secret: "5e".repeat(32),
    })
    .expect("bundle");
    let dir = std::env::temp_dir().join(format!("ql-offline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let (agent, resp) =
        Agent::enroll(AgentConfig::new(dir.join("state"), "US"), protector.clone(), clock.clone(), &bundle)
            .expect("enroll");
    let device_key = device::verify_enroll_response(&resp).expect("resp").device_key;
    let mut agent = agent;
    agent.set_platform_caps(quietline_core::PlatformCaps { full_wipe: true, prefix_dialing: true }).expect("caps");
    Phone { root, agent, clock, protector, dir, device_key }
}

fn tick_after(p: &mut Phone, h: i64) -> Outcome {
    p.clock.advance(Duration::hours(h));
    p.agent.handle(Event::Tick).expect("tick")
}

fn notified(o: &Outcome, k: NotifyKind) -> bool {
    o.actions.iter().any(|a| a.kind == ActionKind::Notify { kind: k })
}

fn locked(o: &Outcome) -> bool {
    o.actions.iter().any(|a| a.kind == ActionKind::LockNow)
}

#[test]
fn check_in_steps_warn_notify_lock_in_order() {
    let mut p = enrolled("steps", "work", WIPE_RULES);
    assert!(
        tick_after(&mut p, 23).actions.is_empty()
            || !notified(&p.agent.handle(Event::Tick).expect("t"), NotifyKind::NoCheckIn)
    );
    assert!(notified(&tick_after(&mut p, 1), NotifyKind::NoCheckIn), "notify at 24 h");
    assert!(notified(&tick_after(&mut p, 18), NotifyKind::OfflineLockSoon), "warned 6 h before the lock");
    let o = tick_after(&mut p, 6);
    assert!(locked(&o), "locks at 48 h");
    assert!(o.actions.iter().any(|a| a.kind == ActionKind::RequireSecureLock));
    assert!(!locked(&tick_after(&mut p, 1)), "a step fires once");
    assert!(notified(&tick_after(&mut p, 41), NotifyKind::OfflineWipeSoon), "warned 6 h before the wipe");
}

#[test]
fn fresh_signed_evidence_resets_the_timers() {
    let mut p = enrolled("reset", "work", WIPE_RULES);
    tick_after(&mut p, 47);
    // A ping signed now by a key with the role: evidence a replay cannot fake.
    use quietline_core::Clock;
    let resp = device::verify_enroll_response(&p.agent.enrollment_response().expect("resp")).expect("resp");
    let t = p.clock.now().timestamp() as u32;
    let mut c = wire::Command {
        device_id: resp.device_id,
        enrollment_id: resp.enrollment_id,
        seq: 1,
        issued_at: t,
        expires_at: t + 600,
        action: wire::CommandAction::Ping,
        key_id: p.root.key_id(),
        signature: [0; 64],
    };
    c.signature = p.root.sign(&c.signed_bytes());
    p.agent.apply_command(&wire::to_text(&c.to_bytes())).expect("ping");
    assert!(!locked(&tick_after(&mut p, 2)), "no lock right after a check-in");
    assert!(locked(&tick_after(&mut p, 46)), "the timer restarted from the check-in");
}

#[test]
fn work_phone_wipes_in_full_when_policy_allows_and_receipt_names_the_rule() {
    let mut p = enrolled("work-wipe", "work", WIPE_RULES);
    let o = tick_after(&mut p, 96);
    assert!(o.actions.iter().any(|a| a.kind == ActionKind::Wipe { scope: WipeScope::Full }));
    assert!(matches!(p.agent.handle(Event::Tick), Err(AgentError::Wiped { .. })));
    let receipt = device::take_wipe_receipt(&p.dir.join("state")).expect("receipt");
    let r = device::verify_receipt(&receipt, &p.device_key).expect("signed by the device");
    assert_eq!((r.performed, r.reason, r.seq), (PerformedScope::Full, ReceiptReason::OfflineCheckIn, 0));
}

#[test]
fn byod_never_full_wipes() {
    let mut p = enrolled("byod-wipe", "byod", WIPE_RULES);
    let o = tick_after(&mut p, 97);
    assert!(o.actions.iter().any(|a| a.kind == ActionKind::Wipe { scope: WipeScope::Selective }));
    assert!(!o.actions.iter().any(|a| a.kind == ActionKind::Wipe { scope: WipeScope::Full }));
    let r = device::verify_receipt(&device::take_wipe_receipt(&p.dir.join("state")).expect("r"), &p.device_key)
        .expect("verifies");
    assert_eq!(r.performed, PerformedScope::Selective);
}

#[test]
fn work_phone_without_full_wipe_rights_wipes_selectively() {
    let mut p = enrolled("work-sel", "work", WIPE_RULES);
    let mut rules = p.agent.policy().clone();
    rules.wipe.allow_full = Some(false);
    assert!(p.agent.install_policy(rules.clone()).is_err(), "an enrolled agent takes only signed policies");
    use quietline_core::Clock;
    let t = p.clock.now().timestamp();
    let body = PolicyBody {
        org: "org".into(),
        version: 2,
        issued_at: t,
        expires_at: t + 365 * 86400,
        targets: vec!["*".into()],
        grace_hours: 24,
        staff: vec![StaffKey {
            name: "it".into(),
            key: wire::hex(&p.root.public_key()),
            roles: vec![Role::Lock, Role::Ping],
        }],
        rules,
    };
    p.agent.install_signed_policy(&trust::sign_policy(&body, &[&p.root]).expect("sign")).expect("install");
    let o = tick_after(&mut p, 96);
    assert!(o.actions.iter().any(|a| a.kind == ActionKind::Wipe { scope: WipeScope::Selective }));
}

#[test]
fn clock_set_back_a_week_does_not_delay_a_step() {
    let mut p = enrolled("clockback", "work", WIPE_RULES);
    tick_after(&mut p, 10);
    use quietline_core::Clock;
    let now = p.clock.now();
    p.clock.set(now - Duration::days(7));
    p.agent.handle(Event::Tick).expect("tick");
    assert!(p.agent.compliance().findings.iter().any(|f| matches!(f, quietline_core::Finding::ClockJumps { .. })));
    assert!(locked(&tick_after(&mut p, 38)), "locks at 48 h of real (monotonic) time");
}

#[test]
fn restart_in_the_middle_of_a_step_resumes_it() {
    let mut p = enrolled("restart", "work", WIPE_RULES);
    let o = tick_after(&mut p, 48);
    let lock = o.actions.iter().find(|a| a.kind == ActionKind::LockNow).expect("lock").clone();
    drop(std::mem::replace(
        &mut p.agent,
        Agent::open(p.dir.join("state"), p.protector.clone(), p.clock.clone()).expect("reopen"),
    ));
    assert!(p.agent.pending_actions().iter().any(|a| a.id == lock.id), "the lock is handed out again");
}

#[test]
fn failed_unlocks_wipe_at_the_limit_and_success_resets() {
    let mut p = enrolled("failed", "byod", WIPE_RULES);
    assert!(p.agent.all_pending_actions().iter().any(|a| a.kind == ActionKind::SetMaxFailedUnlocks { count: 5 }));
    for _ in 0..4 {
        p.agent.handle(Event::UnlockFailed).expect("fail");
    }
    p.agent.handle(Event::Unlocked).expect("unlock resets");
    for _ in 0..4 {
        p.agent.handle(Event::UnlockFailed).expect("fail");
    }
    let o = p.agent.handle(Event::UnlockFailed).expect("fifth");
    assert!(o.actions.iter().any(|a| a.kind == ActionKind::Wipe { scope: WipeScope::Selective }));
    let r = device::verify_receipt(&device::take_wipe_receipt(&p.dir.join("state")).expect("r"), &p.device_key)
        .expect("verifies");
    assert_eq!(r.reason, ReceiptReason::FailedUnlocks);
}

#[test]
fn unlock_freshness_locks_a_phone_nobody_unlocks() {
    let mut p = enrolled(
        "unlock",
        "work",
        r#"{"check_in":{"notify_after_hours":null,"lock_after_hours":null},"unlock":{"notify_after_hours":12,"lock_after_hours":24,"warn_lead_hours":2}}"#,
    );
    assert!(notified(&tick_after(&mut p, 12), NotifyKind::NoUnlock));
    p.agent.handle(Event::Unlocked).expect("unlocked");
    assert!(!locked(&tick_after(&mut p, 13)));
    assert!(locked(&tick_after(&mut p, 11)));
}

#[test]
fn offline_rules_out_of_order_are_rejected() {
    let err = Policy::from_json(
        r#"{"schema":1,"mode":"work","offline":{"check_in":{"notify_after_hours":48,"lock_after_hours":24}}}"#,
    )
    .expect_err("lock before notify");
    assert!(err.to_string().contains("offline.check_in.lock_after_hours"), "{err}");
}
