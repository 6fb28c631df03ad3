//! The agent: takes platform events, decides, and commits its state before it answers.

use crate::actions::{AckOutcome, AckResult, Action, ActionId, ActionKind, NotifyKind, Outbox, WipeScope};
use crate::audit::{AuditError, AuditKind, AuditLog, AuditRecord};
use crate::clock::Clock;
use crate::device::{FailPoint, TrustState, WipeIntent};
use crate::numbers::{self, Classified, NumberError, Region, E164};
use crate::policy::{AfterHours, CallerIdMethod, Day, Mode, Policy, PolicyError};
use crate::registry::{ContactPlan, DroppedCall, MessageLevel, Registry, RegistryError, RegistryState};
use crate::store::{self, KeyProtector, Store, StoreError};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why the agent refused or failed. Messages never contain a phone number.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AgentError {
    /// A number in the event could not be used.
    #[error(transparent)]
    Number(#[from] NumberError),
    /// The policy was refused.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The registry refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The encrypted store failed; nothing was committed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The decrypted state could not be read.
    #[error("the stored state is damaged: {0}")]
    StateDamaged(String),
    /// An acknowledgement named an action that was never issued.
    #[error("no action with id {0} was ever issued")]
    UnknownAction(ActionId),
    /// The audit chain is broken.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The operation is not possible in this state.
    #[error("not possible now: {0}")]
    WrongState(String),
    /// A signed object was refused.
    #[error(transparent)]
    Trust(#[from] crate::trust::TrustError),
    /// This agent's data has been wiped (crypto-erased); the app must now perform the
    /// platform wipe of this scope and deliver the receipt from `take_wipe_receipt`.
    #[error("this agent has been wiped ({scope:?})")]
    Wiped {
        /// The wipe the app must perform.
        scope: WipeScope,
    },
}

impl From<crate::wire::WireError> for AgentError {
    fn from(e: crate::wire::WireError) -> Self {
        AgentError::Trust(e.into())
    }
}

/// Which line a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    /// The organisation's helpline: caller ID is always hidden.
    Helpline,
    /// A direct call from the advocate's phone.
    Direct,
}

/// Which way a call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    /// The advocate called.
    Outgoing,
    /// The advocate was called.
    Incoming,
}

/// A platform event. Its `Debug` form never shows a number.
#[derive(Clone, PartialEq, Eq)]
pub enum Event {
    /// The advocate is about to place a call.
    OutgoingCall {
        /// The number as dialled.
        number: String,
        /// The line.
        line: Line,
        /// The advocate has seen a warning about this call and confirmed it.
        confirmed: bool,
    },
    /// A call ended.
    CallEnded {
        /// The other party's number.
        number: String,
        /// The line.
        line: Line,
        /// Who called.
        direction: CallDirection,
        /// When the call started.
        started_at: DateTime<Utc>,
        /// The call dropped rather than being hung up.
        dropped: bool,
    },
    /// The advocate is about to send a text.
    OutgoingSms {
        /// The recipient.
        number: String,
    },
    /// A call is ringing.
    IncomingCall {
        /// The caller's number, if shown.
        number: Option<String>,
    },
    /// What the app observed about the device.
    Posture {
        /// The current screen timeout in seconds (0: never locks).
        lock_timeout_secs: Option<u32>,
        /// Whether a PIN, password or biometric lock is set.
        secure_lock: Option<bool>,
        /// Result of a caller-ID check: was the number hidden?
        caller_id_hidden: Option<bool>,
    },
    /// The advocate is about to hand the phone to someone else.
    HandoffRequested,
    /// Periodic housekeeping (at least every few minutes while running).
    Tick,
    /// The app reached the organisation (relay poll succeeded) without a new policy or command.
    CheckIn,
    /// The advocate unlocked the phone.
    Unlocked,
    /// An unlock attempt failed.
    UnlockFailed,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::OutgoingCall { line, confirmed, .. } => write!(f, "OutgoingCall({line:?}, confirmed={confirmed})"),
            Event::CallEnded { line, direction, dropped, .. } => {
                write!(f, "CallEnded({line:?}, {direction:?}, dropped={dropped})")
            }
            Event::OutgoingSms { .. } => f.write_str("OutgoingSms"),
            Event::IncomingCall { number } => write!(f, "IncomingCall(shown={})", number.is_some()),
            Event::Posture { lock_timeout_secs, secure_lock, caller_id_hidden } => {
                write!(f, "Posture({lock_timeout_secs:?}, {secure_lock:?}, {caller_id_hidden:?})")
            }
            other => f.write_str(other.audit_name()),
        }
    }
}

impl Event {
    fn audit_name(&self) -> &'static str {
        match self {
            Event::HandoffRequested => "HandoffRequested",
            Event::Tick => "Tick",
            Event::CheckIn => "CheckIn",
            Event::Unlocked => "Unlocked",
            Event::UnlockFailed => "UnlockFailed",
            _ => "Event",
        }
    }

    fn audit_kind(&self) -> AuditKind {
        match self {
            Event::OutgoingCall { .. } => AuditKind::OutgoingCallChecked,
            Event::CallEnded { .. } => AuditKind::CallEnded,
            Event::OutgoingSms { .. } => AuditKind::SmsChecked,
            Event::IncomingCall { .. } => AuditKind::IncomingCallChecked,
            Event::Posture { .. } => AuditKind::PostureReported,
            Event::HandoffRequested => AuditKind::HandoffRequested,
            Event::Tick => AuditKind::Tick,
            Event::CheckIn => AuditKind::CheckIn,
            Event::Unlocked => AuditKind::Unlocked,
            Event::UnlockFailed => AuditKind::UnlockFailed,
        }
    }
}

