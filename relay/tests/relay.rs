//! The relay's rules, each as an attack or a fault, against the built binary on loopback with
//! real phones (the core agent) and IT keys. SQLite by default; the same tests run against a
//! real PostgreSQL when `QL_RELAY_TEST_PG` is set (scripts/test.d/70-relay.sh does both).

mod common;

use common::*;
use quietline_admin::DeviceRecord;
use quietline_core::report::{DeviceAuth, StaffAuth};
use quietline_core::trust::SigningKey;
use quietline_core::wire::{self, CommandAction};
use quietline_relay::fleet::Fleet;

struct World {
    _tmp: tempfile::TempDir,
    it: It,
    relay: Relay,
}

fn world(extra: &[&str]) -> World {
    world_on(None, extra)
}

/// A world on the shared test database, or on a database of its own (for tests that sweep
/// every organisation's rows).
fn world_on(own_db: Option<&str>, extra: &[&str]) -> World {
    let tmp = tempfile::tempdir().expect("tmp");
    let org = unique_org("t");
    let it = It::new(tmp.path(), &org);
    let url = match (own_db, std::env::var("QL_RELAY_TEST_PG")) {
        (Some(name), Ok(pg)) if !pg.is_empty() => {
            let (server, _) = pg.rsplit_once('/').expect("postgres URL with a database");
            let name = format!("{name}_{}", org.replace('-', "_"));
            let create = format!("CREATE DATABASE {name}");
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(async {
                sqlx::any::install_default_drivers();
                let pool = sqlx::AnyPool::connect(&pg).await.expect("connect");
                sqlx::query(&create).execute(&pool).await.expect("create database");
            });
            format!("{server}/{name}")
        }
        _ => db_url(tmp.path()),
    };
    let relay = Relay::start(&url, &org, &it.root_pub, extra);
    World { _tmp: tmp, it, relay }
}

/// IT announces a phone, the phone enrolls and posts its response, IT accepts it.
/// IT re-enrolls device `device_id` as a `work` phone through the first relay: a new bundle
/// (new enrollment id, no key yet), announced with `POST /admin/enrollments`. Returns the bundle.
fn reenroll(w: &World, device_id: &str) -> String {
    admin(&[
        "enroll",
        "--org",
        &w.it.org,
        "--root-pub",
        &w.it.p("keys/root.pub"),
        "--mode",
        "work",
        "--policy",
        &w.it.p("policy-work.ql"),
        "--relay-url",
        &w.relay.url(),
        "--device-id",
        device_id,
        "--out",
        &w.it.p("again.bundle"),
    ]);
    let again = std::fs::read_to_string(w.it.p("again.bundle")).expect("bundle").trim().to_string();
    assert_eq!(w.it.post_text(&w.relay, &w.it.root, "/admin/enrollments", &again).status, 201);
    again
}

fn enrolled(w: &World, mode: &str, name: &str) -> (Phone, DeviceRecord) {
    enrolled_in(&w.it, &w.relay, mode, name)
}

/// The same for organisation `it` on `relay`.
fn enrolled_in(it: &It, relay: &Relay, mode: &str, name: &str) -> (Phone, DeviceRecord) {
    let bundle = it.bundle(mode, &relay.url(), &format!("{name}.bundle"));
    let r = it.post_text(relay, &it.root, "/admin/enrollments", &bundle);
    assert_eq!(r.status, 201, "{}", r.body);
    let dir = it.dir.join(name);
    let phone = Phone::enroll(&dir, &bundle);
    assert_eq!(phone.post_response().status, 201);
    let resp_file = it.p(&format!("{name}.response"));
    std::fs::write(&resp_file, &phone.response).expect("write");
    let bundle_file = it.p(&format!("{name}.bundle"));
    admin(&["enroll", "accept", &resp_file, "--bundle", &bundle_file, "--out", &it.p(&format!("{name}.json"))]);
    let rec: DeviceRecord =
        serde_json::from_str(&std::fs::read_to_string(it.p(&format!("{name}.json"))).expect("rec")).expect("json");
    let body = serde_json::to_vec(&rec).expect("json");
    let r = it.call(relay, &it.root, "POST", "/admin/devices", "", "application/json", &body);
    assert_eq!(r.status, 204, "{}", r.body);
    (phone, rec)
}

fn fleet(w: &World) -> Fleet {
    let r = w.it.call(&w.relay, &w.it.key("alex"), "GET", "/admin/fleet", "", "", b"");
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("fleet json")
}

fn assert_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "body {}", r.body);
    assert_eq!(r.body, format!("{{\"error\":\"{code}\"}}"));
}

#[test]
fn a_lock_travels_through_the_relay_and_its_receipt_comes_back() {
    let w = world(&[]);
    let (mut phone, rec) = enrolled(&w, "work", "p1");
    let lock = w.it.command(&w.it.key("sam"), &rec, 1, CommandAction::Lock);
    let r = w.it.post_text(&w.relay, &w.it.key("sam"), "/admin/commands", &lock);
    assert_eq!(r.status, 201, "{}", r.body);
    let got = phone.poll();
    assert!(got.contains(&lock), "the phone fetched the lock");
    // Acknowledged: the next poll no longer carries it.
    assert!(!phone.poll().contains(&lock));
    let f = fleet(&w);
    let row = &f.devices[0];
    assert_eq!((row.commands.queued, row.commands.delivered, row.commands.acknowledged), (1, 1, 1));
    assert_eq!(row.policy_version, Some(1));
    assert!(row.last_checkin.is_some() && row.key_accepted);
    // The receipt verifies against the device key IT accepted.
    let r =
        w.it.call(&w.relay, &w.it.key("alex"), "GET", "/admin/receipts", &format!("device={}", rec.device_id), "", b"");
    let list: Vec<quietline_relay::it::ReceiptOut> = serde_json::from_str(&r.body).expect("json");
    assert_eq!(list.len(), 1);
    let key = wire::unhex::<32>(&rec.device_key).expect("key");
    let receipt = quietline_core::device::verify_receipt(&list[0].text, &key).expect("verifies");
    assert_eq!(wire::hex(&receipt.device_id), rec.device_id);
}

