//! Load generator for scripts/relay-bench.sh: N simulated devices polling `GET /queue` with
//! device-signed requests over keep-alive HTTP/1.1 on loopback, bounded in count and time.
//!
//! `loadgen setup DB ORG N KEYS` writes N enrolled devices straight into the relay's database
//! (the setup is not what is measured) and their keys to KEYS.
//! `loadgen run URL ORG KEYS REQUESTS CONCURRENCY SECONDS [static]` signs every request before
//! the clock starts (a nonce per request, as phones do), then sends them and prints throughput
//! and latency percentiles as JSON. With `static`, the same requests (same headers) go to
//! `URL/static/<device>.txt`: the nginx reference. With `session`, each device first polls once
//! with `QL-Device` (untimed) and keeps the `QL-Session` the relay answers with; the timed
//! requests are then authenticated by the session (`Authorization: QL-Session …`, one HMAC),
//! which is the steady state the phones see (docs/relay-protocol.md, "Poll sessions").

use quietline_core::report::DeviceAuth;
use quietline_core::trust::SigningKey;
use quietline_core::wire;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("setup") => setup(&a[2], &a[3], a[4].parse().expect("N"), &a[5]),
        Some("run") => run(
            &a[2],
            &a[3],
            &a[4],
            a[5].parse().expect("requests"),
            a[6].parse().expect("concurrency"),
            a[7].parse().expect("seconds"),
            a.get(8).is_some_and(|s| s == "static"),
            a.get(8).is_some_and(|s| s == "session"),
        ),
        _ => {
            eprintln!(
                "usage: loadgen setup DB ORG N KEYS | run URL ORG KEYS REQUESTS CONCURRENCY SECONDS [static|session]"
            );
            std::process::exit(2);
        }
    }
}

fn setup(db: &str, org: &str, n: usize, keys: &str) {
    let mut lines = String::new();
    let mut devices = Vec::new();
    for i in 0..n {
        let k = SigningKey::generate().expect("key");
        let d = (i as u64 + 1).to_be_bytes();
        let e = [0xee, 0, 0, 1];
        lines.push_str(&format!("{} {} {}\n", wire::hex(&d), wire::hex(&e), wire::hex(k.pkcs8())));
        devices.push((wire::hex(&d), wire::hex(&e), wire::hex(&k.public_key())));
    }
    std::fs::write(keys, lines).expect("keys");
    let (db, org) = (db.to_string(), org.to_string());
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(async move {
        let d = quietline_relay::db::Db::open(&db, 2).await.expect("db");
        let now = quietline_relay::now();
        for (id, e, k) in devices {
            d.announce(&org, &id, &e, "work", now).await.expect("announce");
            d.accept_key(&org, &id, &e, &k, now).await.expect("accept");
        }
    });
}

