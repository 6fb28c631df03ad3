//! Records and enums that cross the FFI, each mirroring a core type and converting with
//! `From` (or `TryFrom` where a value from the app may be out of range).

use crate::error::ApiError;
use crate::platform::{from_system_time, to_system_time, unix_to_system_time};
use quietline_core as ql;
use std::time::SystemTime;

/// Declares a field-less FFI enum that mirrors a core enum variant for variant, with `From`
/// both ways, so a variant added in core fails to compile here until it is mirrored.
macro_rules! mirror_enum {
    ($(#[$m:meta])* $name:ident = $core:ty { $($(#[$vm:meta])* $v:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl From<$core> for $name {
            fn from(x: $core) -> Self {
                type C = $core;
                match x { $(C::$v => $name::$v),+ }
            }
        }
        impl From<$name> for $core {
            fn from(x: $name) -> Self {
                type C = $core;
                match x { $($name::$v => C::$v),+ }
            }
        }
    };
}

mirror_enum! {
    /// Which line a call uses: helpline calls always hide caller ID.
    Line = ql::Line {
        /// The organisation's helpline.
        Helpline,
        /// A direct call from the advocate's own number.
        Direct,
    }
}

mirror_enum! {
    /// Which way a call went.
    CallDirection = ql::CallDirection {
        /// The advocate called.
        Outgoing,
        /// The advocate was called.
        Incoming,
    }
}

mirror_enum! {
    /// Why a `Verdict.Block` blocked, so the app can choose its own wording or UI.
    BlockReason = ql::BlockReason {
        /// Texts to survivors are blocked: a text stays on the survivor's phone where others may read it.
        SmsToSurvivor,
        /// A work phone is never handed to anyone else.
        WorkPhoneNeverShared,
        /// The policy hides caller ID with a dialling prefix, which this platform cannot dial
        /// (iOS refuses `*` and `#` in call URLs): the call would show the number. Offer the
        /// organisation's VoIP line instead.
        CallerIdCannotBeHidden,
    }
}

mirror_enum! {
    /// Why a `Verdict.Warn` asks the advocate to confirm.
    WarnReason = ql::WarnReason {
        /// The survivor's contact plan says now is not a safe time to call.
        OutsideSafeWindow,
        /// The survivor's phone rejects hidden numbers and they agreed to see the advocate's
        /// number: confirming places the call with the number shown.
        NumberWillShow,
    }
}

mirror_enum! {
    /// What the survivor's phone does with hidden numbers, and the alternative they agreed,
    /// so the app offers it instead of a call that fails silently.
    HiddenNumbers = ql::HiddenNumbers {
        /// Hidden calls reach the survivor: caller ID is hidden as the policy says.
        Accepted,
        /// Their phone rejects hidden calls; they agreed to see the advocate's number, shown only
        /// after the advocate confirms each call.
        ShowNumberAfterConfirm,
        /// Their phone rejects hidden calls; they agreed to calls from the organisation's
        /// alternate caller name, through its VoIP line.
        AlternateCallerId,
    }
}

mirror_enum! {
    /// What no app can enforce, and IT staff confirm by hand with a date.
    ChecklistItem = ql::ChecklistItem {
        /// Voicemail is not transcribed to email or text.
        VoicemailTranscriptionOff,
        /// Few staff can open the carrier's online account, which lists every call.
        CarrierAccountsRestricted,
        /// The parts of phone bills that list calls are destroyed when they arrive.
        BillingRecordsDestroyed,
        /// No free VoIP service carries survivor calls.
        NoFreeVoip,
        /// A VoIP number is not reused with several survivors.
        VoipNumbersNotReused,
    }
}

/// One line of the compliance checklist: an item and the day IT confirmed it (`"YYYY-MM-DD"`),
/// or `null` while nobody has.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChecklistEntry {
    /// The item.
    pub item: ChecklistItem,
    /// When IT confirmed it.
    pub confirmed_on: Option<String>,
}

impl From<ql::ChecklistEntry> for ChecklistEntry {
    fn from(e: ql::ChecklistEntry) -> Self {
        ChecklistEntry { item: e.item.into(), confirmed_on: e.confirmed_on.map(|d| d.to_string()) }
    }
}

