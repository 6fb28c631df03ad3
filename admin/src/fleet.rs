//! `fleet status`, `fleet receipts`, `fleet enrollments` and `fleet link`: what the relay says
//! about the phones, with every receipt verified here against the device key IT accepted (the
//! relay could invent a "wiped" row; it cannot forge a receipt).

use crate::cli::{FleetArgs, FleetCmd, LinkArgs};
use crate::command::{check_receipt, ReceiptJson};
use crate::files::{self, rfc3339, Device};
use crate::relay::{self, RelayUrl};
use crate::{AdminError, Out};
use quietline_core::report::{ViewGrant, MAX_VIEW_GRANT_SECS};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub(crate) fn run(c: &FleetCmd, out: &mut Out<'_>) -> Result<(), AdminError> {
    match c {
        FleetCmd::Status(a) => status(a, out),
        FleetCmd::Receipts(a) => receipts(a, out),
        FleetCmd::Enrollments(a) => enrollments(a, out),
        FleetCmd::Link(a) => link(a, out),
    }
}

fn records(paths: &[PathBuf]) -> Result<BTreeMap<String, Device>, AdminError> {
    let mut m = BTreeMap::new();
    for p in paths {
        let files: Vec<PathBuf> = if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| AdminError::io(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            v.sort();
            v
        } else {
            vec![p.clone()]
        };
        for f in files {
            // A directory may hold other JSON (rules): only device records count there.
            match files::read_device(&f) {
                Ok(d) => {
                    m.insert(d.record.device_id.clone(), d);
                }
                Err(e) if !p.is_dir() => return Err(e),
                Err(_) => {}
            }
        }
    }
    Ok(m)
}

/// Receipts by device: (verified JSON, rejections).
type Checked = BTreeMap<String, (Vec<ReceiptJson>, Vec<String>)>;

fn fetch_receipts(
    r: &RelayUrl,
    key: &quietline_core::trust::SigningKey,
    devs: &BTreeMap<String, Device>,
) -> Result<Checked, AdminError> {
    let a = relay::ok(relay::call(r, key, "GET", "/admin/receipts", "", None)?, "the receipts request")?;
    let list: Vec<serde_json::Value> = serde_json::from_str(&a.body)
        .map_err(|_| AdminError::Rejected("the relay's receipts answer is not JSON".into()))?;
    let mut m: Checked = BTreeMap::new();
    for item in list {
        let device = item["device_id"].as_str().unwrap_or("").to_string();
        let text = item["text"].as_str().unwrap_or("");
        let e = m.entry(device.clone()).or_default();
        match devs.get(&device) {
            None => e.1.push("no device record to verify it with".into()),
            Some(d) => match check_receipt(text, d) {
                Ok(rc) => e.0.push(ReceiptJson::from(&rc)),
                Err(err) => e.1.push(err.to_string()),
            },
        }
    }
    Ok(m)
}

fn when(v: &serde_json::Value) -> String {
    v.as_i64().map(rfc3339).unwrap_or_else(|| "never".into())
}

