//! `profile apple` and `profile android`, through the built binary. The Apple profile is parsed
//! by a strict XML property-list reader below and every key of every payload is held to the facts
//! in `tests/schemas/apple-payload-keys.json`; the Android policy's fields are held to
//! `tests/schemas/android-policy-fields.json` (which `scripts/test.d/60-profiles.sh` checks, with
//! the rendered output, against the API's published schema).

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;
use common::{admin, ok_run as ok, p};

fn rules(dir: &Path, name: &str, json: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, json).expect("write rules");
    f
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

// ---------------------------------------------------------------------------------------------
// A strict reader for XML property lists: well-formed XML (prolog, DOCTYPE, comments, one root),
// only plist elements, entities decoded, dict keys unique.

#[derive(Debug, Clone, PartialEq)]
enum Pl {
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(String),
    Date(String),
    Data(String),
    Array(Vec<Pl>),
    Dict(Vec<(String, Pl)>),
}

impl Pl {
    fn type_name(&self) -> &'static str {
        match self {
            Pl::Bool(_) => "boolean",
            Pl::Int(_) => "integer",
            Pl::Real(_) => "real",
            Pl::Str(_) => "string",
            Pl::Date(_) => "date",
            Pl::Data(_) => "data",
            Pl::Array(_) => "array",
            Pl::Dict(_) => "dictionary",
        }
    }
    fn dict(&self) -> &[(String, Pl)] {
        match self {
            Pl::Dict(d) => d,
            other => panic!("expected a dict, got {other:?}"),
        }
    }
    fn get(&self, key: &str) -> Option<&Pl> {
        self.dict().iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    fn str(&self, key: &str) -> &str {
        match self.get(key) {
            Some(Pl::Str(s)) => s,
            other => panic!("{key}: expected a string, got {other:?}"),
        }
    }
    fn int(&self, key: &str) -> Option<i64> {
        match self.get(key) {
            Some(Pl::Int(i)) => Some(*i),
            None => None,
            other => panic!("{key}: expected an integer, got {other:?}"),
        }
    }
}

struct Reader<'a> {
    s: &'a str,
    i: usize,
    comments: Vec<String>,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }
    fn skip_ws(&mut self) {
        while self.rest().starts_with([' ', '\t', '\n', '\r']) {
            self.i += 1;
        }
    }
    fn eat(&mut self, lit: &str) -> bool {
        if self.rest().starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }
    fn until(&mut self, end: &str) -> &'a str {
        let at = self.rest().find(end).unwrap_or_else(|| panic!("unterminated, expected {end:?} at {}", self.i));
        let t = &self.s[self.i..self.i + at];
        self.i += at + end.len();
        t
    }
    /// Whitespace and comments between markup.
    fn misc(&mut self) {
        loop {
            self.skip_ws();
            if self.eat("<!--") {
                let c = self.until("-->");
                assert!(!c.contains("--") && !c.ends_with('-'), "an XML comment may not contain '--': {c:?}");
                self.comments.push(c.to_string());
            } else {
                return;
            }
        }
    }
    fn text(raw: &str) -> String {
        assert!(!raw.contains('<'), "markup inside text: {raw:?}");
        let mut out = String::new();
        let mut rest = raw;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let end = rest[at..].find(';').unwrap_or_else(|| panic!("bare '&' in {raw:?}"));
            let ent = &rest[at + 1..at + end];
            out.push(match ent {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                e if e.starts_with("#x") => {
                    char::from_u32(u32::from_str_radix(&e[2..], 16).expect("hex ref")).expect("char")
                }
                e if e.starts_with('#') => char::from_u32(e[1..].parse().expect("dec ref")).expect("char"),
                e => panic!("unknown entity &{e}; in {raw:?}"),
            });
            rest = &rest[at + end + 1..];
        }
        out.push_str(rest);
        for c in out.chars() {
            assert!(c as u32 >= 0x20 || "\t\n\r".contains(c), "control character {c:?} in XML text");
        }
        out
    }
    /// `<name>text</name>`, after `<name>` was read.
    fn leaf(&mut self, name: &str) -> String {
        Self::text(self.until(&format!("</{name}>")))
    }
    fn value(&mut self) -> Pl {
        self.misc();
        assert!(self.eat("<"), "expected an element at {}: {:?}", self.i, &self.rest()[..self.rest().len().min(40)]);
        let tag_end = self.rest().find('>').expect("tag end");
        let tag = &self.s[self.i..self.i + tag_end];
        self.i += tag_end + 1;
        match tag {
            "true/" => Pl::Bool(true),
            "false/" => Pl::Bool(false),
            "integer" => Pl::Int(self.leaf("integer").trim().parse().expect("integer")),
            "real" => Pl::Real(self.leaf("real").trim().parse().expect("real")),
            "string" => Pl::Str(self.leaf("string")),
            "string/" => Pl::Str(String::new()),
            "date" => Pl::Date(self.leaf("date")),
            "data" => Pl::Data(self.leaf("data")),
            "array" => {
                let mut items = Vec::new();
                loop {
                    self.misc();
                    if self.eat("</array>") {
                        return Pl::Array(items);
                    }
                    items.push(self.value());
                }
            }
            "dict" => {
                let mut entries: Vec<(String, Pl)> = Vec::new();
                loop {
                    self.misc();
                    if self.eat("</dict>") {
                        return Pl::Dict(entries);
                    }
                    assert!(self.eat("<key>"), "a dict holds <key> then a value, at {}", self.i);
                    let k = self.leaf("key");
                    assert!(!entries.iter().any(|(e, _)| *e == k), "duplicate key {k}");
                    let v = self.value();
                    entries.push((k, v));
                }
            }
            other => panic!("not a plist element: <{other}>"),
        }
    }
}

