//! The relay under test (the built binary, on loopback, with SQLite or the PostgreSQL of
//! `QL_RELAY_TEST_PG`), a phone (the real core agent) and IT (keys and signing as the admin CLI
//! does them).
#![allow(dead_code)]

use quietline_core::report::StaffAuth;
use quietline_core::trust::SigningKey;
use quietline_core::{Agent, AgentConfig, FileKeyProtector, SystemClock};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

pub fn admin(args: &[&str]) -> String {
    let mut out = Vec::new();
    let mut a = vec!["quietline-admin".to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    quietline_admin::run(a, &mut out).unwrap_or_else(|e| panic!("admin {args:?}: {e}"));
    String::from_utf8(out).expect("utf8")
}

pub fn admin_err(args: &[&str]) -> String {
    let mut out = Vec::new();
    let mut a = vec!["quietline-admin".to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    match quietline_admin::run(a, &mut out) {
        Ok(()) => panic!("admin {args:?} should fail"),
        Err(e) => e.to_string(),
    }
}

/// The database for this run: SQLite in the test's directory, or PostgreSQL when the test
/// script exports QL_RELAY_TEST_PG.
pub fn db_url(dir: &Path) -> String {
    match std::env::var("QL_RELAY_TEST_PG") {
        Ok(u) if !u.is_empty() => u,
        _ => format!("sqlite:{}", dir.join("relay.db").display()),
    }
}

pub fn unique_org(prefix: &str) -> String {
    let mut b = [0u8; 4];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).expect("random");
    format!("{prefix}-{}", quietline_core::wire::hex(&b))
}

pub struct Relay {
    pub child: Child,
    pub base: String,
    pub org: String,
    pub db: String,
    pub root_pub: String,
    extra: Vec<String>,
}

impl Relay {
    pub fn start(db: &str, org: &str, root_pub_hex: &str, extra: &[&str]) -> Relay {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        Self::spawn(db, org, root_pub_hex, extra, "127.0.0.1:0", None)
    }

    /// Starts a relay that must refuse to start (within 10 s); returns what it said on standard
    /// error.
    pub fn start_refused(db: &str, org: &str, root_pub_hex: &str) -> String {
        let bin = option_env!("CARGO_BIN_EXE_quietline-relay").unwrap_or("quietline-relay");
        let mut child = Command::new(bin)
            .args(["--db", db, "--listen", "127.0.0.1:0", "--org", &format!("{org}={root_pub_hex}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start relay");
        for _ in 0..200 {
            if let Some(status) = child.try_wait().expect("wait") {
                assert!(!status.success(), "the refused relay exited with success");
                let mut err = String::new();
                child.stderr.take().expect("stderr").read_to_string(&mut err).expect("read");
                return err;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("a relay process that should have been refused started");
    }

    /// As `start`, with the relay's standard error written to `log`.
    pub fn start_logged(db: &str, org: &str, root_pub_hex: &str, log: &Path) -> Relay {
        Self::spawn(db, org, root_pub_hex, Vec::new(), "127.0.0.1:0", Some(log))
    }

    fn spawn(db: &str, org: &str, root: &str, extra: Vec<String>, listen: &str, log: Option<&Path>) -> Relay {
        let stderr = match log {
            Some(p) => Stdio::from(std::fs::File::create(p).expect("log file")),
            None => Stdio::inherit(),
        };
        // Set for tests; the fleet fixture example (which never starts a relay) has no binary.
        let bin = option_env!("CARGO_BIN_EXE_quietline-relay").unwrap_or("quietline-relay");
        let mut child = Command::new(bin)
            .args(["--db", db, "--listen", listen, "--org", &format!("{org}={root}")])
            .args(&extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start relay");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read");
        let base = line.trim().rsplit(' ').next().expect("url").to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "relay said {line:?}");
        Relay { child, base, org: org.to_string(), db: db.to_string(), root_pub: root.to_string(), extra }
    }

    /// The org's base URL, as a bundle's relay_url.
    pub fn url(&self) -> String {
        format!("{}/o/{}", self.base, self.org)
    }

    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    /// kill -9, then start again on the same database and port.
    pub fn kill9_and_restart(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
        let addr = self.addr();
        let extra = self.extra.clone();
        let mut tries = 0;
        loop {
            // The port may linger for a moment after the kill.
            let r = std::panic::catch_unwind(|| {
                Relay::spawn(&self.db, &self.org, &self.root_pub, extra.clone(), &addr, None)
            });
            match r {
                Ok(n) => {
                    *self = n;
                    return;
                }
                Err(_) if tries < 20 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                Err(e) => std::panic::resume_unwind(e),
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Resp {
    pub status: u16,
    pub body: String,
    pub challenge: Option<String>,
    /// The `QL-Session` response header (a poll session), if any.
    pub session: Option<String>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

pub fn send(method: &str, url: &str, headers: &[(&str, String)], body: Option<(&str, &[u8])>) -> Resp {
    let a = agent();
    let mut r = match (method, body) {
        ("GET", _) => {
            let mut b = a.get(url);
            for (k, v) in headers {
                b = b.header(*k, v);
            }
            b.call()
        }
        ("DELETE", _) => {
            let mut b = a.delete(url);
            for (k, v) in headers {
                b = b.header(*k, v);
            }
            b.call()
        }
        (m, body) => {
            let mut b = if m == "PUT" { a.put(url) } else { a.post(url) };
            for (k, v) in headers {
                b = b.header(*k, v);
            }
            let (ct, bytes) = body.unwrap_or(("text/plain", b""));
            b.header("Content-Type", ct).send(bytes)
        }
    }
    .expect("request");
    let status = r.status().as_u16();
    let challenge = r.headers().get("ql-challenge").and_then(|v| v.to_str().ok()).map(str::to_string);
    let session = r.headers().get("ql-session").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = r.body_mut().read_to_string().unwrap_or_default();
    Resp { status, body, challenge, session }
}

/// IT: the org's keys and the CLI's files.
pub struct It {
    pub dir: PathBuf,
    pub org: String,
    pub root: SigningKey,
    pub root_pub: String,
}

impl It {
    pub fn new(dir: &Path, org: &str) -> It {
        let keys = dir.join("keys");
        admin(&["keygen", "--out", keys.to_str().expect("p"), "--name", "root"]);
        admin(&["keygen", "--out", keys.to_str().expect("p"), "--name", "alex"]);
        admin(&["keygen", "--out", keys.to_str().expect("p"), "--name", "sam"]);
        let root = quietline_admin::files::read_private_key(&keys.join("root.key")).expect("root");
        let root_pub = std::fs::read_to_string(keys.join("root.pub")).expect("pub").trim().to_string();
        It { dir: dir.to_path_buf(), org: org.to_string(), root, root_pub }
    }

    pub fn p(&self, rel: &str) -> String {
        self.dir.join(rel).display().to_string()
    }

    pub fn key(&self, name: &str) -> SigningKey {
        quietline_admin::files::read_private_key(&self.dir.join("keys").join(format!("{name}.key"))).expect("key")
    }

    /// Signs a policy: alex may lock and wipe, sam may only lock.
    pub fn policy(&self, mode: &str, version: u32, out: &str) -> String {
        let rules = self.p(&format!("rules-{mode}.json"));
        std::fs::write(&rules, format!(r#"{{"schema":1,"mode":"{mode}"}}"#)).expect("rules");
        admin(&[
            "policy",
            "sign",
            "--rules",
            &rules,
            "--org",
            &self.org,
            "--version",
            &version.to_string(),
            "--expires-in-days",
            "30",
            "--staff",
            &format!("alex={}=lock,wipe_selective,wipe_full,ping,update_policy", self.p("keys/alex.pub")),
            "--staff",
            &format!("sam={}=lock", self.p("keys/sam.pub")),
            "--key",
            &self.p("keys/root.key"),
            "--out",
            &self.p(out),
        ]);
        std::fs::read_to_string(self.p(out)).expect("policy").trim().to_string()
    }

    pub fn bundle(&self, mode: &str, relay_url: &str, out: &str) -> String {
        let policy = format!("policy-{mode}.ql");
        self.policy(mode, 1, &policy);
        admin(&[
            "enroll",
            "--org",
            &self.org,
            "--root-pub",
            &self.p("keys/root.pub"),
            "--mode",
            mode,
            "--policy",
            &self.p(&policy),
            "--relay-url",
            relay_url,
            "--out",
            &self.p(out),
        ]);
        std::fs::read_to_string(self.p(out)).expect("bundle").trim().to_string()
    }

    /// A staff-signed request.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &self,
        relay: &Relay,
        key: &SigningKey,
        method: &str,
        endpoint: &str,
        query: &str,
        ct: &str,
        body: &[u8],
    ) -> Resp {
        let ts = quietline_relay::now();
        let a = StaffAuth::sign(key, ts, &self.org, method, endpoint, query, body).expect("sign");
        let url = if query.is_empty() {
            format!("{}{endpoint}", relay.url())
        } else {
            format!("{}{endpoint}?{query}", relay.url())
        };
        send(method, &url, &[("Authorization", a.header())], if method == "GET" { None } else { Some((ct, body)) })
    }

    pub fn post_text(&self, relay: &Relay, key: &SigningKey, endpoint: &str, text: &str) -> Resp {
        self.call(relay, key, "POST", endpoint, "", "text/plain", text.as_bytes())
    }

    /// Signs a command as `command …` would (for device record `dev`).
    pub fn command(
        &self,
        key: &SigningKey,
        dev: &quietline_admin::DeviceRecord,
        seq: u32,
        action: quietline_core::wire::CommandAction,
    ) -> String {
        let now = u32::try_from(quietline_relay::now()).expect("time");
        let d = quietline_core::wire::unhex::<8>(&dev.device_id).expect("d");
        let e = quietline_core::wire::unhex::<4>(&dev.enrollment_id).expect("e");
        let c = quietline_admin::sign_command(d, e, seq, now - 5, now + 3600, action, key);
        quietline_core::wire::to_text(&c.to_bytes())
    }
}

/// A phone: the real agent, enrolled from IT's bundle.
pub struct Phone {
    pub agent: Agent,
    pub response: String,
    pub relay: String,
}

impl Phone {
    pub fn enroll(dir: &Path, bundle: &str) -> Phone {
        let p = Arc::new(FileKeyProtector::new(dir.join("kek")));
        let (mut agent, response) = Agent::enroll(
            AgentConfig::new(dir.join("state"), "US"),
            p,
            Arc::new(SystemClock::new(0).expect("clock")),
            bundle,
        )
        .expect("enroll");
        // The app declares its platform's capabilities before any command is accepted.
        agent.set_platform_caps(quietline_core::PlatformCaps { full_wipe: false, prefix_dialing: true }).expect("caps");
        let relay = agent.relay_url().expect("relay url");
        Phone { agent, response, relay }
    }

    pub fn auth(&self, method: &str, endpoint: &str, body: &[u8]) -> (&'static str, String) {
        ("Authorization", self.agent.relay_authorization(method, endpoint, body).expect("auth"))
    }

    pub fn post_response(&self) -> Resp {
        send("POST", &format!("{}/enrollments", self.relay), &[], Some(("text/plain", self.response.as_bytes())))
    }

    pub fn fetch(&self) -> Resp {
        send("GET", &format!("{}/queue", self.relay), &[self.auth("GET", "/queue", b"")], None)
    }

    pub fn post(&self, endpoint: &str, ct: &str, body: &str) -> Resp {
        send(
            "POST",
            &format!("{}{endpoint}", self.relay),
            &[self.auth("POST", endpoint, body.as_bytes())],
            Some((ct, body.as_bytes())),
        )
    }

    /// One poll as the apps do it: fetch, apply, deliver receipts, check in.
    pub fn poll(&mut self) -> Vec<String> {
        let r = self.fetch();
        assert_eq!(r.status, 200, "{}", r.body);
        let lines: Vec<String> = r.body.lines().filter(|l| l.starts_with("QL:")).map(str::to_string).collect();
        for l in &lines {
            let applied = self.agent.apply_command(l);
            if let Ok(res) = applied {
                for a in &res.actions {
                    let _ = self.agent.ack(a.id, quietline_core::AckResult::Done);
                }
            } else if self.agent.install_signed_policy(l).is_ok() || self.agent.apply_root_rotation(l).is_ok() {
            }
        }
        for rc in self.agent.queued_receipts() {
            let s = self.post("/receipts", "text/plain", &rc);
            if s.status == 201 || s.status == 200 {
                self.agent.receipt_delivered(&rc).expect("delivered");
            }
        }
        let report = self.agent.status_report(&r.challenge.expect("challenge")).expect("report");
        let c = self.post("/checkin", "text/plain", &report);
        assert_eq!(c.status, 204, "{}", c.body);
        lines
    }
}

/// Raw HTTP/1.1 on a socket: for requests a client library would not send.
pub fn raw(addr: &str, request: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("timeout");
    s.write_all(request).expect("write");
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}
