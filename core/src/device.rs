//! The device side of trust, by the paths apps and tools use: verifying a receipt or an
//! enrollment response (as IT staff do), the wipe receipt left for the app, and what came of a
//! command. The checks themselves live in `trust` (signed objects) and `enrollment` (what this
//! device pinned and remembers); the wipe lifecycle in `wipe`.

pub use crate::enrollment::{CommandResult, CommandStatus};
pub use crate::trust::{verify_enroll_response, verify_enroll_response_for_bundle, verify_receipt};
pub use crate::wipe::{take_wipe_receipt, FailPoint, WIPE_INTENT_FILE, WIPE_RECEIPT_FILE};