/// Parses a whole XML property list; returns the root value and the comments.
fn parse_plist(xml: &str) -> (Pl, Vec<String>) {
    let mut r = Reader { s: xml, i: 0, comments: Vec::new() };
    assert!(r.eat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "XML declaration");
    r.misc();
    assert!(r.eat("<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\""), "plist DOCTYPE");
    r.until(">");
    r.misc();
    assert!(r.eat("<plist version=\"1.0\">"), "plist root element");
    let v = r.value();
    r.misc();
    assert!(r.eat("</plist>"), "one value in <plist>");
    r.misc();
    assert_eq!(r.rest(), "", "nothing after the root element");
    (v, r.comments)
}

#[test]
fn the_plist_reader_rejects_what_is_not_well_formed() {
    let ok = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"x\">\n<plist version=\"1.0\"><dict><key>a &amp; b</key><string>&lt;x&gt;</string></dict></plist>\n";
    let (v, _) = parse_plist(ok);
    assert_eq!(v.str("a & b"), "<x>");
    for bad in [
        ok.replace("&amp;", "&"),
        ok.replace("</dict>", ""),
        ok.replace("<string>&lt;x&gt;</string>", "<string>x</string><string>y</string>"),
        ok.replace("<dict>", "<dict><!-- a -- b -->"),
        ok.replace("<key>a &amp; b</key><string>&lt;x&gt;</string>", "<key>k</key><true/><key>k</key><true/>"),
    ] {
        assert!(std::panic::catch_unwind(|| parse_plist(&bad)).is_err(), "accepted: {bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// Apple's payload schema, as facts.

fn apple_facts() -> Value {
    let t = std::fs::read_to_string(repo_file("tests/schemas/apple-payload-keys.json")).expect("apple facts");
    serde_json::from_str(&t).expect("apple facts JSON")
}

/// Checks one dictionary's keys against `keys` (and `also`, the common keys); returns the checks made.
fn check_keys(where_: &str, d: &Pl, keys: &Value, also: Option<&Value>) -> usize {
    let mut n = 0;
    for (k, v) in d.dict() {
        let fact = keys.get(k).or_else(|| also.and_then(|a| a.get(k)));
        let fact = fact.unwrap_or_else(|| panic!("{where_}: key {k} is not in Apple's schema facts"));
        assert_eq!(v.type_name(), fact["type"].as_str().expect("type"), "{where_}: {k} has the wrong type");
        if let Some(values) = fact.get("values").and_then(Value::as_array) {
            let ok = match v {
                Pl::Str(s) => values.iter().any(|x| x.as_str() == Some(s)),
                Pl::Int(i) => values.iter().any(|x| x.as_i64() == Some(*i)),
                _ => false,
            };
            assert!(ok, "{where_}: {k} = {v:?} is not one of {values:?}");
        }
        if let Pl::Int(i) = v {
            if let Some(min) = fact.get("min").and_then(Value::as_i64) {
                assert!(*i >= min, "{where_}: {k} = {i} below {min}");
            }
            if let Some(max) = fact.get("max").and_then(Value::as_i64) {
                assert!(*i <= max, "{where_}: {k} = {i} above {max}");
            }
        }
        assert_ne!(fact.get("ios_supervised"), Some(&Value::Bool(true)), "{where_}: {k} needs a supervised device");
        n += 1;
    }
    for src in std::iter::once(keys).chain(also) {
        for (k, fact) in src.as_object().expect("keys") {
            if fact.get("required") == Some(&Value::Bool(true)) {
                assert!(d.get(k).is_some(), "{where_}: required key {k} missing");
            }
        }
    }
    n
}

/// Holds a whole profile to the facts; returns the payloads by type.
fn check_profile(xml: &str) -> (BTreeMap<String, Pl>, Vec<String>) {
    let facts = apple_facts();
    let (root, comments) = parse_plist(xml);
    let checked = check_keys("profile", &root, &facts["toplevel"]["keys"], None);
    assert!(checked >= 6);
    let mut by_type = BTreeMap::new();
    let mut uuids = vec![root.str("PayloadUUID").to_string()];
    let mut ids = vec![root.str("PayloadIdentifier").to_string()];
    let Some(Pl::Array(content)) = root.get("PayloadContent") else { panic!("PayloadContent") };
    assert!(!content.is_empty());
    for pl in content {
        let ptype = pl.str("PayloadType").to_string();
        let pf = facts["payloads"].get(&ptype).unwrap_or_else(|| panic!("payload type {ptype} not in the facts"));
        assert_eq!(pf["ios_supervised"], Value::Bool(false));
        check_keys(&ptype, pl, &pf["keys"], Some(&facts["common"]["keys"]));
        uuids.push(pl.str("PayloadUUID").to_string());
        ids.push(pl.str("PayloadIdentifier").to_string());
        assert!(by_type.insert(ptype, pl.clone()).is_none(), "one payload of each type");
    }
    for u in &uuids {
        let parts: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "UUID {u}");
        assert!(u.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "UUID {u}");
    }
    uuids.sort();
    uuids.dedup();
    assert_eq!(uuids.len(), content.len() + 1, "every PayloadUUID is distinct");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), content.len() + 1, "every PayloadIdentifier is distinct");
    (by_type, comments)
}

