//! `inspect`: decode any `QL:` object, show its fields, and check it as a phone (or IT) would
//! with the keys given, saying why it is rejected.

use crate::cli::InspectArgs;
use crate::command::{check_receipt, ReceiptJson};
use crate::files::{self, now_secs, rfc3339, Device};
use crate::precheck::role_for;
use crate::{AdminError, Out};
use quietline_core::device;
use quietline_core::trust::{self, Role, RootSet, StaffKey, MAX_COMMAND_LIFETIME_SECS, MAX_SKEW_SECS};
use quietline_core::wire::{self, Command, ObjType, Receipt};

/// What the checks concluded.
enum Verdict {
    /// Every check that could be made passed.
    Accepted(String),
    /// Nothing failed, but some checks need keys that were not given.
    Unverified(String),
}

type Checked = Result<Verdict, String>;

/// The keys and records `inspect` was given.
struct Ctx {
    roots: Vec<[u8; 32]>,
    threshold: u32,
    device: Option<Device>,
    /// Staff keys with roles (from --policy) or without (from --staff-pub: roles unknown).
    staff: Vec<(StaffKey, bool)>,
    now: i64,
}

pub(crate) fn inspect(a: &InspectArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let text = files::read_object(&a.object)?;
    let mut ctx = Ctx {
        roots: a.root_pub.iter().map(|p| files::read_public_key(p)).collect::<Result<_, _>>()?,
        threshold: a.threshold,
        device: a.device.as_ref().map(|p| files::read_device(p)).transpose()?,
        staff: Vec::new(),
        now: i64::from(now_secs()?),
    };
    for p in &a.staff_pub {
        let k = files::read_public_key(p)?;
        ctx.staff.push((StaffKey { name: p.display().to_string(), key: wire::hex(&k), roles: vec![] }, false));
    }
    if let Some(p) = &a.policy {
        let sp = trust::decode_policy(&files::read_object(p)?)
            .map_err(|e| AdminError::trust(format!("{p}: not a signed policy"), e))?;
        ctx.staff.extend(sp.body.staff.into_iter().map(|s| (s, true)));
    }
    let checked = match wire::from_text(&text).and_then(|b| wire::header(&b).map(|t| (b, t))) {
        Err(e) => Err(format!("not a Quietline object: {e}")),
        Ok((bytes, kind)) => {
            out.line(format!("type: {}", type_name(kind)))?;
            out.line(format!("size: {} bytes, {} characters as text", bytes.len(), text.len()))?;
            let mut lines = Vec::new();
            let r = match kind {
                ObjType::Command => command(&bytes, &ctx, &mut lines),
                ObjType::Receipt => receipt(&bytes, &ctx, &mut lines),
                ObjType::EnrollResponse => response(&text, &ctx, &mut lines),
                ObjType::Policy => policy(&text, &ctx, &mut lines),
                ObjType::Root => root(&text, &ctx, &mut lines),
                ObjType::EnrollBundle => bundle(&text, &ctx, &mut lines),
                ObjType::CheckinAck => checkin_ack(&bytes, &ctx, &mut lines),
            };
            for (k, v) in lines {
                out.line(format!("  {k}: {v}"))?;
            }
            r
        }
    };
    match checked {
        Ok(Verdict::Accepted(why)) => out.line(format!("verdict: valid ({why})")),
        Ok(Verdict::Unverified(why)) => out.line(format!("verdict: decoded, not verified ({why})")),
        Err(reason) => {
            out.line(format!("verdict: REJECTED: {reason}"))?;
            Err(AdminError::Rejected(reason))
        }
    }
}

fn type_name(t: ObjType) -> &'static str {
    match t {
        ObjType::Command => "command",
        ObjType::Policy => "signed policy",
        ObjType::Root => "root rotation",
        ObjType::Receipt => "receipt",
        ObjType::EnrollResponse => "enrollment response",
        ObjType::EnrollBundle => "enrollment bundle",
        ObjType::CheckinAck => "check-in acknowledgement",
    }
}

