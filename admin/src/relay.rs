//! Talking to `quietline-relay`: every request is signed with a staff (or root) key
//! (`QL-Staff`, see docs/relay.md). The relay is untrusted: what comes back (receipts, fleet
//! rows) is shown for what it is, and receipts are verified here against the device key.

use crate::AdminError;
use quietline_core::report::StaffAuth;
use quietline_core::trust::SigningKey;
use std::io::Read;
use std::time::Duration;

/// How far past the device record's next seq the relay's queue may take the next command.
const MAX_SEQ_JUMP: u32 = 10_000;

/// The largest answer read from a relay.
const MAX_ANSWER: u64 = 16 * 1024 * 1024;

/// An organisation's base URL on a relay: `https://host/o/ORG`.
#[derive(Debug, Clone)]
pub struct RelayUrl {
    /// Without a trailing slash.
    pub base: String,
    /// The org, from the URL's last `/o/ORG` segment.
    pub org: String,
}

impl RelayUrl {
    /// Parses `http(s)://host[:port]/…/o/ORG`.
    pub fn parse(url: &str) -> Result<Self, AdminError> {
        let base = url.trim().trim_end_matches('/').to_string();
        let bad = || {
            AdminError::BadArg(format!(
                "--relay {url:?}: expected https://HOST/o/ORG (the org's base URL on the relay)"
            ))
        };
        let rest = base.strip_prefix("https://").or_else(|| base.strip_prefix("http://")).ok_or_else(bad)?;
        let (prefix, org) = rest.rsplit_once("/o/").ok_or_else(bad)?;
        if prefix.is_empty() || org.is_empty() || !org.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(bad());
        }
        Ok(Self { org: org.to_string(), base })
    }
}

/// What the relay answered.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Sends a staff-signed request to `endpoint` (e.g. `/admin/commands`).
pub fn call(
    relay: &RelayUrl,
    key: &SigningKey,
    method: &str,
    endpoint: &str,
    query: &str,
    body: Option<(&str, &[u8])>,
) -> Result<Answer, AdminError> {
    let now = i64::from(crate::files::now_secs()?);
    let bytes = body.map(|(_, b)| b).unwrap_or(b"");
    let auth = StaffAuth::sign(key, now, &relay.org, method, endpoint, query, bytes)
        .map_err(|e| AdminError::BadArg(format!("cannot sign the request: {e}")))?;
    let url = if query.is_empty() {
        format!("{}{endpoint}", relay.base)
    } else {
        format!("{}{endpoint}?{query}", relay.base)
    };
    let a = agent();
    let res = match (method, body) {
        ("GET", _) => a.get(&url).header("Authorization", auth.header()).call(),
        (_, Some((ct, b))) => a.post(&url).header("Authorization", auth.header()).header("Content-Type", ct).send(b),
        (_, None) => a.post(&url).header("Authorization", auth.header()).send_empty(),
    };
    let mut r = res.map_err(|e| AdminError::Rejected(format!("relay {}: {e}", relay.base)))?;
    let status = r.status().as_u16();
    let mut body = String::new();
    r.body_mut()
        .as_reader()
        .take(MAX_ANSWER)
        .read_to_string(&mut body)
        .map_err(|e| AdminError::Rejected(format!("relay {}: {e}", relay.base)))?;
    Ok(Answer { status, body })
}

/// Fails unless the answer is a 2xx, with the relay's error code.
pub fn ok(a: Answer, what: &str) -> Result<Answer, AdminError> {
    if (200..300).contains(&a.status) {
        return Ok(a);
    }
    let code = serde_json::from_str::<serde_json::Value>(&a.body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| "no error code".into());
    Err(AdminError::Rejected(format!("the relay refused {what}: {} {code}", a.status)))
}

/// Queues a `QL:` object at `endpoint`; returns whether it was new (201) or known (200).
pub fn queue(relay: &RelayUrl, key: &SigningKey, endpoint: &str, text: &str, what: &str) -> Result<bool, AdminError> {
    let a = ok(call(relay, key, "POST", endpoint, "", Some(("text/plain", text.as_bytes())))?, what)?;
    Ok(a.status == 201)
}

/// The fleet as the relay reports it.
pub fn fleet(relay: &RelayUrl, key: &SigningKey) -> Result<serde_json::Value, AdminError> {
    let a = ok(call(relay, key, "GET", "/admin/fleet", "", None)?, "the fleet request")?;
    serde_json::from_str(&a.body).map_err(|_| AdminError::Rejected("the relay's fleet answer is not JSON".into()))
}

/// The next seq for a device: after the device record's and after anything queued on the relay
/// by any IT laptop, so several staff can command one phone without sharing a file.
pub fn next_seq(relay: &RelayUrl, key: &SigningKey, device_id: &str, local: u32) -> Result<u32, AdminError> {
    let f = fleet(relay, key)?;
    let queued = f["devices"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["device_id"].as_str() == Some(device_id))
        .and_then(|d| d["max_seq"].as_u64())
        .unwrap_or(0);
    // The relay is untrusted: a made-up huge seq would burn the phone's sequence space, so a
    // jump far past this record is refused rather than used.
    let after = u32::try_from(queued).unwrap_or(u32::MAX).saturating_add(1);
    if after > local.saturating_add(MAX_SEQ_JUMP) {
        return Err(AdminError::Rejected(format!(
            "the relay reports seq {queued} queued for device {device_id}, far past this record's next seq {local}; \
             not trusting it (give --seq to choose)"
        )));
    }
    Ok(local.max(after))
}

