//! The event vocabulary: what the platform tells the agent ([`Event`]) and what the agent
//! answers ([`Outcome`]: a [`Verdict`], durable actions, [`Finding`]s, the survivor's wishes).
//! The rules that produce these answers live in `rules`; this file only names them.

use crate::actions::{Action, ActionId, ActionKind, Outbox};
use crate::audit::AuditKind;
use crate::checklist::ChecklistEntry;
use crate::policy::Mode;
use crate::policy::Policy;
use crate::registry::{ContactPlan, DroppedCall, HiddenNumbers, MessageLevel};
use crate::scripts;
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// Which line a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    /// The organisation's helpline: caller ID is always hidden.
    Helpline,
    /// A direct call from the advocate's phone.
    Direct,
}

/// Which way a call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    /// The advocate called.
    Outgoing,
    /// The advocate was called.
    Incoming,
}

/// A platform event. Its `Debug` form never shows a number.
#[derive(Clone, PartialEq, Eq)]
pub enum Event {
    /// The advocate is about to place a call.
    OutgoingCall {
        /// The number as dialled.
        number: String,
        /// The line.
        line: Line,
        /// The advocate has seen a warning about this call and confirmed it.
        confirmed: bool,
    },
    /// A call ended.
    CallEnded {
        /// The other party's number.
        number: String,
        /// The line.
        line: Line,
        /// Who called.
        direction: CallDirection,
        /// When the call started.
        started_at: DateTime<Utc>,
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
    /// What the app observed about the device.
    Posture {
        /// The current screen timeout in seconds (0: never locks).
        lock_timeout_secs: Option<u32>,
        /// Whether a PIN, password or biometric lock is set.
        secure_lock: Option<bool>,
        /// Result of a caller-ID check: was the number hidden?
        caller_id_hidden: Option<bool>,
    },
    /// The rules the app cannot enforce on this phone right now, as it last found them. Each
    /// report replaces the previous set; an empty set clears it.
    PlatformGaps {
        /// The gaps, as kinds (no free text).
        gaps: Vec<RuleGap>,
    },
    /// The advocate is about to hand the phone to someone else.
    HandoffRequested,
    /// Periodic housekeeping (at least every few minutes while running).
    Tick,
    /// The app reached the organisation (relay poll succeeded) without a new policy or command.
    CheckIn,
    /// The advocate unlocked the phone.
    Unlocked,
    /// An unlock attempt failed.
    UnlockFailed,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::OutgoingCall { line, confirmed, .. } => write!(f, "OutgoingCall({line:?}, confirmed={confirmed})"),
            Event::CallEnded { line, direction, dropped, .. } => {
                write!(f, "CallEnded({line:?}, {direction:?}, dropped={dropped})")
            }
            Event::OutgoingSms { .. } => f.write_str("OutgoingSms"),
            Event::IncomingCall { number } => write!(f, "IncomingCall(shown={})", number.is_some()),
            Event::Posture { lock_timeout_secs, secure_lock, caller_id_hidden } => {
                write!(f, "Posture({lock_timeout_secs:?}, {secure_lock:?}, {caller_id_hidden:?})")
            }
            Event::PlatformGaps { gaps } => write!(f, "PlatformGaps({gaps:?})"),
            other => f.write_str(other.audit_name()),
        }
    }
}

impl Event {
    pub(crate) fn audit_name(&self) -> &'static str {
        match self {
            Event::HandoffRequested => "HandoffRequested",
            Event::Tick => "Tick",
            Event::CheckIn => "CheckIn",
            Event::Unlocked => "Unlocked",
            Event::UnlockFailed => "UnlockFailed",
            _ => "Event",
        }
    }

    pub(crate) fn audit_kind(&self) -> AuditKind {
        match self {
            Event::OutgoingCall { .. } => AuditKind::OutgoingCallChecked,
            Event::CallEnded { .. } => AuditKind::CallEnded,
            Event::OutgoingSms { .. } => AuditKind::SmsChecked,
            Event::IncomingCall { .. } => AuditKind::IncomingCallChecked,
            Event::Posture { .. } => AuditKind::PostureReported,
            Event::PlatformGaps { .. } => AuditKind::PlatformGapsReported,
            Event::HandoffRequested => AuditKind::HandoffRequested,
            Event::Tick => AuditKind::Tick,
            Event::CheckIn => AuditKind::CheckIn,
            Event::Unlocked => AuditKind::Unlocked,
            Event::UnlockFailed => AuditKind::UnlockFailed,
        }
    }
}

