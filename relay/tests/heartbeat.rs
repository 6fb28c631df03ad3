//! Check-in freshness through the relay (issue 11, item 5): a relay started with
//! `--heartbeat-key` acknowledges each verified check-in in the next queue answer; the phone
//! applies the acknowledgement through the path apps already use for queued lines, once.

mod common;

use common::*;
use quietline_admin::DeviceRecord;
use quietline_core::report::StatusReport;
use quietline_core::wire::{self, ObjType};
use quietline_core::{checkin, device};

/// IT signs a policy that lists the relay's key with only the `checkin` role.
fn policy_with_relay_key(it: &It, staff_relay: &str, out_name: &str) -> Result<String, String> {
    let rules = it.p("rules-work.json");
    std::fs::write(&rules, r#"{"schema":1,"mode":"work"}"#).expect("rules");
    let args = [
        "policy",
        "sign",
        "--rules",
        &rules,
        "--org",
        &it.org,
        "--version",
        "1",
        "--expires-in-days",
        "30",
        "--staff",
        &format!("alex={}=lock,wipe_selective,ping,update_policy", it.p("keys/alex.pub")),
        "--staff",
        staff_relay,
        "--key",
        &it.p("keys/root.key"),
        "--out",
        &it.p(out_name),
    ];
    let mut out = Vec::new();
    let mut a = vec!["quietline-admin".to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    match quietline_admin::run(a, &mut out) {
        Ok(()) => Ok(std::fs::read_to_string(it.p(out_name)).expect("policy").trim().to_string()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn the_relay_acknowledges_a_verified_check_in_once_and_only_with_its_checkin_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = unique_org("hb");
    let it = It::new(tmp.path(), &org);
    admin(&["keygen", "--out", &it.p("keys"), "--name", "relay"]);
    let relay_pub = it.p("keys/relay.pub");
    // The admin CLI refuses to give the relay's key any other role's powers.
    let err = policy_with_relay_key(&it, &format!("relay={relay_pub}=checkin,lock"), "greedy.ql").expect_err("refused");
    assert!(err.contains("checkin role must be a key's only role"), "{err}");
    policy_with_relay_key(&it, &format!("relay={relay_pub}=checkin"), "policy.ql").expect("policy");

    let url = db_url(tmp.path());
    let relay = Relay::start(&url, &org, &it.root_pub, &["--heartbeat-key", &it.p("keys/relay.key")]);
    admin(&[
        "enroll",
        "--org",
        &org,
        "--root-pub",
        &it.p("keys/root.pub"),
        "--mode",
        "work",
        "--policy",
        &it.p("policy.ql"),
        "--relay-url",
        &relay.url(),
        "--out",
        &it.p("p1.bundle"),
    ]);
    let bundle = std::fs::read_to_string(it.p("p1.bundle")).expect("bundle").trim().to_string();
    assert_eq!(it.post_text(&relay, &it.root, "/admin/enrollments", &bundle).status, 201);
    let mut phone = Phone::enroll(&tmp.path().join("p1"), &bundle);
    assert_eq!(phone.post_response().status, 201);
    std::fs::write(it.p("p1.response"), &phone.response).expect("write");
    admin(&["enroll", "accept", &it.p("p1.response"), "--bundle", &it.p("p1.bundle"), "--out", &it.p("p1.json")]);
    let rec: DeviceRecord =
        serde_json::from_str(&std::fs::read_to_string(it.p("p1.json")).expect("rec")).expect("json");
    let body = serde_json::to_vec(&rec).expect("json");
    assert_eq!(it.call(&relay, &it.root, "POST", "/admin/devices", "", "application/json", &body).status, 204);
    let device_key = device::verify_enroll_response(&phone.response).expect("response").device_key;

    let is_ack = |l: &&str| wire::from_text(l).ok().and_then(|b| wire::header(&b).ok()) == Some(ObjType::CheckinAck);
    // No check-in yet: nothing to acknowledge.
    let r = phone.fetch();
    assert!(!r.body.lines().any(|l| is_ack(&l)), "{}", r.body);
    // The phone checks in with a device-signed report naming a fresh nonce.
    let report = phone.agent.status_report(&r.challenge.expect("challenge")).expect("report");
    let nonce = StatusReport::verify(&report, &device_key, &wire::unhex(&rec.device_id).expect("id"), &{
        wire::unhex::<4>(&rec.enrollment_id).expect("eid")
    })
    .expect("report verifies")
    .nonce;
    assert_eq!(phone.post("/checkin", "text/plain", &report).status, 204);
    // The next queue answer carries the acknowledgement: signed by the relay's key, naming
    // this device, its enrollment and that nonce.
    let r = phone.fetch();
    let ack = r.body.lines().find(|l| is_ack(l)).expect("an acknowledgement").to_string();
    let relay_key = wire::unhex::<32>(std::fs::read_to_string(&relay_pub).expect("pub").trim()).expect("key");
    let a = checkin::verify_ack(&ack, &relay_key).expect("signed by the relay's checkin key");
    assert_eq!((wire::hex(&a.device_id), wire::hex(&a.enrollment_id)), (rec.device_id.clone(), rec.enrollment_id));
    assert_eq!(wire::hex(&a.nonce), nonce);
    // Through the path the apps already call for queued lines: applied once, then refused.
    assert!(phone.agent.apply_command(&ack).is_err(), "not a command");
    assert_eq!(phone.agent.install_signed_policy(&ack).expect("acknowledged"), vec![]);
    assert!(phone.agent.install_signed_policy(&ack).is_err(), "used once");
    let audit = phone.agent.audit_export().expect("audit");
    assert!(audit.iter().any(|r| r.kind == quietline_core::AuditKind::CheckIn && r.detail == "acknowledged"));
    // A poll (as the apps do it) keeps working with acknowledgements in the queue.
    phone.poll();
}
