//! Running the built `quietline-admin` binary, and the steps every CLI test file repeats (an
//! org's enrollment of a phone played by the real agent), shared by the CLI test files.
#![allow(dead_code)]

use quietline_core::{Agent, AgentConfig, FileKeyProtector, SystemClock};
use std::path::Path;
use std::process::Command as Proc;
use std::sync::Arc;

/// What one run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary with `args`.
pub fn admin(args: &[&str]) -> Run {
    let out = Proc::new(env!("CARGO_BIN_EXE_quietline-admin")).args(args).output().expect("run quietline-admin");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the binary and expects it to succeed.
pub fn ok_run(args: &[&str]) -> Run {
    let r = admin(args);
    assert_eq!(r.code, 0, "{args:?} failed:\n{}\n{}", r.stdout, r.stderr);
    r
}

/// Runs the binary, expects it to succeed and returns what it printed.
pub fn ok(args: &[&str]) -> String {
    ok_run(args).stdout
}

/// Runs the binary and expects it to fail with a readable `error: ` message, not a panic.
pub fn fails(args: &[&str]) -> Run {
    let r = admin(args);
    assert_ne!(r.code, 0, "{args:?} should fail:\n{}", r.stdout);
    assert!(r.stderr.starts_with("error: "), "{args:?}: stderr {:?}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

/// A path as an argument.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// `enroll` for org `acme` with `dir`'s `root.pub` and `policy.ql`: writes `dir/bundle.ql` and
/// returns what the CLI printed.
pub fn enroll_bundle(dir: &Path, mode: &str) -> String {
    ok(&[
        "enroll",
        "--org",
        "acme",
        "--root-pub",
        p(&dir.join("root.pub")),
        "--mode",
        mode,
        "--policy",
        p(&dir.join("policy.ql")),
        "--out",
        p(&dir.join("bundle.ql")),
    ])
}

/// The phone (the real agent, its files in `phone`) enrolls from `dir/bundle.ql`; its
/// enrollment response is written to `dir/response.ql` and returned.
pub fn phone_enrolls(dir: &Path, phone: &Path) -> (Agent, String) {
    let bundle = std::fs::read_to_string(dir.join("bundle.ql")).expect("bundle");
    let (mut agent, response) = Agent::enroll(
        AgentConfig::new(phone.join("state"), "US"),
        Arc::new(FileKeyProtector::new(phone.join("kek"))),
        Arc::new(SystemClock::new(0).expect("clock")),
        bundle.trim(),
    )
    .expect("enroll");
    // The app declares its platform's capabilities before any command is accepted.
    agent.set_platform_caps(quietline_core::PlatformCaps { full_wipe: true, prefix_dialing: true }).expect("caps");
    std::fs::write(dir.join("response.ql"), format!("{response}\n")).expect("write");
    (agent, response)
}

/// `enroll accept` of `dir/response.ql` (checked against `dir/bundle.ql`) into `dir/device.json`.
pub fn accept(dir: &Path) {
    ok(&[
        "enroll",
        "accept",
        p(&dir.join("response.ql")),
        "--bundle",
        p(&dir.join("bundle.ql")),
        "--out",
        p(&dir.join("device.json")),
    ]);
}