/// A check-in acknowledgement: the fields, and the signature and role if the staff keys are
/// given (the phone accepts it only from a key whose only role is `checkin`).
fn checkin_ack(bytes: &[u8], ctx: &Ctx, l: &mut Lines) -> Checked {
    let a = wire::CheckinAck::from_bytes(bytes).map_err(|e| e.to_string())?;
    l.push(("device_id", wire::hex(&a.device_id)));
    l.push(("enrollment_id", wire::hex(&a.enrollment_id)));
    l.push(("nonce", wire::hex(&a.nonce)));
    l.push(("issued_at", time(i64::from(a.issued_at))));
    l.push(("expires_at", time(i64::from(a.expires_at))));
    l.push(("key_id", wire::hex(&a.key_id)));
    let signer = ctx
        .staff
        .iter()
        .filter_map(|(s, roles_known)| trust::parse_key(&s.key).ok().map(|k| (k, s, *roles_known)))
        .find(|(k, _, _)| wire::key_id(k) == a.key_id);
    let Some((key, staff, roles_known)) = signer else {
        return Ok(Verdict::Unverified("give --policy or --staff-pub naming its key to check the signature".into()));
    };
    quietline_core::checkin::verify_ack(&wire::to_text(bytes), &key)
        .map_err(|_| format!("the signature does not verify with {}'s key (forged or altered)", staff.name))?;
    if roles_known && !staff.roles.contains(&Role::Checkin) {
        return Err(format!("{}'s roles ({:?}) do not include checkin", staff.name, staff.roles));
    }
    Ok(Verdict::Accepted(format!("signed by {}", staff.name)))
}

