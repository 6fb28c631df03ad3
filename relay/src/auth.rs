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

/// Authenticates a poll (`GET /queue`) and records it: its nonce used up, last seen and the
/// new `challenge` stored. Returns the device as stored, whether anything may be waiting in its
/// queue, and the poll session to offer (a `QL-Device` poll's answer).
///
/// Where this is recorded depends on the database (docs/relay.md, "Where state lives"):
/// PostgreSQL (several stateless relay processes): in the database, in the group-committed
/// transaction (`Db::polled`), the new session included. SQLite (one relay process per file):
/// in this process's memory (`Db::polled_local`, `hot`), except a device-signed poll's nonce,
/// which is committed; sessions and their nonces live only in memory (`SessionCache`).
/// The device key comes from the process's `KeyCache` when it holds one; the write checks it
/// against the device as stored, and a stale entry is dropped and the request checked once
/// more against the database's key.
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
    device_poll(state, org, peer, headers, challenge).await
}

/// A poll session as this process holds it, with the nonces used under it (SQLite: the only
/// record of either).
#[derive(Debug)]
struct LiveSession {
    row: SessionRow,
    key: [u8; 32],
    nonces: HashMap<[u8; 16], i64>,
}

/// Poll sessions kept in memory by one relay process: sid → the session. With PostgreSQL an
/// entry is a copy of the shared `sessions` row, never trusted on its own (the poll's write
/// matches the session's enrollment id and device key against the database, and nonces are
/// used up in the shared table). With SQLite this is the only place sessions and their nonces
/// live: a restart ends every session (phones fall back to `QL-Device`, the protocol's rule 3),
/// so a session request replayed after a restart names an unknown session and is refused.
#[derive(Debug, Default)]
pub struct SessionCache {
    map: Mutex<HashMap<String, LiveSession>>,
}

/// What a session lookup found.
enum SessionUse {
    /// Live, verified, and its nonce fresh (SQLite) or not checked here (PostgreSQL).
    Ok(SessionRow),
    /// Not held by this process.
    Unknown,
    /// Anything else: 401.
    Refused,
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LiveSession>> {
        // A poisoned lock only means another request panicked mid-insert: the map is still a map.
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn put(&self, s: SessionRow) {
        let Some(key) = wire::unhex::<32>(&s.session_key) else { return };
        let mut m = self.lock();
        if m.len() >= KEY_CACHE_MAX {
            let now = crate::now();
            m.retain(|_, l| l.row.expires_at > now);
            if m.len() >= KEY_CACHE_MAX {
                m.clear();
            }
        }
        m.insert(s.sid.clone(), LiveSession { row: s, key, nonces: HashMap::new() });
    }

    fn forget(&self, sid: &str) {
        self.lock().remove(sid);
    }

    /// Checks the session request `a` for `org` at `t`: the session live and of this org, the
    /// MAC, then (if `own_nonces`) the nonce, used up here.
    fn check(&self, sid: &str, a: &SessionAuth, org: &str, t: i64, own_nonces: bool) -> SessionUse {
        let mut m = self.lock();
        let Some(l) = m.get_mut(sid) else { return SessionUse::Unknown };
        if l.row.org != org || t >= l.row.expires_at || !a.verify(&l.key, "GET", "/queue", b"") {
            return SessionUse::Refused;
        }
        if own_nonces {
            if l.nonces.len() >= SESSION_NONCES_SWEEP {
                l.nonces.retain(|_, exp| *exp > t);
            }
            if l.nonces.len() >= SESSION_NONCES_MAX || l.nonces.get(&a.nonce).is_some_and(|exp| *exp > t) {
                return SessionUse::Refused;
            }
            l.nonces.insert(a.nonce, t + NONCE_TTL_SECS);
        }
        SessionUse::Ok(l.row.clone())
    }

    /// Drops expired sessions (the retention sweep).
    pub fn prune(&self, now: i64) {
        self.lock().retain(|_, l| l.row.expires_at > now);
    }
}

/// Nonces remembered per session before the expired ones are swept.
const SESSION_NONCES_SWEEP: usize = 64;
/// Live nonces per session at most: more than the per-device rate limit allows in a nonce's
/// lifetime at any sane setting; beyond it the session is refused (the phone falls back to its
/// device key) rather than the map growing.
const SESSION_NONCES_MAX: usize = 100_000;

/// Authenticates a `GET /queue` by a poll session (`Authorization: QL-Session …`): one HMAC
/// instead of an Ed25519 verification, the same clock window, each nonce accepted once, and a
/// write that refuses the session of a device re-enrolled or re-keyed since it was issued.
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
    let local = state.db.local_polls();
    let s = match state.sessions.check(&sid, &a, org, t, local) {
        SessionUse::Ok(s) => s,
        SessionUse::Refused => return Err(ApiError::Unauthenticated),
        // SQLite: sessions live only in memory, so an unknown one does not exist.
        SessionUse::Unknown if local => return Err(ApiError::Unauthenticated),
        SessionUse::Unknown => {
            let s = state.db.session(&sid).await?.ok_or(ApiError::Unauthenticated)?;
            state.sessions.put(s);
            match state.sessions.check(&sid, &a, org, t, false) {
                SessionUse::Ok(s) => s,
                _ => return Err(ApiError::Unauthenticated),
            }
        }
    };
    state.limits.principal(&format!("{org}/{}", s.device_id), t)?;
    let principal = format!("d:{org}:{}", s.device_id);
    let nonce = wire::hex(&a.nonce);
    let polled = if local {
        state
            .db
            .polled_local(
                org,
                &s.device_id,
                (&s.enrollment_id, &s.device_key),
                None,
                t,
                challenge,
                t + CHALLENGE_TTL_SECS,
            )
            .await?
    } else {
        state
            .db
            .polled(
                org,
                &s.device_id,
                (&s.enrollment_id, &s.device_key),
                (&principal, &nonce, t + NONCE_TTL_SECS),
                t,
                challenge,
                t + CHALLENGE_TTL_SECS,
                None,
            )
            .await?
    };
    match polled {
        Polled::Recorded(row, waiting, _) => Ok((*row, waiting)),
        Polled::Replayed | Polled::Noted => Err(ApiError::Unauthenticated),
        Polled::Stale => {
            // Re-enrolled or re-keyed since issued: the session is dead everywhere.
            state.sessions.forget(&sid);
            if !local {
                state.db.delete_session(&sid).await?;
            }
            Err(ApiError::Unauthenticated)
        }
    }
}

