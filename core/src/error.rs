//! The agent's error: one enum at the boundary of the core, mapped from each module's own.

use crate::actions::{ActionId, WipeScope};
use crate::audit::AuditError;
use crate::numbers::NumberError;
use crate::policy::PolicyError;
use crate::registry::RegistryError;
use crate::store::StoreError;
use crate::trust::TrustError;
use crate::wire::WireError;

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
    WrongState(#[from] StateError),
    /// A signed object was refused.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// This agent's data has been wiped (crypto-erased); the app must now perform the
    /// platform wipe of this scope and deliver the receipt from `take_wipe_receipt`.
    #[error("this agent has been wiped ({scope:?})")]
    Wiped {
        /// The wipe the app must perform.
        scope: WipeScope,
    },
}

/// Why an operation does not fit the agent's state.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// An empty path would put the state in whatever the working directory happens to be.
    #[error("the state directory must be given")]
    NoDirectory,
    /// Trust operations (signed policies, commands, receipts) need an enrolled device.
    #[error("this device is not enrolled")]
    NotEnrolled,
    /// An enrolled agent's policies arrive signed; an unsigned one would bypass the trust checks.
    #[error("an enrolled agent installs only signed policies")]
    SignedPoliciesOnly,
    /// A test fail point stopped the operation, as a crash would.
    #[error("stopped at fail point")]
    FailPoint,
    /// A wipe was to be finished but none was intended.
    #[error("no wipe intended")]
    NoWipeIntended,
    /// A command arrived before the app declared what its platform can do: a receipt signed
    /// now could not say honestly which wipe is possible. Nothing was applied or remembered;
    /// declare the capabilities (`set_platform_caps`) and hand the command in again.
    #[error("the app has not declared its platform's capabilities (set_platform_caps) yet")]
    CapsNotDeclared,
}

impl From<WireError> for AgentError {
    fn from(e: WireError) -> Self {
        AgentError::Trust(e.into())
    }
}
