//! Who is asking: a device (its device key), a staff member (a root key or a staff key of a
//! verified policy) or a browser holding a short-lived view grant. Every failure is the same
//! `401 unauthenticated`, so the answer tells a stranger nothing about which devices exist.

use crate::db::{DeviceRow, Polled, SessionRow, StaffRow};
use crate::error::ApiError;
use crate::{now, Shared, AUTH_WINDOW_SECS, CHALLENGE_TTL_SECS, NONCE_TTL_SECS};
use axum::http::{header, HeaderMap};
use quietline_core::relay_session::{new_session, SessionAuth};
use quietline_core::report::{DeviceAuth, StaffAuth, ViewGrant};
use quietline_core::trust::Role;
use quietline_core::wire;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

fn authorization(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthenticated)
}

/// An authenticated device.
#[derive(Debug, Clone)]
pub struct Device {
    /// Its row.
    pub row: DeviceRow,
    /// Its key.
    pub key: [u8; 32],
}

/// Authenticates a device's request to `endpoint` with `body` and uses up its nonce. The
/// device is read from the database (a poll, the frequent request, uses `poll` instead).
pub async fn device(
    state: &Shared,
    org: &str,
    peer: SocketAddr,
    method: &str,
    endpoint: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Device, ApiError> {
    let t = now();
    state.limits.addr(peer.ip(), t)?;
    let a = DeviceAuth::parse(authorization(headers)?).map_err(|_| ApiError::Unauthenticated)?;
    let id = wire::hex(&a.device_id);
    state.limits.principal(&format!("{org}/{id}"), t)?;
    let row = state.db.device(org, &id).await?.ok_or(ApiError::Unauthenticated)?;
    if row.enrollment_id != wire::hex(&a.enrollment_id) {
        return Err(ApiError::Unauthenticated);
    }
    let key = row.device_key.as_deref().and_then(wire::unhex::<32>).ok_or(ApiError::Unauthenticated)?;
    state.keys.put(org, &id, &row.enrollment_id, key);
    if (a.ts - t).abs() > AUTH_WINDOW_SECS || !a.verify(method, endpoint, body, &key) {
        return Err(ApiError::Unauthenticated);
    }
    // Only a verified request uses up a nonce, so nobody can burn a device's nonces.
    if !state.db.use_nonce(&format!("d:{org}:{id}"), &wire::hex(&a.nonce), t + NONCE_TTL_SECS).await? {
        return Err(ApiError::Unauthenticated);
    }
    Ok(Device { row, key })
}

/// Device keys kept in memory by one relay process, so that a poll needs no database read to
/// check its signature: (org, device id) → (enrollment id, device key).
///
/// An entry is never trusted on its own: the poll's write (`Db::polled`) matches only while the
/// database still holds that enrollment id and key, so a device re-enrolled, re-keyed or
/// removed — by this process or by another relay process on the same database — is refused
/// at its next poll, and the entry is dropped and read again. Other device requests (check-in,
/// push token) read the device from the database and refresh the entry.
#[derive(Debug, Default)]
pub struct KeyCache {
    map: Mutex<HashMap<DeviceName, (String, [u8; 32])>>,
}

/// (org, device id hex).
type DeviceName = (String, String);

/// Entries kept before the cache starts over (about 100 bytes each), so a flood of devices
/// cannot grow it without bound.
const KEY_CACHE_MAX: usize = 1_000_000;

impl KeyCache {
    fn get(&self, org: &str, id: &str) -> Option<(String, [u8; 32])> {
        // A poisoned lock only means another request panicked mid-insert: the map is still a map.
        let m = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(&(org.to_string(), id.to_string())).cloned()
    }

    fn put(&self, org: &str, id: &str, enrollment_id: &str, key: [u8; 32]) {
        let mut m = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() >= KEY_CACHE_MAX {
            m.clear();
        }
        m.insert((org.to_string(), id.to_string()), (enrollment_id.to_string(), key));
    }

    /// Forgets a device (this process changed its enrollment or key).
    pub fn forget(&self, org: &str, id: &str) {
        let mut m = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.remove(&(org.to_string(), id.to_string()));
    }

    /// How many devices are cached.
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Authenticates a poll (`GET /queue`) and records it (`Db::polled`): its nonce used up, last
/// seen and the new `challenge` stored, in one transaction. Returns the device as stored and
/// whether anything may be waiting in its queue.
/// The device key comes from the process's `KeyCache` when it holds one; the write checks it
/// against the database, and a stale entry is dropped and the request checked once more
/// against the database's key.
pub async fn poll(
    state: &Shared,
    org: &str,
    peer: SocketAddr,
    headers: &HeaderMap,
    challenge: &str,
) -> Result<(DeviceRow, bool, Option<String>), ApiError> {
    if authorization(headers)?.starts_with("QL-Session ") {
        let (row, waiting) = session_poll(state, org, peer, headers, challenge).await?;
        // A session-authenticated answer issues no new session.
        return Ok((row, waiting, None));
    }
    let (row, waiting, key) = device_poll(state, org, peer, headers, challenge).await?;
    // The poll is recorded; a session that cannot be drawn or stored is simply not offered (the
    // phone keeps polling with its device key).
    let t = now();
    let Ok(s) = new_session(t) else { return Ok((row, waiting, None)) };
    let stored = SessionRow {
        sid: wire::hex(&s.sid),
        org: org.to_string(),
        device_id: row.device_id.clone(),
        enrollment_id: row.enrollment_id.clone(),
        device_key: wire::hex(&key),
        session_key: wire::hex(&s.key),
        expires_at: s.expires,
    };
    if state.db.insert_session(&stored).await.is_err() {
        return Ok((row, waiting, None));
    }
    state.sessions.put(stored);
    Ok((row, waiting, Some(s.header_value())))
}

/// Poll sessions kept in memory by one relay process: sid → the stored session. As with
/// `KeyCache`, an entry is never trusted on its own: the poll's write matches the session's
/// enrollment id and device key against the database.
#[derive(Debug, Default)]
pub struct SessionCache {
    map: Mutex<HashMap<String, SessionRow>>,
}

impl SessionCache {
    fn get(&self, sid: &str) -> Option<SessionRow> {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(sid).cloned()
    }

    fn put(&self, s: SessionRow) {
        let mut m = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() >= KEY_CACHE_MAX {
            m.clear();
        }
        m.insert(s.sid.clone(), s);
    }

    fn forget(&self, sid: &str) {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(sid);
    }
}

/// Authenticates a `GET /queue` by a poll session (`Authorization: QL-Session …`): one HMAC
/// instead of an Ed25519 verification; the same clock window, the same shared nonce table and
/// the same write (`Db::polled`), which refuses the session of a device re-enrolled or re-keyed
/// since it was issued, by any relay process.
async fn session_poll(
    state: &Shared,
    org: &str,
    peer: SocketAddr,
    headers: &HeaderMap,
    challenge: &str,
) -> Result<(DeviceRow, bool), ApiError> {
    let t = now();
    state.limits.addr(peer.ip(), t)?;
    let a = SessionAuth::parse(authorization(headers)?).map_err(|_| ApiError::Unauthenticated)?;
    if (a.ts - t).abs() > AUTH_WINDOW_SECS {
        return Err(ApiError::Unauthenticated);
    }
    let sid = wire::hex(&a.sid);
    let s = match state.sessions.get(&sid) {
        Some(s) => s,
        None => {
            let s = state.db.session(&sid).await?.ok_or(ApiError::Unauthenticated)?;
            state.sessions.put(s.clone());
            s
        }
    };
    if s.org != org || t >= s.expires_at {
        return Err(ApiError::Unauthenticated);
    }
    state.limits.principal(&format!("{org}/{}", s.device_id), t)?;
    let key = wire::unhex::<32>(&s.session_key).ok_or(ApiError::Unauthenticated)?;
    if !a.verify(&key, "GET", "/queue", b"") {
        return Err(ApiError::Unauthenticated);
    }
    let principal = format!("d:{org}:{}", s.device_id);
    let polled = state
        .db
        .polled(
            org,
            &s.device_id,
            (&s.enrollment_id, &s.device_key),
            (&principal, &wire::hex(&a.nonce), t + NONCE_TTL_SECS),
            t,
            challenge,
            t + CHALLENGE_TTL_SECS,
        )
        .await?;
    match polled {
        Polled::Recorded(row, waiting) => Ok((*row, waiting)),
        Polled::Replayed => Err(ApiError::Unauthenticated),
        Polled::Stale => {
            // Re-enrolled or re-keyed since issued: the session is dead everywhere.
            state.sessions.forget(&sid);
            state.db.delete_session(&sid).await?;
            Err(ApiError::Unauthenticated)
        }
    }
}

/// The `QL-Device` poll: returns the device as stored, whether anything may wait, and the
/// device key the request verified under.
async fn device_poll(
    state: &Shared,
    org: &str,
    peer: SocketAddr,
    headers: &HeaderMap,
    challenge: &str,
) -> Result<(DeviceRow, bool, [u8; 32]), ApiError> {
    let t = now();
    state.limits.addr(peer.ip(), t)?;
    let a = DeviceAuth::parse(authorization(headers)?).map_err(|_| ApiError::Unauthenticated)?;
    let id = wire::hex(&a.device_id);
    state.limits.principal(&format!("{org}/{id}"), t)?;
    if (a.ts - t).abs() > AUTH_WINDOW_SECS {
        return Err(ApiError::Unauthenticated);
    }
    let eid = wire::hex(&a.enrollment_id);
    let principal = format!("d:{org}:{id}");
    let nonce = wire::hex(&a.nonce);
    let mut cached = state.keys.get(org, &id);
    loop {
        let from_cache = cached.is_some();
        let (row_eid, key) = match cached.take() {
            Some(c) => c,
            None => {
                let row = state.db.device(org, &id).await?.ok_or(ApiError::Unauthenticated)?;
                let key = row.device_key.as_deref().and_then(wire::unhex::<32>).ok_or(ApiError::Unauthenticated)?;
                state.keys.put(org, &id, &row.enrollment_id, key);
                (row.enrollment_id, key)
            }
        };
        let retry = || {
            state.keys.forget(org, &id);
            if from_cache {
                Ok(())
            } else {
                Err(ApiError::Unauthenticated)
            }
        };
        if row_eid != eid || !a.verify("GET", "/queue", b"", &key) {
            retry()?;
            continue;
        }
        let polled = state
            .db
            .polled(
                org,
                &id,
                (&eid, &wire::hex(&key)),
                (&principal, &nonce, t + NONCE_TTL_SECS),
                t,
                challenge,
                t + CHALLENGE_TTL_SECS,
            )
            .await?;
        match polled {
            Polled::Recorded(row, waiting) => return Ok((*row, waiting, key)),
            Polled::Replayed => return Err(ApiError::Unauthenticated),
            Polled::Stale => retry()?,
        }
    }
}

/// An authenticated staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Key id, hex.
    pub key_id: String,
    /// Whether it is a root key.
    pub root: bool,
    /// Roles from the policies that name it (empty for a root key).
    pub roles: Vec<Role>,
}

/// The org's keys that may sign IT requests: root keys and staff keys of live policies.
async fn known_key(state: &Shared, org: &str, key_id: &[u8; 8]) -> Result<Option<([u8; 32], Staff)>, ApiError> {
    let kid = wire::hex(key_id);
    if let Some((_, keys, _)) = state.db.org_root(org).await? {
        for k in keys.iter().filter_map(|k| wire::unhex::<32>(k)) {
            if &wire::key_id(&k) == key_id {
                return Ok(Some((k, Staff { key_id: kid, root: true, roles: Vec::new() })));
            }
        }
    }
    let rows: Vec<StaffRow> = state.db.staff(org, now()).await?.into_iter().filter(|r| r.key_id == kid).collect();
    let Some(first) = rows.first() else { return Ok(None) };
    let Some(k) = wire::unhex::<32>(&first.pubkey) else { return Ok(None) };
    let mut roles: Vec<Role> =
        rows.iter().flat_map(|r| serde_json::from_str::<Vec<Role>>(&r.roles).unwrap_or_default()).collect();
    roles.sort();
    roles.dedup();
    Ok(Some((k, Staff { key_id: kid, root: false, roles })))
}

/// Authenticates a staff request.
#[allow(clippy::too_many_arguments)]
pub async fn staff(
    state: &Shared,
    org: &str,
    peer: SocketAddr,
    method: &str,
    endpoint: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Staff, ApiError> {
    staff_or(state, org, peer, (method, endpoint, query), headers, body, &[]).await
}

/// Authenticates a staff request, also accepting the staff keys of a root-verified policy that
/// came with it (an enrollment bundle's initial policy: the first staff request of a new org).
pub async fn staff_or(
    state: &Shared,
    org: &str,
    peer: SocketAddr,
    (method, endpoint, query): (&str, &str, &str),
    headers: &HeaderMap,
    body: &[u8],
    also: &[[u8; 32]],
) -> Result<Staff, ApiError> {
    let t = now();
    state.limits.addr(peer.ip(), t)?;
    let a = StaffAuth::parse(authorization(headers)?).map_err(|_| ApiError::Unauthenticated)?;
    state.limits.principal(&format!("{org}/staff/{}", wire::hex(&a.key_id)), t)?;
    let known = match known_key(state, org, &a.key_id).await? {
        Some(k) => Some(k),
        None => also
            .iter()
            .find(|k| wire::key_id(*k) == a.key_id)
            .map(|k| (*k, Staff { key_id: wire::hex(&a.key_id), root: false, roles: Vec::new() })),
    };
    let (key, who) = known.ok_or(ApiError::Unauthenticated)?;
    if (a.ts - t).abs() > AUTH_WINDOW_SECS || !a.verify(org, method, endpoint, query, body, &key) {
        return Err(ApiError::Unauthenticated);
    }
    if !state.db.use_nonce(&format!("s:{org}:{}", who.key_id), &wire::hex(&a.nonce), t + NONCE_TTL_SECS).await? {
        return Err(ApiError::Unauthenticated);
    }
    Ok(who)
}

/// Authenticates a read of the fleet: a staff request, or a browser's view grant.
pub async fn fleet_reader(
    state: &Shared,
    org: &str,
    peer: SocketAddr,
    endpoint: &str,
    query: &str,
    headers: &HeaderMap,
) -> Result<Staff, ApiError> {
    let h = authorization(headers)?;
    if !h.starts_with("QL-View ") {
        return staff(state, org, peer, "GET", endpoint, query, headers, b"").await;
    }
    let t = now();
    state.limits.addr(peer.ip(), t)?;
    let g = ViewGrant::parse(h).map_err(|_| ApiError::Unauthenticated)?;
    let (key, who) = known_key(state, org, &g.key_id).await?.ok_or(ApiError::Unauthenticated)?;
    g.verify(org, &key, t).map_err(|_| ApiError::Unauthenticated)?;
    Ok(who)
}
