//! The admin CLI against a running relay: `enroll --relay`, `enroll accept --relay`,
//! `command … --relay`, `policy sign --relay`, `fleet status|receipts|enrollments|link`, and
//! receipts verified on the IT side even when the relay lies.

mod common;

use common::*;

#[test]
fn the_admin_cli_enrolls_commands_and_reads_the_fleet_through_the_relay() {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = unique_org("cli");
    let it = It::new(tmp.path(), &org);
    let relay = Relay::start(&db_url(tmp.path()), &org, &it.root_pub, &[]);
    let url = relay.url();
    let p = |s: &str| it.p(s);
    it.policy("work", 1, "policy.ql");
    // enroll --relay announces the enrollment; the bundle carries the relay URL.
    let o = admin(&[
        "enroll",
        "--org",
        &org,
        "--root-pub",
        &p("keys/root.pub"),
        "--mode",
        "work",
        "--policy",
        &p("policy.ql"),
        "--out",
        &p("bundle.ql"),
        "--relay",
        &url,
        "--relay-key",
        &p("keys/alex.key"),
    ]);
    assert!(o.contains("enrollment announced on relay"), "{o}");
    let bundle = std::fs::read_to_string(p("bundle.ql")).expect("bundle");
    let mut phone = Phone::enroll(&tmp.path().join("phone"), bundle.trim());
    assert_eq!(phone.relay, url);
    assert_eq!(phone.post_response().status, 201);
    // IT picks the response up from the relay and accepts it there too.
    let pending = admin(&["fleet", "enrollments", "--relay", &url, "--key", &p("keys/alex.key")]);
    assert_eq!(pending.trim(), phone.response);
    std::fs::write(p("resp.ql"), pending.trim()).expect("write");
    let o = admin(&[
        "enroll",
        "accept",
        &p("resp.ql"),
        "--bundle",
        &p("bundle.ql"),
        "--out",
        &p("phone.json"),
        "--relay",
        &url,
        "--relay-key",
        &p("keys/alex.key"),
    ]);
    assert!(o.contains("device key accepted on relay"), "{o}");
    // Two IT laptops with copies of the same device record: the relay's queue keeps their seqs apart.
    std::fs::copy(p("phone.json"), p("phone-laptop2.json")).expect("copy");
    let o1 = admin(&["command", "lock", "--device", &p("phone.json"), "--key", &p("keys/sam.key"), "--relay", &url]);
    assert!(o1.contains("queued on relay"), "{o1}");
    let o2 = admin(&[
        "command",
        "ping",
        "--device",
        &p("phone-laptop2.json"),
        "--key",
        &p("keys/alex.key"),
        "--relay",
        &url,
    ]);
    assert!(o2.contains("\"seq\":2"), "the second laptop numbered after the first: {o2}");
    let lines = phone.poll();
    assert_eq!(lines.iter().filter(|l| l.len() == 138).count(), 2, "both commands arrived: {lines:?}");
    phone.poll();
    // A policy renewal signed and queued in one step.
    let rules = p("rules-work.json");
    let o = admin(&[
        "policy",
        "sign",
        "--rules",
        &rules,
        "--org",
        &org,
        "--version",
        "2",
        "--expires-in-days",
        "30",
        "--staff",
        &format!("alex={}=lock,wipe_selective,wipe_full,ping,update_policy", p("keys/alex.pub")),
        "--staff",
        &format!("sam={}=lock", p("keys/sam.pub")),
        "--key",
        &p("keys/root.key"),
        "--out",
        &p("policy-2.ql"),
        "--relay",
        &url,
    ]);
    assert!(o.contains("the policy queued on relay"), "{o}");
    phone.poll();
    assert_eq!(phone.agent.policy_version(), Some(2));
    phone.poll();
    let status =
        admin(&["fleet", "status", "--relay", &url, "--key", &p("keys/alex.key"), "--device", &p("phone.json")]);
    let id = phone.agent.device_id().expect("id");
    let row = status.lines().find(|l| l.starts_with(&id)).expect("row");
    assert!(row.contains(" v2 ") && row.contains("2/2/2") && row.contains("2 ok"), "{status}");
    let receipts =
        admin(&["fleet", "receipts", "--relay", &url, "--key", &p("keys/alex.key"), "--device", &p("phone.json")]);
    assert_eq!(receipts.lines().filter(|l| l.starts_with("verified ")).count(), 2, "{receipts}");
    // The relay lies: a receipt it stored itself (here written straight into its database)
    // claims a full wipe. IT's check refuses it.
    let forged_for = phone.agent.device_id().expect("id");
    let db = relay.db.clone();
    let org2 = org.clone();
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(async move {
        let db = quietline_relay::db::Db::open(&db, 1).await.expect("db");
        let fake = format!("QL:{}", "A".repeat(144));
        // Received now: a receipt dated 1970 is removed by the next retention sweep of any relay
        // on the database (with PostgreSQL, other tests' relays share it), racing the check below.
        let t = quietline_relay::now();
        db.store_receipt(&org2, &forged_for, "ff", "00", "wipe_full", "done", "full", &fake, t).await.expect("store");
    });
    let e =
        admin_err(&["fleet", "receipts", "--relay", &url, "--key", &p("keys/alex.key"), "--device", &p("phone.json")]);
    assert!(e.contains("did not verify"), "{e}");
    let status =
        admin(&["fleet", "status", "--relay", &url, "--key", &p("keys/alex.key"), "--device", &p("phone.json")]);
    assert!(status.contains("NOT VERIFIED") && status.contains("relay_claims_wipe_unverified"), "{status}");
    // A view link for the fleet page: short-lived only.
    let link = admin(&["fleet", "link", "--relay", &url, "--key", &p("keys/alex.key"), "--minutes", "5"]);
    assert!(link.starts_with(&format!("{url}/fleet#")), "{link}");
    assert!(admin_err(&["fleet", "link", "--relay", &url, "--key", &p("keys/alex.key"), "--minutes", "600"])
        .contains("1..=60"));
    // --sms-qr: the sms: link and its QR code.
    let o = admin(&[
        "command",
        "lock",
        "--device",
        &p("phone.json"),
        "--key",
        &p("keys/sam.key"),
        "--sms-qr",
        "+1 207 555 0100",
    ]);
    assert!(o.contains("sms link: sms:+12075550100?body=QL:"), "{o}");
}
