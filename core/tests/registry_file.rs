//! The registry lives in its own sealed file, named (with its SHA-256) by the state: commits that
//! do not touch the registry do not rewrite it, and a registry file that was swapped, damaged or
//! cut short is a typed error, never a silent empty registry.

use quietline_core::{
    Agent, AgentConfig, AgentError, CallDirection, Event, FileKeyProtector, FixedClock, Line, Policy,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn setup(name: &str) -> (Agent, PathBuf, Arc<FileKeyProtector>, Arc<FixedClock>) {
    let dir = std::env::temp_dir().join(format!("ql-regfile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = Arc::new(FixedClock::at("2026-11-23T15:00:00Z", 0).expect("clock"));
    let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let agent = Agent::create(
        AgentConfig::new(&dir, "US"),
        protector.clone(),
        clock.clone(),
        Policy::from_json(r#"{"schema":1,"mode":"byod"}"#).expect("policy"),
    )
    .expect("create");
    (agent, dir, protector, clock)
}

fn registry_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("registry-"))
        .collect();
    v.sort();
    v
}

fn end_call(a: &mut Agent) {
    a.handle(Event::CallEnded {
        number: "2075550100".into(),
        line: Line::Direct,
        direction: CallDirection::Outgoing,
        started_at: chrono::Utc::now(),
        dropped: false,
    })
    .expect("end");
}

#[test]
fn commits_that_do_not_touch_the_registry_do_not_rewrite_it() {
    let (mut a, dir, ..) = setup("untouched");
    a.register_survivor("2075550100", None).expect("register");
    let files = registry_files(&dir);
    assert_eq!(files.len(), 1, "one registry file, the old one removed: {files:?}");
    let before = std::fs::read(dir.join(&files[0])).expect("read");
    end_call(&mut a);
    a.handle(Event::Tick).expect("tick");
    assert_eq!(registry_files(&dir), files);
    assert_eq!(std::fs::read(dir.join(&files[0])).expect("read"), before);
    a.forget_survivor("2075550100").expect("forget");
    assert_ne!(registry_files(&dir), files, "a change writes a new file");
    assert_eq!(registry_files(&dir).len(), 1);
}

#[test]
fn swapped_registry_file_is_detected() {
    let (mut a, dir, protector, clock) = setup("swapped");
    a.register_survivor("2075550100", None).expect("register");
    let old_name = registry_files(&dir)[0].clone();
    let old = std::fs::read(dir.join(&old_name)).expect("old");
    a.register_survivor("2075550101", None).expect("register 2");
    let new_name = registry_files(&dir)[0].clone();
    drop(a);
    // An attacker with the files puts back the older (validly sealed) registry.
    std::fs::write(dir.join(&new_name), old).expect("swap");
    match Agent::open(&dir, protector, clock) {
        Err(AgentError::StateDamaged(_)) => {}
        other => panic!("a swapped registry must be refused: {other:?}"),
    }
}

#[test]
fn damaged_or_missing_registry_file_is_a_typed_error() {
    let (mut a, dir, protector, clock) = setup("damaged");
    a.register_survivor("2075550100", None).expect("register");
    let name = registry_files(&dir)[0].clone();
    drop(a);
    let good = std::fs::read(dir.join(&name)).expect("read");
    for bad in [good[..good.len() / 2].to_vec(), Vec::new()] {
        std::fs::write(dir.join(&name), &bad).expect("write");
        assert!(Agent::open(&dir, protector.clone(), clock.clone()).is_err());
    }
    std::fs::remove_file(dir.join(&name)).expect("rm");
    assert!(Agent::open(&dir, protector.clone(), clock.clone()).is_err());
    std::fs::write(dir.join(&name), good).expect("restore");
    let back = Agent::open(&dir, protector, clock).expect("restored");
    assert_eq!(back.survivor_count(), 1, "nothing lost once the file is back");
}

#[test]
fn orphan_registry_file_from_a_crash_is_cleaned_on_open() {
    let (mut a, dir, protector, clock) = setup("orphan");
    a.register_survivor("2075550100", None).expect("register");
    drop(a);
    std::fs::write(dir.join("registry-999.qls"), b"left by a crash").expect("orphan");
    let a = Agent::open(&dir, protector, clock).expect("open");
    assert_eq!(a.survivor_count(), 1);
    assert_eq!(registry_files(&dir).len(), 1);
}

#[test]
fn bulk_registration_is_all_or_nothing() {
    let (mut a, ..) = setup("bulk");
    let good: Vec<(String, Option<quietline_core::ContactPlan>)> =
        (0..50).map(|i| (format!("(207) 555-{:04}", 100 + i), None)).collect();
    assert_eq!(a.register_survivors(&good).expect("bulk"), 50);
    assert_eq!(a.survivor_count(), 50);
    let mut bad = vec![("(212) 555-0100".to_string(), None), ("911".to_string(), None)];
    bad.push(("(212) 555-0101".into(), None));
    let err = a.register_survivors(&bad).expect_err("911 is refused");
    assert!(err.to_string().contains("survivors[1]"), "{err}");
    assert!(!err.to_string().contains("911"));
    assert_eq!(a.survivor_count(), 50, "none of the batch was registered");
}
