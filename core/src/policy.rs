//! The policy: what an organisation asks of an advocate's phone, one section per rule of the
//! field's guidance. JSON, `"schema": 1`. Every section has defaults that follow the guidance,
//! so `{"schema":1,"mode":"byod"}` is a complete, safe policy; unknown fields and
//! out-of-range values are rejected with an error that names the field.

use crate::checklist::Checklist;
use crate::softphone::Softphone;
use serde::{Deserialize, Serialize};

pub use crate::week::{Day, LocalTime};

/// The only schema version this core reads.
pub const SCHEMA: u32 = 1;
/// Policies larger than this are rejected before parsing.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;

/// Why a policy was refused. Each variant names the offending field.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The JSON did not match the schema (wrong type, unknown field, bad syntax).
    #[error("policy field `{field}`: {reason}")]
    Malformed {
        /// Dotted path of the field, or `.` for the document itself.
        field: String,
        /// What was wrong.
        reason: String,
    },
    /// A value is outside what the rules allow.
    #[error("policy field `{field}`: {reason}")]
    OutOfRange {
        /// Dotted path of the field.
        field: String,
        /// What is allowed.
        reason: String,
    },
    /// The policy parses but goes against the field's guidance (see [`crate::guidance`]).
    #[error("policy field `{field}`: {reason} (guidance rule `{rule}`)")]
    AgainstGuidance {
        /// Dotted path of the field.
        field: String,
        /// The guidance rule's id, as docs/policy.md lists it.
        rule: String,
        /// What this policy does.
        reason: String,
    },
    /// The document is larger than [`MAX_POLICY_BYTES`].
    #[error("policy is {0} bytes, more than the {MAX_POLICY_BYTES} allowed")]
    TooLarge(usize),
}

/// Who owns the phone, which decides what the organisation may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Organisation-owned phone: the org may wipe it whole; it is never shared.
    Work,
    /// The advocate's personal phone: selective wipe only, personal data is never touched.
    Byod,
}

/// The policy document (schema 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Schema version; must be 1.
    pub schema: u32,
    /// Work or personal phone.
    pub mode: Mode,
    /// Rule 1: auto-lock.
    #[serde(default)]
    pub auto_lock: AutoLock,
    /// Rule 2: caller ID on helpline and survivor calls.
    #[serde(default)]
    pub caller_id: CallerId,
    /// Rule 3: texts to survivors.
    #[serde(default)]
    pub sms: Sms,
    /// Rule 4: cleanup after a survivor call.
    #[serde(default)]
    pub after_call: AfterCall,
    /// Rule 8: how long anything is kept.
    #[serde(default)]
    pub retention: Retention,
    /// Rule 6: off-duty hours (work phones).
    #[serde(default)]
    pub off_duty: OffDuty,
    /// Rule 5: handing the phone to someone else.
    #[serde(default)]
    pub sharing: Sharing,
    /// Rule 9: which remote wipe scopes the organisation may use.
    #[serde(default)]
    pub wipe: Wipe,
    /// Offline safety: what the phone does on its own when no command can reach it.
    #[serde(default)]
    pub offline: Offline,
    /// Rule 8 and the phone system: what no app can enforce, with the date IT confirmed each.
    #[serde(default)]
    pub checklist: Checklist,
}

/// One freshness timer's steps, in hours since the timer last reset. Each step is warned
/// about `warn_lead_hours` ahead (lock and wipe), so a phone left in a drawer over a weekend is
/// not wiped by surprise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct FreshnessRule {
    /// Notify the advocate after this many hours.
    pub notify_after_hours: Option<u32>,
    /// Lock the phone and require the secure lock after this many hours.
    pub lock_after_hours: Option<u32>,
    /// Wipe after this many hours (off by default): selective on `byod`; full on `work` only if
    /// the policy allows full wipes.
    pub wipe_after_hours: Option<u32>,
    /// How long before the lock and wipe steps the advocate is warned.
    pub warn_lead_hours: u32,
}

impl Default for FreshnessRule {
    fn default() -> Self {
        Self { notify_after_hours: None, lock_after_hours: None, wipe_after_hours: None, warn_lead_hours: 12 }
    }
}

