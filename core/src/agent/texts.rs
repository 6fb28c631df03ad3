//! The agent's held texts (see [`crate::texts`]): a text from or to a registered survivor is held
//! here instead of the phone's SMS provider, listed for the app without its number, replied to
//! through the rule-3 decision, discarded, and expired.

use super::Agent;
use crate::audit::AuditKind;
use crate::error::AgentError;
use crate::event::{Event, Verdict};
use crate::numbers::{self, Classified, E164};
use crate::texts::{HeldText, TextDirection, TextError, TextReply};
use chrono::Duration;

impl Agent {
    /// Holds a text from or to `number` when it belongs to a registered survivor, so the app does
    /// not write it to the phone's SMS provider: `Some(id)` when held, `None` when the number is
    /// not a survivor's (an emergency number or short code never is) and the text is the app's to
    /// store as usual. Committed before it returns; a text that cannot be held is an error
    /// ([`TextError`]), never dropped in silence.
    pub fn hold_text(&mut self, number: &str, direction: TextDirection, body: &str) -> Result<Option<u64>, AgentError> {
        self.ensure_live()?;
        let Classified::Number(n) = numbers::classify_for_lookup(number, self.state.region)? else {
            return Ok(None);
        };
        if self.state.registry.get(&n).is_none() {
            return Ok(None);
        }
        self.hold(n, direction, body).map(Some)
    }

    fn hold(&mut self, n: E164, direction: TextDirection, body: &str) -> Result<u64, AgentError> {
        let now = self.now();
        let expires = now + Duration::hours(i64::from(self.state.policy.retention.survivor_text_hours));
        let id = self.state.texts.hold(direction, n, body, now, expires)?;
        // Survivor traffic: counted per day, never timed (see `AuditKind::per_day`).
        self.state.audit.append(now, AuditKind::TextHeld, 1, vec![], "");
        self.commit()?;
        Ok(id)
    }

    /// The held texts still live, oldest first, without their numbers.
    pub fn held_texts(&self) -> Vec<HeldText> {
        self.state.texts.view(self.now(), &self.state.registry)
    }

    /// Discards a held text now; true if it was held.
    pub fn discard_held_text(&mut self, id: u64) -> Result<bool, AgentError> {
        self.ensure_live()?;
        if !self.state.texts.discard(id) {
            return Ok(false);
        }
        let now = self.now();
        self.state.audit.append(now, AuditKind::TextsDiscarded, 1, vec![], "");
        self.commit()?;
        Ok(true)
    }

    /// Replies to a held text. The agent asks rule 3 as for any text (`OutgoingSms`); only when it
    /// allows the text is the reply held and the number handed back to send it (`send_to`). The
    /// app never needs the number otherwise.
    pub fn reply_to_held_text(&mut self, id: u64, body: &str) -> Result<TextReply, AgentError> {
        self.ensure_live()?;
        let now = self.now();
        let n = self.state.texts.get(id, now, &self.state.registry).ok_or(TextError::Unknown(id))?.number.clone();
        // Checked before rule 3 runs, so a reply that could not be held records no decision.
        self.state.texts.room_for(body)?;
        let outcome = self.handle(Event::OutgoingSms { number: n.expose().to_string() })?;
        if outcome.verdict != Verdict::Allow {
            return Ok(TextReply { outcome, send_to: None, held: None });
        }
        let held = self.hold(n.clone(), TextDirection::Outgoing, body)?;
        Ok(TextReply { outcome, send_to: Some(n), held: Some(held) })
    }
}
