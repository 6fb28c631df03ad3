//! What a profile is rendered from and what a rendering produces, shared by the Apple and the
//! Android renderings (`profile_apple`, `profile_android`); `profile` runs them.

use crate::files;
use crate::AdminError;
use quietline_core::trust;
use quietline_core::wire;
use quietline_core::Policy;
use std::path::Path;

/// The policy a profile is rendered from, and what is known about where it came from.
pub(crate) struct Source {
    /// The rules.
    pub(crate) rules: Policy,
    /// The organisation, from a signed policy.
    pub(crate) org: Option<String>,
    /// The signed policy's version.
    pub(crate) version: Option<u64>,
}

/// Reads POLICY: a signed `QL:` policy (file or text) or a rules JSON file.
///
/// A signed policy is decoded and its rules validated, but its signatures are not checked here:
/// the profile carries no trust of its own, and `inspect` checks signatures against the root.
pub(crate) fn load(arg: &str) -> Result<Source, AdminError> {
    let text = if arg.trim().starts_with(wire::TEXT_PREFIX) {
        arg.trim().to_string()
    } else {
        files::read_text(Path::new(arg))?
    };
    if text.trim_start().starts_with(wire::TEXT_PREFIX) {
        let sp = trust::decode_policy(text.trim())
            .map_err(|e| AdminError::trust(format!("{arg}: not a signed policy"), e))?;
        return Ok(Source { rules: sp.body.rules, org: Some(sp.body.org), version: Some(sp.body.version) });
    }
    let rules = Policy::from_json(&text).map_err(|source| AdminError::BadRules { path: arg.to_string(), source })?;
    Ok(Source { rules, org: None, version: None })
}

/// One Quietline rule that a format cannot carry, and why the app keeps it.
pub(crate) struct AppOnly {
    /// The policy section.
    pub(crate) rule: &'static str,
    /// Why the format has no equivalent.
    pub(crate) why: String,
}

/// What a rendering produced: the document, the adjustments it made, and the rules left to the app.
pub(crate) struct Rendering {
    /// The profile text (plist XML or JSON).
    pub(crate) text: String,
    /// What the format is, for the summary line.
    pub(crate) what: String,
    /// Values that had to change to fit the format, and rules that were deliberately not mapped.
    pub(crate) notes: Vec<String>,
    /// Rules with no equivalent in the format.
    pub(crate) app_only: Vec<AppOnly>,
}

impl Rendering {
    /// The human summary: notes and app-only rules, one per line.
    pub(crate) fn summary(&self, format: &str) -> Vec<String> {
        let mut lines = Vec::new();
        for n in &self.notes {
            lines.push(format!("note: {n}"));
        }
        lines.push(format!("stays with the app (no equivalent in {format}):"));
        for a in &self.app_only {
            lines.push(format!("  - {}: {}", a.rule, a.why));
        }
        lines
    }
}

/// Where the policy sends the calls that go through the organisation's calling app, in words for
/// IT staff (`policy sign`, `policy show`, `inspect` and the profiles' summaries). The phone hands a
/// call to that app only when the agent allowed it, with the agent's dial string.
pub(crate) fn softphone_summary(p: &Policy) -> String {
    let which = if p.mode == quietline_core::policy::Mode::Byod {
        "helpline calls from the work profile and VoIP calls"
    } else {
        "calls through the organisation's VoIP line"
    };
    match &p.caller_id.softphone {
        Some(s) => format!(
            "{which} go to the organisation's calling app: {} ({})",
            s.call_uri,
            match &s.android_package {
                Some(pkg) => format!("Android package {pkg}"),
                None => "no Android package: any app in the work profile that opens the link".into(),
            }
        ),
        None => format!(
            "no calling app named: {which} are refused unless the app's managed configuration names one \
             (softphoneCallUri / softphoneCallURL) or a VoIP stack is linked into the app"
        ),
    }
}

/// The rules that neither an Apple profile nor an Android Management API policy can express.
/// Both renderings start from this list and add what is specific to them.
pub(crate) fn app_only_common(p: &Policy) -> Vec<AppOnly> {
    let mut v = vec![
        AppOnly {
            rule: "caller_id",
            why: format!(
                "{} method, re-checked every {} days: applied by the app to each call it places; {}",
                format!("{:?}", p.caller_id.method).to_lowercase(),
                p.caller_id.recheck_days,
                softphone_summary(p)
            ),
        },
        AppOnly {
            rule: "after_call",
            why: "deleting a survivor call's log entries and contact is done by the app, per call".into(),
        },
        AppOnly {
            rule: "retention",
            why: format!(
                "survivor registrations {} days, audit {} days{}: the app's own storage",
                p.retention.survivor_days,
                p.retention.audit_days,
                if p.retention.anonymous_hotline { ", anonymous hotline" } else { "" }
            ),
        },
        AppOnly {
            rule: "off_duty",
            why: if p.off_duty.enabled {
                "working hours and after-hours call screening are the app's".into()
            } else {
                "not enabled in this policy; when it is, the app screens calls".into()
            },
        },
        AppOnly { rule: "contact plans", why: "each survivor's safe times, voicemail and callback choices".into() },
        AppOnly { rule: "sharing", why: "purging survivor data before a phone is handed over is an app flow".into() },
        AppOnly {
            rule: "offline.check_in / offline.unlock",
            why: "the notify, lock and wipe timers run in the app".into(),
        },
        AppOnly {
            rule: "wipe",
            why: "remote wipe is a signed Quietline command (or the MDM's own command), not a profile setting".into(),
        },
    ];
    v.sort_by_key(|a| a.rule);
    v
}
