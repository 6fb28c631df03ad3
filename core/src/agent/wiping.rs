//! The agent's side of the wipe lifecycle: commit the intent, erase, sign the receipt, leave it
//! for the app; and, on open, finish a wipe that a crash interrupted. What a wipe is and how its
//! marker and receipt look on disk is `crate::wipe`.

use super::Agent;
use crate::actions::{ActionKind, WipeScope};
use crate::audit::AuditKind;
use crate::clock::Clock;
use crate::error::{AgentError, StateError};
use crate::event::Outcome;
use crate::offline::OfflineRule;
use crate::store::{self, KeyProtector};
use crate::wipe::{self, FailPoint, Marker, WipeIntent};
use chrono::{DateTime, Utc};
use std::path::Path;
use std::sync::Arc;

impl Agent {
    /// Finishes a wipe that a crash interrupted, if one was intended in `dir`. Returns the scope.
    pub(super) fn resume_wipe_if_intended(
        dir: &Path,
        protector: &Arc<dyn KeyProtector>,
        clock: &Arc<dyn Clock>,
    ) -> Result<Option<WipeScope>, AgentError> {
        let marker = wipe::read_marker(dir);
        if matches!(marker, Marker::Absent) {
            return Ok(None);
        }
        // Open what can still be opened to check the marker and sign the receipt.
        match Agent::open_ignoring_intent(dir, protector.clone(), clock.clone()) {
            Ok(mut agent) => {
                if agent.state.wipe_intent.is_none() {
                    // A crash came between writing the marker and committing the intent: the
                    // command had been verified before the marker was written, so a marker that
                    // carries this agent's tag is the intent. Any other marker (unreadable, or
                    // written by someone with file access) is not an instruction.
                    match marker {
                        Marker::Intent { intent, signed, tag } if agent.journal.check_tag(&signed, &tag) => {
                            agent.state.wipe_intent = Some(intent)
                        }
                        _ => {
                            wipe::clear_marker(dir);
                            return Ok(None);
                        }
                    }
                }
                let scope = agent.finish_wipe()?;
                Ok(Some(scope))
            }
            // The key store is only unavailable for now (e.g. before first unlock): erase
            // nothing, and let the app open the agent again later.
            Err(AgentError::Store(store::StoreError::Key(e))) if e.is_retriable() => {
                Err(AgentError::Store(store::StoreError::Key(e)))
            }
            Err(_) => {
                // The state can no longer be decrypted (the key is gone), so nothing in it can
                // be lost: finish erasing the files, without a receipt (never a claim we cannot
                // sign). The marker cannot be checked, so it never asks for more than the
                // selective wipe.
                let _ = store::wipe_dir(dir, protector.as_ref());
                wipe::clear_marker(dir);
                Ok(Some(WipeScope::Selective))
            }
        }
    }

    /// Crypto-erases this agent after a committed wipe intent, writes the signed receipt for the
    /// app to deliver, and returns the scope the app must now wipe on the platform.
    pub(super) fn finish_wipe(&mut self) -> Result<WipeScope, AgentError> {
        let mut intent = self.state.wipe_intent.clone().ok_or(AgentError::from(StateError::NoWipeIntended))?;
        if self.state.policy.mode == crate::policy::Mode::Byod && intent.scope == WipeScope::Full {
            // Never more than the enrolled mode allows, whatever asked for it.
            intent.scope = WipeScope::Selective;
            self.state.wipe_intent = Some(intent.clone());
        }
        let Some(trust) = self.state.trust.clone() else {
            // Not enrolled: nobody to send a receipt to; erase all the same.
            self.erase_store()?;
            wipe::clear_marker(self.dir());
            return Ok(intent.scope);
        };
        let now = self.clock.now();
        let erased = self.erase_store();
        let (outcome, performed, reason) = intent.receipt_terms(erased.is_ok());
        let receipt =
            trust.sign_receipt(intent.command_id, intent.seq, intent.requested, outcome, performed, reason, now)?;
        wipe::leave_receipt(self.dir(), &receipt)?;
        wipe::clear_marker(self.dir());
        erased?;
        Ok(intent.scope)
    }

    fn erase_store(&mut self) -> Result<(), AgentError> {
        let scope = self.state.wipe_intent.as_ref().map(|i| i.scope).unwrap_or(WipeScope::Selective);
        self.wiped = Some(scope);
        self.journal.erase()
    }

    /// A wipe the agent decides on its own (an offline rule fired): the same intent, erase and
    /// signed receipt as a commanded wipe, naming the rule.
    pub(super) fn offline_wipe(
        &mut self,
        out: &mut Outcome,
        rule: OfflineRule,
        now: DateTime<Utc>,
    ) -> Result<(), AgentError> {
        let scope = WipeIntent::own_scope(&self.state.policy, self.state.caps.full_wipe);
        out.push(&mut self.state.outbox, ActionKind::Wipe { scope }, now, now);
        self.state.audit.append(now, AuditKind::WipeStarted, 1, vec![], &format!("{rule:?}"));
        let intent = WipeIntent::own(scope, rule.receipt_reason());
        self.write_wipe_marker(&intent)?;
        self.state.wipe_intent = Some(intent);
        self.commit()?;
        self.finish_wipe().map(|_| ())
    }

    /// Writes the wipe marker with this agent's tag.
    pub(super) fn write_wipe_marker(&self, intent: &WipeIntent) -> Result<(), AgentError> {
        let signed = wipe::intent_bytes(intent)?;
        let tag = self.journal.tag(&signed)?;
        wipe::write_marker(self.dir(), &signed, &tag)
    }

    /// Sets a test fail point.
    #[doc(hidden)]
    pub fn set_fail_point(&mut self, fp: Option<FailPoint>) {
        self.fail_point = fp;
    }
}