#[test]
fn unauthenticated_fetch_is_refused() {
    let w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let (other, _) = enrolled(&w, "work", "p2");
    let url = format!("{}/queue", w.relay.url());
    // No header, a malformed one, a bearer token.
    assert_error(&send("GET", &url, &[], None), 401, "unauthenticated");
    assert_error(&send("GET", &url, &[("Authorization", "QL-Device x".into())], None), 401, "unauthenticated");
    assert_error(&send("GET", &url, &[("Authorization", "Bearer abc".into())], None), 401, "unauthenticated");
    // Signed by another device's key but naming this device.
    let h = other.agent.relay_authorization("GET", "/queue", b"").expect("auth");
    let mine = phone.agent.device_id().expect("id");
    let theirs = other.agent.device_id().expect("id");
    let forged = h.replace(&theirs, &mine);
    assert_error(&send("GET", &url, &[("Authorization", forged)], None), 401, "unauthenticated");
    // Signed for another endpoint.
    let h = phone.agent.relay_authorization("GET", "/checkin", b"").expect("auth");
    assert_error(&send("GET", &url, &[("Authorization", h)], None), 401, "unauthenticated");
    // Replayed: the same header twice.
    let h = phone.agent.relay_authorization("GET", "/queue", b"").expect("auth");
    assert_eq!(send("GET", &url, &[("Authorization", h.clone())], None).status, 200);
    assert_error(&send("GET", &url, &[("Authorization", h)], None), 401, "unauthenticated");
    // Signed an hour ago.
    let old = phone.agent.relay_authorization_at("GET", "/queue", b"", quietline_relay::now() - 3600).expect("auth");
    assert_error(&send("GET", &url, &[("Authorization", old)], None), 401, "unauthenticated");
    // A staff key cannot read a device's queue either.
    let s = StaffAuth::sign(&w.it.root, quietline_relay::now(), &w.it.org, "GET", "/queue", "", b"").expect("sign");
    assert_error(&send("GET", &url, &[("Authorization", s.header())], None), 401, "unauthenticated");
}

