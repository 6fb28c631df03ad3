//! The device side of trust: enrollment, signed policies, root rotation, signed commands and
//! signed receipts. Every check happens here, on the phone: the channel a command came by
//! (SMS, push, relay) proves nothing.

use crate::actions::{AckResult, Action, ActionId, ActionKind, NotifyKind, WipeScope};
use crate::audit::AuditKind;
use crate::clock::Clock;
use crate::engine::{Agent, AgentConfig, AgentError, Outcome};
use crate::policy::Mode;
use crate::store::{self, KeyProtector};
use crate::trust::{self, Role, RootSet, SigningKey, StaffKey, TrustError, MAX_COMMAND_LIFETIME_SECS, MAX_SKEW_SECS};
use crate::wire::{
    self, Command, CommandAction, EnrollResponse, PerformedScope, Receipt, ReceiptOutcome, ReceiptReason,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// How many applied commands are remembered with their receipts, for replays.
const REMEMBERED_COMMANDS: usize = 64;
/// How many undelivered receipts are kept.
const MAX_QUEUED_RECEIPTS: usize = 256;
/// Marker written before a wipe starts, outside the encrypted state, so that a wipe
/// interrupted by a crash resumes even if the state can no longer be decrypted.
pub const WIPE_INTENT_FILE: &str = "wipe.intent";
/// The signed receipt of a wipe, left for the app to deliver after the state is gone.
pub const WIPE_RECEIPT_FILE: &str = "wipe.receipt";

/// A command this device applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SeenCommand {
    seq: u32,
    id: [u8; 16],
    requested: CommandAction,
    receipt: Option<String>,
    action_id: Option<ActionId>,
}

/// What the device trusts and remembers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrustState {
    org: String,
    device_id: [u8; 8],
    enrollment_id: [u8; 4],
    device_key: Vec<u8>,
    mode: Mode,
    root: RootSet,
    policy_version: u64,
    policy_digest: String,
    policy_expires_at: i64,
    grace_hours: u32,
    staff: Vec<StaffKey>,
    last_seq: u32,
    seen: Vec<SeenCommand>,
    receipts_out: Vec<String>,
    stale_locked: bool,
    #[serde(default)]
    stale_notified_at: Option<DateTime<Utc>>,
    relay_url: Option<String>,
    #[serde(default)]
    enrollment_response: Option<String>,
}

/// The wipe intent, committed before the wipe starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WipeIntent {
    pub(crate) scope: WipeScope,
    reason: ReceiptReason,
    requested: CommandAction,
    seq: u32,
    command_id: [u8; 16],
}

/// Whether a command was applied now or had been already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandStatus {
    /// Verified and applied now.
    Applied,
    /// Verified but refused by policy or mode (the receipt says why).
    Refused,
    /// Already applied before: nothing changed; the original receipt is returned.
    Replayed,
}

/// What came of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    /// Applied, refused or replayed.
    pub status: CommandStatus,
    /// What was asked.
    pub requested: CommandAction,
    /// The command's id, hex.
    pub command_id: String,
    /// A signed receipt now (ping, wipe, refusal, or a replay's original); lock and purge
    /// receipts follow when the app acknowledges the action.
    pub receipt: Option<String>,
    /// Actions for the app.
    pub actions: Vec<Action>,
    /// After a wipe: the platform wipe the app must now perform. The agent's own data is
    /// already crypto-erased and this agent can no longer be used.
    pub wipe: Option<WipeScope>,
}

/// Test hooks that stop an operation at a chosen point, as a crash would.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailPoint {
    /// Return right after the wipe intent is committed, before anything is erased.
    AfterWipeIntent,
}