/// Why something was blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    /// Texts to survivors are blocked.
    SmsToSurvivor,
    /// A work phone is never handed to someone else.
    WorkPhoneNeverShared,
    /// The policy hides caller ID with a dialling prefix, which this platform cannot dial
    /// (iOS refuses `*` and `#` in call URLs): the call would show the number.
    CallerIdCannotBeHidden,
}

/// Why the advocate is warned before a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarnReason {
    /// The survivor's plan says now is not a safe time.
    OutsideSafeWindow,
}

/// The decision for the event at hand.
#[derive(Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allow,
    /// Do not go ahead.
    Block {
        /// Why, as a kind.
        reason: BlockReason,
        /// Why, in words an advocate can read.
        message: String,
    },
    /// Place the call with this dial string (the caller-ID rule applied).
    Dial {
        /// What to dial.
        dial_string: String,
        /// Route through the organisation's VoIP service.
        via_voip: bool,
    },
    /// Ask the advocate first; resend the event with `confirmed: true` to proceed.
    Warn {
        /// Why, as a kind.
        reason: WarnReason,
        /// Why, in words an advocate can read (names the next safe time).
        message: String,
        /// The next safe time, if the plan has one.
        next_safe_at: Option<DateTime<Utc>>,
    },
    /// Send the incoming call to voicemail.
    SendToVoicemail {
        /// Why, in words an advocate can read.
        message: String,
    },
}

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Allow => f.write_str("Allow"),
            Verdict::Block { reason, message } => write!(f, "Block({reason:?}, {message:?})"),
            // The dial string holds the number: keep it out of logs and panic messages.
            Verdict::Dial { dial_string, via_voip } => {
                let prefix: String = dial_string.chars().take_while(|c| matches!(c, '*' | '#')).collect();
                write!(f, "Dial({prefix}<redacted>, voip={via_voip})")
            }
            Verdict::Warn { reason, message, next_safe_at } => {
                write!(f, "Warn({reason:?}, {message:?}, {next_safe_at:?})")
            }
            Verdict::SendToVoicemail { message } => write!(f, "SendToVoicemail({message:?})"),
        }
    }
}

/// The survivor's wishes for a call, for the app to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallGuidance {
    /// Whether a voicemail may be left.
    pub voicemail_allowed: bool,
    /// What a voicemail may say.
    pub message_level: MessageLevel,
    /// What to do if the call drops.
    pub dropped_call: DroppedCall,
}

impl From<&ContactPlan> for CallGuidance {
    fn from(p: &ContactPlan) -> Self {
        Self { voicemail_allowed: p.voicemail_allowed, message_level: p.message_level, dropped_call: p.dropped_call }
    }
}

/// A way the device falls short of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Finding {
    /// The screen lock timeout is longer than allowed (0 means never).
    LockTimeoutTooLong {
        /// What the device reported.
        observed_secs: u32,
        /// The policy's maximum.
        max_secs: u32,
    },
    /// No secure lock is set.
    SecureLockMissing,
    /// The last caller-ID check showed the number.
    CallerIdNotHidden,
    /// No caller-ID check has succeeded within the policy's interval.
    CallerIdCheckOverdue,
    /// An action keeps failing.
    ActionFailing {
        /// The action.
        id: ActionId,
        /// Its kind.
        kind: String,
        /// Failed attempts.
        attempts: u32,
    },
    /// Actions were dropped unacknowledged after the retention limit.
    ActionsAbandoned {
        /// How many, ever.
        count: u64,
    },
    /// The platform cannot carry out this kind of action at all (e.g. deleting the system call
    /// log on iOS); the rule is not enforced on this phone.
    ActionUnsupported {
        /// The action kind.
        kind: String,
        /// How many such actions were dropped.
        count: u64,
    },
    /// The wall clock jumped away from the monotonic clock's reckoning (set back or forward).
    ClockJumps {
        /// How many jumps were seen.
        count: u64,
    },
    /// The signed policy has expired; it stays enforced until a newer one arrives.
    PolicyStale {
        /// When it expired (unix seconds).
        expired_at: i64,
    },
}

/// Everything that came of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub verdict: Verdict,
    /// Actions for the app, already durable.
    pub actions: Vec<Action>,
    /// Non-compliance found while handling the event.
    pub findings: Vec<Finding>,
    /// The survivor's wishes, for calls with a registered survivor.
    pub guidance: Option<CallGuidance>,
}

impl Outcome {
    pub(crate) fn empty() -> Self {
        Self::allow()
    }
    fn allow() -> Self {
        Self { verdict: Verdict::Allow, actions: Vec::new(), findings: Vec::new(), guidance: None }
    }
}

/// The compliance report for IT staff: findings and counts, never survivor data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceReport {
    /// The phone's mode.
    pub mode: Mode,
    /// Current findings.
    pub findings: Vec<Finding>,
    /// Registered survivors.
    pub survivors: u64,
    /// Pending actions.
    pub pending_actions: u64,
}

/// Where and how the agent lives.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The state directory.
    pub dir: PathBuf,
    /// The device's region code (ISO 3166-1 alpha-2).
    pub region: String,
}

impl AgentConfig {
    /// A config for `dir` and `region`.
    pub fn new(dir: impl AsRef<Path>, region: &str) -> Self {
        Self { dir: dir.as_ref().to_path_buf(), region: region.to_string() }
    }
}

