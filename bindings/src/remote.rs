//! The core's own types, exposed as they are (`#[uniffi::remote]`): field-less enums and
//! records whose shape is the same on both sides need no mirror and no conversion. Each
//! declaration restates the variants (UniFFI needs them to generate foreign code; a variant
//! added in core fails to compile here until it is added) and carries the docs that the
//! generated Kotlin, Swift and Python show.

pub use quietline_core::policy::Day;
pub use quietline_core::wire::CommandAction;
pub use quietline_core::{
    AckOutcome, AckResult, AuditKind, BlockReason, CallDirection, CallGuidance, ChecklistItem, CommandStatus,
    DroppedCall, HiddenNumbers, Line, MessageLevel, Mode, NotifyKind, PlatformCaps, RuleGap, WarnReason, WipeScope,
};

/// Which line a call uses: helpline calls always hide caller ID.
#[uniffi::remote(Enum)]
enum Line {
    /// The organisation's helpline.
    Helpline,
    /// A direct call from the advocate's own number.
    Direct,
}

/// Which way a call went.
#[uniffi::remote(Enum)]
enum CallDirection {
    /// The advocate called.
    Outgoing,
    /// The advocate was called.
    Incoming,
}

/// Why a `Verdict.Block` blocked, so the app can choose its own wording or UI.
#[uniffi::remote(Enum)]
enum BlockReason {
    /// Texts to survivors are blocked: a text stays on the survivor's phone where others may read it.
    SmsToSurvivor,
    /// A work phone is never handed to anyone else.
    WorkPhoneNeverShared,
    /// The policy hides caller ID with a dialling prefix, which this platform cannot dial
    /// (iOS refuses `*` and `#` in call URLs): the call would show the number. Offer the
    /// organisation's VoIP line instead.
    CallerIdCannotBeHidden,
}

/// Why a `Verdict.Warn` asks the advocate to confirm.
#[uniffi::remote(Enum)]
enum WarnReason {
    /// The survivor's contact plan says now is not a safe time to call.
    OutsideSafeWindow,
    /// The survivor's phone rejects hidden numbers and they agreed to see the advocate's
    /// number: confirming places the call with the number shown.
    NumberWillShow,
}

/// What the survivor's phone does with hidden numbers, and the alternative they agreed,
/// so the app offers it instead of a call that fails silently.
#[uniffi::remote(Enum)]
enum HiddenNumbers {
    /// Hidden calls reach the survivor: caller ID is hidden as the policy says.
    Accepted,
    /// Their phone rejects hidden calls; they agreed to see the advocate's number, shown only
    /// after the advocate confirms each call.
    ShowNumberAfterConfirm,
    /// Their phone rejects hidden calls; they agreed to calls from the organisation's
    /// alternate caller name, through its VoIP line.
    AlternateCallerId,
}

/// What no app can enforce, and IT staff confirm by hand with a date.
#[uniffi::remote(Enum)]
enum ChecklistItem {
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

/// Which wipe a `Wipe` action asks for.
#[uniffi::remote(Enum)]
enum WipeScope {
    /// The agent's own data and the work profile; never the advocate's personal data.
    Selective,
    /// The whole phone (work phones only).
    Full,
}

/// Why the advocate is notified. Apps map each kind to their own, localised wording.
#[uniffi::remote(Enum)]
enum NotifyKind {
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

/// Who owns the phone, which decides what the organisation may touch.
#[uniffi::remote(Enum)]
enum Mode {
    /// Organisation-owned: may be wiped whole, never shared.
    Work,
    /// The advocate's personal phone: selective wipe only.
    Byod,
}

/// What a voicemail to a survivor may say.
#[uniffi::remote(Enum)]
enum MessageLevel {
    /// Leave no words at all.
    None,
    /// A vague script that names neither the organisation nor the purpose.
    Vague,
}

/// What the survivor wants when a call drops.
#[uniffi::remote(Enum)]
enum DroppedCall {
    /// The advocate calls back.
    WeCallBack,
    /// The advocate waits for the survivor to call back (safer if someone may be listening).
    TheyCallBack,
}

/// A day of the week, for safe call windows.
#[uniffi::remote(Enum)]
enum Day {
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

/// What `Agent.ack` did with the acknowledgement.
#[uniffi::remote(Enum)]
enum AckOutcome {
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

/// What an audit record is about. Audit records name kinds of events, never people or numbers.
#[uniffi::remote(Enum)]
enum AuditKind {
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
    /// The app reported the rules it cannot enforce on this phone.
    PlatformGapsReported,
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
    /// Texts from or to survivors were held by the agent (counted per day, never timed).
    TextHeld,
    /// Held texts were discarded (by the advocate, a purge or forgetting a survivor).
    TextsDiscarded,
    /// Held texts expired.
    TextsExpired,
}

/// A rule the app cannot enforce on this phone at run time; report the current set with
/// `Event.PlatformGaps`. A closed set of kinds: nothing here can carry a number.
#[uniffi::remote(Enum)]
enum RuleGap {
    /// Rule 3: Quietline is not the default SMS app, or another app may still send texts, so
    /// texts sent from other apps are not checked against the survivor list.
    SmsFromOtherAppsUnchecked,
    /// Rule 2: no helpline calling route (no softphone configured and no linked VoIP service),
    /// so helpline calls cannot be placed with the organisation's number.
    NoHelplineCallRoute,
}

/// What came of a signed command handed to `Agent.applyCommand`.
#[uniffi::remote(Enum)]
enum CommandStatus {
    /// Verified and applied now: execute the actions (or, after a wipe, the platform wipe).
    Applied,
    /// Verified, but the policy or the phone's mode does not allow it (a wipe scope the policy
    /// forbids). Nothing was done; the signed receipt says why.
    Refused,
    /// Applied before (the same command arrived again, by another channel or a retry).
    /// Nothing changed; the original receipt, if any, is returned.
    Replayed,
}

/// What a signed command asks for.
#[uniffi::remote(Enum)]
enum CommandAction {
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

/// How the app reports an action it was given.
#[uniffi::remote(Enum)]
enum AckResult {
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

/// The survivor's wishes for this call, and the guidance's words for them, for the app to show
/// the advocate.
#[uniffi::remote(Record)]
struct CallGuidance {
    /// Whether a voicemail may be left.
    pub voicemail_allowed: bool,
    /// What a voicemail may say.
    pub message_level: MessageLevel,
    /// What to do if the call drops.
    pub dropped_call: DroppedCall,
    /// What the survivor's phone does with hidden numbers, and the agreed alternative.
    pub hidden_numbers: HiddenNumbers,
    /// The vague voicemail to leave, when one may be left and may say only that much.
    pub voicemail_script: Option<String>,
    /// The plan's review date has come: check with the survivor that it still suits them.
    pub review_due: bool,
    /// The program's practice when a hotline call from someone without a plan drops: tell callers.
    pub dropped_call_practice: Option<String>,
}

/// What the platform the app runs on can do (`Agent.setPlatformCaps`).
#[uniffi::remote(Record)]
struct PlatformCaps {
    /// The app can wipe the whole phone (Android device owner): false on iOS.
    pub full_wipe: bool,
    /// The app can dial a caller-ID prefix such as `*67` or `#31#`: false on iOS.
    pub prefix_dialing: bool,
}