const PASSCODE: &str = "com.apple.mobiledevice.passwordpolicy";
const RESTRICTIONS: &str = "com.apple.applicationaccess";
const APP_ONLY: [&str; 9] =
    ["caller_id", "sms", "after_call", "retention", "off_duty", "contact plans", "sharing", "offline.check_in", "wipe"];

#[test]
fn apple_profile_is_a_valid_plist_whose_every_key_is_in_apples_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "work.json", r#"{"schema":1,"mode":"work"}"#);
    let out = dir.path().join("p.mobileconfig");
    let r = ok(&["profile", "apple", p(&f), "--org", "Acme", "--out", p(&out)]);
    let xml = std::fs::read_to_string(&out).expect("profile");
    let (payloads, _) = check_profile(&xml);
    let pass = &payloads[PASSCODE];
    assert_eq!(pass.get("forcePIN"), Some(&Pl::Bool(true)));
    assert_eq!(pass.get("allowSimple"), Some(&Pl::Bool(false)));
    assert_eq!(pass.get("requireAlphanumeric"), Some(&Pl::Bool(false)));
    assert_eq!(pass.int("maxGracePeriod"), Some(0));
    assert_eq!(pass.int("minLength"), Some(6));
    assert_eq!(pass.int("maxFailedAttempts"), Some(10));
    let restr = &payloads[RESTRICTIONS];
    for k in ["allowAssistantWhileLocked", "allowVoiceDialing", "allowLockScreenNotificationsView"] {
        assert_eq!(restr.get(k), Some(&Pl::Bool(false)), "{k}");
    }
    assert!(r.stdout.starts_with(&format!("wrote {}", out.display())));
}

#[test]
fn apple_thirty_seconds_becomes_one_minute_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "r.json", r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":30}}"#);
    let out = dir.path().join("p.mobileconfig");
    let r = ok(&["profile", "apple", p(&f), "--out", p(&out)]);
    let xml = std::fs::read_to_string(&out).expect("profile");
    let (payloads, comments) = check_profile(&xml);
    assert_eq!(payloads[PASSCODE].int("maxInactivity"), Some(1));
    let said = "30 s -> maxInactivity 1 minute";
    assert!(r.stdout.contains(said), "summary: {}", r.stdout);
    assert!(comments.iter().any(|c| c.contains(said)), "comment: {comments:?}");
}

