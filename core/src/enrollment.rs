//! What a device pinned at enrollment and remembers since: the organisation, its ids, its own
//! key, the root keys, the installed signed policy's version and staff, the commands it applied
//! and the receipts not yet delivered. Its methods are the device's side of trust: enroll from
//! a bundle, check a policy update, verify a command, sign a receipt. They decide and return;
//! the agent commits.

use crate::actions::{AckResult, Action, ActionId, ActionKind, NotifyKind, WipeScope};
use crate::amend::{self, Current, Order};
use crate::hex::{hex, unhex};
use crate::policy::{Mode, Policy};
use crate::seq_window::SeqWindows;
use crate::trust::{
    self, Installed, Pin, PolicyCheck, Role, RootSet, SignedPolicy, SigningKey, StaffKey, TrustError,
    MAX_COMMAND_LIFETIME_SECS, MAX_SKEW_SECS,
};
use crate::wire::{
    self, Command, CommandAction, EnrollResponse, PerformedScope, Receipt, ReceiptOutcome, ReceiptReason,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many applied commands are remembered with their receipts, for replays.
const REMEMBERED_COMMANDS: usize = 64;
/// How many undelivered receipts are kept.
const MAX_QUEUED_RECEIPTS: usize = 256;

/// A command this device applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SeenCommand {
    /// The signing key's id (zero in states written before windows were per key).
    #[serde(default)]
    pub(crate) key_id: [u8; 8],
    pub(crate) seq: u32,
    pub(crate) id: [u8; 16],
    pub(crate) requested: CommandAction,
    pub(crate) receipt: Option<String>,
    pub(crate) action_id: Option<ActionId>,
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
    /// The one sequence of states written before windows were per key (see `seq_windows`).
    last_seq: u32,
    #[serde(default)]
    seq_windows: Option<SeqWindows>,
    /// The version of the last root-signed policy (states from before: the installed version).
    #[serde(default)]
    root_policy_version: Option<u64>,
    #[serde(default)]
    policy_issued_at: i64,
    /// The latest issue time of any signed object this device accepted: evidence of the time
    /// that a clock set forward cannot fake.
    #[serde(default)]
    signed_floor: i64,
    seen: Vec<SeenCommand>,
    /// Check-ins waiting for the organisation's acknowledgement.
    #[serde(default)]
    checkin_nonces: crate::checkin::Outstanding,
    receipts_out: Vec<String>,
    stale_locked: bool,
    #[serde(default)]
    stale_notified_at: Option<DateTime<Utc>>,
    relay_url: Option<String>,
    #[serde(default)]
    enrollment_response: Option<String>,
    /// The bundle's secret, held only until the response is signed; never stored.
    #[serde(skip)]
    enroll_secret: Option<[u8; 32]>,
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

/// A command that passed every check.
pub(crate) enum Verified {
    /// New: apply it. The flag says whether the signer's roles allow it.
    Fresh(Command, bool),
    /// Applied before: answer as then.
    Replay(Box<CommandResult>),
}

fn staff_key_ids(staff: &[StaffKey]) -> Vec<[u8; 8]> {
    staff.iter().filter_map(|s| trust::parse_key(&s.key).ok()).map(|k| wire::key_id(&k)).collect()
}

pub(crate) fn unix(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn at_u32(t: DateTime<Utc>) -> u32 {
    u32::try_from(unix(t)).unwrap_or(u32::MAX)
}

impl TrustState {
    /// Enrolls from the admin's bundle: pins the root key, checks the initial signed policy and
    /// generates this device's key. Returns the trust state and the policy's rules.
    pub(crate) fn enroll(bundle: &str, now: DateTime<Utc>) -> Result<(TrustState, Policy), TrustError> {
        let b = trust::decode_bundle(bundle)?;
        let root_key = trust::parse_key(&b.root_key)?;
        let device_id = unhex::<8>(&b.device_id)
            .ok_or(TrustError::BadBody { field: "device_id".into(), reason: "8 bytes of hex".into() })?;
        unhex::<4>(&b.enrollment_id)
            .ok_or(TrustError::BadBody { field: "enrollment_id".into(), reason: "4 bytes of hex".into() })?;
        let secret = unhex::<32>(&b.enroll_secret)
            .ok_or(TrustError::BadBody { field: "enroll_secret".into(), reason: "32 bytes of hex".into() })?;
        // A fresh enrollment id at every enrollment, even from the same bundle: nothing signed
        // for an earlier enrollment is accepted after this one. IT learns it from the response.
        let enrollment_id = crate::store::random_bytes::<4>()
            .map_err(|_| TrustError::BadBody { field: "enrollment_id".into(), reason: "no randomness".into() })?;
        let root = RootSet { version: 1, keys: vec![root_key], threshold: 1 };
        let sp = trust::decode_policy(&b.policy)?;
        let pin = Pin { org: &b.org, device_id: &device_id, mode: b.mode, root: &root };
        trust::check_policy(&sp, pin, None, unix(now), unix(now))?;
        let device_key = SigningKey::generate()?;
        let state = TrustState {
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
            seq_windows: Some(SeqWindows::default()),
            root_policy_version: Some(sp.body.version),
            policy_issued_at: sp.body.issued_at,
            signed_floor: sp.body.issued_at,
            seen: Vec::new(),
            checkin_nonces: Default::default(),
            receipts_out: Vec::new(),
            stale_locked: false,
            stale_notified_at: None,
            relay_url: b.relay_url,
            enrollment_response: None,
            enroll_secret: Some(secret),
        };
        Ok((state, sp.body.rules))
    }

    /// Signs the enrollment response (proof of possession of the device key) and keeps it: it
    /// is public (ids and a public key), so an app killed before delivering it can send it again.
    pub(crate) fn sign_enrollment_response(&mut self, now: DateTime<Utc>) -> Result<String, TrustError> {
        let key = self.signing_key()?;
        let mut resp = EnrollResponse {
            device_id: self.device_id,
            enrollment_id: self.enrollment_id,
            device_key: key.public_key(),
            at: at_u32(now),
            binding: [0; 32],
            signature: [0; 64],
        };
        let secret = self.enroll_secret.take().ok_or(TrustError::NotBoundToBundle)?;
        resp.binding = trust::enroll_binding(&secret, &resp.bound_bytes());
        resp.signature = key.sign(&resp.signed_bytes());
        let text = wire::to_text(&resp.to_bytes());
        self.enrollment_response = Some(text.clone());
        Ok(text)
    }

    /// Checks a signed policy update against the installed one (`rules`): a staff-signed one
    /// may only renew or tighten it, a root-signed one supersedes any staff-signed one (see
    /// `crate::amend`). A newer policy's expiry is checked against the evidence of the time (the
    /// wall clock, the latest signed time accepted and `evidence`, the agent's trusted time from
    /// monotonic progress), not against a latest-seen time that a
    /// clock set forward once may have pushed years ahead: IT's next policy always gets through,
    /// while replays and older versions are refused by their version first.
    pub(crate) fn check_policy(
        &self,
        sp: &SignedPolicy,
        rules: &Policy,
        now: DateTime<Utc>,
        evidence: i64,
    ) -> Result<PolicyCheck, TrustError> {
        let pin = Pin { org: &self.org, device_id: &self.device_id, mode: self.mode, root: &self.root };
        let current = Current {
            version: self.policy_version,
            root_version: self.root_policy_version.unwrap_or(self.policy_version),
            issued_at: self.policy_issued_at,
            grace_hours: self.grace_hours,
            rules,
        };
        let order = |sp: &SignedPolicy, by_root: bool| {
            Ok(amend::order(current, &sp.body, by_root, sp.digest == self.policy_digest)? == Order::Same)
        };
        let installed = Installed { staff: &self.staff, order: &order };
        let evidence = unix(now).max(self.signed_floor).max(evidence);
        trust::check_policy(sp, pin, Some(installed), unix(now), evidence)
    }

    /// Records a checked policy as installed; returns its rules for the agent to apply.
    pub(crate) fn adopt_policy(&mut self, sp: SignedPolicy, by_root: bool) -> Policy {
        if by_root {
            self.root_policy_version = Some(sp.body.version);
            let listed = staff_key_ids(&sp.body.staff);
            self.windows_mut().root_policy_installed(&listed);
        }
        self.policy_issued_at = sp.body.issued_at;
        self.note_signed_time(sp.body.issued_at);
        self.policy_version = sp.body.version;
        self.policy_digest = sp.digest;
        self.policy_expires_at = sp.body.expires_at;
        self.grace_hours = sp.body.grace_hours;
        self.staff = sp.body.staff;
        self.stale_locked = false;
        self.stale_notified_at = None;
        sp.body.rules
    }

    /// Checks a root rotation and installs the new root set; returns its version.
    pub(crate) fn rotate_root(&mut self, text: &str) -> Result<u64, TrustError> {
        let (c, body) = trust::decode_root(text)?;
        let new = trust::verify_rotation(&c, &body, &self.root, &self.org)?;
        let v = new.version;
        self.root = new;
        Ok(v)
    }

    /// Decodes and checks a command.
    pub(crate) fn verify_command(
        &self,
        text: &str,
        now: DateTime<Utc>,
        tnow: DateTime<Utc>,
    ) -> Result<Verified, TrustError> {
        let bytes = wire::from_text(text)?;
        let cmd = Command::from_bytes(&bytes)?;
        if cmd.device_id != self.device_id {
            return Err(TrustError::WrongDevice);
        }
        if cmd.enrollment_id != self.enrollment_id {
            return Err(TrustError::WrongEnrollment);
        }
        let staff = self
            .staff
            .iter()
            .filter_map(|s| trust::parse_key(&s.key).ok().map(|k| (k, s)))
            .find(|(k, _)| wire::key_id(k) == cmd.key_id);
        let Some((key, staff)) = staff else { return Err(TrustError::UnknownSigner) };
        if !trust::verify(&key, &cmd.signed_bytes(), &cmd.signature) {
            return Err(TrustError::BadSignature);
        }
        // Replays are recognised by the signed content, so a re-encoded text or a malleated
        // signature over the same content gets the original answer and changes nothing.
        let id = cmd.id();
        let same_key = |s: &&SeenCommand| s.key_id == cmd.key_id || s.key_id == [0; 8];
        if let Some(s) = self.seen.iter().filter(same_key).find(|s| s.seq == cmd.seq) {
            if s.id == id {
                return Ok(Verified::Replay(Box::new(CommandResult {
                    status: CommandStatus::Replayed,
                    requested: s.requested,
                    command_id: hex(&id),
                    receipt: s.receipt.clone(),
                    actions: Vec::new(),
                    wipe: None,
                })));
            }
            return Err(TrustError::SequenceReused(cmd.seq));
        }
        // Each key has its own window: no key can use up another's sequence numbers.
        self.windows().check(&cmd.key_id, cmd.seq)?;
        if cmd.expires_at <= cmd.issued_at {
            return Err(TrustError::from(wire::WireError::BadField("expires_at")));
        }
        if cmd.expires_at - cmd.issued_at > MAX_COMMAND_LIFETIME_SECS {
            return Err(TrustError::LifetimeTooLong);
        }
        if i64::from(cmd.expires_at) <= unix(tnow) {
            return Err(TrustError::Expired);
        }
        if i64::from(cmd.issued_at) > unix(now).max(unix(tnow)).saturating_add(MAX_SKEW_SECS) {
            return Err(TrustError::FutureDated);
        }
        let role = match cmd.action {
            CommandAction::Lock => Role::Lock,
            CommandAction::WipeSelective => Role::WipeSelective,
            CommandAction::WipeFull => Role::WipeFull,
            CommandAction::PurgeSurvivorData => Role::PurgeSurvivorData,
            CommandAction::Ping => Role::Ping,
        };
        // `checkin` is never a command role (it is a key's only role; see `check_staff_roles`).
        let ok = staff.roles.contains(&role);
        Ok(Verified::Fresh(cmd, ok))
    }

    /// Remembers the nonce of a status report about to be sent, issued at `at` (unix seconds,
    /// the offline timers' time).
    pub(crate) fn issue_checkin_nonce(&mut self, nonce: [u8; 16], at: i64) {
        self.checkin_nonces.issue(nonce, at);
    }

    /// Checks the organisation's acknowledgement of a check-in: for this device and
    /// enrollment, signed by a staff key of the installed policy that holds the `checkin`
    /// role, within its lifetime, and naming one of this phone's outstanding nonces (not
    /// expired at `timer_now`). Returns the nonce and when it was issued.
    pub(crate) fn check_checkin_ack(
        &self,
        text: &str,
        now: DateTime<Utc>,
        tnow: DateTime<Utc>,
        timer_now: i64,
    ) -> Result<([u8; 16], i64), TrustError> {
        let a = wire::CheckinAck::from_bytes(&wire::from_text(text)?)?;
        if a.device_id != self.device_id {
            return Err(TrustError::WrongDevice);
        }
        if a.enrollment_id != self.enrollment_id {
            return Err(TrustError::WrongEnrollment);
        }
        let staff = self
            .staff
            .iter()
            .filter_map(|s| trust::parse_key(&s.key).ok().map(|k| (k, s)))
            .find(|(k, _)| wire::key_id(k) == a.key_id);
        let Some((key, staff)) = staff else { return Err(TrustError::UnknownSigner) };
        if !trust::verify(&key, &a.signed_bytes(), &a.signature) {
            return Err(TrustError::BadSignature);
        }
        if !staff.roles.contains(&Role::Checkin) {
            return Err(TrustError::RoleNotAllowed("checkin".into()));
        }
        if a.expires_at <= a.issued_at {
            return Err(TrustError::from(wire::WireError::BadField("expires_at")));
        }
        if a.expires_at - a.issued_at > crate::checkin::MAX_ACK_LIFETIME_SECS {
            return Err(TrustError::LifetimeTooLong);
        }
        if i64::from(a.expires_at) <= unix(tnow) {
            return Err(TrustError::Expired);
        }
        if i64::from(a.issued_at) > unix(now).max(unix(tnow)).saturating_add(MAX_SKEW_SECS) {
            return Err(TrustError::FutureDated);
        }
        let at = self.checkin_nonces.issued_at(&a.nonce, timer_now).ok_or(TrustError::NotOutstanding)?;
        Ok((a.nonce, at))
    }

    /// Uses up an acknowledged nonce (and the older ones).
    pub(crate) fn consume_checkin_nonce(&mut self, nonce: &[u8; 16]) {
        self.checkin_nonces.consume(nonce);
    }

    fn signing_key(&self) -> Result<SigningKey, TrustError> {
        SigningKey::from_pkcs8(&self.device_key)
    }

    /// What the relay messages are signed with and say about this device; the key never
    /// leaves the crate.
    pub(crate) fn device_view(&self) -> Result<crate::report::DeviceView, TrustError> {
        Ok(crate::report::DeviceView {
            device_id: self.device_id,
            enrollment_id: self.enrollment_id,
            key: self.signing_key()?,
            mode: self.mode,
            root_version: self.root.version,
            policy_expires_at: self.policy_expires_at,
        })
    }

    /// Signs a receipt for a command (`seq` and `cmd_id` are zero for the agent's own wipes).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sign_receipt(
        &self,
        cmd_id: [u8; 16],
        seq: u32,
        requested: CommandAction,
        outcome: ReceiptOutcome,
        performed: PerformedScope,
        reason: ReceiptReason,
        at: DateTime<Utc>,
    ) -> Result<String, TrustError> {
        let mut r = Receipt {
            device_id: self.device_id,
            enrollment_id: self.enrollment_id,
            command_id: cmd_id,
            seq,
            requested,
            outcome,
            performed,
            reason,
            at: at_u32(at),
            signature: [0; 64],
        };
        r.signature = self.signing_key()?.sign(&r.signed_bytes());
        Ok(wire::to_text(&r.to_bytes()))
    }

    /// Queues a receipt for delivery; the oldest are dropped past the cap, so an organisation
    /// that never collects receipts cannot make the state grow without bound.
    pub(crate) fn queue_receipt(&mut self, r: String) {
        self.receipts_out.push(r);
        if self.receipts_out.len() > MAX_QUEUED_RECEIPTS {
            let drop = self.receipts_out.len() - MAX_QUEUED_RECEIPTS;
            self.receipts_out.drain(..drop);
        }
    }

    fn windows(&self) -> SeqWindows {
        self.seq_windows.clone().unwrap_or_else(|| SeqWindows::from_legacy(self.last_seq))
    }

    fn windows_mut(&mut self) -> &mut SeqWindows {
        let legacy = self.last_seq;
        self.seq_windows.get_or_insert_with(|| SeqWindows::from_legacy(legacy))
    }

    /// The latest issue time of any signed object this device accepted.
    pub(crate) fn signed_floor(&self) -> i64 {
        self.signed_floor
    }

    /// Records the issue time of a signed object this device accepted.
    pub(crate) fn note_signed_time(&mut self, issued_at: i64) {
        self.signed_floor = self.signed_floor.max(issued_at);
    }

    /// Remembers an applied command, for replays and for its receipt after the ack.
    pub(crate) fn remember(&mut self, s: SeenCommand) {
        self.windows_mut().advance(&s.key_id, s.seq);
        self.seen.push(s);
        if self.seen.len() > REMEMBERED_COMMANDS {
            let drop = self.seen.len() - REMEMBERED_COMMANDS;
            self.seen.drain(..drop);
        }
    }

    /// A command's action was acknowledged, so its receipt can be signed and queued.
    pub(crate) fn receipt_for_ack(
        &mut self,
        id: ActionId,
        result: &AckResult,
        now: DateTime<Utc>,
    ) -> Result<(), TrustError> {
        let (outcome, reason) = match result {
            AckResult::Done => (ReceiptOutcome::Done, ReceiptReason::None),
            AckResult::Failed { .. } | AckResult::Unsupported { .. } => {
                (ReceiptOutcome::Failed, ReceiptReason::PlatformRefused)
            }
        };
        // Every command the action answers gets its own receipt: a second lock merged into the
        // first pending one is receipted when that one is done.
        let answered: Vec<usize> = (0..self.seen.len()).filter(|i| self.seen[*i].action_id == Some(id)).collect();
        for pos in answered {
            let s = self.seen[pos].clone();
            if s.receipt.is_some() && outcome == ReceiptOutcome::Failed {
                continue;
            }
            let receipt = self.sign_receipt(s.id, s.seq, s.requested, outcome, PerformedScope::None, reason, now)?;
            self.queue_receipt(receipt.clone());
            self.seen[pos].receipt = Some(receipt);
            if outcome == ReceiptOutcome::Done {
                self.seen[pos].action_id = None;
            }
        }
        Ok(())
    }

    /// The stale-policy rule on a tick: an expired policy is reported (at most daily), and
    /// locks the phone once its grace is over. Returns the actions to issue, in order.
    pub(crate) fn stale_tick(&mut self, tnow: DateTime<Utc>) -> Vec<ActionKind> {
        let mut kinds = Vec::new();
        if unix(tnow) < self.policy_expires_at {
            return kinds;
        }
        // Signed values: checked arithmetic (an expiry of i64::MAX must not overflow).
        let grace_end = self.policy_expires_at.saturating_add(i64::from(self.grace_hours).saturating_mul(3600));
        let notified_recently = self.stale_notified_at.is_some_and(|at| tnow - at < chrono::Duration::hours(24));
        if !notified_recently {
            kinds.push(ActionKind::Notify { kind: NotifyKind::PolicyStale });
            self.stale_notified_at = Some(tnow);
        }
        if unix(tnow) >= grace_end && !self.stale_locked {
            kinds.push(ActionKind::LockNow);
            self.stale_locked = true;
        }
        kinds
    }

    /// Whether the installed policy has expired by `tnow`.
    pub(crate) fn policy_is_stale(&self, tnow: DateTime<Utc>) -> bool {
        unix(tnow) >= self.policy_expires_at
    }

    pub(crate) fn policy_expires_at(&self) -> i64 {
        self.policy_expires_at
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn device_id_hex(&self) -> String {
        hex(&self.device_id)
    }

    pub(crate) fn policy_version(&self) -> u64 {
        self.policy_version
    }

    pub(crate) fn enrollment_response(&self) -> Option<String> {
        self.enrollment_response.clone()
    }

    pub(crate) fn relay_url(&self) -> Option<String> {
        self.relay_url.clone()
    }

    pub(crate) fn receipts_out(&self) -> &[String] {
        &self.receipts_out
    }

    /// Drops a delivered receipt; true if it was queued.
    pub(crate) fn receipt_delivered(&mut self, receipt: &str) -> bool {
        let before = self.receipts_out.len();
        self.receipts_out.retain(|r| r != receipt.trim());
        self.receipts_out.len() != before
    }
}
