//! Time enters the core only through a [`Clock`], so tests can freeze it and so working hours
//! are computed in the device's own local offset.

use chrono::{DateTime, FixedOffset, Utc};
use std::sync::Mutex;

/// The source of wall-clock time and the device's local UTC offset.
pub trait Clock: Send + Sync {
    /// The current time in UTC.
    fn now(&self) -> DateTime<Utc>;
    /// The device's current offset from UTC, used for working hours and safe call windows.
    fn local_offset(&self) -> FixedOffset;
}

/// The system clock, with a fixed local offset supplied by the platform.
#[derive(Debug, Clone)]
pub struct SystemClock {
    offset: FixedOffset,
}

impl SystemClock {
    /// A system clock whose local time is `offset_secs` east of UTC.
    pub fn new(offset_secs: i32) -> Option<Self> {
        FixedOffset::east_opt(offset_secs).map(|offset| Self { offset })
    }
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn local_offset(&self) -> FixedOffset {
        self.offset
    }
}

/// A clock that only moves when told to: for tests and the demo.
#[derive(Debug)]
pub struct FixedClock {
    inner: Mutex<(DateTime<Utc>, FixedOffset)>,
}

impl FixedClock {
    /// A frozen clock at the RFC 3339 time `at`, local offset `offset_secs` east of UTC.
    pub fn at(at: &str, offset_secs: i32) -> Option<Self> {
        let t = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
        let off = FixedOffset::east_opt(offset_secs)?;
        Some(Self { inner: Mutex::new((t, off)) })
    }
    /// Sets the current time.
    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut g) = self.inner.lock() {
            g.0 = t;
        }
    }
    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, d: chrono::Duration) {
        if let Ok(mut g) = self.inner.lock() {
            g.0 += d;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        match self.inner.lock() {
            Ok(g) => g.0,
            Err(p) => p.into_inner().0,
        }
    }
    fn local_offset(&self) -> FixedOffset {
        match self.inner.lock() {
            Ok(g) => g.1,
            Err(p) => p.into_inner().1,
        }
    }
}
