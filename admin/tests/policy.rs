//! Policies that follow the guidance, and the CLI's refusals as IT staff meet them: one test per
//! refusal and per warning, named for it, through the built binary.

use quietline_core::{trust, Policy};
use std::path::PathBuf;

mod common;
use common::{accept, admin, enroll_bundle, fails, ok, p, phone_enrolls, Run};

/// A directory with a root key, a staff key and helpers to sign.
struct Org {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Org {
    fn new() -> Org {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().to_path_buf();
        ok(&["keygen", "--out", p(&dir), "--name", "root"]);
        ok(&["keygen", "--out", p(&dir), "--name", "staff"]);
        Org { _tmp: tmp, dir }
    }
    fn f(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        std::fs::write(self.f(name), text).expect("write");
        self.f(name)
    }
    fn staff(&self, roles: &str) -> String {
        format!("it={}={roles}", p(&self.f("staff.pub")))
    }
    /// `policy sign` of `rules` with extra arguments; returns the run.
    fn sign(&self, rules: &str, extra: &[&str]) -> Run {
        let rules = self.write("rules.json", rules);
        let out = self.f("policy.ql");
        let _ = std::fs::remove_file(&out);
        let mut args = vec!["policy", "sign", "--rules", p(&rules), "--org", "acme", "--out", p(&out)]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        for (flag, default) in [("--version", "1"), ("--expires-in-days", "30"), ("--key", p(&self.f("root.key")))] {
            if !extra.contains(&flag) {
                args.extend([flag.to_string(), default.to_string()]);
            }
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        admin(&refs)
    }
    fn signed(&self, rules: &str, extra: &[&str]) -> String {
        let r = self.sign(rules, extra);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        r.stdout
    }
    fn refused(&self, rules: &str, extra: &[&str]) -> String {
        let r = self.sign(rules, extra);
        assert_ne!(r.code, 0, "should be refused:\n{}", r.stdout);
        assert!(!self.f("policy.ql").exists(), "nothing is signed");
        r.stderr
    }
    /// Signs a work policy with a full staff key, enrolls a phone, accepts its response into
    /// `device.json`; returns the enrollment response text.
    fn enrolled(&self) -> String {
        let staff = self.staff("lock,wipe_selective,wipe_full,purge_survivor_data");
        self.signed(r#"{"schema":1,"mode":"work","off_duty":{"enabled":true}}"#, &["--staff", &staff]);
        enroll_bundle(&self.dir, "work");
        let (_agent, response) = phone_enrolls(&self.dir, &self.f("phone"));
        accept(&self.dir);
        response
    }
}

const BYOD: &str = r#"{"schema":1,"mode":"byod"}"#;

// ---- Errors: signed by nobody, refused by the phone ----

#[test]
fn sign_refuses_a_prefix_that_shows_the_number() {
    let org = Org::new();
    let e = org.refused(r#"{"schema":1,"mode":"work","caller_id":{"prefix":"*82"}}"#, &[]);
    assert!(e.contains("caller-id-prefix-shows") && e.contains("caller_id.prefix"), "{e}");
    let e = org.refused(r##"{"schema":1,"mode":"work","caller_id":{"prefix":"#30#"}}"##, &[]);
    assert!(e.contains("caller-id-prefix-shows"), "{e}");
}

#[test]
fn sign_refuses_byod_without_secure_lock() {
    let e = Org::new().refused(r#"{"schema":1,"mode":"byod","auto_lock":{"require_secure_lock":false}}"#, &[]);
    assert!(e.contains("byod-secure-lock"), "{e}");
}

#[test]
fn sign_refuses_byod_without_call_log_and_contact_deletion() {
    let org = Org::new();
    let e = org.refused(r#"{"schema":1,"mode":"byod","after_call":{"delete_call_log":false}}"#, &[]);
    assert!(e.contains("byod-delete-call-log"), "{e}");
    let e = org.refused(r#"{"schema":1,"mode":"byod","after_call":{"delete_contact":false}}"#, &[]);
    assert!(e.contains("byod-delete-contact"), "{e}");
}

#[test]
fn sign_refuses_an_anonymous_hotline_that_keeps_the_call_log() {
    let j =
        r#"{"schema":1,"mode":"work","retention":{"anonymous_hotline":true},"after_call":{"delete_call_log":false}}"#;
    let e = Org::new().refused(j, &[]);
    assert!(e.contains("hotline-keeps-numbers"), "{e}");
}

#[test]
fn sign_refuses_both_wipe_scopes_disabled() {
    let e =
        Org::new().refused(r#"{"schema":1,"mode":"work","wipe":{"allow_selective":false,"allow_full":false}}"#, &[]);
    assert!(e.contains("no-wipe-scope"), "{e}");
}

#[test]
fn sign_refuses_version_zero() {
    let e = Org::new().refused(BYOD, &["--version", "0"]);
    assert!(e.contains("policy-version-zero"), "{e}");
}

#[test]
fn sign_refuses_an_expiry_of_4294967295_days() {
    let e = Org::new().refused(BYOD, &["--expires-in-days", "4294967295"]);
    assert!(e.contains("policy-lifetime"), "{e}");
}

#[test]
fn sign_refuses_a_staff_key_where_the_root_key_was_meant() {
    let org = Org::new();
    let staff = org.staff("lock,wipe_selective");
    let e = org.refused(BYOD, &["--staff", &staff, "--key", p(&org.f("staff.key"))]);
    assert!(e.contains("staff key of \"it\", not the org root key"), "{e}");
}

#[test]
fn sign_with_root_pub_refuses_any_other_key() {
    let org = Org::new();
    ok(&["keygen", "--out", p(&org.dir), "--name", "mallory"]);
    let e = org.refused(BYOD, &["--key", p(&org.f("mallory.key")), "--root-pub", p(&org.f("root.pub"))]);
    assert!(e.contains("not one of the --root-pub keys"), "{e}");
    org.signed(BYOD, &["--root-pub", p(&org.f("root.pub"))]);
}

#[test]
fn staff_key_with_update_policy_role_signs_with_a_note() {
    let org = Org::new();
    let staff = org.staff("update_policy,wipe_selective");
    let out = org.signed(BYOD, &["--staff", &staff, "--key", p(&org.f("staff.key"))]);
    assert!(out.contains("never at enrollment"), "{out}");
}

// ---- Warnings: signed, and each warning names its rule ----

fn warns(rules: &str, extra: &[&str], rule: &str) {
    let org = Org::new();
    let out = org.signed(rules, extra);
    assert!(out.contains(&format!("warning [{rule}]")), "{rule} not printed:\n{out}");
    let lint = ok(&["policy", "lint", p(&org.f("policy.ql"))]);
    assert!(lint.contains(&format!("warning [{rule}]")), "lint of the signed policy:\n{lint}");
}

#[test]
fn sign_warns_about_an_unknown_prefix() {
    warns(r#"{"schema":1,"mode":"byod","caller_id":{"prefix":"*99"}}"#, &[], "caller-id-prefix-unknown");
}

#[test]
fn sign_warns_about_a_work_phone_without_secure_lock() {
    warns(r#"{"schema":1,"mode":"work","auto_lock":{"require_secure_lock":false}}"#, &[], "work-secure-lock");
}

#[test]
fn sign_warns_about_a_long_auto_lock() {
    warns(r#"{"schema":1,"mode":"byod","auto_lock":{"max_timeout_secs":300}}"#, &[], "auto-lock-long");
}

#[test]
fn sign_warns_about_a_work_phone_keeping_the_call_log() {
    warns(r#"{"schema":1,"mode":"work","after_call":{"delete_call_log":false}}"#, &[], "work-cleanup-off");
}

#[test]
fn sign_warns_about_delayed_cleanup() {
    warns(r#"{"schema":1,"mode":"byod","after_call":{"delay_secs":120}}"#, &[], "cleanup-delayed");
}

#[test]
fn sign_warns_about_texts_to_survivors() {
    warns(r#"{"schema":1,"mode":"work","sms":{"block_to_survivors":false}}"#, &[], "sms-shows-number");
}

#[test]
fn sign_warns_about_a_rare_caller_id_recheck() {
    warns(r#"{"schema":1,"mode":"byod","caller_id":{"recheck_days":90}}"#, &[], "caller-id-recheck-rare");
}

#[test]
fn sign_warns_about_a_work_phone_without_off_duty_hours() {
    warns(r#"{"schema":1,"mode":"work"}"#, &[], "work-off-duty-off");
}

#[test]
fn sign_warns_about_off_duty_without_power_off_reminder() {
    warns(
        r#"{"schema":1,"mode":"work","off_duty":{"enabled":true,"remind_power_off":false}}"#,
        &[],
        "off-duty-no-reminder",
    );
}

#[test]
fn sign_warns_about_long_retention() {
    warns(r#"{"schema":1,"mode":"byod","retention":{"survivor_days":200}}"#, &[], "retention-long");
}

#[test]
fn sign_warns_about_no_staff_key_at_all() {
    warns(BYOD, &[], "no-staff-key");
}

#[test]
fn sign_warns_about_staff_without_a_wipe_role() {
    let org = Org::new();
    let out = org.signed(BYOD, &["--staff", &org.staff("lock")]);
    assert!(out.contains("warning [no-wipe-role]"), "{out}");
}

#[test]
fn sign_warns_about_a_policy_living_longer_than_90_days() {
    warns(BYOD, &["--expires-in-days", "200"], "policy-lifetime-long");
}

#[test]
fn sign_warns_about_an_unconfirmed_checklist_and_names_the_items() {
    let org = Org::new();
    let out = org.signed(r#"{"schema":1,"mode":"byod","checklist":{"no_free_voip":"2026-11-20"}}"#, &[]);
    let line = out.lines().find(|l| l.contains("warning [checklist-unconfirmed]")).expect("warned");
    assert!(line.contains("voicemail_transcription_off") && !line.contains("no_free_voip"), "{line}");
}

#[test]
fn lint_fails_on_an_error_and_names_the_rule() {
    let org = Org::new();
    let f = org.write("r.json", r#"{"schema":1,"mode":"byod","auto_lock":{"require_secure_lock":false}}"#);
    let r = fails(&["policy", "lint", p(&f)]);
    assert!(r.stdout.contains("error [byod-secure-lock]"), "{}", r.stdout);
    assert!(r.stderr.contains("phones refuse this policy"), "{}", r.stderr);
}

// ---- Templates ----

fn template_is_clean_and_accepted(kind: &str) {
    let org = Org::new();
    let f = org.f(&format!("{kind}.json"));
    ok(&["policy", "template", kind, "--out", p(&f)]);
    let lint = ok(&["policy", "lint", p(&f)]);
    // The only warning left is IT's own checklist, which no template can confirm for them.
    assert!(lint.contains("0 error(s), 1 warning(s)") && lint.contains("[checklist-unconfirmed]"), "{kind}: {lint}");
    let text = std::fs::read_to_string(&f).expect("template");
    let rules = Policy::from_json(&text).expect("parses");
    assert_eq!(quietline_core::guidance::accept(&rules), Ok(()));
    let staff = org.staff("lock,wipe_selective,wipe_full");
    let out = org.signed(&text, &["--staff", &staff]);
    assert_eq!(out.matches("warning [").count(), 1, "{out}");
    let r = fails(&["policy", "template", kind, "--out", p(&f)]);
    assert!(r.stderr.contains("refusing to overwrite"), "{}", r.stderr);
}

#[test]
fn work_template_follows_the_guidance() {
    template_is_clean_and_accepted("work");
}

#[test]
fn byod_template_follows_the_guidance() {
    template_is_clean_and_accepted("byod");
}

#[test]
fn hotline_template_keeps_no_numbers() {
    template_is_clean_and_accepted("hotline");
    let out = ok(&["policy", "template", "hotline"]);
    let rules = Policy::from_json(&out).expect("parses");
    assert!(rules.retention.anonymous_hotline && rules.after_call.delete_call_log && rules.after_call.delete_contact);
}

// ---- Files IT staff mix up ----

#[test]
fn private_key_given_as_public_key_is_named() {
    let org = Org::new();
    let staff = format!("it={}=lock", p(&org.f("staff.key")));
    let e = org.refused(BYOD, &["--staff", &staff]);
    assert!(e.contains("this is a private key"), "{e}");
    let key = std::fs::read(org.f("staff.key")).expect("key");
    assert!(!e.as_bytes().windows(8).any(|w| key.windows(8).any(|k| k == w)), "no key bytes echoed");
}

#[test]
fn public_key_given_as_private_key_is_named() {
    let org = Org::new();
    let e = org.refused(BYOD, &["--key", p(&org.f("root.pub"))]);
    assert!(e.contains("this is a public key"), "{e}");
}

#[test]
fn empty_files_are_called_empty() {
    let org = Org::new();
    let e = org.refused("", &[]);
    assert!(e.contains("the file is empty"), "{e}");
    org.write("empty.json", "\n");
    let r = fails(&["receipt", "verify", "QL:AAAA", "--device", p(&org.f("empty.json"))]);
    assert!(r.stderr.contains("the file is empty"), "{}", r.stderr);
    let r = fails(&["policy", "show", p(&org.f("empty.json"))]);
    assert!(r.stderr.contains("the file is empty"), "{}", r.stderr);
    assert!(!r.stderr.contains("EOF"), "{}", r.stderr);
}

#[test]
fn truncated_device_record_is_called_cut_short() {
    let org = Org::new();
    org.enrolled();
    let full = std::fs::read_to_string(org.f("device.json")).expect("device");
    org.write("device.json", &full[..full.len() / 2]);
    let r = fails(&["command", "lock", "--device", p(&org.f("device.json")), "--key", p(&org.f("staff.key"))]);
    assert!(r.stderr.contains("cut short"), "{}", r.stderr);
    assert!(!r.stderr.contains("EOF while parsing"), "{}", r.stderr);
}

#[test]
fn truncated_object_is_called_cut_short() {
    let org = Org::new();
    let response = org.enrolled();
    org.write("cut.ql", &response[..response.len() / 2]);
    let r = fails(&[
        "enroll",
        "accept",
        p(&org.f("cut.ql")),
        "--bundle",
        p(&org.f("bundle.ql")),
        "--out",
        p(&org.f("d2.json")),
    ]);
    assert!(r.stderr.contains("cut short or damaged"), "{}", r.stderr);
    assert!(!r.stderr.contains("object is truncated"), "{}", r.stderr);
}

#[test]
fn a_policy_given_as_a_receipt_is_called_a_signed_policy() {
    let org = Org::new();
    org.enrolled();
    let r = fails(&["receipt", "verify", p(&org.f("policy.ql")), "--device", p(&org.f("device.json"))]);
    assert!(r.stderr.contains("this is a signed policy, not a receipt"), "{}", r.stderr);
    assert!(!r.stderr.contains("object type"), "{}", r.stderr);
    let r = fails(&["policy", "show", p(&org.f("response.ql"))]);
    assert!(r.stderr.contains("this is an enrollment response"), "{}", r.stderr);
    assert!(!r.stderr.contains("object type"), "{}", r.stderr);
}

#[test]
fn enroll_accept_refuses_to_overwrite_another_devices_record() {
    let org = Org::new();
    org.enrolled();
    std::fs::rename(org.f("device.json"), org.f("phone-1.json")).expect("rename");
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(org.f("phone-1.json")).expect("read")).expect("json");
    other["device_id"] = "00000000000000aa".into();
    std::fs::write(org.f("phone-1.json"), other.to_string()).expect("write");
    let sub = org.f("other");
    std::fs::create_dir(&sub).expect("dir");
    std::fs::copy(org.f("phone-1.json"), sub.join("phone-1.json")).expect("copy");
    let r = fails(&[
        "enroll",
        "accept",
        p(&org.f("response.ql")),
        "--bundle",
        p(&org.f("bundle.ql")),
        "--out",
        p(&sub.join("phone-1.json")),
    ]);
    assert!(r.stderr.contains("refusing to overwrite another device's record"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(sub.join("phone-1.json")).expect("kept"), other.to_string());
    let r = fails(&[
        "enroll",
        "accept",
        p(&org.f("response.ql")),
        "--bundle",
        p(&org.f("bundle.ql")),
        "--out",
        p(&org.f("bundle.ql")),
    ]);
    assert!(r.stderr.contains("not a device record"), "{}", r.stderr);
}

#[test]
fn second_enroll_accept_of_the_same_response_is_refused() {
    let org = Org::new();
    org.enrolled();
    ok(&["command", "lock", "--device", p(&org.f("device.json")), "--key", p(&org.f("staff.key"))]);
    let before = std::fs::read_to_string(org.f("device.json")).expect("record");
    let r = fails(&[
        "enroll",
        "accept",
        p(&org.f("response.ql")),
        "--bundle",
        p(&org.f("bundle.ql")),
        "--out",
        p(&org.f("device.json")),
    ]);
    assert!(r.stderr.contains("already accepted") && r.stderr.contains("next command sequence 2"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(org.f("device.json")).expect("record"), before, "next_seq kept");
    let r = fails(&[
        "enroll",
        "accept",
        p(&org.f("response.ql")),
        "--bundle",
        p(&org.f("bundle.ql")),
        "--out",
        p(&org.f("again.json")),
    ]);
    assert!(r.stderr.contains("already accepted into"), "{}", r.stderr);
}

#[test]
fn relay_url_that_is_not_https_is_refused() {
    let org = Org::new();
    org.signed(r#"{"schema":1,"mode":"work","off_duty":{"enabled":true}}"#, &["--staff", &org.staff("wipe_full")]);
    for url in ["http://relay.example/acme", "relay.example"] {
        let r = fails(&[
            "enroll",
            "--org",
            "acme",
            "--root-pub",
            p(&org.f("root.pub")),
            "--mode",
            "work",
            "--policy",
            p(&org.f("policy.ql")),
            "--relay-url",
            url,
            "--out",
            p(&org.f("bundle.ql")),
        ]);
        assert!(r.stderr.contains("--relay-url"), "{}", r.stderr);
        assert!(!org.f("bundle.ql").exists());
    }
    // The phone refuses such a bundle too, however it was made.
    let body = trust::BundleBody {
        org: "acme".into(),
        root_key: "00".repeat(32),
        device_id: "00".repeat(8),
        enrollment_id: "00".repeat(4),
        mode: quietline_core::policy::Mode::Work,
        policy: String::new(),
        relay_url: Some("http://relay.example".into()),
        enroll_secret: "00".repeat(32),
    };
    let text = trust::encode_bundle(&body).expect("encode");
    assert!(
        matches!(trust::decode_bundle(&text), Err(trust::TrustError::BadBody { field, .. }) if field == "relay_url")
    );
}

#[test]
fn qr_code_too_wide_for_80_columns_is_written_as_svg() {
    let org = Org::new();
    // Several staff keys make a bundle whose QR code cannot fit 80 columns.
    let mut extra = Vec::new();
    for i in 0..6 {
        ok(&["keygen", "--out", p(&org.dir), "--name", &format!("s{i}")]);
        extra.push("--staff".to_string());
        extra.push(format!("s{i}={}=lock,wipe_selective,wipe_full", p(&org.f(&format!("s{i}.pub")))));
    }
    let refs: Vec<&str> = extra.iter().map(String::as_str).collect();
    org.signed(r#"{"schema":1,"mode":"work","off_duty":{"enabled":true}}"#, &refs);
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
        "--out",
        p(&org.f("bundle.ql")),
        "--qr",
    ]);
    assert!(out.contains("columns wide, more than an 80-column terminal"), "{out}");
    assert!(out.lines().all(|l| l.chars().count() <= 200), "no wide QR printed");
    assert!(!out.contains('▀'), "{out}");
    let svg = std::fs::read_to_string(org.f("bundle.ql.svg")).expect("svg written");
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{}", &svg[..80]);
}

#[test]
fn qr_code_is_written_as_svg_on_request() {
    let org = Org::new();
    org.signed(r#"{"schema":1,"mode":"byod"}"#, &["--staff", &org.staff("wipe_selective")]);
    let out = ok(&[
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
        p(&org.f("bundle.ql")),
        "--qr-svg",
        p(&org.f("qr.svg")),
    ]);
    assert!(out.contains("QR code image ->"), "{out}");
    assert!(std::fs::read_to_string(org.f("qr.svg")).expect("svg").contains("<svg"));
}

// ---- The command pre-check against the device's policy ----

fn command(org: &Org, verb: &[&str], key: &str) -> Run {
    let mut args = vec!["command"];
    args.extend_from_slice(verb);
    let (device, key, policy) = (org.f("device.json"), org.f(key), org.f("policy.ql"));
    args.extend_from_slice(&["--device", p(&device), "--key", p(&key), "--policy", p(&policy)]);
    admin(&args)
}

#[test]
fn command_signed_by_a_key_unknown_to_the_policy_is_refused_before_signing() {
    let org = Org::new();
    org.enrolled();
    ok(&["keygen", "--out", p(&org.dir), "--name", "stranger"]);
    let before = std::fs::read_to_string(org.f("device.json")).expect("record");
    let r = command(&org, &["lock"], "stranger.key");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("not a staff key of policy v1"), "{}", r.stderr);
    assert!(!r.stdout.contains("SMS:"), "nothing signed");
    assert_eq!(std::fs::read_to_string(org.f("device.json")).expect("record"), before, "next_seq unchanged");
}

#[test]
fn command_without_the_role_is_refused_before_signing() {
    let org = Org::new();
    org.enrolled();
    // The enrolled policy's staff key may lock and wipe, not update policies; a narrower policy:
    org.signed(
        r#"{"schema":1,"mode":"work","off_duty":{"enabled":true}}"#,
        &["--staff", &org.staff("lock"), "--version", "2"],
    );
    let r = command(&org, &["wipe", "--scope", "full"], "staff.key");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("may sign Lock but not WipeFull"), "{}", r.stderr);
    let r = command(&org, &["lock"], "staff.key");
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn command_for_a_wipe_scope_the_policy_disallows_is_refused() {
    let org = Org::new();
    org.enrolled();
    let staff = org.staff("lock,wipe_selective,wipe_full");
    org.signed(
        r#"{"schema":1,"mode":"work","off_duty":{"enabled":true},"wipe":{"allow_full":false}}"#,
        &["--staff", &staff],
    );
    let r = command(&org, &["wipe", "--scope", "full"], "staff.key");
    assert!(r.code != 0 && r.stderr.contains("does not allow full wipes"), "{}", r.stderr);
}

// ---- The organisation's calling app (caller_id.softphone) ----

const SOFTPHONE: &str = r#"{"schema":1,"mode":"byod","caller_id":{"method":"voip","softphone":{"call_uri":"acmevoice://call?to={number}","android_package":"com.acme.voice"}}}"#;

#[test]
fn sign_show_and_inspect_name_the_calling_app() {
    let org = Org::new();
    let out = org.signed(SOFTPHONE, &[]);
    let said = "helpline calls from the work profile and VoIP calls go to the organisation's calling app: \
                acmevoice://call?to={number} (Android package com.acme.voice)";
    assert!(out.contains(said), "{out}");
    assert!(!out.contains("warning [softphone"), "{out}");
    let show = ok(&["policy", "show", p(&org.f("policy.ql"))]);
    assert!(show.contains(said), "{show}");
    assert!(show.contains(r#""softphone": {"#), "the signed rules carry it: {show}");
    let inspect = ok(&["inspect", p(&org.f("policy.ql"))]);
    assert!(inspect.contains(said), "{inspect}");
    // Without one, IT is told what the phone will do instead.
    let out = org.signed(BYOD, &[]);
    assert!(
        out.contains("no calling app named: helpline calls from the work profile and VoIP calls are refused unless"),
        "{out}"
    );
}

#[test]
fn sign_refuses_a_calling_app_link_that_would_leave_it_and_names_the_field() {
    let org = Org::new();
    for (rules, field) in [
        (SOFTPHONE.replace("acmevoice://call?to=", "tel:"), "caller_id.softphone.call_uri"),
        (SOFTPHONE.replace("acmevoice://call?to=", "facetime-audio:"), "caller_id.softphone.call_uri"),
        (SOFTPHONE.replace("{number}", "{number}{number}"), "caller_id.softphone.call_uri"),
        (SOFTPHONE.replace("com.acme.voice", "acme"), "caller_id.softphone.android_package"),
    ] {
        let err = org.refused(&rules, &[]);
        assert!(err.contains(field), "{rules}: {err}");
    }
}

#[test]
fn sign_warns_about_a_calling_app_behind_a_prefix_or_without_a_package() {
    warns(&SOFTPHONE.replace(r#""method":"voip","#, ""), &[], "softphone-not-voip");
    warns(&SOFTPHONE.replace(r#","android_package":"com.acme.voice""#, ""), &[], "softphone-no-package");
}
