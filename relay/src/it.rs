//! The IT side (`docs/relay.md`): staff-signed requests that queue signed objects, announce and
//! accept enrollments, and read the fleet and its receipts. A queued object is accepted only if
//! it verifies against the organisation's keys (defence in depth: the phone verifies it again).

use crate::auth::Staff;
use crate::db::{QueueRow, StaffRow};
use crate::error::ApiError;
use crate::phone::name;
use crate::request::OrgRequest;
use crate::{fleet, now, ql_text, Shared, OBJECT_BODY, SMALL_BODY};
use axum::body::Body;
use axum::extract::RawQuery;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use quietline_core::trust::{self, Role, RootSet};
use quietline_core::wire::{self, Command, CommandAction};
use serde::{Deserialize, Serialize};

/// How long a root rotation stays queued: phones that missed it still need it.
const ROTATION_KEEP_SECS: i64 = 10 * 365 * 86_400;

async fn root_set(st: &Shared, org: &str) -> Result<RootSet, ApiError> {
    let (version, keys, threshold) = st.db.org_root(org).await?.ok_or(ApiError::NotFound)?;
    Ok(RootSet {
        version: u64::try_from(version).map_err(|_| ApiError::Internal)?,
        keys: keys.iter().filter_map(|k| wire::unhex::<32>(k)).collect(),
        threshold: u32::try_from(threshold).map_err(|_| ApiError::Internal)?,
    })
}

/// The staff list in force for `target` and `mode`: the newest verified policy's.
fn current_staff<'a>(rows: &'a [StaffRow], targets: &[&str], mode: &str) -> Vec<&'a StaffRow> {
    let relevant: Vec<&StaffRow> =
        rows.iter().filter(|r| targets.contains(&r.target.as_str()) && r.mode == mode).collect();
    let Some(max) = relevant.iter().map(|r| r.version).max() else { return Vec::new() };
    // Of the newest version, prefer the device's own entry over the fleet-wide one.
    let newest: Vec<&StaffRow> = relevant.into_iter().filter(|r| r.version == max).collect();
    let own: Vec<&StaffRow> = newest.iter().copied().filter(|r| r.target != "*").collect();
    if own.is_empty() {
        newest
    } else {
        own
    }
}

fn roles_of(r: &StaffRow) -> Vec<Role> {
    serde_json::from_str(&r.roles).unwrap_or_default()
}

/// Verifies a signed policy against the org's keys and queues it. Returns whether it was new.
pub(crate) async fn queue_policy(st: &Shared, org: &str, text: &str) -> Result<bool, ApiError> {
    let t = now();
    let sp = trust::decode_policy(text).map_err(|_| ApiError::BadObject)?;
    let b = &sp.body;
    if b.org != org || b.expires_at <= t || b.targets.is_empty() {
        return Err(ApiError::BadObject);
    }
    let targets: Vec<String> = b.targets.iter().map(|s| s.to_ascii_lowercase()).collect();
    if targets.iter().any(|t| t != "*" && wire::unhex::<8>(t).is_none()) {
        return Err(ApiError::BadObject);
    }
    let mode = name(&b.rules.mode);
    let root = root_set(st, org).await?;
    let root_signed = trust::check_root_signed(&sp.container, &root).is_ok();
    if !root_signed {
        // A staff key with update_policy may sign, but not change the staff list (as on the phone).
        let rows = st.db.staff(org, t).await?;
        for target in &targets {
            let cur = current_staff(&rows, &[target.as_str(), "*"], &mode);
            let signers: Vec<[u8; 32]> = cur
                .iter()
                .filter(|r| roles_of(r).contains(&Role::UpdatePolicy))
                .filter_map(|r| wire::unhex::<32>(&r.pubkey))
                .collect();
            if trust::count_signers(&sp.container, &signers) == 0 {
                return Err(ApiError::BadObject);
            }
            let mut now_list: Vec<(String, Vec<Role>)> = cur.iter().map(|r| (r.pubkey.clone(), roles_of(r))).collect();
            let mut new_list: Vec<(String, Vec<Role>)> = b
                .staff
                .iter()
                .map(|s| {
                    let mut r = s.roles.clone();
                    r.sort();
                    r.dedup();
                    (s.key.to_ascii_lowercase(), r)
                })
                .collect();
            now_list.sort();
            new_list.sort();
            if now_list != new_list {
                return Err(ApiError::Forbidden);
            }
        }
    }
    let signer = sp.container.signatures.first().map(|(k, _)| wire::hex(k)).unwrap_or_default();
    let version = i64::try_from(b.version).map_err(|_| ApiError::BadObject)?;
    let mut new = false;
    for target in &targets {
        let row = QueueRow {
            id: format!("p:{}:{target}", sp.digest),
            target: target.clone(),
            kind: "policy".into(),
            version,
            key_id: signer.clone(),
            detail: mode.clone(),
            body: text.to_string(),
            created_at: t,
            expires_at: b.expires_at,
        };
        new |= st.db.enqueue(org, &row).await?;
        st.db.drop_superseded_policies(org, target, &mode, version).await?;
        if root_signed {
            let mut staff = Vec::new();
            for s in &b.staff {
                let k = trust::parse_key(&s.key).map_err(|_| ApiError::BadObject)?;
                let mut roles = s.roles.clone();
                roles.sort();
                roles.dedup();
                let roles = serde_json::to_string(&roles).map_err(|_| ApiError::Internal)?;
                staff.push((wire::hex(&wire::key_id(&k)), wire::hex(&k), roles));
            }
            st.db.set_staff(org, target, &mode, version, &staff, b.expires_at).await?;
        }
    }
    Ok(new)
}

