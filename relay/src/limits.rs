//! Per-device and per-address rate limits: fixed one-minute windows, in memory, per process
//! (several relay processes each enforce their own share; see docs/relay.md).

use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::Mutex;

/// Keys kept before old windows are swept, so a flood of new addresses cannot grow the map
/// without bound.
const MAX_KEYS: usize = 200_000;

/// The limiter.
#[derive(Debug)]
pub struct Limits {
    per_device: u32,
    per_addr: u32,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl Limits {
    /// Limits of `per_device` and `per_addr` requests a minute.
    pub fn new(per_device: u32, per_addr: u32) -> Self {
        Self { per_device, per_addr, windows: Mutex::new(HashMap::new()) }
    }

    fn hit(&self, key: String, limit: u32, now: i64) -> Result<(), ApiError> {
        let window = now / 60;
        let mut m = self.windows.lock().map_err(|_| ApiError::Internal)?;
        if m.len() > MAX_KEYS {
            m.retain(|_, (w, _)| *w == window);
        }
        let e = m.entry(key).or_insert((window, 0));
        if e.0 != window {
            *e = (window, 0);
        }
        if e.1 >= limit {
            return Err(ApiError::RateLimited(u64::try_from(60 - now % 60).unwrap_or(60)));
        }
        e.1 += 1;
        Ok(())
    }

    /// Counts a request from an address.
    pub fn addr(&self, addr: std::net::IpAddr, now: i64) -> Result<(), ApiError> {
        self.hit(format!("a:{addr}"), self.per_addr, now)
    }

    /// Counts a request by a device (or a staff key).
    pub fn principal(&self, who: &str, now: i64) -> Result<(), ApiError> {
        self.hit(format!("p:{who}"), self.per_device, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_over_its_limit_is_refused_until_the_next_minute() {
        let l = Limits::new(3, 100);
        for _ in 0..3 {
            assert!(l.principal("d", 120).is_ok());
        }
        assert!(matches!(l.principal("d", 121), Err(ApiError::RateLimited(_))));
        assert!(l.principal("other", 121).is_ok());
        assert!(l.principal("d", 180).is_ok());
    }
}
