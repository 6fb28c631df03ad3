//! A stand-in phone for interoperability tests: the real core agent on a desktop key protector
//! and the system clock, driven from the command line.
//!
//! ```text
//! phone enroll DIR BUNDLE_FILE RESPONSE_OUT      enroll from a bundle, write the enrollment response
//! phone apply  DIR COMMAND_FILE RECEIPT_OUT      apply a command text, acknowledge its actions as the
//!                                                app would, and write the signed receipt
//! ```
//! `apply` prints `status=<applied|refused|replayed> wipe=<none|selective|full>` and exits 1 with
//! `rejected: <reason>` when the agent refuses the command.

use quietline_core::{
    AckResult, Agent, AgentConfig, Clock, CommandStatus, FileKeyProtector, KeyProtector, PlatformCaps, SystemClock,
};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

fn parts(dir: &Path) -> (AgentConfig, Arc<dyn KeyProtector>, Arc<dyn Clock>) {
    let protector: Arc<dyn KeyProtector> = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new(0).unwrap_or_else(|| unreachable!("offset 0 is valid")));
    (AgentConfig::new(dir.join("state"), "US"), protector, clock)
}

fn read(p: &str) -> Result<String, String> {
    std::fs::read_to_string(p).map(|s| s.trim().to_string()).map_err(|e| format!("{p}: {e}"))
}

fn write(p: &str, s: &str) -> Result<(), String> {
    std::fs::write(p, format!("{s}\n")).map_err(|e| format!("{p}: {e}"))
}

fn enroll(dir: &str, bundle: &str, response_out: &str) -> Result<(), String> {
    let (config, protector, clock) = parts(Path::new(dir));
    let (mut agent, response) =
        Agent::enroll(config, protector, clock, &read(bundle)?).map_err(|e| format!("rejected: {e}"))?;
    // A desktop stand-in for an Android device owner: it can wipe the whole phone.
    agent
        .set_platform_caps(PlatformCaps { full_wipe: true, prefix_dialing: true })
        .map_err(|e| format!("caps: {e}"))?;
    write(response_out, &response)?;
    println!("enrolled device {}", agent.device_id().unwrap_or_default());
    Ok(())
}

fn apply(dir: &str, command: &str, receipt_out: &str) -> Result<(), String> {
    let (config, protector, clock) = parts(Path::new(dir));
    let mut agent = Agent::open(&config.dir, protector, clock).map_err(|e| format!("cannot open the agent: {e}"))?;
    let before = agent.queued_receipts().len();
    let result = agent.apply_command(&read(command)?).map_err(|e| format!("rejected: {e}"))?;
    // The app performs each action and acknowledges it; lock and purge receipts follow the ack.
    for a in &result.actions {
        agent.ack(a.id, AckResult::Done).map_err(|e| format!("ack: {e}"))?;
    }
    let receipt = match &result.receipt {
        Some(r) => Some(r.clone()),
        None if result.wipe.is_none() => agent.queued_receipts().get(before..).and_then(|r| r.last().cloned()),
        None => None,
    };
    let status = match result.status {
        CommandStatus::Applied => "applied",
        CommandStatus::Refused => "refused",
        CommandStatus::Replayed => "replayed",
    };
    let wipe = result.wipe.map(|w| format!("{w:?}").to_lowercase()).unwrap_or_else(|| "none".into());
    println!("status={status} wipe={wipe}");
    let receipt = receipt.ok_or("the agent returned no receipt")?;
    write(receipt_out, &receipt)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["enroll", dir, bundle, out] => enroll(dir, bundle, out),
        ["apply", dir, command, out] => apply(dir, command, out),
        _ => Err("usage: phone enroll DIR BUNDLE RESPONSE_OUT | phone apply DIR COMMAND RECEIPT_OUT".into()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