fn created(new: bool) -> StatusCode {
    if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// `POST /o/{org}/admin/policies`: a signed policy (root-signed, or staff-signed without a
/// staff change), queued for its targets.
pub async fn post_policy(req: OrgRequest, body: Body) -> Result<StatusCode, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let body = req.body(body, "text/plain", OBJECT_BODY).await?;
    req.staff("POST", "/admin/policies", "", &body).await?;
    Ok(created(queue_policy(st, org, ql_text(&body)?).await?))
}

/// `POST /o/{org}/admin/roots`: a root rotation, verified against the relay's current root set
/// (version N+1, both thresholds) and queued for every device.
pub async fn post_root(req: OrgRequest, body: Body) -> Result<StatusCode, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let body = req.body(body, "text/plain", OBJECT_BODY).await?;
    req.staff("POST", "/admin/roots", "", &body).await?;
    let text = ql_text(&body)?;
    let (c, b) = trust::decode_root(text).map_err(|_| ApiError::BadObject)?;
    let cur = root_set(st, org).await?;
    let new = trust::verify_rotation(&c, &b, &cur, org).map_err(|_| ApiError::BadObject)?;
    let version = i64::try_from(new.version).map_err(|_| ApiError::BadObject)?;
    let keys: Vec<String> = new.keys.iter().map(|k| wire::hex(k)).collect();
    let t = now();
    let row = QueueRow {
        id: format!("r:{version}"),
        target: "*".into(),
        kind: "root".into(),
        version,
        key_id: c.signatures.first().map(|(k, _)| wire::hex(k)).unwrap_or_default(),
        detail: String::new(),
        body: text.to_string(),
        created_at: t,
        expires_at: t.saturating_add(ROTATION_KEEP_SECS),
    };
    let fresh = st.db.enqueue(org, &row).await?;
    st.db.set_org_root(org, version, &keys, i64::from(new.threshold)).await?;
    Ok(created(fresh))
}

/// The answer to a queued command.
#[derive(Debug, Serialize, Deserialize)]
pub struct Queued {
    /// The command id receipts will name.
    pub command_id: String,
    /// The device.
    pub device_id: String,
    /// Its seq.
    pub seq: u32,
}