mirror_enum! {
    /// Which wipe a `Wipe` action asks for.
    WipeScope = ql::WipeScope {
        /// The agent's own data and the work profile; never the advocate's personal data.
        Selective,
        /// The whole phone (work phones only).
        Full,
    }
}

mirror_enum! {
    /// Why the advocate is notified. Apps map each kind to their own, localised wording.
    NotifyKind = ql::NotifyKind {
        /// The screen lock timeout is longer than the policy allows.
        LockTimeoutTooLong,
        /// No secure lock (PIN, password, biometric) is set.
        SecureLockMissing,
        /// The periodic check found that caller ID is no longer hidden.
        CallerIdBlockingFailed,
        /// Working hours have ended: turn the phone off.
        OffDutyPowerOff,
        /// A survivor called outside working hours and the call was let through.
        OffDutySurvivorCall,
        /// A survivor call dropped; the survivor's plan says the advocate calls back.
        DroppedCallWeCallBack,
        /// A survivor call dropped; the survivor's plan says to wait for them to call back.
        DroppedCallTheyCallBack,
        /// An action keeps failing on this phone.
        ActionFailing,
        /// The installed policy has expired and no newer one has arrived.
        PolicyStale,
        /// No contact with the organisation for a while: connect the phone.
        NoCheckIn,
        /// The phone has not been unlocked for a while.
        NoUnlock,
        /// The phone will lock itself soon unless it checks in or is unlocked.
        OfflineLockSoon,
        /// The phone will wipe itself soon unless it checks in or is unlocked.
        OfflineWipeSoon,
    }
}

mirror_enum! {
    /// Who owns the phone, which decides what the organisation may touch.
    Mode = ql::policy::Mode {
        /// Organisation-owned: may be wiped whole, never shared.
        Work,
        /// The advocate's personal phone: selective wipe only.
        Byod,
    }
}

mirror_enum! {
    /// What a voicemail to a survivor may say.
    MessageLevel = ql::MessageLevel {
        /// Leave no words at all.
        None,
        /// A vague script that names neither the organisation nor the purpose.
        Vague,
    }
}

mirror_enum! {
    /// What the survivor wants when a call drops.
    DroppedCall = ql::DroppedCall {
        /// The advocate calls back.
        WeCallBack,
        /// The advocate waits for the survivor to call back (safer if someone may be listening).
        TheyCallBack,
    }
}

mirror_enum! {
    /// A day of the week, for safe call windows.
    Day = ql::policy::Day {
        /// Monday.
        Mon,
        /// Tuesday.
        Tue,
        /// Wednesday.
        Wed,
        /// Thursday.
        Thu,
        /// Friday.
        Fri,
        /// Saturday.
        Sat,
        /// Sunday.
        Sun,
    }
}

mirror_enum! {
    /// What `Agent.ack` did with the acknowledgement.
    AckOutcome = ql::AckOutcome {
        /// The action is done and forgotten, with any number it held.
        Completed,
        /// The failure was recorded; the action comes back from `pendingActions` after a backoff.
        WillRetry,
        /// The action had already been acknowledged (a repeated ack after a restart is harmless).
        AlreadyDone,
        /// The platform can never do this kind of action: it was dropped, with any number it held,
        /// and the compliance report shows the gap.
        Unsupported,
    }
}

mirror_enum! {
    /// What an audit record is about. Audit records name kinds of events, never people or numbers.
    AuditKind = ql::AuditKind {
        /// The agent was created.
        AgentCreated,
        /// The agent was opened.
        AgentOpened,
        /// A policy was installed.
        PolicyInstalled,
        /// A policy was refused.
        PolicyRejected,
        /// A survivor was registered.
        SurvivorRegistered,
        /// A survivor was forgotten.
        SurvivorForgotten,
        /// Survivor registrations expired.
        SurvivorsExpired,
        /// All survivor data was purged.
        SurvivorDataPurged,
        /// Outgoing calls were checked.
        OutgoingCallChecked,
        /// Outgoing calls were warned about.
        OutgoingCallWarned,
        /// Calls ended.
        CallEnded,
        /// Texts were checked.
        SmsChecked,
        /// Texts were blocked.
        SmsBlocked,
        /// Incoming calls were checked.
        IncomingCallChecked,
        /// Incoming calls were screened off duty.
        IncomingCallScreened,
        /// The app reported the device's posture.
        PostureReported,
        /// The device fell short of the policy.
        PostureNonCompliant,
        /// A handoff was requested.
        HandoffRequested,
        /// A handoff was refused (work phone).
        HandoffRefused,
        /// Housekeeping ran.
        Tick,
        /// Actions were issued.
        ActionIssued,
        /// An action was done.
        ActionDone,
        /// An action failed.
        ActionFailed,
        /// Actions were dropped unacknowledged.
        ActionsAbandoned,
        /// The platform said it can never do an action.
        ActionUnsupported,
        /// A signed command was accepted.
        CommandAccepted,
        /// A command was rejected.
        CommandRejected,
        /// A command was replayed.
        CommandReplayed,
        /// A wipe started.
        WipeStarted,
        /// A wipe completed.
        WipeCompleted,
        /// The clock jumped.
        ClockJump,
        /// The app reached the organisation.
        CheckIn,
        /// The phone was unlocked.
        Unlocked,
        /// An unlock attempt failed.
        UnlockFailed,
    }
}

