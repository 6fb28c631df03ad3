//! `keygen`, `policy sign` and `policy show`.

use crate::cli::{KeygenArgs, PolicyShowArgs, PolicySignArgs};
use crate::files::{self, now_secs, rfc3339};
use crate::{lint, AdminError, Out};
use quietline_core::trust::{self, PolicyBody, Role, SigningKey, StaffKey};
use quietline_core::wire;
use quietline_core::Policy;
use std::path::Path;

/// `keygen`.
pub(crate) fn keygen(a: &KeygenArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    if a.name.is_empty() || !a.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(AdminError::BadArg(format!(
            "--name {:?}: use letters, digits, '-', '_' or '.' (it becomes a file name)",
            a.name
        )));
    }
    std::fs::create_dir_all(&a.out).map_err(|e| AdminError::io(&a.out, e))?;
    let key_path = a.out.join(format!("{}.key", a.name));
    let pub_path = a.out.join(format!("{}.pub", a.name));
    if key_path.exists() {
        return Err(AdminError::KeyExists(key_path.display().to_string()));
    }
    let key = SigningKey::generate().map_err(|e| AdminError::trust("cannot generate a key", e))?;
    files::write_private_key(&key_path, &key)?;
    files::write_text(&pub_path, &format!("{}\n", wire::hex(&key.public_key())))?;
    out.line(format!("{}: public key {} (key id {})", a.name, wire::hex(&key.public_key()), wire::hex(&key.key_id())))
}

/// Parses a role name as the policy spells it.
pub(crate) fn parse_role(s: &str) -> Result<Role, AdminError> {
    Ok(match s.trim() {
        "lock" => Role::Lock,
        "wipe_selective" => Role::WipeSelective,
        "wipe_full" => Role::WipeFull,
        "purge_survivor_data" => Role::PurgeSurvivorData,
        "update_policy" => Role::UpdatePolicy,
        "ping" => Role::Ping,
        "checkin" => Role::Checkin,
        other => {
            return Err(AdminError::BadArg(format!(
            "unknown role {other:?}: roles are lock, wipe_selective, wipe_full, purge_survivor_data, update_policy, \
                 ping, checkin"
        )))
        }
    })
}

/// Parses `NAME=PUBFILE=role1,role2`.
fn parse_staff(spec: &str) -> Result<StaffKey, AdminError> {
    let bad = || AdminError::BadArg(format!("--staff {spec:?}: expected NAME=PUBFILE=role1,role2"));
    let (name, rest) = spec.split_once('=').ok_or_else(bad)?;
    let (file, roles) = rest.rsplit_once('=').ok_or_else(bad)?;
    if name.is_empty() || file.is_empty() || roles.is_empty() {
        return Err(bad());
    }
    let key = files::read_public_key(Path::new(file))?;
    let mut roles = roles.split(',').map(parse_role).collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    if roles.contains(&Role::Checkin) && roles.len() > 1 {
        // The relay holds the checkin key: it must not carry any other role's powers.
        return Err(AdminError::BadArg(format!(
            "--staff {name}: the checkin role must be a key's only role (the relay holds that key; give it a key of \
             its own)"
        )));
    }
    Ok(StaffKey { name: name.to_string(), key: wire::hex(&key), roles })
}

fn parse_targets(targets: &[String]) -> Result<Vec<String>, AdminError> {
    if targets.is_empty() {
        return Ok(vec!["*".into()]);
    }
    if targets.len() > 1 && targets.iter().any(|t| t == "*") {
        return Err(AdminError::BadArg("--targets '*' means every device; do not combine it with device ids".into()));
    }
    targets
        .iter()
        .map(|t| {
            if t == "*" {
                Ok(t.clone())
            } else {
                wire::unhex::<8>(t)
                    .map(|id| wire::hex(&id))
                    .ok_or_else(|| AdminError::BadArg(format!("--targets {t:?}: a device id is 16 hex digits, or '*'")))
            }
        })
        .collect()
}

