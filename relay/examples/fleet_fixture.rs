//! A small fleet for the browser test (scripts/test.d/70-relay.sh): real phones (the core
//! agent) in the states the fleet page must highlight, through a running relay.
//!
//! `fleet_fixture keys DIR` makes the org's keys and prints the root public key;
//! `fleet_fixture populate DIR URL DB` enrolls the phones and prints a view link.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use quietline_core::wire::CommandAction;
use quietline_core::Event;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("keys") => {
            let it = It::new(Path::new(&args[2]), "demo");
            println!("{}", it.root_pub);
        }
        Some("populate") => populate(Path::new(&args[2]), &args[3], &args[4]),
        _ => {
            eprintln!("usage: fleet_fixture keys DIR | populate DIR URL DB");
            std::process::exit(2);
        }
    }
}

fn phone(it: &It, relay_url: &str, mode: &str, name: &str, healthy: bool) -> (Phone, quietline_admin::DeviceRecord) {
    let bundle = it.bundle(mode, relay_url, &format!("{name}.bundle"));
    let r = post(it, relay_url, "/admin/enrollments", "text/plain", bundle.as_bytes());
    assert_eq!(r.status, 201, "{}", r.body);
    let mut p = Phone::enroll(&it.dir.join(name), &bundle);
    assert_eq!(p.post_response().status, 201);
    std::fs::write(it.p(&format!("{name}.response")), &p.response).expect("write");
    let (resp, bundle_file) = (it.p(&format!("{name}.response")), it.p(&format!("{name}.bundle")));
    admin(&["enroll", "accept", &resp, "--bundle", &bundle_file, "--out", &it.p(&format!("{name}.json"))]);
    let rec: quietline_admin::DeviceRecord =
        serde_json::from_str(&std::fs::read_to_string(it.p(&format!("{name}.json"))).expect("r")).expect("json");
    let body = serde_json::to_vec(&rec).expect("json");
    assert_eq!(post(it, relay_url, "/admin/devices", "application/json", &body).status, 204);
    p.agent
        .handle(Event::Posture {
            lock_timeout_secs: Some(30),
            secure_lock: Some(healthy),
            caller_id_hidden: Some(true),
        })
        .expect("posture");
    p.poll();
    (p, rec)
}

fn post(it: &It, relay_url: &str, endpoint: &str, ct: &str, body: &[u8]) -> Resp {
    let ts = quietline_relay::now();
    let a = quietline_core::report::StaffAuth::sign(&it.root, ts, &it.org, "POST", endpoint, "", body).expect("sign");
    send("POST", &format!("{relay_url}{endpoint}"), &[("Authorization", a.header())], Some((ct, body)))
}

fn populate(dir: &Path, base: &str, db: &str) {
    let root = quietline_admin::files::read_private_key(&dir.join("keys/root.key")).expect("root");
    let root_pub = std::fs::read_to_string(dir.join("keys/root.pub")).expect("pub").trim().to_string();
    let it = It { dir: dir.to_path_buf(), org: "demo".into(), root, root_pub };
    let url = format!("{base}/o/demo");
    phone(&it, &url, "work", "healthy", true);
    phone(&it, &url, "byod", "no-lock", false);
    let (_, rec) = phone(&it, &url, "work", "lost", true);
    let wipe = it.command(&it.key("alex"), &rec, 1, CommandAction::WipeFull);
    let a = quietline_core::report::StaffAuth::sign(
        &it.key("alex"),
        quietline_relay::now(),
        "demo",
        "POST",
        "/admin/commands",
        "",
        wipe.as_bytes(),
    )
    .expect("sign");
    let r = send(
        "POST",
        &format!("{url}/admin/commands"),
        &[("Authorization", a.header())],
        Some(("text/plain", wipe.as_bytes())),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let (silent, _) = phone(&it, &url, "work", "silent", true);
    // Five days of silence, without waiting five days: the check-in is moved back in the database.
    let id = silent.agent.device_id().expect("id");
    let db = db.to_string();
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(async move {
        let d = quietline_relay::db::Db::open(&db, 1).await.expect("db");
        sqlx::query("UPDATE devices SET last_checkin = last_checkin - 432000 WHERE device_id = $1")
            .bind(id)
            .execute(&d.pool)
            .await
            .expect("backdate");
    });
    // Announced, never enrolled.
    let bundle = it.bundle("work", &url, "new.bundle");
    assert_eq!(post(&it, &url, "/admin/enrollments", "text/plain", bundle.as_bytes()).status, 201);
    let link = admin(&["fleet", "link", "--relay", &url, "--key", &it.p("keys/alex.key"), "--minutes", "15"]);
    println!("{}", link.lines().next().expect("link"));
}
