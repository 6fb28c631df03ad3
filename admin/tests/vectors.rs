//! The test vectors in tests/vectors/ decode, verify, re-encode to the same bytes, match what
//! the fixed seeds produce, and are accepted by the real agent.

use quietline_admin::vectors;
use quietline_core::device::{verify_enroll_response, verify_receipt};
use quietline_core::trust::{self, BundleBody, RootSet};
use quietline_core::wire::{self, Command, Container, EnrollResponse, ObjType, PerformedScope, Receipt, ReceiptReason};
use quietline_core::{Agent, AgentConfig, CommandStatus, FileKeyProtector, FixedClock, WipeScope};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn load(name: &str) -> Value {
    let p = dir().join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("field {k} missing"))
}

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex")).collect()
}

fn public(name: &str) -> [u8; 32] {
    trust::parse_key(s(&load("keys.json")["keys"][name], "public_key")).expect("public key")
}

/// Bytes from hex and from text agree, and the signed part plus the signature is the whole.
fn bytes_of(v: &Value) -> Vec<u8> {
    let bytes = unhex(s(v, "hex"));
    assert_eq!(wire::from_text(s(v, "text")).expect("text"), bytes, "text and hex differ");
    assert_eq!(wire::to_text(&bytes), s(v, "text"));
    assert_eq!(bytes.len() as u64, v["length"].as_u64().expect("length"));
    assert_eq!(u64::from(bytes[3]), v["type"].as_u64().expect("type"));
    bytes
}

#[test]
fn vector_keys_come_from_their_seeds() {
    let keys = load("keys.json");
    for name in vectors::KEY_NAMES {
        let k = &keys["keys"][name];
        let key = vectors::key(name).expect("key");
        assert_eq!(s(k, "seed"), wire::hex(&vectors::seed(name).expect("seed")));
        assert_eq!(s(k, "public_key"), wire::hex(&key.public_key()));
        assert_eq!(s(k, "key_id"), wire::hex(&wire::key_id(&key.public_key())));
        assert_eq!(unhex(s(k, "pkcs8_hex")), key.pkcs8());
    }
}

#[test]
fn vectors_are_what_the_seeds_produce() {
    for (name, v) in vectors::generate().expect("generate") {
        assert_eq!(load(&name), v, "{name} differs: rerun `cargo run -p quietline-admin --example gen_vectors`");
    }
}

#[test]
fn command_vectors_decode_verify_and_reencode() {
    for name in ["command-wipe-full.json", "command-lock.json"] {
        let v = load(name);
        let bytes = bytes_of(&v);
        let c = Command::from_bytes(&bytes).expect("decode");
        assert_eq!(c.to_bytes(), bytes);
        assert_eq!(c.signed_bytes(), unhex(s(&v, "signed_hex")));
        assert_eq!(c.signature.to_vec(), unhex(s(&v, "signature_hex")));
        let f = &v["fields"];
        assert_eq!(wire::hex(&c.device_id), s(f, "device_id"));
        assert_eq!(wire::hex(&c.enrollment_id), s(f, "enrollment_id"));
        assert_eq!(u64::from(c.seq), f["seq"].as_u64().expect("seq"));
        assert_eq!(u64::from(c.issued_at), f["issued_at"].as_u64().expect("issued"));
        assert_eq!(u64::from(c.expires_at), f["expires_at"].as_u64().expect("expires"));
        assert_eq!(u64::from(c.action as u8), f["action_byte"].as_u64().expect("action"));
        assert_eq!(serde_json::to_value(c.action).expect("action"), f["action"]);
        assert_eq!(wire::hex(&c.key_id), s(f, "key_id"));
        assert_eq!(wire::hex(&c.id()), s(&v, "command_id"));
        let staff = public("staff");
        assert!(trust::verify(&staff, &c.signed_bytes(), &c.signature));
        assert!(s(&v, "text").len() <= 160);
        let mut forged = c.clone();
        forged.seq += 1;
        assert!(!trust::verify(&staff, &forged.signed_bytes(), &forged.signature), "{name}: a changed field verifies");
    }
}

#[test]
fn receipt_vector_decodes_verifies_and_answers_the_wipe_vector() {
    let v = load("receipt.json");
    let bytes = bytes_of(&v);
    let r: Receipt = verify_receipt(s(&v, "text"), &public("device")).expect("verifies");
    assert_eq!(r.to_bytes(), bytes);
    assert_eq!(r.signed_bytes(), unhex(s(&v, "signed_hex")));
    let f = &v["fields"];
    assert_eq!(wire::hex(&r.command_id), s(f, "command_id"));
    assert_eq!(s(f, "command_id"), s(&load("command-wipe-full.json"), "command_id"));
    assert_eq!(u64::from(r.seq), f["seq"].as_u64().expect("seq"));
    assert_eq!(r.performed, PerformedScope::Selective);
    assert_eq!(r.reason, ReceiptReason::ByodSelectiveOnly);
    assert_eq!(u64::from(r.outcome as u8), f["outcome_byte"].as_u64().expect("outcome"));
    assert_eq!(u64::from(r.at), f["at"].as_u64().expect("at"));
    assert!(verify_receipt(s(&v, "text"), &public("staff")).is_err(), "verifies with the wrong key");
}

