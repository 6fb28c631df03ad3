//! The wire format of every signed object, byte for byte (docs/wire-format.md says the same
//! in prose). All integers are big-endian; times are unix seconds (u32); text transport is
//! `QL:` followed by unpadded base64url of the bytes, so a command fits one GSM-7 SMS.
//!
//! Every object starts with `"QL"`, version `0x01`, and a type byte. Fixed-size objects
//! (command, receipt, enrollment response) end with one Ed25519 signature over every byte
//! before it. Container objects (policy, root rotation, enrollment bundle) are
//! `header(4) · body_len u32 · body (JSON) · n u8 · n × (key_id[8] · signature[64])`, each
//! signature over the header, length and body.

use crate::frame::{expect_type, head, wire_enum, Reader};
pub use crate::frame::{
    from_text, header, hex, key_id, to_text, unhex, version_of, ObjType, WireError, CHECKIN_ACK_LEN, COMMAND_LEN,
    ENROLL_RESPONSE_LEN, KEY_ID_LEN, MAX_BODY, MAX_SIGS, MAX_TEXT, RECEIPT_LEN, SIG_LEN, TEXT_PREFIX, VERSION,
};
use ring::digest;

wire_enum! {
    /// What a command asks for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum CommandAction {
        /// Lock the screen now.
        Lock = 1,
        /// Selective wipe: the agent's data and the work profile.
        WipeSelective = 2,
        /// Whole-phone wipe (performed as selective on `byod`).
        WipeFull = 3,
        /// Purge survivor data.
        PurgeSurvivorData = 4,
        /// Liveness check: the device answers with a receipt.
        Ping = 5,
    }
}

/// A decoded command (signature not yet checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Target device id.
    pub device_id: [u8; 8],
    /// Target enrollment.
    pub enrollment_id: [u8; 4],
    /// Sequence number, strictly increasing per enrollment.
    pub seq: u32,
    /// Issue time.
    pub issued_at: u32,
    /// Expiry.
    pub expires_at: u32,
    /// What to do.
    pub action: CommandAction,
    /// Signing staff key's id.
    pub key_id: [u8; 8],
    /// Signature over the first 37 bytes.
    pub signature: [u8; SIG_LEN],
}

/// Bytes covered by a command's signature.
pub const COMMAND_SIGNED_LEN: usize = COMMAND_LEN - SIG_LEN;

impl Command {
    /// The signed part.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut b = head(ObjType::Command);
        b.extend_from_slice(&self.device_id);
        b.extend_from_slice(&self.enrollment_id);
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&self.issued_at.to_be_bytes());
        b.extend_from_slice(&self.expires_at.to_be_bytes());
        b.push(self.action.to_u8());
        b.extend_from_slice(&self.key_id);
        b
    }
    /// All 101 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.signed_bytes();
        b.extend_from_slice(&self.signature);
        b
    }
    /// The command's id: the first 16 bytes of SHA-256 of its signed part. A re-encoded or
    /// re-signed copy of the same command has the same id.
    pub fn id(&self) -> [u8; 16] {
        let d = digest::digest(&digest::SHA256, &self.signed_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&d.as_ref()[..16]);
        out
    }
    /// Decodes exactly 101 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, WireError> {
        expect_type(b, ObjType::Command)?;
        let mut r = Reader { b, at: 4 };
        Ok(Command {
            device_id: r.arr()?,
            enrollment_id: r.arr()?,
            seq: r.u32()?,
            issued_at: r.u32()?,
            expires_at: r.u32()?,
            action: CommandAction::from_u8(r.u8()?).ok_or(WireError::BadField("action"))?,
            key_id: r.arr()?,
            signature: r.arr()?,
        })
    }
}

wire_enum! {
    /// What happened with a command, in a receipt.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ReceiptOutcome {
        /// Done as asked.
        Done = 1,
        /// Refused (role, policy or mode did not allow it).
        Refused = 2,
        /// Could not be done (rights lost, key store unavailable).
        Failed = 3,
        /// A wipe: the agent's own data is crypto-erased and the platform wipe of `performed`'s
        /// scope has been requested from the app; nothing more was true when it was signed.
        Erased = 4,
    }
}

wire_enum! {
    /// Why, in a receipt.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ReceiptReason {
        /// Nothing to add.
        None = 0,
        /// A full wipe was asked of a personal phone: only the selective wipe was performed.
        ByodSelectiveOnly = 1,
        /// The policy does not allow this wipe scope.
        ScopeNotAllowed = 2,
        /// The platform refused (e.g. device-admin rights lost).
        PlatformRefused = 3,
        /// The key store could not be used.
        KeyStoreUnavailable = 4,
        /// The agent wiped on its own: too long without a check-in.
        OfflineCheckIn = 5,
        /// The agent wiped on its own: too long without an unlock.
        OfflineUnlock = 6,
        /// The agent wiped on its own: too many failed unlock attempts.
        FailedUnlocks = 7,
        /// A full wipe was asked, but the app cannot wipe the whole phone on this platform: only
        /// the selective wipe was performed.
        PlatformSelectiveOnly = 8,
    }
}

