//! `command lock|wipe|purge|ping` and `receipt verify`.

use crate::cli::{CommandArgs, CommandCmd, ReceiptVerifyArgs, ScopeArg};
use crate::files::{self, rfc3339, Device};
use crate::{AdminError, Out};
use quietline_core::device;
use quietline_core::trust::{SigningKey, MAX_COMMAND_LIFETIME_SECS, MAX_SEQ_STEP};
use quietline_core::wire::{self, Command, CommandAction, Receipt};
use serde::Serialize;

/// The longest SMS a command may take: one GSM-7 message.
pub const MAX_SMS_CHARS: usize = 160;

/// Builds and signs a command.
pub fn sign_command(
    device_id: [u8; 8],
    enrollment_id: [u8; 4],
    seq: u32,
    issued_at: u32,
    expires_at: u32,
    action: CommandAction,
    key: &SigningKey,
) -> Command {
    let mut c = Command {
        device_id,
        enrollment_id,
        seq,
        issued_at,
        expires_at,
        action,
        key_id: key.key_id(),
        signature: [0; 64],
    };
    c.signature = key.sign(&c.signed_bytes());
    c
}

/// The JSON form of a command, for a relay or push payload.
#[derive(Debug, Serialize)]
pub struct CommandJson {
    /// Hex.
    pub device_id: String,
    /// Hex.
    pub enrollment_id: String,
    /// Sequence number.
    pub seq: u32,
    /// Unix seconds.
    pub issued_at: u32,
    /// Unix seconds.
    pub expires_at: u32,
    /// snake_case action.
    pub action: CommandAction,
    /// Signing key id, hex.
    pub key_id: String,
    /// The command id receipts will name, hex.
    pub command_id: String,
    /// The `QL:` text: the only part the phone needs.
    pub text: String,
}

/// `command ...`.
pub(crate) fn command(c: &CommandCmd, out: &mut Out<'_>) -> Result<(), AdminError> {
    let (args, action) = match c {
        CommandCmd::Lock(a) => (a, CommandAction::Lock),
        CommandCmd::Purge(a) => (a, CommandAction::PurgeSurvivorData),
        CommandCmd::Ping(a) => (a, CommandAction::Ping),
        CommandCmd::Wipe(w) => (
            &w.common,
            match w.scope {
                ScopeArg::Selective => CommandAction::WipeSelective,
                ScopeArg::Full => CommandAction::WipeFull,
            },
        ),
    };
    issue(args, action, out)
}

fn issue(a: &CommandArgs, action: CommandAction, out: &mut Out<'_>) -> Result<(), AdminError> {
    let dev = files::read_device(&a.device)?;
    let key = files::read_private_key(&a.key)?;
    crate::precheck::check(a, &dev, &key, action, out)?;
    let lifetime = a.expires_in_mins.checked_mul(60).filter(|s| *s > 0 && *s <= MAX_COMMAND_LIFETIME_SECS);
    let Some(lifetime) = lifetime else {
        return Err(AdminError::BadArg(format!(
            "--expires-in-mins {}: must be 1..={} (phones refuse longer-lived commands)",
            a.expires_in_mins,
            MAX_COMMAND_LIFETIME_SECS / 60
        )));
    };
    let relay = a.relay.as_deref().map(crate::relay::RelayUrl::parse).transpose()?;
    let seq = match (a.seq, &relay) {
        (Some(s), _) => s,
        (None, Some(r)) => crate::relay::next_seq(r, &key, &dev.record.device_id, dev.record.next_seq)?,
        (None, None) => dev.record.next_seq,
    };
    check_seq(seq, dev.record.next_seq)?;
    let issued_at = files::now_secs()?;
    let expires_at = issued_at
        .checked_add(lifetime)
        .ok_or_else(|| AdminError::BadArg("the expiry is outside the wire format's range".into()))?;
    let cmd = sign_command(dev.device_id, dev.enrollment_id, seq, issued_at, expires_at, action, &key);
    let text = wire::to_text(&cmd.to_bytes());
    assert!(text.len() <= MAX_SMS_CHARS, "a command must fit one SMS");
    let mut record = dev.record.clone();
    record.next_seq = record.next_seq.max(seq.saturating_add(1));
    files::write_device(&a.device, &record)?;
    let json = CommandJson {
        device_id: dev.record.device_id.clone(),
        enrollment_id: dev.record.enrollment_id.clone(),
        seq,
        issued_at,
        expires_at,
        action,
        key_id: wire::hex(&cmd.key_id),
        command_id: wire::hex(&cmd.id()),
        text: text.clone(),
    };
    let json = serde_json::to_string(&json).map_err(|e| AdminError::BadArg(format!("cannot encode JSON: {e}")))?;
    out.line(format!("SMS: {text}"))?;
    out.line(format!("JSON: {json}"))?;
    crate::relay::after_command(relay.as_ref(), a.sms_qr.as_deref(), &key, &text, out)
}

