//! The agent's error: one enum at the boundary of the core, mapped from each module's own.

use crate::actions::{ActionId, WipeScope};
use crate::audit::AuditError;
use crate::numbers::NumberError;
use crate::policy::PolicyError;
use crate::registry::RegistryError;
use crate::store::StoreError;
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
    /// A survivor's text could not be held, or a held text could not be used.
    #[error(transparent)]
    Text(#[from] crate::texts::TextError),
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

/// Why a signed object was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TrustError {
    /// The bytes or text are malformed.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The JSON body does not match the schema.
    #[error("signed body field `{field}`: {reason}")]
    BadBody {
        /// The field path.
        field: String,
        /// What was wrong.
        reason: String,
    },
    /// The rules inside are invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// No signature verifies.
    #[error("signature does not verify")]
    BadSignature,
    /// Not signed at all.
    #[error("object carries no signature")]
    Unsigned,
    /// Signed by a key this device does not trust.
    #[error("signed by an unknown key")]
    UnknownSigner,
    /// The signing staff key's roles do not allow this.
    #[error("the signing key's role does not allow `{0}`")]
    RoleNotAllowed(String),
    /// Not enough distinct trusted keys signed.
    #[error("threshold not met: {got} of {need} required signatures")]
    ThresholdNotMet {
        /// Required.
        need: usize,
        /// Valid distinct signatures found.
        got: usize,
    },
    /// Meant for another device.
    #[error("addressed to another device")]
    WrongDevice,
    /// Meant for an earlier or later enrollment of this device.
    #[error("addressed to another enrollment")]
    WrongEnrollment,
    /// Issued by another organisation.
    #[error("issued by another organisation")]
    WrongOrg,
    /// Past its expiry (by the latest time this device has seen).
    #[error("expired")]
    Expired,
    /// Issued further in the future than the allowed skew.
    #[error("issued in the future beyond the allowed clock skew")]
    FutureDated,
    /// Lives longer than allowed.
    #[error("lifetime longer than allowed")]
    LifetimeTooLong,
    /// Older than what is installed.
    #[error("rollback: version {got} is older than installed version {installed}")]
    Rollback {
        /// Installed version.
        installed: u64,
        /// Offered version.
        got: u64,
    },
    /// Same version as installed but different content.
    #[error("version {0} is already installed with different content")]
    SameVersionDifferentContent(u64),
    /// A root rotation that skips a version.
    #[error("root rotation must be version {expected}, got {got}")]
    RotationGap {
        /// The only acceptable version.
        expected: u64,
        /// Offered.
        got: u64,
    },
    /// A command sequence number that was already used or is too old.
    #[error("command sequence {0} was already used or is too old")]
    SequenceReused(u32),
    /// The policy's mode differs from the enrollment's.
    #[error("policy mode does not match the enrolled mode")]
    ModeMismatch,
    /// A staff-signed policy may not change the staff list.
    #[error("a staff-signed policy may not change staff keys")]
    StaffEscalation,
    /// A staff-signed policy may only renew or tighten the installed one.
    #[error("a staff-signed policy may not weaken `{0}`: only the root may")]
    StaffWeakening(String),
    /// A command sequence number far above the signing key's last one.
    #[error("command sequence {got} jumps too far past this key's last one ({last})")]
    SequenceJump {
        /// The key's last sequence number.
        last: u32,
        /// Offered.
        got: u32,
    },
    /// A policy version far above the installed one.
    #[error("policy version {got} jumps too far past the installed version {installed}")]
    VersionJump {
        /// Installed version.
        installed: u64,
        /// Offered.
        got: u64,
    },
    /// A key is malformed.
    #[error("malformed key")]
    BadKey,
    /// An enrollment response that does not prove knowledge of the bundle's secret.
    #[error("the enrollment response is not bound to this bundle (a substituted device key?)")]
    NotBoundToBundle,
    /// A check-in acknowledgement that answers no outstanding check-in of this phone: replayed,
    /// for another report, or too late.
    #[error("the check-in acknowledgement answers no outstanding check-in (replayed, another nonce or expired)")]
    NotOutstanding,
}
