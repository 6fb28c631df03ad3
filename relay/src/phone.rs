//! The phone side (`docs/relay-protocol.md`): enrollment responses, the device's queue,
//! receipts, check-ins and push tokens.

use crate::error::ApiError;
use crate::request::OrgRequest;
use crate::{auth, now, ql_text, CHECKIN_BODY, PUSH_BODY, SMALL_BODY};
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use quietline_core::device;
use quietline_core::report::StatusReport;
use quietline_core::wire;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;

/// `POST /o/{org}/enrollments`: the enrollment response; its own signature is the proof of
/// possession, and IT must have announced the enrollment.
pub async fn post_enrollment(req: OrgRequest, body: Body) -> Result<StatusCode, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    req.count_addr()?;
    let body = req.body(body, "text/plain", SMALL_BODY).await?;
    let text = ql_text(&body)?;
    let r = device::verify_enroll_response(text).map_err(|_| ApiError::BadObject)?;
    let id = wire::hex(&r.device_id);
    st.limits.principal(&format!("{org}/{id}"), now())?;
    let eid = wire::hex(&r.enrollment_id);
    let key = wire::hex(&r.device_key);
    // The phone chooses a fresh enrollment id at every enrollment (so nothing signed for an
    // earlier one is accepted again): an announced device waiting for its key takes the first
    // response's id; once a key is stored only that enrollment's exact response is accepted.
    let Some(dev) = st.db.device(org, &id).await? else {
        return Err(ApiError::UnknownEnrollment);
    };
    if dev.device_key.as_deref() == Some(key.as_str()) {
        return Ok(StatusCode::OK);
    }
    if dev.device_key.is_some() {
        return Err(ApiError::EnrollmentConflict);
    }
    match st.db.store_response(org, &id, &eid, &key, text, now()).await? {
        Some(k) if k == key => {
            st.keys.forget(org, &id);
            Ok(StatusCode::CREATED)
        }
        Some(_) => Err(ApiError::EnrollmentConflict),
        None => Err(ApiError::UnknownEnrollment),
    }
}

fn challenge() -> Result<String, ApiError> {
    let mut c = [0u8; 16];
    SystemRandom::new().fill(&mut c).map_err(|_| ApiError::Internal)?;
    Ok(wire::hex(&c))
}

/// Whether a queued object still waits for this device.
fn waiting(q: &crate::db::QueueRow, dev: &crate::db::DeviceRow, answered: &[String]) -> bool {
    match q.kind.as_str() {
        "command" => !answered.contains(&q.id),
        "policy" => q.detail == dev.mode && dev.policy_version.is_none_or(|v| v < q.version),
        "root" => dev.root_version.is_none_or(|v| v < q.version),
        _ => false,
    }
}

/// `GET /o/{org}/queue`: the signed objects waiting for this device, and a fresh challenge.
pub async fn get_queue(req: OrgRequest) -> Result<Response, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let c = challenge()?;
    // Authenticated and recorded first (nonce used, challenge set), then the queue is read
    // for the device as stored now.
    let (dev, may_wait, session) = auth::poll(st, org, req.peer, &req.headers, &c).await?;
    let t = now();
    let items = if may_wait { st.db.queue_for(org, &dev.device_id, t).await? } else { Vec::new() };
    let answered =
        if items.iter().any(|q| q.kind == "command") { st.db.answered(org, &dev.device_id).await? } else { Vec::new() };
    let mut live: Vec<&crate::db::QueueRow> = items.iter().filter(|q| waiting(q, &dev, &answered)).collect();
    // Of several waiting policies only the newest is needed; rotations go in version order,
    // then the policy, then commands.
    let newest = live.iter().filter(|q| q.kind == "policy").map(|q| q.version).max();
    live.retain(|q| q.kind != "policy" || Some(q.version) == newest);
    live.sort_by_key(|q| match q.kind.as_str() {
        "root" => (0, q.version, q.created_at),
        "policy" => (1, 0, q.created_at),
        // In seq order: a phone refuses a seq below one it applied, so a later-numbered
        // command delivered first would make an earlier one unacceptable.
        _ => (2, q.version, q.created_at),
    });
    let ids: Vec<String> = live.iter().map(|q| q.id.clone()).collect();
    if !ids.is_empty() {
        st.db.delivered(org, &ids, &dev.device_id, t).await?;
    }
    let mut body = String::new();
    for q in live {
        body.push_str(&q.body);
        body.push('\n');
    }
    // Check-in freshness (`heartbeat`): the signed acknowledgement of the last verified check-in.
    if let Some(ack) = crate::heartbeat::ack_for(&st.cfg.heartbeat_keys, org, &dev, t) {
        body.push_str(&ack);
        body.push('\n');
    }
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert("ql-challenge", HeaderValue::from_str(&c).map_err(|_| ApiError::Internal)?);
    h.insert("ql-poll-after", HeaderValue::from(st.cfg.poll_after_secs));
    if let Some(s) = session {
        let mut v = HeaderValue::from_str(&s).map_err(|_| ApiError::Internal)?;
        v.set_sensitive(true);
        h.insert("ql-session", v);
    }
    Ok(r)
}