type Lines = Vec<(&'static str, String)>;

fn time(secs: i64) -> String {
    format!("{secs} ({})", rfc3339(secs))
}

fn command(bytes: &[u8], ctx: &Ctx, l: &mut Lines) -> Checked {
    let c = Command::from_bytes(bytes).map_err(|e| e.to_string())?;
    l.push(("device_id", wire::hex(&c.device_id)));
    l.push(("enrollment_id", wire::hex(&c.enrollment_id)));
    l.push(("seq", c.seq.to_string()));
    l.push(("issued_at", time(i64::from(c.issued_at))));
    l.push(("expires_at", time(i64::from(c.expires_at))));
    l.push(("action", format!("{:?}", c.action)));
    l.push(("key_id", wire::hex(&c.key_id)));
    l.push(("command_id", wire::hex(&c.id())));
    if let Some(d) = &ctx.device {
        if c.device_id != d.device_id {
            return Err(format!("addressed to device {}, not {}", wire::hex(&c.device_id), d.record.device_id));
        }
        if c.enrollment_id != d.enrollment_id {
            return Err(format!(
                "addressed to enrollment {}, not the device's enrollment {}",
                wire::hex(&c.enrollment_id),
                d.record.enrollment_id
            ));
        }
    }
    if c.expires_at <= c.issued_at || c.expires_at - c.issued_at > MAX_COMMAND_LIFETIME_SECS {
        return Err("its lifetime is empty or longer than 7 days".into());
    }
    if i64::from(c.expires_at) <= ctx.now {
        return Err(format!("expired at {}", rfc3339(i64::from(c.expires_at))));
    }
    if i64::from(c.issued_at) > ctx.now + MAX_SKEW_SECS {
        return Err("issued in the future, beyond the 300 s clock skew phones allow".into());
    }
    if ctx.staff.is_empty() {
        return Ok(Verdict::Unverified("give --policy or --staff-pub to check the signature".into()));
    }
    let signer = ctx
        .staff
        .iter()
        .filter_map(|(s, roles_known)| trust::parse_key(&s.key).ok().map(|k| (k, s, *roles_known)))
        .find(|(k, _, _)| wire::key_id(k) == c.key_id);
    let Some((key, staff, roles_known)) = signer else {
        return Err(format!("signed by key id {}, which is none of the staff keys given", wire::hex(&c.key_id)));
    };
    if !trust::verify(&key, &c.signed_bytes(), &c.signature) {
        return Err(format!("the signature does not verify with {}'s key (forged or altered)", staff.name));
    }
    if roles_known {
        if let Some(role) = role_for(c.action) {
            if !staff.roles.contains(&role) {
                return Err(format!("{}'s roles ({:?}) do not allow {:?}", staff.name, staff.roles, c.action));
            }
        }
    }
    let scope = if ctx.device.is_some() { "" } else { "; give --device to check the addressee" };
    Ok(Verdict::Accepted(format!("signed by {}{scope}", staff.name)))
}

fn receipt(bytes: &[u8], ctx: &Ctx, l: &mut Lines) -> Checked {
    let r = Receipt::from_bytes(bytes).map_err(|e| e.to_string())?;
    let j = ReceiptJson::from(&r);
    l.push(("device_id", j.device_id));
    l.push(("enrollment_id", j.enrollment_id));
    l.push(("command_id", j.command_id));
    l.push(("seq", j.seq.to_string()));
    l.push(("requested", format!("{:?}", r.requested)));
    l.push(("outcome", format!("{:?}", r.outcome)));
    l.push(("performed", format!("{:?}", r.performed)));
    l.push(("reason", format!("{:?}", r.reason)));
    l.push(("at", time(i64::from(r.at))));
    let Some(d) = &ctx.device else {
        return Ok(Verdict::Unverified("give --device to check the device's signature".into()));
    };
    check_receipt(&wire::to_text(bytes), d).map_err(|e| e.to_string().trim_start_matches("rejected: ").to_string())?;
    Ok(Verdict::Accepted(format!("signed by device {}", d.record.device_id)))
}

fn response(text: &str, ctx: &Ctx, l: &mut Lines) -> Checked {
    let r = device::verify_enroll_response(text).map_err(|e| format!("proof of possession: {e}"))?;
    l.push(("device_id", wire::hex(&r.device_id)));
    l.push(("enrollment_id", wire::hex(&r.enrollment_id)));
    l.push(("device_key", wire::hex(&r.device_key)));
    l.push(("device_key_id", wire::hex(&wire::key_id(&r.device_key))));
    l.push(("at", time(i64::from(r.at))));
    if let Some(d) = &ctx.device {
        if r.device_id != d.device_id || r.enrollment_id != d.enrollment_id || r.device_key != d.device_key {
            return Err(format!("does not match the device record of {}", d.record.device_id));
        }
    }
    Ok(Verdict::Accepted("self-signed by the device key it carries".into()))
}

fn roots_check(c: &wire::Container, ctx: &Ctx) -> Result<(), String> {
    let root = RootSet { version: 1, keys: ctx.roots.clone(), threshold: ctx.threshold };
    trust::check_root_signed(c, &root).map_err(|e| format!("root signature check: {e}"))
}

fn signers(c: &wire::Container) -> String {
    c.signatures.iter().map(|(k, _)| wire::hex(k)).collect::<Vec<_>>().join(", ")
}

fn policy(text: &str, ctx: &Ctx, l: &mut Lines) -> Checked {
    let sp = trust::decode_policy(text).map_err(|e| e.to_string())?;
    let b = &sp.body;
    l.push(("org", b.org.clone()));
    l.push(("version", b.version.to_string()));
    l.push(("mode", format!("{:?}", b.rules.mode)));
    l.push(("issued_at", time(b.issued_at)));
    l.push(("expires_at", time(b.expires_at)));
    l.push(("grace_hours", b.grace_hours.to_string()));
    l.push(("targets", b.targets.join(", ")));
    for s in &b.staff {
        let kid = trust::parse_key(&s.key).map(|k| wire::hex(&wire::key_id(&k))).unwrap_or_else(|_| "bad key".into());
        l.push(("staff", format!("{} (key id {kid}) roles {:?}", s.name, s.roles)));
    }
    l.push(("rules", b.rules.to_json()));
    l.push(("softphone", crate::rendering::softphone_summary(&b.rules)));
    l.push(("body_sha256", sp.digest.clone()));
    l.push(("signed_by", signers(&sp.container)));
    if let Some(d) = &ctx.device {
        if !b.targets.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(&d.record.device_id)) {
            return Err(format!("not addressed to device {}", d.record.device_id));
        }
    }
    if b.expires_at <= ctx.now {
        return Err(format!("expired at {}: phones never install an expired policy", rfc3339(b.expires_at)));
    }
    if b.issued_at > ctx.now + MAX_SKEW_SECS {
        return Err("issued in the future, beyond the 300 s clock skew phones allow".into());
    }
    if ctx.roots.is_empty() {
        return Ok(Verdict::Unverified("give --root-pub to check the root signatures".into()));
    }
    roots_check(&sp.container, ctx)?;
    Ok(Verdict::Accepted("signed by the root keys given".into()))
}