/// Offline safety rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Offline {
    /// Time since the last contact with the organisation (a verified policy or command, or an
    /// explicit check-in).
    pub check_in: FreshnessRule,
    /// Time since the last successful unlock.
    pub unlock: FreshnessRule,
    /// Failed unlock attempts before a wipe (passed to the platform too); `null` turns it off.
    pub max_failed_unlocks: Option<u32>,
}

impl Default for Offline {
    fn default() -> Self {
        Self {
            check_in: FreshnessRule {
                notify_after_hours: Some(72),
                lock_after_hours: Some(120),
                wipe_after_hours: None,
                warn_lead_hours: 12,
            },
            unlock: FreshnessRule {
                notify_after_hours: None,
                lock_after_hours: Some(168),
                wipe_after_hours: None,
                warn_lead_hours: 12,
            },
            max_failed_unlocks: Some(10),
        }
    }
}

/// Auto-lock settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct AutoLock {
    /// The longest the screen may stay unlocked while idle, in seconds (5–900).
    pub max_timeout_secs: u32,
    /// A PIN, password or biometric lock is required.
    pub require_secure_lock: bool,
}
impl Default for AutoLock {
    fn default() -> Self {
        Self { max_timeout_secs: 30, require_secure_lock: true }
    }
}

/// How caller ID is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum CallerIdMethod {
    /// A per-call prefix chosen by the device's region (`*67` in the North American plan, `#31#` elsewhere).
    Prefix,
    /// The carrier restricts caller ID on the line; the number is dialled plainly.
    Carrier,
    /// Calls go out through the organisation's VoIP service.
    Voip,
}

/// Caller-ID settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct CallerId {
    /// How caller ID is hidden.
    pub method: CallerIdMethod,
    /// Overrides the region's prefix (digits, `*` and `#`, at most 8 characters).
    pub prefix: Option<String>,
    /// Hide caller ID on direct (non-helpline) calls to survivors too. Always true on `byod`.
    pub hide_on_direct_calls: bool,
    /// How often the app re-checks that caller-ID blocking still works, in days (1–90).
    pub recheck_days: u32,
    /// The organisation's calling app, which places every helpline call from a personal phone's
    /// work profile and every call the agent sends through the organisation's VoIP service
    /// (method `voip`, or a survivor who accepts the organisation's alternate caller ID). Absent:
    /// the app's managed configuration may name one, else such calls are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub softphone: Option<Softphone>,
}
impl Default for CallerId {
    fn default() -> Self {
        Self {
            method: CallerIdMethod::Prefix,
            prefix: None,
            hide_on_direct_calls: true,
            recheck_days: 7,
            softphone: None,
        }
    }
}

/// SMS settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Sms {
    /// Block texts to registered survivors. Always true on `byod`.
    pub block_to_survivors: bool,
}
impl Default for Sms {
    fn default() -> Self {
        Self { block_to_survivors: true }
    }
}

/// Cleanup after a survivor call ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct AfterCall {
    /// Delete the call's call-log entries.
    pub delete_call_log: bool,
    /// Delete any contact stored for the number.
    pub delete_contact: bool,
    /// Seconds to wait before deleting (0–3600); 0, the default, deletes at once.
    pub delay_secs: u32,
}
impl Default for AfterCall {
    fn default() -> Self {
        Self { delete_call_log: true, delete_contact: true, delay_secs: 0 }
    }
}

/// Retention limits: every stored item expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Days a survivor registration is kept (1–365).
    pub survivor_days: u32,
    /// Days an audit record is kept (1–365).
    pub audit_days: u32,
    /// Days an unacknowledged action is kept before it is reported as abandoned (1–30).
    pub pending_action_days: u32,
    /// Hotline that promises anonymity: no survivor numbers are registered at all, and every
    /// helpline call is cleaned from the call log when it ends.
    pub anonymous_hotline: bool,
    /// Hours a text from or to a survivor is held by the agent, never in the SMS provider (1–720).
    pub survivor_text_hours: u32,
}
impl Default for Retention {
    fn default() -> Self {
        Self {
            survivor_days: 90,
            audit_days: 30,
            pending_action_days: 7,
            anonymous_hotline: false,
            survivor_text_hours: 72,
        }
    }
}