fn unix(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

impl TrustState {
    pub(crate) fn policy_expires_at(&self) -> i64 {
        self.policy_expires_at
    }

    fn signing_key(&self) -> Result<SigningKey, AgentError> {
        SigningKey::from_pkcs8(&self.device_key).map_err(AgentError::Trust)
    }

    #[allow(clippy::too_many_arguments)]
    fn sign_receipt(
        &self,
        cmd_id: [u8; 16],
        seq: u32,
        requested: CommandAction,
        outcome: ReceiptOutcome,
        performed: PerformedScope,
        reason: ReceiptReason,
        at: DateTime<Utc>,
    ) -> Result<String, AgentError> {
        let mut r = Receipt {
            device_id: self.device_id,
            enrollment_id: self.enrollment_id,
            command_id: cmd_id,
            seq,
            requested,
            outcome,
            performed,
            reason,
            at: u32::try_from(unix(at)).unwrap_or(u32::MAX),
            signature: [0; 64],
        };
        r.signature = self.signing_key()?.sign(&r.signed_bytes());
        Ok(wire::to_text(&r.to_bytes()))
    }

    /// Queues a receipt for delivery; the oldest are dropped past the cap, so an organisation
    /// that never collects receipts cannot make the state grow without bound.
    fn queue_receipt(&mut self, r: String) {
        self.receipts_out.push(r);
        if self.receipts_out.len() > MAX_QUEUED_RECEIPTS {
            let drop = self.receipts_out.len() - MAX_QUEUED_RECEIPTS;
            self.receipts_out.drain(..drop);
        }
    }

    fn remember(&mut self, s: SeenCommand) {
        self.last_seq = self.last_seq.max(s.seq);
        self.seen.push(s);
        if self.seen.len() > REMEMBERED_COMMANDS {
            let drop = self.seen.len() - REMEMBERED_COMMANDS;
            self.seen.drain(..drop);
        }
    }
}

/// Verifies a receipt's signature with the device's public key (as IT staff do).
pub fn verify_receipt(text: &str, device_key: &[u8; 32]) -> Result<Receipt, TrustError> {
    let r = Receipt::from_bytes(&wire::from_text(text)?)?;
    if !trust::verify(device_key, &r.signed_bytes(), &r.signature) {
        return Err(TrustError::BadSignature);
    }
    Ok(r)
}

/// Verifies an enrollment response's proof of possession.
pub fn verify_enroll_response(text: &str) -> Result<EnrollResponse, TrustError> {
    let r = EnrollResponse::from_bytes(&wire::from_text(text)?)?;
    if !trust::verify(&r.device_key, &r.signed_bytes(), &r.signature) {
        return Err(TrustError::BadSignature);
    }
    Ok(r)
}

/// Takes the signed receipt a wipe left behind (once), for the app to deliver.
pub fn take_wipe_receipt(dir: &Path) -> Option<String> {
    let p = dir.join(WIPE_RECEIPT_FILE);
    let s = std::fs::read_to_string(&p).ok()?;
    let _ = std::fs::remove_file(&p);
    Some(s.trim().to_string())
}

/// Finishes a wipe that a crash interrupted, if one was intended in `dir`. Returns the scope.
pub(crate) fn resume_wipe_if_intended(
    dir: &Path,
    protector: &Arc<dyn KeyProtector>,
    clock: &Arc<dyn Clock>,
) -> Result<Option<WipeScope>, AgentError> {
    let marker = dir.join(WIPE_INTENT_FILE);
    let Ok(text) = std::fs::read(&marker) else { return Ok(None) };
    let intent: Option<WipeIntent> = serde_json::from_slice(&text).ok();
    // Open what can still be opened to sign the receipt; a state that can no longer be
    // decrypted is erased all the same, without a receipt (never a claim we cannot sign).
    match Agent::open_ignoring_intent(dir, protector.clone(), clock.clone()) {
        Ok(mut agent) => {
            if agent.state.wipe_intent.is_none() {
                // A crash came between writing the marker and committing the intent: the
                // command had been verified before the marker was written, so the marker is
                // the intent. A marker that cannot be read is not an instruction.
                match intent {
                    Some(i) => agent.state.wipe_intent = Some(i),
                    None => {
                        let _ = std::fs::remove_file(&marker);
                        return Ok(None);
                    }
                }
            }
            let scope = agent.finish_wipe()?;
            Ok(Some(scope))
        }
        Err(_) => {
            let _ = store::wipe_dir(dir, protector.as_ref());
            let _ = std::fs::remove_file(&marker);
            Ok(Some(intent.map(|i| i.scope).unwrap_or(WipeScope::Selective)))
        }
    }
}

impl Agent {
    /// Enrolls this device from the admin's bundle: pins the org root key, verifies and installs
    /// the initial signed policy, generates the device key, and returns the agent with the
    /// enrollment response (`QL:` text) for IT staff.
    pub fn enroll(
        config: AgentConfig,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
        bundle: &str,
    ) -> Result<(Agent, String), AgentError> {
        let b = trust::decode_bundle(bundle)?;
        let root_key = trust::parse_key(&b.root_key)?;
        let device_id = wire::unhex::<8>(&b.device_id)
            .ok_or(TrustError::BadBody { field: "device_id".into(), reason: "8 bytes of hex".into() })?;
        let enrollment_id = wire::unhex::<4>(&b.enrollment_id)
            .ok_or(TrustError::BadBody { field: "enrollment_id".into(), reason: "4 bytes of hex".into() })?;
        let root = RootSet { version: 1, keys: vec![root_key], threshold: 1 };
        let sp = trust::decode_policy(&b.policy)?;
        let now = clock.now();
        check_policy_for(&sp, &b.org, &device_id, b.mode, &root, now, now, None)?;
        let device_key = SigningKey::generate()?;
        let mut agent = Agent::create(config, protector, clock, sp.body.rules.clone())?;
        agent.state.trust = Some(TrustState {
            org: b.org,
            device_id,
            enrollment_id,
            device_key: device_key.pkcs8().to_vec(),
            mode: b.mode,
            root,
            policy_version: sp.body.version,
            policy_digest: sp.digest,
            policy_expires_at: sp.body.expires_at,
            grace_hours: sp.body.grace_hours,
            staff: sp.body.staff,
            last_seq: 0,
            seen: Vec::new(),
            receipts_out: Vec::new(),
            stale_locked: false,
            stale_notified_at: None,
            relay_url: b.relay_url,
            enrollment_response: None,
        });
        agent.record_check_in(now);
        agent.state.audit.append(now, AuditKind::PolicyInstalled, 1, vec![], "enrollment");
        agent.commit()?;
        let mut resp = EnrollResponse {
            device_id,
            enrollment_id,
            device_key: device_key.public_key(),
            at: u32::try_from(unix(now)).unwrap_or(u32::MAX),
            signature: [0; 64],
        };
        resp.signature = device_key.sign(&resp.signed_bytes());
        let text = wire::to_text(&resp.to_bytes());
        // Kept (it is public: ids and a public key) so an app killed before delivering it can
        // send it again after a restart.
        if let Some(t) = agent.state.trust.as_mut() {
            t.enrollment_response = Some(text.clone());
        }
        agent.commit()?;
        Ok((agent, text))
    }

    fn trust_mut(&mut self) -> Result<&mut TrustState, AgentError> {
        self.state.trust.as_mut().ok_or(AgentError::WrongState("this device is not enrolled".into()))
    }

    fn trust_ref(&self) -> Result<&TrustState, AgentError> {
        self.state.trust.as_ref().ok_or(AgentError::WrongState("this device is not enrolled".into()))
    }

    /// The latest time this device has seen: setting the clock back never makes it earlier.
    pub fn trusted_now(&self) -> DateTime<Utc> {
        self.clock().now().max(self.state.last_seen)
    }

    /// This device's id (hex), once enrolled.
    pub fn device_id(&self) -> Option<String> {
        self.state.trust.as_ref().map(|t| wire::hex(&t.device_id))
    }

    /// The installed signed policy's version, once enrolled.
    pub fn policy_version(&self) -> Option<u64> {
        self.state.trust.as_ref().map(|t| t.policy_version)
    }

    /// The enrollment response for IT staff (the same text `enroll` returned), kept for
    /// delivery after a restart.
    pub fn enrollment_response(&self) -> Option<String> {
        self.state.trust.as_ref().and_then(|t| t.enrollment_response.clone())
    }

    /// The relay URL from enrollment, if any.
    pub fn relay_url(&self) -> Option<String> {
        self.state.trust.as_ref().and_then(|t| t.relay_url.clone())
    }

    /// Whether the installed policy has expired (it stays enforced; IT must send a newer one).
    pub fn policy_is_stale(&self) -> bool {
        self.state.trust.as_ref().is_some_and(|t| unix(self.trusted_now()) >= t.policy_expires_at)
    }

    /// Installs a signed policy. Returns the actions that enforce it (none if this exact policy
    /// is already installed).
    pub fn install_signed_policy(&mut self, text: &str) -> Result<Vec<Action>, AgentError> {
        self.ensure_live()?;
        let now = self.clock().now();
        let tnow = self.trusted_now();
        let result = (|| {
            let t = self.trust_ref()?;
            let sp = trust::decode_policy(text)?;
            let same = check_policy_for(
                &sp,
                &t.org,
                &t.device_id,
                t.mode,
                &t.root,
                now,
                tnow,
                Some((t.policy_version, &t.policy_digest, &t.staff)),
            )?;
            Ok::<_, AgentError>((sp, same))
        })();
        let (sp, same) = match result {
            Ok(x) => x,
            Err(e) => {
                self.count(AuditKind::PolicyRejected);
                return Err(e);
            }
        };
        self.record_check_in(now);
        if same {
            self.commit()?;
            return Ok(Vec::new());
        }
        let t = self.trust_mut()?;
        t.policy_version = sp.body.version;
        t.policy_digest = sp.digest;
        t.policy_expires_at = sp.body.expires_at;
        t.grace_hours = sp.body.grace_hours;
        t.staff = sp.body.staff;
        t.stale_locked = false;
        t.stale_notified_at = None;
        self.apply_policy(sp.body.rules)
    }

    /// Applies a root rotation (version exactly N+1, signed by a threshold of old and new keys).
    /// A device that missed several rotations applies them one by one, in order.
    pub fn apply_root_rotation(&mut self, text: &str) -> Result<u64, AgentError> {
        self.ensure_live()?;
        let (c, body) = trust::decode_root(text)?;
        let t = self.trust_ref()?;
        let new = trust::verify_rotation(&c, &body, &t.root, &t.org)?;
        let v = new.version;
        self.trust_mut()?.root = new;
        let now = self.clock().now();
        self.state.audit.append(now, AuditKind::PolicyInstalled, 1, vec![], "root rotation");
        self.commit()?;
        Ok(v)
    }

    /// Verifies and applies a signed command (`QL:` text from SMS, push or relay).
    pub fn apply_command(&mut self, text: &str) -> Result<CommandResult, AgentError> {
        self.ensure_live()?;
        let now = self.clock().now();
        let tnow = self.trusted_now();
        let verified = self.verify_command(text, now, tnow);
        let (cmd, role_ok) = match verified {
            Ok(Verified::Fresh(cmd, ok)) => (cmd, ok),
            Ok(Verified::Replay(r)) => {
                // Nothing changes: the count is folded into the next commit, so a flood of
                // replays costs no disk writes.
                self.count(AuditKind::CommandReplayed);
                return Ok(*r);
            }
            Err(e) => {
                self.count(AuditKind::CommandRejected);
                return Err(e);
            }
        };
        if !role_ok {
            self.count(AuditKind::CommandRejected);
            return Err(TrustError::RoleNotAllowed(format!("{:?}", cmd.action)).into());
        }
        self.record_check_in(now);
        let id = cmd.id();
        let mut result = CommandResult {
            status: CommandStatus::Applied,
            requested: cmd.action,
            command_id: wire::hex(&id),
            receipt: None,
            actions: Vec::new(),
            wipe: None,
        };
        self.state.audit.append(now, AuditKind::CommandAccepted, 1, vec![], &format!("{:?}", cmd.action));
        let mut out = Outcome::empty();
        let mut action_id = None;
        match cmd.action {
            CommandAction::Ping => {
                result.receipt = Some(self.trust_ref()?.sign_receipt(
                    id,
                    cmd.seq,
                    cmd.action,
                    ReceiptOutcome::Done,
                    PerformedScope::None,
                    ReceiptReason::None,
                    now,
                )?);
            }
            CommandAction::Lock => {
                self.push_action(&mut out, ActionKind::LockNow, now, now);
                action_id = out.actions.first().map(|a| a.id);
            }
            CommandAction::PurgeSurvivorData => {
                self.purge_into(&mut out, now);
                action_id = out.actions.iter().find(|a| a.kind == ActionKind::PurgeSurvivorData).map(|a| a.id);
            }
            CommandAction::WipeSelective | CommandAction::WipeFull => {
                let mode = self.trust_ref()?.mode;
                let (scope, reason) = match (cmd.action, mode) {
                    (CommandAction::WipeFull, Mode::Byod) => (WipeScope::Selective, ReceiptReason::ByodSelectiveOnly),
                    (CommandAction::WipeFull, Mode::Work) if !self.platform_caps().full_wipe => {
                        (WipeScope::Selective, ReceiptReason::PlatformSelectiveOnly)
                    }
                    (CommandAction::WipeFull, Mode::Work) => (WipeScope::Full, ReceiptReason::None),
                    _ => (WipeScope::Selective, ReceiptReason::None),
                };
                let allowed = match scope {
                    WipeScope::Selective => self.policy().wipe.allow_selective,
                    WipeScope::Full => self.policy().full_wipe_allowed(),
                };
                if !allowed {
                    let receipt = self.trust_ref()?.sign_receipt(
                        id,
                        cmd.seq,
                        cmd.action,
                        ReceiptOutcome::Refused,
                        PerformedScope::None,
                        ReceiptReason::ScopeNotAllowed,
                        now,
                    )?;
                    result.status = CommandStatus::Refused;
                    result.receipt = Some(receipt.clone());
                    self.trust_mut()?.queue_receipt(receipt.clone());
                    self.trust_mut()?.remember(SeenCommand {
                        seq: cmd.seq,
                        id,
                        requested: cmd.action,
                        receipt: Some(receipt),
                        action_id: None,
                    });
                    self.commit()?;
                    return Ok(result);
                }
                let intent = WipeIntent { scope, reason, requested: cmd.action, seq: cmd.seq, command_id: id };
                // The intent goes to disk twice: in the encrypted state (with the command marked
                // as seen) and as a plain marker that survives the key's destruction.
                let marker = serde_json::to_vec(&intent).map_err(|e| AgentError::StateDamaged(e.to_string()))?;
                store::write_atomic(&self.dir().join(WIPE_INTENT_FILE), &marker)?;
                self.state.wipe_intent = Some(intent);
                self.trust_mut()?.remember(SeenCommand {
                    seq: cmd.seq,
                    id,
                    requested: cmd.action,
                    receipt: None,
                    action_id: None,
                });
                self.state.audit.append(now, AuditKind::WipeStarted, 1, vec![], "");
                self.commit()?;
                if self.fail_point == Some(FailPoint::AfterWipeIntent) {
                    return Err(AgentError::WrongState("stopped at fail point".into()));
                }
                let performed = self.finish_wipe()?;
                result.wipe = Some(performed);
                result.receipt = take_wipe_receipt_peek(self.dir());
                return Ok(result);
            }
        }
        if let Some(r) = &result.receipt {
            self.trust_mut()?.queue_receipt(r.clone());
        }
        result.actions = out.actions;
        let receipt = result.receipt.clone();
        self.trust_mut()?.remember(SeenCommand { seq: cmd.seq, id, requested: cmd.action, receipt, action_id });
        self.commit()?;
        Ok(result)
    }

    /// Decodes and checks a command.
    fn verify_command(&self, text: &str, now: DateTime<Utc>, tnow: DateTime<Utc>) -> Result<Verified, AgentError> {
        let t = self.trust_ref()?;
        let bytes = wire::from_text(text).map_err(TrustError::from)?;
        let cmd = Command::from_bytes(&bytes).map_err(TrustError::from)?;
        if cmd.device_id != t.device_id {
            return Err(TrustError::WrongDevice.into());
        }
        if cmd.enrollment_id != t.enrollment_id {
            return Err(TrustError::WrongEnrollment.into());
        }
        let staff = t
            .staff
            .iter()
            .filter_map(|s| trust::parse_key(&s.key).ok().map(|k| (k, s)))
            .find(|(k, _)| wire::key_id(k) == cmd.key_id);
        let Some((key, staff)) = staff else { return Err(TrustError::UnknownSigner.into()) };
        if !trust::verify(&key, &cmd.signed_bytes(), &cmd.signature) {
            return Err(TrustError::BadSignature.into());
        }
        // Replays are recognised by the signed content, so a re-encoded text or a malleated
        // signature over the same content gets the original answer and changes nothing.
        let id = cmd.id();
        if let Some(s) = t.seen.iter().find(|s| s.seq == cmd.seq) {
            if s.id == id {
                return Ok(Verified::Replay(Box::new(CommandResult {
                    status: CommandStatus::Replayed,
                    requested: s.requested,
                    command_id: wire::hex(&id),
                    receipt: s.receipt.clone(),
                    actions: Vec::new(),
                    wipe: None,
                })));
            }
            return Err(TrustError::SequenceReused(cmd.seq).into());
        }
        if cmd.seq <= t.last_seq {
            return Err(TrustError::SequenceReused(cmd.seq).into());
        }
        if cmd.expires_at <= cmd.issued_at {
            return Err(TrustError::from(wire::WireError::BadField("expires_at")).into());
        }
        if cmd.expires_at - cmd.issued_at > MAX_COMMAND_LIFETIME_SECS {
            return Err(TrustError::LifetimeTooLong.into());
        }
        if i64::from(cmd.expires_at) <= unix(tnow) {
            return Err(TrustError::Expired.into());
        }
        if i64::from(cmd.issued_at) > unix(now).max(unix(tnow)) + MAX_SKEW_SECS {
            return Err(TrustError::FutureDated.into());
        }
        let role = match cmd.action {
            CommandAction::Lock => Some(Role::Lock),
            CommandAction::WipeSelective => Some(Role::WipeSelective),
            CommandAction::WipeFull => Some(Role::WipeFull),
            CommandAction::PurgeSurvivorData => Some(Role::PurgeSurvivorData),
            CommandAction::Ping => None,
        };
        let ok = role.is_none_or(|r| staff.roles.contains(&r));
        Ok(Verified::Fresh(cmd, ok))
    }

    /// Crypto-erases this agent after a committed wipe intent, writes the signed receipt for the
    /// app to deliver, and returns the scope the app must now wipe on the platform.
    pub(crate) fn finish_wipe(&mut self) -> Result<WipeScope, AgentError> {
        let intent = self.state.wipe_intent.clone().ok_or(AgentError::WrongState("no wipe intended".into()))?;
        let Some(trust) = self.state.trust.clone() else {
            // Not enrolled: nobody to send a receipt to; erase all the same.
            self.erase_store()?;
            let _ = std::fs::remove_file(self.dir().join(WIPE_INTENT_FILE));
            return Ok(intent.scope);
        };
        let now = self.clock().now();
        let erased = self.erase_store();
        let (outcome, performed, reason) = match &erased {
            Ok(()) => (
                ReceiptOutcome::Done,
                match intent.scope {
                    WipeScope::Selective => PerformedScope::Selective,
                    WipeScope::Full => PerformedScope::Full,
                },
                intent.reason,
            ),
            Err(_) => (ReceiptOutcome::Failed, PerformedScope::None, ReceiptReason::KeyStoreUnavailable),
        };
        let receipt =
            trust.sign_receipt(intent.command_id, intent.seq, intent.requested, outcome, performed, reason, now)?;
        store::write_atomic(&self.dir().join(WIPE_RECEIPT_FILE), receipt.as_bytes())?;
        let _ = std::fs::remove_file(self.dir().join(WIPE_INTENT_FILE));
        erased?;
        Ok(intent.scope)
    }

    /// Signed receipts not yet delivered to IT, oldest first.
    pub fn queued_receipts(&self) -> Vec<String> {
        self.state.trust.as_ref().map(|t| t.receipts_out.clone()).unwrap_or_default()
    }

    /// Marks a receipt as delivered, removing it from the queue.
    pub fn receipt_delivered(&mut self, receipt: &str) -> Result<bool, AgentError> {
        let t = self.trust_mut()?;
        let before = t.receipts_out.len();
        t.receipts_out.retain(|r| r != receipt.trim());
        let removed = t.receipts_out.len() != before;
        if removed {
            self.commit()?;
        }
        Ok(removed)
    }

    /// Called from `ack`: a command's action was acknowledged, so its receipt can be signed.
    pub(crate) fn receipt_for_ack(&mut self, id: ActionId, result: &AckResult) -> Result<(), AgentError> {
        let now = self.clock().now();
        let Some(t) = self.state.trust.as_mut() else { return Ok(()) };
        let Some(pos) = t.seen.iter().position(|s| s.action_id == Some(id)) else { return Ok(()) };
        let s = t.seen[pos].clone();
        let (outcome, reason) = match result {
            AckResult::Done => (ReceiptOutcome::Done, ReceiptReason::None),
            AckResult::Failed { .. } | AckResult::Unsupported { .. } => {
                (ReceiptOutcome::Failed, ReceiptReason::PlatformRefused)
            }
        };
        if s.receipt.is_some() && outcome == ReceiptOutcome::Failed {
            return Ok(());
        }
        let receipt = t.sign_receipt(s.id, s.seq, s.requested, outcome, PerformedScope::None, reason, now)?;
        t.queue_receipt(receipt.clone());
        t.seen[pos].receipt = Some(receipt);
        if outcome == ReceiptOutcome::Done {
            t.seen[pos].action_id = None;
        }
        Ok(())
    }

    /// Tick work for trust: a stale policy is reported, and locks the phone after its grace.
    pub(crate) fn trust_tick(&mut self, out: &mut Outcome, now: DateTime<Utc>) {
        let tnow = self.trusted_now();
        let Some(t) = self.state.trust.as_ref() else { return };
        let expires = t.policy_expires_at;
        let grace_end = expires + i64::from(t.grace_hours) * 3600;
        let locked = t.stale_locked;
        let notified_recently = t.stale_notified_at.is_some_and(|at| tnow - at < chrono::Duration::hours(24));
        if unix(tnow) < expires {
            return;
        }
        if !notified_recently {
            self.push_action(out, ActionKind::Notify { kind: NotifyKind::PolicyStale }, now, now);
            if let Some(t) = self.state.trust.as_mut() {
                t.stale_notified_at = Some(tnow);
            }
        }
        if unix(tnow) >= grace_end && !locked {
            self.push_action(out, ActionKind::LockNow, now, now);
            if let Some(t) = self.state.trust.as_mut() {
                t.stale_locked = true;
            }
        }
    }

    /// Commits a wipe intent the agent decided on its own, then erases (see `finish_wipe`).
    pub(crate) fn begin_self_wipe(&mut self, scope: WipeScope, reason: ReceiptReason) -> Result<(), AgentError> {
        let requested = match scope {
            WipeScope::Full => CommandAction::WipeFull,
            WipeScope::Selective => CommandAction::WipeSelective,
        };
        let intent = WipeIntent { scope, reason, requested, seq: 0, command_id: [0; 16] };
        let marker = serde_json::to_vec(&intent).map_err(|e| AgentError::StateDamaged(e.to_string()))?;
        store::write_atomic(&self.dir().join(WIPE_INTENT_FILE), &marker)?;
        self.state.wipe_intent = Some(intent);
        self.commit()?;
        self.finish_wipe().map(|_| ())
    }

    /// Sets a test fail point.
    #[doc(hidden)]
    pub fn set_fail_point(&mut self, fp: Option<FailPoint>) {
        self.fail_point = fp;
    }
}

impl Agent {
    /// What `report` signs relay messages with; the key never leaves the crate.
    pub(crate) fn device_view(&self) -> Result<crate::report::DeviceView, AgentError> {
        let t = self.trust_ref()?;
        Ok(crate::report::DeviceView {
            device_id: t.device_id,
            enrollment_id: t.enrollment_id,
            key: t.signing_key()?,
            mode: t.mode,
            root_version: t.root.version,
            policy_expires_at: t.policy_expires_at,
        })
    }
}

enum Verified {
    Fresh(Command, bool),
    Replay(Box<CommandResult>),
}

fn take_wipe_receipt_peek(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(WIPE_RECEIPT_FILE)).ok().map(|s| s.trim().to_string())
}