/// A time from the app, or `InvalidInput` naming the field.
fn time_in(t: SystemTime, field: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    from_system_time(t).ok_or_else(|| ApiError::input(format!("`{field}` is out of range")))
}

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
        // Numbers stay out of logs and panic messages.
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
            Event::HandoffRequested => f.write_str("HandoffRequested"),
            Event::Tick => f.write_str("Tick"),
            Event::CheckIn => f.write_str("CheckIn"),
            Event::Unlocked => f.write_str("Unlocked"),
            Event::UnlockFailed => f.write_str("UnlockFailed"),
        }
    }
}

impl TryFrom<Event> for ql::Event {
    type Error = ApiError;
    fn try_from(e: Event) -> Result<Self, ApiError> {
        Ok(match e {
            Event::OutgoingCall { number, line, confirmed } => {
                ql::Event::OutgoingCall { number, line: line.into(), confirmed }
            }
            Event::CallEnded { number, line, direction, started_at, dropped } => ql::Event::CallEnded {
                number,
                line: line.into(),
                direction: direction.into(),
                started_at: time_in(started_at, "started_at")?,
                dropped,
            },
            Event::OutgoingSms { number } => ql::Event::OutgoingSms { number },
            Event::IncomingCall { number } => ql::Event::IncomingCall { number },
            Event::Posture { lock_timeout_secs, secure_lock, caller_id_hidden } => {
                ql::Event::Posture { lock_timeout_secs, secure_lock, caller_id_hidden }
            }
            Event::HandoffRequested => ql::Event::HandoffRequested,
            Event::Tick => ql::Event::Tick,
            Event::CheckIn => ql::Event::CheckIn,
            Event::Unlocked => ql::Event::Unlocked,
            Event::UnlockFailed => ql::Event::UnlockFailed,
        })
    }
}

/// The decision for the event at hand.
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Verdict {
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
        next_safe_at: Option<SystemTime>,
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
            Verdict::Dial { via_voip, .. } => write!(f, "Dial(<redacted>, voip={via_voip})"),
            Verdict::Allow => f.write_str("Allow"),
            Verdict::Block { reason, .. } => write!(f, "Block({reason:?})"),
            Verdict::Warn { reason, next_safe_at, .. } => write!(f, "Warn({reason:?}, {next_safe_at:?})"),
            Verdict::SendToVoicemail { .. } => f.write_str("SendToVoicemail"),
        }
    }
}

impl From<ql::Verdict> for Verdict {
    fn from(v: ql::Verdict) -> Self {
        match v {
            ql::Verdict::Allow => Verdict::Allow,
            ql::Verdict::Block { reason, message } => Verdict::Block { reason: reason.into(), message },
            ql::Verdict::Dial { dial_string, via_voip } => Verdict::Dial { dial_string, via_voip },
            ql::Verdict::Warn { reason, message, next_safe_at } => {
                Verdict::Warn { reason: reason.into(), message, next_safe_at: next_safe_at.map(to_system_time) }
            }
            ql::Verdict::SendToVoicemail { message } => Verdict::SendToVoicemail { message },
        }
    }
}

