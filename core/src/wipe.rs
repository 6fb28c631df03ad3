//! The wipe lifecycle, apart from the agent that runs it: the intent (what is to be wiped and
//! why), the plain marker that lets a wipe interrupted by a crash resume even after the data key
//! is gone, the terms of the signed receipt, and the receipt file left for the app to deliver.
//! The agent commits the intent, erases, signs and writes (see `agent::wiping`).

use crate::actions::WipeScope;
use crate::error::AgentError;
use crate::policy::{Mode, Policy};
use crate::store::{self, StoreError};
use crate::wire::{CommandAction, PerformedScope, ReceiptOutcome, ReceiptReason};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Marker written before a wipe starts, outside the encrypted state, so that a wipe
/// interrupted by a crash resumes even if the state can no longer be decrypted.
pub const WIPE_INTENT_FILE: &str = "wipe.intent";
/// The signed receipt of a wipe, left for the app to deliver after the state is gone.
pub const WIPE_RECEIPT_FILE: &str = "wipe.receipt";

/// The wipe intent, committed before the wipe starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WipeIntent {
    pub(crate) scope: WipeScope,
    pub(crate) reason: ReceiptReason,
    pub(crate) requested: CommandAction,
    pub(crate) seq: u32,
    pub(crate) command_id: [u8; 16],
}

/// Test hooks that stop an operation at a chosen point, as a crash would.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailPoint {
    /// Return right after the wipe intent is committed, before anything is erased.
    AfterWipeIntent,
    /// Return right after the marker is written, before the intent is committed.
    AfterWipeMarker,
}

impl WipeIntent {
    /// The wipe a verified command asks for, as this phone may perform it: a personal phone is
    /// only ever wiped selectively, and a platform that cannot wipe whole does a selective wipe
    /// (the receipt says why).
    pub(crate) fn commanded(
        action: CommandAction,
        seq: u32,
        command_id: [u8; 16],
        mode: Mode,
        platform_full_wipe: bool,
    ) -> Self {
        let (scope, reason) = match (action, mode) {
            (CommandAction::WipeFull, Mode::Byod) => (WipeScope::Selective, ReceiptReason::ByodSelectiveOnly),
            (CommandAction::WipeFull, Mode::Work) if !platform_full_wipe => {
                (WipeScope::Selective, ReceiptReason::PlatformSelectiveOnly)
            }
            (CommandAction::WipeFull, Mode::Work) => (WipeScope::Full, ReceiptReason::None),
            _ => (WipeScope::Selective, ReceiptReason::None),
        };
        WipeIntent { scope, reason, requested: action, seq, command_id }
    }

    /// A wipe the agent decides on its own (an offline rule): no command, so no sequence or id.
    pub(crate) fn own(scope: WipeScope, reason: ReceiptReason) -> Self {
        let requested = match scope {
            WipeScope::Full => CommandAction::WipeFull,
            WipeScope::Selective => CommandAction::WipeSelective,
        };
        WipeIntent { scope, reason, requested, seq: 0, command_id: [0; 16] }
    }

    /// The widest wipe the agent may decide on its own under `policy`.
    pub(crate) fn own_scope(policy: &Policy, platform_full_wipe: bool) -> WipeScope {
        match policy.mode {
            Mode::Work if policy.full_wipe_allowed() && platform_full_wipe => WipeScope::Full,
            _ => WipeScope::Selective,
        }
    }

    /// Whether the policy allows this wipe's scope.
    pub(crate) fn allowed_by(&self, policy: &Policy) -> bool {
        match self.scope {
            WipeScope::Selective => policy.wipe.allow_selective,
            WipeScope::Full => policy.full_wipe_allowed(),
        }
    }

    /// What the receipt says once the erase was tried: the agent's data erased and the platform
    /// wipe of the scope requested (signed before the app even tries it, so never "done"), or
    /// failed because the key store refused (never a claim of a wipe that did not happen).
    pub(crate) fn receipt_terms(&self, erased: bool) -> (ReceiptOutcome, PerformedScope, ReceiptReason) {
        if !erased {
            return (ReceiptOutcome::Failed, PerformedScope::None, ReceiptReason::KeyStoreUnavailable);
        }
        let performed = match self.scope {
            WipeScope::Selective => PerformedScope::Selective,
            WipeScope::Full => PerformedScope::Full,
        };
        (ReceiptOutcome::Erased, performed, self.reason)
    }
}

/// The marker found in a state directory.
pub(crate) enum Marker {
    /// No wipe was intended.
    Absent,
    /// A marker is there but cannot be read.
    Unreadable,
    /// A wipe was intended, if `tag` is the agent's tag over `signed` (the intent's bytes).
    Intent { intent: WipeIntent, signed: Vec<u8>, tag: Vec<u8> },
}

/// The marker on disk: the intent and the agent's tag over its bytes, so that a marker written
/// by anyone else (someone with file access) is not an instruction.
#[derive(Serialize, Deserialize)]
struct MarkerFile {
    intent: String,
    tag: String,
}

/// The bytes of an intent that the marker's tag covers.
pub(crate) fn intent_bytes(intent: &WipeIntent) -> Result<Vec<u8>, AgentError> {
    serde_json::to_vec(intent).map_err(|e| AgentError::StateDamaged(e.to_string()))
}

/// Writes the marker (before the intent is committed in the encrypted state): the intent's
/// bytes and the agent's `tag` over them.
pub(crate) fn write_marker(dir: &Path, signed: &[u8], tag: &[u8; 32]) -> Result<(), AgentError> {
    let m = MarkerFile { intent: String::from_utf8_lossy(signed).into_owned(), tag: crate::hex::hex(tag) };
    let marker = serde_json::to_vec(&m).map_err(|e| AgentError::StateDamaged(e.to_string()))?;
    Ok(store::write_atomic(&dir.join(WIPE_INTENT_FILE), &marker)?)
}

/// Reads the marker in `dir` (its tag is checked by the agent, which holds the key).
pub(crate) fn read_marker(dir: &Path) -> Marker {
    let Ok(text) = std::fs::read(dir.join(WIPE_INTENT_FILE)) else { return Marker::Absent };
    let Ok(m) = serde_json::from_slice::<MarkerFile>(&text) else { return Marker::Unreadable };
    let (Ok(intent), Some(tag)) = (serde_json::from_str(&m.intent), crate::hex::unhex::<32>(&m.tag)) else {
        return Marker::Unreadable;
    };
    Marker::Intent { intent, signed: m.intent.into_bytes(), tag: tag.to_vec() }
}

/// Removes the marker once the wipe is over (or it proved not to be an instruction).
pub(crate) fn clear_marker(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(WIPE_INTENT_FILE));
}

/// Leaves the signed receipt for the app.
pub(crate) fn leave_receipt(dir: &Path, receipt: &str) -> Result<(), StoreError> {
    store::write_atomic(&dir.join(WIPE_RECEIPT_FILE), receipt.as_bytes())
}

/// The receipt a wipe left, without taking it.
pub(crate) fn peek_receipt(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(WIPE_RECEIPT_FILE)).ok().map(|s| s.trim().to_string())
}

/// Takes the signed receipt a wipe left behind (once), for the app to deliver.
pub fn take_wipe_receipt(dir: &Path) -> Option<String> {
    let p = dir.join(WIPE_RECEIPT_FILE);
    let s = std::fs::read_to_string(&p).ok()?;
    let _ = std::fs::remove_file(&p);
    Some(s.trim().to_string())
}
