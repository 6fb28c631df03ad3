//! The `Agent` object: the core's agent behind a mutex, each method a delegation wrapped so that
//! no panic crosses the FFI.

use crate::error::ApiError;
use crate::event::{Action, ActionKind, ComplianceReport, Event, Outcome};
use crate::platform::{Clock, ForeignKeyProtector, KeyProtector};
use crate::remote::{AckOutcome, AckResult, Mode, PlatformCaps, WipeScope};
use crate::types::{AuditRecord, CommandResult, ContactPlan, SurvivorEntry};
use quietline_core as ql;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// What the object holds: the live agent, or why there is none.
enum Slot {
    Live(Box<ql::Agent>),
    /// Erased; the platform wipe the app still owes, if any.
    Wiped(Option<WipeScope>),
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

fn wiped(scope: Option<WipeScope>) -> ApiError {
    ApiError::Wiped { reason: "this agent was wiped".into(), scope }
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
    /// The enrollment response, held for the object `enroll` returned (the core does not keep it).
    enrollment_response: Option<String>,
}

impl Agent {
    fn wrap(agent: ql::Agent) -> Arc<Self> {
        Arc::new(Agent { inner: Mutex::new(Slot::Live(Box::new(agent))), enrollment_response: None })
    }

    /// After a call that erased the agent (a wipe command, an offline self-wipe), the object
    /// refuses every further call, as after `wipe()`: the in-memory state must not outlive the files.
    fn mark_wiped(&self, scope: WipeScope) {
        if let Ok(mut slot) = self.inner.lock() {
            *slot = Slot::Wiped(Some(scope));
        }
    }

