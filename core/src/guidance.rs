//! The field's guidance, checked against a policy before anyone relies on it.
//!
//! The policy's own validation ([`Policy::validate`]) keeps values inside their ranges; this
//! module asks whether a policy that parses still follows the guidance the rules come from
//! (docs/policy.md lists every rule). A rule is an **error** when no organisation could want the
//! policy: a prefix that shows the advocate's number, a personal phone with no secure lock, a
//! hotline that promises anonymity and keeps the call log. The core refuses such a policy
//! ([`accept`]), so a phone refuses it too, whoever signed it. A rule is a **warning** when the
//! policy is weaker than the guidance recommends but a program may have its reasons; IT staff see
//! warnings in `quietline-admin policy lint` and `policy sign`.
//!
//! The checks are pure functions of the policy: no clock, no state.

use crate::policy::{CallerIdMethod, Mode, Policy, PolicyError};

/// How seriously a rule is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// The core refuses the policy.
    Error,
    /// The policy is accepted; IT staff are told.
    Warning,
}

/// One guidance rule, as the docs list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// A short stable name, printed with every finding (`byod-secure-lock`).
    pub id: &'static str,
    /// Error or warning.
    pub level: Level,
    /// The policy field it looks at (dotted path), or the signed policy's term.
    pub field: &'static str,
    /// What the guidance asks, in one sentence.
    pub guidance: &'static str,
}

/// A rule that a policy breaks, with what exactly is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// What this policy does, in words IT staff can act on.
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.rule.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(f, "{level} [{}] {}: {} ({})", self.rule.id, self.rule.field, self.detail, self.rule.guidance)
    }
}

macro_rules! rules {
    ($($name:ident = $id:literal, $level:ident, $field:literal, $why:literal;)*) => {
        $(
            #[doc = $why]
            pub const $name: Rule = Rule { id: $id, level: Level::$level, field: $field, guidance: $why };
        )*
        /// Every rule, in the order the docs list them.
        pub const RULES: &[Rule] = &[$($name),*];
    };
}

