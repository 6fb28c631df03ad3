//! `profile apple`: an Apple configuration profile (`.mobileconfig`, an XML property list).
//!
//! Payloads and keys follow Apple's published profile schema (the `apple/device-management`
//! repository); the facts the tests hold the output to are in `tests/schemas/apple-payload-keys.json`.
//! The profile is unsigned: an MDM signs what it sends, and a profile installed by hand can be
//! signed with the organisation's certificate. UUIDs are derived from the content, so the same
//! policy always renders the same bytes and an MDM sees no change where there is none.

use crate::rendering::{app_only_common, AppOnly, Rendering, Source};
use crate::AdminError;
use quietline_core::Mode;
use std::fmt::Write as _;

/// The shortest and longest auto-lock a Passcode payload can require on iOS, in minutes.
pub const MAX_INACTIVITY_MINUTES: (u32, u32) = (1, 15);
/// Apple's range for `maxFailedAttempts`.
pub const MAX_FAILED_ATTEMPTS: (u32, u32) = (2, 11);
/// The passcode length required with `allowSimple` false: six digits, which iOS offers by default.
pub const MIN_PASSCODE_LENGTH: i64 = 6;

/// A property-list value: only the types a profile needs.
#[derive(Debug, Clone)]
enum PValue {
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<PValue>),
    Dict(Vec<(String, PValue)>),
}

fn s(v: impl Into<String>) -> PValue {
    PValue::Str(v.into())
}

/// Escapes text for XML character data, dropping the control characters XML 1.0 forbids.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut o = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// Text fit for an XML comment: no `--`, no trailing `-`, no forbidden characters.
fn comment_safe(text: &str) -> String {
    let mut t: String =
        text.chars()
            .map(|c| {
                if ((c as u32) < 0x20 && !"\t\n\r".contains(c)) || c == '\u{fffe}' || c == '\u{ffff}' {
                    ' '
                } else {
                    c
                }
            })
            .collect();
    while t.contains("--") {
        t = t.replace("--", "- -");
    }
    if t.ends_with('-') {
        t.push(' ');
    }
    t
}

fn render_value(v: &PValue, depth: usize, o: &mut String) {
    let ind = "\t".repeat(depth);
    match v {
        PValue::Bool(b) => {
            let _ = writeln!(o, "{ind}<{}/>", if *b { "true" } else { "false" });
        }
        PValue::Int(i) => {
            let _ = writeln!(o, "{ind}<integer>{i}</integer>");
        }
        PValue::Str(t) => {
            let _ = writeln!(o, "{ind}<string>{}</string>", xml_escape(t));
        }
        PValue::Array(items) => {
            let _ = writeln!(o, "{ind}<array>");
            for it in items {
                render_value(it, depth + 1, o);
            }
            let _ = writeln!(o, "{ind}</array>");
        }
        PValue::Dict(entries) => {
            let _ = writeln!(o, "{ind}<dict>");
            for (k, val) in entries {
                let _ = writeln!(o, "{ind}\t<key>{}</key>", xml_escape(k));
                render_value(val, depth + 1, o);
            }
            let _ = writeln!(o, "{ind}</dict>");
        }
    }
}

/// A UUID (RFC 9562 version 8, "custom") from the SHA-256 of `parts`: stable for the same content.
fn content_uuid(parts: &[&str]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p.as_bytes());
    }
    let d = ctx.finish();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A payload dictionary with its common keys first, its UUID derived from its settings.
fn payload(
    ptype: &str,
    identifier: String,
    display: &str,
    description: &str,
    org: &str,
    settings: Vec<(String, PValue)>,
) -> PValue {
    let mut canon = String::new();
    render_value(&PValue::Dict(settings.clone()), 0, &mut canon);
    let uuid = content_uuid(&[ptype, &identifier, &canon]);
    let mut d = vec![
        ("PayloadDescription".to_string(), s(description)),
        ("PayloadDisplayName".to_string(), s(display)),
        ("PayloadIdentifier".to_string(), s(identifier)),
        ("PayloadOrganization".to_string(), s(org)),
        ("PayloadType".to_string(), s(ptype)),
        ("PayloadUUID".to_string(), s(uuid)),
        ("PayloadVersion".to_string(), PValue::Int(1)),
    ];
    d.extend(settings);
    PValue::Dict(d)
}