/// What the app last reported about the device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Posture {
    lock_timeout_secs: Option<u32>,
    secure_lock: Option<bool>,
    caller_id_last_check: Option<DateTime<Utc>>,
    caller_id_last_hidden: Option<bool>,
    #[serde(default)]
    caller_id_check_scheduled_at: Option<DateTime<Utc>>,
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
    pub(crate) offline: crate::offline::OfflineState,
    #[serde(default)]
    pub(crate) caps: PlatformCaps,
}

/// What the platform the agent runs on can do. The app declares it once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformCaps {
    /// The app can wipe the whole phone (Android device owner). When false, a full wipe is
    /// performed as a selective one and the receipt says why.
    pub full_wipe: bool,
    /// The app can dial a caller-ID prefix such as `*67` or `#31#` (not on iOS).
    pub prefix_dialing: bool,
}

impl Default for PlatformCaps {
    fn default() -> Self {
        Self { full_wipe: true, prefix_dialing: true }
    }
}

/// Survivor numbers the platform must block now (iOS Call Directory), and until when this
/// answer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockList {
    /// E.164 numbers to block now.
    pub numbers: Vec<String>,
    /// When working hours next start or end; ask again then.
    pub valid_until: Option<DateTime<Utc>>,
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

fn sha256_hex(b: &[u8]) -> String {
    crate::registry::hex(ring::digest::digest(&ring::digest::SHA256, b).as_ref())
}

/// The policy agent.
pub struct Agent {
    store: Store,
    clock: Arc<dyn Clock>,
    pub(crate) state: State,
    committed: Vec<u8>,
    /// The registry's change counter when it was last written; `None` before the first write.
    registry_saved: Option<u64>,
    counts: BTreeMap<AuditKind, u64>,
    wiped: Option<WipeScope>,
    pub(crate) fail_point: Option<FailPoint>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Agent(generation {})", self.state.generation)
    }
}

const STATE_FORMAT: u32 = 1;

impl Agent {
    /// Creates a new agent in an empty directory with an initial policy, and commits it.
    /// The first actions (lock timeout, secure lock) are pending at once.
    pub fn create(
        config: AgentConfig,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
        policy: Policy,
    ) -> Result<Self, AgentError> {
        policy.validate()?;
        let region = Region::parse(&config.region)?;
        check_dir(&config.dir)?;
        let store = Store::create(&config.dir, protector)?;
        let now = clock.now();
        let state = State {
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
            offline: Default::default(),
            caps: PlatformCaps::default(),
        };
        let mut agent = Agent::assemble(store, clock, state, Vec::new());
        agent.state.audit.append(now, AuditKind::AgentCreated, 1, vec![], "");
        let mut out = Outcome::allow();
        agent.enforce_policy(&mut out, now);
        agent.commit()?;
        Ok(agent)
    }

