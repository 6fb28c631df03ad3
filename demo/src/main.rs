//! The end-to-end demo: one command, a readable timeline. IT staff use the real
//! `quietline-admin` code; each phone runs the real core with a desktop platform adapter that
//! keeps its call log and contacts in plain files (as the phone's own OS would).

use chrono::{DateTime, Duration, FixedOffset, Timelike, Utc};
use quietline_core::actions::{AckResult, Action, ActionKind};
use quietline_core::device::{self, CommandStatus};
use quietline_core::{Agent, AgentConfig, AgentError, Clock, Event, FileKeyProtector, Line, Verdict};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod relay;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const SURVIVOR: &str = "(207) 555-0100";
const SURVIVOR_E164: &str = "+12075550100";
const OTHER_SURVIVOR: &str = "(207) 555-0142";

fn say(who: &str, what: &str) {
    println!("{who:<16} {what}");
}

fn admin(args: &[&str]) -> Res<String> {
    let mut out = Vec::new();
    let argv = std::iter::once("quietline-admin".to_string()).chain(args.iter().map(|s| s.to_string()));
    println!("{:<16} $ quietline-admin {}", "IT staff", args.join(" "));
    quietline_admin::run(argv, &mut out).map_err(|e| format!("quietline-admin failed: {e}"))?;
    let text = String::from_utf8_lossy(&out).to_string();
    for line in text.lines() {
        println!("{:<16}   {}", "", line);
    }
    Ok(text)
}

/// A phone's clock: real time, a local offset, and a skew the demo can move forward to
/// show what happens when days pass.
struct DemoClock {
    offset: FixedOffset,
    skew: Mutex<Duration>,
}

impl DemoClock {
    fn new(offset_secs: i32) -> Res<Arc<Self>> {
        let offset = FixedOffset::east_opt(offset_secs).ok_or("bad offset")?;
        Ok(Arc::new(Self { offset, skew: Mutex::new(Duration::zero()) }))
    }
    fn pass(&self, d: Duration) {
        if let Ok(mut s) = self.skew.lock() {
            *s += d;
        }
    }
}

impl Clock for DemoClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.skew.lock().map(|s| *s).unwrap_or_else(|_| Duration::zero())
    }
    fn local_offset(&self) -> FixedOffset {
        self.offset
    }
}

/// The desktop stand-in for the phone's OS: call log and contacts in files.
struct DesktopPlatform {
    call_log: PathBuf,
    contacts: PathBuf,
}

impl DesktopPlatform {
    fn new(dir: &Path) -> Res<Self> {
        fs::create_dir_all(dir)?;
        let p = Self { call_log: dir.join("call-log.txt"), contacts: dir.join("contacts.txt") };
        fs::write(&p.call_log, "")?;
        fs::write(&p.contacts, "")?;
        Ok(p)
    }
    fn log_call(&self, number: &str) -> Res<()> {
        let mut s = fs::read_to_string(&self.call_log)?;
        s.push_str(&format!("{} {}\n", Utc::now().format("%H:%M"), number));
        Ok(fs::write(&self.call_log, s)?)
    }
    fn add_contact(&self, name: &str, number: &str) -> Res<()> {
        let mut s = fs::read_to_string(&self.contacts)?;
        s.push_str(&format!("{name} {number}\n"));
        Ok(fs::write(&self.contacts, s)?)
    }
    fn remove_lines_with(path: &Path, number: &str) -> Res<usize> {
        let s = fs::read_to_string(path)?;
        let keep: Vec<&str> = s.lines().filter(|l| !l.ends_with(number)).collect();
        let removed = s.lines().count() - keep.len();
        fs::write(path, keep.iter().map(|l| format!("{l}\n")).collect::<String>())?;
        Ok(removed)
    }
    fn lines(path: &Path) -> usize {
        fs::read_to_string(path).map(|s| s.lines().count()).unwrap_or(0)
    }
    /// Carries out one action; the result goes back to the core as the ack.
    fn execute(&self, who: &str, a: &Action) -> Res<AckResult> {
        let what = match &a.kind {
            ActionKind::DeleteCallLog { number, .. } => {
                let n = Self::remove_lines_with(&self.call_log, number.expose())?;
                format!("deleted {n} call-log entr{} for the survivor's number", if n == 1 { "y" } else { "ies" })
            }
            ActionKind::DeleteContact { number } => {
                let n = Self::remove_lines_with(&self.contacts, number.expose())?;
                format!("deleted {n} contact{}", if n == 1 { "" } else { "s" })
            }
            ActionKind::SetMaxTimeToLock { secs } => format!("screen lock after {secs} s"),
            ActionKind::RequireSecureLock => "PIN required".into(),
            ActionKind::LockNow => "screen locked".into(),
            ActionKind::SetMaxFailedUnlocks { count } => format!("wipe after {count} failed unlocks"),
            ActionKind::Notify { kind } => format!("notification: {kind:?}"),
            ActionKind::ScheduleCallerIdCheck { .. } => "caller-ID check scheduled".into(),
            ActionKind::PurgeSurvivorData => "survivor data purged".into(),
            ActionKind::Wipe { scope } => format!("platform wipe: {scope:?}"),
        };
        say(who, &format!("  action #{}: {what}", a.id));
        Ok(AckResult::Done)
    }
    fn run_actions(&self, who: &str, agent: &mut Agent, actions: &[Action]) -> Res<()> {
        for a in actions {
            let r = self.execute(who, a)?;
            agent.ack(a.id, r)?;
        }
        Ok(())
    }
}