/// Why something was blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    /// Texts to survivors are blocked.
    SmsToSurvivor,
    /// A work phone is never handed to someone else.
    WorkPhoneNeverShared,
    /// The policy hides caller ID with a dialling prefix, which this platform cannot dial
    /// (iOS refuses `*` and `#` in call URLs): the call would show the number.
    CallerIdCannotBeHidden,
}

/// Why the advocate is warned before a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarnReason {
    /// The survivor's plan says now is not a safe time.
    OutsideSafeWindow,
    /// The survivor's phone rejects hidden numbers and they agreed to see the advocate's
    /// number: confirming places the call with the number shown.
    NumberWillShow,
}

/// The decision for the event at hand.
#[derive(Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allow,
    /// Do not go ahead.
    Block {
        /// Why, as a kind.
        reason: BlockReason,
        /// Why, in words an advocate can read.
        message: String,
    },
    /// Place the call with this dial string (the caller-ID rule applied).
    Dial {
        /// What to dial.
        dial_string: String,
        /// Route through the organisation's VoIP service.
        via_voip: bool,
    },
    /// Ask the advocate first; resend the event with `confirmed: true` to proceed.
    Warn {
        /// Why, as a kind.
        reason: WarnReason,
        /// Why, in words an advocate can read (names the next safe time).
        message: String,
        /// The next safe time, if the plan has one.
        next_safe_at: Option<DateTime<Utc>>,
    },
    /// Send the incoming call to voicemail.
    SendToVoicemail {
        /// Why, in words an advocate can read.
        message: String,
    },
}

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Allow => f.write_str("Allow"),
            Verdict::Block { reason, message } => write!(f, "Block({reason:?}, {message:?})"),
            // The dial string holds the number: keep it out of logs and panic messages.
            Verdict::Dial { dial_string, via_voip } => {
                let prefix: String = dial_string.chars().take_while(|c| matches!(c, '*' | '#')).collect();
                write!(f, "Dial({prefix}<redacted>, voip={via_voip})")
            }
            Verdict::Warn { reason, message, next_safe_at } => {
                write!(f, "Warn({reason:?}, {message:?}, {next_safe_at:?})")
            }
            Verdict::SendToVoicemail { message } => write!(f, "SendToVoicemail({message:?})"),
        }
    }
}

/// What the app shows the advocate for a call: the survivor's wishes, and the words the
/// guidance gives for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallGuidance {
    /// Whether a voicemail may be left.
    pub voicemail_allowed: bool,
    /// What a voicemail may say.
    pub message_level: MessageLevel,
    /// What to do if the call drops.
    pub dropped_call: DroppedCall,
    /// What the survivor's phone does with hidden numbers, and the agreed alternative.
    pub hidden_numbers: HiddenNumbers,
    /// The vague voicemail to leave, when a voicemail may be left and may say only that much.
    pub voicemail_script: Option<String>,
    /// The plan's review date has come: check with the survivor that it still suits them.
    pub review_due: bool,
    /// The program's practice when a hotline call from someone without a plan drops.
    pub dropped_call_practice: Option<String>,
}

impl CallGuidance {
    /// The guidance for a survivor with a plan, at `now` (local dates at `offset`).
    pub fn for_plan(p: &ContactPlan, policy: &Policy, now: DateTime<Utc>, offset: FixedOffset) -> Self {
        let script = p.voicemail_allowed && p.message_level == MessageLevel::Vague;
        Self {
            voicemail_allowed: p.voicemail_allowed,
            message_level: p.message_level,
            dropped_call: p.dropped_call,
            hidden_numbers: p.hidden_numbers,
            voicemail_script: script.then(|| scripts::vague_voicemail(policy)),
            review_due: p.review_due(now, offset),
            dropped_call_practice: None,
        }
    }

