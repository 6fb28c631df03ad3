//! Command sequence numbers, one window per signing key. A key's commands must be numbered
//! above its own last one, so no key, whatever number it signs, can make another key's honestly
//! numbered commands unacceptable, and several IT staff (each with their own key, on their own
//! laptop) number commands without sharing a file or colliding.

use crate::trust::{TrustError, MAX_SEQ_STEP};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many keys' windows are kept; beyond it, windows of keys no longer in the policy go first.
const MAX_WINDOWS: usize = 256;

/// The highest sequence number applied, per signing key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SeqWindows {
    /// Key id (hex) → highest seq applied.
    highest: BTreeMap<String, u32>,
    /// From a state written before windows were per key: the highest seq any key had used. It
    /// is the window of every key without one of its own until a root-signed policy clears it.
    #[serde(default)]
    legacy_floor: u32,
}

impl SeqWindows {
    /// Windows for a state that kept one sequence for all keys.
    pub(crate) fn from_legacy(last_seq: u32) -> Self {
        Self { highest: BTreeMap::new(), legacy_floor: last_seq }
    }

    /// The highest seq `key_id` has used (or the legacy floor).
    pub(crate) fn floor(&self, key_id: &[u8; 8]) -> u32 {
        self.highest.get(&crate::wire::hex(key_id)).copied().unwrap_or(self.legacy_floor)
    }

    /// Whether `seq` is acceptable for `key_id`: above its window, by at most [`MAX_SEQ_STEP`].
    pub(crate) fn check(&self, key_id: &[u8; 8], seq: u32) -> Result<(), TrustError> {
        let floor = self.floor(key_id);
        if seq <= floor {
            return Err(TrustError::SequenceReused(seq));
        }
        if seq - floor > MAX_SEQ_STEP {
            return Err(TrustError::SequenceJump { last: floor, got: seq });
        }
        Ok(())
    }

    /// Records that `key_id` applied `seq`.
    pub(crate) fn advance(&mut self, key_id: &[u8; 8], seq: u32) {
        let floor = self.floor(key_id);
        self.highest.insert(crate::wire::hex(key_id), floor.max(seq));
    }

    /// A root-signed policy was installed naming `listed` keys: the shared legacy window ends (the
    /// root can always restore command of the phone), and windows beyond the cap are trimmed,
    /// unlisted keys first. A listed key keeps its window, so its old commands stay replays.
    pub(crate) fn root_policy_installed(&mut self, listed: &[[u8; 8]]) {
        self.legacy_floor = 0;
        if self.highest.len() > MAX_WINDOWS {
            let listed: Vec<String> = listed.iter().map(|k| crate::wire::hex(k)).collect();
            let drop: Vec<String> = self.highest.keys().filter(|k| !listed.contains(k)).cloned().collect();
            for k in drop.into_iter().take(self.highest.len() - MAX_WINDOWS) {
                self.highest.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_window() {
        let (a, b) = ([1u8; 8], [2u8; 8]);
        let mut w = SeqWindows::default();
        w.check(&a, 1).expect("first");
        w.advance(&a, MAX_SEQ_STEP);
        assert_eq!(w.check(&a, 3), Err(TrustError::SequenceReused(3)));
        w.check(&b, 1).expect("another key is not affected");
        assert_eq!(w.check(&b, u32::MAX), Err(TrustError::SequenceJump { last: 0, got: u32::MAX }));
    }

    #[test]
    fn legacy_floor_applies_until_a_root_policy() {
        let mut w = SeqWindows::from_legacy(10);
        assert_eq!(w.check(&[3; 8], 10), Err(TrustError::SequenceReused(10)));
        w.advance(&[4; 8], 12);
        w.root_policy_installed(&[[3; 8]]);
        w.check(&[3; 8], 1).expect("cleared");
        assert_eq!(w.check(&[4; 8], 12), Err(TrustError::SequenceReused(12)), "own windows stay");
    }
}
