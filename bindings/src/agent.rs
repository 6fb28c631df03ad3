//! The `Agent` object: the core's agent behind a mutex, each method a delegation wrapped so that
//! no panic crosses the FFI.

use crate::error::ApiError;
use crate::platform::{clock_for, Clock, ForeignKeyProtector, KeyProtector};
use crate::types::{AckOutcome, AckResult, Action, AuditRecord, ComplianceReport, ContactPlan, Event, Mode, Outcome};
use quietline_core as ql;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// What the object holds: the live agent, or why there is none.
enum Slot {
    Live(Box<ql::Agent>),
    Wiped,
    /// A panic was caught inside a call: the in-memory state may be half-changed, so the object
    /// refuses further calls. The committed state on disk is intact: open it again.
    Broken,
}

/// Runs `f`, turning a panic into `ApiError::Internal`.
fn guarded<T>(f: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(internal_panic()))
}

fn internal_panic() -> ApiError {
    ApiError::Internal { reason: "a bug inside Quietline was caught; open the agent again".into() }
}

fn non_empty_dir(dir: &str) -> Result<(), ApiError> {
    if dir.trim().is_empty() {
        return Err(ApiError::input("the state directory is empty"));
    }
    Ok(())
}

/// The policy agent on this phone. Send it every platform event with `handle`, execute the
/// actions it returns, and acknowledge each with `ack`. It keeps its state encrypted in one
/// directory, committed before every call returns, so the app may be killed at any moment.
/// Safe to call from any thread; calls are serialised.
#[derive(uniffi::Object)]
pub struct Agent {
    inner: Mutex<Slot>,
}

impl Agent {
    fn wrap(agent: ql::Agent) -> Arc<Self> {
        Arc::new(Agent { inner: Mutex::new(Slot::Live(Box::new(agent))) })
    }

    /// Runs `f` on the live agent. A caught panic marks the object broken.
    fn with<T>(&self, f: impl FnOnce(&mut ql::Agent) -> Result<T, ql::AgentError>) -> Result<T, ApiError> {
        let mut slot = self.inner.lock().map_err(|_| internal_panic())?;
        let agent = match &mut *slot {
            Slot::Live(a) => a,
            Slot::Wiped => return Err(ApiError::Wiped { reason: "this agent was wiped".into() }),
            Slot::Broken => return Err(internal_panic()),
        };
        match catch_unwind(AssertUnwindSafe(|| f(agent))) {
            Ok(r) => r.map_err(ApiError::from),
            Err(_) => {
                *slot = Slot::Broken;
                Err(internal_panic())
            }
        }
    }
}

