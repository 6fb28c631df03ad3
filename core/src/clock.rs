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
    /// A monotonic reading: (boot id, seconds since boot), unaffected by wall-clock changes.
    /// Lets offline timers run on even if the wall clock is set back. `None` if unavailable.
    fn monotonic(&self) -> Option<(u64, u64)> {
        None
    }
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
    fn monotonic(&self) -> Option<(u64, u64)> {
        process_monotonic()
    }
}

/// The system clock in the device's own time zone, read afresh each time so daylight-saving
/// changes and travel are followed.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalClock;

impl Clock for LocalClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn local_offset(&self) -> FixedOffset {
        *chrono::Local::now().offset()
    }
    fn monotonic(&self) -> Option<(u64, u64)> {
        process_monotonic()
    }
}

/// A monotonic reading valid within this process: a random id per process stands in for the
/// boot id, so readings from another process are never compared with this one's.
fn process_monotonic() -> Option<(u64, u64)> {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<(u64, Instant)> = OnceLock::new();
    let (id, start) = START.get_or_init(|| {
        let mut b = [0u8; 8];
        let id =
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).map(|()| u64::from_le_bytes(b));
        (id.unwrap_or(0), Instant::now())
    });
    Some((*id, start.elapsed().as_secs()))
}

/// A clock that only moves when told to: for tests and the demo.
#[derive(Debug)]
pub struct FixedClock {
    inner: Mutex<(DateTime<Utc>, FixedOffset)>,
    mono: Mutex<Option<(u64, u64)>>,
}

impl FixedClock {
    /// A frozen clock at the RFC 3339 time `at`, local offset `offset_secs` east of UTC.
    pub fn at(at: &str, offset_secs: i32) -> Option<Self> {
        let t = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
        let off = FixedOffset::east_opt(offset_secs)?;
        Some(Self { inner: Mutex::new((t, off)), mono: Mutex::new(None) })
    }
    /// Gives the clock a monotonic reading (boot id, seconds since boot); `advance` moves it
    /// along with the wall clock, `set` does not (as when a user changes the wall clock).
    pub fn set_monotonic(&self, boot_id: u64, secs: u64) {
        if let Ok(mut g) = self.mono.lock() {
            *g = Some((boot_id, secs));
        }
    }
    /// Sets the wall-clock time only.
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
        if let Ok(mut g) = self.mono.lock() {
            if let Some((boot, secs)) = *g {
                let s = i64::try_from(secs).unwrap_or(i64::MAX).saturating_add(d.num_seconds()).max(0);
                *g = Some((boot, u64::try_from(s).unwrap_or(0)));
            }
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
    fn monotonic(&self) -> Option<(u64, u64)> {
        match self.mono.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }
}

/// The latest time the device has *evidence* for: signed objects' issue times and the
/// monotonic clock's progress within one boot. The wall clock alone never raises it, so a clock
/// set forward once (by mistake or by an attacker) and then corrected does not leave every
/// command looking expired; and since it never goes down, setting the clock back never revives
/// an object that expired by this evidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct TrustedTime {
    /// Unix seconds.
    floor: i64,
    /// (boot id, monotonic seconds, floor at that reading): progress since it counts.
    anchor: Option<(u64, u64, i64)>,
}

impl TrustedTime {
    /// Evidence starting at `at` (the agent's creation or enrollment, done in person).
    pub(crate) fn starting_at(at: i64) -> Self {
        Self { floor: at, anchor: None }
    }

    /// Whether it was ever set (a state from before it existed has none).
    pub(crate) fn is_unset(&self) -> bool {
        self.floor == 0 && self.anchor.is_none()
    }

    /// The latest time the evidence supports at the monotonic reading `mono`, not stored.
    pub(crate) fn floor_at(&self, mono: Option<(u64, u64)>) -> i64 {
        match (self.anchor, mono) {
            (Some((boot, secs, at)), Some((b, s))) if boot == b && s >= secs => {
                self.floor.max(at.saturating_add(i64::try_from(s - secs).unwrap_or(i64::MAX)))
            }
            _ => self.floor,
        }
    }

    /// Records the evidence at `mono`, together with `signed` (the latest signed issue time
    /// accepted), and anchors the monotonic progress there.
    pub(crate) fn observe(&mut self, mono: Option<(u64, u64)>, signed: i64) {
        self.floor = self.floor_at(mono).max(signed);
        if let Some((boot, secs)) = mono {
            self.anchor = Some((boot, secs, self.floor));
        }
    }
}
