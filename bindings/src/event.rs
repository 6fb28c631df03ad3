//! The vocabulary of `Agent.handle`. The answers (`Outcome`, `Verdict`, `Action`, `Finding`, the
//! compliance report) are the core's own types, exposed as they are (`#[uniffi::remote]`): their
//! times, numbers and dates cross through the custom types in `custom.rs`, and their `Debug` is
//! the core's, which redacts numbers. Only `Event`, the app's input, is mirrored here.

use crate::custom::{IsoDate, UtcTime, E164};
use crate::error::ApiError;
use crate::platform::from_system_time;
use crate::remote::{
    BlockReason, CallDirection, CallGuidance, ChecklistItem, Line, Mode, NotifyKind, RuleGap, WarnReason, WipeScope,
};
use quietline_core as ql;
use std::time::SystemTime;

pub use quietline_core::{Action, ActionKind, ChecklistEntry, ComplianceReport, Finding, Outcome, Verdict};

/// A time from the app, or `InvalidInput` naming the field.
fn time_in(t: SystemTime, field: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    from_system_time(t).ok_or_else(|| ApiError::input(format!("`{field}` is out of range")))
}

// `Event` stays a hand mirror: it is the one type here that comes from the app, and checking it
// is this crate's job. A time the core cannot hold (`started_at` beyond chrono's range) becomes
// `InvalidInput` naming the field, before the core runs; as a custom type (`UtcTime`) the check
// would run inside UniFFI's argument lift, where the error knows no field and is typed only
// through UniFFI's downcast. Its numbers stay strings for the core to parse (`InvalidNumber`).
// Its `Debug` is the core's (one redacting copy). Tests: tests/privacy.rs.
/// Something that happened on the phone, for `Agent.handle`. Send each as it happens; the agent
/// answers with an `Outcome` and has committed its state before it returns.
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Event {
    /// The advocate is about to place a call. Dial what the verdict says.
    OutgoingCall {
        /// The number as dialled.
        number: String,
        /// The line.
        line: Line,
        /// The advocate has seen a `Verdict.Warn` for this call and confirmed it.
        confirmed: bool,
    },
    /// A call ended: survivor calls are cleaned from the call log and contacts.
    CallEnded {
        /// The other party's number.
        number: String,
        /// The line.
        line: Line,
        /// Who called.
        direction: CallDirection,
        /// When the call started.
        started_at: SystemTime,
        /// The call dropped rather than being hung up.
        dropped: bool,
    },
    /// The advocate is about to send a text.
    OutgoingSms {
        /// The recipient.
        number: String,
    },
    /// A call is ringing.
    IncomingCall {
        /// The caller's number, if shown.
        number: Option<String>,
    },
    /// What the app observed about the device; leave a field `null` when it was not observed.
    Posture {
        /// The screen timeout in seconds (0: never locks).
        lock_timeout_secs: Option<u32>,
        /// Whether a PIN, password or biometric lock is set.
        secure_lock: Option<bool>,
        /// The result of a caller-ID check: was the number hidden?
        caller_id_hidden: Option<bool>,
    },
    /// The rules the app cannot enforce on this phone right now, as it last found them. Each
    /// report replaces the previous set; send an empty list when every gap is closed. The
    /// compliance report (and so the check-in IT sees) lists each as `Finding.RuleNotEnforced`.
    PlatformGaps {
        /// The gaps, as kinds (no free text).
        gaps: Vec<RuleGap>,
    },
    /// The advocate is about to hand the phone to someone else.
    HandoffRequested,
    /// Periodic housekeeping: send at least every few minutes while the app runs.
    Tick,
    /// The app reached the organisation (its relay poll succeeded) without a new policy or command.
    CheckIn,
    /// The advocate unlocked the phone.
    Unlocked,
    /// An unlock attempt failed.
    UnlockFailed,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The core's `Debug` keeps numbers out of logs and panic messages; one copy of it.
        match ql::Event::try_from(self.clone()) {
            Ok(e) => e.fmt(f),
            Err(_) => f.write_str("Event(<time out of range>)"),
        }
    }
}

impl TryFrom<Event> for ql::Event {
    type Error = ApiError;
    fn try_from(e: Event) -> Result<Self, ApiError> {
        Ok(match e {
            Event::OutgoingCall { number, line, confirmed } => ql::Event::OutgoingCall { number, line, confirmed },
            Event::CallEnded { number, line, direction, started_at, dropped } => ql::Event::CallEnded {
                number,
                line,
                direction,
                started_at: time_in(started_at, "started_at")?,
                dropped,
            },
            Event::OutgoingSms { number } => ql::Event::OutgoingSms { number },
            Event::IncomingCall { number } => ql::Event::IncomingCall { number },
            Event::Posture { lock_timeout_secs, secure_lock, caller_id_hidden } => {
                ql::Event::Posture { lock_timeout_secs, secure_lock, caller_id_hidden }
            }
            Event::PlatformGaps { gaps } => ql::Event::PlatformGaps { gaps },
            Event::HandoffRequested => ql::Event::HandoffRequested,
            Event::Tick => ql::Event::Tick,
            Event::CheckIn => ql::Event::CheckIn,
            Event::Unlocked => ql::Event::Unlocked,
            Event::UnlockFailed => ql::Event::UnlockFailed,
        })
    }
}

