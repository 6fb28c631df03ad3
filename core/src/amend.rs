//! What a staff-signed policy may change, and how policy versions are ordered.
//!
//! A policy signed by a staff key with `update_policy` is a **renewal or a tightening** of the
//! installed one, never more: it may raise the version (by at most [`MAX_VERSION_STEP`]), renew
//! the expiry, lower the grace period, shorten the auto-lock and turn the secure lock on.
//! Everything else must be identical. Root-signed policies are ordered only against earlier
//! root-signed versions, so whatever a staff key signed, the root's next policy supersedes it.

use crate::policy::Policy;
use crate::trust::{PolicyBody, TrustError};

/// The largest step a policy version may take at once, so versions cannot be used up.
pub const MAX_VERSION_STEP: u64 = 1_000_000;

/// The installed policy, as an amendment is checked against it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Current<'a> {
    /// Its version.
    pub(crate) version: u64,
    /// The version of the last root-signed policy installed.
    pub(crate) root_version: u64,
    /// Its issue time, unix seconds.
    pub(crate) issued_at: i64,
    /// Its grace period.
    pub(crate) grace_hours: u32,
    /// Its rules.
    pub(crate) rules: &'a Policy,
}

/// What a version check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// The installed policy again: nothing to do.
    Same,
    /// Newer: install it.
    Newer,
}

/// Orders `new` against the installed policy. `same_digest` says whether its body is the
/// installed one's.
pub(crate) fn order(cur: Current<'_>, new: &PolicyBody, by_root: bool, same_digest: bool) -> Result<Order, TrustError> {
    if new.version == cur.version && same_digest {
        return Ok(Order::Same);
    }
    let base = if by_root { cur.root_version } else { cur.version };
    if new.version <= base {
        if new.version == cur.version {
            return Err(TrustError::SameVersionDifferentContent(cur.version));
        }
        return Err(TrustError::Rollback { installed: base, got: new.version });
    }
    let limit = cur.version.max(cur.root_version).saturating_add(MAX_VERSION_STEP);
    if new.version > limit {
        return Err(TrustError::VersionJump { installed: cur.version, got: new.version });
    }
    if !by_root {
        check_staff_amendment(cur, new)?;
    }
    Ok(Order::Newer)
}

/// A staff-signed policy may only renew or tighten (see the module docs).
fn check_staff_amendment(cur: Current<'_>, new: &PolicyBody) -> Result<(), TrustError> {
    let weakens = |field: &str| Err(TrustError::StaffWeakening(field.to_string()));
    if new.issued_at < cur.issued_at {
        return weakens("issued_at (older than the installed policy)");
    }
    if new.grace_hours > cur.grace_hours {
        return weakens("grace_hours");
    }
    let (old, got) = (cur.rules, &new.rules);
    if got.auto_lock.max_timeout_secs > old.auto_lock.max_timeout_secs {
        return weakens("rules.auto_lock.max_timeout_secs");
    }
    if old.auto_lock.require_secure_lock && !got.auto_lock.require_secure_lock {
        return weakens("rules.auto_lock.require_secure_lock");
    }
    // With the two tightenings taken over, the rest must be exactly the installed rules.
    let mut allowed = old.clone();
    allowed.auto_lock = got.auto_lock.clone();
    if &allowed != got {
        let (a, b) = (serde_json::to_value(&allowed).ok(), serde_json::to_value(got).ok());
        let field = match (a, b) {
            (Some(serde_json::Value::Object(a)), Some(serde_json::Value::Object(b))) => {
                a.iter().find(|(k, v)| b.get(*k) != Some(*v)).map(|(k, _)| format!("rules.{k}"))
            }
            _ => None,
        };
        return weakens(&field.unwrap_or_else(|| "rules".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(version: u64, issued_at: i64, rules: &str) -> PolicyBody {
        PolicyBody {
            org: "o".into(),
            version,
            issued_at,
            expires_at: issued_at + 86400,
            targets: vec!["*".into()],
            grace_hours: 24,
            staff: vec![],
            rules: Policy::from_json(rules).expect("rules"),
        }
    }

    #[test]
    fn staff_may_renew_and_tighten_only() {
        let rules = Policy::from_json(r#"{"schema":1,"mode":"work"}"#).expect("p");
        let cur = Current { version: 5, root_version: 5, issued_at: 100, grace_hours: 24, rules: &rules };
        let ok = body(6, 200, r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":10}}"#);
        assert_eq!(order(cur, &ok, false, false), Ok(Order::Newer));
        let weak = body(6, 200, r#"{"schema":1,"mode":"work","wipe":{"allow_selective":false}}"#);
        assert_eq!(order(cur, &weak, false, false), Err(TrustError::StaffWeakening("rules.wipe".into())));
        let old = body(6, 50, r#"{"schema":1,"mode":"work"}"#);
        assert!(matches!(order(cur, &old, false, false), Err(TrustError::StaffWeakening(_))));
        let far = body(u64::MAX, 200, r#"{"schema":1,"mode":"work"}"#);
        assert!(matches!(order(cur, &far, false, false), Err(TrustError::VersionJump { .. })));
    }

    #[test]
    fn root_supersedes_staff_versions() {
        let rules = Policy::from_json(r#"{"schema":1,"mode":"work"}"#).expect("p");
        let cur = Current { version: 900, root_version: 1, issued_at: 100, grace_hours: 24, rules: &rules };
        let root = body(2, 300, r#"{"schema":1,"mode":"work","wipe":{"allow_selective":false}}"#);
        assert_eq!(order(cur, &root, true, false), Ok(Order::Newer));
        assert!(order(cur, &body(1, 300, r#"{"schema":1,"mode":"work"}"#), true, false).is_err());
        assert!(order(cur, &body(900, 300, r#"{"schema":1,"mode":"work"}"#), false, false).is_err());
        assert_eq!(order(cur, &body(900, 300, r#"{"schema":1,"mode":"work"}"#), false, true), Ok(Order::Same));
    }
}
