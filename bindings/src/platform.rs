//! What only the platform has, passed in as foreign traits: the key store that protects the data
//! key, and the clock. Each foreign trait is adapted to the core's trait of the same name.

use chrono::{DateTime, FixedOffset, Utc};
use quietline_core as ql;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why the app's key protector failed. In Kotlin this is `KeyProtectorException`, in Swift
/// `KeyProtectorError`: throw it from a [`KeyProtector`] so the agent reports the right
/// `ApiError` case (retry later, re-enroll, or a plain failure).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum KeyProtectorError {
    /// The key store cannot be used right now (for example the device is locked before its first
    /// unlock). The agent reports `KeyStoreUnavailable` and the call may be retried.
    #[error("the key store is unavailable for now: {reason}")]
    Unavailable {
        /// What the platform said.
        reason: String,
    },
    /// The protecting key is gone or invalidated (for example the lock screen was removed):
    /// the data it protected can never be read again.
    #[error("the protecting key is gone or invalidated")]
    KeyInvalidated,
    /// Any other failure. Exceptions the protector throws that are not a `KeyProtectorError`
    /// arrive as this case too.
    #[error("the key store failed: {reason}")]
    Failed {
        /// What the platform said.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyProtectorError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyProtectorError::Failed { reason: e.reason }
    }
}

impl From<KeyProtectorError> for ql::KeyProtectorError {
    fn from(e: KeyProtectorError) -> Self {
        match e {
            KeyProtectorError::Unavailable { reason } => ql::KeyProtectorError::Unavailable(reason),
            KeyProtectorError::KeyInvalidated => ql::KeyProtectorError::KeyInvalidated,
            KeyProtectorError::Failed { reason } => ql::KeyProtectorError::Failed(reason),
        }
    }
}

/// The platform's key store (Android Keystore, iOS Keychain/Secure Enclave). Quietline encrypts
/// all its state under a random data key and asks this protector to wrap that key with a key
/// the app itself cannot read, so a copy of the files alone is useless. Implement it in the app;
/// the methods may be called from any thread.
#[uniffi::export(foreign)]
pub trait KeyProtector: Send + Sync {
    /// Encrypts the data key; Quietline stores the result beside its state.
    fn wrap_key(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError>;
    /// Decrypts what `wrap_key` returned, when the agent is opened.
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError>;
    /// Destroys the protecting key, so that every wrapped key becomes unrecoverable. Called first
    /// when the agent is wiped (cryptographic erase). Forget the recorded generation too.
    fn destroy_key(&self) -> Result<(), KeyProtectorError>;
    /// Records the state's generation (it grows with every commit) where copying an older state
    /// directory back cannot undo it: beside the protecting key, in the platform's key store (a
    /// Keychain item that is `ThisDeviceOnly`, not in the app's files or their backups). Replace
    /// any earlier record. Return `false` if this protector keeps no record: a rolled-back
    /// directory then goes undetected. Called after every commit; a failure is not fatal (the
    /// record stays older than the state, which is never mistaken for a rollback).
    fn record_generation(&self, generation: u64) -> Result<bool, KeyProtectorError>;
    /// The generation last recorded with `record_generation`, or `null` when there is none. When
    /// it is newer than the state the agent opens, `open` fails with `StateDamaged`: an older copy
    /// of the directory was put back, which would revive purged survivors and revoked keys.
    fn recorded_generation(&self) -> Result<Option<u64>, KeyProtectorError>;
}

/// Adapts the app's protector to the core's trait.
pub(crate) struct ForeignKeyProtector(pub(crate) Arc<dyn KeyProtector>);

impl ql::KeyProtector for ForeignKeyProtector {
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, ql::KeyProtectorError> {
        self.0.wrap_key(data_key.to_vec()).map_err(Into::into)
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, ql::KeyProtectorError> {
        self.0.unwrap_key(wrapped.to_vec()).map_err(Into::into)
    }
    fn destroy(&self) -> Result<(), ql::KeyProtectorError> {
        self.0.destroy_key().map_err(Into::into)
    }
    fn record_generation(&self, generation: u64) -> Result<bool, ql::KeyProtectorError> {
        self.0.record_generation(generation).map_err(Into::into)
    }
    fn recorded_generation(&self) -> Result<Option<u64>, ql::KeyProtectorError> {
        self.0.recorded_generation().map_err(Into::into)
    }
}

/// Where the agent reads the time. Pass one to freeze or move time in tests; leave it out in the
/// app to use the system clock and the device's current time zone. Working hours and survivors'
/// safe call windows are computed in the local offset this returns.
#[uniffi::export(foreign)]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
    /// The device's current offset from UTC in seconds, east positive (for example -18000 for
    /// US Eastern standard time). Must lie within ±24 hours.
    fn local_offset_secs(&self) -> i32;
}

/// Adapts the app's clock to the core's. A foreign clock that returns a time or offset out of
/// range is a bug in the app: it panics here, which the agent's entry point turns into
/// `ApiError::Internal` with the committed state untouched.
pub(crate) struct ForeignClock(pub(crate) Arc<dyn Clock>);

impl ql::Clock for ForeignClock {
    #[allow(clippy::expect_used)]
    fn now(&self) -> DateTime<Utc> {
        from_system_time(self.0.now()).expect("the app's Clock.now() returned a time out of range")
    }
    #[allow(clippy::expect_used)]
    fn local_offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.0.local_offset_secs())
            .expect("the app's Clock.localOffsetSecs() returned an offset beyond 24 hours")
    }
}

/// The clock the agent uses: the app's, or the core's device clock (system time, the device's
/// current time-zone offset, and a monotonic reading that keeps offline timers honest when the
/// wall clock is set back).
pub(crate) fn clock_for(clock: Option<Arc<dyn Clock>>) -> Arc<dyn ql::Clock> {
    match clock {
        Some(c) => Arc::new(ForeignClock(c)),
        None => Arc::new(ql::LocalClock),
    }
}

/// A core time as a `SystemTime`.
pub(crate) fn to_system_time(t: DateTime<Utc>) -> SystemTime {
    let secs = t.timestamp();
    let nanos = Duration::from_nanos(u64::from(t.timestamp_subsec_nanos()));
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs()) + nanos
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + nanos
    }
}

/// A `SystemTime` from the app as a core time; `None` outside chrono's range.
pub(crate) fn from_system_time(t: SystemTime) -> Option<DateTime<Utc>> {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => DateTime::from_timestamp(i64::try_from(d.as_secs()).ok()?, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).ok()?;
            // Before 1970: step back whole seconds, then forward the remaining nanoseconds.
            let (secs, nanos) =
                if d.subsec_nanos() == 0 { (-secs, 0) } else { (-secs - 1, 1_000_000_000 - d.subsec_nanos()) };
            DateTime::from_timestamp(secs, nanos)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_before_and_after_1970() {
        for s in ["2026-11-23T15:00:00.25Z", "1969-12-31T23:59:59.75Z", "1900-01-01T00:00:00Z"] {
            let t = DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc);
            assert_eq!(from_system_time(to_system_time(t)), Some(t), "{s}");
        }
    }
}
