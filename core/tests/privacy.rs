//! The privacy invariant: a survivor's number is never written anywhere in plaintext. After a
//! realistic session (registration, calls, texts, ticks, failed and done acks, a restart), no
//! byte under the state directory, in the audit export or in the Debug output of what the core
//! hands back contains the number in any common format.

use chrono::{DateTime, Duration, Utc};
use quietline_core::{
    AckResult, Agent, AgentConfig, CallDirection, ContactPlan, DroppedCall, Event, FileKeyProtector, FixedClock, Line,
    MessageLevel, Policy,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const NUMBER: &str = "+1 207-555-0100";

/// The number as people and programs write it.
fn needles() -> Vec<Vec<u8>> {
    let ascii = [
        "2075550100",
        "207-555-0100",
        "(207) 555-0100",
        "(207)555-0100",
        "207 555 0100",
        "207.555.0100",
        "+12075550100",
        "12075550100",
        "+1 207-555-0100",
        "555-0100",
        "5550100",
        "207/555",
        "555/0100",
        "207_555",
        "\u{ff12}\u{ff10}\u{ff17}\u{ff15}\u{ff15}\u{ff15}",
    ];
    let mut out: Vec<Vec<u8>> = ascii.iter().map(|s| s.as_bytes().to_vec()).collect();
    for s in ["2075550100", "+12075550100", "207-555-0100"] {
        out.push(s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect());
        out.push(s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect());
    }
    out
}

/// Every needle found in `hay`, with where it was found.
fn scan(label: &str, hay: &[u8], hits: &mut Vec<String>) {
    for n in needles() {
        if let Some(pos) = hay.windows(n.len()).position(|w| w == n.as_slice()) {
            hits.push(format!("{label}: {:?} at byte {pos}", String::from_utf8_lossy(&n)));
        }
    }
}

fn scan_dir(dir: &Path, hits: &mut Vec<String>) -> usize {
    let mut files = 0;
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files += scan_dir(&path, hits);
        } else {
            let bytes = std::fs::read(&path).expect("read file");
            scan(&path.display().to_string(), &bytes, hits);
            files += 1;
        }
    }
    files
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("rfc3339").with_timezone(&Utc)
}

struct TempDir(PathBuf);
impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ql-privacy-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        Self(dir)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_scanner_finds_a_number_that_was_written() {
    let tmp = TempDir::new("control");
    std::fs::create_dir_all(tmp.0.join("nested")).expect("mkdir");
    std::fs::write(tmp.0.join("a.txt"), b"nothing here: 207 555 01 00").expect("write");
    let mut hits = Vec::new();
    assert_eq!(scan_dir(&tmp.0, &mut hits), 1);
    assert!(hits.is_empty(), "{hits:?}");
    for (i, written) in [
        b"call (207) 555-0100 later".to_vec(),
        b"{\"n\":\"+12075550100\"}".to_vec(),
        "2075550100".encode_utf16().flat_map(|u| u.to_le_bytes()).collect(),
    ]
    .into_iter()
    .enumerate()
    {
        let mut hits = Vec::new();
        std::fs::write(tmp.0.join("nested").join(format!("{i}.bin")), &written).expect("write");
        scan_dir(&tmp.0, &mut hits);
        assert!(!hits.is_empty(), "control {i} must be found");
        std::fs::remove_file(tmp.0.join("nested").join(format!("{i}.bin"))).expect("remove");
    }
}

