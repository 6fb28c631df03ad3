//! Persistence: the agent's state ([`State`]), how it is committed (sealed, the registry in its
//! own file, the state file replaced atomically) and how a committed state is read back. A
//! failed commit returns the in-memory state to the last committed one. No rule lives here.

use crate::actions::Outbox;
use crate::audit::AuditLog;
use crate::clock::TrustedTime;
use crate::enrollment::TrustState;
use crate::error::{AgentError, StateError};
use crate::event::{PlatformCaps, RuleGap};
use crate::hex::sha256_hex;
use crate::numbers::Region;
use crate::offline::OfflineState;
use crate::policy::Policy;
use crate::registry::{Registry, RegistryState};
use crate::store::{self, KeyProtector, Store};
use crate::texts::HeldTexts;
use crate::wipe::WipeIntent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

const STATE_FORMAT: u32 = 1;

/// What the app last reported about the device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Posture {
    pub(crate) lock_timeout_secs: Option<u32>,
    pub(crate) secure_lock: Option<bool>,
    pub(crate) caller_id_last_check: Option<DateTime<Utc>>,
    pub(crate) caller_id_last_hidden: Option<bool>,
    #[serde(default)]
    pub(crate) caller_id_check_scheduled_at: Option<DateTime<Utc>>,
    /// The rules the app last reported it cannot enforce (a state from before: none).
    #[serde(default)]
    pub(crate) gaps: Vec<RuleGap>,
}

/// The persistent state, serialised as JSON inside the sealed state file.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) format: u32,
    pub(crate) generation: u64,
    pub(crate) region: Region,
    pub(crate) policy: Policy,
    /// Kept in its own sealed file (see [`RegistryRef`]), so that commits which do not touch
    /// the registry — most of them — do not rewrite it.
    #[serde(skip, default = "placeholder_registry")]
    pub(crate) registry: Registry,
    pub(crate) registry_ref: Option<RegistryRef>,
    pub(crate) outbox: Outbox,
    pub(crate) audit: AuditLog,
    pub(crate) posture: Posture,
    pub(crate) last_off_duty_reminder: Option<DateTime<Utc>>,
    pub(crate) last_seen: DateTime<Utc>,
    #[serde(default)]
    pub(crate) trust: Option<TrustState>,
    #[serde(default)]
    pub(crate) wipe_intent: Option<WipeIntent>,
    #[serde(default)]
    pub(crate) offline: OfflineState,
    #[serde(default)]
    pub(crate) caps: PlatformCaps,
    /// Whether the app has declared `caps` (a state from before this flag must declare again).
    #[serde(default)]
    pub(crate) caps_declared: bool,
    /// The latest time the evidence supports (see [`TrustedTime`]): what expiries are checked
    /// against, with the wall clock. Unlike `last_seen`, a wall clock set forward never raises it.
    #[serde(default)]
    pub(crate) time: TrustedTime,
    /// Texts from and to survivors, held instead of the phone's SMS provider (a state from
    /// before: none).
    #[serde(default)]
    pub(crate) texts: HeldTexts,
}

/// Which registry file belongs to this state, and the SHA-256 of its contents: a registry file
/// swapped for an older one is detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RegistryRef {
    file: String,
    sha256: String,
}

fn placeholder_registry() -> Registry {
    Registry::new([0; 32])
}

impl State {
    /// A fresh state for a new agent, with a new registry secret.
    pub(crate) fn new(region: Region, policy: Policy, now: DateTime<Utc>) -> Result<Self, AgentError> {
        Ok(State {
            format: STATE_FORMAT,
            generation: 0,
            region,
            policy,
            registry: Registry::new(store::random_bytes::<32>()?),
            registry_ref: None,
            outbox: Outbox::default(),
            audit: AuditLog::default(),
            posture: Posture::default(),
            last_off_duty_reminder: None,
            last_seen: now,
            trust: None,
            wipe_intent: None,
            offline: OfflineState::default(),
            caps: PlatformCaps::default(),
            caps_declared: false,
            time: TrustedTime::starting_at(now.timestamp()),
            texts: HeldTexts::default(),
        })
    }
}

/// The committed state on disk: the store, the last committed bytes (to return to after a
/// failed commit), and which registry version is on disk.
pub(crate) struct Journal {
    store: Store,
    committed: Vec<u8>,
    /// The registry's change counter when it was last written; `None` before the first write.
    registry_saved: Option<u64>,
}

/// An empty path would put the state in whatever the working directory happens to be.
pub(crate) fn check_dir(dir: &Path) -> Result<(), AgentError> {
    if dir.as_os_str().is_empty() {
        return Err(StateError::NoDirectory.into());
    }
    Ok(())
}

impl Journal {
    /// A new store in an empty directory; nothing committed yet.
    pub(crate) fn create(dir: &Path, protector: Arc<dyn KeyProtector>) -> Result<Self, AgentError> {
        Ok(Journal { store: Store::create(dir, protector)?, committed: Vec::new(), registry_saved: None })
    }

