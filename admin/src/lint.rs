//! `policy lint`, and the guidance findings that `policy sign` prints: the core's guidance
//! rules (docs/policy.md lists them) put in front of IT staff before a phone sees the policy.

use crate::cli::PolicyLintArgs;
use crate::files;
use crate::{AdminError, Out};
use quietline_core::guidance::{self, Level, Review};
use quietline_core::trust::PolicyBody;
use quietline_core::wire::{self, Container, ObjType};
use quietline_core::Policy;

/// Prints each finding on its own line.
pub(crate) fn print(review: &Review, out: &mut Out<'_>) -> Result<(), AdminError> {
    for f in &review.findings {
        out.line(f.to_string())?;
    }
    Ok(())
}

/// The errors of a review as the refusal `policy sign` returns (nothing is signed).
pub(crate) fn refuse(path: &str, review: &Review) -> Result<(), AdminError> {
    let errors: Vec<String> = review.errors().map(ToString::to_string).collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(AdminError::AgainstGuidance { path: path.into(), findings: errors.join("\n") })
}

/// Everything the guidance says about a signed policy's body: its rules and its terms.
pub(crate) fn review_body(body: &PolicyBody) -> Review {
    let mut r = guidance::review(&body.rules);
    r.extend(body.review_terms());
    r
}

/// `policy lint`.
pub(crate) fn lint(a: &PolicyLintArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let arg = a.policy.trim();
    let text = if arg.starts_with(wire::TEXT_PREFIX) { arg.to_string() } else { files::read_text(arg.as_ref())? };
    let review = if text.trim_start().starts_with(wire::TEXT_PREFIX) {
        // Decoded by hand: the core's decoder refuses a policy with an error, and lint shows them all.
        let bytes = wire::from_text(text.trim())?;
        let c = Container::from_bytes(&bytes, ObjType::Policy).map_err(|e| AdminError::trust(arg, e))?;
        let body: PolicyBody = serde_json::from_slice(&c.body).map_err(|e| AdminError::File {
            path: arg.into(),
            reason: format!("the signed body does not parse: {e}"),
        })?;
        body.rules.validate().map_err(|source| AdminError::BadRules { path: arg.into(), source })?;
        review_body(&body)
    } else {
        let rules = Policy::from_json(&text).map_err(|source| AdminError::BadRules { path: arg.into(), source })?;
        guidance::review(&rules)
    };
    print(&review, out)?;
    let errors = review.errors().count();
    let warnings = review.findings.iter().filter(|f| f.rule.level == Level::Warning).count();
    out.line(format!("{errors} error(s), {warnings} warning(s); docs/policy.md explains each rule"))?;
    if errors > 0 {
        return Err(AdminError::Rejected(format!("{errors} guidance error(s): phones refuse this policy")));
    }
    Ok(())
}

/// Refuses a relay URL the phones would not use (`--relay-url`): not a URL, or not HTTPS.
pub(crate) fn check_relay_url(url: Option<&str>) -> Result<(), AdminError> {
    match url {
        Some(u) => guidance::check_relay_url(u).map_err(|e| AdminError::BadArg(format!("--relay-url {e}"))),
        None => Ok(()),
    }
}
