//! What the FFI crate's tests share: the foreign traits as a test app implements them.
#![allow(dead_code)]

use quietline_ffi::{Clock, KeyProtector, KeyProtectorError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Monday 23 November 2026, 15:00 UTC, in UTC.
pub struct Frozen;

impl Clock for Frozen {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_446_000)
    }
    fn local_offset_secs(&self) -> i32 {
        0
    }
}

/// Not a real protector: enough to prove the data key goes through the app's code. Keeps no
/// generation record (rollback detection is tested in tests/rollback.rs).
pub struct Xor;

impl KeyProtector for Xor {
    fn wrap_key(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError> {
        Ok(data_key.iter().map(|b| b ^ 0x5a).collect())
    }
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError> {
        Ok(wrapped.iter().map(|b| b ^ 0x5a).collect())
    }
    fn destroy_key(&self) -> Result<(), KeyProtectorError> {
        Ok(())
    }
    fn record_generation(&self, _generation: u64) -> Result<bool, KeyProtectorError> {
        Ok(false)
    }
    fn recorded_generation(&self) -> Result<Option<u64>, KeyProtectorError> {
        Ok(None)
    }
}