#[test]
fn survivor_number_is_never_written_in_plaintext() {
    let tmp = TempDir::new("session");
    let dir = tmp.0.join("state");
    let protector = Arc::new(FileKeyProtector::new(dir.join("keys").join("kek")));
    let clock = Arc::new(FixedClock::at("2026-11-23T15:00:00Z", -5 * 3600).expect("clock"));
    let policy = Policy::from_json(r#"{"schema":1,"mode":"byod","after_call":{"delay_secs":60}}"#).expect("policy");
    let mut agent =
        Agent::create(AgentConfig::new(&dir, "US"), protector.clone(), clock.clone(), policy).expect("create");
    let mut debug = String::new();
    let mut log = |s: String| {
        debug.push_str(&s);
        debug.push('\n');
    };

    let plan = ContactPlan {
        voicemail_allowed: false,
        message_level: MessageLevel::None,
        dropped_call: DroppedCall::WeCallBack,
        ..ContactPlan::default()
    };
    agent.register_survivor(NUMBER, Some(plan)).expect("register");
    agent.register_survivor("(207) 555-0100", None).expect("renew in another format");
    log(format!("{:?}", agent.is_survivor("207.555.0100")));

    for (number, line) in [("2075550100", Line::Helpline), ("(207) 555-0100", Line::Direct), (NUMBER, Line::Direct)] {
        for confirmed in [false, true] {
            log(format!("{:?}", agent.handle(Event::OutgoingCall { number: number.into(), line, confirmed })));
        }
        log(format!("{:?}", agent.handle(Event::OutgoingSms { number: number.into() })));
        log(format!("{:?}", agent.handle(Event::IncomingCall { number: Some(number.into()) })));
    }
    let started = t("2026-11-23T14:50:00Z");
    for dropped in [true, false] {
        let ended = Event::CallEnded {
            number: "207-555-0100".into(),
            line: Line::Direct,
            direction: CallDirection::Outgoing,
            started_at: started,
            dropped,
        };
        log(format!("{:?}", agent.handle(ended)));
    }
    log(format!("{:?}", agent.handle(Event::Tick)));
    log(format!(
        "{:?}",
        agent.handle(Event::Posture {
            lock_timeout_secs: Some(300),
            secure_lock: Some(false),
            caller_id_hidden: Some(false)
        })
    ));

    // The app reports failures in its own words, which may carry the number.
    clock.advance(Duration::seconds(61));
    let pending = agent.pending_actions();
    log(format!("{pending:?}"));
    assert!(pending.iter().any(|a| format!("{:?}", a.kind).contains("DeleteCallLog")));
    for (i, a) in pending.iter().enumerate() {
        let reason = match i % 5 {
            0 => "could not delete call log for +1 (207) 555-0100".to_string(),
            1 => "contact 207.555.0100 is read-only".to_string(),
            2 => "content://call_log/207/555/0100 busy".to_string(),
            3 => "\u{ff12}\u{ff10}\u{ff17}\u{ff15}\u{ff15}\u{ff15}\u{ff10}\u{ff11}\u{ff10}\u{ff10}".to_string(),
            _ => "SecurityException: 2075550100".to_string(),
        };
        log(format!("{:?}", agent.ack(a.id, AckResult::Failed { reason })));
    }
    log(format!("{:?}", agent.all_pending_actions()));
    log(format!("{:?}", agent.compliance()));
    log(format!("{:?}", agent.register_survivor("911", None)));
    log(format!("{:?}", agent.handle(Event::OutgoingSms { number: "207-555-0100 ext. banana".into() })));
    log(format!("{:?}", agent.handle(Event::OutgoingSms { number: "0".repeat(80) })));

    // Restart: the pending deletions come back, still holding the number only inside the state.
    drop(agent);
    let mut agent = Agent::open(&dir, protector.clone(), clock.clone()).expect("reopen");
    log(format!("{agent:?}"));
    clock.advance(Duration::hours(2));
    let pending = agent.pending_actions();
    assert!(!pending.is_empty());
    log(format!("{pending:?}"));
    for a in &pending {
        log(format!("{:?}", agent.ack(a.id, AckResult::Done)));
    }
    for _ in 0..3 {
        clock.advance(Duration::hours(1));
        log(format!("{:?}", agent.handle(Event::Tick)));
    }
    log(format!(
        "{:?}",
        agent.handle(Event::OutgoingCall { number: NUMBER.into(), line: Line::Helpline, confirmed: false })
    ));
    let records = agent.audit_export().expect("audit export");
    let audit_json = serde_json::to_vec(&records).expect("audit json");
    log(format!("{records:?}"));
    assert!(agent.is_survivor(NUMBER).expect("lookup"), "the survivor is still registered");
    drop(agent);

    let mut hits = Vec::new();
    let files = scan_dir(&dir, &mut hits);
    assert!(files >= 3, "state, wrapped key and key-encryption key are scanned ({files} files)");
    scan("audit export", &audit_json, &mut hits);
    scan("Debug output", debug.as_bytes(), &mut hits);
    assert!(debug.contains("Dial(*<redacted>"), "the session really dialled a survivor");
    assert!(hits.is_empty(), "the number leaked:\n{}", hits.join("\n"));
}
