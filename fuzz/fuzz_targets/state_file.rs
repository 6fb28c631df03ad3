//! State-file decoding. The first byte picks the layer:
//! - even: the raw bytes go to `store::open_sealed` under a fixed key (header, nonce, tag checks);
//! - odd: the rest is the *plaintext* state, sealed under the agent's key and opened through
//!   `Agent::open`, which reaches the JSON state decoder behind the AEAD. With the second byte
//!   odd as well, the rest is instead applied as edits (position, byte) to a valid state, so the
//!   fuzzer starts from a realistic document.
//!
//! Every outcome must be a typed error or a usable agent. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quietline_core::store::{self, KeyProtector, KeyProtectorError, Store};
use quietline_core::{Agent, AgentConfig, FixedClock, Policy};
use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Wraps nothing: the "wrapped" key is the data key, so the target knows it.
struct Plain;
impl KeyProtector for Plain {
    fn wrap(&self, k: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        Ok(k.to_vec())
    }
    fn unwrap(&self, w: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        Ok(w.to_vec())
    }
    fn destroy(&self) -> Result<(), KeyProtectorError> {
        Ok(())
    }
}

struct Fixture {
    dir: PathBuf,
    key: LessSafeKey,
    valid_state: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let dir = base.join(format!("ql-fuzz-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let clock = Arc::new(FixedClock::at("2026-11-23T15:00:00Z", 0).expect("clock"));
        let policy = Policy::from_json(r#"{"schema":1,"mode":"work","off_duty":{"enabled":true}}"#).expect("policy");
        let mut agent = Agent::create(AgentConfig::new(&dir, "US"), Arc::new(Plain), clock, policy).expect("create");
        agent.register_survivor("+1 207-555-0100", None).expect("register");
        agent.handle(quietline_core::Event::Tick).expect("tick");
        drop(agent);
        let valid_state = Store::open(&dir, Arc::new(Plain)).and_then(|s| s.load()).expect("load");
        let data_key = std::fs::read(dir.join(store::KEY_FILE)).expect("data key");
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &data_key).expect("key"));
        Fixture { dir, key, valid_state }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let f = fixture();
    if mode % 2 == 0 {
        let _ = store::open_sealed(&f.key, rest);
        return;
    }
    let plaintext = match rest.split_first() {
        Some((&sub, edits)) if sub % 2 == 1 => {
            let mut s = f.valid_state.clone();
            for e in edits.chunks_exact(3) {
                let pos = usize::from(u16::from_le_bytes([e[0], e[1]])) % s.len();
                s[pos] = e[2];
            }
            s
        }
        _ => rest.to_vec(),
    };
    let sealed = store::seal(&f.key, &plaintext).expect("seal");
    std::fs::write(f.dir.join(store::STATE_FILE), sealed).expect("write state");
    let clock = Arc::new(FixedClock::at("2026-11-23T15:00:00Z", 0).expect("clock"));
    if let Ok(mut agent) = Agent::open(&f.dir, Arc::new(Plain), clock) {
        // A state that decodes must be usable: read-only calls on what it holds.
        let _ = agent.compliance();
        let _ = agent.pending_actions();
        let _ = agent.verify_audit();
        let _ = agent.is_survivor("+1 207-555-0100");
        let _ = agent.handle(quietline_core::Event::OutgoingSms { number: "2075550100".into() });
    }
});