/// `policy sign`.
pub(crate) fn sign(a: &PolicySignArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let rules = Policy::from_json(&files::read_text(&a.rules)?)
        .map_err(|source| AdminError::BadRules { path: a.rules.display().to_string(), source })?;
    if a.org.trim().is_empty() {
        return Err(AdminError::BadArg("--org must not be empty".into()));
    }
    if a.expires_in_days == 0 {
        return Err(AdminError::BadArg("--expires-in-days must be at least 1".into()));
    }
    let targets = parse_targets(&a.targets)?;
    let staff = a.staff.iter().map(|s| parse_staff(s)).collect::<Result<Vec<_>, _>>()?;
    if a.keys.len() > wire::MAX_SIGS {
        return Err(AdminError::BadArg(format!("at most {} --key signatures fit in a policy", wire::MAX_SIGS)));
    }
    let keys = a.keys.iter().map(|k| files::read_private_key(k)).collect::<Result<Vec<_>, _>>()?;
    let issued_at = i64::from(now_secs()?);
    let body = PolicyBody {
        org: a.org.clone(),
        version: a.version,
        issued_at,
        expires_at: issued_at + i64::from(a.expires_in_days) * 86_400,
        targets,
        grace_hours: a.grace_hours,
        staff,
        rules,
    };
    let refs: Vec<&SigningKey> = keys.iter().collect();
    let review = lint::review_body(&body);
    lint::refuse(&a.rules.display().to_string(), &review)?;
    check_signers(a, &body, &keys, out)?;
    lint::print(&review, out)?;
    let text = trust::sign_policy(&body, &refs).map_err(|e| AdminError::trust("cannot sign the policy", e))?;
    files::write_text(&a.out, &format!("{text}\n"))?;
    out.line(format!(
        "signed policy v{} for org {} ({:?} mode, targets {}), {} staff key(s), {} signature(s), expires {} -> {}",
        body.version,
        body.org,
        body.rules.mode,
        body.targets.join(","),
        body.staff.len(),
        refs.len(),
        rfc3339(body.expires_at),
        a.out.display()
    ))?;
    out.line(crate::rendering::softphone_summary(&body.rules))?;
    crate::relay::queue_signed(a.relay.as_deref(), keys.first(), "/admin/policies", &text, "the policy", out)
}

/// Refuses signing keys the phone would not take as the org root: a staff key the policy names
/// without the update_policy role, or (with --root-pub) any key that is not a root key.
fn check_signers(
    a: &PolicySignArgs,
    body: &PolicyBody,
    keys: &[SigningKey],
    out: &mut Out<'_>,
) -> Result<(), AdminError> {
    let roots = a.root_pub.iter().map(|p| files::read_public_key(p)).collect::<Result<Vec<_>, _>>()?;
    for (k, path) in keys.iter().zip(&a.keys) {
        let public = wire::hex(&k.public_key());
        let is_root = roots.contains(&k.public_key());
        let staff = body.staff.iter().find(|s| s.key.eq_ignore_ascii_case(&public));
        let updater = staff.is_some_and(|s| s.roles.contains(&Role::UpdatePolicy));
        if let Some(s) = staff {
            if !s.roles.contains(&Role::UpdatePolicy) && !is_root {
                return Err(AdminError::BadArg(format!(
                    "--key {}: this is the staff key of {:?}, not the org root key; phones refuse a policy \
                     it signs (sign with the root key, e.g. keys/root.key)",
                    path.display(),
                    s.name
                )));
            }
            if !is_root {
                out.line(format!(
                    "note: signed by {:?}'s staff key (update_policy): phones accept it only as an update that \
                     keeps this exact staff list, never at enrollment",
                    s.name
                ))?;
            }
        }
        if !roots.is_empty() && !is_root && !updater {
            return Err(AdminError::BadArg(format!(
                "--key {}: key id {} is not one of the --root-pub keys; phones would refuse the policy",
                path.display(),
                wire::hex(&k.key_id())
            )));
        }
    }
    Ok(())
}

/// `policy show`.
pub(crate) fn show(a: &PolicyShowArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let text = files::read_object_as(&a.file, wire::ObjType::Policy)?;
    let sp = trust::decode_policy(&text).map_err(|e| AdminError::trust("not a signed policy", e))?;
    let json = serde_json::to_string_pretty(&sp.body)
        .map_err(|e| AdminError::BadArg(format!("cannot show the policy: {e}")))?;
    out.line(json)?;
    out.line(format!("issued {}, expires {}", rfc3339(sp.body.issued_at), rfc3339(sp.body.expires_at)))?;
    out.line(crate::rendering::softphone_summary(&sp.body.rules))?;
    out.line(format!("body sha-256 {}", sp.digest))?;
    for (kid, _) in &sp.container.signatures {
        out.line(format!("signed by key id {}", wire::hex(kid)))?;
    }
    Ok(())
}
