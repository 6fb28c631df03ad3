//! Runs the cross-language conformance vectors in tests/conformance/ through the FFI crate's
//! Rust API, with a Rust `Clock` and `KeyProtector` implementing the same foreign traits the
//! Kotlin and Python runners implement. Writes the transcript to `$QL_TRANSCRIPT` when set, so the
//! test script can compare it with the other languages'.

use quietline_ffi::{
    AckResult, ActionKind, Agent, ApiError, Clock, ContactPlan, Day, DroppedCall, Event, Finding, MessageLevel,
    SafeWindow, UtcTime, Verdict,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod common;
use common::Xor;

struct FrozenClock {
    now: Mutex<SystemTime>,
    offset: i32,
}

impl Clock for FrozenClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().expect("clock")
    }
    fn local_offset_secs(&self) -> i32 {
        self.offset
    }
}

fn time(s: &str) -> SystemTime {
    let t = chrono::DateTime::parse_from_rfc3339(s).expect("RFC 3339 time");
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t.timestamp()).expect("after 1970"))
}

fn fmt_time(t: UtcTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `SomeName` → `some_name`, as Kotlin's and Python's enum names are lower-cased.
fn snake(debug: impl std::fmt::Debug) -> String {
    snake_str(&format!("{debug:?}"))
}

fn snake_str(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn verdict(v: &Verdict) -> String {
    match v {
        Verdict::Allow => "allow".into(),
        Verdict::Block { reason, .. } => format!("block({})", snake(reason)),
        Verdict::Dial { dial_string, via_voip } => format!("dial({dial_string},voip={via_voip})"),
        Verdict::Warn { reason, next_safe_at, .. } => {
            format!("warn({},{})", snake(reason), next_safe_at.map(fmt_time).unwrap_or_else(|| "none".into()))
        }
        Verdict::SendToVoicemail { .. } => "send_to_voicemail".into(),
    }
}

fn action(k: &ActionKind) -> String {
    match k {
        ActionKind::SetMaxTimeToLock { secs } => format!("set_max_time_to_lock:{secs}"),
        ActionKind::RequireSecureLock => "require_secure_lock".into(),
        ActionKind::LockNow => "lock_now".into(),
        ActionKind::SetMaxFailedUnlocks { count } => format!("set_max_failed_unlocks:{count}"),
        ActionKind::DeleteCallLog { .. } => "delete_call_log".into(),
        ActionKind::DeleteContact { .. } => "delete_contact".into(),
        ActionKind::Notify { kind } => format!("notify:{}", snake(kind)),
        ActionKind::ScheduleCallerIdCheck { .. } => "schedule_caller_id_check".into(),
        ActionKind::PurgeSurvivorData => "purge_survivor_data".into(),
        ActionKind::Wipe { scope } => format!("wipe:{}", snake(scope)),
    }
}

fn finding(f: &Finding) -> String {
    let name = format!("{f:?}");
    snake_str(name.split([' ', '{', '(']).next().unwrap_or_default())
}

fn error_case(e: &ApiError) -> String {
    let name = format!("{e:?}");
    snake_str(name.split([' ', '{']).next().unwrap_or_default())
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_else(|| panic!("`{k}` must be a string")).to_string()
}

fn enum_in<T: std::fmt::Debug + Copy>(all: &[T], name: &str) -> T {
    *all.iter().find(|x| snake(x) == name).unwrap_or_else(|| panic!("unknown value {name}"))
}

fn plan(v: &Value) -> Option<ContactPlan> {
    if v.is_null() {
        return None;
    }
    let days = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];
    Some(ContactPlan {
        safe_windows: v["safe_windows"]
            .as_array()
            .expect("safe_windows")
            .iter()
            .map(|w| SafeWindow { day: enum_in(&days, &s(w, "day")), start: s(w, "start"), end: s(w, "end") })
            .collect(),
        voicemail_allowed: v["voicemail_allowed"].as_bool().expect("voicemail_allowed"),
        message_level: enum_in(&[MessageLevel::None, MessageLevel::Vague], &s(v, "message_level")),
        dropped_call: enum_in(&[DroppedCall::WeCallBack, DroppedCall::TheyCallBack], &s(v, "dropped_call")),
        hidden_numbers: None,
        review_on: None,
    })
}

fn event(v: &Value) -> Event {
    use quietline_ffi::{CallDirection, Line, RuleGap};
    let line = |v: &Value| enum_in(&[Line::Helpline, Line::Direct], &s(v, "line"));
    match s(v, "type").as_str() {
        "outgoing_call" => {
            Event::OutgoingCall { number: s(v, "number"), line: line(v), confirmed: v["confirmed"] == true }
        }
        "call_ended" => Event::CallEnded {
            number: s(v, "number"),
            line: line(v),
            direction: enum_in(&[CallDirection::Outgoing, CallDirection::Incoming], &s(v, "direction")),
            started_at: time(&s(v, "started_at")),
            dropped: v["dropped"] == true,
        },
        "outgoing_sms" => Event::OutgoingSms { number: s(v, "number") },
        "incoming_call" => Event::IncomingCall { number: v["number"].as_str().map(str::to_string) },
        "posture" => Event::Posture {
            lock_timeout_secs: v["lock_timeout_secs"].as_u64().map(|n| u32::try_from(n).expect("u32")),
            secure_lock: v["secure_lock"].as_bool(),
            caller_id_hidden: v["caller_id_hidden"].as_bool(),
        },
        "platform_gaps" => Event::PlatformGaps {
            gaps: v["gaps"]
                .as_array()
                .expect("gaps")
                .iter()
                .map(|g| {
                    let name = g.as_str().expect("a gap is a string");
                    enum_in(&[RuleGap::SmsFromOtherAppsUnchecked, RuleGap::NoHelplineCallRoute], name)
                })
                .collect(),
        },
        "handoff_requested" => Event::HandoffRequested,
        "tick" => Event::Tick,
        "check_in" => Event::CheckIn,
        "unlocked" => Event::Unlocked,
        "unlock_failed" => Event::UnlockFailed,
        other => panic!("unknown event type {other}"),
    }
}

fn ack_all(agent: &Agent) {
    for a in agent.pending_actions().expect("pending") {
        agent.ack(a.id, AckResult::Done).expect("ack");
    }
}

/// Runs one vector; returns its transcript lines and failures.
fn run(path: &Path, dir: &Path) -> (Vec<String>, Vec<String>) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    let name = path.file_stem().expect("stem").to_string_lossy().to_string();
    let clock = Arc::new(FrozenClock {
        now: Mutex::new(time(&s(&v, "start"))),
        offset: i32::try_from(v["local_offset_secs"].as_i64().expect("offset")).expect("i32"),
    });
    let agent = Agent::create(
        dir.to_string_lossy().to_string(),
        s(&v, "region"),
        v["policy"].to_string(),
        Arc::new(Xor),
        Some(clock.clone()),
    )
    .expect("create");
    for sv in v["survivors"].as_array().expect("survivors") {
        agent.register_survivor(s(sv, "number"), plan(&sv["plan"])).expect("register");
    }
    ack_all(&agent);
    let (mut lines, mut failures) = (Vec::new(), Vec::new());
    for (i, step) in v["steps"].as_array().expect("steps").iter().enumerate() {
        *clock.now.lock().expect("clock") = time(&s(step, "at"));
        let expect = &step["expect"];
        let mut check = |what: &str, got: String, want: String| {
            if got != want {
                failures.push(format!("{name} step {i}: {what} was {got}, expected {want}"));
            }
        };
        let line = if !step["event"].is_null() {
            let out = agent.handle(event(&step["event"])).expect("handle");
            let got_v = verdict(&out.verdict);
            let got_a: Vec<String> = out.actions.iter().map(|a| action(&a.kind)).collect();
            check("verdict", got_v.clone(), s(expect, "verdict"));
            check("actions", format!("{got_a:?}"), format!("{:?}", strings(&expect["actions"])));
            let got_f: Vec<String> = out.findings.iter().map(finding).collect();
            if !expect["findings"].is_null() {
                check("findings", format!("{got_f:?}"), format!("{:?}", strings(&expect["findings"])));
            }
            format!("{got_v} [{}] [{}]", got_a.join(","), got_f.join(","))
        } else if !step["is_survivor"].is_null() {
            let got = agent.is_survivor(s(step, "is_survivor")).expect("is_survivor");
            check("is_survivor", got.to_string(), expect["is_survivor"].to_string());
            format!("is_survivor={got}")
        } else if !step["register"].is_null() {
            let got = match agent.register_survivor(s(step, "register"), None) {
                Ok(()) => "ok".to_string(),
                Err(e) => error_case(&e),
            };
            check("register", got.clone(), expect["error"].as_str().unwrap_or("ok").to_string());
            format!("register={got}")
        } else if !step["softphone"].is_null() {
            let got = match agent.softphone().expect("softphone") {
                Some(sp) => format!(
                    "softphone({},{})",
                    quietline_ffi::softphone_call_uri(sp.clone(), s(step, "softphone"))
                        .unwrap_or_else(|| "none".into()),
                    sp.android_package.as_deref().unwrap_or("none")
                ),
                None => "none".to_string(),
            };
            check("softphone", got.clone(), s(expect, "softphone"));
            got
        } else if step["ack_all"] == true {
            ack_all(&agent);
            "ack_all".to_string()
        } else {
            panic!("{name} step {i}: unknown step");
        };
        lines.push(format!("{name} {i} {line}"));
    }
    agent.wipe().expect("wipe");
    (lines, failures)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|x| x.as_str().expect("string").to_string()).collect()
}

#[test]
fn conformance_vectors_hold_through_the_ffi() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/conformance")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "expected the conformance vectors in {}", root.display());
    let base = std::env::temp_dir().join(format!("ql-conformance-rs-{}", std::process::id()));
    let (mut transcript, mut failures, mut passed) = (Vec::new(), Vec::new(), 0);
    for (n, f) in files.iter().enumerate() {
        let (lines, fails) = run(f, &base.join(n.to_string()));
        transcript.extend(lines);
        if fails.is_empty() {
            passed += 1;
        }
        failures.extend(fails);
    }
    let _ = std::fs::remove_dir_all(&base);
    let text = transcript.join("\n") + "\n";
    print!("{text}");
    if let Ok(out) = std::env::var("QL_TRANSCRIPT") {
        std::fs::write(out, &text).expect("write transcript");
    }
    println!("rust conformance: {passed} passed, {} failed", files.len() - passed);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
