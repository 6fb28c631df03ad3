//! The fleet view: one row per device from what the relay has seen (device-signed check-ins,
//! deliveries, receipts), and the read-only page that shows it. The page holds no key: it
//! reads the table with a short-lived view grant taken from the URL fragment (never sent to
//! the server in the URL, so it stays out of access logs).

use crate::error::ApiError;
use crate::{now, Shared};
use axum::http::header;
use axum::response::IntoResponse;
use quietline_core::report::StatusReport;
use quietline_core::trust;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Hours of silence before a device is flagged when its policy's offline rule is unknown (the
/// policy defaults' check-in notification).
const DEFAULT_SILENT_HOURS: u32 = 72;

/// Command counts for a device.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Commands {
    /// Queued and still live or answered.
    pub queued: u64,
    /// Fetched by the device at least once.
    pub delivered: u64,
    /// Answered by a receipt.
    pub acknowledged: u64,
}

/// One device in the fleet table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Row {
    /// Hex.
    pub device_id: String,
    /// Hex.
    pub enrollment_id: String,
    /// `work` or `byod`.
    pub mode: String,
    /// Whether the phone posted its enrollment response.
    pub enrolled: bool,
    /// Whether IT accepted its device key.
    pub key_accepted: bool,
    /// Last authenticated request (unix seconds).
    pub last_seen: Option<i64>,
    /// Last verified, challenge-bound check-in.
    pub last_checkin: Option<i64>,
    /// The policy version the phone reported.
    pub policy_version: Option<u64>,
    /// Its expiry.
    pub policy_expires_at: Option<i64>,
    /// Whether it is stale now.
    pub policy_stale: bool,
    /// Findings by kind, from the last check-in.
    pub findings: BTreeMap<String, u64>,
    /// Unacknowledged actions on the phone.
    pub pending_actions: u64,
    /// Whether the phone has seen its clock jump.
    pub clock_jumped: bool,
    /// Silent for longer than its policy's offline check-in rule allows.
    pub silent: bool,
    /// That limit, hours.
    pub silent_after_hours: u32,
    /// Commands.
    pub commands: Commands,
    /// The highest seq queued for it (so several IT laptops can number commands).
    pub max_seq: u32,
    /// A wipe is queued and no receipt answered it yet.
    pub unacked_wipe: bool,
    /// A receipt says a wipe was performed: `selective` or `full` (verify it locally).
    pub wiped: Option<String>,
    /// Whether it registered a push token.
    pub push: bool,
    /// Why the row is highlighted: `stale`, `non_compliant`, `silent`, `unacked_wipe`.
    pub flags: Vec<String>,
}

/// The fleet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fleet {
    /// The organisation.
    pub org: String,
    /// The relay's time.
    pub now: i64,
    /// One row per device.
    pub devices: Vec<Row>,
}

/// Builds the fleet table.
pub async fn fleet(st: &Shared, org: &str) -> Result<Fleet, ApiError> {
    let t = now();
    let devices = st.db.devices(org).await?;
    let commands = st.db.commands(org).await?;
    let delivered: HashSet<(String, String)> = st.db.deliveries(org).await?.into_iter().collect();
    let receipts = st.db.receipts(org, None).await?;
    let pushes: HashSet<String> = st.db.push_tokens(org).await?.into_iter().collect();
    // Offline check-in limits by (target, mode, version), from the queued policies.
    let mut limits: HashMap<(String, String, i64), u32> = HashMap::new();
    for p in st.db.policies(org).await? {
        if let Ok(sp) = trust::decode_policy(&p.body) {
            let c = &sp.body.rules.offline.check_in;
            let h = [c.notify_after_hours, c.lock_after_hours, c.wipe_after_hours].into_iter().flatten().min();
            limits.insert((p.target, p.detail, p.version), h.unwrap_or(DEFAULT_SILENT_HOURS));
        }
    }
    let mut rows = Vec::new();
    for d in devices {
        let report: Option<StatusReport> = d.report.as_deref().and_then(|r| serde_json::from_str(r).ok());
        let mine: Vec<_> = commands.iter().filter(|c| c.target == d.device_id).collect();
        let answered: HashSet<&str> =
            receipts.iter().filter(|r| r.device_id == d.device_id).map(|r| r.command_id.as_str()).collect();
        let cmds = Commands {
            queued: mine.len() as u64,
            delivered: mine.iter().filter(|c| delivered.contains(&(c.id.clone(), d.device_id.clone()))).count() as u64,
            acknowledged: mine.iter().filter(|c| answered.contains(c.id.as_str())).count() as u64,
        };
        let unacked_wipe =
            mine.iter().any(|c| c.detail.starts_with("wipe") && !answered.contains(c.id.as_str()) && c.expires_at > t);
        let wiped = receipts
            .iter()
            .filter(|r| {
                r.device_id == d.device_id && matches!(r.outcome.as_str(), "done" | "erased") && r.performed != "none"
            })
            .map(|r| r.performed.clone())
            .next_back();
        let pv = d.policy_version.unwrap_or(0);
        let silent_after_hours = [d.device_id.as_str(), "*"]
            .iter()
            .find_map(|tg| limits.get(&(tg.to_string(), d.mode.clone(), pv)).copied())
            .unwrap_or(DEFAULT_SILENT_HOURS);
        let since = d.last_checkin.or(d.enrolled_at).unwrap_or(d.announced_at);
        let silent = wiped.is_none() && t - since > i64::from(silent_after_hours) * 3600;
        let expires = report.as_ref().map(|r| r.policy_expires_at);
        let policy_stale = expires.is_some_and(|e| t >= e);
        let findings = report.as_ref().map(|r| r.findings.clone()).unwrap_or_default();
        let mut flags = Vec::new();
        if policy_stale {
            flags.push("stale".to_string());
        }
        if findings.keys().any(|k| k != "policy_stale") {
            flags.push("non_compliant".to_string());
        }
        if silent {
            flags.push("silent".to_string());
        }
        if unacked_wipe {
            flags.push("unacked_wipe".to_string());
        }
        rows.push(Row {
            device_id: d.device_id.clone(),
            enrollment_id: d.enrollment_id.clone(),
            mode: d.mode.clone(),
            enrolled: d.device_key.is_some(),
            key_accepted: d.key_accepted,
            last_seen: d.last_seen,
            last_checkin: d.last_checkin,
            policy_version: report.as_ref().map(|r| r.policy_version),
            policy_expires_at: expires,
            policy_stale,
            findings,
            pending_actions: report.as_ref().map(|r| r.pending_actions).unwrap_or(0),
            clock_jumped: report.as_ref().is_some_and(|r| r.clock_jumped),
            silent,
            silent_after_hours,
            commands: cmds,
            max_seq: mine.iter().map(|c| u32::try_from(c.version).unwrap_or(0)).max().unwrap_or(0),
            unacked_wipe,
            wiped,
            push: pushes.contains(&d.device_id),
            flags,
        });
    }
    Ok(Fleet { org: org.to_string(), now: t, devices: rows })
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /o/{org}/fleet`: the page (static; the data comes from `admin/fleet` with the grant).
pub async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, CSP)],
        include_str!("../web/fleet.html"),
    )
}

/// `GET /fleet.js`.
pub async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../web/fleet.js"))
}

/// `GET /fleet.css`.
pub async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../web/fleet.css"))
}