/// What the app must do. Execute it, then call `Agent.ack` with the action's id.
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ActionKind {
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
        number: String,
        /// Entries at or after this time.
        since: SystemTime,
    },
    /// Delete every contact holding this number.
    DeleteContact {
        /// The number in E.164 form (do not log it).
        number: String,
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
        at: SystemTime,
    },
    /// Remove survivor data the app holds itself (its contacts, notes, caches).
    PurgeSurvivorData,
    /// Wipe.
    Wipe {
        /// Which wipe.
        scope: WipeScope,
    },
}

impl std::fmt::Debug for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActionKind::DeleteCallLog { since, .. } => write!(f, "DeleteCallLog(<redacted>, {since:?})"),
            ActionKind::DeleteContact { .. } => f.write_str("DeleteContact(<redacted>)"),
            ActionKind::SetMaxTimeToLock { secs } => write!(f, "SetMaxTimeToLock({secs})"),
            ActionKind::RequireSecureLock => f.write_str("RequireSecureLock"),
            ActionKind::LockNow => f.write_str("LockNow"),
            ActionKind::SetMaxFailedUnlocks { count } => write!(f, "SetMaxFailedUnlocks({count})"),
            ActionKind::Notify { kind } => write!(f, "Notify({kind:?})"),
            ActionKind::ScheduleCallerIdCheck { at } => write!(f, "ScheduleCallerIdCheck({at:?})"),
            ActionKind::PurgeSurvivorData => f.write_str("PurgeSurvivorData"),
            ActionKind::Wipe { scope } => write!(f, "Wipe({scope:?})"),
        }
    }
}

impl From<ql::ActionKind> for ActionKind {
    fn from(k: ql::ActionKind) -> Self {
        match k {
            ql::ActionKind::SetMaxTimeToLock { secs } => ActionKind::SetMaxTimeToLock { secs },
            ql::ActionKind::RequireSecureLock => ActionKind::RequireSecureLock,
            ql::ActionKind::LockNow => ActionKind::LockNow,
            ql::ActionKind::SetMaxFailedUnlocks { count } => ActionKind::SetMaxFailedUnlocks { count },
            ql::ActionKind::DeleteCallLog { number, since } => {
                ActionKind::DeleteCallLog { number: number.expose().to_string(), since: to_system_time(since) }
            }
            ql::ActionKind::DeleteContact { number } => {
                ActionKind::DeleteContact { number: number.expose().to_string() }
            }
            ql::ActionKind::Notify { kind } => ActionKind::Notify { kind: kind.into() },
            ql::ActionKind::ScheduleCallerIdCheck { at } => {
                ActionKind::ScheduleCallerIdCheck { at: to_system_time(at) }
            }
            ql::ActionKind::PurgeSurvivorData => ActionKind::PurgeSurvivorData,
            ql::ActionKind::Wipe { scope } => ActionKind::Wipe { scope: scope.into() },
        }
    }
}

/// A durable action: it stays pending, across restarts, until the app acknowledges it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Action {
    /// Its id, for `Agent.ack`.
    pub id: u64,
    /// What to do.
    pub kind: ActionKind,
    /// When it was issued.
    pub created_at: SystemTime,
    /// Not to be done before this time (the after-call delay, retry backoff).
    pub due_at: SystemTime,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last failure the app reported, with long digit runs masked.
    pub last_error: Option<String>,
}

impl From<ql::Action> for Action {
    fn from(a: ql::Action) -> Self {
        Action {
            id: a.id,
            kind: a.kind.into(),
            created_at: to_system_time(a.created_at),
            due_at: to_system_time(a.due_at),
            attempts: a.attempts,
            last_error: a.last_error,
        }
    }
}

/// How the app reports an action it was given.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum AckResult {
    /// Done: the action, and any number it held, is dropped.
    Done,
    /// Failed: it will be handed out again after a backoff and shows in compliance.
    Failed {
        /// Why, for IT staff. Digit runs are masked before it is stored, but do not put a number in it.
        reason: String,
    },
    /// This platform can never do it (iOS cannot delete the system call log): the action is
    /// dropped, with any number it held, and compliance reports the gap instead of retrying.
    Unsupported {
        /// Why, for IT staff. Digit runs are masked; do not put a number in it.
        reason: String,
    },
}

impl From<AckResult> for ql::AckResult {
    fn from(r: AckResult) -> Self {
        match r {
            AckResult::Done => ql::AckResult::Done,
            AckResult::Failed { reason } => ql::AckResult::Failed { reason },
            AckResult::Unsupported { reason } => ql::AckResult::Unsupported { reason },
        }
    }
}