#[test]
fn forged_queued_object_is_refused() {
    let w = world(&[]);
    let (mut phone, rec) = enrolled(&w, "work", "p1");
    let alex = w.it.key("alex");
    let stranger = SigningKey::generate().expect("key");
    // A command signed by a key no policy names.
    let forged = w.it.command(&stranger, &rec, 5, CommandAction::WipeFull);
    assert_error(&w.it.post_text(&w.relay, &alex, "/admin/commands", &forged), 400, "bad_object");
    // A command with one bit of its signature flipped.
    let mut bytes = wire::from_text(&w.it.command(&alex, &rec, 6, CommandAction::WipeFull)).expect("decode");
    bytes[100] ^= 1;
    assert_error(&w.it.post_text(&w.relay, &alex, "/admin/commands", &wire::to_text(&bytes)), 400, "bad_object");
    // A lock-only key asking for a wipe: signed correctly, but its role does not allow it.
    let wipe = w.it.command(&w.it.key("sam"), &rec, 7, CommandAction::WipeFull);
    assert_error(&w.it.post_text(&w.relay, &alex, "/admin/commands", &wipe), 403, "forbidden");
    // A policy signed by a staff key that adds itself more roles (staff escalation).
    let rules = w.it.p("esc.json");
    std::fs::write(&rules, r#"{"schema":1,"mode":"work"}"#).expect("rules");
    admin(&[
        "policy",
        "sign",
        "--rules",
        &rules,
        "--org",
        &w.it.org,
        "--version",
        "9",
        "--expires-in-days",
        "30",
        "--staff",
        &format!("alex={}=lock,wipe_selective,wipe_full,update_policy,purge_survivor_data", w.it.p("keys/alex.pub")),
        "--key",
        &w.it.p("keys/alex.key"),
        "--out",
        &w.it.p("esc.ql"),
    ]);
    let esc = std::fs::read_to_string(w.it.p("esc.ql")).expect("esc");
    assert_error(&w.it.post_text(&w.relay, &alex, "/admin/policies", esc.trim()), 403, "forbidden");
    // A policy signed by a stranger's "root".
    let keys2 = w.it.dir.join("other");
    admin(&["keygen", "--out", keys2.to_str().expect("p"), "--name", "root"]);
    admin(&[
        "policy",
        "sign",
        "--rules",
        &rules,
        "--org",
        &w.it.org,
        "--version",
        "10",
        "--expires-in-days",
        "30",
        "--key",
        keys2.join("root.key").to_str().expect("p"),
        "--out",
        &w.it.p("fake.ql"),
    ]);
    let fake = std::fs::read_to_string(w.it.p("fake.ql")).expect("fake");
    assert_error(&w.it.post_text(&w.relay, &alex, "/admin/policies", fake.trim()), 400, "bad_object");
    // Not even the root can queue a command for a device that does not exist.
    let mut ghost = rec.clone();
    ghost.device_id = "00112233445566ff".into();
    let c = w.it.command(&alex, &ghost, 1, CommandAction::Lock);
    assert_error(&w.it.post_text(&w.relay, &w.it.root, "/admin/commands", &c), 404, "not_found");
    // Nothing forged reached the phone.
    let lines = phone.poll();
    assert!(lines.iter().all(|l| l != &forged && l != &wipe && l != fake.trim() && l != esc.trim()));
}

#[test]
fn oversized_body_is_refused_before_parsing() {
    let w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let org = &w.relay.org;
    // A Content-Length over the limit is answered at once: the relay never waits for the body
    // (this request never sends it; a relay that read first would time out here).
    let auth = phone.agent.relay_authorization("POST", "/receipts", b"").expect("auth");
    let req = format!(
        "POST /o/{org}/receipts HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nAuthorization: {auth}\r\nContent-Length: 50000000\r\n\r\n"
    );
    let resp = raw(&w.relay.addr(), req.as_bytes());
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(resp.ends_with("{\"error\":\"too_large\"}"), "{resp}");
    // The same without Content-Length, chunked: refused once it passes the limit.
    let big = "A".repeat(20_000);
    let req = format!(
        "POST /o/{org}/enrollments HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    let resp = raw(&w.relay.addr(), req.as_bytes());
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    // An oversized check-in and an oversized staff object.
    assert_error(&phone.post("/checkin", "text/plain", &format!("QL:{}", "A".repeat(9000))), 413, "too_large");
    let huge = format!("QL:{}", "A".repeat(100_000));
    assert_error(&w.it.post_text(&w.relay, &w.it.root, "/admin/policies", &huge), 413, "too_large");
}

#[test]
fn errors_echo_nothing() {
    let w = world(&[]);
    let marker = "ZZMARKER5551234";
    let url = format!("{}/queue?{marker}", w.relay.url());
    for r in [
        send("GET", &url, &[("Authorization", format!("QL-Device {marker}"))], None),
        send(
            "POST",
            &format!("{}/enrollments", w.relay.url()),
            &[],
            Some(("text/plain", format!("QL:{marker}").as_bytes())),
        ),
        send("GET", &format!("{}/o/{marker}/queue", w.relay.base), &[], None),
        send("GET", &format!("{}/{marker}", w.relay.base), &[], None),
        send("POST", &format!("{}/checkin", w.relay.url()), &[], Some(("application/x-evil", marker.as_bytes()))),
        send("DELETE", &format!("{}/queue", w.relay.url()), &[], None),
    ] {
        assert!(r.status >= 400 && r.status < 500, "{}", r.status);
        assert!(!r.body.contains(marker) && !r.body.contains("5551234"), "echoed: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).expect("typed JSON error");
        assert!(v["error"].is_string() && v.as_object().is_some_and(|o| o.len() == 1), "{}", r.body);
    }
}

#[test]
fn enrollment_responses_need_an_announcement_and_the_first_key_wins() {
    let w = world(&[]);
    let bundle = w.it.bundle("work", &w.relay.url(), "b.ql");
    let phone = Phone::enroll(&w.it.dir.join("ph"), &bundle);
    // IT has not announced it: refused.
    assert_error(&phone.post_response(), 404, "unknown_enrollment");
    assert_eq!(w.it.post_text(&w.relay, &w.it.root, "/admin/enrollments", &bundle).status, 201);
    assert_eq!(phone.post_response().status, 201);
    assert_eq!(phone.post_response().status, 200, "the same response again is idempotent");
    // A second device key for the same enrollment (a relay-side attacker, or a clone) is refused.
    let clone = Phone::enroll(&w.it.dir.join("clone"), &bundle);
    assert_error(&clone.post_response(), 409, "enrollment_conflict");
    // A bundle that pins another root is not announced.
    let other = tempfile::tempdir().expect("tmp");
    let it2 = It::new(other.path(), &w.it.org);
    let b2 = it2.bundle("work", &w.relay.url(), "b2.ql");
    assert_error(&w.it.post_text(&w.relay, &w.it.root, "/admin/enrollments", &b2), 400, "bad_object");
    // Pending responses are listed for IT.
    let r = w.it.call(&w.relay, &w.it.root, "GET", "/admin/enrollments", "", "", b"");
    assert_eq!(r.body.trim(), phone.response);
}

#[test]
fn replayed_checkin_is_refused_and_reports_carry_no_survivor_data() {
    let w = world(&[]);
    let (mut phone, _) = enrolled(&w, "byod", "p1");
    phone.agent.register_survivor("+1 207 555 0199", None).expect("register");
    let r = phone.fetch();
    assert_eq!(r.status, 200, "{}", r.body);
    let report = phone.agent.status_report(&r.challenge.expect("challenge")).expect("report");
    assert_eq!(phone.post("/checkin", "text/plain", &report).status, 204);
    // The same report again (a channel replay) does not count: its challenge is used up.
    assert_error(&phone.post("/checkin", "text/plain", &report), 409, "stale_challenge");
    // A report answering a challenge the relay never issued.
    let made_up = phone.agent.status_report(&"ab".repeat(16)).expect("report");
    assert_error(&phone.post("/checkin", "text/plain", &made_up), 409, "stale_challenge");
    // What the relay stores and shows: no number, no count of survivors.
    let bytes = wire::from_text(&report).expect("decode");
    let body = String::from_utf8_lossy(&bytes[8..bytes.len() - 64]).to_string();
    // Whole digit runs of the number: short ones ("555") also occur in timestamps and hex.
    for needle in ["5550199", "2075550199", "12075550199", "survivor"] {
        assert!(!body.contains(needle), "{needle} in {body}");
    }
    let f = serde_json::to_string(&fleet(&w)).expect("json");
    assert!(!f.contains("5550199") && !f.contains("survivor"), "{f}");
}

#[test]
fn kill_9_loses_nothing_acknowledged() {
    let mut w = world(&[]);
    let (phone, rec) = enrolled(&w, "work", "p1");
    let alex = w.it.key("alex");
    let url = w.relay.url();
    let org = w.it.org.clone();
    // A writer queues commands as fast as it can; the relay is killed with SIGKILL under it.
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let alex = SigningKey::from_pkcs8(alex.pkcs8()).expect("key");
        let it = It {
            dir: w.it.dir.clone(),
            org: org.clone(),
            root: SigningKey::from_pkcs8(w.it.root.pkcs8()).expect("k"),
            root_pub: w.it.root_pub.clone(),
        };
        let rec = rec.clone();
        let count = count.clone();
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            for seq in 1..400u32 {
                let c = it.command(&alex, &rec, seq, CommandAction::Ping);
                let a =
                    StaffAuth::sign(&alex, quietline_relay::now(), &org, "POST", "/admin/commands", "", c.as_bytes())
                        .expect("s");
                let r = std::panic::catch_unwind(|| {
                    send(
                        "POST",
                        &format!("{url}/admin/commands"),
                        &[("Authorization", a.header())],
                        Some(("text/plain", c.as_bytes())),
                    )
                });
                match r {
                    Ok(r) if r.status == 201 => {
                        acked.push(c);
                        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    _ => break,
                }
            }
            acked
        })
    };
    for _ in 0..200 {
        if count.load(std::sync::atomic::Ordering::SeqCst) >= 10 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    w.relay.kill9_and_restart();
    let acked = writer.join().expect("writer");
    assert!(acked.len() > 3, "the writer got some commands acknowledged before the kill ({})", acked.len());
    // Every acknowledged command is still queued for the phone after the restart.
    let f = fleet(&w);
    assert!(f.devices[0].commands.queued as usize >= acked.len(), "{} < {}", f.devices[0].commands.queued, acked.len());
    let got = phone.fetch();
    for c in &acked {
        assert!(got.body.contains(c.as_str()), "an acknowledged command was lost");
    }
}

#[test]
fn a_device_over_its_rate_limit_gets_429() {
    let w = world(&["--rate-per-device", "5"]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(phone.fetch().status);
    }
    assert!(statuses[..4].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(*statuses.last().expect("s"), 429, "{statuses:?}");
}

#[test]
fn fleet_view_needs_a_staff_signature_or_a_live_grant() {
    let w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let url = format!("{}/admin/fleet", w.relay.url());
    assert_error(&send("GET", &url, &[], None), 401, "unauthenticated");
    // A device cannot read the fleet.
    let h = phone.agent.relay_authorization("GET", "/admin/fleet", b"").expect("auth");
    assert_error(&send("GET", &url, &[("Authorization", h)], None), 401, "unauthenticated");
    let t = quietline_relay::now();
    let g = quietline_core::report::ViewGrant::sign(&w.it.key("alex"), &w.it.org, t, t + 600).expect("grant");
    assert_eq!(send("GET", &url, &[("Authorization", format!("QL-View {}", g.text()))], None).status, 200);
    // A grant for another org, or by a stranger's key, is refused.
    let g2 = quietline_core::report::ViewGrant::sign(&w.it.key("alex"), "other", t, t + 600).expect("grant");
    assert_error(
        &send("GET", &url, &[("Authorization", format!("QL-View {}", g2.text()))], None),
        401,
        "unauthenticated",
    );
    let g3 =
        quietline_core::report::ViewGrant::sign(&SigningKey::generate().expect("k"), &w.it.org, t, t + 600).expect("g");
    assert_error(
        &send("GET", &url, &[("Authorization", format!("QL-View {}", g3.text()))], None),
        401,
        "unauthenticated",
    );
    // The page itself carries no data and a strict content security policy.
    let page = send("GET", &format!("{}/fleet", w.relay.url()), &[], None);
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(&phone.agent.device_id().expect("id")));
}

#[test]
fn push_tokens_are_stored_but_never_shown() {
    let w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let body = r#"{"platform":"fcm","token":"tok-SECRET-123"}"#;
    let r = send(
        "PUT",
        &format!("{}/push-token", w.relay.url()),
        &[phone.auth("PUT", "/push-token", body.as_bytes())],
        Some(("application/json", body.as_bytes())),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let f = fleet(&w);
    assert!(f.devices[0].push);
    assert!(!serde_json::to_string(&f).expect("j").contains("SECRET"));
    let bad = r#"{"platform":"sms","token":"x"}"#;
    let r = send(
        "PUT",
        &format!("{}/push-token", w.relay.url()),
        &[phone.auth("PUT", "/push-token", bad.as_bytes())],
        Some(("application/json", bad.as_bytes())),
    );
    assert_error(&r, 400, "bad_request");
}

#[test]
fn a_policy_renewal_reaches_only_phones_of_its_mode_until_installed() {
    let w = world(&[]);
    let (mut work, _) = enrolled(&w, "work", "w1");
    let (mut byod, _) = enrolled(&w, "byod", "b1");
    let v2 = w.it.policy("work", 2, "work-v2.ql");
    assert_eq!(w.it.post_text(&w.relay, &w.it.root, "/admin/policies", &v2).status, 201);
    assert!(work.poll().contains(&v2));
    assert_eq!(work.agent.policy_version(), Some(2));
    assert!(!work.poll().contains(&v2), "installed: no longer queued for it");
    assert!(!byod.poll().contains(&v2), "a work policy is not sent to a personal phone");
    let f = fleet(&w);
    let row = f.devices.iter().find(|d| d.mode == "work").expect("work");
    assert_eq!(row.policy_version, Some(2));
}

#[test]
fn device_signatures_are_domain_separated_from_receipts() {
    // A request signature can never be replayed as a receipt: the signed bytes differ in their
    // third byte from every wire object.
    let k = SigningKey::generate().expect("k");
    let a = DeviceAuth::sign(&k, [1; 8], [2; 4], 1, "POST", "/receipts", b"").expect("a");
    let signed = a.signed_bytes("POST", "/receipts", b"");
    assert_eq!(&signed[..2], b"QL");
    assert_ne!(signed[2], wire::VERSION);
}

#[test]
fn retention_removes_what_is_past_its_time() {
    let w = world_on(Some("retention"), &[]);
    let (mut phone, rec) = enrolled(&w, "work", "p1");
    let c = w.it.command(&w.it.key("alex"), &rec, 1, CommandAction::Ping);
    assert_eq!(w.it.post_text(&w.relay, &w.it.key("alex"), "/admin/commands", &c).status, 201);
    phone.poll();
    let db = w.relay.db.clone();
    let org = w.it.org.clone();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    rt.block_on(async move {
        let db = quietline_relay::db::Db::open(&db, 2).await.expect("db");
        assert_eq!(db.receipts(&org, None).await.expect("r").len(), 1);
        // 100 days later (retention 90): the receipt, the expired command, the silent device go.
        let later = quietline_relay::now() + 100 * 86_400;
        db.prune(later, 90 * 86_400).await.expect("prune");
        assert!(db.receipts(&org, None).await.expect("r").is_empty());
        assert!(db.commands(&org).await.expect("c").is_empty());
        assert!(db.devices(&org).await.expect("d").is_empty());
    });
}

#[test]
fn commands_are_delivered_in_seq_order() {
    // Two laptops queue seq 3 and then seq 2 in the same second: the phone must see 2 first,
    // or it would refuse 2 after applying 3.
    let w = world(&[]);
    let (mut phone, rec) = enrolled(&w, "work", "p1");
    let alex = w.it.key("alex");
    let c3 = w.it.command(&alex, &rec, 3, CommandAction::Ping);
    let c2 = w.it.command(&alex, &rec, 2, CommandAction::Ping);
    assert_eq!(w.it.post_text(&w.relay, &alex, "/admin/commands", &c3).status, 201);
    assert_eq!(w.it.post_text(&w.relay, &alex, "/admin/commands", &c2).status, 201);
    let lines = phone.poll();
    let (i2, i3) = (lines.iter().position(|l| l == &c2), lines.iter().position(|l| l == &c3));
    assert!(i2.is_some() && i2 < i3, "{lines:?}");
    assert_eq!(phone.agent.queued_receipts().len(), 0, "both applied and their receipts delivered");
    assert_eq!(fleet(&w).devices[0].commands.acknowledged, 2);
}

#[test]
fn receipts_authenticate_themselves_and_forged_ones_are_refused() {
    // A wipe's receipt arrives after the device key is gone, so receipts need no Authorization:
    // they must verify under the key of the device they name.
    let w = world(&[]);
    let (mut p1, rec1) = enrolled(&w, "work", "p1");
    let (mut p2, rec2) = enrolled(&w, "work", "p2");
    let alex = w.it.key("alex");
    let ping = w.it.command(&alex, &rec2, 1, CommandAction::Ping);
    let r = p2.agent.apply_command(&ping).expect("apply");
    let receipt = r.receipt.expect("receipt");
    // p2's receipt rewritten to name p1: its signature no longer verifies under p1's key.
    let mut b = wire::from_text(&receipt).expect("decode");
    b[4..12].copy_from_slice(&wire::unhex::<8>(&rec1.device_id).expect("id"));
    b[12..16].copy_from_slice(&wire::unhex::<4>(&rec1.enrollment_id).expect("e"));
    let url = format!("{}/receipts", w.relay.url());
    assert_error(&send("POST", &url, &[], Some(("text/plain", wire::to_text(&b).as_bytes()))), 400, "bad_object");
    // The real one, with no Authorization at all: stored, then idempotent.
    assert_eq!(send("POST", &url, &[], Some(("text/plain", receipt.as_bytes()))).status, 201);
    assert_eq!(send("POST", &url, &[], Some(("text/plain", receipt.as_bytes()))).status, 200);
    // A full wipe through the relay: the receipt is delivered after the agent is erased.
    // The app declares that it can wipe the whole phone (a device owner), as apps must.
    p1.agent.set_platform_caps(quietline_core::PlatformCaps { full_wipe: true, prefix_dialing: true }).expect("caps");
    let wipe = w.it.command(&alex, &rec1, 1, CommandAction::WipeFull);
    assert_eq!(w.it.post_text(&w.relay, &alex, "/admin/commands", &wipe).status, 201);
    let got = p1.fetch();
    let r = p1.agent.apply_command(got.body.lines().find(|l| *l == wipe).expect("wipe queued")).expect("apply");
    assert!(r.wipe.is_some());
    assert!(p1.agent.relay_authorization("POST", "/receipts", b"").is_err(), "no key left to sign a request");
    assert_eq!(send("POST", &url, &[], Some(("text/plain", r.receipt.expect("receipt").as_bytes()))).status, 201);
    let row = fleet(&w).devices.into_iter().find(|d| d.device_id == rec1.device_id).expect("row");
    assert_eq!(row.wiped.as_deref(), Some("full"));
    assert!(!row.unacked_wipe);
    let _ = p2.poll();
}

#[test]
fn a_device_re_enrolled_through_one_relay_is_refused_by_another_that_kept_its_key() {
    let w = world(&[]);
    let (phone, rec) = enrolled(&w, "work", "p1");
    // A second relay process on the same database (PostgreSQL; on SQLite, where a second process
    // is refused, the one process and its own caches); the phone polls through it, so it holds
    // the device key in memory.
    let b = second_relay(&w);
    let queue_b = format!("{}/queue", b.as_ref().unwrap_or(&w.relay).url());
    let poll_b = |p: &Phone| send("GET", &queue_b, &[p.auth("GET", "/queue", b"")], None);
    assert_eq!(poll_b(&phone).status, 200);
    assert_eq!(poll_b(&phone).status, 200);
    // IT re-enrolls the same device id through the first relay: a new enrollment, no key yet.
    let again = reenroll(&w, &rec.device_id);
    // The old key is refused at once by both, though the second relay had it in memory.
    assert_error(&poll_b(&phone), 401, "unauthenticated");
    assert_error(&phone.fetch(), 401, "unauthenticated");
    // The phone enrolled again posts its new key through the first relay; the second reads it.
    let again_phone = Phone::enroll(&w.it.dir.join("p1-again"), &again);
    assert_eq!(again_phone.post_response().status, 201);
    assert_eq!(poll_b(&again_phone).status, 200);
    // A poll replayed to the other relay process is refused: nonces live in the shared database
    // (on SQLite: the same process).
    let h = again_phone.agent.relay_authorization("GET", "/queue", b"").expect("auth");
    assert_eq!(send("GET", &format!("{}/queue", w.relay.url()), &[("Authorization", h.clone())], None).status, 200);
    assert_error(&send("GET", &queue_b, &[("Authorization", h)], None), 401, "unauthenticated");
}

#[test]
fn another_organisation_on_the_same_relay_can_neither_read_nor_queue_for_ours() {
    let tmp = tempfile::tempdir().expect("tmp");
    for d in ["ours", "theirs"] {
        std::fs::create_dir_all(tmp.path().join(d)).expect("dir");
    }
    let ours = It::new(&tmp.path().join("ours"), &unique_org("ours"));
    let theirs = It::new(&tmp.path().join("theirs"), &unique_org("theirs"));
    let relay = Relay::start(
        &db_url(tmp.path()),
        &ours.org,
        &ours.root_pub,
        &["--org", &format!("{}={}", theirs.org, theirs.root_pub)],
    );
    // The other org's URL is the same relay with its own org name.
    let their_relay_url = format!("{}/o/{}", relay.base, theirs.org);
    let (phone, rec) = enrolled_in(&ours, &relay, "work", "p1");
    // Their root and staff keys are strangers to our org: no fleet, no receipts, no queueing.
    for key in [&theirs.root, &theirs.key("alex")] {
        let r = ours.call(&relay, key, "GET", "/admin/fleet", "", "", b"");
        assert_error(&r, 401, "unauthenticated");
        let r = ours.call(&relay, key, "GET", "/admin/receipts", "", "", b"");
        assert_error(&r, 401, "unauthenticated");
        let lock = theirs.command(key, &rec, 1, CommandAction::Lock);
        assert_error(&ours.post_text(&relay, key, "/admin/commands", &lock), 401, "unauthenticated");
    }
    // Their policy (signed by their root) is not queued for our phones.
    let policy = theirs.policy("work", 7, "theirs-policy.ql");
    assert_error(&ours.post_text(&relay, &theirs.root, "/admin/policies", &policy), 401, "unauthenticated");
    let a = StaffAuth::sign(&theirs.root, quietline_relay::now(), &theirs.org, "GET", "/admin/fleet", "", b"")
        .expect("sign");
    let r = send("GET", &format!("{their_relay_url}/admin/fleet"), &[("Authorization", a.header())], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let f: Fleet = serde_json::from_str(&r.body).expect("fleet");
    assert!(f.devices.is_empty(), "their fleet shows none of our phones");
    // Through their own org, with their own keys: our device is unknown there.
    let lock = theirs.command(&theirs.key("alex"), &rec, 1, CommandAction::Lock);
    let a = StaffAuth::sign(
        &theirs.root,
        quietline_relay::now(),
        &theirs.org,
        "POST",
        "/admin/commands",
        "",
        lock.as_bytes(),
    )
    .expect("sign");
    let r = send(
        "POST",
        &format!("{their_relay_url}/admin/commands"),
        &[("Authorization", a.header())],
        Some(("text/plain", lock.as_bytes())),
    );
    assert_error(&r, 404, "not_found");
    // Our phone cannot be read through their org either, and our view grant does not open theirs.
    let h = phone.agent.relay_authorization("GET", "/queue", b"").expect("auth");
    assert_error(
        &send("GET", &format!("{their_relay_url}/queue"), &[("Authorization", h)], None),
        401,
        "unauthenticated",
    );
    let t = quietline_relay::now();
    let g = quietline_core::report::ViewGrant::sign(&ours.key("alex"), &ours.org, t, t + 600).expect("grant");
    let r = send(
        "GET",
        &format!("{their_relay_url}/admin/fleet"),
        &[("Authorization", format!("QL-View {}", g.text()))],
        None,
    );
    assert_error(&r, 401, "unauthenticated");
    // Our own phone still polls through ours.
    assert_eq!(phone.fetch().status, 200);
}

// ---- Poll sessions (docs/relay-protocol.md, "Poll sessions") ----

/// The `Authorization` value for `GET /queue` under `session`, now, with a fresh nonce.
fn session_auth(session: &str) -> (&'static str, String) {
    let h = quietline_core::relay_session_authorization_random(session, "GET", "/queue", b"", quietline_relay::now())
        .expect("session auth");
    ("Authorization", h)
}

/// A poll signed with the device key, which the relay answers with a session.
fn session_of(phone: &Phone) -> String {
    let r = phone.fetch();
    assert_eq!(r.status, 200, "{}", r.body);
    r.session.expect("a device-signed poll's answer carries QL-Session")
}

#[test]
fn a_poll_session_is_issued_by_a_device_signed_poll_and_serves_polls_without_a_new_session() {
    let w = world(&[]);
    let (mut phone, rec) = enrolled(&w, "work", "p1");
    let s = session_of(&phone);
    let parsed = quietline_core::relay_session::RelaySession::parse(&s).expect("well-formed session");
    let t = quietline_relay::now();
    assert!((parsed.expires - (t + 86_400)).abs() <= 5, "lives 24 h");
    let url = format!("{}/queue", w.relay.url());
    // A command queued now is delivered to the session-authenticated poll, with a challenge.
    let c = w.it.command(&w.it.key("alex"), &rec, 1, CommandAction::Ping);
    assert_eq!(w.it.post_text(&w.relay, &w.it.key("alex"), "/admin/commands", &c).status, 201);
    let r = send("GET", &url, &[session_auth(&s)], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(c.trim()), "the queued command is delivered");
    assert!(r.challenge.is_some());
    assert_eq!(r.session, None, "a session-authenticated answer issues no new session");
    // Its challenge is the live one: the phone's check-in answering it is accepted.
    let report = phone.agent.status_report(&r.challenge.expect("challenge")).expect("report");
    assert_eq!(phone.post("/checkin", "text/plain", &report).status, 204);
    // Each device-signed poll gets a new session; both stay usable until they expire.
    let s2 = session_of(&phone);
    assert_ne!(s, s2);
    assert_eq!(send("GET", &url, &[session_auth(&s2)], None).status, 200);
    assert_eq!(send("GET", &url, &[session_auth(&s)], None).status, 200);
}

#[test]
fn forged_session_mac_is_refused() {
    let w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let s = session_of(&phone);
    let url = format!("{}/queue", w.relay.url());
    // The right sid under a wrong key; a tampered MAC; the MAC of another endpoint.
    let (sid, rest) = s.split_once('.').expect("sid");
    let (_, exp) = rest.split_once('.').expect("key");
    let wrong_key = format!("{sid}.{}.{exp}", "ab".repeat(32));
    assert_error(&send("GET", &url, &[session_auth(&wrong_key)], None), 401, "unauthenticated");
    let (_, good) = session_auth(&s);
    let mut tampered = good.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    assert_error(&send("GET", &url, &[("Authorization", tampered)], None), 401, "unauthenticated");
    let other = quietline_core::relay_session_authorization_random(&s, "GET", "/checkin", b"", quietline_relay::now())
        .expect("auth");
    assert_error(&send("GET", &url, &[("Authorization", other)], None), 401, "unauthenticated");
    // Signed an hour ago (outside the clock window), though the session is live.
    let old =
        quietline_core::relay_session_authorization_random(&s, "GET", "/queue", b"", quietline_relay::now() - 3600)
            .expect("auth");
    assert_error(&send("GET", &url, &[("Authorization", old)], None), 401, "unauthenticated");
    // The genuine request still works: the refusals used up nothing.
    assert_eq!(send("GET", &url, &[("Authorization", good)], None).status, 200);
}

#[test]
fn replayed_session_request_is_refused_by_every_relay_process() {
    let w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let s = session_of(&phone);
    let b = second_relay(&w);
    let h = session_auth(&s);
    assert_eq!(send("GET", &format!("{}/queue", w.relay.url()), std::slice::from_ref(&h), None).status, 200);
    assert_error(
        &send("GET", &format!("{}/queue", w.relay.url()), std::slice::from_ref(&h), None),
        401,
        "unauthenticated",
    );
    // The other process reads the session from the shared database, and the shared nonce table
    // refuses the replay there too; a fresh request under the same session is served. (SQLite:
    // a second process is refused, `second_relay`.)
    let Some(b) = b else { return };
    assert_error(&send("GET", &format!("{}/queue", b.url()), &[h], None), 401, "unauthenticated");
    assert_eq!(send("GET", &format!("{}/queue", b.url()), &[session_auth(&s)], None).status, 200);
}

#[test]
fn expired_session_is_refused_and_retention_removes_it() {
    let w = world_on(Some("sessions"), &[]);
    let (phone, rec) = enrolled(&w, "work", "p1");
    let live = session_of(&phone);
    let db_url = w.relay.db.clone();
    let org = w.it.org.clone();
    let t = quietline_relay::now();
    let key_hex = "cd".repeat(32);
    let sid = "0f".repeat(16);
    let row = quietline_relay::db::SessionRow {
        sid: sid.clone(),
        org: org.clone(),
        device_id: rec.device_id.clone(),
        enrollment_id: rec.enrollment_id.clone(),
        device_key: rec.device_key.clone(),
        session_key: key_hex.clone(),
        expires_at: t - 1,
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let db = rt.block_on(quietline_relay::db::Db::open(&db_url, 2)).expect("db");
    rt.block_on(db.insert_session(&row)).expect("insert");
    // The phone would not use it (it is past expiry); signed anyway at an earlier time that is
    // still inside the relay's clock window, the relay refuses it.
    let expired = format!("{sid}.{key_hex}.{}", t + 3600);
    let h = quietline_core::relay_session_authorization_random(&expired, "GET", "/queue", b"", t).expect("auth");
    assert_error(
        &send("GET", &format!("{}/queue", w.relay.url()), &[("Authorization", h)], None),
        401,
        "unauthenticated",
    );
    // Retention: the expired session goes, the live one stays until its own expiry.
    rt.block_on(db.prune(t, 90 * 86_400)).expect("prune");
    assert!(rt.block_on(db.session(&sid)).expect("read").is_none());
    let live_sid = live.split('.').next().expect("sid").to_string();
    if !shared_db(&w) {
        // SQLite: sessions live in the relay process's memory only (its retention sweep drops
        // them at expiry: `auth::tests`); the live one was never written to the file.
        assert!(rt.block_on(db.session(&live_sid)).expect("read").is_none());
        return;
    }
    assert!(rt.block_on(db.session(&live_sid)).expect("read").is_some());
    rt.block_on(db.prune(t + 86_401, 90 * 86_400)).expect("prune");
    assert!(rt.block_on(db.session(&live_sid)).expect("read").is_none());
}

#[test]
fn unknown_sid_is_refused() {
    let w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let s = session_of(&phone);
    let (_, rest) = s.split_once('.').expect("sid");
    let unknown = format!("{}.{rest}", "00".repeat(16));
    assert_error(
        &send("GET", &format!("{}/queue", w.relay.url()), &[session_auth(&unknown)], None),
        401,
        "unauthenticated",
    );
}

#[test]
fn another_devices_session_reads_only_that_device_and_no_other_organisation() {
    let w = world(&[]);
    let (_p1, rec1) = enrolled(&w, "work", "p1");
    let (p2, _) = enrolled(&w, "work", "p2");
    let s2 = session_of(&p2);
    // A command for p1: p2's session cannot fetch it (a session names no device; it is p2's).
    let c = w.it.command(&w.it.key("alex"), &rec1, 1, CommandAction::Ping);
    assert_eq!(w.it.post_text(&w.relay, &w.it.key("alex"), "/admin/commands", &c).status, 201);
    let r = send("GET", &format!("{}/queue", w.relay.url()), &[session_auth(&s2)], None);
    assert_eq!(r.status, 200);
    assert!(!r.body.contains(c.trim()), "p2's session must not read p1's queue");
    // The same session on another organisation's path on this relay: refused.
    let other_org = unique_org("o");
    let other = format!("{}/o/{other_org}/queue", w.relay.base);
    assert!(send("GET", &other, &[session_auth(&s2)], None).status >= 400);
}

#[test]
fn a_session_after_re_enrollment_through_another_relay_process_is_refused() {
    let w = world(&[]);
    let (phone, rec) = enrolled(&w, "work", "p1");
    // PostgreSQL: a second process; SQLite: the one process (a second is refused).
    let b = second_relay(&w);
    let queue_b = format!("{}/queue", b.as_ref().unwrap_or(&w.relay).url());
    // The session is issued by the first process, and the second holds it in memory.
    let s = session_of(&phone);
    assert_eq!(send("GET", &queue_b, &[session_auth(&s)], None).status, 200);
    let again = reenroll(&w, &rec.device_id);
    // Re-enrolled through the first process: the second refuses the session it cached, and so
    // does the first; still refused once the phone enrolled again and posted its new key.
    assert_error(&send("GET", &queue_b, &[session_auth(&s)], None), 401, "unauthenticated");
    assert_error(&send("GET", &format!("{}/queue", w.relay.url()), &[session_auth(&s)], None), 401, "unauthenticated");
    let again_phone = Phone::enroll(&w.it.dir.join("p1-again"), &again);
    assert_eq!(again_phone.post_response().status, 201);
    assert_error(&send("GET", &queue_b, &[session_auth(&s)], None), 401, "unauthenticated");
    // The new enrollment's own session works through either process.
    let s_new = session_of(&again_phone);
    assert_eq!(send("GET", &queue_b, &[session_auth(&s_new)], None).status, 200);
}

#[test]
fn a_session_on_checkin_or_any_other_endpoint_is_refused() {
    let w = world(&[]);
    let (mut phone, _) = enrolled(&w, "work", "p1");
    let r = phone.fetch();
    let s = r.session.expect("session");
    let report = phone.agent.status_report(&r.challenge.expect("challenge")).expect("report");
    let mac_for = |method: &str, endpoint: &str, body: &[u8]| {
        quietline_core::relay_session_authorization_random(&s, method, endpoint, body, quietline_relay::now())
            .expect("auth")
    };
    let checkin = send(
        "POST",
        &format!("{}/checkin", w.relay.url()),
        &[("Authorization", mac_for("POST", "/checkin", report.as_bytes()))],
        Some(("text/plain", report.as_bytes())),
    );
    assert_error(&checkin, 401, "unauthenticated");
    let token = r#"{"platform":"fcm","token":"abc"}"#;
    let push = send(
        "PUT",
        &format!("{}/push-token", w.relay.url()),
        &[("Authorization", mac_for("PUT", "/push-token", token.as_bytes()))],
        Some(("application/json", token.as_bytes())),
    );
    assert_error(&push, 401, "unauthenticated");
    let del = send(
        "DELETE",
        &format!("{}/push-token", w.relay.url()),
        &[("Authorization", mac_for("DELETE", "/push-token", b""))],
        None,
    );
    assert_error(&del, 401, "unauthenticated");
    let fleet_r = send(
        "GET",
        &format!("{}/admin/fleet", w.relay.url()),
        &[("Authorization", mac_for("GET", "/admin/fleet", b""))],
        None,
    );
    assert_error(&fleet_r, 401, "unauthenticated");
    // The device key still checks in with the same report.
    assert_eq!(phone.post("/checkin", "text/plain", &report).status, 204);
}

#[test]
fn the_session_key_never_appears_in_logs_or_the_fleet_view() {
    let tmp = tempfile::tempdir().expect("tmp");
    let it = It::new(tmp.path(), &unique_org("t"));
    let log = tmp.path().join("relay.log");
    let b = Relay::start_logged(&db_url(tmp.path()), &it.org, &it.root_pub, &log);
    let (phone, _) = enrolled_in(&it, &b, "work", "p1");
    let r = send("GET", &format!("{}/queue", b.url()), &[phone.auth("GET", "/queue", b"")], None);
    let s = r.session.expect("session");
    let key = s.split('.').nth(1).expect("key").to_string();
    assert_eq!(key.len(), 64);
    // Bad requests too, which are what a relay would be tempted to log.
    let _ = send("GET", &format!("{}/queue", b.url()), &[("Authorization", format!("QL-Session {key}"))], None);
    assert_eq!(send("GET", &format!("{}/queue", b.url()), &[session_auth(&s)], None).status, 200);
    let f = it.call(&b, &it.key("alex"), "GET", "/admin/fleet", "", "", b"");
    assert_eq!(f.status, 200);
    assert!(!f.body.contains(&key), "the fleet view shows no session key");
    let page = send("GET", &format!("{}/fleet", b.url()), &[], None);
    assert!(!page.body.contains(&key));
    drop(b);
    let logged = std::fs::read_to_string(&log).expect("log");
    assert!(!logged.contains(&key), "the relay's log holds no session key");
}

// ---- Where the poll's state lives (docs/relay.md, "Where state lives") ----

/// Whether `w`'s relay runs on PostgreSQL (several stateless relay processes may share it);
/// on SQLite one relay process owns the file and keeps the poll's hot state in its memory.
fn shared_db(w: &World) -> bool {
    w.relay.db.starts_with("postgres")
}

/// A second relay process on `w`'s database: PostgreSQL only. On SQLite it checks that the
/// second process is refused and returns `None` (the scenario then runs on the one process,
/// whose own caches must give the same answers).
fn second_relay(w: &World) -> Option<Relay> {
    if shared_db(w) {
        return Some(Relay::start(&w.relay.db, &w.it.org, &w.it.root_pub, &[]));
    }
    let why = Relay::start_refused(&w.relay.db, &w.it.org, &w.it.root_pub);
    assert!(why.contains("another relay process"), "{why}");
    None
}

#[test]
fn a_second_relay_process_on_the_same_sqlite_file_is_refused() {
    let mut w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    if shared_db(&w) {
        // PostgreSQL: stateless processes share the database; both serve the phone.
        let b = Relay::start(&w.relay.db, &w.it.org, &w.it.root_pub, &[]);
        let h = phone.auth("GET", "/queue", b"");
        assert_eq!(send("GET", &format!("{}/queue", b.url()), &[h], None).status, 200);
        assert_eq!(phone.fetch().status, 200);
        return;
    }
    let why = Relay::start_refused(&w.relay.db, &w.it.org, &w.it.root_pub);
    assert!(why.contains("another relay process"), "the refusal says why: {why}");
    // The first process still serves; killed with SIGKILL, its lock goes with it and a new
    // process starts on the same file.
    assert_eq!(phone.fetch().status, 200);
    w.relay.kill9_and_restart();
    assert_eq!(phone.fetch().status, 200);
}

#[test]
fn a_session_poll_replayed_after_a_restart_is_refused() {
    let mut w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let s = session_of(&phone);
    let h = session_auth(&s);
    let url = format!("{}/queue", w.relay.url());
    assert_eq!(send("GET", &url, std::slice::from_ref(&h), None).status, 200);
    w.relay.kill9_and_restart();
    // The same request again, inside its clock window, to the restarted relay: refused (its
    // nonce is in the shared table with PostgreSQL; with SQLite the session itself is gone).
    assert_error(&send("GET", &url, &[h], None), 401, "unauthenticated");
    let fresh = send("GET", &url, &[session_auth(&s)], None);
    if shared_db(&w) {
        assert_eq!(fresh.status, 200, "PostgreSQL keeps sessions in the shared database");
    } else {
        // SQLite: a restart ends every session; the phone falls back to its device key and gets
        // a new session (the protocol's rule 3).
        assert_error(&fresh, 401, "unauthenticated");
        let s2 = session_of(&phone);
        assert_ne!(s, s2);
        assert_eq!(send("GET", &url, &[session_auth(&s2)], None).status, 200);
    }
}

#[test]
fn a_device_signed_poll_replayed_after_a_restart_is_refused() {
    let mut w = world(&[]);
    let (phone, _) = enrolled(&w, "work", "p1");
    let h = phone.auth("GET", "/queue", b"");
    let url = format!("{}/queue", w.relay.url());
    assert_eq!(send("GET", &url, std::slice::from_ref(&h), None).status, 200);
    w.relay.kill9_and_restart();
    // A device-signed poll's nonce is committed before its answer, on SQLite too.
    assert_error(&send("GET", &url, &[h], None), 401, "unauthenticated");
    assert_eq!(phone.fetch().status, 200);
}

#[test]
fn a_command_queued_is_delivered_at_the_next_session_poll() {
    let w = world(&[]);
    let (mut phone, rec) = enrolled(&w, "work", "p1");
    // The phone installs the enrollment's policy and checks in: nothing is waiting after that.
    phone.poll();
    let s = session_of(&phone);
    let url = format!("{}/queue", w.relay.url());
    let poll = || {
        let r = send("GET", &url, &[session_auth(&s)], None);
        assert_eq!(r.status, 200, "{}", r.body);
        r
    };
    // Polls with nothing waiting (what the relay may answer from memory).
    for _ in 0..3 {
        assert!(!poll().body.contains("QL:"));
    }
    // A command queued for this phone: the very next session poll carries it.
    let c = w.it.command(&w.it.key("alex"), &rec, 1, CommandAction::Ping);
    assert_eq!(w.it.post_text(&w.relay, &w.it.key("alex"), "/admin/commands", &c).status, 201);
    let r = poll();
    assert!(r.body.contains(c.trim()), "queued command delivered at the next poll");
    // Answered (receipt), it is no longer handed out.
    let res = phone.agent.apply_command(c.trim()).expect("apply");
    for a in &res.actions {
        let _ = phone.agent.ack(a.id, quietline_core::AckResult::Done);
    }
    for rc in phone.agent.queued_receipts() {
        assert_eq!(phone.post("/receipts", "text/plain", &rc).status, 201);
    }
    assert!(!poll().body.contains(c.trim()), "an answered command is not handed out again");
    // A fleet-wide policy renewal: delivered at the next poll too.
    let policy = w.it.policy("work", 2, "policy-work-2.ql");
    assert_eq!(w.it.post_text(&w.relay, &w.it.root, "/admin/policies", &policy).status, 201);
    let r = poll();
    assert!(r.body.contains(policy.trim()), "fleet-wide policy delivered at the next poll");
    // The check-in answering this poll's challenge is accepted, and it reports v2 installed:
    // the policy is then no longer handed out.
    phone.agent.install_signed_policy(policy.trim()).expect("install");
    let report = phone.agent.status_report(&r.challenge.expect("challenge")).expect("report");
    assert_eq!(phone.post("/checkin", "text/plain", &report).status, 204);
    assert!(!poll().body.contains(policy.trim()), "an installed policy is not handed out again");
    // The fleet view shows the session polls as last seen.
    let t = quietline_relay::now();
    let row = fleet(&w).devices.into_iter().find(|d| d.device_id == rec.device_id).expect("row");
    assert!(row.last_seen.is_some_and(|s| (t - s).abs() <= 5), "{:?}", row.last_seen);
}

#[test]
fn a_challenge_is_used_once_and_a_check_in_after_a_restart_needs_a_new_poll() {
    let mut w = world(&[]);
    let (mut phone, _) = enrolled(&w, "work", "p1");
    let c = phone.fetch().challenge.expect("challenge");
    let report = phone.agent.status_report(&c).expect("report");
    assert_eq!(phone.post("/checkin", "text/plain", &report).status, 204);
    // The same challenge again (a new report, new nonce): used up.
    let again = phone.agent.status_report(&c).expect("report");
    assert_error(&phone.post("/checkin", "text/plain", &again), 409, "stale_challenge");
    // A challenge from before a restart.
    let r = phone.fetch();
    let before = phone.agent.status_report(&r.challenge.expect("challenge")).expect("report");
    w.relay.kill9_and_restart();
    let after_restart = phone.post("/checkin", "text/plain", &before);
    if shared_db(&w) {
        assert_eq!(after_restart.status, 204, "PostgreSQL keeps challenges in the database");
    } else {
        // SQLite keeps challenges in memory: the phone polls again and checks in.
        assert_error(&after_restart, 409, "stale_challenge");
        let r = phone.fetch();
        let report = phone.agent.status_report(&r.challenge.expect("challenge")).expect("report");
        assert_eq!(phone.post("/checkin", "text/plain", &report).status, 204);
    }
}