/// A reverse-DNS identifier: letters, digits, '-' and '.', no empty component.
fn check_identifier(id: &str) -> Result<(), AdminError> {
    let ok = !id.is_empty()
        && id.split('.').all(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'));
    if ok {
        Ok(())
    } else {
        Err(AdminError::BadArg(format!(
            "--identifier {id:?}: use a reverse-DNS identifier such as org.example.quietline (letters, digits, '-', '.')"
        )))
    }
}

/// The org name as an identifier component.
fn slug(org: &str) -> String {
    let t: String = org.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let t = t.split('-').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-");
    if t.is_empty() {
        "org".into()
    } else {
        t
    }
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Work => "work",
        Mode::Byod => "byod",
    }
}

/// `maxInactivity` for a timeout in seconds, and a note when the value had to change. A policy
/// timeout is a maximum, so a value between whole minutes rounds down (stricter); below a minute
/// there is nothing shorter to choose.
pub fn max_inactivity(secs: u32) -> (u32, Option<String>) {
    let (lo, hi) = MAX_INACTIVITY_MINUTES;
    let m = (secs / 60).clamp(lo, hi);
    let note = if secs < 60 {
        Some(format!(
            "auto_lock.max_timeout_secs {secs} s -> maxInactivity {m} minute: the shortest auto-lock a profile can \
             require on iOS (whole minutes, 1-15), so the device may stay unlocked up to {m} minute; the advocate \
             can still choose 30 seconds in Settings"
        ))
    } else if secs % 60 != 0 || secs / 60 > hi {
        Some(format!(
            "auto_lock.max_timeout_secs {secs} s -> maxInactivity {m} minutes: iOS counts whole minutes (1-15), \
             so the profile is at least as strict as the policy"
        ))
    } else {
        None
    };
    (m, note)
}

/// `maxFailedAttempts` for the policy's attempts, and a note when it was clamped to Apple's range.
pub fn max_failed_attempts(n: u32) -> (u32, Option<String>) {
    let (lo, hi) = MAX_FAILED_ATTEMPTS;
    let v = n.clamp(lo, hi);
    let note = (v != n).then(|| {
        format!(
            "offline.max_failed_unlocks {n} -> maxFailedAttempts {v}: Apple accepts {lo}-{hi}; the iPhone erases \
             itself after {v} failed passcode attempts, {} than the policy's {n}",
            if v < n { "sooner" } else { "later" }
        )
    });
    (v, note)
}

