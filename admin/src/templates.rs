//! `policy template work|byod|hotline`: a starting policy for each kind of line, every field
//! written out so IT staff see what they may change (docs/policy.md explains each one).

use crate::cli::{PolicyTemplateArgs, TemplateKind};
use crate::{AdminError, Out};
use quietline_core::policy::{Mode, Policy};

/// The starting policy for a kind of line. Each follows the guidance without a warning.
pub fn template(kind: TemplateKind) -> Policy {
    match kind {
        TemplateKind::Byod => Policy::default_for(Mode::Byod),
        TemplateKind::Work => {
            let mut p = Policy::default_for(Mode::Work);
            // A client outside the helpline may have the advocate's work number; helpline
            // calls stay hidden whatever this says.
            p.caller_id.hide_on_direct_calls = false;
            p.off_duty.enabled = true;
            p
        }
        TemplateKind::Hotline => {
            let mut p = Policy::default_for(Mode::Work);
            p.retention.anonymous_hotline = true;
            p.off_duty.enabled = true;
            p
        }
    }
}

/// The template as pretty JSON.
pub fn template_json(kind: TemplateKind) -> String {
    // Serialised from the struct, so the fields come in the policy's own order.
    serde_json::to_string_pretty(&template(kind)).unwrap_or_default()
}

/// `policy template`.
pub(crate) fn write(a: &PolicyTemplateArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let json = template_json(a.kind);
    let Some(path) = &a.out else { return out.line(json) };
    if path.exists() {
        return Err(AdminError::File {
            path: path.display().to_string(),
            reason: "already exists; refusing to overwrite rules (choose another --out)".into(),
        });
    }
    crate::files::write_text(path, &format!("{json}\n"))?;
    out.line(format!("{:?} template -> {} (docs/policy.md explains every field)", a.kind, path.display()))
}