#[test]
fn enroll_response_vector_decodes_and_proves_possession() {
    let v = load("enroll-response.json");
    let bytes = bytes_of(&v);
    let e: EnrollResponse = verify_enroll_response(s(&v, "text")).expect("verifies");
    assert_eq!(e.to_bytes(), bytes);
    assert_eq!(s(&v, "enroll_secret"), wire::hex(&vectors::ENROLL_SECRET));
    assert_eq!(e.binding, trust::enroll_binding(&vectors::ENROLL_SECRET, &e.bound_bytes()), "bound to the bundle");
    assert_ne!(e.binding, trust::enroll_binding(&[0; 32], &e.bound_bytes()));
    assert_eq!(wire::hex(&e.device_key), s(&v["fields"], "device_key"));
    assert_eq!(e.device_key, public("device"));
}

#[test]
fn policy_vector_decodes_verifies_and_reencodes() {
    let v = load("policy.json");
    let bytes = bytes_of(&v);
    let c = Container::from_bytes(&bytes, ObjType::Policy).expect("container");
    assert_eq!(c.to_bytes(), Ok(bytes));
    assert_eq!(c.signed_bytes(), unhex(s(&v, "signed_hex")));
    assert_eq!(c.body, s(&v, "body_json").as_bytes());
    assert_eq!(wire::hex(&c.signatures[0].0), s(&v["signatures"][0], "key_id"));
    let sp = trust::decode_policy(s(&v, "text")).expect("policy");
    assert_eq!(sp.body.version, 3);
    let root = RootSet { version: 1, keys: vec![public("root")], threshold: 1 };
    trust::check_root_signed(&sp.container, &root).expect("signed by root");
    let other = RootSet { version: 1, keys: vec![public("root2")], threshold: 1 };
    assert!(trust::check_root_signed(&sp.container, &other).is_err());
}

#[test]
fn root_rotation_vector_is_accepted_from_version_1() {
    let v = load("root-rotation.json");
    let bytes = bytes_of(&v);
    let (c, body) = trust::decode_root(s(&v, "text")).expect("root");
    assert_eq!(c.to_bytes(), Ok(bytes));
    let current = RootSet { version: 1, keys: vec![public("root")], threshold: 1 };
    let new = trust::verify_rotation(&c, &body, &current, vectors::ORG).expect("rotation");
    assert_eq!(new.version, 2);
    assert_eq!(new.keys, vec![public("root2")]);
    let at_v2 = RootSet { version: 2, keys: vec![public("root2")], threshold: 1 };
    assert!(trust::verify_rotation(&c, &body, &at_v2, vectors::ORG).is_err(), "replayed rotation accepted");
}

/// An agent enrolled with the vector policy at the vectors' time, as the vector device.
/// A vector command re-addressed to the enrollment id the agent chose (every enrollment has a
/// fresh one), signed with the vector staff key: the vector's own text names the vectors'
/// enrollment, which a new enrollment refuses.
fn readdressed(agent: &Agent, name: &str) -> String {
    let mut c = Command::from_bytes(&wire::from_text(s(&load(name), "text")).expect("text")).expect("command");
    let response = verify_enroll_response(&agent.enrollment_response().expect("response")).expect("response");
    c.enrollment_id = response.enrollment_id;
    let seed = unhex(s(&load("keys.json")["keys"]["staff"], "seed"));
    let seed: [u8; 32] = seed.as_slice().try_into().expect("32 bytes");
    let staff = quietline_admin::files::signing_key_from_seed(&seed).expect("staff key");
    c.signature = staff.sign(&c.signed_bytes());
    wire::to_text(&c.to_bytes())
}

fn vector_agent(dir: &std::path::Path) -> Agent {
    let keys = load("keys.json");
    let bundle = BundleBody {
        org: vectors::ORG.into(),
        root_key: s(&keys["keys"]["root"], "public_key").into(),
        device_id: s(&keys, "device_id").into(),
        enrollment_id: s(&keys, "enrollment_id").into(),
        mode: quietline_core::policy::Mode::Byod,
        policy: s(&load("policy.json"), "text").into(),
        relay_url: None,
        enroll_secret: "5e".repeat(32),
    };
    let bundle = trust::encode_bundle(&bundle).expect("bundle");
    let clock = Arc::new(FixedClock::at("2027-01-15T08:02:00Z", 0).expect("clock"));
    let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let mut agent =
        Agent::enroll(AgentConfig::new(dir.join("state"), "US"), protector, clock, &bundle).expect("enroll").0;
    // The app declares its platform's capabilities before any command is accepted.
    agent.set_platform_caps(quietline_core::PlatformCaps { full_wipe: true, prefix_dialing: true }).expect("caps");
    agent
}

#[test]
fn the_agent_accepts_the_vector_policy_and_commands() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut agent = vector_agent(&tmp.path().join("a"));
    let vector = s(&load("command-lock.json"), "text").to_string();
    assert!(agent.apply_command(&vector).is_err(), "a new enrollment refuses what names another");
    let lock = agent.apply_command(&readdressed(&agent, "command-lock.json")).expect("lock accepted");
    assert_eq!(lock.status, CommandStatus::Applied);

    let mut agent = vector_agent(&tmp.path().join("b"));
    let wipe = agent.apply_command(&readdressed(&agent, "command-wipe-full.json")).expect("wipe accepted");
    assert_eq!(wipe.wipe, Some(WipeScope::Selective), "a byod phone performs only the selective wipe");
    let receipt = Receipt::from_bytes(&wire::from_text(&wipe.receipt.expect("receipt")).expect("text")).expect("rc");
    let expected = load("receipt.json");
    assert_eq!(receipt.requested, quietline_core::wire::CommandAction::WipeFull);
    assert_eq!(wire::hex(&receipt.device_id), s(&expected["fields"], "device_id"));
    assert_eq!(receipt.reason, ReceiptReason::ByodSelectiveOnly);
}