#[test]
fn apple_fifteen_minutes_is_fifteen_and_needs_no_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "r.json", r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":900}}"#);
    let r = ok(&["profile", "apple", p(&f)]);
    let (payloads, _) = check_profile(&r.stdout);
    assert_eq!(payloads[PASSCODE].int("maxInactivity"), Some(15));
    assert!(!r.stderr.contains("maxInactivity"), "no note: {}", r.stderr);
    // Between whole minutes the profile rounds down: the policy's timeout is a maximum.
    let f = rules(dir.path(), "r2.json", r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":150}}"#);
    let r = ok(&["profile", "apple", p(&f)]);
    assert_eq!(check_profile(&r.stdout).0[PASSCODE].int("maxInactivity"), Some(2));
    assert!(r.stderr.contains("150 s -> maxInactivity 2 minutes"), "{}", r.stderr);
}

#[test]
fn apple_twenty_failed_unlocks_clamp_to_eleven_with_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "r.json", r#"{"schema":1,"mode":"work","offline":{"max_failed_unlocks":20}}"#);
    let out = dir.path().join("p.mobileconfig");
    let r = ok(&["profile", "apple", p(&f), "--out", p(&out)]);
    let (payloads, comments) = check_profile(&std::fs::read_to_string(&out).expect("profile"));
    assert_eq!(payloads[PASSCODE].int("maxFailedAttempts"), Some(11));
    let said = "offline.max_failed_unlocks 20 -> maxFailedAttempts 11";
    assert!(r.stdout.contains(said), "{}", r.stdout);
    assert!(comments.iter().any(|c| c.contains(said)));
}

#[test]
fn apple_never_sets_an_erase_where_the_policy_forbids_a_full_wipe() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, json) in [
        ("byod.json", r#"{"schema":1,"mode":"byod"}"#),
        ("nofull.json", r#"{"schema":1,"mode":"work","wipe":{"allow_full":false}}"#),
    ] {
        let f = rules(dir.path(), name, json);
        let r = ok(&["profile", "apple", p(&f)]);
        let (payloads, _) = check_profile(&r.stdout);
        assert_eq!(payloads[PASSCODE].get("maxFailedAttempts"), None, "{name}");
        assert!(r.stderr.contains("not mapped to maxFailedAttempts"), "{name}: {}", r.stderr);
    }
}

#[test]
fn apple_output_names_every_rule_left_to_the_app_and_user_enrollment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "r.json", r#"{"schema":1,"mode":"byod"}"#);
    let r = ok(&["profile", "apple", p(&f)]);
    let (_, comments) = check_profile(&r.stdout);
    let comment = comments.join("\n");
    for rule in APP_ONLY {
        assert!(comment.contains(&format!("  {rule}")), "comment lacks {rule}");
        assert!(r.stderr.contains(&format!("  - {rule}")), "summary lacks {rule}");
    }
    for text in [&comment, &r.stderr] {
        assert!(text.contains("User Enrollment") && text.contains("Passcode key is ignored"), "{text}");
    }
}

#[test]
fn apple_without_a_secure_lock_sets_only_the_auto_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "r.json", r#"{"schema":1,"mode":"work","auto_lock":{"require_secure_lock":false}}"#);
    let r = ok(&["profile", "apple", p(&f)]);
    let (payloads, _) = check_profile(&r.stdout);
    assert_eq!(payloads.len(), 1);
    let pass = &payloads[PASSCODE];
    assert_eq!(pass.get("forcePIN"), Some(&Pl::Bool(false)));
    for k in ["allowSimple", "minLength", "maxFailedAttempts"] {
        assert_eq!(pass.get(k), None, "{k}");
    }
}

#[test]
fn apple_escapes_what_the_organisation_is_called() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "r.json", r#"{"schema":1,"mode":"work"}"#);
    let org = "Safe & Sound <\"Shelter\"> 'West' -- \u{7}";
    let r = ok(&["profile", "apple", p(&f), "--org", org]);
    let (payloads, comments) = check_profile(&r.stdout);
    assert_eq!(payloads[PASSCODE].str("PayloadOrganization"), "Safe & Sound <\"Shelter\"> 'West' --  ");
    assert!(comments[0].contains("Safe & Sound"));
    let (root, _) = parse_plist(&r.stdout);
    assert_eq!(root.str("PayloadIdentifier"), "org.quietline.policy.safe-sound-shelter-west");
}