    /// Opens the store in `dir` and reads the committed state. A missing, corrupt or truncated
    /// state is a typed error, never a silent reset.
    pub(crate) fn open(dir: &Path, protector: Arc<dyn KeyProtector>) -> Result<(Self, State), AgentError> {
        let store = Store::open(dir, protector)?;
        let plain = store.load()?;
        let state = decode_state(&plain, &store)?;
        if let Some(recorded) = store.recorded_generation().filter(|g| *g > state.generation) {
            // The key store saw a later commit than these files hold: an older copy of the
            // directory was put back (it would revive purged survivors and revoked keys).
            return Err(AgentError::StateDamaged(format!(
                "the state directory was rolled back: it holds generation {}, but the key store recorded {recorded}",
                state.generation
            )));
        }
        if let Some(r) = &state.registry_ref {
            store.remove_registry_files_except(&r.file);
        }
        let journal = Journal { store, committed: plain, registry_saved: Some(state.registry.changes()) };
        Ok((journal, state))
    }

    /// The state directory.
    pub(crate) fn dir(&self) -> &Path {
        self.store.dir()
    }

    /// A tag over a plain side file (the wipe marker) that only this agent can make.
    pub(crate) fn tag(&self, bytes: &[u8]) -> Result<[u8; 32], AgentError> {
        Ok(self.store.tag(bytes)?)
    }

    /// Whether a side file's tag is this agent's.
    pub(crate) fn check_tag(&self, bytes: &[u8], tag: &[u8]) -> bool {
        self.store.check_tag(bytes, tag)
    }

    /// Cryptographic erase: the key first, then the files.
    pub(crate) fn erase(&mut self) -> Result<(), AgentError> {
        Ok(self.store.wipe()?)
    }

    /// Commits `state`: seals it and replaces the state file atomically. On failure `state`
    /// returns to the last committed one.
    pub(crate) fn commit(&mut self, state: &mut State, now: DateTime<Utc>) -> Result<(), AgentError> {
        let previous_ref = state.registry_ref.clone();
        state.generation += 1;
        state.last_seen = state.last_seen.max(now);
        let result = self.write_registry_if_changed(state).and_then(|()| {
            let p = serde_json::to_vec(&*state).map_err(|e| AgentError::StateDamaged(e.to_string()))?;
            self.store.save(&p)?;
            Ok(p)
        });
        match result {
            Ok(p) => {
                self.store.record_generation(state.generation);
                self.committed = p;
                self.registry_saved = Some(state.registry.changes());
                if state.registry_ref != previous_ref {
                    if let Some(r) = &state.registry_ref {
                        self.store.remove_registry_files_except(&r.file);
                    }
                }
                Ok(())
            }
            Err(e) => {
                // Back to the last committed state; its registry file is still on disk, since
                // files are only removed after a commit that no longer names them.
                if let Ok(s) = decode_state(&self.committed, &self.store) {
                    *state = s;
                    self.registry_saved = Some(state.registry.changes());
                }
                Err(e)
            }
        }
    }

    /// Writes the registry to a new file, fsynced before the state that names it is committed.
    fn write_registry_if_changed(&mut self, state: &mut State) -> Result<(), AgentError> {
        if self.registry_saved == Some(state.registry.changes()) && state.registry_ref.is_some() {
            return Ok(());
        }
        let plain =
            serde_json::to_vec(&state.registry.to_state()).map_err(|e| AgentError::StateDamaged(e.to_string()))?;
        let file = format!("{}{}.qls", store::REGISTRY_PREFIX, state.generation);
        self.store.save_file(&file, &plain)?;
        state.registry_ref = Some(RegistryRef { file, sha256: sha256_hex(&plain) });
        Ok(())
    }
}

fn decode_state(plain: &[u8], store: &Store) -> Result<State, AgentError> {
    let json_err =
        |e: serde_json::Error| format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column());
    let mut s: State = serde_json::from_slice(plain).map_err(|e| AgentError::StateDamaged(json_err(e)))?;
    if s.format != STATE_FORMAT {
        return Err(AgentError::StateDamaged(format!("unknown state format {}", s.format)));
    }
    s.policy.validate()?;
    if s.time.is_unset() {
        // A state from before evidence-based time: its latest-seen time is the best it has.
        s.time = TrustedTime::starting_at(s.last_seen.timestamp());
    }
    let r = s.registry_ref.as_ref().ok_or_else(|| AgentError::StateDamaged("no registry file named".into()))?;
    let reg_plain = store.load_file(&r.file)?;
    if sha256_hex(&reg_plain) != r.sha256 {
        return Err(AgentError::StateDamaged("the registry file does not match the state".into()));
    }
    let rs: RegistryState = serde_json::from_slice(&reg_plain).map_err(|e| AgentError::StateDamaged(json_err(e)))?;
    s.registry = Registry::from_state(rs)?;
    Ok(s)
}