rules! {
    PREFIX_SHOWS = "caller-id-prefix-shows", Error, "caller_id.prefix",
        "Caller ID is hidden on survivor calls: a prefix that shows the number, or only queries the setting, defeats rule 2";
    BYOD_SECURE_LOCK = "byod-secure-lock", Error, "auto_lock.require_secure_lock",
        "A personal phone is protected with a passcode, password or biometric lock";
    BYOD_DELETE_CALL_LOG = "byod-delete-call-log", Error, "after_call.delete_call_log",
        "A personal phone deletes a survivor call's log entries as soon as the call ends";
    BYOD_DELETE_CONTACT = "byod-delete-contact", Error, "after_call.delete_contact",
        "A personal phone deletes the contact details of a survivor as soon as the call ends";
    HOTLINE_KEEPS_NUMBERS = "hotline-keeps-numbers", Error, "after_call",
        "A hotline that promises anonymity keeps no caller numbers: the call log and contacts are cleaned";
    NO_WIPE_SCOPE = "no-wipe-scope", Error, "wipe",
        "Plan for remote wipes: a lost or stolen phone can be wiped (selectively at least)";
    VERSION_ZERO = "policy-version-zero", Error, "version",
        "Policy versions start at 1, so a phone can tell every later policy from the first";
    LIFETIME = "policy-lifetime", Error, "expires_at",
        "A signed policy expires within 366 days of its issue, so a frozen phone notices";
    PREFIX_UNKNOWN = "caller-id-prefix-unknown", Warning, "caller_id.prefix",
        "Use a prefix known to hide the number (*67, #31#, 141, 1831, 184) or test this one on the carrier";
    WORK_SECURE_LOCK = "work-secure-lock", Warning, "auto_lock.require_secure_lock",
        "A work phone is protected with a passcode, password or biometric lock";
    LOCK_TIMEOUT_LONG = "auto-lock-long", Warning, "auto_lock.max_timeout_secs",
        "Set the time before the phone locks to the minimum number of seconds (at most 60)";
    WORK_CLEANUP = "work-cleanup-off", Warning, "after_call",
        "Delete a survivor's call-log entries and contact details as soon as the call ends";
    CLEANUP_DELAYED = "cleanup-delayed", Warning, "after_call.delay_secs",
        "Cleanup happens as soon as the call ends; a delay leaves the number on the phone";
    SMS_SHOWS_NUMBER = "sms-shows-number", Warning, "sms.block_to_survivors",
        "Do not text survivors: no prefix or carrier setting hides the number of a text";
    RECHECK_RARE = "caller-id-recheck-rare", Warning, "caller_id.recheck_days",
        "Check caller-ID blocking regularly (at least monthly): carrier and phone updates undo it";
    SOFTPHONE_NOT_VOIP = "softphone-not-voip", Warning, "caller_id.method",
        "On a personal phone helpline calls go to the organisation's calling app: its VoIP service hides caller ID (method voip), not a prefix or the SIM's carrier";
    SOFTPHONE_NO_PACKAGE = "softphone-no-package", Warning, "caller_id.softphone.android_package",
        "Name the calling app's Android package, so that no other app in the work profile that opens its links receives survivors' numbers";
    WORK_OFF_DUTY = "work-off-duty-off", Warning, "off_duty.enabled",
        "When work stops for the day, the work phone is turned off, and survivors know this practice";
    OFF_DUTY_NO_REMINDER = "off-duty-no-reminder", Warning, "off_duty.remind_power_off",
        "The advocate is reminded to turn the work phone off when working hours end";
    RETENTION_LONG = "retention-long", Warning, "retention",
        "Keep the minimum for the shortest time: survivor entries and audit records at most 90 days";
    CHECKLIST_UNCONFIRMED = "checklist-unconfirmed", Warning, "checklist",
        "IT confirms, with the date, what no app can enforce: voicemail transcription, carrier accounts, bills, VoIP";
    NO_STAFF = "no-staff-key", Warning, "staff",
        "Plan for remote wipes: without a staff key nobody can lock or wipe the phone remotely";
    NO_WIPE_ROLE = "no-wipe-role", Warning, "staff",
        "Plan for remote wipes: some staff key holds a wipe role the policy allows";
    LIFETIME_LONG = "policy-lifetime-long", Warning, "expires_at",
        "Short-lived policies (90 days or less) let a phone that stops hearing from IT notice soon";
}

/// Prefixes known to hide the caller's number for one call.
pub const HIDING_PREFIXES: &[&str] = &["*67", "#31#", "141", "1831", "184"];

/// Prefixes known to show the number for one call, or to query a setting without hiding
/// anything: `*82` (North American plan), `*31#` (GSM, 3GPP TS 22.030), `1470` (UK),
/// `1832` (Australia), `186` (Japan), and the GSM status codes.
pub const SHOWING_PREFIXES: &[&str] = &["*82", "*31#", "1470", "1832", "186", "#30#", "*#30#", "*#31#"];

/// The longest lifetime of a signed policy, in seconds (366 days).
pub const MAX_POLICY_LIFETIME_SECS: i64 = 366 * 86_400;
/// Lifetimes above this many seconds (90 days) are warned about.
pub const LONG_POLICY_LIFETIME_SECS: i64 = 90 * 86_400;

/// What a review found: errors first, then warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Review {
    /// Findings, in [`RULES`] order.
    pub findings: Vec<Finding>,
}

impl Review {
    fn add(&mut self, ok: bool, rule: &'static Rule, detail: impl FnOnce() -> String) {
        if !ok {
            self.findings.push(Finding { rule, detail: detail() });
        }
    }
    /// The findings that make the core refuse the policy.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.rule.level == Level::Error)
    }
    /// The findings that are only reported.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.rule.level == Level::Warning)
    }
    /// Appends another review's findings.
    pub fn extend(&mut self, other: Review) {
        self.findings.extend(other.findings);
        self.findings.sort_by_key(|f| RULES.iter().position(|r| r == f.rule));
    }
    /// The first error as the policy error the core returns, or `Ok`.
    pub fn refuse(&self) -> Result<(), PolicyError> {
        match self.errors().next() {
            None => Ok(()),
            Some(f) => Err(PolicyError::AgainstGuidance {
                field: f.rule.field.into(),
                rule: f.rule.id.into(),
                reason: f.detail.clone(),
            }),
        }
    }
}