/// A way the device falls short of the policy, for the compliance report and the app's UI.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
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
        expired_at: SystemTime,
    },
}

impl From<ql::Finding> for Finding {
    fn from(f: ql::Finding) -> Self {
        match f {
            ql::Finding::LockTimeoutTooLong { observed_secs, max_secs } => {
                Finding::LockTimeoutTooLong { observed_secs, max_secs }
            }
            ql::Finding::SecureLockMissing => Finding::SecureLockMissing,
            ql::Finding::CallerIdNotHidden => Finding::CallerIdNotHidden,
            ql::Finding::CallerIdCheckOverdue => Finding::CallerIdCheckOverdue,
            ql::Finding::ActionFailing { id, kind, attempts } => Finding::ActionFailing { id, kind, attempts },
            ql::Finding::ActionsAbandoned { count } => Finding::ActionsAbandoned { count },
            ql::Finding::ActionUnsupported { kind, count } => Finding::ActionUnsupported { kind, count },
            ql::Finding::ClockJumps { count } => Finding::ClockJumps { count },
            ql::Finding::PolicyStale { expired_at } => {
                Finding::PolicyStale { expired_at: unix_to_system_time(expired_at) }
            }
        }
    }
}

/// The survivor's wishes for this call, and the guidance's words for them, for the app to show
/// the advocate.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CallGuidance {
    /// Whether a voicemail may be left.
    pub voicemail_allowed: bool,
    /// What a voicemail may say.
    pub message_level: MessageLevel,
    /// What to do if the call drops.
    pub dropped_call: DroppedCall,
    /// The vague voicemail to leave, when one may be left and may say only that much.
    #[uniffi(default)]
    pub voicemail_script: Option<String>,
    /// The plan's review date has come: check with the survivor that it still suits them.
    #[uniffi(default)]
    pub review_due: bool,
    /// What the survivor's phone does with hidden numbers (`null` when it accepts them).
    #[uniffi(default)]
    pub hidden_numbers: Option<HiddenNumbers>,
    /// The program's practice when a hotline call from someone without a plan drops: tell callers.
    #[uniffi(default)]
    pub dropped_call_practice: Option<String>,
}

impl From<ql::CallGuidance> for CallGuidance {
    fn from(g: ql::CallGuidance) -> Self {
        CallGuidance {
            voicemail_allowed: g.voicemail_allowed,
            message_level: g.message_level.into(),
            dropped_call: g.dropped_call.into(),
            voicemail_script: g.voicemail_script,
            review_due: g.review_due,
            hidden_numbers: Some(g.hidden_numbers).filter(|h| *h != ql::HiddenNumbers::Accepted).map(Into::into),
            dropped_call_practice: g.dropped_call_practice,
        }
    }
}

/// Everything that came of one event.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Outcome {
    /// The decision.
    pub verdict: Verdict,
    /// Actions for the app, already durable: execute and acknowledge each.
    pub actions: Vec<Action>,
    /// Ways the device fell short of the policy, found while handling the event.
    pub findings: Vec<Finding>,
    /// The survivor's wishes, for calls with a registered survivor.
    pub guidance: Option<CallGuidance>,
}

impl From<ql::Outcome> for Outcome {
    fn from(o: ql::Outcome) -> Self {
        Outcome {
            verdict: o.verdict.into(),
            actions: o.actions.into_iter().map(Into::into).collect(),
            findings: o.findings.into_iter().map(Into::into).collect(),
            guidance: o.guidance.map(Into::into),
        }
    }
}

/// The compliance report for IT staff: findings and counts, never survivor data.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ComplianceReport {
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

impl From<ql::ComplianceReport> for ComplianceReport {
    fn from(r: ql::ComplianceReport) -> Self {
        ComplianceReport {
            mode: r.mode.into(),
            findings: r.findings.into_iter().map(Into::into).collect(),
            survivors: r.survivors,
            pending_actions: r.pending_actions,
            checklist: r.checklist.into_iter().map(Into::into).collect(),
        }
    }
}

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
        Ok(ql::SafeWindow { day: w.day.into(), start: local_time(&w.start, "start")?, end: local_time(&w.end, "end")? })
    }
}

