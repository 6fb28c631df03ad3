//! The one error of the FFI, mapped from the core's errors in one place ([`From<AgentError>`]).
//! Messages come from the core, which never puts a phone number in an error.

use crate::remote::WipeScope;
use quietline_core::{
    AgentError, KeyProtectorError as CoreKeyError, NumberError, RegistryError, StoreError, TextError,
};

/// Why a call into Quietline failed. In Kotlin this is `ApiException`, in Swift `ApiError`, in
/// Python `ApiError`; each case carries a `reason` for logs and support, which never contains a
/// phone number. Branch on the case, not on the reason's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum ApiError {
    /// A phone number could not be read, or is an emergency number or short code where a
    /// survivor's number is needed. Show the advocate the input was not accepted.
    #[error("invalid phone number: {reason}")]
    InvalidNumber {
        /// What was wrong, without the number.
        reason: String,
    },
    /// The region code is not an ISO 3166-1 alpha-2 code (such as `US` or `GB`).
    #[error("invalid region: {reason}")]
    InvalidRegion {
        /// What was wrong.
        reason: String,
    },
    /// The policy was refused; the reason names the offending field. The previous policy stays.
    #[error("invalid policy: {reason}")]
    InvalidPolicy {
        /// The field and what is allowed.
        reason: String,
    },
    /// The survivor's contact plan is inconsistent (for example a window that ends before it starts).
    #[error("invalid contact plan: {reason}")]
    InvalidContactPlan {
        /// The field and what is wrong.
        reason: String,
    },
    /// A value from the app could not be used (a time out of range, a local time not `HH:MM`).
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What was wrong.
        reason: String,
    },
    /// The policy forbids this (for example registering survivors on an anonymous hotline).
    #[error("not allowed by policy: {reason}")]
    NotAllowed {
        /// Why.
        reason: String,
    },
    /// The call does not fit the agent's current state.
    #[error("not possible now: {reason}")]
    WrongState {
        /// Why.
        reason: String,
    },
    /// There is no Quietline state in the directory: create the agent first.
    #[error("not initialized: {reason}")]
    NotInitialized {
        /// Details.
        reason: String,
    },
    /// Quietline state already exists in the directory: open it instead of creating it.
    #[error("already initialized: {reason}")]
    AlreadyInitialized {
        /// Details.
        reason: String,
    },
    /// The platform key store is unavailable for now (for example before the first unlock).
    /// Nothing was changed; retry later.
    #[error("key store unavailable: {reason}")]
    KeyStoreUnavailable {
        /// What the key protector reported.
        reason: String,
    },
    /// The protecting key is gone or was invalidated: the stored state cannot be recovered.
    /// The app should wipe and re-enroll.
    #[error("key invalidated: {reason}")]
    KeyInvalidated {
        /// Details.
        reason: String,
    },
    /// The platform key store failed in another way. Nothing was committed.
    #[error("key store failed: {reason}")]
    KeyStoreFailed {
        /// What the key protector reported.
        reason: String,
    },
    /// Reading or writing the state directory failed (disk full, permissions). Nothing was committed.
    #[error("storage failed: {reason}")]
    Storage {
        /// The operation and the OS error kind.
        reason: String,
    },
    /// The stored state is damaged or was altered, or the audit chain is broken.
    #[error("state damaged: {reason}")]
    StateDamaged {
        /// What check failed.
        reason: String,
    },
    /// An acknowledgement named an action id that was never issued.
    #[error("unknown action: {reason}")]
    UnknownAction {
        /// The id.
        reason: String,
    },
    /// A signed object (enrollment bundle, policy, command, root rotation) was refused: not `QL:`
    /// text, damaged, too large, a bad signature, another device or organisation, a role the
    /// signer lacks, a reused sequence number, a rollback, expired or dated in the future. Nothing
    /// was applied. A command that was already applied is not an error: it comes back `Replayed`.
    #[error("refused: {reason}")]
    Untrusted {
        /// Which check failed.
        reason: String,
    },
    /// The agent's data has been wiped (crypto-erased): by a signed wipe command, by the agent
    /// itself under an offline rule, by `wipe()`, or by a wipe a crash interrupted that
    /// `Agent.open` has just finished. The object refuses every further call. If `scope` is set,
    /// the app must now perform that platform wipe (the work profile or the whole phone) and then
    /// deliver the signed receipt from `takeWipeReceipt(dir)`; the device must be enrolled again.
    #[error("wiped: {reason}")]
    Wiped {
        /// Details.
        reason: String,
        /// The platform wipe the app still has to perform; `null` when only the agent's own data
        /// was concerned (after `wipe()`), so there is nothing more to wipe.
        scope: Option<WipeScope>,
    },
    /// A bug inside Quietline (a caught panic). The agent refuses further calls: open it again
    /// from its directory, where the last committed state is intact.
    #[error("internal error: {reason}")]
    Internal {
        /// Details for a bug report.
        reason: String,
    },
}

impl From<AgentError> for ApiError {
    fn from(e: AgentError) -> Self {
        let reason = e.to_string();
        match e {
            AgentError::Number(NumberError::UnknownRegion(_)) => ApiError::InvalidRegion { reason },
            AgentError::Number(_) => ApiError::InvalidNumber { reason },
            AgentError::Policy(_) => ApiError::InvalidPolicy { reason },
            AgentError::Registry(RegistryError::AnonymousHotline) => ApiError::NotAllowed { reason },
            AgentError::Registry(RegistryError::BadPlan { .. }) => ApiError::InvalidContactPlan { reason },
            AgentError::Registry(RegistryError::Damaged) => ApiError::StateDamaged { reason },
            AgentError::Store(s) => ApiError::from(s),
            AgentError::StateDamaged(_) | AgentError::Audit(_) => ApiError::StateDamaged { reason },
            AgentError::UnknownAction(_) => ApiError::UnknownAction { reason },
            AgentError::WrongState(_) => ApiError::WrongState { reason },
            AgentError::Trust(_) => ApiError::Untrusted { reason },
            AgentError::Text(TextError::Full { .. }) => ApiError::WrongState { reason },
            AgentError::Text(_) => ApiError::InvalidInput { reason },
            AgentError::Wiped { scope } => ApiError::Wiped { reason, scope: Some(scope) },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let reason = e.to_string();
        match e {
            StoreError::Io { .. } | StoreError::TooLarge => ApiError::Storage { reason },
            StoreError::NotInitialized => ApiError::NotInitialized { reason },
            StoreError::AlreadyInitialized => ApiError::AlreadyInitialized { reason },
            StoreError::Truncated | StoreError::BadMagic | StoreError::UnsupportedVersion(_) | StoreError::Corrupt => {
                ApiError::StateDamaged { reason }
            }
            StoreError::Key(CoreKeyError::Unavailable(_)) => ApiError::KeyStoreUnavailable { reason },
            StoreError::Key(CoreKeyError::KeyInvalidated) => ApiError::KeyInvalidated { reason },
            StoreError::Key(CoreKeyError::Failed(_)) => ApiError::KeyStoreFailed { reason },
            StoreError::Wiped => ApiError::Wiped { reason, scope: None },
        }
    }
}

impl ApiError {
    pub(crate) fn input(reason: impl Into<String>) -> Self {
        ApiError::InvalidInput { reason: reason.into() }
    }
}
