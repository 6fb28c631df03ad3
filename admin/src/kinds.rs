//! What IT staff call each kind of signed object.

use quietline_core::wire::ObjType;

/// What IT staff call an object type, with its article.
pub fn kind_name(kind: ObjType) -> &'static str {
    match kind {
        ObjType::Command => "a command",
        ObjType::Policy => "a signed policy",
        ObjType::Root => "a root rotation",
        ObjType::Receipt => "a receipt",
        ObjType::EnrollResponse => "an enrollment response",
        ObjType::EnrollBundle => "an enrollment bundle",
        ObjType::CheckinAck => "a check-in acknowledgement",
    }
}
