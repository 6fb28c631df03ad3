//! `profile android`: an Android Management API `Policy` (JSON), for organisations whose EMM
//! manages phones through that API.
//!
//! Field names, types and enum values follow the API's published schema; `scripts/test.d/60-profiles.sh`
//! checks every rendered field against the schema shipped in the npm package
//! `@googleapis/androidmanagement` and the API's discovery document. The JSON holds only
//! `Policy` fields, so it can be sent as is; what it cannot say goes to the notes.

use crate::rendering::{app_only_common, AppOnly, Rendering, Source};
use crate::AdminError;
use quietline_core::Mode;
use serde_json::{json, Map, Value};

/// The PIN length required with `NUMERIC_COMPLEX`, the same as the Apple profile's `minLength`.
pub const MIN_PASSWORD_LENGTH: u32 = 6;

/// Renders the policy as Android Management API `Policy` JSON.
pub(crate) fn render(src: &Source) -> Result<Rendering, AdminError> {
    let p = &src.rules;
    let byod = p.mode == Mode::Byod;
    let mut notes = Vec::new();
    let mut policy = Map::new();

    // int64 fields travel as decimal strings in the API's JSON.
    let ms = u64::from(p.auto_lock.max_timeout_secs) * 1000;
    policy.insert("maximumTimeToLock".into(), Value::String(ms.to_string()));
    if byod {
        notes.push(
            "maximumTimeToLock on a personal phone's work profile locks the work profile; the personal side's \
             screen timeout may stay the advocate's own"
                .into(),
        );
    }

    if p.auto_lock.require_secure_lock {
        let mut req = Map::new();
        req.insert("passwordScope".into(), json!(if byod { "SCOPE_PROFILE" } else { "SCOPE_DEVICE" }));
        req.insert("passwordQuality".into(), json!("NUMERIC_COMPLEX"));
        req.insert("passwordMinimumLength".into(), json!(MIN_PASSWORD_LENGTH));
        match p.offline.max_failed_unlocks {
            Some(n) if byod => {
                req.insert("maximumFailedPasswordsForWipe".into(), json!(n));
                notes.push(format!(
                    "maximumFailedPasswordsForWipe {n} with SCOPE_PROFILE removes the work profile only, never \
                     personal data"
                ));
            }
            Some(n) if p.full_wipe_allowed() => {
                req.insert("maximumFailedPasswordsForWipe".into(), json!(n));
            }
            Some(n) => notes.push(format!(
                "offline.max_failed_unlocks {n} not mapped to maximumFailedPasswordsForWipe: on a fully managed \
                 phone it wipes the whole device, which this policy (wipe.allow_full false) does not allow; \
                 Quietline's own wipes of this phone stay selective"
            )),
            None => {}
        }
        policy.insert("passwordPolicies".into(), Value::Array(vec![Value::Object(req)]));
        // Trust agents (Smart Lock) keep a phone unlocked past its timeout; unredacted
        // notifications show who called or texted on the locked screen.
        policy.insert("keyguardDisabledFeatures".into(), json!(["TRUST_AGENTS", "UNREDACTED_NOTIFICATIONS"]));
        if byod {
            notes.push(
                "keyguardDisabledFeatures on a work profile hides the work profile's notification content; \
                 personal notifications stay the advocate's"
                    .into(),
            );
        }
    } else {
        notes.push(
            "auto_lock.require_secure_lock is false: no passwordPolicies and no keyguardDisabledFeatures; only \
             maximumTimeToLock is set"
                .into(),
        );
    }

    // Helpline calls are the app's purpose: a base policy that disables outgoing calls breaks it.
    policy.insert("outgoingCallsDisabled".into(), Value::Bool(false));

    notes.push(if byod {
        "smsDisabled not set: Android applies it only for a device owner or on the primary user, not from a \
         personal phone's work profile, and the organisation does not touch personal texting"
            .into()
    } else {
        "smsDisabled not set: it turns off ALL SMS on the phone, including the SMS that carries a signed wipe \
         command to a phone without data; the app blocks texts to survivors only"
            .into()
    });

    let mut app_only = app_only_common(p);
    app_only.push(AppOnly {
        rule: "sms",
        why: "blocking texts to registered survivors is per number; the API can only turn off all SMS".into(),
    });
    app_only.sort_by_key(|a| a.rule);

    let mut text = serde_json::to_string_pretty(&Value::Object(policy))
        .map_err(|e| AdminError::BadArg(format!("cannot render the policy: {e}")))?;
    text.push('\n');
    let what = format!(
        "Android Management API Policy ({})",
        if byod { "personal phone: work profile scope" } else { "work phone: device scope" }
    );
    Ok(Rendering { text, what, notes, app_only })
}
