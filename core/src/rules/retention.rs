//! Retention (rule 8) and sharing the phone (rule 5): every stored item expires (held texts
//! included), and survivor data is purged before a personal phone is handed on; a work phone is never handed on.

use super::Desk;
use crate::actions::ActionKind;
use crate::audit::AuditKind;
use crate::error::AgentError;
use crate::event::{BlockReason, Outcome, Verdict};
use crate::policy::Mode;
use chrono::Duration;

/// On a tick: expired survivors, audit records and unacknowledged actions go.
pub(crate) fn expire(d: &mut Desk<'_>) {
    let now = d.now;
    let expired = d.registry.purge_expired(now);
    if expired > 0 {
        d.record(AuditKind::SurvivorsExpired, expired as u64);
    }
    // After the registry: a held text goes with its survivor's registration, or at its own expiry.
    let texts = d.texts.expire(now, d.registry);
    if texts > 0 {
        d.record(AuditKind::TextsExpired, texts as u64);
    }
    let r = &d.policy.retention;
    d.audit.expire_before(now - Duration::days(i64::from(r.audit_days)));
    let abandoned = d.outbox.abandon_older_than(now - Duration::days(i64::from(r.pending_action_days)));
    if abandoned > 0 {
        d.record(AuditKind::ActionsAbandoned, abandoned as u64);
    }
}

/// Purges every survivor registration and asks the app to purge its own survivor data.
pub(crate) fn purge(d: &mut Desk<'_>, out: &mut Outcome) -> Result<(), AgentError> {
    // A new HMAC secret: nothing keyed by the old one (a copied file, memory) matches again.
    let n = d.registry.rekey(crate::store::random_bytes::<32>()?);
    let texts = d.texts.clear();
    if texts > 0 {
        d.record(AuditKind::TextsDiscarded, texts as u64);
    }
    // The deletions the app must still make are the only things left that name a number: they
    // are due at once, not after the usual delay.
    let now = d.now;
    d.outbox.make_due(|k| matches!(k, ActionKind::DeleteCallLog { .. } | ActionKind::DeleteContact { .. }), now);
    d.record(AuditKind::SurvivorDataPurged, n as u64);
    d.act(out, ActionKind::PurgeSurvivorData);
    Ok(())
}

/// The advocate is about to hand the phone to someone else.
pub(crate) fn handoff(d: &mut Desk<'_>, out: &mut Outcome) -> Result<(), AgentError> {
    match d.policy.mode {
        Mode::Work => {
            d.record(AuditKind::HandoffRefused, 1);
            out.verdict = Verdict::Block {
                reason: BlockReason::WorkPhoneNeverShared,
                message: "This is a work phone: it is never handed to anyone else.".into(),
            };
        }
        Mode::Byod => purge(d, out)?,
    }
    Ok(())
}
