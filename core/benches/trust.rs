//! Command verification against one bare ring Ed25519 verification (target: within 1.5×), and
//! signed policy installation. Results: docs/performance.md. Run: scripts/bench.sh (filter `trust`).
// criterion's group and main macros define undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use quietline_core::trust::{self, PolicyBody, Role, SigningKey, StaffKey};
use quietline_core::wire::{self, Command, CommandAction};
use quietline_core::{Agent, AgentConfig, Clock, FileKeyProtector, FixedClock, Mode, Policy};
use std::hint::black_box;
use std::sync::Arc;

fn bench(c: &mut Criterion) {
    let root = SigningKey::generate().expect("root");
    let staff = SigningKey::generate().expect("staff");
    let clock = Arc::new(FixedClock::at("2026-11-23T15:00:00Z", 0).expect("clock"));
    let t = clock.now().timestamp();
    let body = |version: u64| PolicyBody {
        org: "org".into(),
        version,
        issued_at: t,
        expires_at: t + 86400 * 30,
        targets: vec!["*".into()],
        grace_hours: 24,
        staff: vec![StaffKey {
            name: "it".into(),
            key: wire::hex(&staff.public_key()),
            roles: vec![Role::Lock, Role::Ping],
        }],
        rules: Policy::default_for(Mode::Work),
    };
    let bundle = trust::encode_bundle(&trust::BundleBody {
        org: "org".into(),
        root_key: wire::hex(&root.public_key()),
        device_id: "0102030405060708".into(),
        enrollment_id: "0a0b0c0d".into(),
        mode: Mode::Work,
        policy: trust::sign_policy(&body(1), &[&root]).expect("policy"),
        relay_url: None,
        enroll_secret: "5e".repeat(32),
    })
    .expect("bundle");
    let dir = std::env::temp_dir().join(format!("ql-bench-trust-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let (mut agent, response) =
        Agent::enroll(AgentConfig::new(dir.join("state"), "US"), protector, clock.clone(), &bundle).expect("enroll");
    agent.set_platform_caps(quietline_core::PlatformCaps { full_wipe: true, prefix_dialing: true }).expect("caps");
    // Commands name the enrollment id the phone chose.
    let enrollment_id = quietline_core::device::verify_enroll_response(&response).expect("response").enrollment_id;

    let mut cmd = Command {
        device_id: [1, 2, 3, 4, 5, 6, 7, 8],
        enrollment_id,
        seq: 1,
        issued_at: t as u32,
        expires_at: (t + 3600) as u32,
        action: CommandAction::Ping,
        key_id: staff.key_id(),
        signature: [0; 64],
    };
    cmd.signature = staff.sign(&cmd.signed_bytes());
    let text = wire::to_text(&cmd.to_bytes());
    let pk = staff.public_key();
    let signed = cmd.signed_bytes();

    let mut g = c.benchmark_group("trust");
    g.sample_size(30);
    g.bench_function("ring_ed25519_verify_bare", |b| {
        b.iter(|| trust::verify(black_box(&pk), black_box(&signed), black_box(&cmd.signature)))
    });
    // The first application commits; every later one is a verified replay, which is exactly
    // decode + device/enrollment checks + key lookup + one verification + the replay lookup.
    agent.apply_command(&text).expect("first");
    g.bench_function("command_verify_replay_path", |b| b.iter(|| agent.apply_command(black_box(&text))));
    let mut version = 2;
    g.bench_function("policy_install_with_commit", |b| {
        b.iter_batched(
            || {
                version += 1;
                trust::sign_policy(&body(version), &[&root]).expect("sign")
            },
            |p| agent.install_signed_policy(&p).expect("install"),
            BatchSize::SmallInput,
        )
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
