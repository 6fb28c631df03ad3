//! The built `quietline-admin` binary, end to end in a temporary directory, against the real
//! agent playing the phone.

use quietline_core::trust;
use quietline_core::wire::{self, Command};
use quietline_core::{AckResult, Agent, WipeScope};
use serde_json::Value;
use std::path::{Path, PathBuf};

mod common;
use common::{accept, admin, enroll_bundle, fails, ok, p, phone_enrolls};

/// Keys, a policy and rules for `mode`, in `dir`.
struct Org {
    dir: PathBuf,
}

impl Org {
    fn new(dir: &Path, mode: &str) -> Org {
        let org = Org { dir: dir.to_path_buf() };
        ok(&["keygen", "--out", p(dir), "--name", "root"]);
        ok(&["keygen", "--out", p(dir), "--name", "staff"]);
        std::fs::write(dir.join("rules.json"), format!(r#"{{"schema":1,"mode":"{mode}"}}"#)).expect("rules");
        let staff = format!("it={}=lock,wipe_selective,wipe_full,purge_survivor_data,ping", p(&dir.join("staff.pub")));
        ok(&[
            "policy",
            "sign",
            "--rules",
            p(&org.f("rules.json")),
            "--org",
            "acme",
            "--version",
            "1",
            "--expires-in-days",
            "30",
            "--staff",
            &staff,
            "--key",
            p(&org.f("root.key")),
            "--out",
            p(&org.f("policy.ql")),
        ]);
        org
    }
    fn f(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.f(name)).expect("read").trim().to_string()
    }
    /// Enrolls a phone; returns the agent and writes device.json.
    fn enroll(&self, mode: &str, phone: &str) -> Agent {
        let out = enroll_bundle(&self.dir, mode);
        let bundle = self.read("bundle.ql");
        let body = trust::decode_bundle(&bundle).expect("bundle decodes");
        assert!(out.contains(&format!("device id: {}", body.device_id)), "{out}");
        assert!(out.contains(&format!("enrollment id: {}", body.enrollment_id)), "{out}");
        let (agent, _) = phone_enrolls(&self.dir, &self.f(phone));
        // This org keeps one current record: the previous phone's is retired first, as
        // `enroll accept` never overwrites another device's record.
        let _ = std::fs::remove_file(self.f("device.json"));
        accept(&self.dir);
        agent
    }
    /// Signs a command; returns (SMS text, JSON).
    fn command(&self, args: &[&str]) -> (String, Value) {
        let (device, key) = (self.f("device.json"), self.f("staff.key"));
        let mut all = vec!["command"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--device", p(&device), "--key", p(&key)]);
        let out = ok(&all);
        let mut lines = out.lines();
        let sms = lines.next().and_then(|l| l.strip_prefix("SMS: ")).expect("SMS line").to_string();
        let json = lines.next().and_then(|l| l.strip_prefix("JSON: ")).expect("JSON line");
        assert!(sms.len() <= 160, "{} characters", sms.len());
        (sms, serde_json::from_str(json).expect("json"))
    }
}

fn device_json(org: &Org) -> Value {
    serde_json::from_str(&org.read("device.json")).expect("device.json")
}

#[test]
fn keygen_writes_a_0600_key_and_never_prints_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let r = admin(&["keygen", "--out", p(tmp.path()), "--name", "root"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key = std::fs::read(tmp.path().join("root.key")).expect("key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.path().join("root.key")).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let signing = trust::SigningKey::from_pkcs8(&key).expect("pkcs8");
    let public = wire::hex(&signing.public_key());
    assert_eq!(std::fs::read_to_string(tmp.path().join("root.pub")).expect("pub"), format!("{public}\n"));
    assert_eq!(r.stdout, format!("root: public key {public} (key id {})\n", wire::hex(&signing.key_id())));
    let seed = &key[16..48];
    let printed = format!("{}{}", r.stdout, r.stderr);
    for secret in [&key[..], seed] {
        use base64::Engine as _;
        assert!(!printed.contains(&wire::hex(secret)));
        assert!(!printed.contains(&base64::engine::general_purpose::STANDARD.encode(secret)));
        assert!(!printed.contains(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)));
        assert!(!printed.as_bytes().windows(secret.len()).any(|w| w == secret));
    }
    let again = fails(&["keygen", "--out", p(tmp.path()), "--name", "root"]);
    assert!(again.stderr.contains("refusing to overwrite"), "{}", again.stderr);
    assert_eq!(std::fs::read(tmp.path().join("root.key")).expect("key"), key, "the key was replaced");
}

#[test]
fn policy_sign_then_show_names_body_and_signer() {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = Org::new(tmp.path(), "work");
    let show = ok(&["policy", "show", p(&org.f("policy.ql"))]);
    let root_id = ok(&["inspect", p(&org.f("policy.ql")), "--root-pub", p(&org.f("root.pub"))]);
    assert!(root_id.contains("verdict: valid"), "{root_id}");
    assert!(show.contains("\"org\": \"acme\""), "{show}");
    assert!(show.contains("\"name\": \"it\""), "{show}");
    assert!(show.contains("\"wipe_full\""), "{show}");
    let root_key = trust::parse_key(&org.read("root.pub")).expect("root");
    assert!(show.contains(&format!("signed by key id {}", wire::hex(&wire::key_id(&root_key)))), "{show}");
}

#[test]
fn a_command_signed_by_the_cli_is_applied_by_the_agent_and_its_receipt_verifies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = Org::new(tmp.path(), "work");
    let mut agent = org.enroll("work", "phone");
    let dev = device_json(&org);
    assert_eq!(dev["next_seq"], 1);
    assert_eq!(Some(dev["device_id"].as_str().expect("id").to_string()), agent.device_id());

    let (sms, json) = org.command(&["lock"]);
    assert_eq!(json["seq"], 1);
    assert_eq!(json["action"], "lock");
    assert_eq!(json["text"], sms.as_str());
    assert_eq!(json["device_id"], dev["device_id"]);
    assert_eq!(device_json(&org)["next_seq"], 2, "next_seq was not advanced");
    let cmd = Command::from_bytes(&wire::from_text(&sms).expect("text")).expect("command");
    assert_eq!(json["command_id"], wire::hex(&cmd.id()).as_str());

    let result = agent.apply_command(&sms).expect("agent accepts the lock");
    for a in &result.actions {
        agent.ack(a.id, AckResult::Done).expect("ack");
    }
    let receipt = agent.queued_receipts().last().cloned().expect("receipt after ack");
    std::fs::write(org.f("receipt.ql"), &receipt).expect("write");
    let out = ok(&["receipt", "verify", p(&org.f("receipt.ql")), "--device", p(&org.f("device.json"))]);
    let r: Value = serde_json::from_str(&out).expect("receipt json");
    assert_eq!(r["command_id"], json["command_id"]);
    assert_eq!(r["outcome"], "done");
    assert_eq!(r["requested"], "lock");
    // The text itself works too, and inspect agrees.
    ok(&["receipt", "verify", &receipt, "--device", p(&org.f("device.json"))]);
    let i = ok(&["inspect", &receipt, "--device", p(&org.f("device.json"))]);
    assert!(i.contains("verdict: valid"), "{i}");

    // Replayed: the agent answers with the original receipt; nothing new happens.
    let replay = agent.apply_command(&sms).expect("replay");
    assert_eq!(replay.status, quietline_core::CommandStatus::Replayed);
}

#[test]
fn a_full_wipe_of_a_personal_phone_comes_back_as_selective() {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = Org::new(tmp.path(), "byod");
    let mut agent = org.enroll("byod", "phone");
    let (sms, json) = org.command(&["wipe", "--scope", "full", "--expires-in-mins", "5"]);
    assert_eq!(json["action"], "wipe_full");
    assert_eq!(json["expires_at"].as_u64().expect("exp") - json["issued_at"].as_u64().expect("iss"), 300);
    let result = agent.apply_command(&sms).expect("wipe accepted");
    assert_eq!(result.wipe, Some(WipeScope::Selective));
    let receipt = result.receipt.expect("receipt");
    let out = ok(&["receipt", "verify", &receipt, "--device", p(&org.f("device.json"))]);
    let r: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(r["performed"], "selective");
    assert_eq!(r["reason"], "byod_selective_only");
}

#[test]
fn enroll_shows_a_qr_code_and_inspect_checks_the_pinned_root() {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = Org::new(tmp.path(), "work");
    let out = ok(&[
        "enroll",
        "--org",
        "acme",
        "--root-pub",
        p(&org.f("root.pub")),
        "--mode",
        "work",
        "--policy",
        p(&org.f("policy.ql")),
        "--device-id",
        "0011223344556677",
        "--relay-url",
        "https://relay.example/acme",
        "--out",
        p(&org.f("bundle.ql")),
        "--qr",
    ]);
    assert!(out.contains("device id: 0011223344556677"), "{out}");
    // A bundle's QR code is wider than 80 columns: it is written as an image, never printed wrapped.
    assert!(out.contains("more than an 80-column terminal"), "{out}");
    assert!(std::fs::read_to_string(org.f("bundle.ql.svg")).expect("QR image").contains("<svg"));
    let body = trust::decode_bundle(&org.read("bundle.ql")).expect("bundle");
    assert_eq!(body.relay_url.as_deref(), Some("https://relay.example/acme"));
    let i = ok(&["inspect", p(&org.f("bundle.ql")), "--root-pub", p(&org.f("root.pub"))]);
    assert!(i.contains("verdict: valid"), "{i}");
    // A bundle checked against another org's root is called out.
    ok(&["keygen", "--out", p(tmp.path()), "--name", "other"]);
    let r = fails(&["inspect", p(&org.f("bundle.ql")), "--root-pub", p(&org.f("other.pub"))]);
    assert!(r.stdout.contains("REJECTED"), "{}", r.stdout);
    // A policy for work phones does not enroll a personal phone.
    let r = fails(&[
        "enroll",
        "--org",
        "acme",
        "--root-pub",
        p(&org.f("root.pub")),
        "--mode",
        "byod",
        "--policy",
        p(&org.f("policy.ql")),
        "--out",
        p(&org.f("b2.ql")),
    ]);
    assert!(r.stderr.contains("mode"), "{}", r.stderr);
}

#[test]
fn inspect_reports_why_a_forged_object_is_rejected() {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = Org::new(tmp.path(), "work");
    let _agent = org.enroll("work", "phone");
    let (sms, _) = org.command(&["wipe"]);
    let policy = p(&org.f("policy.ql")).to_string();
    let device = p(&org.f("device.json")).to_string();
    let good = ok(&["inspect", &sms, "--policy", &policy, "--device", &device]);
    assert!(good.contains("verdict: valid"), "{good}");

    let mut cmd = Command::from_bytes(&wire::from_text(&sms).expect("text")).expect("cmd");
    cmd.action = wire::CommandAction::WipeFull; // escalate a selective wipe to a full one
    let forged = wire::to_text(&cmd.to_bytes());
    let r = fails(&["inspect", &forged, "--policy", &policy, "--device", &device]);
    assert!(r.stdout.contains("verdict: REJECTED") && r.stdout.contains("signature does not verify"), "{}", r.stdout);
    assert!(r.stdout.contains("action: WipeFull"), "fields are still shown:\n{}", r.stdout);

    // A policy signed by a key that is not the org root.
    ok(&["keygen", "--out", p(tmp.path()), "--name", "mallory"]);
    ok(&[
        "policy",
        "sign",
        "--rules",
        p(&org.f("rules.json")),
        "--org",
        "acme",
        "--version",
        "2",
        "--expires-in-days",
        "1",
        "--key",
        p(&org.f("mallory.key")),
        "--out",
        p(&org.f("evil.ql")),
    ]);
    let r = fails(&["inspect", p(&org.f("evil.ql")), "--root-pub", p(&org.f("root.pub"))]);
    assert!(r.stdout.contains("REJECTED") && r.stdout.contains("signature"), "{}", r.stdout);

    // Garbage is rejected with a reason, not a panic.
    let r = fails(&["inspect", "QL:AAAA"]);
    assert!(r.stdout.contains("REJECTED"), "{}", r.stdout);
    // A receipt checked against another device's record.
    let mut other = device_json(&org);
    other["device_key"] = Value::String(org.read("staff.pub"));
    std::fs::write(org.f("other.json"), other.to_string()).expect("write");
    let mut agent2 = org.enroll("work", "phone2");
    let (ping, _) = org.command(&["ping"]);
    let rc = agent2.apply_command(&ping).expect("ping").receipt.expect("receipt");
    let r = fails(&["receipt", "verify", &rc, "--device", p(&org.f("other.json"))]);
    assert!(r.stderr.contains("signature does not verify"), "{}", r.stderr);
}

#[test]
fn bad_input_fails_with_a_readable_message() {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = Org::new(tmp.path(), "work");
    let sign = |rules: &Path, staff: &str| {
        fails(&[
            "policy",
            "sign",
            "--rules",
            p(rules),
            "--org",
            "acme",
            "--version",
            "1",
            "--expires-in-days",
            "30",
            "--staff",
            staff,
            "--key",
            p(&org.f("root.key")),
            "--out",
            p(&org.f("x.ql")),
        ])
    };
    let staff_ok = format!("it={}=lock", p(&org.f("staff.pub")));
    let r = sign(&org.f("missing.json"), &staff_ok);
    assert!(r.stderr.contains("missing.json") && r.stderr.contains("No such file"), "{}", r.stderr);

    let r = sign(&org.f("rules.json"), &format!("it={}=lock,format_disk", p(&org.f("staff.pub"))));
    assert!(r.stderr.contains("unknown role \"format_disk\""), "{}", r.stderr);

    std::fs::write(org.f("bad.json"), r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":99999}}"#)
        .expect("write");
    let r = sign(&org.f("bad.json"), &staff_ok);
    assert!(r.stderr.contains("auto_lock.max_timeout_secs"), "{}", r.stderr);

    let r = fails(&["command", "lock", "--device", p(&org.f("nope.json")), "--key", p(&org.f("staff.key"))]);
    assert!(r.stderr.contains("nope.json"), "{}", r.stderr);
    let r = fails(&["policy", "show", p(&org.f("staff.pub"))]);
    assert!(r.stderr.contains("not a signed policy"), "{}", r.stderr);
    let r = fails(&["frobnicate"]);
    assert_eq!(r.code, 2);
    let r = fails(&["enroll", "--org", "acme"]);
    assert!(r.stderr.contains("--root-pub"), "{}", r.stderr);
}

#[test]
fn cli_refuses_an_absurd_seq_and_a_staff_key_as_root() {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = Org::new(tmp.path(), "work");
    let r = fails(&[
        "enroll",
        "--org",
        "acme",
        "--root-pub",
        p(&org.f("staff.pub")),
        "--mode",
        "work",
        "--policy",
        p(&org.f("policy.ql")),
        "--out",
        p(&org.f("bundle.ql")),
    ]);
    assert!(r.stderr.contains("staff key \"it\"") && r.stderr.contains("not a root key"), "{}", r.stderr);
    assert!(!org.f("bundle.ql").exists(), "no bundle written");
    let _agent = org.enroll("work", "phone");
    let (device, key) = (org.f("device.json"), org.f("staff.key"));
    let r = fails(&["command", "ping", "--seq", "4294967295", "--device", p(&device), "--key", p(&key)]);
    assert!(r.stderr.contains("use up this key's sequence numbers"), "{}", r.stderr);
    assert_eq!(device_json(&org)["next_seq"], 1, "nothing stored");
    let r = fails(&["command", "ping", "--seq", "0", "--device", p(&device), "--key", p(&key)]);
    assert!(r.stderr.contains("at least 1"), "{}", r.stderr);
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["keygen", "--help"],
        vec!["policy", "sign", "--help"],
        vec!["policy", "show", "--help"],
        vec!["enroll", "--help"],
        vec!["enroll", "accept", "--help"],
        vec!["command", "wipe", "--help"],
        vec!["command", "lock", "--help"],
        vec!["receipt", "verify", "--help"],
        vec!["inspect", "--help"],
    ] {
        let out = ok(&args);
        assert!(out.contains("Usage:"), "{args:?}: {out}");
    }
    assert!(ok(&["policy", "sign", "--help"]).contains("update_policy"));
}
