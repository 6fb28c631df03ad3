//! What the attack suites share: an organisation with a root, a full staff key and a lock-only
//! helpdesk key, and a phone enrolled from a bundle, on a frozen clock.
#![allow(dead_code)]

pub mod env;

use quietline_core::device;
use quietline_core::trust::{self, PolicyBody, Role, SigningKey, StaffKey, TrustError};
use quietline_core::wire::{self, Command, CommandAction};
use quietline_core::{Agent, AgentConfig, AgentError, FileKeyProtector, FixedClock, PlatformCaps, Policy};
use std::path::PathBuf;
use std::sync::Arc;

pub struct Org {
    pub root: SigningKey,
    pub staff: SigningKey,
    pub locker: SigningKey,
    pub device_id: [u8; 8],
    pub enrollment_id: [u8; 4],
}

pub struct Phone {
    pub agent: Agent,
    pub clock: Arc<FixedClock>,
    pub protector: Arc<FileKeyProtector>,
    pub dir: PathBuf,
    pub device_key: [u8; 32],
    /// The bundle the phone was enrolled from (IT keeps it to check the response).
    pub bundle: String,
    /// The enrollment id the phone answered with: commands must name it.
    pub enrollment_id: [u8; 4],
}

pub const T0: &str = "2026-11-23T15:00:00Z";

pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ql-attack-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

pub fn now_secs(clock: &FixedClock) -> i64 {
    use quietline_core::Clock;
    clock.now().timestamp()
}

pub fn policy_body(org: &Org, mode: &str, version: u64, issued: i64, expires: i64) -> PolicyBody {
    policy_body_with(org, &format!(r#"{{"schema":1,"mode":"{mode}"}}"#), version, issued, expires)
}

/// A policy body with the given rules (JSON) and the organisation's two staff keys.
pub fn policy_body_with(org: &Org, rules: &str, version: u64, issued: i64, expires: i64) -> PolicyBody {
    PolicyBody {
        org: "org-1".into(),
        version,
        issued_at: issued,
        expires_at: expires,
        targets: vec!["*".into()],
        grace_hours: 24,
        staff: vec![
            StaffKey {
                name: "it-lead".into(),
                key: wire::hex(&org.staff.public_key()),
                roles: vec![
                    Role::Lock,
                    Role::WipeSelective,
                    Role::WipeFull,
                    Role::PurgeSurvivorData,
                    Role::UpdatePolicy,
                    Role::Ping,
                ],
            },
            StaffKey { name: "helpdesk".into(), key: wire::hex(&org.locker.public_key()), roles: vec![Role::Lock] },
        ],
        rules: Policy::from_json(rules).expect("rules"),
    }
}

pub fn new_org() -> Org {
    Org {
        root: SigningKey::generate().expect("root"),
        staff: SigningKey::generate().expect("staff"),
        locker: SigningKey::generate().expect("locker"),
        device_id: [0xd1, 2, 3, 4, 5, 6, 7, 8],
        enrollment_id: [0xe1, 2, 3, 4],
    }
}

pub fn setup(name: &str, mode: &str) -> (Org, Phone) {
    setup_with(name, &format!(r#"{{"schema":1,"mode":"{mode}"}}"#))
}

/// The bundle IT hands over in person for `org`, with an initial policy of `rules`.
pub fn bundle_for(org: &Org, rules: &str, clock: &FixedClock) -> String {
    let t = now_secs(clock);
    let body = policy_body_with(org, rules, 1, t, t + 30 * 86400);
    let policy = trust::sign_policy(&body, &[&org.root]).expect("sign");
    trust::encode_bundle(&trust::BundleBody {
        org: "org-1".into(),
        root_key: wire::hex(&org.root.public_key()),
        device_id: wire::hex(&org.device_id),
        enrollment_id: wire::hex(&org.enrollment_id),
        mode: body.rules.mode,
        policy,
        relay_url: None,
        enroll_secret: "5e".repeat(32),
    })
    .expect("bundle")
}

/// Enrolls a phone in `dir` from `bundle`.
pub fn enroll(dir: PathBuf, clock: Arc<FixedClock>, bundle: &str) -> Phone {
    let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let (mut agent, response) =
        Agent::enroll(AgentConfig::new(dir.join("state"), "US"), protector.clone(), clock.clone(), bundle)
            .expect("enroll");
    // What an Android device-owner app declares at start.
    agent.set_platform_caps(PlatformCaps { full_wipe: true, prefix_dialing: true }).expect("caps");
    let r = device::verify_enroll_response_for_bundle(&response, bundle).expect("response");
    Phone {
        agent,
        clock,
        protector,
        dir,
        device_key: r.device_key,
        bundle: bundle.to_string(),
        enrollment_id: r.enrollment_id,
    }
}

pub fn setup_with(name: &str, rules: &str) -> (Org, Phone) {
    let org = new_org();
    let clock = Arc::new(FixedClock::at(T0, 0).expect("clock"));
    let bundle = bundle_for(&org, rules, &clock);
    let mut org = org;
    let phone = enroll(tmp(name), clock, &bundle);
    // IT addresses commands to the enrollment the phone answered with.
    org.enrollment_id = phone.enrollment_id;
    (org, phone)
}

pub fn command(org: &Org, key: &SigningKey, action: CommandAction, seq: u32, issued: i64, lifetime: i64) -> Command {
    let mut c = Command {
        device_id: org.device_id,
        enrollment_id: org.enrollment_id,
        seq,
        issued_at: issued as u32,
        expires_at: (issued + lifetime) as u32,
        action,
        key_id: key.key_id(),
        signature: [0; 64],
    };
    c.signature = key.sign(&c.signed_bytes());
    c
}

pub fn text(c: &Command) -> String {
    wire::to_text(&c.to_bytes())
}

pub fn reopen(p: &Phone) -> Result<Agent, AgentError> {
    Agent::open(p.dir.join("state"), p.protector.clone(), p.clock.clone())
}

pub fn trust_err(r: Result<impl std::fmt::Debug, AgentError>) -> TrustError {
    match r {
        Err(AgentError::Trust(t)) => t,
        other => panic!("expected a trust error, got {other:?}"),
    }
}