#[uniffi::export]
impl Agent {
    /// Creates the agent in an empty directory (created if missing) with its first policy, and
    /// commits it. Call once, at enrollment; afterwards use `open`. The first actions (lock
    /// timeout, secure lock) are pending at once. `region` is the device's ISO 3166 region
    /// (`US`, `GB`), which decides how numbers are read and which caller-ID prefix applies.
    /// Leave `clock` out in the app; tests pass one to freeze time.
    #[uniffi::constructor(default(clock = None))]
    pub fn create(
        dir: String,
        region: String,
        policy_json: String,
        key_protector: Arc<dyn KeyProtector>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, ApiError> {
        guarded(|| {
            non_empty_dir(&dir)?;
            let policy = ql::Policy::from_json(&policy_json).map_err(ql::AgentError::from)?;
            let protector = Arc::new(ForeignKeyProtector(key_protector));
            let config = ql::AgentConfig::new(&dir, &region);
            Ok(Agent::wrap(ql::Agent::create(config, protector, clock_for(clock), policy)?))
        })
    }

    /// Opens the agent created earlier in `dir`, at every app start. A missing directory is
    /// `NotInitialized`; a damaged or altered state is `StateDamaged`, never a silent reset.
    /// Actions not yet acknowledged before the app stopped are pending again.
    #[uniffi::constructor(default(clock = None))]
    pub fn open(
        dir: String,
        key_protector: Arc<dyn KeyProtector>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, ApiError> {
        guarded(|| {
            non_empty_dir(&dir)?;
            let protector = Arc::new(ForeignKeyProtector(key_protector));
            Ok(Agent::wrap(ql::Agent::open(&dir, protector, clock_for(clock))?))
        })
    }

    /// Decides what to do about a platform event (a call about to be placed, a call ended, a
    /// text, a posture report, a tick…). Act on the verdict, then execute and acknowledge the
    /// actions. The agent's state is committed before this returns.
    pub fn handle(&self, event: Event) -> Result<Outcome, ApiError> {
        let event = ql::Event::try_from(event)?;
        self.with(|a| a.handle(event)).map(Into::into)
    }

    /// The actions due now, oldest first. Call at app start: everything not acknowledged before
    /// a restart comes back, so a deletion is never lost because the app was killed.
    pub fn pending_actions(&self) -> Result<Vec<Action>, ApiError> {
        self.with(|a| Ok(a.pending_actions())).map(|v| v.into_iter().map(Into::into).collect())
    }

    /// Every unacknowledged action, including those not due yet (a delayed deletion, a retry
    /// after backoff), for scheduling a wake-up.
    pub fn all_pending_actions(&self) -> Result<Vec<Action>, ApiError> {
        self.with(|a| Ok(a.all_pending_actions())).map(|v| v.into_iter().map(Into::into).collect())
    }

    /// Reports what became of an action. `Done` forgets it and any number it held; `Failed`
    /// brings it back after a backoff and shows in compliance. Repeating an ack is harmless;
    /// an id never issued is `UnknownAction`.
    pub fn ack(&self, action_id: u64, result: AckResult) -> Result<AckOutcome, ApiError> {
        self.with(|a| a.ack(action_id, result.into())).map(Into::into)
    }

    /// Registers a survivor's number (or renews it), with the survivor's own contact plan; the
    /// plan defaults to `defaultContactPlan()`. Only a keyed hash of the number is stored, and it
    /// expires per the policy. Refused with `NotAllowed` on an anonymous hotline.
    #[uniffi::method(default(plan = None))]
    pub fn register_survivor(&self, number: String, plan: Option<ContactPlan>) -> Result<(), ApiError> {
        let plan = plan.map(ql::ContactPlan::try_from).transpose()?;
        self.with(|a| a.register_survivor(&number, plan))
    }

    /// Forgets a survivor's number now. Returns whether it was registered.
    pub fn forget_survivor(&self, number: String) -> Result<bool, ApiError> {
        self.with(|a| a.forget_survivor(&number))
    }

    /// Whether a number belongs to a registered survivor (emergency numbers and short codes never do).
    pub fn is_survivor(&self, number: String) -> Result<bool, ApiError> {
        self.with(|a| a.is_survivor(&number))
    }

    /// How many survivors are registered.
    pub fn survivor_count(&self) -> Result<u64, ApiError> {
        self.with(|a| Ok(a.survivor_count() as u64))
    }

    /// Forgets every survivor now and returns the action asking the app to purge its own survivor
    /// data (contacts, notes, caches). For an advocate leaving, or a phone changing hands.
    pub fn purge_survivor_data(&self) -> Result<Vec<Action>, ApiError> {
        self.with(|a| a.purge_survivor_data()).map(|v| v.into_iter().map(Into::into).collect())
    }

    /// Installs a policy given as JSON (schema 1) and returns the actions that enforce it. The
    /// policy is not authenticated here: this is for tests and tools until signed policies
    /// arrive, which will replace it. A refused policy (`InvalidPolicy`) leaves the old one.
    pub fn install_policy_json(&self, policy_json: String) -> Result<Vec<Action>, ApiError> {
        self.with(|a| {
            let policy = ql::Policy::from_json(&policy_json)?;
            a.install_policy(policy)
        })
        .map(|v| v.into_iter().map(Into::into).collect())
    }

    /// The policy in force, as canonical JSON, for display and support.
    pub fn policy_json(&self) -> Result<String, ApiError> {
        self.with(|a| Ok(a.policy().to_json()))
    }

    /// The device's region code, as used for numbers and caller-ID prefixes.
    pub fn region(&self) -> Result<String, ApiError> {
        self.with(|a| Ok(a.region().code().to_string()))
    }

    /// Updates the device's region after a SIM change or travel, so numbers and caller-ID
    /// prefixes follow it.
    pub fn set_region(&self, region: String) -> Result<(), ApiError> {
        self.with(|a| a.set_region(&region))
    }

    /// How many commits the state has seen; it grows with every committed change.
    pub fn generation(&self) -> Result<u64, ApiError> {
        self.with(|a| Ok(a.generation()))
    }

    /// The compliance report for IT staff: findings and counts, never survivor data.
    pub fn compliance(&self) -> Result<ComplianceReport, ApiError> {
        self.with(|a| Ok(a.compliance())).map(Into::into)
    }

    /// The audit records kept, oldest first, after checking their hash chain (`StateDamaged`
    /// if it is broken). Records name kinds of events and counts, never survivors.
    pub fn audit_export(&self) -> Result<Vec<AuditRecord>, ApiError> {
        self.with(|a| a.audit_export()).map(|v| v.into_iter().map(Into::into).collect())
    }

    /// Cryptographic erase of everything the agent holds: the key protector's key first, then
    /// the files. The object refuses every call afterwards (`Wiped`). A failure to destroy the
    /// platform key is reported, but the files are removed anyway.
    pub fn wipe(&self) -> Result<(), ApiError> {
        let mut slot = self.inner.lock().map_err(|_| internal_panic())?;
        match std::mem::replace(&mut *slot, Slot::Wiped) {
            Slot::Live(agent) => guarded(|| (*agent).wipe().map_err(ApiError::from)),
            Slot::Wiped => Err(ApiError::Wiped { reason: "this agent was already wiped".into() }),
            Slot::Broken => {
                *slot = Slot::Broken;
                Err(internal_panic())
            }
        }
    }
}

/// The contact plan a survivor gets unless they choose otherwise, following the field's
/// guidance: any time, a voicemail may be left with a vague script, and after a dropped call the
/// advocate waits for the survivor to call back. Start from it and change what the survivor asks.
#[uniffi::export]
pub fn default_contact_plan() -> ContactPlan {
    ql::ContactPlan::default().into()
}

/// The default policy for a mode, as JSON: a safe starting point that follows the field's
/// guidance, for tests and for tools that write policies.
#[uniffi::export]
pub fn default_policy_json(mode: Mode) -> String {
    ql::Policy::default_for(mode.into()).to_json()
}
