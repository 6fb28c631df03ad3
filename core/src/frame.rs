//! The framing every Quietline object shares (docs/wire-format.md, "Framing"): the `QL:` text
//! form, the header (magic, version, type), the object types and their fixed lengths, the
//! errors, and the reader the object decoders in [`crate::wire`] use.

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
pub(crate) use wire_enum;

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

pub(crate) fn expect_type(bytes: &[u8], t: ObjType) -> Result<(), WireError> {
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

/// Reads fixed fields in order, never past the end.
pub(crate) struct Reader<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) at: usize,
}
impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.at.checked_add(n).ok_or(WireError::Truncated)?;
        let s = self.b.get(self.at..end).ok_or(WireError::Truncated)?;
        self.at = end;
        Ok(s)
    }
    pub(crate) fn arr<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.arr::<4>()?))
    }
    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
}

/// The four header bytes of an object of type `t`.
pub(crate) fn head(t: ObjType) -> Vec<u8> {
    vec![b'Q', b'L', version_of(t), t.to_u8()]
}
