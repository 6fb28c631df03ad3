//! The files IT staff keep: private keys (PKCS#8, mode 0600, never printed), public keys (hex),
//! device records, and `QL:` objects given as a file or pasted as text.

use crate::AdminError;
use quietline_core::trust::{self, SigningKey};
use quietline_core::wire;
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Reads a whole file as text.
pub fn read_text(path: &Path) -> Result<String, AdminError> {
    fs::read_to_string(path).map_err(|e| AdminError::io(path, e))
}

/// Writes `text` to `path` (created or replaced).
pub fn write_text(path: &Path, text: &str) -> Result<(), AdminError> {
    fs::write(path, text).map_err(|e| AdminError::io(path, e))
}

/// A `QL:` object given on the command line as text, or as the path of a file that holds it.
pub fn read_object(arg: &str) -> Result<String, AdminError> {
    let t = arg.trim();
    if t.starts_with(wire::TEXT_PREFIX) {
        return Ok(t.to_string());
    }
    Ok(read_text(Path::new(arg))?.trim().to_string())
}

/// Creates a private key file with mode 0600 from the start, never overwriting one.
pub fn write_private_key(path: &Path, key: &SigningKey) -> Result<(), AdminError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => AdminError::KeyExists(path.display().to_string()),
        _ => AdminError::io(path, e),
    })?;
    f.write_all(key.pkcs8()).and_then(|()| f.sync_all()).map_err(|e| AdminError::io(path, e))
}

/// Loads a private key file written by `keygen`.
pub fn read_private_key(path: &Path) -> Result<SigningKey, AdminError> {
    let bytes = fs::read(path).map_err(|e| AdminError::io(path, e))?;
    SigningKey::from_pkcs8(&bytes).map_err(|_| AdminError::BadKeyFile(path.display().to_string()))
}

/// Loads a public key file (hex).
pub fn read_public_key(path: &Path) -> Result<[u8; 32], AdminError> {
    let text = read_text(path)?;
    trust::parse_key(text.trim()).map_err(|_| AdminError::BadPublicKey(path.display().to_string()))
}

/// What IT keeps about an enrolled device, from its enrollment response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRecord {
    /// The device id, hex (8 bytes).
    pub device_id: String,
    /// The enrollment id, hex (4 bytes).
    pub enrollment_id: String,
    /// The device's Ed25519 public key, hex: receipts verify against it.
    pub device_key: String,
    /// The next command sequence number to use.
    pub next_seq: u32,
}

/// A device record with its fields parsed.
#[derive(Debug, Clone)]
pub struct Device {
    /// As stored.
    pub record: DeviceRecord,
    /// Device id.
    pub device_id: [u8; 8],
    /// Enrollment id.
    pub enrollment_id: [u8; 4],
    /// Device public key.
    pub device_key: [u8; 32],
}

/// Reads and checks a device record.
pub fn read_device(path: &Path) -> Result<Device, AdminError> {
    let bad = |reason: String| AdminError::BadDeviceRecord { path: path.display().to_string(), reason };
    let record: DeviceRecord = serde_json::from_str(&read_text(path)?).map_err(|e| bad(e.to_string()))?;
    let device_id = wire::unhex::<8>(&record.device_id).ok_or_else(|| bad("device_id is not 16 hex digits".into()))?;
    let enrollment_id =
        wire::unhex::<4>(&record.enrollment_id).ok_or_else(|| bad("enrollment_id is not 8 hex digits".into()))?;
    let device_key = trust::parse_key(&record.device_key).map_err(|_| bad("device_key is not 64 hex digits".into()))?;
    Ok(Device { record, device_id, enrollment_id, device_key })
}

/// Writes a device record as pretty JSON.
pub fn write_device(path: &Path, record: &DeviceRecord) -> Result<(), AdminError> {
    let json = serde_json::to_string_pretty(record)
        .map_err(|e| AdminError::BadDeviceRecord { path: path.display().to_string(), reason: e.to_string() })?;
    write_text(path, &format!("{json}\n"))
}

/// The current time as wire seconds.
pub fn now_secs() -> Result<u32, AdminError> {
    u32::try_from(chrono::Utc::now().timestamp())
        .map_err(|_| AdminError::BadArg("the system clock is outside the wire format's range".into()))
}

/// A unix time as RFC 3339 (for people reading output).
pub fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.to_rfc3339()).unwrap_or_else(|| format!("@{secs}"))
}

/// An Ed25519 key from a 32-byte seed, wrapped in the PKCS#8 v2 document that
/// [`SigningKey::generate`] writes: for deterministic test vectors only.
pub fn signing_key_from_seed(seed: &[u8; 32]) -> Result<SigningKey, AdminError> {
    use ring::signature::KeyPair as _;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
        .map_err(|_| AdminError::BadArg("invalid Ed25519 seed".into()))?;
    let mut der = PKCS8_V2_PREFIX.to_vec();
    der.extend_from_slice(seed);
    der.extend_from_slice(&PKCS8_V2_MIDDLE);
    der.extend_from_slice(pair.public_key().as_ref());
    SigningKey::from_pkcs8(&der).map_err(|_| AdminError::BadArg("invalid Ed25519 seed".into()))
}

/// `OneAsymmetricKey` (RFC 5958, version 2) for Ed25519 (RFC 8410), up to the seed.
pub const PKCS8_V2_PREFIX: [u8; 16] =
    [0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/// Between the seed and the public key: `[1] IMPLICIT BIT STRING` (the public key).
pub const PKCS8_V2_MIDDLE: [u8; 3] = [0x81, 0x21, 0x00];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_keys_use_the_same_pkcs8_layout_as_generated_keys() {
        let k = SigningKey::generate().expect("generate");
        let der = k.pkcs8();
        assert_eq!(der.len(), 83);
        assert_eq!(&der[..16], &PKCS8_V2_PREFIX);
        assert_eq!(&der[48..51], &PKCS8_V2_MIDDLE);
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&der[16..48]);
        let again = signing_key_from_seed(&seed).expect("seed");
        assert_eq!(again.pkcs8(), der);
        assert_eq!(again.public_key(), k.public_key());
    }
}
