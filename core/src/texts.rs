//! Texts from and to registered survivors, held by the agent (rules 3, 4 and 8 on work phones,
//! where Quietline is the default SMS app). The phone's SMS provider is readable by every app that
//! holds READ_SMS and keeps a text until someone deletes it, so a survivor's text never goes there:
//! it is held here instead, inside the agent's sealed state, and it expires
//! (`retention.survivor_text_hours`). The number is kept as a pending deletion keeps its number: an
//! [`E164`] inside the encrypted state, which never shows its digits through `Debug` or `Display`,
//! and it is handed back to the app only to send a reply the policy allows.

use crate::event::Outcome;
use crate::numbers::E164;
use crate::registry::Registry;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// At most this many texts are held; a further one is refused ([`TextError::Full`]), never
/// dropped in silence, so the advocate discards some first.
pub const MAX_HELD_TEXTS: usize = 200;
/// A held text's body is at most this many bytes (UTF-8): about 30 SMS parts of plain text, more
/// than any phone joins into one message.
pub const MAX_TEXT_BYTES: usize = 4096;

/// Which way a held text went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum TextDirection {
    /// From the survivor to the advocate.
    Incoming,
    /// From the advocate to the survivor.
    Outgoing,
}

/// Why a text could not be held, or a held text could not be used. Never names a number.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TextError {
    /// The body is longer than [`MAX_TEXT_BYTES`].
    #[error("the text is {len} bytes long; at most {max} bytes are held")]
    TooLong {
        /// The body's length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// [`MAX_HELD_TEXTS`] texts are held already.
    #[error("{max} texts from and to survivors are held already: discard some first")]
    Full {
        /// The limit.
        max: usize,
    },
    /// No held text has this id (discarded, expired, or its survivor forgotten).
    #[error("no held text has id {0}")]
    Unknown(u64),
}

/// A held text as the app sees it: no number. Texts with the same survivor share a
/// `conversation`, so the app can group them ("client 1") without knowing who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldText {
    /// Its id, for discarding it or replying to it.
    pub id: u64,
    /// Which way it went.
    pub direction: TextDirection,
    /// When it was received or sent.
    pub at: DateTime<Utc>,
    /// When it is deleted.
    pub expires_at: DateTime<Utc>,
    /// What it says.
    pub body: String,
    /// The same number for texts with the same survivor, from 1, in the order the survivors first
    /// appear among the held texts; it changes when texts go.
    pub conversation: u32,
}

/// What became of a reply to a held text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextReply {
    /// The rule-3 decision on texting this survivor, as `handle(OutgoingSms)` gives it.
    pub outcome: Outcome,
    /// The number to send the reply to: only when the policy allows it. Hand it to the radio and
    /// nowhere else (not the SMS provider, not a log).
    pub send_to: Option<E164>,
    /// The id the reply is held under (it is held before it is sent); discard it if sending fails.
    pub held: Option<u64>,
}

/// One held text, with its number (inside the sealed state only).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Held {
    pub(crate) id: u64,
    pub(crate) direction: TextDirection,
    pub(crate) number: E164,
    pub(crate) body: String,
    pub(crate) at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Held({}, {:?}, {} bytes)", self.id, self.direction, self.body.len())
    }
}

/// The held texts, oldest first.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct HeldTexts {
    next_id: u64,
    texts: Vec<Held>,
}

impl std::fmt::Debug for HeldTexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HeldTexts({} texts)", self.texts.len())
    }
}