/// The `QL-Device` poll: returns the device as stored, whether anything may wait, and the poll
/// session issued with it (stored in the poll's own transaction with PostgreSQL, in memory
/// with SQLite). A session that cannot be drawn or stored is simply not offered (the phone
/// keeps polling with its device key).
async fn device_poll(
    state: &Shared,
    org: &str,
    peer: SocketAddr,
    headers: &HeaderMap,
    challenge: &str,
) -> Result<(DeviceRow, bool, Option<String>), ApiError> {
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
    let local = state.db.local_polls();
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
        let key_hex = wire::hex(&key);
        let session = new_session(t).ok().map(|s| SessionRow {
            sid: wire::hex(&s.sid),
            org: org.to_string(),
            device_id: id.clone(),
            enrollment_id: eid.clone(),
            device_key: key_hex.clone(),
            session_key: wire::hex(&s.key),
            expires_at: s.expires,
        });
        let nonce_use = (principal.as_str(), nonce.as_str(), t + NONCE_TTL_SECS);
        let polled = if local {
            state
                .db
                .polled_local(org, &id, (&eid, &key_hex), Some(nonce_use), t, challenge, t + CHALLENGE_TTL_SECS)
                .await?
        } else {
            state
                .db
                .polled(org, &id, (&eid, &key_hex), nonce_use, t, challenge, t + CHALLENGE_TTL_SECS, session.clone())
                .await?
        };
        match polled {
            Polled::Recorded(row, waiting, inserted) => {
                // The new session is issued only where it is held: in memory (SQLite, where
                // nothing else can have this sid) or in the row this poll's own transaction
                // inserted (PostgreSQL).
                let header = match session {
                    Some(s) if local || inserted => {
                        let header = session_header(&s);
                        state.sessions.put(s);
                        header
                    }
                    _ => None,
                };
                return Ok((*row, waiting, header));
            }
            Polled::Replayed | Polled::Noted => return Err(ApiError::Unauthenticated),
            Polled::Stale => retry()?,
        }
    }
}

/// The `QL-Session` header value of a stored session (`<sid>.<key>.<expires>`).
fn session_header(s: &SessionRow) -> Option<String> {
    Some(format!("{}.{}.{}", s.sid, s.session_key, s.expires_at))
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

#[cfg(test)]
mod tests {
    use super::*;
    use quietline_core::relay_session::relay_session_authorization;

    fn session(t: i64) -> (SessionRow, String) {
        let s = new_session(t).expect("session");
        let row = SessionRow {
            sid: wire::hex(&s.sid),
            org: "o".into(),
            device_id: "00".repeat(8),
            enrollment_id: "00".repeat(4),
            device_key: "00".repeat(32),
            session_key: wire::hex(&s.key),
            expires_at: t + 100,
        };
        (row, s.header_value())
    }

    fn auth(header: &str, nonce: [u8; 16], t: i64) -> SessionAuth {
        let h = relay_session_authorization(header, "GET", "/queue", b"", t, nonce).expect("auth");
        SessionAuth::parse(&h).expect("parse")
    }

    #[test]
    fn an_in_memory_session_accepts_each_nonce_once_and_nothing_after_expiry() {
        let t = 1_000_000;
        let cache = SessionCache::default();
        let (row, header) = session(t);
        let sid = row.sid.clone();
        cache.put(row);
        let a = auth(&header, [1; 16], t);
        assert!(matches!(cache.check(&sid, &a, "o", t, true), SessionUse::Ok(_)));
        assert!(matches!(cache.check(&sid, &a, "o", t, true), SessionUse::Refused), "replayed nonce");
        assert!(
            matches!(cache.check(&sid, &auth(&header, [2; 16], t), "p", t, true), SessionUse::Refused),
            "other org"
        );
        let b = auth(&header, [3; 16], t + 100);
        assert!(matches!(cache.check(&sid, &b, "o", t + 100, true), SessionUse::Refused), "expired");
        cache.prune(t + 100);
        assert!(matches!(cache.check(&sid, &b, "o", t + 100, true), SessionUse::Unknown), "swept at expiry");
    }
}