/// `POST /o/{org}/admin/commands`: a command signed by a staff key of the device's policy that
/// holds the action's role, for a known device and its current enrollment.
pub async fn post_command(req: OrgRequest, body: Body) -> Result<Response, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let body = req.body(body, "text/plain", SMALL_BODY).await?;
    req.staff("POST", "/admin/commands", "", &body).await?;
    let text = ql_text(&body)?;
    let bytes = wire::from_text(text).map_err(|_| ApiError::BadObject)?;
    let c = Command::from_bytes(&bytes).map_err(|_| ApiError::BadObject)?;
    let t = now();
    let device_id = wire::hex(&c.device_id);
    let dev = st.db.device(org, &device_id).await?.ok_or(ApiError::NotFound)?;
    if dev.enrollment_id != wire::hex(&c.enrollment_id) {
        return Err(ApiError::Conflict);
    }
    let lifetime = i64::from(c.expires_at) - i64::from(c.issued_at);
    if i64::from(c.expires_at) <= t || lifetime <= 0 || lifetime > i64::from(trust::MAX_COMMAND_LIFETIME_SECS) {
        return Err(ApiError::BadObject);
    }
    let rows = st.db.staff(org, t).await?;
    let kid = wire::hex(&c.key_id);
    let signer = current_staff(&rows, &[device_id.as_str(), "*"], &dev.mode).into_iter().find(|r| r.key_id == kid);
    let Some(signer) = signer else { return Err(ApiError::BadObject) };
    let key = wire::unhex::<32>(&signer.pubkey).ok_or(ApiError::Internal)?;
    if !trust::verify(&key, &c.signed_bytes(), &c.signature) {
        return Err(ApiError::BadObject);
    }
    let need = match c.action {
        CommandAction::Lock => Some(Role::Lock),
        CommandAction::WipeSelective => Some(Role::WipeSelective),
        CommandAction::WipeFull => Some(Role::WipeFull),
        CommandAction::PurgeSurvivorData => Some(Role::PurgeSurvivorData),
        CommandAction::Ping => None,
    };
    if need.is_some_and(|r| !roles_of(signer).contains(&r)) {
        return Err(ApiError::Forbidden);
    }
    let command_id = wire::hex(&c.id());
    let row = QueueRow {
        id: command_id.clone(),
        target: device_id.clone(),
        kind: "command".into(),
        version: i64::from(c.seq),
        key_id: kid,
        detail: name(&c.action),
        body: text.to_string(),
        created_at: t,
        expires_at: i64::from(c.expires_at),
    };
    let new = st.db.enqueue(org, &row).await?;
    Ok((created(new), Json(Queued { command_id, device_id, seq: c.seq })).into_response())
}

/// `POST /o/{org}/admin/enrollments`: IT announces an enrollment with its bundle; the bundle
/// must pin this org's root, and its initial policy must be root-signed.
pub async fn post_enrollment(req: OrgRequest, body: Body) -> Result<StatusCode, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let body = req.body(body, "text/plain", OBJECT_BODY).await?;
    // Authentication first; the bundle is decoded only to learn which staff keys its
    // root-signed policy names (a new org's first request), and those count only if the policy
    // verifies under the org's root.
    let root = root_set(st, org).await?;
    let bundle = ql_text(&body).ok().and_then(|t| trust::decode_bundle(t).ok());
    let also: Vec<[u8; 32]> = bundle
        .as_ref()
        .and_then(|b| trust::decode_policy(&b.policy).ok())
        .filter(|sp| sp.body.org == org && trust::check_root_signed(&sp.container, &root).is_ok())
        .map(|sp| sp.body.staff.iter().filter_map(|s| trust::parse_key(&s.key).ok()).collect())
        .unwrap_or_default();
    req.staff_or("POST", "/admin/enrollments", &body, &also).await?;
    let b = bundle.ok_or(ApiError::BadObject)?;
    let pinned = trust::parse_key(&b.root_key).map_err(|_| ApiError::BadObject)?;
    let device_id = wire::unhex::<8>(&b.device_id).ok_or(ApiError::BadObject)?;
    let enrollment_id = wire::unhex::<4>(&b.enrollment_id).ok_or(ApiError::BadObject)?;
    if b.org != org || !root.keys.contains(&pinned) {
        return Err(ApiError::BadObject);
    }
    let sp = trust::decode_policy(&b.policy).map_err(|_| ApiError::BadObject)?;
    if trust::check_root_signed(&sp.container, &root).is_err() {
        return Err(ApiError::BadObject);
    }
    let id = wire::hex(&device_id);
    st.db.announce(org, &id, &wire::hex(&enrollment_id), &name(&b.mode), now()).await?;
    st.keys.forget(org, &id);
    queue_policy(st, org, &b.policy).await?;
    Ok(StatusCode::CREATED)
}