    /// Runs `f` on the live agent. A caught panic marks the object broken.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut ql::Agent) -> Result<T, ql::AgentError>) -> Result<T, ApiError> {
        let mut slot = self.inner.lock().map_err(|_| internal_panic())?;
        let agent = match &mut *slot {
            Slot::Live(a) => a,
            Slot::Wiped(scope) => return Err(wiped(*scope)),
            Slot::Broken => return Err(internal_panic()),
        };
        match catch_unwind(AssertUnwindSafe(|| f(agent))) {
            Ok(Err(ql::AgentError::Wiped { scope })) => {
                *slot = Slot::Wiped(Some(scope));
                Err(ql::AgentError::Wiped { scope }.into())
            }
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
    /// Enrolls this phone from the bundle IT staff made with `quietline-admin enroll` (the `QL:`
    /// text of the QR code): pins the organisation's root key, verifies the signed policy in it,
    /// generates the device key, and creates the agent in an empty directory (created if
    /// missing), committed. This is how a managed phone starts; afterwards use `open` at every
    /// start. Send `enrollmentResponse()` back to IT so they can address commands to this phone
    /// and verify its receipts. A bad, foreign or expired bundle is `Untrusted`; an existing agent
    /// in `dir` is `AlreadyInitialized`. `region` is the device's ISO 3166 region (`US`, `GB`).
    /// Leave `clock` out in the app; tests pass one to freeze time.
    #[uniffi::constructor(default(clock = None))]
    pub fn enroll(
        dir: String,
        region: String,
        bundle: String,
        key_protector: Arc<dyn KeyProtector>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, ApiError> {
        embed::enroll(dir, region, bundle, Arc::new(ForeignKeyProtector(key_protector)), clock)
    }

    /// Creates an agent that is not enrolled, with a local, unsigned policy (JSON, schema 1), in an
    /// empty directory (created if missing), and commits it. For tests, demos and tools: it has
    /// no organisation key, so it accepts no signed policy or command. A managed phone is set up
    /// with `enroll`. The first actions (lock timeout, secure lock) are pending at once.
    /// `region` is the device's ISO 3166 region (`US`, `GB`), which decides how numbers are read
    /// and which caller-ID prefix applies. Leave `clock` out in the app; tests pass one.
    #[uniffi::constructor(default(clock = None))]
    pub fn create(
        dir: String,
        region: String,
        policy_json: String,
        key_protector: Arc<dyn KeyProtector>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, ApiError> {
        embed::create(dir, region, policy_json, Arc::new(ForeignKeyProtector(key_protector)), clock)
    }

    /// Opens the agent enrolled or created earlier in `dir`, at every app start. A missing
    /// directory is `NotInitialized`; a damaged or altered state is `StateDamaged`, never a silent
    /// reset. Actions not yet acknowledged before the app stopped are pending again. If a wipe was
    /// under way when the app stopped, it is finished now and the call fails with `Wiped` carrying
    /// the platform wipe the app must still perform; then deliver `takeWipeReceipt(dir)`.
    #[uniffi::constructor(default(clock = None))]
    pub fn open(
        dir: String,
        key_protector: Arc<dyn KeyProtector>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, ApiError> {
        embed::open(dir, Arc::new(ForeignKeyProtector(key_protector)), clock)
    }

    /// Decides what to do about a platform event (a call about to be placed, a call ended, a
    /// text, a posture report, a tick…). Act on the verdict, then execute and acknowledge the
    /// actions. The agent's state is committed before this returns.
    ///
    /// An offline rule may make the agent wipe itself here (too long without a check-in or an
    /// unlock, too many failed unlocks, as the policy says): the outcome then holds a `Wipe`
    /// action, the agent's data is already erased, this object refuses further calls (`Wiped`),
    /// and the app performs the platform wipe and delivers `takeWipeReceipt(dir)`.
    pub fn handle(&self, event: Event) -> Result<Outcome, ApiError> {
        let event = ql::Event::try_from(event)?;
        let outcome = self.with(|a| a.handle(event))?;
        // Only a self-wipe issues a `Wipe` action, and it has erased the agent by now.
        if let Some(scope) = outcome.actions.iter().find_map(|a| match a.kind {
            ActionKind::Wipe { scope } => Some(scope),
            _ => None,
        }) {
            self.mark_wiped(scope);
        }
        Ok(outcome)
    }

    /// The actions due now, oldest first. Call at app start: everything not acknowledged before
    /// a restart comes back, so a deletion is never lost because the app was killed.
    pub fn pending_actions(&self) -> Result<Vec<Action>, ApiError> {
        self.with(|a| Ok(a.pending_actions()))
    }

    /// Every unacknowledged action, including those not due yet (a delayed deletion, a retry
    /// after backoff), for scheduling a wake-up.
    pub fn all_pending_actions(&self) -> Result<Vec<Action>, ApiError> {
        self.with(|a| Ok(a.all_pending_actions()))
    }

    /// Reports what became of an action. `Done` forgets it and any number it held; `Failed`
    /// brings it back after a backoff and shows in compliance. Repeating an ack is harmless;
    /// an id never issued is `UnknownAction`.
    pub fn ack(&self, action_id: u64, result: AckResult) -> Result<AckOutcome, ApiError> {
        self.with(|a| a.ack(action_id, result))
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
        self.with(|a| a.purge_survivor_data())
    }

    /// Replaces the local policy of an agent made with `create` (tests, demos, tools) and returns
    /// the actions that enforce it. Not how policies reach a managed phone: nothing here is
    /// authenticated, so an enrolled agent refuses it (`NotAllowed`) and takes policies only
    /// through `installSignedPolicy`. A refused policy (`InvalidPolicy`) leaves the old one.
    pub fn install_policy_json(&self, policy_json: String) -> Result<Vec<Action>, ApiError> {
        let actions = self.with(|a| {
            if a.device_id().is_some() {
                return Ok(None);
            }
            let policy = ql::Policy::from_json(&policy_json)?;
            a.install_policy(policy).map(Some)
        })?;
        actions.ok_or_else(|| ApiError::NotAllowed {
            reason: "an enrolled device installs only signed policies (installSignedPolicy)".into(),
        })
    }

    /// The enrollment response (`QL:` text) to send back to IT staff (`quietline-admin enroll
    /// accept`): it carries the device's public key, signed by it, so IT can address commands to
    /// this phone and verify its receipts. Kept by the agent, so an app killed before delivering
    /// it can send it after `open`; `null` on an agent that was not enrolled.
    pub fn enrollment_response(&self) -> Option<String> {
        self.enrollment_response.clone().or_else(|| self.with(|a| Ok(a.enrollment_response())).ok().flatten())
    }

    /// Registers a whole caseload in one commit (an import): all or, on the first unusable number,
    /// none. The error names the position in the list, never the number.
    pub fn register_survivors(&self, survivors: Vec<SurvivorEntry>) -> Result<u64, ApiError> {
        let list = survivors
            .into_iter()
            .map(|e| Ok((e.number, e.plan.map(ql::ContactPlan::try_from).transpose()?)))
            .collect::<Result<Vec<_>, ApiError>>()?;
        self.with(|a| a.register_survivors(&list)).map(|n| n as u64)
    }

    /// Declares what this platform can do, once at start: iOS passes `fullWipe = false,
    /// prefixDialing = false`. A survivor call whose caller ID could not be hidden is then refused
    /// instead of placed, and a full wipe is performed as selective with a receipt that says why.
    pub fn set_platform_caps(&self, caps: PlatformCaps) -> Result<(), ApiError> {
        self.with(|a| a.set_platform_caps(caps))
    }

    /// Installs a signed policy (`QL:` text from the relay or a push) after checking it: signed by
    /// the organisation's root (or by a staff key allowed to update policy, which may not change
    /// the staff list), for this phone and mode, newer than the installed one, not expired.
    /// Returns the actions that enforce it; none if this exact policy is installed already. A
    /// refused policy is `Untrusted` (or `InvalidPolicy`) and leaves the old one in force.
    /// It also takes the organisation's check-in acknowledgement from the relay's queue (no
    /// actions; `Untrusted` unless it answers this phone's own outstanding check-in, once).
    pub fn install_signed_policy(&self, text: String) -> Result<Vec<Action>, ApiError> {
        self.with(|a| a.install_signed_policy(&text))
    }

    /// Applies a signed rotation of the organisation's root keys (`QL:` text), signed by enough
    /// of the old and the new keys. Returns the new root version. A phone that missed several
    /// rotations applies them one by one, in order; anything else is `Untrusted`.
    pub fn apply_root_rotation(&self, text: String) -> Result<u64, ApiError> {
        self.with(|a| a.apply_root_rotation(&text))
    }

    /// Verifies and applies a signed command (`QL:` text from an SMS, a push or the relay; the
    /// channel proves nothing, the signature does). Execute the returned actions and acknowledge
    /// each; after a wipe (`wipe` set) perform the platform wipe: the agent's own data is already
    /// erased and this object refuses further calls. A command that fails a check (garbage, a
    /// bad signature, another phone, a signer without the role, expired, a reused sequence
    /// number) is `Untrusted` and changes nothing; the same command again is `Replayed`.
    pub fn apply_command(&self, text: String) -> Result<CommandResult, ApiError> {
        let result = self.with(|a| a.apply_command(&text))?;
        if let Some(scope) = result.wipe {
            self.mark_wiped(scope);
        }
        Ok(result)
    }

    /// Signed receipts not yet delivered to IT, oldest first. Send each (relay, SMS) and then call
    /// `receiptDelivered` with it. The oldest are dropped if hundreds pile up undelivered.
    pub fn queued_receipts(&self) -> Result<Vec<String>, ApiError> {
        self.with(|a| Ok(a.queued_receipts()))
    }

    /// Removes a delivered receipt from the queue. Returns whether it was queued (delivering one
    /// twice is harmless). `WrongState` on an agent that is not enrolled.
    pub fn receipt_delivered(&self, receipt: String) -> Result<bool, ApiError> {
        self.with(|a| a.receipt_delivered(&receipt))
    }

    /// This phone's device id (16 hex digits) from enrollment, as IT staff know it; `null` if the
    /// agent was not enrolled.
    pub fn device_id(&self) -> Result<Option<String>, ApiError> {
        self.with(|a| Ok(a.device_id()))
    }

    /// The installed signed policy's version; `null` if the agent was not enrolled.
    pub fn policy_version(&self) -> Result<Option<u64>, ApiError> {
        self.with(|a| Ok(a.policy_version()))
    }

    /// Where to poll for commands and policies and deliver receipts, if IT gave a relay at
    /// enrollment. Commands are signed, so the relay is not trusted with anything.
    pub fn relay_url(&self) -> Result<Option<String>, ApiError> {
        self.with(|a| Ok(a.relay_url()))
    }

    /// Whether the installed signed policy has expired. It stays in force (an expired policy
    /// never relaxes to defaults), the advocate is notified, and after the policy's grace period
    /// the phone locks; IT must send a newer one. Setting the clock back does not undo it.
    pub fn policy_is_stale(&self) -> Result<bool, ApiError> {
        self.with(|a| Ok(a.policy_is_stale()))
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
        self.with(|a| Ok(a.compliance()))
    }

    /// The audit records kept, oldest first, after checking their hash chain (`StateDamaged`
    /// if it is broken). Records name kinds of events and counts, never survivors.
    pub fn audit_export(&self) -> Result<Vec<AuditRecord>, ApiError> {
        self.with(|a| a.audit_export())
    }

    /// Cryptographic erase of everything the agent holds: the key protector's key first, then
    /// the files. The object refuses every call afterwards (`Wiped`). A failure to destroy the
    /// platform key is reported, but the files are removed anyway. This is the app's own erase
    /// (the advocate leaves, the app is reset); it signs no receipt. Wipes IT staff order arrive
    /// as signed commands through `applyCommand`.
    pub fn wipe(&self) -> Result<(), ApiError> {
        let mut slot = self.inner.lock().map_err(|_| internal_panic())?;
        match std::mem::replace(&mut *slot, Slot::Wiped(None)) {
            Slot::Live(agent) => guarded(|| (*agent).wipe().map_err(ApiError::from)),
            Slot::Wiped(scope) => {
                *slot = Slot::Wiped(scope);
                Err(ApiError::Wiped { reason: "this agent was already wiped".into(), scope })
            }
            Slot::Broken => {
                *slot = Slot::Broken;
                Err(internal_panic())
            }
        }
    }
}

/// The same constructors for Rust code that links this crate into its own library and holds a key
/// protector written in Rust (the Android crate's `JniKeyProtector`): the agent calls the core's
/// [`ql::KeyProtector`] directly, without a round trip through a foreign trait. Not exported over
/// the FFI; the exported constructors of [`Agent`] call these with the app's protector adapted.
pub mod embed {
    use super::{guarded, non_empty_dir, Agent, Slot};
    use crate::error::ApiError;
    use crate::platform::{clock_for, Clock};
    use quietline_core as ql;
    use std::sync::{Arc, Mutex};

    /// [`Agent::enroll`] with a Rust key protector.
    pub fn enroll(
        dir: String,
        region: String,
        bundle: String,
        protector: Arc<dyn ql::KeyProtector>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Agent>, ApiError> {
        guarded(|| {
            non_empty_dir(&dir)?;
            let config = ql::AgentConfig::new(&dir, &region);
            let (agent, response) = ql::Agent::enroll(config, protector, clock_for(clock), &bundle)?;
            Ok(Arc::new(Agent { inner: Mutex::new(Slot::Live(Box::new(agent))), enrollment_response: Some(response) }))
        })
    }

    /// [`Agent::create`] with a Rust key protector (tests, demos and tools: not enrolled).
    pub fn create(
        dir: String,
        region: String,
        policy_json: String,
        protector: Arc<dyn ql::KeyProtector>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Agent>, ApiError> {
        guarded(|| {
            non_empty_dir(&dir)?;
            let policy = ql::Policy::from_json(&policy_json).map_err(ql::AgentError::from)?;
            let config = ql::AgentConfig::new(&dir, &region);
            Ok(Agent::wrap(ql::Agent::create(config, protector, clock_for(clock), policy)?))
        })
    }

    /// [`Agent::open`] with a Rust key protector.
    pub fn open(
        dir: String,
        protector: Arc<dyn ql::KeyProtector>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Agent>, ApiError> {
        guarded(|| {
            non_empty_dir(&dir)?;
            Ok(Agent::wrap(ql::Agent::open(&dir, protector, clock_for(clock))?))
        })
    }
}

/// Takes the signed receipt a wipe left in the agent's directory, once, for the app to deliver
/// to IT after the agent is gone (after `applyCommand` returned a wipe, an offline self-wipe, or
/// `open` failing with `Wiped`). `null` if there is none. Deliver it before the platform wipe
/// removes the directory, or keep it elsewhere first.
#[uniffi::export]
pub fn take_wipe_receipt(dir: String) -> Option<String> {
    if dir.trim().is_empty() {
        return None;
    }
    catch_unwind(|| ql::device::take_wipe_receipt(std::path::Path::new(&dir))).ok().flatten()
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
    ql::Policy::default_for(mode).to_json()
}
