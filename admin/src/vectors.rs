//! Deterministic test vectors for docs/wire-format.md: fixed Ed25519 seeds, one object of each
//! signed kind, their bytes, their `QL:` text and their decoded fields. Ed25519 signatures are
//! deterministic, so the same seeds always give the same bytes. `tests/vectors/` holds the
//! output of [`generate`]; `cargo run -p quietline-admin --example gen_vectors` rewrites it.

use crate::command::sign_command;
use crate::files::signing_key_from_seed;
use crate::AdminError;
use quietline_core::trust::{self, RootBody, SigningKey};
use quietline_core::wire::{
    self, CommandAction, Container, EnrollResponse, ObjType, PerformedScope, Receipt, ReceiptOutcome, ReceiptReason,
};
use serde_json::{json, Value};
use std::path::Path;

/// The base time of the vectors: 2027-01-15T08:00:00Z.
pub const T0: u32 = 1_800_000_000;
/// The device id of the vectors.
pub const DEVICE_ID: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
/// The enrollment id of the vectors.
pub const ENROLLMENT_ID: [u8; 4] = [0xa1, 0xb2, 0xc3, 0xd4];
/// The organisation of the vectors.
pub const ORG: &str = "example-org";
/// The vector bundle's enrollment secret (the response's binding is keyed by it).
pub const ENROLL_SECRET: [u8; 32] = [0x5e; 32];

/// The named keys: seed byte `i` of key `k` is `k * 32 + i`.
pub const KEY_NAMES: [&str; 4] = ["root", "staff", "device", "root2"];

/// The seed of a named key.
pub fn seed(name: &str) -> Option<[u8; 32]> {
    let k = KEY_NAMES.iter().position(|n| *n == name)? as u8;
    let mut s = [0u8; 32];
    for (i, b) in s.iter_mut().enumerate() {
        *b = k * 32 + i as u8;
    }
    Some(s)
}

/// The signing key of a named key.
pub fn key(name: &str) -> Result<SigningKey, AdminError> {
    let s = seed(name).ok_or_else(|| AdminError::BadArg(format!("no vector key named {name}")))?;
    signing_key_from_seed(&s)
}

fn hex(b: &[u8]) -> String {
    wire::hex(b)
}

fn fixed(name: &str, description: &str, signer: &str, bytes: &[u8], fields: Value, extra: Value) -> Value {
    let split = bytes.len() - wire::SIG_LEN;
    let mut v = json!({
        "name": name,
        "description": description,
        "type": bytes[3],
        "length": bytes.len(),
        "signer": signer,
        "fields": fields,
        "signed_hex": hex(&bytes[..split]),
        "signature_hex": hex(&bytes[split..]),
        "hex": hex(bytes),
        "text": wire::to_text(bytes),
    });
    if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
        m.extend(e);
    }
    v
}

fn container(name: &str, description: &str, text: &str, signers: &[&str], kind: ObjType) -> Result<Value, AdminError> {
    let bytes = wire::from_text(text)?;
    let c = Container::from_bytes(&bytes, kind)?;
    let body = String::from_utf8(c.body.clone()).map_err(|_| AdminError::BadArg("body is not UTF-8".into()))?;
    let sigs: Vec<Value> = c
        .signatures
        .iter()
        .zip(signers)
        .map(|((kid, sig), who)| json!({"signer": who, "key_id": hex(kid), "signature_hex": hex(sig)}))
        .collect();
    Ok(json!({
        "name": name,
        "description": description,
        "type": kind as u8,
        "length": bytes.len(),
        "body_json": body,
        "body": serde_json::from_str::<Value>(&body).map_err(|e| AdminError::BadArg(e.to_string()))?,
        "signatures": sigs,
        "signed_hex": hex(&c.signed_bytes()),
        "hex": hex(&bytes),
        "text": text,
    }))
}