/// Checks the rules of a policy against the guidance.
pub fn review(p: &Policy) -> Review {
    let mut r = Review::default();
    let byod = p.mode == Mode::Byod;
    let prefix = p.caller_id.prefix.as_deref();
    r.add(!prefix.is_some_and(|x| SHOWING_PREFIXES.contains(&x)), &PREFIX_SHOWS, || {
        format!(
            "{:?} shows the advocate's number (or only asks the network); use {:?}",
            prefix.unwrap_or(""),
            HIDING_PREFIXES
        )
    });
    r.add(!byod || p.auto_lock.require_secure_lock, &BYOD_SECURE_LOCK, || {
        "a personal phone must require a secure lock".into()
    });
    r.add(!byod || p.after_call.delete_call_log, &BYOD_DELETE_CALL_LOG, || {
        "a personal phone must delete survivor calls from the call log".into()
    });
    r.add(!byod || p.after_call.delete_contact, &BYOD_DELETE_CONTACT, || {
        "a personal phone must delete survivor contacts".into()
    });
    let hotline = p.retention.anonymous_hotline;
    r.add(!hotline || (p.after_call.delete_call_log && p.after_call.delete_contact), &HOTLINE_KEEPS_NUMBERS, || {
        "retention.anonymous_hotline promises anonymity, so delete_call_log and delete_contact must be true".into()
    });
    r.add(p.wipe.allow_selective || p.full_wipe_allowed(), &NO_WIPE_SCOPE, || {
        "both wipe scopes are disabled: a lost phone could not be wiped".into()
    });
    r.add(
        !prefix.is_some_and(|x| !SHOWING_PREFIXES.contains(&x) && !HIDING_PREFIXES.contains(&x)),
        &PREFIX_UNKNOWN,
        || format!("{:?} is not a prefix known to hide the number", prefix.unwrap_or("")),
    );
    r.add(byod || p.auto_lock.require_secure_lock, &WORK_SECURE_LOCK, || "no secure lock is required".into());
    r.add(p.auto_lock.max_timeout_secs <= 60, &LOCK_TIMEOUT_LONG, || {
        format!("the phone may stay unlocked for {} s", p.auto_lock.max_timeout_secs)
    });
    r.add(byod || hotline || (p.after_call.delete_call_log && p.after_call.delete_contact), &WORK_CLEANUP, || {
        let keeps: Vec<&str> =
            [("the call log", p.after_call.delete_call_log), ("contacts", p.after_call.delete_contact)]
                .iter()
                .filter(|(_, deleted)| !deleted)
                .map(|(what, _)| *what)
                .collect();
        format!("survivor numbers stay in {}", keeps.join(" and "))
    });
    r.add(p.after_call.delay_secs == 0, &CLEANUP_DELAYED, || {
        format!("cleanup waits {} s after the call", p.after_call.delay_secs)
    });
    r.add(p.sms.block_to_survivors, &SMS_SHOWS_NUMBER, || {
        let how = match p.caller_id.method {
            CallerIdMethod::Prefix => "a per-call prefix never hides a text",
            CallerIdMethod::Carrier => "a carrier restriction does not cover texts",
            CallerIdMethod::Voip => "texts from the VoIP number can be kept and forwarded",
        };
        format!("texts to survivors are allowed, and {how}")
    });
    r.add(p.caller_id.recheck_days <= 30, &RECHECK_RARE, || {
        format!("caller ID is re-checked only every {} days", p.caller_id.recheck_days)
    });
    let softphone = p.caller_id.softphone.as_ref();
    r.add(!byod || softphone.is_none() || p.caller_id.method == CallerIdMethod::Voip, &SOFTPHONE_NOT_VOIP, || match p
        .caller_id
        .method
    {
        CallerIdMethod::Prefix => "the calling app receives the number after a caller-ID prefix, which only the \
                                       organisation's phone system could honour; use method voip"
            .into(),
        _ => "a carrier restriction covers the SIM's line, not the calling app's VoIP line; use method voip".into(),
    });
    r.add(softphone.is_none_or(|s| s.android_package.is_some()), &SOFTPHONE_NO_PACKAGE, || {
        "no android_package: any app in the work profile that opens the template's links could receive the call".into()
    });
    r.add(byod || p.off_duty.enabled, &WORK_OFF_DUTY, || "no working hours are set for this work phone".into());
    r.add(byod || !p.off_duty.enabled || p.off_duty.remind_power_off, &OFF_DUTY_NO_REMINDER, || {
        "the advocate is not reminded to turn the phone off".into()
    });
    let (s, a) = (p.retention.survivor_days, p.retention.audit_days);
    r.add(s <= 90 && a <= 90, &RETENTION_LONG, || {
        format!("survivor entries are kept {s} days and audit records {a} days")
    });
    let unconfirmed: Vec<&str> = p.checklist.unconfirmed().iter().map(|i| i.field()).collect();
    r.add(unconfirmed.is_empty(), &CHECKLIST_UNCONFIRMED, || format!("not yet confirmed: {}", unconfirmed.join(", ")));
    r
}

