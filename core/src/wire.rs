//! The wire format of every signed object, byte for byte (docs/wire-format.md says the same
//! in prose). All integers are big-endian; times are unix seconds (u32); text transport is
//! `QL:` followed by unpadded base64url of the bytes, so a command fits one GSM-7 SMS.
//!
//! Every object starts with `"QL"`, version `0x01`, and a type byte. Fixed-size objects
//! (command, receipt, enrollment response) end with one Ed25519 signature over every byte
//! before it. Container objects (policy, root rotation, enrollment bundle) are
//! `header(4) · body_len u32 · body (JSON) · n u8 · n × (key_id[8] · signature[64])`, each
//! signature over the header, length and body.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::digest;

pub use crate::hex::{hex, unhex};

/// Text prefix of every Quietline object.
pub const TEXT_PREFIX: &str = "QL:";
/// Wire version.
pub const VERSION: u8 = 1;
/// Largest text accepted before decoding (the largest container plus base64 overhead).
pub const MAX_TEXT: usize = 96 * 1024;
/// Largest container body.
pub const MAX_BODY: usize = 64 * 1024;
/// Most signatures on a container.
pub const MAX_SIGS: usize = 16;
/// Ed25519 signature length.
pub const SIG_LEN: usize = 64;
/// Key id length: the first 8 bytes of SHA-256 of the public key.
pub const KEY_ID_LEN: usize = 8;

/// Declares a wire enum from one table of variants and byte values: the enum itself, `to_u8`
/// for encoding, `from_u8` for decoding and `ALL`, so that encoding and decoding cannot drift.
macro_rules! wire_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident = $b:literal,)+ }) => {
        $(#[$m])*
        #[repr(u8)]
        pub enum $name { $($(#[$vm])* $v = $b,)+ }

        impl $name {
            /// Every variant, in table order.
            pub const ALL: &'static [$name] = &[$($name::$v,)+];

            /// The wire byte.
            pub const fn to_u8(self) -> u8 {
                self as u8
            }

            /// From the wire byte; `None` for a byte the table does not name.
            pub fn from_u8(b: u8) -> Option<Self> {
                match b {
                    $($b => Some($name::$v),)+
                    _ => None,
                }
            }
        }
    };
}

wire_enum! {
    /// Object types.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ObjType {
        /// A staff command (lock, wipe, purge, ping).
        Command = 1,
        /// A signed policy.
        Policy = 2,
        /// A root key rotation.
        Root = 3,
        /// A device receipt.
        Receipt = 4,
        /// A device's enrollment response.
        EnrollResponse = 5,
        /// The admin's enrollment bundle.
        EnrollBundle = 6,
        /// The organisation's acknowledgement of a phone's check-in (type `07` is the status
        /// report, `crate::report`).
        CheckinAck = 8,
    }
}

impl ObjType {
    /// Fixed total length for fixed-size objects.
    pub fn fixed_len(self) -> Option<usize> {
        match self {
            ObjType::Command => Some(COMMAND_LEN),
            ObjType::Receipt => Some(RECEIPT_LEN),
            ObjType::EnrollResponse => Some(ENROLL_RESPONSE_LEN),
            ObjType::CheckinAck => Some(CHECKIN_ACK_LEN),
            _ => None,
        }
    }
}

/// Command length: header 4 + device 8 + enrollment 4 + seq 4 + issued 4 + expires 4 + action 1 + key id 8 + sig 64.
pub const COMMAND_LEN: usize = 101;
/// Receipt length: header 4 + device 8 + enrollment 4 + command id 16 + seq 4 + 4 codes + at 4 + sig 64.
pub const RECEIPT_LEN: usize = 108;
/// Enrollment response length: header 4 + device 8 + enrollment 4 + public key 32 + at 4 + sig 64.
pub const ENROLL_RESPONSE_LEN: usize = 148;

/// Check-in acknowledgement length: header 4 + device 8 + enrollment 4 + nonce 16 + issued 4 +
/// expires 4 + key id 8 + sig 64.
pub const CHECKIN_ACK_LEN: usize = 112;

/// Why bytes or text are not a Quietline object.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The input is larger than any object can be; it was not decoded.
    #[error("input is too large ({0} bytes)")]
    TooLarge(usize),
    /// The text does not start with `QL:`.
    #[error("not a Quietline object (missing QL: prefix)")]
    NoPrefix,
    /// The text is not base64url.
    #[error("not valid base64url")]
    BadEncoding,
    /// Fewer bytes than the object needs.
    #[error("object is truncated")]
    Truncated,
    /// Bytes after the end of the object.
    #[error("object has trailing bytes")]
    Trailing,
    /// Wrong magic or version.
    #[error("unsupported magic or version")]
    BadHeader,
    /// Unknown or unexpected object type.
    #[error("unexpected object type {0}")]
    WrongType(u8),
    /// An object of an older wire version that is no longer accepted.
    #[error(
        "object type {0} uses an older wire version that is no longer accepted: make a new bundle and enroll again"
    )]
    Outdated(u8),
    /// A field holds a value outside its domain.
    #[error("field `{0}` is invalid")]
    BadField(&'static str),
}