/// Every vector, as (file name, JSON).
pub fn generate() -> Result<Vec<(String, Value)>, AdminError> {
    let root = key("root")?;
    let staff = key("staff")?;
    let device = key("device")?;
    let root2 = key("root2")?;
    let mut out = Vec::new();

    let keys: serde_json::Map<String, Value> = KEY_NAMES
        .iter()
        .map(|n| {
            let k = key(n)?;
            let s = seed(n).unwrap_or_default();
            Ok(((*n).to_string(), json!({"seed": hex(&s), "public_key": hex(&k.public_key()), "key_id": hex(&k.key_id()), "pkcs8_hex": hex(k.pkcs8())})))
        })
        .collect::<Result<_, AdminError>>()?;
    out.push(("keys.json".to_string(), json!({
        "description": "Ed25519 keys of the vectors: seed byte i of the k-th key is k*32+i. key_id = SHA-256(public_key)[0..8]. pkcs8_hex is the private key file keygen writes.",
        "keys": keys,
        "device_id": hex(&DEVICE_ID),
        "enrollment_id": hex(&ENROLLMENT_ID),
        "org": ORG,
    })));

    let cmd_fields = |c: &wire::Command| {
        json!({
            "device_id": hex(&c.device_id), "enrollment_id": hex(&c.enrollment_id), "seq": c.seq,
            "issued_at": c.issued_at, "expires_at": c.expires_at, "action": c.action, "action_byte": c.action as u8,
            "key_id": hex(&c.key_id),
        })
    };
    let wipe = sign_command(DEVICE_ID, ENROLLMENT_ID, 7, T0, T0 + 3600, CommandAction::WipeFull, &staff);
    out.push((
        "command-wipe-full.json".into(),
        fixed(
            "command-wipe-full",
            "A full-wipe command, seq 7, valid for one hour, signed by the staff key.",
            "staff",
            &wipe.to_bytes(),
            cmd_fields(&wipe),
            json!({"command_id": hex(&wipe.id())}),
        ),
    ));
    let lock = sign_command(DEVICE_ID, ENROLLMENT_ID, 8, T0 + 60, T0 + 60 + 600, CommandAction::Lock, &staff);
    out.push((
        "command-lock.json".into(),
        fixed(
            "command-lock",
            "A lock command, seq 8, valid for ten minutes, signed by the staff key.",
            "staff",
            &lock.to_bytes(),
            cmd_fields(&lock),
            json!({"command_id": hex(&lock.id())}),
        ),
    ));

    let mut r = Receipt {
        device_id: DEVICE_ID,
        enrollment_id: ENROLLMENT_ID,
        command_id: wipe.id(),
        seq: wipe.seq,
        requested: CommandAction::WipeFull,
        outcome: ReceiptOutcome::Done,
        performed: PerformedScope::Selective,
        reason: ReceiptReason::ByodSelectiveOnly,
        at: T0 + 5,
        signature: [0; 64],
    };
    r.signature = device.sign(&r.signed_bytes());
    out.push((
        "receipt.json".into(),
        fixed(
            "receipt",
            "A personal (byod) phone's receipt for command-wipe-full: done, but only the selective wipe.",
            "device",
            &r.to_bytes(),
            json!({
                "device_id": hex(&r.device_id), "enrollment_id": hex(&r.enrollment_id),
                "command_id": hex(&r.command_id), "seq": r.seq,
                "requested": r.requested, "requested_byte": r.requested as u8,
                "outcome": r.outcome, "outcome_byte": r.outcome as u8,
                "performed": r.performed, "performed_byte": r.performed as u8,
                "reason": r.reason, "reason_byte": r.reason as u8, "at": r.at,
            }),
            json!({}),
        ),
    ));

    let nonce = [0x6e; 16];
    let ack = quietline_core::checkin::sign_ack(&staff, DEVICE_ID, ENROLLMENT_ID, nonce, T0 + 120, T0 + 120 + 3600);
    let a = wire::CheckinAck::from_bytes(&wire::from_text(&ack)?)?;
    out.push((
        "checkin-ack.json".into(),
        fixed(
            "checkin-ack",
            "The organisation's acknowledgement of the check-in whose status report carried this nonce, valid for \
             one hour, signed by the staff key (in use: a key whose only role is checkin, held by the relay).",
            "staff",
            &a.to_bytes(),
            json!({
                "device_id": hex(&a.device_id), "enrollment_id": hex(&a.enrollment_id), "nonce": hex(&a.nonce),
                "issued_at": a.issued_at, "expires_at": a.expires_at, "key_id": hex(&a.key_id),
            }),
            json!({}),
        ),
    ));

    let mut e = EnrollResponse {
        device_id: DEVICE_ID,
        enrollment_id: ENROLLMENT_ID,
        device_key: device.public_key(),
        at: T0 - 100,
        binding: [0; 32],
        signature: [0; 64],
    };
    e.binding = trust::enroll_binding(&ENROLL_SECRET, &e.bound_bytes());
    e.signature = device.sign(&e.signed_bytes());
    out.push((
        "enroll-response.json".into(),
        fixed(
            "enroll-response",
            "The device's enrollment response: its public key, bound to the bundle's enroll_secret and signed by itself.",
            "device",
            &e.to_bytes(),
            json!({
                "device_id": hex(&e.device_id), "enrollment_id": hex(&e.enrollment_id),
                "device_key": hex(&e.device_key), "at": e.at, "binding": hex(&e.binding),
            }),
            json!({"enroll_secret": hex(&ENROLL_SECRET)}),
        ),
    ));

    // The body is written by hand, with the rules reduced to what differs from the defaults:
    // the signature covers the body as sent, and phones fill in every default, so the vector
    // stays valid as the policy schema grows new sections.
    let body = json!({
        "org": ORG,
        "version": 3,
        "issued_at": T0,
        "expires_at": T0 + 30 * 86_400,
        "targets": [hex(&DEVICE_ID)],
        "grace_hours": 72,
        "staff": [{
            "name": "it-staff",
            "key": hex(&staff.public_key()),
            "roles": ["lock", "wipe_selective", "wipe_full"],
        }],
        "rules": {"schema": 1, "mode": "byod"},
    });
    let body = serde_json::to_vec(&body).map_err(|e| AdminError::BadArg(e.to_string()))?;
    let signed = trust::sign_container(ObjType::Policy, body, &[&root]).map_err(|e| AdminError::trust("sign", e))?;
    let text = wire::to_text(&signed.to_bytes().map_err(|e| AdminError::trust("encode", e))?);
    out.push((
        "policy.json".into(),
        container(
            "policy",
            "A signed policy, version 3, for one byod device, signed by the root key.",
            &text,
            &["root"],
            ObjType::Policy,
        )?,
    ));

    let rb = RootBody { org: ORG.into(), version: 2, keys: vec![hex(&root2.public_key())], threshold: 1 };
    let text = trust::sign_root(&rb, &[&root, &root2]).map_err(|e| AdminError::trust("root", e))?;
    out.push((
        "root-rotation.json".into(),
        container(
            "root-rotation",
            "Root rotation 1 -> 2: the new root set is {root2}, threshold 1; signed by the old root and the new.",
            &text,
            &["root", "root2"],
            ObjType::Root,
        )?,
    ));
    Ok(out)
}

/// The text of a vector file: pretty JSON and a newline.
pub fn file_text(v: &Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default())
}

/// Writes every vector into `dir`.
pub fn write_all(dir: &Path) -> Result<(), AdminError> {
    std::fs::create_dir_all(dir).map_err(|e| AdminError::io(dir, e))?;
    for (name, v) in generate()? {
        crate::files::write_text(&dir.join(name), &file_text(&v))?;
    }
    Ok(())
}
