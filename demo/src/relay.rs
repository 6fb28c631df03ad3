//! The relay in the demo: the real `quietline-relay` served on loopback (SQLite in the demo's
//! directory), and the phone side of its protocol as the apps speak it
//! (docs/relay-protocol.md): post the enrollment response, fetch the queue, hand every object
//! to the agent, deliver receipts, check in with a device-signed status report.

use crate::{say, Phone, Res};
use std::io::Read;
use std::path::Path;

/// Starts the relay on 127.0.0.1 (a free port) for org `org` with its root key; returns its
/// base URL. It runs until the demo exits.
pub fn start(dir: &Path, org: &str, root_pub_hex: &str) -> Res<String> {
    let key = quietline_core::wire::unhex::<32>(root_pub_hex.trim()).ok_or("bad root key")?;
    let cfg = quietline_relay::Config { orgs: vec![(org.to_string(), key)], ..Default::default() };
    let db = format!("sqlite:{}", dir.join("relay.db").display());
    let (tx, rx) = std::sync::mpsc::channel::<Result<String, String>>();
    std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => return drop(tx.send(Err(e.to_string()))),
        };
        rt.block_on(async move {
            let st = match quietline_relay::state(&db, cfg).await {
                Ok(s) => s,
                Err(e) => return drop(tx.send(Err(e.to_string()))),
            };
            let tcp = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                Ok(t) => t,
                Err(e) => return drop(tx.send(Err(e.to_string()))),
            };
            let addr = tcp.local_addr().map(|a| a.to_string()).unwrap_or_default();
            let _ = tx.send(Ok(format!("http://{addr}")));
            let _ = quietline_relay::serve_plain(tcp, st).await;
        });
    });
    Ok(rx.recv()??)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// (status, body, challenge header)
fn send(method: &str, url: &str, auth: Option<String>, body: &[u8]) -> Res<(u16, String, Option<String>)> {
    let a = agent();
    let mut r = if method == "GET" {
        let mut b = a.get(url);
        if let Some(h) = auth {
            b = b.header("Authorization", h);
        }
        b.call()?
    } else {
        let mut b = a.post(url).header("Content-Type", "text/plain");
        if let Some(h) = auth {
            b = b.header("Authorization", h);
        }
        b.send(body)?
    };
    let status = r.status().as_u16();
    let challenge = r.headers().get("ql-challenge").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut text = String::new();
    r.body_mut().as_reader().take(1 << 20).read_to_string(&mut text)?;
    Ok((status, text, challenge))
}

/// The phone posts its enrollment response.
pub fn post_response(ph: &Phone, relay_url: &str, response: &str) -> Res<()> {
    let (s, _, _) = send("POST", &format!("{relay_url}/enrollments"), None, response.as_bytes())?;
    say(ph.name, &format!("POST /enrollments (the enrollment response): {s}"));
    if s != 201 && s != 200 {
        return Err(format!("the relay refused the enrollment response ({s})").into());
    }
    Ok(())
}

/// Delivers one receipt (self-authenticating: it works after a wipe, too).
pub fn post_receipt(who: &str, relay_url: &str, receipt: &str) -> Res<()> {
    let (s, body, _) = send("POST", &format!("{relay_url}/receipts"), None, receipt.as_bytes())?;
    say(who, &format!("POST /receipts: {s}"));
    if s != 201 && s != 200 {
        return Err(format!("the relay refused a receipt ({s} {body})").into());
    }
    Ok(())
}

/// One poll as the apps do it. Returns what a wipe left (scope and receipt), if one came.
pub fn poll(ph: &mut Phone, relay_url: &str) -> Res<Option<(quietline_core::WipeScope, String)>> {
    let auth = ph.agent.relay_authorization("GET", "/queue", b"")?;
    let (s, body, challenge) = send("GET", &format!("{relay_url}/queue"), Some(auth), b"")?;
    if s != 200 {
        return Err(format!("GET /queue answered {s}").into());
    }
    let lines: Vec<&str> = body.lines().filter(|l| l.starts_with("QL:")).collect();
    say(ph.name, &format!("GET /queue (signed with the device key): {} object(s)", lines.len()));
    for l in lines {
        if let Ok(r) = ph.agent.apply_command(l) {
            say(ph.name, &format!("  command {:?} verified by the phone: {:?}", r.requested, r.status));
            if let Some(scope) = r.wipe {
                let receipt = r.receipt.ok_or("a wipe without a receipt")?;
                return Ok(Some((scope, receipt)));
            }
            let actions = r.actions.clone();
            ph.os.run_actions(ph.name, &mut ph.agent, &actions)?;
        } else if let Ok(actions) = ph.agent.install_signed_policy(l) {
            say(
                ph.name,
                &format!("  policy verified and installed: version {}", ph.agent.policy_version().unwrap_or(0)),
            );
            ph.os.run_actions(ph.name, &mut ph.agent, &actions)?;
        } else {
            say(ph.name, "  an object the phone does not accept: ignored");
        }
    }
    for receipt in ph.agent.queued_receipts() {
        post_receipt(ph.name, relay_url, &receipt)?;
        ph.agent.receipt_delivered(&receipt)?;
    }
    let report = ph.agent.status_report(&challenge.ok_or("no challenge")?)?;
    let auth = ph.agent.relay_authorization("POST", "/checkin", report.as_bytes())?;
    let (s, _, _) = send("POST", &format!("{relay_url}/checkin"), Some(auth), report.as_bytes())?;
    say(ph.name, &format!("POST /checkin (device-signed status report, no survivor data): {s}"));
    if s != 204 {
        return Err(format!("check-in answered {s}").into());
    }
    Ok(None)
}
