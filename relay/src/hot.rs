//! The poll's hot state in the process's memory, for a relay on SQLite (one process per
//! database file, which `Db::lock_sqlite` enforces): what a session poll needs is answered
//! here, so that a poll with nothing waiting neither reads nor writes the database.
//!
//! What lives here, and why that is sound (docs/relay.md, "Where state lives"):
//! - **Devices** (`DeviceRow` and "may anything be waiting?"): a copy of the database row,
//!   filled from the database on a miss and dropped by every write that changes a device or its
//!   queue (`Db` calls `invalidate*` inside each write method, so no handler can forget). Only
//!   this process writes the file, so the copy is never older than the database.
//! - **Check-in challenges**: set by each poll, used up by the check-in answering it. A
//!   restart forgets them: the phone's check-in gets `409 stale_challenge` and it polls again
//!   (the protocol's rule for a stale challenge).
//! - **Last-seen times**: kept here and written to the database in batches (`Db::flush_seen`,
//!   at least every second, and before the fleet is read). A kill -9 can lose the last second
//!   of last-seen times, which no answer acknowledged: a poll's answer acknowledges nothing
//!   the phone relies on, and everything a 2xx acknowledges (queued objects, receipts,
//!   check-ins, device-signed nonces) is still committed before the answer.
//!
//! A race between a miss being filled and a write is closed by a generation counter: a fill
//! read before a write is never stored after it.

use crate::row::DeviceRow;
use std::collections::HashMap;
use std::sync::Mutex;

/// Devices kept before one is evicted (each entry is the device's row, at most a few KiB with
/// its last status report): a bound on memory, not on the fleet, since a miss reads the
/// database again.
pub const HOT_DEVICES_MAX: usize = 500_000;

/// (org, device id hex).
type Name = (String, String);

/// A device as cached.
#[derive(Debug, Clone)]
pub struct HotDevice {
    /// The row (without its enrollment response, which no poll needs).
    pub row: DeviceRow,
    /// Whether anything may be waiting in its queue (false: nothing is).
    pub waiting: bool,
}

#[derive(Debug, Default)]
struct Inner {
    /// Bumped by every invalidation: a fill that read before it is not stored.
    generation: u64,
    devices: HashMap<Name, HotDevice>,
    challenges: HashMap<Name, (String, i64)>,
    seen: HashMap<Name, i64>,
}

/// The hot state (see the module's documentation).
#[derive(Debug, Default)]
pub struct Hot {
    inner: Mutex<Inner>,
}

fn name(org: &str, device_id: &str) -> Name {
    (org.to_string(), device_id.to_string())
}

impl Hot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means another request panicked mid-update: the maps are still maps.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached device, or the generation to pass to `fill` after reading it from the
    /// database.
    pub fn device(&self, org: &str, device_id: &str) -> Result<HotDevice, u64> {
        let g = self.lock();
        match g.devices.get(&name(org, device_id)) {
            Some(d) => Ok(d.clone()),
            None => Err(g.generation),
        }
    }

    /// Stores a device read from the database at `generation`, unless a write came since.
    pub fn fill(&self, org: &str, device_id: &str, generation: u64, mut d: HotDevice) {
        let mut g = self.lock();
        if g.generation != generation {
            return;
        }
        d.row.enroll_response = None;
        if g.devices.len() >= HOT_DEVICES_MAX {
            if let Some(k) = g.devices.keys().next().cloned() {
                g.devices.remove(&k);
            }
        }
        g.devices.insert(name(org, device_id), d);
    }

    /// Records a poll: last seen (flushed later) and the challenge its check-in must answer.
    pub fn polled(&self, org: &str, device_id: &str, now: i64, challenge: &str, expires: i64) {
        let mut g = self.lock();
        let n = name(org, device_id);
        if let Some(d) = g.devices.get_mut(&n) {
            d.row.last_seen = Some(now);
        }
        g.challenges.insert(n.clone(), (challenge.to_string(), expires));
        g.seen.insert(n, now);
    }

    /// Uses up `challenge` if it is the device's live one.
    pub fn take_challenge(&self, org: &str, device_id: &str, challenge: &str, now: i64) -> bool {
        let mut g = self.lock();
        let n = name(org, device_id);
        match g.challenges.get(&n) {
            Some((c, exp)) if c == challenge && *exp > now => {
                g.challenges.remove(&n);
                true
            }
            _ => false,
        }
    }

    /// Forgets a device's cached row (a write changed it or its queue).
    pub fn invalidate(&self, org: &str, device_id: &str) {
        let mut g = self.lock();
        g.generation += 1;
        g.devices.remove(&name(org, device_id));
    }

    /// Forgets a device's row and its challenge (a new enrollment).
    pub fn reset(&self, org: &str, device_id: &str) {
        let mut g = self.lock();
        g.generation += 1;
        let n = name(org, device_id);
        g.devices.remove(&n);
        g.challenges.remove(&n);
    }

    /// Forgets the rows of every device of `org` (a fleet-wide object was queued).
    pub fn invalidate_org(&self, org: &str) {
        let mut g = self.lock();
        g.generation += 1;
        g.devices.retain(|(o, _), _| o != org);
    }

    /// Forgets every row (devices were removed by retention).
    pub fn invalidate_all(&self) {
        let mut g = self.lock();
        g.generation += 1;
        g.devices.clear();
    }

    /// Takes the last-seen times recorded since the last call (to write them), and drops
    /// expired challenges.
    pub fn take_seen(&self, now: i64) -> Vec<(String, String, i64)> {
        let mut g = self.lock();
        g.challenges.retain(|_, (_, exp)| *exp > now);
        g.seen.drain().map(|((o, d), t)| (o, d, t)).collect()
    }

    /// Puts back last-seen times whose write failed (a newer poll's time wins).
    pub fn restore_seen(&self, seen: Vec<(String, String, i64)>) {
        let mut g = self.lock();
        for (o, d, t) in seen {
            let e = g.seen.entry((o, d)).or_insert(t);
            *e = (*e).max(t);
        }
    }
}