/// Encodes bytes as `QL:` text.
pub fn to_text(bytes: &[u8]) -> String {
    format!("{TEXT_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Decodes `QL:` text (surrounding whitespace ignored). Oversized input is rejected first.
pub fn from_text(text: &str) -> Result<Vec<u8>, WireError> {
    if text.len() > MAX_TEXT {
        return Err(WireError::TooLarge(text.len()));
    }
    let t = text.trim();
    let body = t.strip_prefix(TEXT_PREFIX).ok_or(WireError::NoPrefix)?;
    URL_SAFE_NO_PAD.decode(body.as_bytes()).map_err(|_| WireError::BadEncoding)
}

/// Reads the header; returns the type.
pub fn header(bytes: &[u8]) -> Result<ObjType, WireError> {
    if bytes.len() < 4 {
        return Err(WireError::Truncated);
    }
    if &bytes[..2] != b"QL" {
        return Err(WireError::BadHeader);
    }
    let t = ObjType::from_u8(bytes[3]).ok_or(WireError::WrongType(bytes[3]))?;
    match bytes[2].cmp(&version_of(t)) {
        std::cmp::Ordering::Equal => Ok(t),
        std::cmp::Ordering::Less => Err(WireError::Outdated(bytes[3])),
        std::cmp::Ordering::Greater => Err(WireError::BadHeader),
    }
}

/// The wire version of each type: 2 for the enrollment bundle and response (bound to a secret
/// in the bundle since issue 11), 1 for the rest.
pub fn version_of(t: ObjType) -> u8 {
    if matches!(t, ObjType::EnrollResponse | ObjType::EnrollBundle) {
        2
    } else {
        VERSION
    }
}

fn expect_type(bytes: &[u8], t: ObjType) -> Result<(), WireError> {
    let got = header(bytes)?;
    if got != t {
        return Err(WireError::WrongType(got.to_u8()));
    }
    if let Some(n) = t.fixed_len() {
        if bytes.len() < n {
            return Err(WireError::Truncated);
        }
        if bytes.len() > n {
            return Err(WireError::Trailing);
        }
    }
    Ok(())
}

/// The first 8 bytes of SHA-256 of a public key.
pub fn key_id(public_key: &[u8]) -> [u8; KEY_ID_LEN] {
    let d = digest::digest(&digest::SHA256, public_key);
    let mut out = [0u8; KEY_ID_LEN];
    out.copy_from_slice(&d.as_ref()[..KEY_ID_LEN]);
    out
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}
impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.at.checked_add(n).ok_or(WireError::Truncated)?;
        let s = self.b.get(self.at..end).ok_or(WireError::Truncated)?;
        self.at = end;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.arr::<4>()?))
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
}

fn head(t: ObjType) -> Vec<u8> {
    vec![b'Q', b'L', version_of(t), t.to_u8()]
}

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