/// Renders the policy as a `.mobileconfig`.
pub(crate) fn render(src: &Source, org: Option<&str>, identifier: Option<&str>) -> Result<Rendering, AdminError> {
    let p = &src.rules;
    let org = org.map(str::to_string).or_else(|| src.org.clone()).unwrap_or_else(|| "Quietline".to_string());
    if org.trim().is_empty() {
        return Err(AdminError::BadArg("--org must not be empty".into()));
    }
    let id = identifier.map(str::to_string).unwrap_or_else(|| format!("org.quietline.policy.{}", slug(&org)));
    check_identifier(&id)?;
    let mut notes = Vec::new();
    let mut app_only = app_only_common(p);

    // Passcode payload: the auto-lock and the secure lock.
    let (minutes, n) = max_inactivity(p.auto_lock.max_timeout_secs);
    notes.extend(n);
    let mut pass: Vec<(String, PValue)> = Vec::new();
    if p.auto_lock.require_secure_lock {
        pass.push(("allowSimple".into(), PValue::Bool(false)));
    }
    pass.push(("forcePIN".into(), PValue::Bool(p.auto_lock.require_secure_lock)));
    if p.auto_lock.require_secure_lock {
        match p.offline.max_failed_unlocks {
            Some(n) if p.full_wipe_allowed() => {
                let (v, note) = max_failed_attempts(n);
                notes.extend(note);
                pass.push(("maxFailedAttempts".into(), PValue::Int(i64::from(v))));
            }
            Some(n) => notes.push(format!(
                "offline.max_failed_unlocks {n} not mapped to maxFailedAttempts: on iOS it erases the whole device, \
                 which this {} policy does not allow; Quietline's own wipes of this phone stay selective",
                if p.mode == Mode::Byod { "personal-phone (byod)" } else { "work policy (wipe.allow_full false)" }
            )),
            None => {}
        }
        pass.push(("maxGracePeriod".into(), PValue::Int(0)));
    }
    pass.push(("maxInactivity".into(), PValue::Int(i64::from(minutes))));
    if p.auto_lock.require_secure_lock {
        pass.push(("minLength".into(), PValue::Int(MIN_PASSCODE_LENGTH)));
        pass.push(("requireAlphanumeric".into(), PValue::Bool(false)));
    } else {
        notes.push(
            "auto_lock.require_secure_lock is false: forcePIN false, no passcode rules; only the auto-lock is set"
                .into(),
        );
    }
    let mut payloads = vec![payload(
        "com.apple.mobiledevice.passwordpolicy",
        format!("{id}.passcode"),
        "Passcode",
        "Quietline auto-lock and secure lock: the screen locks when idle and needs a passcode at once.",
        &org,
        pass,
    )];

    // Restrictions payload: only what keeps the locked phone from reaching calls and
    // notifications, which is what the secure lock is for. None of these needs supervision.
    if p.auto_lock.require_secure_lock {
        payloads.push(payload(
            "com.apple.applicationaccess",
            format!("{id}.restrictions"),
            "Lock screen privacy",
            "Quietline secure lock: no Siri, voice dialing or notification history while the phone is locked.",
            &org,
            vec![
                ("allowAssistantWhileLocked".into(), PValue::Bool(false)),
                ("allowLockScreenNotificationsView".into(), PValue::Bool(false)),
                ("allowVoiceDialing".into(), PValue::Bool(false)),
            ],
        ));
    }

    app_only.push(AppOnly { rule: "sms", why: "no profile key blocks texts, to chosen numbers or at all".into() });
    app_only.sort_by_key(|a| a.rule);
    let ue = "Under User Enrollment (BYOD on iOS) every Passcode key is ignored and allowVoiceDialing is not \
              available: on a personal iPhone the app's own protections carry the rules.";
    notes.push(ue.to_string());

    let mut payload_canon = String::new();
    for pl in &payloads {
        render_value(pl, 0, &mut payload_canon);
    }
    let version = src.version.map(|v| format!(" v{v}")).unwrap_or_default();
    let display = format!("Quietline policy{version} ({org})");
    let top = PValue::Dict(vec![
        ("PayloadContent".into(), PValue::Array(payloads)),
        (
            "PayloadDescription".into(),
            s(format!(
                "The device lock that {org}'s Quietline policy{version} asks for. Caller ID, call cleanup and the \
                 other survivor protections are enforced by the Quietline app."
            )),
        ),
        ("PayloadDisplayName".into(), s(display)),
        ("PayloadIdentifier".into(), s(id.clone())),
        ("PayloadOrganization".into(), s(org.clone())),
        ("PayloadType".into(), s("Configuration")),
        ("PayloadUUID".into(), s(content_uuid(&["Configuration", &id, &payload_canon]))),
        ("PayloadVersion".into(), PValue::Int(1)),
        ("TargetDeviceType".into(), PValue::Int(1)),
    ]);

    let mut comment =
        format!("\nQuietline policy{version} for {org}, mode {}, rendered by quietline-admin.\n", mode_name(p.mode));
    for n in &notes {
        let _ = writeln!(comment, "Note: {n}");
    }
    comment.push_str("Stays with the Quietline app (no equivalent in a configuration profile):\n");
    for a in &app_only {
        let _ = writeln!(comment, "  {}: {}", a.rule, a.why);
    }
    let mut text = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n",
    );
    let _ = writeln!(text, "<!--{}-->", comment_safe(&comment));
    text.push_str("<plist version=\"1.0\">\n");
    render_value(&top, 0, &mut text);
    text.push_str("</plist>\n");
    let what = format!(
        "Apple configuration profile {id} ({}), unsigned",
        if p.auto_lock.require_secure_lock { "Passcode and Restrictions payloads" } else { "Passcode payload" }
    );
    Ok(Rendering { text, what, notes, app_only })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_seconds_is_one_minute_with_a_note() {
        let (m, note) = max_inactivity(30);
        assert_eq!(m, 1);
        assert!(note.is_some_and(|n| n.contains("30 s -> maxInactivity 1 minute")));
    }

    #[test]
    fn whole_minutes_map_without_a_note_and_odd_seconds_round_down() {
        assert_eq!(max_inactivity(900), (15, None));
        assert_eq!(max_inactivity(120), (2, None));
        assert_eq!(max_inactivity(150).0, 2);
    }

    #[test]
    fn failed_attempts_clamp_to_apples_range() {
        assert_eq!(max_failed_attempts(10), (10, None));
        let (v, note) = max_failed_attempts(20);
        assert_eq!(v, 11);
        assert!(note.is_some_and(|n| n.contains("20 -> maxFailedAttempts 11")));
    }

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = content_uuid(&["x", "y"]);
        assert_eq!(a, content_uuid(&["x", "y"]));
        assert_ne!(a, content_uuid(&["xy", ""]));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }

    #[test]
    fn comments_never_hold_a_double_hyphen() {
        let c = comment_safe("a -- b --- c -");
        assert!(!c.contains("--") && !c.ends_with('-'));
    }
}