/// `GET /o/{org}/admin/enrollments`: responses that IT has not accepted yet, one per line.
pub async fn get_enrollments(req: OrgRequest) -> Result<Response, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    req.staff("GET", "/admin/enrollments", "", b"").await?;
    let mut out = String::new();
    for d in st.db.devices(org).await? {
        if let (false, Some(r)) = (d.key_accepted, d.enroll_response) {
            out.push_str(&r);
            out.push('\n');
        }
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], out).into_response())
}

/// A device record IT accepted (the `enroll accept` output).
#[derive(Debug, Deserialize)]
pub struct Accepted {
    /// Hex.
    pub device_id: String,
    /// Hex.
    pub enrollment_id: String,
    /// Hex.
    pub device_key: String,
    /// Ignored here.
    #[serde(default)]
    pub next_seq: Option<u64>,
}

/// `POST /o/{org}/admin/devices`: IT accepted this device key; it replaces whatever the
/// relay held for the enrollment.
pub async fn post_device(req: OrgRequest, body: Body) -> Result<StatusCode, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let body = req.body(body, "application/json", SMALL_BODY).await?;
    req.staff("POST", "/admin/devices", "", &body).await?;
    let a: Accepted = serde_json::from_slice(&body).map_err(|_| ApiError::BadRequest)?;
    let ok = wire::unhex::<8>(&a.device_id).is_some()
        && wire::unhex::<4>(&a.enrollment_id).is_some()
        && wire::unhex::<32>(&a.device_key).is_some();
    if !ok {
        return Err(ApiError::BadRequest);
    }
    let (d, e, k) =
        (a.device_id.to_ascii_lowercase(), a.enrollment_id.to_ascii_lowercase(), a.device_key.to_ascii_lowercase());
    if st.db.accept_key(org, &d, &e, &k, now()).await? {
        st.keys.forget(org, &d);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// `GET /o/{org}/admin/fleet`: the fleet table (staff request or view grant).
pub async fn get_fleet(req: OrgRequest) -> Result<Json<fleet::Fleet>, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let _who: Staff = req.fleet_reader("/admin/fleet", "").await?;
    Ok(Json(fleet::fleet(st, org).await?))
}

/// One stored receipt, for IT to verify locally.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReceiptOut {
    /// Hex.
    pub device_id: String,
    /// When the relay got it (the relay's word; the signed time is inside).
    pub received_at: i64,
    /// The `QL:` text.
    pub text: String,
}

/// `GET /o/{org}/admin/receipts[?device=HEX]`.
pub async fn get_receipts(req: OrgRequest, RawQuery(q): RawQuery) -> Result<Json<Vec<ReceiptOut>>, ApiError> {
    let (st, org) = (&req.st, req.org.as_str());
    let q = q.unwrap_or_default();
    if q.len() > 64 {
        return Err(ApiError::BadRequest);
    }
    req.staff("GET", "/admin/receipts", &q, b"").await?;
    let device = match q.as_str() {
        "" => None,
        other => {
            let d = other.strip_prefix("device=").ok_or(ApiError::BadRequest)?;
            wire::unhex::<8>(d).ok_or(ApiError::BadRequest)?;
            Some(d.to_ascii_lowercase())
        }
    };
    let rows = st.db.receipts(org, device.as_deref()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ReceiptOut { device_id: r.device_id, received_at: r.received_at, text: r.body })
            .collect(),
    ))
}
