//! Texts (rule 3): none to survivor contacts from personal phones; on work phones, as the
//! policy says. A text stays on the survivor's phone where others may read it.

use super::Desk;
use crate::error::AgentError;
use crate::event::{BlockReason, Outcome, Verdict};
use crate::numbers::{self, Classified};
use crate::policy::Mode;

/// The advocate is about to send a text.
pub(crate) fn outgoing(d: &mut Desk<'_>, out: &mut Outcome, number: &str) -> Result<(), AgentError> {
    let Classified::Number(n) = numbers::classify_for_lookup(number, d.region)? else {
        return Ok(());
    };
    let p = d.policy;
    if (p.mode == Mode::Byod || p.sms.block_to_survivors) && d.registry.get(&n).is_some() {
        out.verdict = Verdict::Block {
            reason: BlockReason::SmsToSurvivor,
            message: "Texts to survivors are blocked on this phone: a text stays on the survivor's \
                      phone where others may read it. Call instead, at a safe time."
                .into(),
        };
    }
    Ok(())
}