fn root(text: &str, ctx: &Ctx, l: &mut Lines) -> Checked {
    let (c, b) = trust::decode_root(text).map_err(|e| e.to_string())?;
    l.push(("org", b.org.clone()));
    l.push(("version", b.version.to_string()));
    for k in &b.keys {
        let kid = trust::parse_key(k).map(|k| wire::hex(&wire::key_id(&k))).unwrap_or_else(|_| "bad key".into());
        l.push(("key", format!("{k} (key id {kid})")));
    }
    l.push(("threshold", b.threshold.to_string()));
    l.push(("signed_by", signers(&c)));
    if ctx.roots.is_empty() {
        let keys = b.keys.iter().map(|k| trust::parse_key(k)).collect::<Result<Vec<_>, _>>();
        let keys = keys.map_err(|e| format!("new keys: {e}"))?;
        let new = RootSet { version: b.version, keys, threshold: b.threshold };
        trust::check_root_signed(&c, &new).map_err(|e| format!("new keys: {e}"))?;
        return Ok(Verdict::Unverified("signed by its new keys; give --root-pub to check the old keys".into()));
    }
    let current = RootSet { version: b.version.saturating_sub(1), keys: ctx.roots.clone(), threshold: ctx.threshold };
    trust::verify_rotation(&c, &b, &current, &b.org).map_err(|e| e.to_string())?;
    Ok(Verdict::Accepted(format!(
        "signed by a threshold of the old and the new keys; phones at root version {} accept it",
        current.version
    )))
}

fn bundle(text: &str, ctx: &Ctx, l: &mut Lines) -> Checked {
    let b = trust::decode_bundle(text).map_err(|e| e.to_string())?;
    let root_key = trust::parse_key(&b.root_key).map_err(|e| format!("root_key: {e}"))?;
    l.push(("org", b.org.clone()));
    l.push(("device_id", b.device_id.clone()));
    l.push(("enrollment_id", b.enrollment_id.clone()));
    l.push(("mode", format!("{:?}", b.mode)));
    l.push(("root_key", format!("{} (key id {})", b.root_key, wire::hex(&wire::key_id(&root_key)))));
    l.push(("relay_url", b.relay_url.clone().unwrap_or_else(|| "(none)".into())));
    let sp = trust::decode_policy(&b.policy).map_err(|e| format!("its policy: {e}"))?;
    l.push(("policy", format!("v{} of org {}, expires {}", sp.body.version, sp.body.org, rfc3339(sp.body.expires_at))));
    let pinned = RootSet { version: 1, keys: vec![root_key], threshold: 1 };
    trust::check_root_signed(&sp.container, &pinned)
        .map_err(|e| format!("its policy is not signed by its root: {e}"))?;
    if sp.body.org != b.org || sp.body.rules.mode != b.mode {
        return Err("its policy is for another org or mode".into());
    }
    if sp.body.expires_at <= ctx.now {
        return Err("its policy has expired: the phone would refuse it".into());
    }
    if ctx.roots.is_empty() {
        return Ok(Verdict::Unverified(
            "a bundle is unsigned: give --root-pub to check that it pins your org's root key".into(),
        ));
    }
    if !ctx.roots.contains(&root_key) {
        return Err("it pins a root key that is not the org root given (a forged bundle?)".into());
    }
    Ok(Verdict::Accepted("pins the org root given; its policy is signed by it".into()))
}