#[allow(clippy::too_many_arguments)]
fn run(url: &str, org: &str, keys: &str, requests: usize, conc: usize, secs: u64, stat: bool, session: bool) {
    let devs: Vec<([u8; 8], [u8; 4], SigningKey)> = std::fs::read_to_string(keys)
        .expect("keys")
        .lines()
        .map(|l| {
            let p: Vec<&str> = l.split(' ').collect();
            let pk: Vec<u8> =
                (0..p[2].len() / 2).map(|i| u8::from_str_radix(&p[2][2 * i..2 * i + 2], 16).expect("hex")).collect();
            (
                wire::unhex::<8>(p[0]).expect("d"),
                wire::unhex::<4>(p[1]).expect("e"),
                SigningKey::from_pkcs8(&pk).expect("k"),
            )
        })
        .collect();
    let host = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    // Every request signed before the clock starts, so the measurement is the server's.
    let now = quietline_relay::now();
    // Session mode: one untimed device-signed poll per device obtains its session.
    // With LOADGEN_SESSIONS=FILE, sessions are kept in FILE and reused by the next run (the
    // callgrind count then covers session polls only).
    let keep = std::env::var("LOADGEN_SESSIONS").ok().filter(|p| !p.is_empty());
    let kept: Option<Vec<String>> =
        keep.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).map(|t| t.lines().map(str::to_string).collect());
    let sessions: Vec<String> = match kept {
        Some(k) if session && k.len() == devs.len() => k,
        _ if session => {
            let s: Vec<String> = devs
                .iter()
                .map(|(d, e, k)| {
                    let auth = DeviceAuth::sign(k, *d, *e, now, "GET", "/queue", b"").expect("sign").header();
                    first_session(&host, org, &auth)
                })
                .collect();
            if let Some(p) = &keep {
                std::fs::write(p, s.join("\n")).expect("sessions file");
            }
            s
        }
        _ => Vec::new(),
    };
    let reqs: Vec<String> = (0..requests)
        .map(|i| {
            let (d, e, k) = &devs[i % devs.len()];
            let auth = if session {
                quietline_core::relay_session_authorization_random(&sessions[i % devs.len()], "GET", "/queue", b"", now)
                    .expect("session auth")
            } else {
                DeviceAuth::sign(k, *d, *e, now, "GET", "/queue", b"").expect("sign").header()
            };
            let path = if stat { format!("/static/{}.txt", wire::hex(d)) } else { format!("/o/{org}/queue") };
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n\r\n")
        })
        .collect();
    let per = requests.div_ceil(conc);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let handles: Vec<_> = reqs
        .chunks(per)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            let host = host.clone();
            std::thread::spawn(move || worker(&host, &chunk, deadline))
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0usize;
    let mut non200 = 0usize;
    for h in handles {
        let (l, e, n) = h.join().expect("worker");
        lat.extend(l);
        errors += e;
        non200 += n;
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let pct = |p: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0
        }
    };
    println!(
        "{{\"target\":\"{}\",\"requests\":{},\"ok\":{},\"non_200\":{},\"errors\":{},\"seconds\":{:.3},\"per_second\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
        if stat {
            "static"
        } else if session {
            "relay-session"
        } else {
            "relay"
        },
        requests,
        lat.len() - non200.min(lat.len()),
        non200,
        errors,
        elapsed,
        lat.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
}

/// One device-signed poll; the `QL-Session` the relay answers with.
fn first_session(host: &str, org: &str, auth: &str) -> String {
    let mut c = BufReader::new(TcpStream::connect(host).expect("connect"));
    let req =
        format!("GET /o/{org}/queue HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n");
    c.get_mut().write_all(req.as_bytes()).expect("write");
    let mut session = None;
    loop {
        let mut h = String::new();
        if c.read_line(&mut h).expect("read") == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("ql-session") {
                session = Some(v.trim().to_string());
            }
        }
    }
    session.expect("the relay answered a device-signed poll with QL-Session")
}

/// Sends `reqs` one after another on one keep-alive connection; returns latencies (µs), I/O
/// errors and non-200 answers.
fn worker(host: &str, reqs: &[String], deadline: Instant) -> (Vec<u64>, usize, usize) {
    let mut lat = Vec::with_capacity(reqs.len());
    let (mut errors, mut non200) = (0, 0);
    let mut conn: Option<BufReader<TcpStream>> = None;
    for r in reqs {
        if Instant::now() > deadline {
            break;
        }
        let t = Instant::now();
        if conn.is_none() {
            match TcpStream::connect(host) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    conn = Some(BufReader::new(s));
                }
                Err(_) => {
                    errors += 1;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        match exchange(c, r) {
            Ok(status) => {
                lat.push(t.elapsed().as_micros() as u64);
                if status != 200 {
                    non200 += 1;
                }
            }
            Err(_) => {
                errors += 1;
                conn = None;
            }
        }
    }
    (lat, errors, non200)
}

fn exchange(c: &mut BufReader<TcpStream>, req: &str) -> std::io::Result<u16> {
    c.get_mut().write_all(req.as_bytes())?;
    let mut line = String::new();
    c.read_line(&mut line)?;
    let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if c.read_line(&mut h)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len];
    c.read_exact(&mut body)?;
    Ok(status)
}