/// `POST /o/{org}/receipts`: one receipt. A receipt authenticates itself: it must verify under
/// the key of the device it names. No `Authorization` is needed, because a wipe's receipt is
/// delivered after the agent (and its device key) has been erased.
pub async fn post_receipt(req: OrgRequest, body: Body) -> Result<StatusCode, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    req.count_addr()?;
    let body = req.body(body, "text/plain", SMALL_BODY).await?;
    let text = ql_text(&body)?;
    let bytes = wire::from_text(text).map_err(|_| ApiError::BadObject)?;
    let named = wire::Receipt::from_bytes(&bytes).map_err(|_| ApiError::BadObject)?;
    let id = wire::hex(&named.device_id);
    st.limits.principal(&format!("{org}/{id}"), now())?;
    let dev = st.db.device(org, &id).await?.ok_or(ApiError::BadObject)?;
    let key = dev.device_key.as_deref().and_then(wire::unhex::<32>).ok_or(ApiError::BadObject)?;
    let r = device::verify_receipt(text, &key).map_err(|_| ApiError::BadObject)?;
    if wire::hex(&r.enrollment_id) != dev.enrollment_id {
        return Err(ApiError::BadObject);
    }
    let receipt_id = wire::hex(&ring::digest::digest(&ring::digest::SHA256, &r.signed_bytes()).as_ref()[..16]);
    let new = st
        .db
        .store_receipt(
            org,
            &id,
            &receipt_id,
            &wire::hex(&r.command_id),
            &name(&r.requested),
            &name(&r.outcome),
            &name(&r.performed),
            text,
            now(),
        )
        .await?;
    Ok(if new { StatusCode::CREATED } else { StatusCode::OK })
}

/// A wire enum's snake_case serde name (the same words the admin's JSON prints).
pub(crate) fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// `POST /o/{org}/checkin`: the device-signed status report answering this device's challenge.
pub async fn post_checkin(req: OrgRequest, body: Body) -> Result<StatusCode, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let body = req.body(body, "text/plain", CHECKIN_BODY).await?;
    let dev = req.device("POST", "/checkin", &body).await?;
    let text = ql_text(&body)?;
    let did = wire::unhex::<8>(&dev.row.device_id).ok_or(ApiError::Internal)?;
    let eid = wire::unhex::<4>(&dev.row.enrollment_id).ok_or(ApiError::Internal)?;
    let r = StatusReport::verify(text, &dev.key, &did, &eid).map_err(|_| ApiError::BadObject)?;
    let json = serde_json::to_string(&r).map_err(|_| ApiError::Internal)?;
    let pv = i64::try_from(r.policy_version).unwrap_or(i64::MAX);
    let rv = i64::try_from(r.root_version).unwrap_or(i64::MAX);
    if !st.db.check_in(org, &dev.row.device_id, &r.challenge, now(), &json, pv, rv).await? {
        return Err(ApiError::StaleChallenge);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The push-token body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushToken {
    /// `fcm` or `apns`.
    pub platform: String,
    /// The platform's token.
    pub token: String,
}

/// `PUT /o/{org}/push-token`.
pub async fn put_push_token(req: OrgRequest, body: Body) -> Result<StatusCode, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let body = req.body(body, "application/json", PUSH_BODY).await?;
    let dev = req.device("PUT", "/push-token", &body).await?;
    let p: PushToken = serde_json::from_slice(&body).map_err(|_| ApiError::BadRequest)?;
    let printable = |s: &str| s.bytes().all(|c| (0x21..0x7f).contains(&c));
    if !matches!(p.platform.as_str(), "fcm" | "apns")
        || p.token.is_empty()
        || p.token.len() > 4096
        || !printable(&p.token)
    {
        return Err(ApiError::BadRequest);
    }
    st.db.set_push_token(org, &dev.row.device_id, &p.platform, &p.token, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /o/{org}/push-token`.
pub async fn delete_push_token(req: OrgRequest) -> Result<StatusCode, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let dev = req.device("DELETE", "/push-token", b"").await?;
    st.db.drop_push_token(org, &dev.row.device_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