wire_enum! {
    /// Which wipe was actually performed, in a receipt.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum PerformedScope {
        /// No wipe.
        None = 0,
        /// Selective.
        Selective = 1,
        /// Full.
        Full = 2,
    }
}

/// A device receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The device.
    pub device_id: [u8; 8],
    /// Its enrollment.
    pub enrollment_id: [u8; 4],
    /// The command's id.
    pub command_id: [u8; 16],
    /// The command's sequence number.
    pub seq: u32,
    /// What was asked.
    pub requested: CommandAction,
    /// What happened.
    pub outcome: ReceiptOutcome,
    /// Which wipe was performed.
    pub performed: PerformedScope,
    /// Why.
    pub reason: ReceiptReason,
    /// When.
    pub at: u32,
    /// Signature by the device key.
    pub signature: [u8; SIG_LEN],
}

impl Receipt {
    /// The signed part.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut b = head(ObjType::Receipt);
        b.extend_from_slice(&self.device_id);
        b.extend_from_slice(&self.enrollment_id);
        b.extend_from_slice(&self.command_id);
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.push(self.requested.to_u8());
        b.push(self.outcome.to_u8());
        b.push(self.performed.to_u8());
        b.push(self.reason.to_u8());
        b.extend_from_slice(&self.at.to_be_bytes());
        b
    }
    /// All 108 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.signed_bytes();
        b.extend_from_slice(&self.signature);
        b
    }
    /// Decodes exactly 108 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, WireError> {
        expect_type(b, ObjType::Receipt)?;
        let mut r = Reader { b, at: 4 };
        Ok(Receipt {
            device_id: r.arr()?,
            enrollment_id: r.arr()?,
            command_id: r.arr()?,
            seq: r.u32()?,
            requested: CommandAction::from_u8(r.u8()?).ok_or(WireError::BadField("requested"))?,
            outcome: ReceiptOutcome::from_u8(r.u8()?).ok_or(WireError::BadField("outcome"))?,
            performed: PerformedScope::from_u8(r.u8()?).ok_or(WireError::BadField("performed"))?,
            reason: ReceiptReason::from_u8(r.u8()?).ok_or(WireError::BadField("reason"))?,
            at: r.u32()?,
            signature: r.arr()?,
        })
    }
}

/// A device's enrollment response: its public key, self-signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollResponse {
    /// The device.
    pub device_id: [u8; 8],
    /// The enrollment.
    pub enrollment_id: [u8; 4],
    /// The device's Ed25519 public key.
    pub device_key: [u8; 32],
    /// When.
    pub at: u32,
    /// HMAC-SHA256 under the bundle's `enroll_secret` over bytes 0..52: proves the response
    /// comes from the phone that scanned the bundle (not from the relay).
    pub binding: [u8; 32],
    /// Signature by the device key over bytes 0..84 (proof of possession).
    pub signature: [u8; SIG_LEN],
}

impl EnrollResponse {
    /// Bytes 0..52, which the binding covers.
    pub fn bound_bytes(&self) -> Vec<u8> {
        let mut b = head(ObjType::EnrollResponse);
        b.extend_from_slice(&self.device_id);
        b.extend_from_slice(&self.enrollment_id);
        b.extend_from_slice(&self.device_key);
        b.extend_from_slice(&self.at.to_be_bytes());
        b
    }
    /// The signed part: bytes 0..84.
    pub fn signed_bytes(&self) -> Vec<u8> {
        [self.bound_bytes(), self.binding.to_vec()].concat()
    }
    /// All 148 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.signed_bytes();
        b.extend_from_slice(&self.signature);
        b
    }
    /// Decodes exactly 148 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, WireError> {
        expect_type(b, ObjType::EnrollResponse)?;
        let mut r = Reader { b, at: 4 };
        Ok(EnrollResponse {
            device_id: r.arr()?,
            enrollment_id: r.arr()?,
            device_key: r.arr()?,
            at: r.u32()?,
            binding: r.arr()?,
            signature: r.arr()?,
        })
    }
}

/// The organisation's signed acknowledgement of one check-in: it names the nonce the phone put
/// in its status report, so only that phone's outstanding check-in can be answered, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinAck {
    /// The device.
    pub device_id: [u8; 8],
    /// Its enrollment.
    pub enrollment_id: [u8; 4],
    /// The `nonce` of the status report it answers.
    pub nonce: [u8; 16],
    /// Issue time.
    pub issued_at: u32,
    /// Expiry.
    pub expires_at: u32,
    /// The signing staff key's id (a key with only the `checkin` role).
    pub key_id: [u8; 8],
    /// Signature over bytes 0..48.
    pub signature: [u8; SIG_LEN],
}