    /// Opens the agent in `dir`. A missing, corrupt or truncated state is a typed error,
    /// never a silent reset.
    ///
    /// If a wipe was intended and a crash interrupted it, the wipe is finished first and
    /// `AgentError::Wiped` is returned.
    pub fn open(
        dir: impl AsRef<Path>,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AgentError> {
        check_dir(dir.as_ref())?;
        if let Some(scope) = crate::device::resume_wipe_if_intended(dir.as_ref(), &protector, &clock)? {
            return Err(AgentError::Wiped { scope });
        }
        Self::open_ignoring_intent(dir.as_ref(), protector, clock)
    }

    pub(crate) fn open_ignoring_intent(
        dir: &Path,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AgentError> {
        let store = Store::open(dir, protector)?;
        let plain = store.load()?;
        let state = decode_state(&plain, &store)?;
        let mut agent = Agent::assemble(store, clock, state, plain);
        agent.registry_saved = Some(agent.state.registry.changes());
        if let Some(r) = &agent.state.registry_ref {
            agent.store.remove_registry_files_except(&r.file);
        }
        Ok(agent)
    }

    fn assemble(store: Store, clock: Arc<dyn Clock>, state: State, committed: Vec<u8>) -> Self {
        Agent {
            store,
            clock,
            state,
            committed,
            registry_saved: None,
            counts: BTreeMap::new(),
            wiped: None,
            fail_point: None,
        }
    }

    /// `Some(scope)` once this agent has wiped itself (a command, an offline rule): the app must
    /// perform that platform wipe; every further call fails with `AgentError::Wiped`.
    pub fn wiped(&self) -> Option<WipeScope> {
        self.wiped
    }

    pub(crate) fn ensure_live(&self) -> Result<(), AgentError> {
        match self.wiped {
            Some(scope) => Err(AgentError::Wiped { scope }),
            None => Ok(()),
        }
    }

    pub(crate) fn count(&mut self, kind: AuditKind) {
        *self.counts.entry(kind).or_default() += 1;
    }

    pub(crate) fn erase_store(&mut self) -> Result<(), AgentError> {
        let scope = self.state.wipe_intent.as_ref().map(|i| i.scope).unwrap_or(WipeScope::Selective);
        self.wiped = Some(scope);
        Ok(self.store.wipe()?)
    }

    /// How many commits this state has seen.
    pub fn generation(&self) -> u64 {
        self.state.generation
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.state.policy
    }

    /// The device's region.
    pub fn region(&self) -> Region {
        self.state.region
    }

    /// The clock the agent reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Updates the device's region (after a SIM change or travel).
    pub fn set_region(&mut self, region: &str) -> Result<(), AgentError> {
        self.ensure_live()?;
        self.state.region = Region::parse(region)?;
        self.commit()
    }

    /// Installs a policy that has already been authenticated by the caller (the trust layer,
    /// or a test) and issues the actions that enforce it.
    ///
    /// An enrolled agent refuses it: its policies arrive signed (`install_signed_policy`).
    pub fn install_policy(&mut self, policy: Policy) -> Result<Vec<Action>, AgentError> {
        if self.state.trust.is_some() {
            return Err(AgentError::WrongState("an enrolled agent installs only signed policies".into()));
        }
        self.apply_policy(policy)
    }

    pub(crate) fn apply_policy(&mut self, policy: Policy) -> Result<Vec<Action>, AgentError> {
        self.ensure_live()?;
        policy.validate()?;
        let now = self.now();
        self.state.policy = policy;
        self.state.audit.append(now, AuditKind::PolicyInstalled, 1, vec![], "");
        let mut out = Outcome::allow();
        self.enforce_policy(&mut out, now);
        self.commit()?;
        Ok(out.actions)
    }

    /// Registers a survivor (or renews one), with their contact plan.
    pub fn register_survivor(&mut self, number: &str, plan: Option<ContactPlan>) -> Result<(), AgentError> {
        self.ensure_live()?;
        if self.state.policy.retention.anonymous_hotline {
            return Err(RegistryError::AnonymousHotline.into());
        }
        let n = numbers::normalise(number, self.state.region)?;
        let now = self.now();
        let expires = now + Duration::days(i64::from(self.state.policy.retention.survivor_days));
        self.state.registry.insert(&n, plan.unwrap_or_default(), expires)?;
        self.state.audit.append(now, AuditKind::SurvivorRegistered, 1, vec![], "");
        self.commit()
    }

    /// Registers many survivors with one commit (an organisation importing a caseload). Either
    /// all are registered or, on the first unusable number, none; the error names its position,
    /// never the number.
    pub fn register_survivors(&mut self, survivors: &[(String, Option<ContactPlan>)]) -> Result<usize, AgentError> {
        self.ensure_live()?;
        if self.state.policy.retention.anonymous_hotline {
            return Err(RegistryError::AnonymousHotline.into());
        }
        let mut parsed = Vec::with_capacity(survivors.len());
        for (i, (number, plan)) in survivors.iter().enumerate() {
            let n = numbers::normalise(number, self.state.region).map_err(|e| {
                AgentError::Registry(RegistryError::BadPlan { field: format!("survivors[{i}]"), reason: e.to_string() })
            })?;
            let plan = plan.clone().unwrap_or_default();
            plan.validate()?;
            parsed.push((n, plan));
        }
        let now = self.now();
        let expires = now + Duration::days(i64::from(self.state.policy.retention.survivor_days));
        for (n, plan) in parsed {
            self.state.registry.insert(&n, plan, expires)?;
        }
        self.state.audit.append(now, AuditKind::SurvivorRegistered, survivors.len() as u64, vec![], "bulk");
        self.commit()?;
        Ok(survivors.len())
    }

    /// Forgets a survivor; true if they were registered.
    pub fn forget_survivor(&mut self, number: &str) -> Result<bool, AgentError> {
        self.ensure_live()?;
        let n = numbers::normalise(number, self.state.region)?;
        let removed = self.state.registry.remove(&n);
        if removed {
            let now = self.now();
            self.state.audit.append(now, AuditKind::SurvivorForgotten, 1, vec![], "");
            self.commit()?;
        }
        Ok(removed)
    }

    /// Declares what the platform can do (see [`PlatformCaps`]).
    pub fn set_platform_caps(&mut self, caps: PlatformCaps) -> Result<(), AgentError> {
        self.ensure_live()?;
        if self.state.caps != caps {
            self.state.caps = caps;
            self.commit()?;
        }
        Ok(())
    }

    /// What the platform can do, as last declared.
    pub fn platform_caps(&self) -> PlatformCaps {
        self.state.caps
    }

    /// Of `numbers` (the app's candidates, e.g. its own contacts), the survivors whose calls the
    /// platform must block right now under the off-duty rule, for platforms that cannot ask on
    /// each ringing call (iOS Call Directory). Unreadable numbers are skipped.
    pub fn off_duty_block_list(&self, numbers: &[String]) -> Result<BlockList, AgentError> {
        self.ensure_live()?;
        let now = self.now();
        let p = &self.state.policy;
        let applies = p.mode == Mode::Work && p.off_duty.enabled && p.off_duty.survivor_calls == AfterHours::Voicemail;
        if !applies {
            return Ok(BlockList { numbers: Vec::new(), valid_until: None });
        }
        let valid_until = self.next_duty_change(now);
        if self.in_working_hours(now) {
            return Ok(BlockList { numbers: Vec::new(), valid_until });
        }
        let mut out: Vec<String> = numbers
            .iter()
            .filter_map(|s| match numbers::classify_for_lookup(s, self.state.region) {
                Ok(Classified::Number(n)) if self.state.registry.get(&n).is_some() => Some(n.expose().to_string()),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(BlockList { numbers: out, valid_until })
    }

    /// The next start or end of working hours after `now`.
    fn next_duty_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.duty_boundaries(now).map(|(t, _)| t).filter(|t| *t > now).min()
    }

    /// Whether a number belongs to a registered survivor.
    pub fn is_survivor(&self, number: &str) -> Result<bool, AgentError> {
        Ok(match numbers::classify_for_lookup(number, self.state.region)? {
            Classified::Number(n) => self.state.registry.get(&n).is_some(),
            Classified::Special => false,
        })
    }

    /// How many survivors are registered.
    pub fn survivor_count(&self) -> usize {
        self.state.registry.len()
    }

    /// Purges every survivor registration now and asks the app to purge its own survivor data.
    pub fn purge_survivor_data(&mut self) -> Result<Vec<Action>, AgentError> {
        self.ensure_live()?;
        let now = self.now();
        let mut out = Outcome::allow();
        self.purge_into(&mut out, now);
        self.commit()?;
        Ok(out.actions)
    }

    /// Actions due now, oldest first: after a restart, everything not yet acknowledged.
    pub fn pending_actions(&self) -> Vec<Action> {
        self.state.outbox.due(self.now())
    }

    /// Every unacknowledged action, due or not.
    pub fn all_pending_actions(&self) -> Vec<Action> {
        self.state.outbox.all().cloned().collect()
    }

    /// Acknowledges an action. `Done` drops it (and any number it held); `Failed` schedules a
    /// retry with backoff and shows up in compliance. Acknowledging twice is harmless.
    pub fn ack(&mut self, id: ActionId, result: AckResult) -> Result<AckOutcome, AgentError> {
        self.ensure_live()?;
        let now = self.now();
        let (outcome, name) = self.state.outbox.ack(id, &result, now).ok_or(AgentError::UnknownAction(id))?;
        match outcome {
            AckOutcome::AlreadyDone => return Ok(outcome),
            AckOutcome::Completed => self.state.audit.append(now, AuditKind::ActionDone, 1, vec![id], name),
            AckOutcome::WillRetry => self.state.audit.append(now, AuditKind::ActionFailed, 1, vec![id], name),
            AckOutcome::Unsupported => self.state.audit.append(now, AuditKind::ActionUnsupported, 1, vec![id], name),
        }
        self.receipt_for_ack(id, &result)?;
        self.commit()?;
        Ok(outcome)
    }

    /// The compliance report.
    pub fn compliance(&self) -> ComplianceReport {
        let now = self.now();
        let p = &self.state.policy;
        let mut findings = self.posture_findings();
        let overdue = match self.state.posture.caller_id_last_check {
            None => true,
            Some(t) => now - t > Duration::days(i64::from(p.caller_id.recheck_days)),
        };
        if overdue {
            findings.push(Finding::CallerIdCheckOverdue);
        }
        for a in self.state.outbox.all().filter(|a| a.attempts > 0) {
            findings.push(Finding::ActionFailing { id: a.id, kind: a.kind.name().into(), attempts: a.attempts });
        }
        if self.state.outbox.abandoned() > 0 {
            findings.push(Finding::ActionsAbandoned { count: self.state.outbox.abandoned() });
        }
        for (kind, count) in self.state.outbox.unsupported() {
            findings.push(Finding::ActionUnsupported { kind: kind.clone(), count: *count });
        }
        if self.state.offline.clock_jumps() > 0 {
            findings.push(Finding::ClockJumps { count: self.state.offline.clock_jumps() });
        }
        if let Some(t) = &self.state.trust {
            if self.policy_is_stale() {
                findings.push(Finding::PolicyStale { expired_at: t.policy_expires_at() });
            }
        }
        ComplianceReport {
            mode: p.mode,
            findings,
            survivors: self.state.registry.len() as u64,
            pending_actions: self.state.outbox.all().count() as u64,
        }
    }

    /// The audit records kept, oldest first, after checking the chain.
    pub fn audit_export(&self) -> Result<Vec<AuditRecord>, AgentError> {
        self.state.audit.verify()?;
        Ok(self.state.audit.records().to_vec())
    }

    /// Checks the audit chain.
    pub fn verify_audit(&self) -> Result<(), AgentError> {
        Ok(self.state.audit.verify()?)
    }

    /// Cryptographic erase of everything the agent holds: the key first, then the files.
    pub fn wipe(mut self) -> Result<(), AgentError> {
        self.ensure_live()?;
        Ok(self.store.wipe()?)
    }

    /// Handles one platform event. Any state change is committed before this returns; on a
    /// failed commit the agent returns to its last committed state and reports the error.
    pub fn handle(&mut self, event: Event) -> Result<Outcome, AgentError> {
        self.ensure_live()?;
        let now = self.now();
        let gen = self.state.generation;
        let before = self.state.audit.records().len();
        let before_seq = self.state.outbox.all().count();
        let kind = event.audit_kind();
        let mut out = self.decide(event, now)?;
        if self.wiped.is_some() {
            // The agent wiped itself (an offline rule fired): nothing is left to commit.
            return Ok(out);
        }
        *self.counts.entry(kind).or_default() += 1;
        if let Verdict::Block { .. } = out.verdict {
            if kind == AuditKind::SmsChecked {
                *self.counts.entry(AuditKind::SmsBlocked).or_default() += 1;
            }
        }
        let changed = self.state.generation != gen
            || self.state.audit.records().len() != before
            || self.state.outbox.all().count() != before_seq
            || !out.actions.is_empty()
            || matches!(
                kind,
                AuditKind::PostureReported
                    | AuditKind::Tick
                    | AuditKind::CheckIn
                    | AuditKind::Unlocked
                    | AuditKind::UnlockFailed
            );
        if changed {
            if !out.actions.is_empty() {
                let ids = out.actions.iter().map(|a| a.id).collect();
                self.state.audit.append(now, AuditKind::ActionIssued, out.actions.len() as u64, ids, "");
            }
            self.commit()?;
        }
        out.actions.sort_by_key(|a| a.id);
        Ok(out)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn push_action(&mut self, out: &mut Outcome, kind: ActionKind, now: DateTime<Utc>, due: DateTime<Utc>) {
        let a = self.state.outbox.push(kind, now, due);
        if !out.actions.iter().any(|x| x.id == a.id) {
            out.actions.push(a);
        }
    }

    fn enforce_policy(&mut self, out: &mut Outcome, now: DateTime<Utc>) {
        let secs = self.state.policy.auto_lock.max_timeout_secs;
        self.push_action(out, ActionKind::SetMaxTimeToLock { secs }, now, now);
        if self.state.policy.auto_lock.require_secure_lock {
            self.push_action(out, ActionKind::RequireSecureLock, now, now);
        }
        if let Some(count) = self.state.policy.offline.max_failed_unlocks {
            self.push_action(out, ActionKind::SetMaxFailedUnlocks { count }, now, now);
        }
    }

    pub(crate) fn purge_into(&mut self, out: &mut Outcome, now: DateTime<Utc>) {
        let n = self.state.registry.clear();
        self.state.audit.append(now, AuditKind::SurvivorDataPurged, n as u64, vec![], "");
        self.push_action(out, ActionKind::PurgeSurvivorData, now, now);
    }

    fn posture_findings(&self) -> Vec<Finding> {
        let p = &self.state.policy;
        let mut f = Vec::new();
        if let Some(t) = self.state.posture.lock_timeout_secs {
            if t == 0 || t > p.auto_lock.max_timeout_secs {
                f.push(Finding::LockTimeoutTooLong { observed_secs: t, max_secs: p.auto_lock.max_timeout_secs });
            }
        }
        if p.auto_lock.require_secure_lock && self.state.posture.secure_lock == Some(false) {
            f.push(Finding::SecureLockMissing);
        }
        if self.state.posture.caller_id_last_hidden == Some(false) {
            f.push(Finding::CallerIdNotHidden);
        }
        f
    }

    fn in_working_hours(&self, now: DateTime<Utc>) -> bool {
        let od = &self.state.policy.off_duty;
        let local = now.with_timezone(&self.clock.local_offset());
        od.days.contains(&Day::from_weekday(local.weekday())) && od.start.0 <= local.time() && local.time() < od.end.0
    }

    /// The latest end of working hours at or before `now`.
    fn last_work_end(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.duty_boundaries(now).filter(|(t, is_end)| *is_end && *t <= now).map(|(t, _)| t).max()
    }

    /// Every start and end of working hours (with `true` for an end) from eight days before
    /// `now` to eight days after, in UTC.
    fn duty_boundaries(&self, now: DateTime<Utc>) -> impl Iterator<Item = (DateTime<Utc>, bool)> + '_ {
        let od = &self.state.policy.off_duty;
        let offset = self.clock.local_offset();
        let today = now.with_timezone(&offset).date_naive();
        (-8..=8i64)
            .map(move |d| today + Duration::days(d))
            .filter(move |date| od.days.contains(&Day::from_weekday(date.weekday())))
            .flat_map(move |date| {
                [(od.start.0, false), (od.end.0, true)].into_iter().filter_map(move |(t, is_end)| {
                    offset.from_local_datetime(&date.and_time(t)).single().map(|x| (x.with_timezone(&Utc), is_end))
                })
            })
    }

    fn dial_string(&self, n: &E164) -> (String, bool) {
        let cid = &self.state.policy.caller_id;
        match cid.method {
            CallerIdMethod::Carrier => (n.expose().to_string(), false),
            CallerIdMethod::Voip => (n.expose().to_string(), true),
            CallerIdMethod::Prefix => {
                let prefix = cid.prefix.clone().unwrap_or_else(|| self.state.region.caller_id_prefix().to_string());
                let home = self.state.region.calling_code();
                let body = if home == Some(1) && n.calling_code() == 1 {
                    n.national().to_string()
                } else if home == Some(1) {
                    // North American phones dial abroad with 011; `+` after *67 is not reliable there.
                    format!("011{}{}", n.calling_code(), n.national())
                } else {
                    n.expose().to_string()
                };
                (format!("{prefix}{body}"), false)
            }
        }
    }

    fn decide(&mut self, event: Event, now: DateTime<Utc>) -> Result<Outcome, AgentError> {
        let region = self.state.region;
        let mut out = Outcome::allow();
        match event {
            Event::OutgoingCall { number, line, confirmed } => {
                let Classified::Number(n) = numbers::classify_for_lookup(&number, region)? else {
                    return Ok(out);
                };
                let entry = self.state.registry.get(&n).cloned();
                let hide = match line {
                    Line::Helpline => true,
                    Line::Direct => {
                        entry.is_some()
                            && (self.state.policy.mode == Mode::Byod
                                || self.state.policy.caller_id.hide_on_direct_calls)
                    }
                };
                if let Some(e) = &entry {
                    out.guidance = Some(CallGuidance::from(&e.plan));
                    if !confirmed {
                        if let Some(next) = e.plan.next_safe_time(now, self.clock.local_offset()) {
                            let local = next.with_timezone(&self.clock.local_offset());
                            out.verdict = Verdict::Warn {
                                reason: WarnReason::OutsideSafeWindow,
                                message: format!(
                                    "This survivor asked not to be called now. Next safe time: {}.",
                                    local.format("%a %d %b %H:%M")
                                ),
                                next_safe_at: Some(next),
                            };
                            *self.counts.entry(AuditKind::OutgoingCallWarned).or_default() += 1;
                            return Ok(out);
                        }
                    }
                }
                if hide {
                    if self.state.policy.caller_id.method == CallerIdMethod::Prefix && !self.state.caps.prefix_dialing {
                        out.verdict = Verdict::Block {
                            reason: BlockReason::CallerIdCannotBeHidden,
                            message: "This phone cannot hide caller ID with a dialling prefix. Call through the \
                                      organisation's VoIP line, or ask IT for a policy that uses it."
                                .into(),
                        };
                        return Ok(out);
                    }
                    let (dial_string, via_voip) = self.dial_string(&n);
                    out.verdict = Verdict::Dial { dial_string, via_voip };
                }
            }
            Event::CallEnded { number, line, direction: _, started_at, dropped } => {
                let Classified::Number(n) = numbers::classify_for_lookup(&number, region)? else {
                    return Ok(out);
                };
                let entry = self.state.registry.get(&n).cloned();
                if entry.is_none() && line != Line::Helpline {
                    return Ok(out);
                }
                let ac = self.state.policy.after_call.clone();
                let due = now + Duration::seconds(i64::from(ac.delay_secs));
                if ac.delete_call_log {
                    let since = started_at.min(now) - Duration::minutes(1);
                    self.push_action(&mut out, ActionKind::DeleteCallLog { number: n.clone(), since }, now, due);
                }
                if ac.delete_contact {
                    self.push_action(&mut out, ActionKind::DeleteContact { number: n }, now, due);
                }
                if let Some(e) = entry {
                    out.guidance = Some(CallGuidance::from(&e.plan));
                    if dropped {
                        let kind = match e.plan.dropped_call {
                            DroppedCall::WeCallBack => NotifyKind::DroppedCallWeCallBack,
                            DroppedCall::TheyCallBack => NotifyKind::DroppedCallTheyCallBack,
                        };
                        self.push_action(&mut out, ActionKind::Notify { kind }, now, now);
                    }
                }
            }
            Event::OutgoingSms { number } => {
                let Classified::Number(n) = numbers::classify_for_lookup(&number, region)? else {
                    return Ok(out);
                };
                let p = &self.state.policy;
                if (p.mode == Mode::Byod || p.sms.block_to_survivors) && self.state.registry.get(&n).is_some() {
                    out.verdict = Verdict::Block {
                        reason: BlockReason::SmsToSurvivor,
                        message: "Texts to survivors are blocked on this phone: a text stays on the survivor's \
                                  phone where others may read it. Call instead, at a safe time."
                            .into(),
                    };
                }
            }
            Event::IncomingCall { number } => {
                let Some(number) = number else { return Ok(out) };
                let n = match numbers::classify_for_lookup(&number, region) {
                    Ok(Classified::Number(n)) => n,
                    // A caller's number we cannot read is not a survivor we know: let it ring.
                    Ok(Classified::Special) | Err(_) => return Ok(out),
                };
                let Some(e) = self.state.registry.get(&n).cloned() else { return Ok(out) };
                out.guidance = Some(CallGuidance::from(&e.plan));
                let p = &self.state.policy;
                if p.mode == Mode::Work && p.off_duty.enabled && !self.in_working_hours(now) {
                    *self.counts.entry(AuditKind::IncomingCallScreened).or_default() += 1;
                    match p.off_duty.survivor_calls {
                        AfterHours::Voicemail => {
                            out.verdict = Verdict::SendToVoicemail {
                                message: "Outside working hours: the call goes to voicemail, as survivors are told."
                                    .into(),
                            };
                        }
                        AfterHours::Ring => self.push_action(
                            &mut out,
                            ActionKind::Notify { kind: NotifyKind::OffDutySurvivorCall },
                            now,
                            now,
                        ),
                    }
                }
            }
            Event::Posture { lock_timeout_secs, secure_lock, caller_id_hidden } => {
                if lock_timeout_secs.is_some() {
                    self.state.posture.lock_timeout_secs = lock_timeout_secs;
                }
                if secure_lock.is_some() {
                    self.state.posture.secure_lock = secure_lock;
                }
                if let Some(h) = caller_id_hidden {
                    self.state.posture.caller_id_last_check = Some(now);
                    self.state.posture.caller_id_last_hidden = Some(h);
                }
                out.findings = self.posture_findings();
                for f in out.findings.clone() {
                    match f {
                        Finding::LockTimeoutTooLong { max_secs, .. } => {
                            self.push_action(&mut out, ActionKind::SetMaxTimeToLock { secs: max_secs }, now, now);
                            self.push_action(
                                &mut out,
                                ActionKind::Notify { kind: NotifyKind::LockTimeoutTooLong },
                                now,
                                now,
                            );
                        }
                        Finding::SecureLockMissing => {
                            self.push_action(&mut out, ActionKind::RequireSecureLock, now, now);
                            self.push_action(
                                &mut out,
                                ActionKind::Notify { kind: NotifyKind::SecureLockMissing },
                                now,
                                now,
                            );
                        }
                        Finding::CallerIdNotHidden if caller_id_hidden == Some(false) => {
                            self.push_action(
                                &mut out,
                                ActionKind::Notify { kind: NotifyKind::CallerIdBlockingFailed },
                                now,
                                now,
                            );
                        }
                        _ => {}
                    }
                }
                if !out.findings.is_empty() {
                    self.state.audit.append(now, AuditKind::PostureNonCompliant, out.findings.len() as u64, vec![], "");
                }
            }
            Event::HandoffRequested => match self.state.policy.mode {
                Mode::Work => {
                    self.state.audit.append(now, AuditKind::HandoffRefused, 1, vec![], "");
                    out.verdict = Verdict::Block {
                        reason: BlockReason::WorkPhoneNeverShared,
                        message: "This is a work phone: it is never handed to anyone else.".into(),
                    };
                }
                Mode::Byod => self.purge_into(&mut out, now),
            },
            Event::Tick => self.tick(&mut out, now)?,
            Event::CheckIn => self.record_check_in(now),
            Event::Unlocked => self.record_unlock(now),
            Event::UnlockFailed => self.record_failed_unlock(&mut out, now)?,
        }
        Ok(out)
    }

    fn tick(&mut self, out: &mut Outcome, now: DateTime<Utc>) -> Result<(), AgentError> {
        let expired = self.state.registry.purge_expired(now);
        if expired > 0 {
            self.state.audit.append(now, AuditKind::SurvivorsExpired, expired as u64, vec![], "");
        }
        let p = self.state.policy.clone();
        self.state.audit.expire_before(now - Duration::days(i64::from(p.retention.audit_days)));
        let abandoned =
            self.state.outbox.abandon_older_than(now - Duration::days(i64::from(p.retention.pending_action_days)));
        if abandoned > 0 {
            self.state.audit.append(now, AuditKind::ActionsAbandoned, abandoned as u64, vec![], "");
        }
        let check_due = match self.state.posture.caller_id_last_check {
            None => true,
            Some(t) => now - t >= Duration::days(i64::from(p.caller_id.recheck_days)),
        };
        // A scheduled check waits a day for its result before it is scheduled again.
        let recently_scheduled =
            self.state.posture.caller_id_check_scheduled_at.is_some_and(|t| now - t < Duration::days(1));
        if check_due
            && !recently_scheduled
            && !self.state.outbox.has(|k| matches!(k, ActionKind::ScheduleCallerIdCheck { .. }))
        {
            self.state.posture.caller_id_check_scheduled_at = Some(now);
            self.push_action(out, ActionKind::ScheduleCallerIdCheck { at: now }, now, now);
        }
        if p.mode == Mode::Work && p.off_duty.enabled && p.off_duty.remind_power_off && !self.in_working_hours(now) {
            if let Some(end) = self.last_work_end(now) {
                if self.state.last_off_duty_reminder.is_none_or(|r| r < end) {
                    self.state.last_off_duty_reminder = Some(now);
                    self.push_action(out, ActionKind::Notify { kind: NotifyKind::OffDutyPowerOff }, now, now);
                }
            }
        }
        self.trust_tick(out, now);
        self.offline_tick(out, now)
    }

    /// Commits the state: seals it and replaces the state file atomically. On failure the
    /// in-memory state returns to the last committed one.
    pub(crate) fn commit(&mut self) -> Result<(), AgentError> {
        let now = self.now();
        if !self.counts.is_empty() {
            for (kind, count) in std::mem::take(&mut self.counts) {
                self.state.audit.append(now, kind, count, vec![], "");
            }
        }
        let previous_ref = self.state.registry_ref.clone();
        self.state.generation += 1;
        self.state.last_seen = self.state.last_seen.max(now);
        let result = self.write_registry_if_changed().and_then(|()| {
            let p = serde_json::to_vec(&self.state).map_err(|e| AgentError::StateDamaged(e.to_string()))?;
            self.store.save(&p)?;
            Ok(p)
        });
        match result {
            Ok(p) => {
                self.committed = p;
                self.registry_saved = Some(self.state.registry.changes());
                if self.state.registry_ref != previous_ref {
                    if let Some(r) = &self.state.registry_ref {
                        self.store.remove_registry_files_except(&r.file);
                    }
                }
                Ok(())
            }
            Err(e) => {
                // Back to the last committed state; its registry file is still on disk, since
                // files are only removed after a commit that no longer names them.
                if let Ok(s) = decode_state(&self.committed, &self.store) {
                    self.state = s;
                    self.registry_saved = Some(self.state.registry.changes());
                }
                Err(e)
            }
        }
    }

    /// Writes the registry to a new file, fsynced before the state that names it is committed.
    fn write_registry_if_changed(&mut self) -> Result<(), AgentError> {
        if self.registry_saved == Some(self.state.registry.changes()) && self.state.registry_ref.is_some() {
            return Ok(());
        }
        let plain =
            serde_json::to_vec(&self.state.registry.to_state()).map_err(|e| AgentError::StateDamaged(e.to_string()))?;
        let file = format!("{}{}.qls", store::REGISTRY_PREFIX, self.state.generation);
        self.store.save_file(&file, &plain)?;
        self.state.registry_ref = Some(RegistryRef { file, sha256: sha256_hex(&plain) });
        Ok(())
    }

    /// The state directory (for tests and tools that inspect what is on disk).
    pub fn dir(&self) -> &Path {
        self.store.dir()
    }
}

/// An empty path would put the state in whatever the working directory happens to be.
fn check_dir(dir: &Path) -> Result<(), AgentError> {
    if dir.as_os_str().is_empty() {
        return Err(AgentError::WrongState("the state directory must be given".into()));
    }
    Ok(())
}

fn decode_state(plain: &[u8], store: &Store) -> Result<State, AgentError> {
    let json_err =
        |e: serde_json::Error| format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column());
    let mut s: State = serde_json::from_slice(plain).map_err(|e| AgentError::StateDamaged(json_err(e)))?;
    if s.format != STATE_FORMAT {
        return Err(AgentError::StateDamaged(format!("unknown state format {}", s.format)));
    }
    s.policy.validate()?;
    let r = s.registry_ref.as_ref().ok_or_else(|| AgentError::StateDamaged("no registry file named".into()))?;
    let reg_plain = store.load_file(&r.file)?;
    if sha256_hex(&reg_plain) != r.sha256 {
        return Err(AgentError::StateDamaged("the registry file does not match the state".into()));
    }
    let rs: RegistryState = serde_json::from_slice(&reg_plain).map_err(|e| AgentError::StateDamaged(json_err(e)))?;
    s.registry = Registry::from_state(rs)?;
    Ok(s)
}
