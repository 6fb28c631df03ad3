//! The organisation's calling app (softphone) for the apps: the one the signed policy names
//! (`caller_id.softphone`), the policy's check for a template the app found in its managed
//! configuration instead, and the URI that hands a call to it. The rules are the core's
//! (`quietline_core::softphone`), so Android and iOS refuse the same templates.

use crate::agent::Agent;
use crate::error::ApiError;
use quietline_core as ql;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The organisation's calling app, which places helpline calls from a work profile (and calls the
/// agent sends through the organisation's VoIP service) with the organisation's number. Checked
/// by the core: `callUri` has exactly one `{number}` and a scheme that stays in a calling app
/// (never `tel`, `sip`, `sms`, `facetime`, web…); `androidPackage`, when set, is a package name.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SoftphoneSettings {
    /// The URI template (`acmevoice://call?to={number}`); build the call's URI with
    /// `softphoneCallUri`, never by hand.
    pub call_uri: String,
    /// The calling app's Android package: hand the call only to that app, inside the work profile.
    pub android_package: Option<String>,
}

impl From<&ql::Softphone> for SoftphoneSettings {
    fn from(s: &ql::Softphone) -> Self {
        SoftphoneSettings { call_uri: s.call_uri.clone(), android_package: s.android_package.clone() }
    }
}

fn core(s: &SoftphoneSettings) -> Result<ql::Softphone, ql::SoftphoneError> {
    ql::Softphone::new(&s.call_uri, s.android_package.as_deref())
}

#[uniffi::export]
impl Agent {
    /// The calling app the policy in force names (`caller_id.softphone`), or `null`. Use it before
    /// any managed configuration: on an enrolled phone only the organisation's root key can set
    /// or change it, and the relay cannot; the managed configuration is a fallback for phones
    /// whose policy names none (an EMM that owns the work profile).
    pub fn softphone(&self) -> Result<Option<SoftphoneSettings>, ApiError> {
        self.with(|a| Ok(a.softphone().map(SoftphoneSettings::from)))
    }
}

/// Checks a calling app set outside the policy (the app's managed configuration) with the rules a
/// policy's `caller_id.softphone` must follow. `InvalidInput` names the setting (`call_uri` or
/// `android_package`) and what is wrong, never a number.
#[uniffi::export(default(android_package = None))]
pub fn check_softphone(call_uri: String, android_package: Option<String>) -> Result<SoftphoneSettings, ApiError> {
    catch_unwind(AssertUnwindSafe(|| {
        ql::Softphone::new(&call_uri, android_package.as_deref())
            .map(|s| SoftphoneSettings::from(&s))
            .map_err(|e| ApiError::input(format!("{}: {e}", e.field())))
    }))
    .unwrap_or_else(|_| Err(ApiError::Internal { reason: "a bug inside Quietline was caught".into() }))
}

/// The URI that asks the calling app to dial `dialString` (the agent's dial string): its digits,
/// `+`, `*` and `#`, percent-encoded into the template. `null` when nothing is left to dial or the
/// settings do not pass `checkSoftphone`. It holds the number: hand it to the calling app, never
/// log it.
#[uniffi::export]
pub fn softphone_call_uri(settings: SoftphoneSettings, dial_string: String) -> Option<String> {
    catch_unwind(AssertUnwindSafe(|| core(&settings).ok()?.call_uri_for(&dial_string))).ok().flatten()
}