    /// The guidance for a hotline caller with no plan: no voicemail, no call back, and the
    /// program's practice to tell callers.
    pub fn hotline_caller() -> Self {
        Self {
            voicemail_allowed: false,
            message_level: MessageLevel::None,
            dropped_call: DroppedCall::TheyCallBack,
            hidden_numbers: HiddenNumbers::Accepted,
            voicemail_script: None,
            review_due: false,
            dropped_call_practice: Some(scripts::HOTLINE_DROPPED_CALL.into()),
        }
    }
}

/// A rule the app found it cannot enforce on this phone at run time: a closed set of kinds, so
/// nothing it carries can hold a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleGap {
    /// Rule 3: Quietline is not the default SMS app, or another app may still send texts, so
    /// texts sent from other apps are not checked against the survivor list.
    SmsFromOtherAppsUnchecked,
    /// Rule 2: the phone has no helpline calling route (no softphone configured and no linked
    /// VoIP service), so helpline calls cannot be placed with the organisation's number.
    NoHelplineCallRoute,
}

/// A way the device falls short of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Finding {
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
        /// The action.
        id: ActionId,
        /// Its kind.
        kind: String,
        /// Failed attempts.
        attempts: u32,
    },
    /// Actions were dropped unacknowledged after the retention limit.
    ActionsAbandoned {
        /// How many, ever.
        count: u64,
    },
    /// The platform cannot carry out this kind of action at all (e.g. deleting the system call
    /// log on iOS); the rule is not enforced on this phone.
    ActionUnsupported {
        /// The action kind.
        kind: String,
        /// How many such actions were dropped.
        count: u64,
    },
    /// The wall clock jumped away from the monotonic clock's reckoning (set back or forward).
    ClockJumps {
        /// How many jumps were seen.
        count: u64,
    },
    /// The signed policy has expired; it stays enforced until a newer one arrives.
    PolicyStale {
        /// When it expired (whole seconds; unix seconds in JSON).
        #[serde(with = "chrono::serde::ts_seconds")]
        expired_at: DateTime<Utc>,
    },
    /// The app reported that it cannot enforce a rule on this phone (see [`RuleGap`]).
    RuleNotEnforced {
        /// Which rule, and why.
        gap: RuleGap,
    },
}

/// Everything that came of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub verdict: Verdict,
    /// Actions for the app, already durable.
    pub actions: Vec<Action>,
    /// Non-compliance found while handling the event.
    pub findings: Vec<Finding>,
    /// The survivor's wishes, for calls with a registered survivor.
    pub guidance: Option<CallGuidance>,
}

impl Outcome {
    /// Nothing to say: allow, no actions.
    pub(crate) fn allow() -> Self {
        Self { verdict: Verdict::Allow, actions: Vec::new(), findings: Vec::new(), guidance: None }
    }

    /// Makes an action durable in `outbox` and hands it out with this outcome (once, even if an
    /// identical pending action already existed).
    pub(crate) fn push(&mut self, outbox: &mut Outbox, kind: ActionKind, now: DateTime<Utc>, due: DateTime<Utc>) {
        let a = outbox.push(kind, now, due);
        if !self.actions.iter().any(|x| x.id == a.id) {
            self.actions.push(a);
        }
    }
}

/// The compliance report for IT staff: findings and counts, never survivor data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceReport {
    /// The phone's mode.
    pub mode: Mode,
    /// Current findings.
    pub findings: Vec<Finding>,
    /// Registered survivors.
    pub survivors: u64,
    /// Pending actions.
    pub pending_actions: u64,
    /// What no app can enforce, each with the date IT confirmed it (from the policy).
    pub checklist: Vec<ChecklistEntry>,
}

/// What the platform the agent runs on can do. The app declares it once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformCaps {
    /// The app can wipe the whole phone (Android device owner). When false, a full wipe is
    /// performed as a selective one and the receipt says why.
    pub full_wipe: bool,
    /// The app can dial a caller-ID prefix such as `*67` or `#31#` (not on iOS).
    pub prefix_dialing: bool,
}

impl Default for PlatformCaps {
    fn default() -> Self {
        // Until the app declares what its platform can do, a full wipe is never assumed.
        Self { full_wipe: false, prefix_dialing: true }
    }
}