/// `--relay` on `policy sign`: queue the signed object.
pub(crate) fn queue_signed(
    relay: Option<&str>,
    key: Option<&SigningKey>,
    endpoint: &str,
    text: &str,
    what: &str,
    out: &mut crate::Out<'_>,
) -> Result<(), AdminError> {
    let Some(url) = relay else { return Ok(()) };
    let r = RelayUrl::parse(url)?;
    let key = key.ok_or_else(|| AdminError::BadArg("--relay needs a signing key".into()))?;
    let new = queue(&r, key, endpoint, text, what)?;
    out.line(format!("{what} {} on relay {}", if new { "queued" } else { "was already queued" }, r.base))
}

/// After `command …`: queue it on the relay and/or show the `sms:` QR code.
pub(crate) fn after_command(
    relay: Option<&RelayUrl>,
    sms_qr: Option<&str>,
    key: &SigningKey,
    text: &str,
    out: &mut crate::Out<'_>,
) -> Result<(), AdminError> {
    if let Some(r) = relay {
        let a = ok(call(r, key, "POST", "/admin/commands", "", Some(("text/plain", text.as_bytes())))?, "the command")?;
        let v: serde_json::Value = serde_json::from_str(&a.body).unwrap_or_default();
        out.line(format!(
            "command {} for device {} {} on relay {}",
            v["command_id"].as_str().unwrap_or("?"),
            v["device_id"].as_str().unwrap_or("?"),
            if a.status == 201 { "queued" } else { "was already queued" },
            r.base
        ))?;
    }
    if let Some(number) = sms_qr {
        let link = sms_link(number, text)?;
        out.line(format!("sms link: {link}"))?;
        out.line("Scan with IT's phone and send the text as it is (one SMS):")?;
        out.line(crate::qr::qr(&link)?)?;
    }
    Ok(())
}

/// An RFC 5724 `sms:` URI: the phone's number in E.164 and the command as the body. Every
/// character of a `QL:` text is allowed in a URI query as it is.
pub fn sms_link(number: &str, text: &str) -> Result<String, AdminError> {
    let n: String = number.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    let digits = n.strip_prefix('+').unwrap_or("");
    if !(7..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        // The number is not echoed: it may be anyone's.
        return Err(AdminError::BadArg(
            "--sms-qr: give the phone's number in international form, +CC…, 7 to 15 digits".into(),
        ));
    }
    if !text.chars().all(|c| c.is_ascii_alphanumeric() || "-_:".contains(c)) {
        return Err(AdminError::BadArg("--sms-qr: the command text is not a QL: text".into()));
    }
    Ok(format!("sms:+{digits}?body={text}"))
}

/// `enroll --relay`: announce the bundle so the relay accepts the phone's response.
pub(crate) fn announce(
    relay: Option<&str>,
    key: Option<&std::path::Path>,
    bundle: &str,
    out: &mut crate::Out<'_>,
) -> Result<(), AdminError> {
    let (Some(url), Some(key)) = (relay, key) else { return Ok(()) };
    let r = RelayUrl::parse(url)?;
    let key = crate::files::read_private_key(key)?;
    // The relay learns the device, mode and policy, never the bundle's secret: that secret is
    // what proves the phone's response to IT, so a relay holding it could forge one.
    let mut body = quietline_core::trust::decode_bundle(bundle.trim())
        .map_err(|e| AdminError::trust("cannot read the bundle to announce", e))?;
    body.enroll_secret = "0".repeat(64);
    let withheld = quietline_core::trust::encode_bundle(&body)
        .map_err(|e| AdminError::trust("cannot encode the announcement", e))?;
    ok(call(&r, &key, "POST", "/admin/enrollments", "", Some(("text/plain", withheld.as_bytes())))?, "the enrollment")?;
    out.line(format!("enrollment announced on relay {}", r.base))
}

/// `enroll accept --relay`: the accepted device key becomes the one the relay authenticates.
pub(crate) fn accept(
    relay: Option<&str>,
    key: Option<&std::path::Path>,
    record: &crate::DeviceRecord,
    out: &mut crate::Out<'_>,
) -> Result<(), AdminError> {
    let (Some(url), Some(key)) = (relay, key) else { return Ok(()) };
    let r = RelayUrl::parse(url)?;
    let key = crate::files::read_private_key(key)?;
    let body = serde_json::to_vec(record).map_err(|e| AdminError::BadArg(format!("cannot encode JSON: {e}")))?;
    ok(call(&r, &key, "POST", "/admin/devices", "", Some(("application/json", &body)))?, "the device record")?;
    out.line(format!("device key accepted on relay {}", r.base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_name_their_org() {
        let r = RelayUrl::parse("https://relay.example.org/o/acme/").expect("url");
        assert_eq!((r.base.as_str(), r.org.as_str()), ("https://relay.example.org/o/acme", "acme"));
        for bad in
            ["relay.example.org/o/acme", "https://relay.example.org/", "https://x/o/", "ftp://x/o/a", "https://x/o/a b"]
        {
            assert!(RelayUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sms_links_take_only_international_numbers_and_ql_text() {
        assert_eq!(sms_link("+1 (207) 555-0100", "QL:abc-_").expect("link"), "sms:+12075550100?body=QL:abc-_");
        let e = sms_link("2075550100", "QL:a").expect_err("no country code").to_string();
        assert!(!e.contains("2075550100"), "the number is not echoed: {e}");
        assert!(sms_link("+12075550100", "QL:a&b=c").is_err());
    }
}