/// What happens to an incoming survivor call outside working hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AfterHours {
    /// Send the call to voicemail (the survivor has been told of this practice).
    Voicemail,
    /// Let it ring, with a reminder that the advocate is off duty.
    Ring,
}

/// Off-duty hours (work phones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct OffDuty {
    /// Whether working hours are enforced.
    pub enabled: bool,
    /// Working days.
    pub days: Vec<Day>,
    /// Start of working hours, local time.
    pub start: LocalTime,
    /// End of working hours, local time (after `start`).
    pub end: LocalTime,
    /// What happens to incoming survivor calls outside working hours.
    pub survivor_calls: AfterHours,
    /// Remind the advocate to turn the phone off when working hours end.
    pub remind_power_off: bool,
}
impl Default for OffDuty {
    fn default() -> Self {
        Self {
            enabled: false,
            days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
            start: LocalTime(chrono::NaiveTime::MIN + chrono::Duration::hours(9)),
            end: LocalTime(chrono::NaiveTime::MIN + chrono::Duration::hours(17)),
            survivor_calls: AfterHours::Voicemail,
            remind_power_off: true,
        }
    }
}

/// Handing the phone to someone else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Sharing {
    /// Purge survivor data before a personal phone is handed over. Always true on `byod`;
    /// a work phone is never shared, whatever this says.
    pub purge_before_handoff: bool,
}
impl Default for Sharing {
    fn default() -> Self {
        Self { purge_before_handoff: true }
    }
}

/// Remote wipe scopes the organisation may use on this phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Wipe {
    /// Selective wipe: the agent's data and the work profile.
    pub allow_selective: bool,
    /// Whole-phone wipe. Defaults to true on `work`; never allowed on `byod`.
    pub allow_full: Option<bool>,
}
impl Default for Wipe {
    fn default() -> Self {
        Self { allow_selective: true, allow_full: None }
    }
}

fn range(field: &str, v: u32, lo: u32, hi: u32, unit: &str) -> Result<(), PolicyError> {
    if v < lo || v > hi {
        return Err(PolicyError::OutOfRange {
            field: field.into(),
            reason: format!("{v} is outside {lo}–{hi} {unit}"),
        });
    }
    Ok(())
}

fn must(field: &str, ok: bool, reason: &str) -> Result<(), PolicyError> {
    if ok {
        Ok(())
    } else {
        Err(PolicyError::OutOfRange { field: field.into(), reason: reason.into() })
    }
}

/// Checks a freshness rule's steps are in order.
fn validate_rule(prefix: &str, r: &FreshnessRule) -> Result<(), PolicyError> {
    let steps = [r.notify_after_hours, r.lock_after_hours, r.wipe_after_hours];
    let mut last = 0;
    for (name, v) in ["notify_after_hours", "lock_after_hours", "wipe_after_hours"].iter().zip(steps) {
        if let Some(v) = v {
            if v == 0 || v > 24 * 365 || v < last {
                return Err(PolicyError::OutOfRange {
                    field: format!("{prefix}.{name}"),
                    reason: "1–8760 hours, and each step after the one before".into(),
                });
            }
            if v <= r.warn_lead_hours && name != &"notify_after_hours" {
                return Err(PolicyError::OutOfRange {
                    field: format!("{prefix}.warn_lead_hours"),
                    reason: "the warning must come after the timer starts".into(),
                });
            }
            last = v;
        }
    }
    Ok(())
}

impl Policy {
    /// The default policy for a mode.
    pub fn default_for(mode: Mode) -> Self {
        Policy {
            schema: SCHEMA,
            mode,
            auto_lock: AutoLock::default(),
            caller_id: CallerId::default(),
            sms: Sms::default(),
            after_call: AfterCall::default(),
            retention: Retention::default(),
            off_duty: OffDuty::default(),
            sharing: Sharing::default(),
            wipe: Wipe::default(),
            offline: Offline::default(),
            checklist: Checklist::default(),
        }
    }

