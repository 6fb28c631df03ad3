//! One error type for the CLI: every message names the file or argument at fault, and none
//! ever carries key material.

use quietline_core::{trust::TrustError, wire::WireError, PolicyError};
use std::path::Path;

/// Why a `quietline-admin` command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The command line did not parse (clap's own message, with usage).
    #[error("{0}")]
    Usage(String),
    /// A command group was given without a subcommand: its help, for stderr.
    #[error("{0}")]
    Help(String),
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The OS's reason.
        reason: String,
    },
    /// keygen never overwrites a key.
    #[error("{0} already exists; refusing to overwrite a key file")]
    KeyExists(String),
    /// A private key file is not a PKCS#8 Ed25519 key.
    #[error("{0}: not an Ed25519 private key file (PKCS#8, as written by `keygen`)")]
    BadKeyFile(String),
    /// A public key file is not 64 hex characters.
    #[error("{0}: not an Ed25519 public key file (64 hex characters, as written by `keygen`)")]
    BadPublicKey(String),
    /// The rules JSON is invalid; the message names the field.
    #[error("{path}: {source}")]
    BadRules {
        /// The rules file.
        path: String,
        /// What is wrong, by field.
        source: PolicyError,
    },
    /// An argument's value is invalid.
    #[error("{0}")]
    BadArg(String),
    /// A device record (DEVICE.json) is invalid.
    #[error("{path}: invalid device record: {reason}")]
    BadDeviceRecord {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A signed object could not be decoded or built.
    #[error("{context}: {source}")]
    Trust {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: TrustError,
    },
    /// A signed object was checked and is not acceptable.
    #[error("rejected: {0}")]
    Rejected(String),
    /// A file holds something other than what the command needs, or nothing at all; the reason
    /// says what it holds, in IT staff's words.
    #[error("{path}: {reason}")]
    File {
        /// The file (or argument).
        path: String,
        /// What it holds instead, and what to give.
        reason: String,
    },
    /// The policy goes against the field's guidance; each line names the rule.
    #[error("{path}: the policy goes against the guidance, and phones would refuse it:\n{findings}")]
    AgainstGuidance {
        /// The rules or policy file.
        path: String,
        /// One finding per line.
        findings: String,
    },
    /// The QR code could not be drawn.
    #[error("cannot draw the QR code: {0}")]
    Qr(String),
}

impl AdminError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, e: std::io::Error) -> Self {
        AdminError::Io { path: path.display().to_string(), reason: e.to_string() }
    }

    /// A trust error with context.
    pub fn trust(context: impl Into<String>, source: impl Into<TrustError>) -> Self {
        let (context, source) = (context.into(), source.into());
        // "unexpected object type 2" means nothing to IT staff: say what the object is.
        if let TrustError::Wire(WireError::WrongType(t)) = source {
            let reason = match quietline_core::wire::ObjType::from_u8(t) {
                Some(kind) => format!("this is {}, not what this command reads", crate::kinds::kind_name(kind)),
                None => "this is no kind of Quietline object (unknown type)".into(),
            };
            return AdminError::File { path: context, reason };
        }
        if let TrustError::Wire(WireError::Truncated | WireError::BadEncoding) = source {
            let reason = "it is cut short or damaged (was it copied whole?)".to_string();
            return AdminError::File { path: context, reason };
        }
        AdminError::Trust { context, source }
    }
}

impl From<WireError> for AdminError {
    fn from(e: WireError) -> Self {
        AdminError::trust("not a valid Quietline object", e)
    }
}