/// The terms of a signed policy around its rules (the signed body's fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// The policy version.
    pub version: u64,
    /// Issue time, unix seconds.
    pub issued_at: i64,
    /// Expiry, unix seconds.
    pub expires_at: i64,
    /// How many staff keys the policy names.
    pub staff_keys: usize,
    /// How many of them hold a wipe role for a scope the rules allow.
    pub staff_who_can_wipe: usize,
}

/// Checks the terms of a signed policy against the guidance.
pub fn review_terms(t: &Terms) -> Review {
    let mut r = Review::default();
    r.add(t.version >= 1, &VERSION_ZERO, || "version 0 is not a policy version".into());
    let life = t.expires_at.saturating_sub(t.issued_at);
    r.add(life > 0 && life <= MAX_POLICY_LIFETIME_SECS, &LIFETIME, || {
        format!("the policy lives {} days", life / 86_400)
    });
    r.add(t.staff_keys > 0, &NO_STAFF, || "the policy names no staff key".into());
    r.add(t.staff_keys == 0 || t.staff_who_can_wipe > 0, &NO_WIPE_ROLE, || "no staff key may wipe this phone".into());
    r.add(life > MAX_POLICY_LIFETIME_SECS || life <= LONG_POLICY_LIFETIME_SECS, &LIFETIME_LONG, || {
        format!("the policy lives {} days", life / 86_400)
    });
    r
}

/// Validates a policy that is being accepted (created, installed or decoded): its ranges, then
/// the guidance's errors. A stored policy is only range-checked when it is loaded, so a phone
/// whose policy predates a new rule still starts.
pub fn accept(p: &Policy) -> Result<(), PolicyError> {
    p.validate()?;
    review(p).refuse()
}

/// Why a relay URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url:?}: {reason}")]
pub struct RelayUrlError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Checks a relay URL: an `https://` URL with a host. Plain `http://` is allowed only to the
/// loopback interface, for tests on one machine. The apps refuse plain HTTP too.
pub fn check_relay_url(url: &str) -> Result<(), RelayUrlError> {
    let bad = |reason: &'static str| Err(RelayUrlError { url: url.into(), reason });
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => return bad("not a URL (expected https://HOST/PATH)"),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if authority.starts_with('[') {
        authority.split_once(']').map_or(authority, |(h, _)| h).trim_start_matches('[')
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if authority.contains('@') {
        return bad("a relay URL carries no user name or password");
    }
    if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("not a URL (expected https://HOST/PATH)");
    }
    let loopback = host == "localhost" || host == "::1" || host.starts_with("127.");
    match scheme.as_str() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => bad("the relay must use HTTPS (phones refuse plain HTTP)"),
        _ => bad("the relay must be an https:// URL"),
    }
}