    /// Parses and validates a policy document.
    pub fn from_json(json: &str) -> Result<Self, PolicyError> {
        if json.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge(json.len()));
        }
        let de = &mut serde_json::Deserializer::from_str(json);
        let p: Policy = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            PolicyError::Malformed { field, reason: e.inner().to_string() }
        })?;
        p.validate()?;
        Ok(p)
    }

    /// The full JSON form (fields in schema order, no whitespace).
    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings, numbers and bools cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The JSON value with every section equal to the mode's default left out (the parser fills
    /// defaults back in, so the meaning is the same and the document is smaller).
    pub fn to_compact_value(&self) -> serde_json::Value {
        let full = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        let defaults = serde_json::to_value(Policy::default_for(self.mode)).unwrap_or(serde_json::Value::Null);
        match (full, defaults) {
            (serde_json::Value::Object(mut m), serde_json::Value::Object(d)) => {
                m.retain(|k, v| k == "schema" || k == "mode" || d.get(k) != Some(v));
                serde_json::Value::Object(m)
            }
            (full, _) => full,
        }
    }

    /// Checks every range and mode rule; the error names the field.
    pub fn validate(&self) -> Result<(), PolicyError> {
        must("schema", self.schema == SCHEMA, "only schema 1 is understood")?;
        range("auto_lock.max_timeout_secs", self.auto_lock.max_timeout_secs, 5, 900, "seconds")?;
        range("caller_id.recheck_days", self.caller_id.recheck_days, 1, 90, "days")?;
        if let Some(p) = &self.caller_id.prefix {
            must(
                "caller_id.prefix",
                !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#'),
                "a prefix is 1–8 of the characters 0-9, * and #",
            )?;
        }
        if let Some(s) = &self.caller_id.softphone {
            s.check().map_err(|e| PolicyError::OutOfRange {
                field: format!("caller_id.softphone.{}", e.field()),
                reason: e.to_string(),
            })?;
        }
        range("after_call.delay_secs", self.after_call.delay_secs, 0, 3600, "seconds")?;
        range("retention.survivor_days", self.retention.survivor_days, 1, 365, "days")?;
        range("retention.audit_days", self.retention.audit_days, 1, 365, "days")?;
        range("retention.pending_action_days", self.retention.pending_action_days, 1, 30, "days")?;
        range("retention.survivor_text_hours", self.retention.survivor_text_hours, 1, 720, "hours")?;
        must("off_duty.end", self.off_duty.start < self.off_duty.end, "working hours must end after they start")?;
        must("off_duty.days", !self.off_duty.enabled || !self.off_duty.days.is_empty(), "at least one working day")?;
        validate_rule("offline.check_in", &self.offline.check_in)?;
        validate_rule("offline.unlock", &self.offline.unlock)?;
        if let Some(n) = self.offline.max_failed_unlocks {
            range("offline.max_failed_unlocks", n, 3, 100, "attempts")?;
        }
        if self.mode == Mode::Byod {
            must(
                "sms.block_to_survivors",
                self.sms.block_to_survivors,
                "texts to survivors are always blocked on byod",
            )?;
            must(
                "caller_id.hide_on_direct_calls",
                self.caller_id.hide_on_direct_calls,
                "caller ID is always hidden on survivor calls from a personal phone",
            )?;
            must(
                "sharing.purge_before_handoff",
                self.sharing.purge_before_handoff,
                "a personal phone is always purged of survivor data before it is handed over",
            )?;
            must("wipe.allow_full", self.wipe.allow_full != Some(true), "a personal phone is never wiped whole")?;
        }
        Ok(())
    }

    /// Whether a full wipe is allowed, after mode defaults.
    pub fn full_wipe_allowed(&self) -> bool {
        self.mode == Mode::Work && self.wipe.allow_full.unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_form_means_the_same_policy() {
        let mut p = Policy::default_for(Mode::Work);
        p.auto_lock.max_timeout_secs = 15;
        let v = p.to_compact_value();
        let mut keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        keys.sort();
        assert_eq!(keys, ["auto_lock", "mode", "schema"]);
        assert_eq!(Policy::from_json(&v.to_string()).expect("parses"), p);
    }
}
