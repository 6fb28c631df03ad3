//! Before a command is signed: the checks the phone will make against its current policy
//! (given with `--policy`), so IT staff learn why a phone would refuse the command before
//! they send it, not from a missing receipt.

use crate::cli::CommandArgs;
use crate::files::{self, Device};
use crate::{AdminError, Out};
use quietline_core::policy::Mode;
use quietline_core::trust::{self, Role, SigningKey};
use quietline_core::wire::{self, CommandAction, ObjType};

/// The role a command's action needs, as docs/wire-format.md lists it.
pub(crate) fn role_for(action: CommandAction) -> Option<Role> {
    match action {
        CommandAction::Lock => Some(Role::Lock),
        CommandAction::WipeSelective => Some(Role::WipeSelective),
        CommandAction::WipeFull => Some(Role::WipeFull),
        CommandAction::PurgeSurvivorData => Some(Role::PurgeSurvivorData),
        CommandAction::Ping => Some(Role::Ping),
    }
}

fn refuse(reason: String) -> Result<(), AdminError> {
    Err(AdminError::Rejected(format!("not signed: the phone would refuse this command: {reason}")))
}

/// Checks a command against the device's policy, when `--policy` was given.
pub(crate) fn check(
    a: &CommandArgs,
    dev: &Device,
    key: &SigningKey,
    action: CommandAction,
    out: &mut Out<'_>,
) -> Result<(), AdminError> {
    let Some(arg) = &a.policy else { return Ok(()) };
    let text = files::read_object_as(arg, ObjType::Policy)?;
    let sp = trust::decode_policy(&text).map_err(|e| AdminError::trust(format!("{arg}: not a usable policy"), e))?;
    let b = &sp.body;
    let me = &dev.record.device_id;
    if !b.targets.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(me)) {
        return Err(AdminError::File {
            path: arg.clone(),
            reason: format!("policy v{} is not addressed to device {me}; give the policy this phone has", b.version),
        });
    }
    let public = wire::hex(&key.public_key());
    let Some(staff) = b.staff.iter().find(|s| s.key.eq_ignore_ascii_case(&public)) else {
        return refuse(format!(
            "key id {} ({}) is not a staff key of policy v{}, so the phone does not know it",
            wire::hex(&key.key_id()),
            a.key.display(),
            b.version
        ));
    };
    if let Some(role) = role_for(action) {
        if !staff.roles.contains(&role) {
            let roles: Vec<String> = staff.roles.iter().map(|r| format!("{r:?}")).collect();
            return refuse(format!(
                "{}'s key may sign {} but not {role:?} (policy v{})",
                staff.name,
                if roles.is_empty() { "nothing".into() } else { roles.join(", ") },
                b.version
            ));
        }
    }
    let rules = &b.rules;
    match action {
        CommandAction::WipeFull if rules.mode == Mode::Byod => {
            if !rules.wipe.allow_selective {
                return refuse(
                    "a personal phone is never wiped whole, and its policy disallows selective wipes".into(),
                );
            }
            out.line("note: a personal (byod) phone performs a selective wipe instead, and its receipt says so")?;
        }
        CommandAction::WipeFull if !rules.full_wipe_allowed() => {
            return refuse(format!("policy v{} does not allow full wipes (wipe.allow_full is false)", b.version));
        }
        CommandAction::WipeSelective if !rules.wipe.allow_selective => {
            return refuse(format!(
                "policy v{} does not allow selective wipes (wipe.allow_selective is false)",
                b.version
            ));
        }
        _ => {}
    }
    Ok(())
}
