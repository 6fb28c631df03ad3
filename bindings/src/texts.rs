//! Texts from and to registered survivors, which the agent holds instead of the phone's SMS
//! provider (the default SMS app's inbox and Sent folder, readable by any app holding READ_SMS).
//! The core's records cross as they are (`remote`); the methods delegate.

use crate::agent::Agent;
use crate::custom::{UtcTime, E164};
use crate::error::ApiError;
use crate::event::Outcome;

pub use quietline_core::{HeldText, TextDirection, TextReply};

/// Which way a held text went.
#[uniffi::remote(Enum)]
enum TextDirection {
    /// From the survivor to the advocate.
    Incoming,
    /// From the advocate to the survivor.
    Outgoing,
}

/// A text the agent holds, as the app may show it: never the number. Texts with the same
/// survivor share a `conversation` (from 1), so the screen can group them as "client 1" without
/// knowing who it is; the numbering follows the texts held now and changes when texts go.
#[uniffi::remote(Record)]
struct HeldText {
    /// Its id, for `discardHeldText` and `replyToHeldText`.
    pub id: u64,
    /// Which way it went.
    pub direction: TextDirection,
    /// When it was received or sent.
    pub at: UtcTime,
    /// When the agent deletes it (`retention.survivor_text_hours` after `at`, or earlier if the
    /// survivor is forgotten, expires or is purged).
    pub expires_at: UtcTime,
    /// What it says.
    pub body: String,
    /// The same number for texts with the same survivor.
    pub conversation: u32,
}

/// What became of a reply to a held text.
#[uniffi::remote(Record)]
struct TextReply {
    /// The rule-3 decision on texting this survivor, as `handle(OutgoingSms)` gives it: act on
    /// its verdict and execute its actions.
    pub outcome: Outcome,
    /// The number to send the reply to, only when the policy allows it: hand it to the radio
    /// (`SmsManager`) and nowhere else — not the SMS provider, not a log, not the screen.
    pub send_to: Option<E164>,
    /// The id the reply is already held under; discard it if the radio refuses the text.
    pub held: Option<u64>,
}

#[uniffi::export]
impl Agent {
    /// Holds a text from or to `number` when it belongs to a registered survivor, so it is never
    /// written to the phone's SMS provider: returns the held text's id, or `null` when the number
    /// is not a survivor's (emergency numbers and short codes never are), and the app stores the
    /// text as usual. A number that cannot be read is `InvalidNumber` (a sender name such as
    /// `BANK` is not a survivor's). A body over 4096 bytes is `InvalidInput`; with 200 texts held
    /// the next is `WrongState` until some are discarded: never dropped in silence.
    pub fn hold_text(&self, number: String, direction: TextDirection, body: String) -> Result<Option<u64>, ApiError> {
        self.with(|a| a.hold_text(&number, direction, &body))
    }

    /// The held texts still live, oldest first, without their numbers.
    pub fn held_texts(&self) -> Result<Vec<HeldText>, ApiError> {
        self.with(|a| Ok(a.held_texts()))
    }

    /// Discards a held text now. Returns whether it was held.
    pub fn discard_held_text(&self, id: u64) -> Result<bool, ApiError> {
        self.with(|a| a.discard_held_text(id))
    }

    /// Replies to a held text: the agent decides as for any text to this survivor (rule 3); only
    /// when the policy allows it is the reply held and `sendTo` set, the one time the app gets the
    /// number. A text no longer held (discarded, expired) is `InvalidInput`.
    pub fn reply_to_held_text(&self, id: u64, body: String) -> Result<TextReply, ApiError> {
        self.with(|a| a.reply_to_held_text(id, &body))
    }
}