impl HeldTexts {
    /// Holds a text until `expires_at`; returns its id.
    pub(crate) fn hold(
        &mut self,
        direction: TextDirection,
        number: E164,
        body: &str,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<u64, TextError> {
        self.room_for(body)?;
        self.next_id += 1;
        self.texts.push(Held { id: self.next_id, direction, number, body: body.to_string(), at, expires_at });
        Ok(self.next_id)
    }

    /// Whether a text of `body` may be held now: within [`MAX_TEXT_BYTES`] and [`MAX_HELD_TEXTS`].
    pub(crate) fn room_for(&self, body: &str) -> Result<(), TextError> {
        if body.len() > MAX_TEXT_BYTES {
            return Err(TextError::TooLong { len: body.len(), max: MAX_TEXT_BYTES });
        }
        if self.texts.len() >= MAX_HELD_TEXTS {
            return Err(TextError::Full { max: MAX_HELD_TEXTS });
        }
        Ok(())
    }

    /// The held text with this id, if it is still live at `now` for a registered survivor.
    pub(crate) fn get(&self, id: u64, now: DateTime<Utc>, registry: &Registry) -> Option<&Held> {
        self.texts.iter().find(|t| t.id == id && live(t, now, registry))
    }

    /// Discards one text; true if it was held.
    pub(crate) fn discard(&mut self, id: u64) -> bool {
        let before = self.texts.len();
        self.texts.retain(|t| t.id != id);
        self.texts.len() != before
    }

    /// Discards every text with this number; returns how many.
    pub(crate) fn discard_number(&mut self, n: &E164) -> usize {
        let before = self.texts.len();
        self.texts.retain(|t| &t.number != n);
        before - self.texts.len()
    }

    /// Discards every text; returns how many.
    pub(crate) fn clear(&mut self) -> usize {
        let n = self.texts.len();
        self.texts.clear();
        n
    }

    /// Discards the texts expired at `now` and those whose survivor is no longer registered (their
    /// registration expired or was forgotten): a text never outlives what allowed it to be held.
    pub(crate) fn expire(&mut self, now: DateTime<Utc>, registry: &Registry) -> usize {
        let before = self.texts.len();
        self.texts.retain(|t| live(t, now, registry));
        before - self.texts.len()
    }

    /// The texts live at `now`, oldest first, without their numbers.
    pub(crate) fn view(&self, now: DateTime<Utc>, registry: &Registry) -> Vec<HeldText> {
        let mut conversations: HashMap<&E164, u32> = HashMap::new();
        let mut out = Vec::new();
        for t in self.texts.iter().filter(|t| live(t, now, registry)) {
            let next = conversations.len() as u32 + 1;
            let conversation = *conversations.entry(&t.number).or_insert(next);
            out.push(HeldText {
                id: t.id,
                direction: t.direction,
                at: t.at,
                expires_at: t.expires_at,
                body: t.body.clone(),
                conversation,
            });
        }
        out
    }
}

fn live(t: &Held, now: DateTime<Utc>, registry: &Registry) -> bool {
    t.expires_at > now && registry.get(&t.number).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::{normalise, Region};
    use crate::registry::ContactPlan;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
    }

    fn survivor(reg: &mut Registry, s: &str) -> E164 {
        let n = normalise(s, Region::parse("US").expect("US")).expect("n");
        reg.insert(&n, ContactPlan::default(), t("2030-01-01T00:00:00Z")).expect("insert");
        n
    }

    #[test]
    fn a_held_text_shows_no_number_in_debug_or_view() {
        let mut reg = Registry::new([1; 32]);
        let n = survivor(&mut reg, "2075550143");
        let mut h = HeldTexts::default();
        h.hold(TextDirection::Incoming, n, "are you there", t("2026-11-23T12:00:00Z"), t("2026-11-26T12:00:00Z"))
            .expect("hold");
        let shown = format!("{h:?} {:?} {:?}", h.texts, h.view(t("2026-11-23T12:00:00Z"), &reg));
        assert!(!shown.contains("5550143"), "{shown}");
        assert!(shown.contains("are you there"), "the view carries the body: {shown}");
    }

    #[test]
    fn texts_with_the_same_survivor_share_a_conversation() {
        let mut reg = Registry::new([1; 32]);
        let a = survivor(&mut reg, "2075550143");
        let b = survivor(&mut reg, "2075550144");
        let mut h = HeldTexts::default();
        let (now, exp) = (t("2026-11-23T12:00:00Z"), t("2026-11-26T12:00:00Z"));
        for n in [&a, &b, &a] {
            h.hold(TextDirection::Incoming, n.clone(), "x", now, exp).expect("hold");
        }
        let c: Vec<u32> = h.view(now, &reg).iter().map(|v| v.conversation).collect();
        assert_eq!(c, vec![1, 2, 1]);
    }

    #[test]
    fn the_cap_on_count_and_size_is_a_typed_error() {
        let mut reg = Registry::new([1; 32]);
        let n = survivor(&mut reg, "2075550143");
        let mut h = HeldTexts::default();
        let (now, exp) = (t("2026-11-23T12:00:00Z"), t("2026-11-26T12:00:00Z"));
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        assert_eq!(
            h.hold(TextDirection::Incoming, n.clone(), &long, now, exp),
            Err(TextError::TooLong { len: MAX_TEXT_BYTES + 1, max: MAX_TEXT_BYTES })
        );
        h.hold(TextDirection::Incoming, n.clone(), &"x".repeat(MAX_TEXT_BYTES), now, exp).expect("at the limit");
        for _ in 1..MAX_HELD_TEXTS {
            h.hold(TextDirection::Outgoing, n.clone(), "y", now, exp).expect("hold");
        }
        assert_eq!(h.hold(TextDirection::Incoming, n, "z", now, exp), Err(TextError::Full { max: MAX_HELD_TEXTS }));
        assert_eq!(h.texts.len(), MAX_HELD_TEXTS, "nothing was dropped to make room");
    }
}