fn status(a: &FleetArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let r = RelayUrl::parse(&a.relay)?;
    let key = files::read_private_key(&a.key)?;
    let devs = records(&a.devices)?;
    let f = relay::fleet(&r, &key)?;
    let checked = fetch_receipts(&r, &key, &devs)?;
    let rows = f["devices"].as_array().cloned().unwrap_or_default();
    out.line(format!("fleet of {} on {}: {} devices", r.org, r.base, rows.len()))?;
    out.line(format!(
        "{:<16}  {:<4}  {:<20}  {:<12}  {:<28}  {:<9}  {:<24}  {}",
        "device", "mode", "last check-in", "policy", "findings", "cmds q/d/a", "receipts (verified here)", "attention"
    ))?;
    for d in rows {
        let id = d["device_id"].as_str().unwrap_or("?");
        let policy = match d["policy_version"].as_u64() {
            Some(v) if d["policy_stale"].as_bool() == Some(true) => format!("v{v} STALE"),
            Some(v) => format!("v{v}"),
            None => "-".into(),
        };
        let findings: Vec<String> = d["findings"]
            .as_object()
            .map(|o| {
                o.iter().map(|(k, n)| if n.as_u64() == Some(1) { k.clone() } else { format!("{k}x{n}") }).collect()
            })
            .unwrap_or_default();
        let c = &d["commands"];
        let cmds = format!("{}/{}/{}", c["queued"], c["delivered"], c["acknowledged"]);
        let (ok, bad) = checked.get(id).map(|(o, b)| (o.as_slice(), b.len())).unwrap_or((&[], 0));
        let wiped = ok.iter().rev().find(|r| {
            matches!(
                r.outcome,
                quietline_core::wire::ReceiptOutcome::Done | quietline_core::wire::ReceiptOutcome::Erased
            ) && r.performed != quietline_core::wire::PerformedScope::None
        });
        let mut receipts = format!("{} ok", ok.len());
        if let Some(w) = wiped {
            // Say what the receipt says: an `erased` receipt was signed after the agent's data
            // was erased and before the platform wipe was attempted.
            let scope = format!("{:?}", w.performed).to_lowercase();
            match w.outcome {
                quietline_core::wire::ReceiptOutcome::Erased => {
                    receipts.push_str(&format!(", agent erased, {scope} wipe requested"))
                }
                _ => receipts.push_str(&format!(", wiped {scope}")),
            }
        }
        if bad > 0 {
            receipts.push_str(&format!(", {bad} NOT VERIFIED"));
        }
        let mut flags: Vec<String> =
            d["flags"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect();
        // The relay's word that a phone was wiped is shown only when a verified receipt says so.
        if d["wiped"].is_string() && wiped.is_none() {
            flags.push("relay_claims_wipe_unverified".into());
        }
        let last = if d["last_checkin"].is_null() {
            if d["enrolled"].as_bool() == Some(true) {
                "enrolled, no check-in".into()
            } else {
                "not enrolled yet".into()
            }
        } else {
            when(&d["last_checkin"])
        };
        out.line(format!(
            "{:<16}  {:<4}  {:<20}  {:<12}  {:<28}  {:<9}  {:<24}  {}",
            id,
            d["mode"].as_str().unwrap_or("?"),
            last,
            policy,
            if findings.is_empty() { "none".into() } else { findings.join(",") },
            cmds,
            receipts,
            if flags.is_empty() { "-".into() } else { flags.join(",") }
        ))?;
    }
    Ok(())
}

fn receipts(a: &FleetArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let r = RelayUrl::parse(&a.relay)?;
    let key = files::read_private_key(&a.key)?;
    let devs = records(&a.devices)?;
    let checked = fetch_receipts(&r, &key, &devs)?;
    let mut rejected = 0;
    for (device, (ok, bad)) in &checked {
        for rc in ok {
            let json = serde_json::to_string(rc).map_err(|e| AdminError::BadArg(format!("cannot encode JSON: {e}")))?;
            out.line(format!("verified {device}: {json}"))?;
        }
        for b in bad {
            rejected += 1;
            out.line(format!("NOT VERIFIED {device}: {b}"))?;
        }
    }
    if rejected > 0 {
        return Err(AdminError::Rejected(format!("{rejected} receipt(s) from the relay did not verify")));
    }
    Ok(())
}

fn enrollments(a: &FleetArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let r = RelayUrl::parse(&a.relay)?;
    let key = files::read_private_key(&a.key)?;
    let ans = relay::ok(relay::call(&r, &key, "GET", "/admin/enrollments", "", None)?, "the enrollments request")?;
    for l in ans.body.lines().filter(|l| l.starts_with("QL:")) {
        out.line(l)?;
    }
    Ok(())
}

fn link(a: &LinkArgs, out: &mut Out<'_>) -> Result<(), AdminError> {
    let r = RelayUrl::parse(&a.relay)?;
    let key = files::read_private_key(&a.key)?;
    let secs = i64::from(a.minutes) * 60;
    if secs <= 0 || secs > MAX_VIEW_GRANT_SECS {
        return Err(AdminError::BadArg(format!("--minutes {}: 1..=60", a.minutes)));
    }
    let now = i64::from(files::now_secs()?);
    let g = ViewGrant::sign(&key, &r.org, now, now + secs).map_err(|e| AdminError::BadArg(e.to_string()))?;
    out.line(format!("{}/fleet#{}", r.base, g.text()))?;
    out.line(format!("(read-only, valid until {})", rfc3339(now + secs)))
}