/// Refuses a sequence number the phone would refuse, or one that would use up the signing
/// key's sequence numbers so that its later, honestly numbered commands are refused.
pub fn check_seq(seq: u32, next_seq: u32) -> Result<(), AdminError> {
    if seq == 0 {
        return Err(AdminError::BadArg("--seq must be at least 1".into()));
    }
    let limit = next_seq.max(1).saturating_add(MAX_SEQ_STEP);
    if seq > limit {
        return Err(AdminError::BadArg(format!(
            "--seq {seq}: more than {MAX_SEQ_STEP} above the device record's next_seq {next_seq}; phones refuse \
             such a jump, and it would use up this key's sequence numbers so that its later commands are \
             refused (use at most {limit})"
        )));
    }
    Ok(())
}

/// A receipt as JSON.
#[derive(Debug, Serialize)]
pub struct ReceiptJson {
    /// Hex.
    pub device_id: String,
    /// Hex.
    pub enrollment_id: String,
    /// The command it answers, hex.
    pub command_id: String,
    /// The command's sequence number.
    pub seq: u32,
    /// What was asked.
    pub requested: quietline_core::wire::CommandAction,
    /// What happened.
    pub outcome: quietline_core::wire::ReceiptOutcome,
    /// Which wipe was performed.
    pub performed: quietline_core::wire::PerformedScope,
    /// Why.
    pub reason: quietline_core::wire::ReceiptReason,
    /// Unix seconds.
    pub at: u32,
    /// The same, RFC 3339.
    pub at_utc: String,
}

impl From<&Receipt> for ReceiptJson {
    fn from(r: &Receipt) -> Self {
        ReceiptJson {
            device_id: wire::hex(&r.device_id),
            enrollment_id: wire::hex(&r.enrollment_id),
            command_id: wire::hex(&r.command_id),
            seq: r.seq,
            requested: r.requested,
            outcome: r.outcome,
            performed: r.performed,
            reason: r.reason,
            at: r.at,
            at_utc: rfc3339(i64::from(r.at)),
        }
    }
}

/// Verifies a receipt against a device record, including that it names that device.
pub(crate) fn check_receipt(text: &str, dev: &Device) -> Result<Receipt, AdminError> {
    let r = device::verify_receipt(text, &dev.device_key)
        .map_err(|e| AdminError::Rejected(format!("receipt: {e} (with the key of device {})", dev.record.device_id)))?;
    if r.device_id != dev.device_id {
        return Err(AdminError::Rejected(format!(
            "receipt names device {}, not {}",
            wire::hex(&r.device_id),
            dev.record.device_id
        )));
    }
    if r.enrollment_id != dev.enrollment_id {
        return Err(AdminError::Rejected(format!(
            "receipt names enrollment {}, not {}",
            wire::hex(&r.enrollment_id),
            dev.record.enrollment_id
        )));
    }
    Ok(r)
}

/// `receipt verify`.
pub(crate) fn verify_receipt(a: &ReceiptVerifyArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let dev = files::read_device(&a.device)?;
    let text = files::read_object_as(&a.receipt, wire::ObjType::Receipt)?;
    let r = check_receipt(&text, &dev)?;
    let json = serde_json::to_string_pretty(&ReceiptJson::from(&r))
        .map_err(|e| AdminError::BadArg(format!("cannot encode JSON: {e}")))?;
    out.line(json)
}
