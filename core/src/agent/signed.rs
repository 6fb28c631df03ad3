//! The agent's side of trust: enrollment, signed policies, root rotation, signed commands and
//! receipts. Every check is the trust state's (`crate::enrollment`, `crate::trust`); the agent
//! applies what passed and commits. The channel a command came by (SMS, push, relay) proves
//! nothing.

use super::{Agent, AgentConfig};
use crate::actions::{Action, ActionKind};
use crate::audit::AuditKind;
use crate::clock::Clock;
use crate::enrollment::{CommandResult, CommandStatus, SeenCommand, TrustState, Verified};
use crate::error::{AgentError, StateError};
use crate::event::Outcome;
use crate::hex::hex;
use crate::rules::retention;
use crate::store::KeyProtector;
use crate::trust::{self, TrustError};
use crate::wipe::{self, FailPoint, WipeIntent};
use crate::wire::{self, CommandAction, PerformedScope, ReceiptOutcome, ReceiptReason};
use chrono::{DateTime, Utc};
use std::sync::Arc;

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
        let now = clock.now();
        let (trust, rules) = TrustState::enroll(bundle, now)?;
        let mut agent = Agent::create(config, protector, clock, rules)?;
        agent.state.trust = Some(trust);
        agent.record_check_in(now);
        agent.state.audit.append(now, AuditKind::PolicyInstalled, 1, vec![], "enrollment");
        agent.commit()?;
        let text = agent.trust_mut()?.sign_enrollment_response(now)?;
        agent.commit()?;
        Ok((agent, text))
    }

    pub(super) fn trust_mut(&mut self) -> Result<&mut TrustState, AgentError> {
        self.state.trust.as_mut().ok_or(AgentError::from(StateError::NotEnrolled))
    }

    pub(super) fn trust_ref(&self) -> Result<&TrustState, AgentError> {
        self.state.trust.as_ref().ok_or(AgentError::from(StateError::NotEnrolled))
    }

    /// The time expiries are checked against: the wall clock, but never earlier than what the
    /// evidence supports (signed issue times, monotonic progress within a boot). Setting the
    /// clock back never makes it earlier than that evidence; a clock set forward and then
    /// corrected leaves nothing behind, because the wall clock alone is not evidence.
    pub fn trusted_now(&self) -> DateTime<Utc> {
        let evidence = self.evidence_secs();
        self.clock.now().max(DateTime::from_timestamp(evidence, 0).unwrap_or(DateTime::<Utc>::MIN_UTC))
    }

    /// The latest time (unix seconds) the evidence supports now.
    fn evidence_secs(&self) -> i64 {
        let signed = self.state.trust.as_ref().map_or(0, |t| t.signed_floor());
        self.state.time.floor_at(self.clock.monotonic()).max(signed)
    }

    /// This device's id (hex), once enrolled.
    pub fn device_id(&self) -> Option<String> {
        self.state.trust.as_ref().map(|t| t.device_id_hex())
    }

    /// The installed signed policy's version, once enrolled.
    pub fn policy_version(&self) -> Option<u64> {
        self.state.trust.as_ref().map(|t| t.policy_version())
    }

    /// The enrollment response for IT staff (the same text `enroll` returned), kept for
    /// delivery after a restart.
    pub fn enrollment_response(&self) -> Option<String> {
        self.state.trust.as_ref().and_then(|t| t.enrollment_response())
    }

    /// The relay URL from enrollment, if any.
    pub fn relay_url(&self) -> Option<String> {
        self.state.trust.as_ref().and_then(|t| t.relay_url())
    }

    /// Whether the installed policy has expired (it stays enforced; IT must send a newer one).
    pub fn policy_is_stale(&self) -> bool {
        self.state.trust.as_ref().is_some_and(|t| t.policy_is_stale(self.trusted_now()))
    }

    /// Installs a signed policy. Returns the actions that enforce it (none if this exact policy
    /// is already installed).
    ///
    /// It also takes the organisation's other signed statement from the relay's queue, a
    /// check-in acknowledgement (type `08`, see [`Agent::apply_checkin_ack`]; no actions), so
    /// that apps which hand each queued line to `apply_command` and then to this need nothing new.
    pub fn install_signed_policy(&mut self, text: &str) -> Result<Vec<Action>, AgentError> {
        self.ensure_live()?;
        if wire::from_text(text).ok().and_then(|b| wire::header(&b).ok()) == Some(wire::ObjType::CheckinAck) {
            self.apply_checkin_ack(text)?;
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let result = (|| {
            let t = self.trust_ref()?;
            let sp = trust::decode_policy(text)?;
            let check = t.check_policy(&sp, &self.state.policy, now, self.evidence_secs())?;
            Ok::<_, AgentError>((sp, check))
        })();
        let (sp, check) = match result {
            Ok(x) => x,
            Err(e) => {
                self.count(AuditKind::PolicyRejected);
                return Err(e);
            }
        };
        if check.same {
            // The installed policy again proves nothing fresh: it is not a check-in, and it
            // changes nothing (not even a disk write).
            return Ok(Vec::new());
        }
        self.record_check_in(now);
        let issued = sp.body.issued_at;
        if self.state.last_seen.timestamp() > now.timestamp().max(issued).saturating_add(trust::MAX_SKEW_SECS) {
            // The latest time seen is ahead of both the wall clock and the organisation's
            // signed time: a clock set forward once. Back to what the evidence supports.
            self.state.last_seen = now.max(DateTime::from_timestamp(issued, 0).unwrap_or(now));
        }
        let rules = self.trust_mut()?.adopt_policy(sp, check.by_root);
        self.apply_policy(rules)
    }

    /// Applies a root rotation (version exactly N+1, signed by a threshold of old and new keys).
    /// A device that missed several rotations applies them one by one, in order.
    pub fn apply_root_rotation(&mut self, text: &str) -> Result<u64, AgentError> {
        self.ensure_live()?;
        // Checked on a copy: a refused rotation changes nothing.
        let mut t = self.trust_ref()?.clone();
        let v = t.rotate_root(text)?;
        self.state.trust = Some(t);
        let now = self.clock.now();
        // Signed by the current and the new root, and never accepted twice: fresh evidence.
        self.record_check_in(now);
        self.state.audit.append(now, AuditKind::PolicyInstalled, 1, vec![], "root rotation");
        self.commit()?;
        Ok(v)
    }

    /// Verifies and applies a signed command (`QL:` text from SMS, push or relay).
    ///
    /// Refused with `StateError::CapsNotDeclared` (nothing applied, nothing remembered) until the
    /// app has called [`Agent::set_platform_caps`].
    pub fn apply_command(&mut self, text: &str) -> Result<CommandResult, AgentError> {
        self.ensure_live()?;
        if !self.state.caps_declared {
            return Err(StateError::CapsNotDeclared.into());
        }
        let now = self.clock.now();
        let tnow = self.trusted_now();
        let verified = self.trust_ref().and_then(|t| Ok(t.verify_command(text, now, tnow)?));
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
        // A verified command that is not a replay is fresh evidence from the organisation.
        self.record_check_in(now);
        self.trust_mut()?.note_signed_time(i64::from(cmd.issued_at));
        let id = cmd.id();
        let mut result = CommandResult {
            status: CommandStatus::Applied,
            requested: cmd.action,
            command_id: hex(&id),
            receipt: None,
            actions: Vec::new(),
            wipe: None,
        };
        self.state.audit.append(now, AuditKind::CommandAccepted, 1, vec![], &format!("{:?}", cmd.action));
        let mut out = Outcome::allow();
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
                out.push(&mut self.state.outbox, ActionKind::LockNow, now, now);
                action_id = out.actions.first().map(|a| a.id);
            }
            CommandAction::PurgeSurvivorData => {
                retention::purge(&mut self.desk(now), &mut out)?;
                action_id = out.actions.iter().find(|a| a.kind == ActionKind::PurgeSurvivorData).map(|a| a.id);
            }
            CommandAction::WipeSelective | CommandAction::WipeFull => {
                let mode = self.trust_ref()?.mode();
                let intent = WipeIntent::commanded(cmd.action, cmd.seq, id, mode, self.state.caps.full_wipe);
                let seen = SeenCommand {
                    key_id: cmd.key_id,
                    seq: cmd.seq,
                    id,
                    requested: cmd.action,
                    receipt: None,
                    action_id: None,
                };
                if !intent.allowed_by(&self.state.policy) {
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
                    let t = self.trust_mut()?;
                    t.queue_receipt(receipt.clone());
                    t.remember(SeenCommand { receipt: Some(receipt), ..seen });
                    self.commit()?;
                    return Ok(result);
                }
                // The intent goes to disk twice: in the encrypted state (with the command marked
                // as seen) and as a plain marker that survives the key's destruction.
                self.write_wipe_marker(&intent)?;
                if self.fail_point == Some(FailPoint::AfterWipeMarker) {
                    return Err(StateError::FailPoint.into());
                }
                self.state.wipe_intent = Some(intent);
                self.trust_mut()?.remember(seen);
                self.state.audit.append(now, AuditKind::WipeStarted, 1, vec![], "");
                self.commit()?;
                if self.fail_point == Some(FailPoint::AfterWipeIntent) {
                    return Err(StateError::FailPoint.into());
                }
                result.wipe = Some(self.finish_wipe()?);
                result.receipt = wipe::peek_receipt(self.dir());
                return Ok(result);
            }
        }
        let t = self.trust_mut()?;
        if let Some(r) = &result.receipt {
            t.queue_receipt(r.clone());
        }
        result.actions = out.actions;
        let receipt = result.receipt.clone();
        t.remember(SeenCommand { key_id: cmd.key_id, seq: cmd.seq, id, requested: cmd.action, receipt, action_id });
        self.commit()?;
        Ok(result)
    }

    /// Signed receipts not yet delivered to IT, oldest first.
    pub fn queued_receipts(&self) -> Vec<String> {
        self.state.trust.as_ref().map(|t| t.receipts_out().to_vec()).unwrap_or_default()
    }

    /// Marks a receipt as delivered, removing it from the queue.
    pub fn receipt_delivered(&mut self, receipt: &str) -> Result<bool, AgentError> {
        let removed = self.trust_mut()?.receipt_delivered(receipt);
        if removed {
            self.commit()?;
        }
        Ok(removed)
    }
}