struct Phone {
    name: &'static str,
    agent: Agent,
    os: DesktopPlatform,
    state_dir: PathBuf,
}

fn enroll_phone(root: &Path, name: &'static str, bundle: &Path, clock: Arc<DemoClock>) -> Res<(Phone, PathBuf)> {
    let dir = root.join(name.replace(' ', "-"));
    let protector = Arc::new(FileKeyProtector::new(dir.join("keystore").join("kek")));
    let state_dir = dir.join("quietline");
    let text = fs::read_to_string(bundle)?;
    let (mut agent, response) = Agent::enroll(AgentConfig::new(&state_dir, "US"), protector, clock, &text)?;
    // The desktop stand-in can "wipe the whole phone" (as an Android device owner can).
    agent.set_platform_caps(quietline_core::PlatformCaps { full_wipe: true, prefix_dialing: true })?;
    say(
        name,
        &format!(
            "enrolled: device {}, pinned the org root key, made its own device key",
            agent.device_id().unwrap_or_default()
        ),
    );
    let os = DesktopPlatform::new(&dir.join("os"))?;
    let first = agent.pending_actions();
    os.run_actions(name, &mut agent, &first)?;
    let resp_path = root.join("it").join(format!("{}-response.ql", name.replace(' ', "-")));
    fs::write(&resp_path, response)?;
    Ok((Phone { name, agent, os, state_dir }, resp_path))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("demo failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let root = std::env::temp_dir().join(format!("quietline-demo-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let it = root.join("it");
    fs::create_dir_all(&it)?;
    let p = |f: &str| it.join(f).to_string_lossy().to_string();

    // The phones' clocks read real time, with a local offset that puts them at 21:00 so the
    // after-hours scene happens now.
    let now = Utc::now();
    let secs_of_day = i32::try_from(now.num_seconds_from_midnight()).unwrap_or(0);
    let offset = {
        let o = 21 * 3600 - secs_of_day;
        if o > 12 * 3600 {
            o - 24 * 3600
        } else {
            o
        }
    };
    let clock = || DemoClock::new(offset);

    println!("Quietline end-to-end demo — working in {}\n", root.display());
    println!("── 1. IT staff create keys and sign policies");
    admin(&["keygen", "--out", &p(""), "--name", "root"])?;
    admin(&["keygen", "--out", &p(""), "--name", "it-lead"])?;
    fs::write(
        it.join("rules-work.json"),
        r#"{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":30},
           "off_duty":{"enabled":true,"days":["mon","tue","wed","thu","fri","sat","sun"],"start":"09:00","end":"17:00","survivor_calls":"voicemail"}}"#,
    )?;
    fs::write(it.join("rules-byod.json"), r#"{"schema":1,"mode":"byod"}"#)?;
    let staff = format!("it-lead={}=lock,wipe_selective,wipe_full,purge_survivor_data,ping", p("it-lead.pub"));
    for mode in ["work", "byod"] {
        admin(&[
            "policy",
            "sign",
            "--rules",
            &p(&format!("rules-{mode}.json")),
            "--org",
            "safe-harbor",
            "--version",
            "1",
            "--expires-in-days",
            "30",
            "--targets",
            "*",
            "--staff",
            &staff,
            "--key",
            &p("root.key"),
            "--out",
            &p(&format!("policy-{mode}.ql")),
        ])?;
    }

    let base = relay::start(&root, "safe-harbor", &fs::read_to_string(p("root.pub"))?)?;
    let relay_url = format!("{base}/o/safe-harbor");
    say("relay", &format!("quietline-relay on loopback: {relay_url} (SQLite; trusted by nobody)"));

    println!("\n── 2. IT staff enroll a work phone and a personal phone through the relay");
    enroll_bundle(&p, "work", "bundle-work.ql", &relay_url)?;
    enroll_bundle(&p, "byod", "bundle-byod.ql", &relay_url)?;
    let (mut work, work_resp) = enroll_phone(&root, "work phone", &it.join("bundle-work.ql"), clock()?)?;
    let (mut personal, byod_resp) = enroll_phone(&root, "personal phone", &it.join("bundle-byod.ql"), clock()?)?;
    relay::post_response(&work, &relay_url, fs::read_to_string(&work_resp)?.trim())?;
    relay::post_response(&personal, &relay_url, fs::read_to_string(&byod_resp)?.trim())?;
    let key = p("it-lead.key");
    let pending = admin(&["fleet", "enrollments", "--relay", &relay_url, "--key", &key])?;
    if pending.lines().count() != 2 {
        return Err("expected two enrollment responses on the relay".into());
    }
    let (w, b) = (work_resp.to_string_lossy(), byod_resp.to_string_lossy());
    let (wb, bb) = (p("bundle-work.ql"), p("bundle-byod.ql"));
    let accept = |resp: &str, bundle: &str, out: &str| {
        admin(&["enroll", "accept", resp, "--bundle", bundle, "--out", out, "--relay", &relay_url, "--relay-key", &key])
    };
    accept(&w, &wb, &p("work-phone.json"))?;
    accept(&b, &bb, &p("personal-phone.json"))?;
    relay::poll(&mut work, &relay_url)?;
    relay::poll(&mut personal, &relay_url)?;

    println!("\n── 3. The advocate calls a survivor on the helpline");
    for ph in [&mut work, &mut personal] {
        ph.agent.register_survivor(SURVIVOR, None)?;
    }
    say(work.name, "survivor registered (stored only as a keyed hash)");
    let out =
        work.agent.handle(Event::OutgoingCall { number: SURVIVOR.into(), line: Line::Helpline, confirmed: false })?;
    let Verdict::Dial { dial_string, .. } = &out.verdict else { return Err("expected a dial verdict".into()) };
    say(work.name, &format!("helpline call dials {}…  (caller ID hidden with *67)", &dial_string[..3]));
    work.os.log_call(SURVIVOR_E164)?;
    work.os.add_contact("Survivor", SURVIVOR_E164)?;
    say(
        work.name,
        &format!(
            "OS call log: {} entry, contacts: {} entry",
            DesktopPlatform::lines(&work.os.call_log),
            DesktopPlatform::lines(&work.os.contacts)
        ),
    );
    let out = work.agent.handle(Event::CallEnded {
        number: SURVIVOR.into(),
        line: Line::Helpline,
        direction: quietline_core::CallDirection::Outgoing,
        started_at: Utc::now(),
        dropped: false,
    })?;
    say(work.name, "call ended: the core asks for cleanup at once");
    work.os.run_actions(work.name, &mut work.agent, &out.actions)?;
    say(
        work.name,
        &format!(
            "OS call log: {} entries, contacts: {} entries",
            DesktopPlatform::lines(&work.os.call_log),
            DesktopPlatform::lines(&work.os.contacts)
        ),
    );

    guidance_screen(&mut work, offset)?;

    println!("\n── 4. A text to the survivor from the personal phone");
    let out = personal.agent.handle(Event::OutgoingSms { number: SURVIVOR.into() })?;
    match &out.verdict {
        Verdict::Block { message, .. } => say(personal.name, &format!("SMS blocked: {message}")),
        v => return Err(format!("expected a block, got {v:?}").into()),
    }

    println!("\n── 5. The survivor calls the work phone after hours (21:00 local)");
    let out = work.agent.handle(Event::IncomingCall { number: Some(SURVIVOR.into()) })?;
    match &out.verdict {
        Verdict::SendToVoicemail { message } => say(work.name, &format!("call screened: {message}")),
        v => return Err(format!("expected voicemail, got {v:?}").into()),
    }
    let out = work.agent.handle(Event::Tick)?;
    work.os.run_actions(work.name, &mut work.agent, &out.actions)?;

    println!("\n── 6. IT staff renew the work policy through the relay (version 2)");
    admin(&[
        "policy",
        "sign",
        "--rules",
        &p("rules-work.json"),
        "--org",
        "safe-harbor",
        "--version",
        "2",
        "--expires-in-days",
        "30",
        "--targets",
        "*",
        "--staff",
        &staff,
        "--key",
        &p("root.key"),
        "--out",
        &p("policy-work-2.ql"),
        "--relay",
        &relay_url,
    ])?;
    relay::poll(&mut work, &relay_url)?;
    if work.agent.policy_version() != Some(2) {
        return Err("the work phone did not install policy version 2".into());
    }
    relay::poll(&mut personal, &relay_url)?;
    say(personal.name, "the work policy was not offered to the personal phone (other mode)");

    println!("\n── 7. IT staff lock the work phone through the relay; the same command replayed changes nothing");
    let lock = admin(&["command", "lock", "--device", &p("work-phone.json"), "--key", &key, "--relay", &relay_url])?;
    let lock_sms = sms_of(&lock)?;
    relay::poll(&mut work, &relay_url)?;
    let again = work.agent.apply_command(&lock_sms)?;
    say(work.name, &format!("same SMS again: {:?} — nothing new happens (original receipt returned)", again.status));
    if again.status != CommandStatus::Replayed {
        return Err("replay was not recognised".into());
    }

    println!("\n── 8. The work phone is lost, with no data connection: IT sends a full wipe by SMS");
    let wipe =
        admin(&["command", "wipe", "--scope", "full", "--device", &p("work-phone.json"), "--key", &p("it-lead.key")])?;
    let wipe_sms = sms_of(&wipe)?;
    say(work.name, &format!("SMS received ({} characters)", wipe_sms.len()));
    let r = work.agent.apply_command(&wipe_sms)?;
    say(
        work.name,
        &format!(
            "wipe verified: agent data crypto-erased; the app now performs the platform wipe {:?} (the receipt says requested, not done)",
            r.wipe.ok_or("no wipe")?
        ),
    );
    say(
        work.name,
        &format!(
            "left in its state directory: {:?} (the signed receipt, for the app to deliver)",
            list_files(&work.state_dir)
        ),
    );
    let receipt = r.receipt.ok_or("no receipt")?;
    // Back in coverage, the app delivers the receipt: it authenticates itself (the device key
    // that could sign a request is gone).
    relay::post_receipt(work.name, &relay_url, &receipt)?;
    fs::write(it.join("work-wipe-receipt.ql"), &receipt)?;
    admin(&["receipt", "verify", &p("work-wipe-receipt.ql"), "--device", &p("work-phone.json")])?;
    match work.agent.apply_command(&wipe_sms) {
        Err(AgentError::Wiped { .. }) => {
            say(work.name, "the same wipe SMS again: refused, there is nothing left to act on")
        }
        other => return Err(format!("expected refusal, got {other:?}").into()),
    }

    println!("\n── 9. A full wipe sent to the personal phone through the relay performs only the selective wipe");
    admin(&[
        "command",
        "wipe",
        "--scope",
        "full",
        "--device",
        &p("personal-phone.json"),
        "--key",
        &key,
        "--relay",
        &relay_url,
    ])?;
    let (scope, receipt) = relay::poll(&mut personal, &relay_url)?.ok_or("the wipe did not arrive")?;
    say(
        personal.name,
        &format!("performed: {scope:?} (the agent's data and the work profile; personal data untouched)"),
    );
    relay::post_receipt(personal.name, &relay_url, &receipt)?;
    fs::write(it.join("personal-wipe-receipt.ql"), receipt)?;
    admin(&["receipt", "verify", &p("personal-wipe-receipt.ql"), "--device", &p("personal-phone.json")])?;
    let _ = device::take_wipe_receipt(&personal.state_dir);

    println!("\n── 10. A work phone left in a drawer, offline: it locks itself");
    enroll_bundle(&p, "work", "bundle-spare.ql", &relay_url)?;
    let drawer_clock = clock()?;
    let (mut spare, _) = enroll_phone(&root, "spare phone", &it.join("bundle-spare.ql"), drawer_clock.clone())?;
    for (hours, label) in [(72, "3 days without reaching the organisation"), (44, "4 days 20 hours"), (4, "5 days")] {
        drawer_clock.pass(Duration::hours(hours));
        let out = spare.agent.handle(Event::Tick)?;
        say(spare.name, &format!("{label}:"));
        let steps: Vec<Action> = out
            .actions
            .into_iter()
            .filter(|a| {
                matches!(a.kind, ActionKind::Notify { .. } | ActionKind::LockNow | ActionKind::RequireSecureLock)
            })
            .collect();
        spare.os.run_actions(spare.name, &mut spare.agent, &steps)?;
    }

    println!("\n── 11. IT staff read the fleet from the relay; receipts are verified on the laptop");
    admin(&["fleet", "status", "--relay", &relay_url, "--key", &key, "--device", &p("")])?;

    println!("\nDone. Everything above ran the real core and admin code; files are in {}", root.display());
    Ok(())
}

/// Scene 3b: a survivor with a contact plan, and what the app shows the advocate before calling.
fn guidance_screen(work: &mut Phone, offset_secs: i32) -> Res<()> {
    use quietline_core::policy::{Day, LocalTime};
    use quietline_core::{ContactPlan, SafeWindow};
    println!("\n── 3b. The advocate's guidance screen for a survivor with a contact plan");
    let local = Utc::now().with_timezone(&FixedOffset::east_opt(offset_secs).ok_or("bad offset")?);
    let weekday = chrono::Datelike::weekday(&local);
    let plan = ContactPlan {
        safe_windows: vec![SafeWindow {
            day: Day::from_weekday(weekday),
            start: LocalTime::parse("09:00").ok_or("time")?,
            end: LocalTime::parse("12:00").ok_or("time")?,
        }],
        review_on: Some(local.date_naive()),
        ..ContactPlan::default()
    };
    work.agent.register_survivor(OTHER_SURVIVOR, Some(plan))?;
    say(work.name, &format!("survivor registered with their plan: safe on {weekday} 09:00–12:00, vague voicemail,"));
    say("", "they call back after a dropped call, review the plan today");
    let out = work.agent.handle(Event::OutgoingCall {
        number: OTHER_SURVIVOR.into(),
        line: Line::Helpline,
        confirmed: false,
    })?;
    let Verdict::Warn { message, .. } = &out.verdict else { return Err("expected a safe-window warning".into()) };
    let g = out.guidance.ok_or("expected guidance")?;
    say(work.name, "┌─ before you call ─────────────────────────────────────────────");
    say("", &format!("│ warning: {message}"));
    if let Some(script) = &g.voicemail_script {
        say("", &format!("│ voicemail script: \"{script}\""));
    }
    say(
        "",
        &format!(
            "│ if the call drops: {}",
            match g.dropped_call {
                quietline_core::DroppedCall::TheyCallBack => "wait for them to call back",
                quietline_core::DroppedCall::WeCallBack => "call them back",
            }
        ),
    );
    if g.review_due {
        say("", "│ review due: ask whether this plan still suits them");
    }
    say("", "└───────────────────────────────────────────────────────────────");
    Ok(())
}

/// IT staff make an enrollment bundle for a phone of `mode` from that mode's signed policy.
fn enroll_bundle(p: &dyn Fn(&str) -> String, mode: &str, out: &str, relay_url: &str) -> Res<()> {
    let policy = p(&format!("policy-{mode}.ql"));
    admin(&[
        "enroll",
        "--org",
        "safe-harbor",
        "--root-pub",
        &p("root.pub"),
        "--mode",
        mode,
        "--policy",
        &policy,
        "--out",
        &p(out),
        "--relay",
        relay_url,
        "--relay-key",
        &p("it-lead.key"),
    ])?;
    Ok(())
}

fn sms_of(admin_output: &str) -> Res<String> {
    admin_output
        .lines()
        .find_map(|l| l.strip_prefix("SMS: "))
        .map(|s| s.trim().to_string())
        .ok_or_else(|| "no SMS line in quietline-admin output".into())
}

fn list_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default()
}