impl CheckinAck {
    /// The signed part: bytes 0..48.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut b = head(ObjType::CheckinAck);
        b.extend_from_slice(&self.device_id);
        b.extend_from_slice(&self.enrollment_id);
        b.extend_from_slice(&self.nonce);
        b.extend_from_slice(&self.issued_at.to_be_bytes());
        b.extend_from_slice(&self.expires_at.to_be_bytes());
        b.extend_from_slice(&self.key_id);
        b
    }
    /// All 112 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.signed_bytes();
        b.extend_from_slice(&self.signature);
        b
    }
    /// Decodes exactly 112 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, WireError> {
        expect_type(b, ObjType::CheckinAck)?;
        let mut r = Reader { b, at: 4 };
        Ok(CheckinAck {
            device_id: r.arr()?,
            enrollment_id: r.arr()?,
            nonce: r.arr()?,
            issued_at: r.u32()?,
            expires_at: r.u32()?,
            key_id: r.arr()?,
            signature: r.arr()?,
        })
    }
}

/// A signed container (policy, root rotation, enrollment bundle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// Its type.
    pub kind: ObjType,
    /// The JSON body.
    pub body: Vec<u8>,
    /// Signatures: (key id, signature).
    pub signatures: Vec<([u8; KEY_ID_LEN], [u8; SIG_LEN])>,
}

impl Container {
    /// The bytes every signature covers.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut b = head(self.kind);
        b.extend_from_slice(&(self.body.len() as u32).to_be_bytes());
        b.extend_from_slice(&self.body);
        b
    }
    /// The whole object. A body over [`MAX_BODY`] or more than [`MAX_SIGS`] signatures cannot be
    /// encoded (a device would refuse it), so they are errors here rather than silent wraps.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        if self.body.len() > MAX_BODY {
            return Err(WireError::TooLarge(self.body.len()));
        }
        if self.signatures.len() > MAX_SIGS {
            return Err(WireError::BadField("signature count"));
        }
        let mut b = self.signed_bytes();
        b.push(self.signatures.len() as u8);
        for (k, s) in &self.signatures {
            b.extend_from_slice(k);
            b.extend_from_slice(s);
        }
        Ok(b)
    }
    /// Decodes a container of the given type; sizes are checked before anything is copied.
    pub fn from_bytes(b: &[u8], kind: ObjType) -> Result<Self, WireError> {
        expect_type(b, kind)?;
        let mut r = Reader { b, at: 4 };
        let len = r.u32()? as usize;
        if len > MAX_BODY {
            return Err(WireError::TooLarge(len));
        }
        let body = r.take(len)?.to_vec();
        let n = r.u8()? as usize;
        if n > MAX_SIGS {
            return Err(WireError::BadField("signature count"));
        }
        let mut signatures = Vec::with_capacity(n);
        for _ in 0..n {
            signatures.push((r.arr()?, r.arr()?));
        }
        if r.at != b.len() {
            return Err(WireError::Trailing);
        }
        Ok(Container { kind, body, signatures })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte decodes to at most one variant, which encodes back to that byte, and every
    /// variant decodes from its own byte.
    fn table_round_trips<T: Copy + PartialEq + std::fmt::Debug>(
        all: &[T],
        to: impl Fn(T) -> u8,
        from: impl Fn(u8) -> Option<T>,
    ) {
        for &v in all {
            assert_eq!(from(to(v)), Some(v));
        }
        let named = (0..=255u8).filter(|&b| from(b).is_some_and(|v| to(v) == b)).count();
        assert_eq!(named, all.len(), "exactly the table's bytes decode");
    }

    #[test]
    fn each_wire_enum_encodes_and_decodes_from_one_table() {
        table_round_trips(ObjType::ALL, ObjType::to_u8, ObjType::from_u8);
        table_round_trips(CommandAction::ALL, CommandAction::to_u8, CommandAction::from_u8);
        table_round_trips(ReceiptOutcome::ALL, ReceiptOutcome::to_u8, ReceiptOutcome::from_u8);
        table_round_trips(ReceiptReason::ALL, ReceiptReason::to_u8, ReceiptReason::from_u8);
        table_round_trips(PerformedScope::ALL, PerformedScope::to_u8, PerformedScope::from_u8);
        assert_eq!(CommandAction::from_u8(0), None);
        assert_eq!(ReceiptReason::PlatformSelectiveOnly.to_u8(), 8);
    }
}
