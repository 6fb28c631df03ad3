//! `profile apple` and `profile android`: the policy in the formats that an organisation's
//! existing MDM or EMM already consumes.
//!
//! A profile can carry only what the platform's management layer knows: the device lock. Every
//! other Quietline rule (caller ID, per-number SMS blocking, after-call cleanup, retention, off
//! duty, contact plans, sharing, offline timers) stays with the app, and each rendering says so
//! in its output. Where a value has to change to fit the format (iOS counts auto-lock in whole
//! minutes, Apple caps failed attempts at 11), the rendering errs towards the stricter value when
//! it can, and says what it did either way.

use crate::cli::{ProfileAndroidArgs, ProfileAppleArgs};
use crate::files;
use crate::rendering::{load, Rendering};
use crate::{profile_android, profile_apple, AdminError, Out};
use std::path::Path;

/// Writes the rendering: to --out with the summary on `out`, or to `out` with the summary on
/// stderr so that a pipe receives exactly the profile.
fn emit(r: &Rendering, dest: Option<&Path>, format: &str, out: &mut Out<'_>) -> Result<(), AdminError> {
    match dest {
        Some(path) => {
            files::write_text(path, &r.text)?;
            out.line(format!("wrote {}: {}", path.display(), r.what))?;
            for l in r.summary(format) {
                out.line(l)?;
            }
        }
        None => {
            out.line(r.text.trim_end())?;
            for l in r.summary(format) {
                eprintln!("{l}");
            }
        }
    }
    Ok(())
}

/// `profile apple`.
pub(crate) fn apple(a: &ProfileAppleArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let src = load(&a.policy)?;
    let r = profile_apple::render(&src, a.org.as_deref(), a.identifier.as_deref())?;
    emit(&r, a.out.as_deref(), "an Apple configuration profile", out)
}

/// `profile android`.
pub(crate) fn android(a: &ProfileAndroidArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let src = load(&a.policy)?;
    let r = profile_android::render(&src)?;
    emit(&r, a.out.as_deref(), "an Android Management API policy", out)
}
