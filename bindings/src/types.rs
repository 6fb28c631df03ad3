//! Records of the API beyond `handle`: contact plans and survivor entries, mirrored by hand
//! because the app sends them and their local times (`"HH:MM"`) and dates are checked with a
//! typed `InvalidContactPlan`; block lists, mirrored because the core's `Debug` of one prints
//! its numbers; and the core's audit records and command results, exposed as they are
//! (`remote`, their times through `UtcTime`).

use crate::custom::UtcTime;
use crate::error::ApiError;
use crate::event::Action;
use crate::remote::{
    AuditKind, CommandAction, CommandStatus, Day, DroppedCall, HiddenNumbers, MessageLevel, WipeScope,
};
use quietline_core as ql;

pub use quietline_core::{AuditRecord, CommandResult};

/// A time range on one weekday, in the device's local time, when the survivor says calling is safe.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SafeWindow {
    /// The weekday.
    pub day: Day,
    /// Start, local time `"HH:MM"`.
    pub start: String,
    /// End, local time `"HH:MM"`, after the start.
    pub end: String,
}

fn local_time(s: &str, field: &str) -> Result<ql::policy::LocalTime, ApiError> {
    ql::policy::LocalTime::parse(s)
        .ok_or_else(|| ApiError::InvalidContactPlan { reason: format!("`{field}` must be a local time \"HH:MM\"") })
}

impl TryFrom<SafeWindow> for ql::SafeWindow {
    type Error = ApiError;
    fn try_from(w: SafeWindow) -> Result<Self, ApiError> {
        Ok(ql::SafeWindow { day: w.day, start: local_time(&w.start, "start")?, end: local_time(&w.end, "end")? })
    }
}

impl From<ql::SafeWindow> for SafeWindow {
    fn from(w: ql::SafeWindow) -> Self {
        SafeWindow {
            day: w.day,
            start: w.start.0.format("%H:%M").to_string(),
            end: w.end.0.format("%H:%M").to_string(),
        }
    }
}

/// The survivor-led contact plan: the survivor decides, the agent reminds. Start from
/// `defaultContactPlan()`, which follows the field's guidance (any time, vague voicemail,
/// they call back).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContactPlan {
    /// When calls are safe. Empty means any time.
    pub safe_windows: Vec<SafeWindow>,
    /// Whether a voicemail may be left.
    pub voicemail_allowed: bool,
    /// What a voicemail may say.
    pub message_level: MessageLevel,
    /// What happens when a call drops.
    pub dropped_call: DroppedCall,
    /// What their phone does with hidden numbers and the agreed alternative (`null`: accepted).
    #[uniffi(default)]
    pub hidden_numbers: Option<HiddenNumbers>,
    /// When to check the plan with the survivor again, `"YYYY-MM-DD"` (local date).
    #[uniffi(default)]
    pub review_on: Option<String>,
}

impl TryFrom<ContactPlan> for ql::ContactPlan {
    type Error = ApiError;
    fn try_from(p: ContactPlan) -> Result<Self, ApiError> {
        let review_on = match p.review_on.as_deref() {
            None => None,
            Some(s) => Some(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                ApiError::InvalidContactPlan { reason: "`review_on` must be a date \"YYYY-MM-DD\"".into() }
            })?),
        };
        Ok(ql::ContactPlan {
            safe_windows: p.safe_windows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
            voicemail_allowed: p.voicemail_allowed,
            message_level: p.message_level,
            dropped_call: p.dropped_call,
            hidden_numbers: p.hidden_numbers.unwrap_or_default(),
            review_on,
        })
    }
}

impl From<ql::ContactPlan> for ContactPlan {
    fn from(p: ql::ContactPlan) -> Self {
        ContactPlan {
            safe_windows: p.safe_windows.into_iter().map(Into::into).collect(),
            voicemail_allowed: p.voicemail_allowed,
            message_level: p.message_level,
            dropped_call: p.dropped_call,
            hidden_numbers: Some(p.hidden_numbers).filter(|h| *h != ql::HiddenNumbers::Accepted),
            review_on: p.review_on.map(|d| d.to_string()),
        }
    }
}

/// One audit record: what happened and how often, hash-chained so IT staff can tell the log
/// was not edited. Holds no survivor data.
#[uniffi::remote(Record)]
struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// When.
    pub at: UtcTime,
    /// What.
    pub kind: AuditKind,
    /// How many (decisions are aggregated).
    pub count: u64,
    /// Action ids concerned.
    pub action_ids: Vec<u64>,
    /// A short detail without personal data (an action kind, a rule name).
    pub detail: String,
    /// Hex SHA-256 of the previous record (or the chain's anchor).
    pub prev: String,
    /// Hex SHA-256 of this record.
    pub hash: String,
}

/// What came of a signed command. Execute `actions` (and acknowledge each, which signs their
/// receipt), perform `wipe` if set, and deliver `receipt` and `Agent.queuedReceipts()` to IT.
#[uniffi::remote(Record)]
struct CommandResult {
    /// Applied now, refused by policy or mode, or a replay of one applied before.
    pub status: CommandStatus,
    /// What the command asked for.
    pub requested: CommandAction,
    /// The command's id (hex), the same for every copy of one command.
    pub command_id: String,
    /// A signed receipt available now (a ping, a wipe, a refusal, or a replay's original). Lock
    /// and purge receipts are signed when the app acknowledges the action and then wait in
    /// `queuedReceipts()`.
    pub receipt: Option<String>,
    /// Actions for the app, already durable: execute and acknowledge each.
    pub actions: Vec<Action>,
    /// After a wipe command: the platform wipe the app must perform now. The agent's own data is
    /// already crypto-erased and this `Agent` object refuses further calls (`Wiped`); the receipt
    /// is in `receipt` and also stays in the directory for `takeWipeReceipt(dir)`.
    pub wipe: Option<WipeScope>,
}

/// One survivor in a caseload import (`Agent.registerSurvivors`).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct SurvivorEntry {
    /// The number, in any format the device's region reads.
    pub number: String,
    /// The survivor's contact plan; the default when absent.
    pub plan: Option<ContactPlan>,
}

impl std::fmt::Debug for SurvivorEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SurvivorEntry(<redacted>)")
    }
}