/// The decision for the event at hand.
#[uniffi::remote(Enum)]
enum Verdict {
    /// Go ahead as the advocate asked.
    Allow,
    /// Do not go ahead; show the message.
    Block {
        /// Why, as a kind.
        reason: BlockReason,
        /// Why, in words an advocate can read.
        message: String,
    },
    /// Place the call with this dial string instead of the number typed: it hides caller ID.
    Dial {
        /// What to dial (holds the number: do not log it).
        dial_string: String,
        /// Route the call through the organisation's VoIP service.
        via_voip: bool,
    },
    /// Ask the advocate first; to proceed, send the event again with `confirmed = true`.
    Warn {
        /// Why, as a kind.
        reason: WarnReason,
        /// Why, in words an advocate can read (names the next safe time).
        message: String,
        /// The next safe time, if the survivor's plan has one.
        next_safe_at: Option<UtcTime>,
    },
    /// Send the incoming call to voicemail.
    SendToVoicemail {
        /// Why, in words an advocate can read.
        message: String,
    },
}

/// What the app must do. Execute it, then call `Agent.ack` with the action's id.
#[uniffi::remote(Enum)]
enum ActionKind {
    /// Set the device's maximum time to lock.
    SetMaxTimeToLock {
        /// Seconds.
        secs: u32,
    },
    /// Require a secure lock (PIN, password or biometric).
    RequireSecureLock,
    /// Lock the screen now.
    LockNow,
    /// Set how many failed unlock attempts wipe the phone (or the work profile).
    SetMaxFailedUnlocks {
        /// Attempts.
        count: u32,
    },
    /// Delete the call-log entries for a number from a time on.
    DeleteCallLog {
        /// The number in E.164 form (do not log it).
        number: E164,
        /// Entries at or after this time.
        since: UtcTime,
    },
    /// Delete every contact holding this number.
    DeleteContact {
        /// The number in E.164 form (do not log it).
        number: E164,
    },
    /// Show a notification to the advocate.
    Notify {
        /// Why.
        kind: NotifyKind,
    },
    /// Run the caller-ID check (a test call to a number-echo service) at this time, then report
    /// the result with `Event.Posture(callerIdHidden = …)`.
    ScheduleCallerIdCheck {
        /// When.
        at: UtcTime,
    },
    /// Remove survivor data the app holds itself (its contacts, notes, caches).
    PurgeSurvivorData,
    /// Wipe.
    Wipe {
        /// Which wipe.
        scope: WipeScope,
    },
}

/// A durable action: it stays pending, across restarts, until the app acknowledges it.
#[uniffi::remote(Record)]
struct Action {
    /// Its id, for `Agent.ack`.
    pub id: u64,
    /// What to do.
    pub kind: ActionKind,
    /// When it was issued.
    pub created_at: UtcTime,
    /// Not to be done before this time (the after-call delay, retry backoff).
    pub due_at: UtcTime,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last failure the app reported, with long digit runs masked.
    pub last_error: Option<String>,
}

/// A way the device falls short of the policy, for the compliance report and the app's UI.
#[uniffi::remote(Enum)]
enum Finding {
    /// The screen lock timeout is longer than allowed (0 means never).
    LockTimeoutTooLong {
        /// What the device reported.
        observed_secs: u32,
        /// The policy's maximum.
        max_secs: u32,
    },
    /// No secure lock is set.
    SecureLockMissing,
    /// The last caller-ID check showed the number.
    CallerIdNotHidden,
    /// No caller-ID check has succeeded within the policy's interval.
    CallerIdCheckOverdue,
    /// An action keeps failing.
    ActionFailing {
        /// The action's id.
        id: u64,
        /// Its kind, as a short name.
        kind: String,
        /// Failed attempts.
        attempts: u32,
    },
    /// Actions were dropped unacknowledged after the retention limit.
    ActionsAbandoned {
        /// How many, ever.
        count: u64,
    },
    /// The platform cannot carry out this kind of action at all (deleting the system call log
    /// on iOS): the rule it serves is not enforced on this phone.
    ActionUnsupported {
        /// The action kind, as a short name.
        kind: String,
        /// How many such actions were dropped.
        count: u64,
    },
    /// The wall clock jumped away from the monotonic clock's reckoning (set back or forward).
    ClockJumps {
        /// How many jumps were seen.
        count: u64,
    },
    /// The installed policy has expired and no newer one has arrived. An expired policy stays in
    /// force (it never relaxes to defaults); IT staff should send a new one.
    PolicyStale {
        /// When it expired.
        expired_at: UtcTime,
    },
    /// The app reported that it cannot enforce a rule on this phone (see `RuleGap`).
    RuleNotEnforced {
        /// Which rule, and why.
        gap: RuleGap,
    },
}

/// Everything that came of one event.
#[uniffi::remote(Record)]
struct Outcome {
    /// The decision.
    pub verdict: Verdict,
    /// Actions for the app, already durable: execute and acknowledge each.
    pub actions: Vec<Action>,
    /// Ways the device fell short of the policy, found while handling the event.
    pub findings: Vec<Finding>,
    /// The survivor's wishes, for calls with a registered survivor.
    pub guidance: Option<CallGuidance>,
}

/// The compliance report for IT staff: findings and counts, never survivor data.
#[uniffi::remote(Record)]
struct ComplianceReport {
    /// The phone's mode.
    pub mode: Mode,
    /// Current findings.
    pub findings: Vec<Finding>,
    /// Registered survivors.
    pub survivors: u64,
    /// Unacknowledged actions.
    pub pending_actions: u64,
    /// What no app can enforce, each with the day IT confirmed it.
    pub checklist: Vec<ChecklistEntry>,
}

/// One line of the compliance checklist: an item and the day IT confirmed it (`"YYYY-MM-DD"`),
/// or `null` while nobody has.
#[uniffi::remote(Record)]
struct ChecklistEntry {
    /// The item.
    pub item: ChecklistItem,
    /// When IT confirmed it.
    pub confirmed_on: Option<IsoDate>,
}
