//! `enroll` (the bundle a phone scans) and `enroll accept` (the phone's answer).

use crate::cli::{EnrollAcceptArgs, EnrollArgs, ModeArg};
use crate::files::{self, DeviceRecord};
use crate::{AdminError, Out};
use quietline_core::device;
use quietline_core::policy::Mode;
use quietline_core::trust::{self, BundleBody, RootSet};
use quietline_core::wire;
use ring::rand::{SecureRandom, SystemRandom};
use std::path::PathBuf;

fn random<const N: usize>() -> Result<[u8; N], AdminError> {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).map_err(|_| AdminError::BadArg("the system has no randomness".into()))?;
    Ok(b)
}

fn required<T: Clone>(v: &Option<T>, flag: &str) -> Result<T, AdminError> {
    v.clone().ok_or_else(|| AdminError::BadArg(format!("enroll needs {flag}")))
}

/// `enroll`: checks the policy as the phone will, so a bundle the phone would refuse is never
/// handed out, then writes the bundle.
pub(crate) fn bundle(a: &EnrollArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let org = required(&a.org, "--org")?;
    let root_pub: PathBuf = required(&a.root_pub, "--root-pub")?;
    let mode = match required(&a.mode, "--mode")? {
        ModeArg::Work => Mode::Work,
        ModeArg::Byod => Mode::Byod,
    };
    let policy_path: PathBuf = required(&a.policy, "--policy")?;
    let out_path: PathBuf = required(&a.out, "--out")?;
    crate::lint::check_relay_url(a.relay_url.as_deref())?;
    let root_key = files::read_public_key(&root_pub)?;
    let device_id = match &a.device_id {
        Some(h) => wire::unhex::<8>(h.trim())
            .ok_or_else(|| AdminError::BadArg(format!("--device-id {h:?}: a device id is 16 hex digits")))?,
        None => random::<8>()?,
    };
    let enrollment_id = random::<4>()?;
    let enroll_secret = random::<32>()?;
    let policy = files::read_text(&policy_path)?.trim().to_string();
    let ctx = format!("{}: not a usable initial policy", policy_path.display());
    let sp = trust::decode_policy(&policy).map_err(|e| AdminError::trust(ctx.clone(), e))?;
    let root_hex = wire::hex(&root_key);
    if let Some(s) = sp.body.staff.iter().find(|s| s.key.eq_ignore_ascii_case(&root_hex)) {
        return Err(AdminError::BadArg(format!(
            "--root-pub {}: this is the staff key {:?} of the policy, not a root key. A phone pins the root for \
             good; a staff key pinned as root could sign any policy, and losing it would lock IT out",
            root_pub.display(),
            s.name
        )));
    }
    let root = RootSet { version: 1, keys: vec![root_key], threshold: 1 };
    trust::check_root_signed(&sp.container, &root).map_err(|e| {
        AdminError::BadArg(format!("{ctx}: it is not signed by the root key in {} ({e})", root_pub.display()))
    })?;
    if sp.body.org != org {
        return Err(AdminError::BadArg(format!("{ctx}: it is for org {:?}, not {org:?}", sp.body.org)));
    }
    if sp.body.rules.mode != mode {
        return Err(AdminError::BadArg(format!("{ctx}: its rules are for mode {:?}", sp.body.rules.mode)));
    }
    let me = wire::hex(&device_id);
    if !sp.body.targets.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(&me)) {
        return Err(AdminError::BadArg(format!("{ctx}: its targets do not include device {me}")));
    }
    if sp.body.expires_at <= i64::from(files::now_secs()?) {
        return Err(AdminError::BadArg(format!("{ctx}: it has expired")));
    }
    let body = BundleBody {
        org,
        root_key: wire::hex(&root_key),
        device_id: me.clone(),
        enrollment_id: wire::hex(&enrollment_id),
        mode,
        policy,
        relay_url: a
            .relay_url
            .clone()
            .or_else(|| a.relay.as_deref().map(|u| u.trim().trim_end_matches('/').to_string())),
        enroll_secret: wire::hex(&enroll_secret),
    };
    let text = trust::encode_bundle(&body).map_err(|e| AdminError::trust("cannot encode the bundle", e))?;
    // The bundle now holds a secret (it proves the phone's answer): keep the file private.
    files::write_text(&out_path, &format!("{text}\n"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&out_path, std::fs::Permissions::from_mode(0o600));
    }
    out.line(format!("device id: {me}"))?;
    out.line(format!("enrollment id: {}", body.enrollment_id))?;
    out.line(format!("bundle for a {mode:?} phone of org {} -> {}", body.org, out_path.display()))?;
    crate::qr::show(&text, a.qr, a.qr_svg.as_deref(), &out_path, out)?;
    crate::relay::announce(a.relay.as_deref(), a.relay_key.as_deref(), &text, out)
}

/// `enroll accept`.
pub(crate) fn accept(a: &EnrollAcceptArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let text = files::read_object_as(&a.response, wire::ObjType::EnrollResponse)?;
    let bundle = files::read_object_as(&a.bundle.to_string_lossy(), wire::ObjType::EnrollBundle)?;
    let r = device::verify_enroll_response_for_bundle(&text, &bundle).map_err(|e| {
        AdminError::trust(format!("the enrollment response is not valid for the bundle {}", a.bundle.display()), e)
    })?;
    let record = DeviceRecord {
        device_id: wire::hex(&r.device_id),
        enrollment_id: wire::hex(&r.enrollment_id),
        device_key: wire::hex(&r.device_key),
        next_seq: 1,
    };
    files::write_new_device(&a.out, &record)?;
    out.line(format!(
        "device {} (enrollment {}) enrolled: device key id {} -> {}",
        record.device_id,
        record.enrollment_id,
        wire::hex(&wire::key_id(&r.device_key)),
        a.out.display()
    ))?;
    crate::relay::accept(a.relay.as_deref(), a.relay_key.as_deref(), &record, out)
}