#[test]
fn apple_rendering_is_reproducible_and_follows_the_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "r.json", r#"{"schema":1,"mode":"work"}"#);
    let a = ok(&["profile", "apple", p(&f), "--identifier", "org.example.ql"]).stdout;
    let b = ok(&["profile", "apple", p(&f), "--identifier", "org.example.ql"]).stdout;
    assert_eq!(a, b);
    let g = rules(dir.path(), "g.json", r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":300}}"#);
    let c = ok(&["profile", "apple", p(&g), "--identifier", "org.example.ql"]).stdout;
    let (pa, _) = check_profile(&a);
    let (pc, _) = check_profile(&c);
    assert_ne!(pa[PASSCODE].str("PayloadUUID"), pc[PASSCODE].str("PayloadUUID"));
    assert_eq!(pa[RESTRICTIONS].str("PayloadUUID"), pc[RESTRICTIONS].str("PayloadUUID"));
    assert_eq!(pa[PASSCODE].str("PayloadIdentifier"), "org.example.ql.passcode");
}

#[test]
fn bad_identifiers_and_rules_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "r.json", r#"{"schema":1,"mode":"work"}"#);
    let r = admin(&["profile", "apple", p(&f), "--identifier", "org..x"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error: --identifier"), "{}", r.stderr);
    let bad = rules(dir.path(), "bad.json", r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":3}}"#);
    for kind in ["apple", "android"] {
        let r = admin(&["profile", kind, p(&bad)]);
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("auto_lock.max_timeout_secs"), "{}", r.stderr);
    }
    let r = admin(&["profile", "android", "QL:AAAA"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn a_signed_policy_renders_with_its_org_and_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(&["keygen", "--out", p(d), "--name", "root"]);
    let f = rules(d, "r.json", r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":120}}"#);
    let ql = d.join("policy.ql");
    ok(&[
        "policy",
        "sign",
        "--rules",
        p(&f),
        "--org",
        "acme",
        "--version",
        "7",
        "--expires-in-days",
        "30",
        "--key",
        p(&d.join("root.key")),
        "--out",
        p(&ql),
    ]);
    let r = ok(&["profile", "apple", p(&ql)]);
    let (root, _) = parse_plist(&r.stdout);
    assert_eq!(root.str("PayloadOrganization"), "acme");
    assert_eq!(root.str("PayloadDisplayName"), "Quietline policy v7 (acme)");
    assert_eq!(check_profile(&r.stdout).0[PASSCODE].int("maxInactivity"), Some(2));
    // The QL: text itself works as well as its file.
    let text = std::fs::read_to_string(&ql).expect("ql");
    let j: Value = serde_json::from_str(&ok(&["profile", "android", text.trim()]).stdout).expect("json");
    assert_eq!(j["maximumTimeToLock"], "120000");
}

// ---------------------------------------------------------------------------------------------
// Android Management API.

fn android_facts() -> Value {
    let t = std::fs::read_to_string(repo_file("tests/schemas/android-policy-fields.json")).expect("android facts");
    serde_json::from_str(&t).expect("android facts JSON")
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

fn check_fields(where_: &str, obj: &Value, facts: &Value, all: &Value) {
    for (k, v) in obj.as_object().expect("object") {
        let f = facts.get(k).unwrap_or_else(|| panic!("{where_}.{k} is not a known field"));
        assert_eq!(json_type(v), f["type"].as_str().expect("type"), "{where_}.{k}");
        if f.get("format").and_then(Value::as_str) == Some("int64") {
            assert!(v.as_str().is_some_and(|s| s.parse::<i64>().is_ok()), "{where_}.{k}: int64 as a decimal string");
        }
        let in_enum = |x: &Value| f["enum"].as_array().is_none_or(|e| e.contains(x));
        match v {
            Value::Array(items) => {
                for it in items {
                    match f["items"].as_str() {
                        Some("string") => {
                            assert!(it.is_string() && in_enum(it), "{where_}.{k}: {it}");
                        }
                        Some(schema) => check_fields(&format!("{where_}.{k}[]"), it, &all[schema], all),
                        None => panic!("{where_}.{k}: items"),
                    }
                }
            }
            other => assert!(in_enum(other), "{where_}.{k}: {other} is not in the enum"),
        }
    }
}

fn android(dir: &Path, json: &str) -> (Value, String) {
    let f = rules(dir, "a.json", json);
    let r = ok(&["profile", "android", p(&f)]);
    let v: Value = serde_json::from_str(&r.stdout).expect("stdout is exactly the Policy JSON");
    let facts = android_facts();
    check_fields("Policy", &v, &facts["Policy"], &facts);
    (v, r.stderr)
}

#[test]
fn android_work_policy_uses_device_scope_and_millisecond_strings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (v, notes) = android(dir.path(), r#"{"schema":1,"mode":"work","offline":{"max_failed_unlocks":20}}"#);
    assert_eq!(v["maximumTimeToLock"], "30000");
    let req = &v["passwordPolicies"][0];
    assert_eq!(req["passwordScope"], "SCOPE_DEVICE");
    assert_eq!(req["passwordQuality"], "NUMERIC_COMPLEX");
    assert_eq!(req["passwordMinimumLength"], 6);
    assert_eq!(req["maximumFailedPasswordsForWipe"], 20);
    assert_eq!(v["outgoingCallsDisabled"], false);
    assert_eq!(v["keyguardDisabledFeatures"], serde_json::json!(["TRUST_AGENTS", "UNREDACTED_NOTIFICATIONS"]));
    assert!(v.get("smsDisabled").is_none());
    assert!(notes.contains("smsDisabled not set") && notes.contains("ALL SMS"), "{notes}");
}

#[test]
fn android_byod_policy_stays_in_the_work_profile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (v, notes) = android(dir.path(), r#"{"schema":1,"mode":"byod","auto_lock":{"max_timeout_secs":900}}"#);
    assert_eq!(v["maximumTimeToLock"], "900000");
    let policies = v["passwordPolicies"].as_array().expect("array");
    assert!(policies.iter().all(|r| r["passwordScope"] == "SCOPE_PROFILE"));
    assert_eq!(policies[0]["maximumFailedPasswordsForWipe"], 10);
    assert!(notes.contains("removes the work profile only"), "{notes}");
    for rule in APP_ONLY {
        assert!(notes.contains(&format!("  - {rule}")), "notes lack {rule}");
    }
}

#[test]
fn android_never_wipes_a_phone_whose_policy_forbids_a_full_wipe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (v, notes) = android(dir.path(), r#"{"schema":1,"mode":"work","wipe":{"allow_full":false}}"#);
    assert!(v["passwordPolicies"][0].get("maximumFailedPasswordsForWipe").is_none());
    assert!(notes.contains("not mapped to maximumFailedPasswordsForWipe"), "{notes}");
    let (v, _) = android(dir.path(), r#"{"schema":1,"mode":"work","auto_lock":{"require_secure_lock":false}}"#);
    assert!(v.get("passwordPolicies").is_none() && v.get("keyguardDisabledFeatures").is_none());
}

#[test]
fn android_with_out_writes_the_json_and_prints_the_notes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = rules(dir.path(), "r.json", r#"{"schema":1,"mode":"work"}"#);
    let out = dir.path().join("policy.json");
    let r = ok(&["profile", "android", p(&f), "--out", p(&out)]);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("json")).expect("valid JSON");
    assert_eq!(v["maximumTimeToLock"], "30000");
    assert!(r.stdout.contains("stays with the app (no equivalent in an Android Management API policy)"));
    assert_eq!(r.stderr, "");
}

#[test]
fn profiles_say_the_calling_app_stays_with_the_signed_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = r#"{"schema":1,"mode":"byod","caller_id":{"method":"voip","softphone":{"call_uri":"acme--voice://call?to={number}","android_package":"com.acme.voice"}}}"#;
    let (_, notes) = android(dir.path(), json);
    assert!(
        notes.contains(
            "go to the organisation's calling app: acme--voice://call?to={number} (Android package com.acme.voice)"
        ),
        "{notes}"
    );
    let f = rules(dir.path(), "r.json", json);
    let r = ok(&["profile", "apple", p(&f)]);
    let (_, comments) = check_profile(&r.stdout);
    assert!(comments.join("\n").contains("calling app: acme- -voice://call?to={number}"), "{comments:?}");
    assert!(r.stderr.contains("calling app: acme--voice://call?to={number}"), "{}", r.stderr);
}