/// Checks a decoded policy for this device. Returns true if it is the installed one already.
#[allow(clippy::too_many_arguments)]
fn check_policy_for(
    sp: &trust::SignedPolicy,
    org: &str,
    device_id: &[u8; 8],
    mode: Mode,
    root: &RootSet,
    now: DateTime<Utc>,
    tnow: DateTime<Utc>,
    installed: Option<(u64, &String, &Vec<StaffKey>)>,
) -> Result<bool, AgentError> {
    let b = &sp.body;
    if b.org != org {
        return Err(TrustError::WrongOrg.into());
    }
    let me = wire::hex(device_id);
    if !b.targets.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(&me)) {
        return Err(TrustError::WrongDevice.into());
    }
    if b.rules.mode != mode {
        return Err(TrustError::ModeMismatch.into());
    }
    let root_ok = trust::check_root_signed(&sp.container, root);
    if let Err(root_err) = root_ok {
        // A staff key with the update-policy role may sign, but may not change the staff list.
        let Some((_, _, staff)) = installed else { return Err(root_err.into()) };
        let signers: Vec<[u8; 32]> = staff
            .iter()
            .filter(|s| s.roles.contains(&Role::UpdatePolicy))
            .filter_map(|s| trust::parse_key(&s.key).ok())
            .collect();
        if trust::count_signers(&sp.container, &signers) == 0 {
            return Err(root_err.into());
        }
        if &b.staff != staff {
            return Err(TrustError::StaffEscalation.into());
        }
    }
    if let Some((version, digest, _)) = installed {
        if b.version < version {
            return Err(TrustError::Rollback { installed: version, got: b.version }.into());
        }
        if b.version == version {
            if &sp.digest == digest {
                return Ok(true);
            }
            return Err(TrustError::SameVersionDifferentContent(version).into());
        }
    }
    if b.expires_at <= unix(tnow) {
        return Err(TrustError::Expired.into());
    }
    if b.issued_at > unix(now).max(unix(tnow)) + MAX_SKEW_SECS {
        return Err(TrustError::FutureDated.into());
    }
    for s in &b.staff {
        trust::parse_key(&s.key)?;
    }
    Ok(false)
}
