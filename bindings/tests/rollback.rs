//! Rollback of the state directory (issue 11 item 7) through the FFI crate: a key protector that
//! records the state's generation outside the directory, as the iOS Keychain and Android Keystore
//! protectors do, makes `open` refuse an older copy of the directory put back over a newer one,
//! instead of reviving the survivors purged since. Once through the foreign trait (iOS, desktop
//! apps) and once through `embed` with a core protector (the Android crate's path).

use quietline_core as ql;
use quietline_ffi::{embed, Agent, ApiError, KeyProtector, KeyProtectorError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SURVIVOR: &str = "+1 202 555 0143";
const POLICY: &str = r#"{"schema":1,"mode":"work"}"#;

/// A foreign-style protector: XOR "wrapping" and a generation record kept outside the state
/// directory, like a Keychain item. `records = false` models a protector that keeps none.
struct KeychainLike {
    records: bool,
    generation: Mutex<Option<u64>>,
    fail_record: Mutex<bool>,
}

impl KeychainLike {
    fn new(records: bool) -> Arc<Self> {
        Arc::new(KeychainLike { records, generation: Mutex::new(None), fail_record: Mutex::new(false) })
    }
    fn recorded(&self) -> Option<u64> {
        *self.generation.lock().expect("lock")
    }
}

impl KeyProtector for KeychainLike {
    fn wrap_key(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError> {
        Ok(data_key.iter().map(|b| b ^ 0x5a).collect())
    }
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError> {
        Ok(wrapped.iter().map(|b| b ^ 0x5a).collect())
    }
    fn destroy_key(&self) -> Result<(), KeyProtectorError> {
        *self.generation.lock().expect("lock") = None;
        Ok(())
    }
    fn record_generation(&self, generation: u64) -> Result<bool, KeyProtectorError> {
        if *self.fail_record.lock().expect("lock") {
            return Err(KeyProtectorError::Unavailable { reason: "locked".into() });
        }
        if self.records {
            *self.generation.lock().expect("lock") = Some(generation);
        }
        Ok(self.records)
    }
    fn recorded_generation(&self) -> Result<Option<u64>, KeyProtectorError> {
        Ok(self.recorded())
    }
}

/// The same record behind the core's trait, as the Android crate hands its `JniKeyProtector` in.
struct CoreSide(Arc<KeychainLike>);

impl ql::KeyProtector for CoreSide {
    fn wrap(&self, k: &[u8]) -> Result<Vec<u8>, ql::KeyProtectorError> {
        Ok(self.0.wrap_key(k.to_vec()).expect("xor"))
    }
    fn unwrap(&self, k: &[u8]) -> Result<Vec<u8>, ql::KeyProtectorError> {
        Ok(self.0.unwrap_key(k.to_vec()).expect("xor"))
    }
    fn destroy(&self) -> Result<(), ql::KeyProtectorError> {
        self.0.destroy_key().map_err(Into::into)
    }
    fn record_generation(&self, g: u64) -> Result<bool, ql::KeyProtectorError> {
        self.0.record_generation(g).map_err(Into::into)
    }
    fn recorded_generation(&self) -> Result<Option<u64>, ql::KeyProtectorError> {
        Ok(self.0.recorded())
    }
}

fn fresh(name: &str) -> PathBuf {
    let base = std::env::temp_dir().join(format!("ql-ffi-rollback-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).expect("base");
    base
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Registers a survivor, keeps a copy of the directory, then forgets the survivor; returns the
/// agent's directory and the copy (which still holds the survivor).
fn with_old_copy(base: &Path, agent: Arc<Agent>) -> (PathBuf, PathBuf) {
    let dir = base.join("agent");
    let old = base.join("old");
    agent.register_survivor(SURVIVOR.into(), None).expect("register");
    copy_dir(&dir, &old);
    assert!(agent.forget_survivor(SURVIVOR.into()).expect("forget"));
    drop(agent);
    (dir, old)
}

fn expect_rolled_back(r: Result<Arc<Agent>, ApiError>) {
    match r {
        Err(ApiError::StateDamaged { reason }) => {
            assert!(reason.contains("rolled back"), "{reason}");
            assert!(!reason.contains("555"), "the error names no number: {reason}");
        }
        Err(e) => panic!("expected StateDamaged (rolled back), got {e:?}"),
        Ok(a) => panic!("a rolled-back directory was revived with {:?} survivors", a.survivor_count()),
    }
}

#[test]
fn copying_an_older_directory_back_is_refused_through_the_foreign_trait() {
    let base = fresh("foreign");
    let keys = KeychainLike::new(true);
    let agent = Agent::create(s(&base.join("agent")), "US".into(), POLICY.into(), keys.clone(), None).expect("create");
    let (dir, old) = with_old_copy(&base, agent);
    let newest = keys.recorded().expect("a generation was recorded");
    // The current directory opens, and opening it records nothing older.
    let a = Agent::open(s(&dir), keys.clone(), None).expect("open the current directory");
    assert_eq!(a.generation().expect("generation"), newest);
    assert!(!a.is_survivor(SURVIVOR.into()).expect("is_survivor"));
    drop(a);
    // The older copy, put back, would revive the forgotten survivor: refused.
    copy_dir(&old, &dir);
    expect_rolled_back(Agent::open(s(&dir), keys.clone(), None));
    assert_eq!(keys.recorded(), Some(newest), "refusing does not lower the record");
}

#[test]
fn copying_an_older_directory_back_is_refused_through_embed() {
    let base = fresh("embed");
    let keys = KeychainLike::new(true);
    let core: Arc<dyn ql::KeyProtector> = Arc::new(CoreSide(keys.clone()));
    let agent = embed::create(s(&base.join("agent")), "US".into(), POLICY.into(), core.clone(), None).expect("create");
    let (dir, old) = with_old_copy(&base, agent);
    embed::open(s(&dir), core.clone(), None).expect("open the current directory");
    copy_dir(&old, &dir);
    expect_rolled_back(embed::open(s(&dir), core, None));
}

#[test]
fn without_a_record_the_rollback_goes_unnoticed() {
    // The limit the threat model states for a protector that records nothing: the old copy
    // opens, and the forgotten survivor is back. (This is what the record above prevents.)
    let base = fresh("norecord");
    let keys = KeychainLike::new(false);
    let agent = Agent::create(s(&base.join("agent")), "US".into(), POLICY.into(), keys.clone(), None).expect("create");
    let (dir, old) = with_old_copy(&base, agent);
    copy_dir(&old, &dir);
    let revived = Agent::open(s(&dir), keys, None).expect("opens");
    assert!(revived.is_survivor(SURVIVOR.into()).expect("is_survivor"));
}

#[test]
fn a_failed_record_is_never_taken_for_a_rollback() {
    let base = fresh("failedrecord");
    let keys = KeychainLike::new(true);
    let dir = base.join("agent");
    let agent = Agent::create(s(&dir), "US".into(), POLICY.into(), keys.clone(), None).expect("create");
    let before = keys.recorded().expect("recorded");
    *keys.fail_record.lock().expect("lock") = true;
    agent.register_survivor(SURVIVOR.into(), None).expect("a commit succeeds although the record failed");
    drop(agent);
    assert_eq!(keys.recorded(), Some(before), "the record stayed older");
    let a = Agent::open(s(&dir), keys, None).expect("an older record is not a rollback");
    assert!(a.is_survivor(SURVIVOR.into()).expect("is_survivor"));
}

#[test]
fn a_wipe_forgets_the_record_so_a_new_agent_starts_afresh() {
    let base = fresh("wipe");
    let keys = KeychainLike::new(true);
    let dir = base.join("agent");
    let agent = Agent::create(s(&dir), "US".into(), POLICY.into(), keys.clone(), None).expect("create");
    for _ in 0..3 {
        agent.register_survivor(SURVIVOR.into(), None).expect("register");
    }
    agent.wipe().expect("wipe");
    assert_eq!(keys.recorded(), None);
    Agent::create(s(&dir), "US".into(), POLICY.into(), keys.clone(), None).expect("create again");
    Agent::open(s(&dir), keys, None).expect("the new agent opens");
}
