//! One test's state directory, frozen clock and file key protector, for the suites that drive an
//! agent directly (rules, plans, texts); the directory is removed on drop.

use quietline_core::{Agent, AgentConfig, AgentError, FileKeyProtector, FixedClock, Policy};
use std::path::PathBuf;
use std::sync::Arc;

/// Monday 23 November 2026, 15:00 UTC.
pub const T0: &str = "2026-11-23T15:00:00Z";

pub struct Env {
    pub dir: PathBuf,
    pub clock: Arc<FixedClock>,
    pub protector: Arc<FileKeyProtector>,
}

impl Env {
    /// At [`T0`], UTC.
    pub fn new(name: &str) -> Self {
        Self::at(name, T0, 0)
    }

    /// At `at` (RFC 3339), `offset_secs` east of UTC.
    pub fn at(name: &str, at: &str, offset_secs: i32) -> Self {
        // The test binary's name keeps suites apart; the process id keeps runs apart.
        let dir = std::env::temp_dir().join(format!("ql-{}-{}-{name}", env!("CARGO_CRATE_NAME"), std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
        let clock = Arc::new(FixedClock::at(at, offset_secs).expect("clock"));
        Self { dir, clock, protector }
    }

    pub fn create(&self, region: &str, policy_json: &str) -> Agent {
        let policy = Policy::from_json(policy_json).expect("policy");
        Agent::create(AgentConfig::new(&self.dir, region), self.protector.clone(), self.clock.clone(), policy)
            .expect("create agent")
    }

    pub fn open(&self) -> Result<Agent, AgentError> {
        Agent::open(&self.dir, self.protector.clone(), self.clock.clone())
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