impl From<ql::SafeWindow> for SafeWindow {
    fn from(w: ql::SafeWindow) -> Self {
        SafeWindow {
            day: w.day.into(),
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
            message_level: p.message_level.into(),
            dropped_call: p.dropped_call.into(),
            hidden_numbers: p.hidden_numbers.map(Into::into).unwrap_or_default(),
            review_on,
        })
    }
}

impl From<ql::ContactPlan> for ContactPlan {
    fn from(p: ql::ContactPlan) -> Self {
        ContactPlan {
            safe_windows: p.safe_windows.into_iter().map(Into::into).collect(),
            voicemail_allowed: p.voicemail_allowed,
            message_level: p.message_level.into(),
            dropped_call: p.dropped_call.into(),
            hidden_numbers: Some(p.hidden_numbers).filter(|h| *h != ql::HiddenNumbers::Accepted).map(Into::into),
            review_on: p.review_on.map(|d| d.to_string()),
        }
    }
}

/// One audit record: what happened and how often, hash-chained so IT staff can tell the log
/// was not edited. Holds no survivor data.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// When.
    pub at: SystemTime,
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

impl From<ql::AuditRecord> for AuditRecord {
    fn from(r: ql::AuditRecord) -> Self {
        AuditRecord {
            seq: r.seq,
            at: to_system_time(r.at),
            kind: r.kind.into(),
            count: r.count,
            action_ids: r.action_ids,
            detail: r.detail,
            prev: r.prev,
            hash: r.hash,
        }
    }
}

mirror_enum! {
    /// What came of a signed command handed to `Agent.applyCommand`.
    CommandStatus = ql::CommandStatus {
        /// Verified and applied now: execute the actions (or, after a wipe, the platform wipe).
        Applied,
        /// Verified, but the policy or the phone's mode does not allow it (a wipe scope the policy
        /// forbids). Nothing was done; the signed receipt says why.
        Refused,
        /// Applied before (the same command arrived again, by another channel or a retry).
        /// Nothing changed; the original receipt, if any, is returned.
        Replayed,
    }
}

mirror_enum! {
    /// What a signed command asks for.
    CommandAction = ql::wire::CommandAction {
        /// Lock the screen now.
        Lock,
        /// Selective wipe: the agent's data and the work profile, never personal data.
        WipeSelective,
        /// Whole-phone wipe; performed as a selective wipe on a personal (`byod`) phone.
        WipeFull,
        /// Remove survivor data from the phone.
        PurgeSurvivorData,
        /// A liveness check: the phone answers with a signed receipt.
        Ping,
    }
}

/// What came of a signed command. Execute `actions` (and acknowledge each, which signs their
/// receipt), perform `wipe` if set, and deliver `receipt` and `Agent.queuedReceipts()` to IT.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CommandResult {
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

impl From<ql::CommandResult> for CommandResult {
    fn from(r: ql::CommandResult) -> Self {
        CommandResult {
            status: r.status.into(),
            requested: r.requested.into(),
            command_id: r.command_id,
            receipt: r.receipt,
            actions: r.actions.into_iter().map(Into::into).collect(),
            wipe: r.wipe.map(Into::into),
        }
    }
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

/// What the platform the app runs on can do (`Agent.setPlatformCaps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PlatformCaps {
    /// The app can wipe the whole phone (Android device owner): false on iOS.
    pub full_wipe: bool,
    /// The app can dial a caller-ID prefix such as `*67` or `#31#`: false on iOS.
    pub prefix_dialing: bool,
}

impl From<PlatformCaps> for ql::PlatformCaps {
    fn from(c: PlatformCaps) -> Self {
        ql::PlatformCaps { full_wipe: c.full_wipe, prefix_dialing: c.prefix_dialing }
    }
}

/// Survivor numbers to block now, and when the answer changes (`Agent.offDutyBlockList`).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct BlockList {
    /// E.164 numbers to block now. Keep them only in protected storage and never log them.
    pub numbers: Vec<String>,
    /// When working hours next start or end: ask again then.
    pub valid_until: Option<std::time::SystemTime>,
}

impl std::fmt::Debug for BlockList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlockList({} numbers, until {:?})", self.numbers.len(), self.valid_until)
    }
}

impl From<ql::BlockList> for BlockList {
    fn from(b: ql::BlockList) -> Self {
        BlockList { numbers: b.numbers, valid_until: b.valid_until.map(std::time::SystemTime::from) }
    }
}
