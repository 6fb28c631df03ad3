//! Trust: Ed25519 keys, the signed objects IT staff issue, and the rules (after The Update
//! Framework) by which a device accepts them: no rollback, no replay, no freeze, thresholds
//! that count each key once, and root rotation signed by old and new keys.

pub use crate::error::TrustError;
use crate::policy::{Mode, Policy};
use crate::wire::{self, Container, EnrollResponse, ObjType, Receipt, WireError, KEY_ID_LEN, SIG_LEN};
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

/// Allowed clock skew for issue times in the future, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;
/// Longest lifetime of a command, in seconds (7 days).
pub const MAX_COMMAND_LIFETIME_SECS: u32 = 7 * 24 * 3600;
/// The largest step a signing key's command sequence may take at once. Gaps are allowed (IT may
/// issue commands that are never delivered), but a jump this large is a mistake or an attack
/// that would use up the key's sequence numbers.
pub const MAX_SEQ_STEP: u32 = 1_000_000;

/// A staff role: what a staff key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Lock commands.
    Lock,
    /// Selective wipe commands.
    WipeSelective,
    /// Full wipe commands.
    WipeFull,
    /// Purge-survivor-data commands.
    PurgeSurvivorData,
    /// Policy updates that renew or tighten the installed policy (never weaken it).
    UpdatePolicy,
    /// Ping commands (a signed "are you there?", which also counts as a check-in).
    Ping,
    /// Check-in acknowledgements only (`crate::checkin`): the key the relay holds. It must be a
    /// key's only role, so a relay that holds it can at most keep a phone from locking or wiping
    /// itself for lack of check-ins; it can never lock, wipe, purge, change the policy or make a
    /// receipt.
    Checkin,
}

/// A staff key named in a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffKey {
    /// Who holds it (for IT staff; never a survivor).
    pub name: String,
    /// Ed25519 public key, hex.
    pub key: String,
    /// What it may sign.
    pub roles: Vec<Role>,
}

/// The body of a signed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    /// The organisation.
    pub org: String,
    /// Monotonic version.
    pub version: u64,
    /// Issue time, unix seconds.
    pub issued_at: i64,
    /// Expiry, unix seconds. After it the device keeps enforcing this policy, reports it as
    /// stale, and locks once `grace_hours` have passed.
    pub expires_at: i64,
    /// Device ids (hex) this policy is for, or `"*"` for the whole fleet.
    pub targets: Vec<String>,
    /// Hours after expiry before a stale policy locks the phone.
    pub grace_hours: u32,
    /// Staff keys and their roles.
    pub staff: Vec<StaffKey>,
    /// The rules.
    pub rules: Policy,
}

impl PolicyBody {
    /// The guidance's review of the terms around the rules (version, lifetime, staff keys).
    pub fn review_terms(&self) -> crate::guidance::Review {
        let can_wipe = |s: &&StaffKey| {
            (self.rules.wipe.allow_selective && s.roles.contains(&Role::WipeSelective))
                || (self.rules.full_wipe_allowed() && s.roles.contains(&Role::WipeFull))
        };
        crate::guidance::review_terms(&crate::guidance::Terms {
            version: self.version,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            staff_keys: self.staff.len(),
            staff_who_can_wipe: self.staff.iter().filter(can_wipe).count(),
        })
    }
}

/// The body of a root rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootBody {
    /// The organisation.
    pub org: String,
    /// Root version; the enrollment's root is version 1.
    pub version: u64,
    /// Ed25519 public keys, hex.
    pub keys: Vec<String>,
    /// How many distinct keys must sign.
    pub threshold: u32,
}

/// The body of an enrollment bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleBody {
    /// The organisation.
    pub org: String,
    /// The org root public key to pin, hex.
    pub root_key: String,
    /// The device id the admin assigned, hex (8 bytes).
    pub device_id: String,
    /// This enrollment's id, hex (4 bytes).
    pub enrollment_id: String,
    /// Work or personal phone.
    pub mode: Mode,
    /// The initial signed policy, as `QL:` text.
    pub policy: String,
    /// Where the device polls for policies and commands (optional).
    #[serde(default)]
    pub relay_url: Option<String>,
    /// 32 random bytes (hex) that travel only in the bundle, in person: the phone's response
    /// proves it knows them, so the relay cannot substitute its own device key.
    pub enroll_secret: String,
}

/// The root keys a device trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootSet {
    /// Version.
    pub version: u64,
    /// Distinct public keys.
    pub keys: Vec<[u8; 32]>,
    /// Required distinct signatures.
    pub threshold: u32,
}

/// An Ed25519 signing key (PKCS#8 v2 inside).
pub struct SigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", wire::hex(&self.key_id()))
    }
}

impl SigningKey {
    /// A fresh key.
    pub fn generate() -> Result<Self, TrustError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| TrustError::BadKey)?;
        Self::from_pkcs8(doc.as_ref())
    }
    /// From PKCS#8 bytes: v2 (what `generate` writes, public key checked) or v1 (what other
    /// tools such as `openssl genpkey` write).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, TrustError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8))
            .map_err(|_| TrustError::BadKey)?;
        Ok(Self { pair, pkcs8: pkcs8.to_vec() })
    }
    /// The PKCS#8 bytes (secret: store 0600, never print).
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }
    /// The public key.
    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        out
    }
    /// The key id.
    pub fn key_id(&self) -> [u8; KEY_ID_LEN] {
        wire::key_id(self.pair.public_key().as_ref())
    }
    /// Signs.
    pub fn sign(&self, msg: &[u8]) -> [u8; SIG_LEN] {
        let mut out = [0u8; SIG_LEN];
        out.copy_from_slice(self.pair.sign(msg).as_ref());
        out
    }
}

/// Verifies an Ed25519 signature.
pub fn verify(public_key: &[u8; 32], msg: &[u8], sig: &[u8; SIG_LEN]) -> bool {
    UnparsedPublicKey::new(&signature::ED25519, public_key).verify(msg, sig).is_ok()
}

/// Parses a hex public key.
pub fn parse_key(hex: &str) -> Result<[u8; 32], TrustError> {
    wire::unhex::<32>(hex).ok_or(TrustError::BadKey)
}

/// Counts distinct keys of `keys` with a valid signature on the container. A key listed twice,
/// or signing twice, counts once.
pub fn count_signers(c: &Container, keys: &[[u8; 32]]) -> usize {
    let msg = c.signed_bytes();
    let mut distinct: Vec<[u8; 32]> = keys.to_vec();
    distinct.sort();
    distinct.dedup();
    distinct
        .iter()
        .filter(|k| {
            let id = wire::key_id(*k);
            c.signatures.iter().any(|(kid, sig)| *kid == id && verify(k, &msg, sig))
        })
        .count()
}

/// Signs a container with each key (at most [`wire::MAX_SIGS`]).
pub fn sign_container(kind: ObjType, body: Vec<u8>, keys: &[&SigningKey]) -> Result<Container, TrustError> {
    if keys.len() > wire::MAX_SIGS {
        return Err(WireError::BadField("signature count").into());
    }
    if body.len() > wire::MAX_BODY {
        return Err(WireError::TooLarge(body.len()).into());
    }
    let mut c = Container { kind, body, signatures: Vec::new() };
    let msg = c.signed_bytes();
    c.signatures = keys.iter().map(|k| (k.key_id(), k.sign(&msg))).collect();
    Ok(c)
}

fn json_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, TrustError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de)
        .map_err(|e| TrustError::BadBody { field: e.path().to_string(), reason: e.inner().to_string() })
}

/// Encodes a policy body and signs it: `QL:` text.
pub fn sign_policy(body: &PolicyBody, keys: &[&SigningKey]) -> Result<String, TrustError> {
    let bad = |e: serde_json::Error| TrustError::BadBody { field: ".".into(), reason: e.to_string() };
    let mut value = serde_json::to_value(body).map_err(bad)?;
    // Sections equal to the mode's defaults are left out: the device fills them in, and the
    // policy stays small enough for an enrollment QR code.
    if let Some(rules) = value.get_mut("rules") {
        *rules = body.rules.to_compact_value();
    }
    let json = serde_json::to_vec(&value).map_err(bad)?;
    Ok(wire::to_text(&sign_container(ObjType::Policy, json, keys)?.to_bytes()?))
}

/// Encodes a root rotation and signs it with old and new keys: `QL:` text.
pub fn sign_root(body: &RootBody, keys: &[&SigningKey]) -> Result<String, TrustError> {
    let json =
        serde_json::to_vec(body).map_err(|e| TrustError::BadBody { field: ".".into(), reason: e.to_string() })?;
    Ok(wire::to_text(&sign_container(ObjType::Root, json, keys)?.to_bytes()?))
}

/// Encodes an enrollment bundle: `QL:` text (unsigned; its policy is signed by the root it names,
/// and it travels by QR code in person).
pub fn encode_bundle(body: &BundleBody) -> Result<String, TrustError> {
    let json =
        serde_json::to_vec(body).map_err(|e| TrustError::BadBody { field: ".".into(), reason: e.to_string() })?;
    Ok(wire::to_text(&Container { kind: ObjType::EnrollBundle, body: json, signatures: Vec::new() }.to_bytes()?))
}

/// Decodes an enrollment bundle.
pub fn decode_bundle(text: &str) -> Result<BundleBody, TrustError> {
    let c = Container::from_bytes(&wire::from_text(text)?, ObjType::EnrollBundle)?;
    let body: BundleBody = json_body(&c.body)?;
    if let Some(url) = &body.relay_url {
        crate::guidance::check_relay_url(url)
            .map_err(|e| TrustError::BadBody { field: "relay_url".into(), reason: e.to_string() })?;
    }
    Ok(body)
}

/// A decoded, not yet verified, signed policy.
#[derive(Debug, Clone)]
pub struct SignedPolicy {
    /// The container.
    pub container: Container,
    /// The parsed body.
    pub body: PolicyBody,
    /// SHA-256 of the body, hex.
    pub digest: String,
}

/// Decodes a signed policy (text) and validates its rules; signatures are checked by the device.
pub fn decode_policy(text: &str) -> Result<SignedPolicy, TrustError> {
    let c = Container::from_bytes(&wire::from_text(text)?, ObjType::Policy)?;
    let body: PolicyBody = json_body(&c.body)?;
    check_staff_roles(&body.staff)?;
    crate::guidance::accept(&body.rules)?;
    body.review_terms().refuse()?;
    if c.signatures.is_empty() {
        return Err(TrustError::Unsigned);
    }
    let digest = wire::hex(ring::digest::digest(&ring::digest::SHA256, &c.body).as_ref());
    Ok(SignedPolicy { container: c, body, digest })
}

/// The `checkin` role is a key's only role: the relay holds that key, and it must not carry any
/// other role's powers.
pub fn check_staff_roles(staff: &[StaffKey]) -> Result<(), TrustError> {
    for (i, s) in staff.iter().enumerate() {
        if s.roles.contains(&Role::Checkin) && s.roles.iter().any(|r| *r != Role::Checkin) {
            return Err(TrustError::BadBody {
                field: format!("staff[{i}].roles"),
                reason: "the checkin role must be a key's only role (the relay holds that key)".into(),
            });
        }
    }
    Ok(())
}

/// Decodes a root rotation (text).
pub fn decode_root(text: &str) -> Result<(Container, RootBody), TrustError> {
    let c = Container::from_bytes(&wire::from_text(text)?, ObjType::Root)?;
    let body: RootBody = json_body(&c.body)?;
    if c.signatures.is_empty() {
        return Err(TrustError::Unsigned);
    }
    Ok((c, body))
}

/// Checks that `policy` is signed by the root threshold.
pub fn check_root_signed(c: &Container, root: &RootSet) -> Result<(), TrustError> {
    let got = count_signers(c, &root.keys);
    let need = root.threshold as usize;
    if got >= need && need > 0 {
        Ok(())
    } else if got == 0 {
        Err(TrustError::BadSignature)
    } else {
        Err(TrustError::ThresholdNotMet { need, got })
    }
}

/// Verifies a root rotation against the current root: version exactly N+1, a threshold of the
/// old keys and a threshold of the new keys. Returns the new root set.
pub fn verify_rotation(c: &Container, body: &RootBody, current: &RootSet, org: &str) -> Result<RootSet, TrustError> {
    if body.org != org {
        return Err(TrustError::WrongOrg);
    }
    if body.version != current.version + 1 {
        if body.version <= current.version {
            return Err(TrustError::Rollback { installed: current.version, got: body.version });
        }
        return Err(TrustError::RotationGap { expected: current.version + 1, got: body.version });
    }
    let mut keys = body.keys.iter().map(|k| parse_key(k)).collect::<Result<Vec<_>, _>>()?;
    keys.sort();
    keys.dedup();
    if body.threshold == 0 || body.threshold as usize > keys.len() {
        return Err(TrustError::BadBody {
            field: "threshold".into(),
            reason: "must be 1..=number of distinct keys".into(),
        });
    }
    check_root_signed(c, current)?;
    let new = RootSet { version: body.version, keys, threshold: body.threshold };
    check_root_signed(c, &new)?;
    Ok(new)
}

/// What a device pinned at enrollment: a policy must name this organisation, this device and
/// this mode, and be signed by this root (or, for an update, by a staff key allowed to).
#[derive(Debug, Clone, Copy)]
pub struct Pin<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The device id.
    pub device_id: &'a [u8; 8],
    /// The phone's mode, fixed at enrollment.
    pub mode: Mode,
    /// The pinned root keys.
    pub root: &'a RootSet,
}

/// Orders an update against the installed policy, given whether the root signed it: `Ok(true)`
/// if it is the installed one again, `Ok(false)` if it is newer, an error if it may not replace
/// it (see the device's rules for staff-signed policies).
pub type OrderFn<'a> = &'a dyn Fn(&SignedPolicy, bool) -> Result<bool, TrustError>;

/// The signed policy a device has installed, against which an update is checked.
#[derive(Clone, Copy)]
pub struct Installed<'a> {
    /// The staff keys it names.
    pub staff: &'a [StaffKey],
    /// How an update is ordered against it.
    pub order: OrderFn<'a>,
}

/// What a policy check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyCheck {
    /// It is the installed policy again: nothing to do.
    pub same: bool,
    /// A threshold of the root signed it (otherwise a staff key with `update_policy`).
    pub by_root: bool,
}

/// Checks a decoded policy for a device (`now` is the wall clock, `trusted_now` the time an
/// expiry is checked against, both unix seconds).
pub fn check_policy(
    sp: &SignedPolicy,
    pin: Pin<'_>,
    installed: Option<Installed<'_>>,
    now: i64,
    trusted_now: i64,
) -> Result<PolicyCheck, TrustError> {
    let b = &sp.body;
    if b.org != pin.org {
        return Err(TrustError::WrongOrg);
    }
    let me = wire::hex(pin.device_id);
    if !b.targets.iter().any(|t| t == "*" || t.eq_ignore_ascii_case(&me)) {
        return Err(TrustError::WrongDevice);
    }
    if b.rules.mode != pin.mode {
        return Err(TrustError::ModeMismatch);
    }
    let root_ok = check_root_signed(&sp.container, pin.root);
    let by_root = root_ok.is_ok();
    if let Err(root_err) = root_ok {
        // A staff key with the update-policy role may sign, but may not change the staff list.
        let Some(installed) = installed else { return Err(root_err) };
        let signers: Vec<[u8; 32]> = installed
            .staff
            .iter()
            .filter(|s| s.roles.contains(&Role::UpdatePolicy))
            .filter_map(|s| parse_key(&s.key).ok())
            .collect();
        if count_signers(&sp.container, &signers) == 0 {
            return Err(root_err);
        }
        if b.staff.as_slice() != installed.staff {
            return Err(TrustError::StaffEscalation);
        }
    }
    if let Some(installed) = installed {
        if (installed.order)(sp, by_root)? {
            return Ok(PolicyCheck { same: true, by_root });
        }
    }
    if b.expires_at <= trusted_now {
        return Err(TrustError::Expired);
    }
    if b.issued_at > now.max(trusted_now).saturating_add(MAX_SKEW_SECS) {
        return Err(TrustError::FutureDated);
    }
    for s in &b.staff {
        parse_key(&s.key)?;
    }
    Ok(PolicyCheck { same: false, by_root })
}

/// Verifies a receipt's signature with the device's public key (as IT staff do).
pub fn verify_receipt(text: &str, device_key: &[u8; 32]) -> Result<Receipt, TrustError> {
    let r = Receipt::from_bytes(&wire::from_text(text)?)?;
    if !verify(device_key, &r.signed_bytes(), &r.signature) {
        return Err(TrustError::BadSignature);
    }
    Ok(r)
}

/// The enrollment response's binding: HMAC-SHA256 under the bundle's secret over bytes 0..52.
pub fn enroll_binding(secret: &[u8; 32], bound: &[u8]) -> [u8; 32] {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::hmac::sign(&k, bound).as_ref());
    out
}

/// Verifies an enrollment response as IT accepts it: the proof of possession, and that it
/// comes from the phone that scanned `bundle` (it knows the bundle's secret) for its device.
pub fn verify_enroll_response_for_bundle(text: &str, bundle: &str) -> Result<EnrollResponse, TrustError> {
    let r = verify_enroll_response(text)?;
    let b = decode_bundle(bundle)?;
    let secret = crate::hex::unhex::<32>(&b.enroll_secret).ok_or(TrustError::NotBoundToBundle)?;
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret);
    if ring::hmac::verify(&k, &r.bound_bytes(), &r.binding).is_err() || b.device_id != wire::hex(&r.device_id) {
        return Err(TrustError::NotBoundToBundle);
    }
    Ok(r)
}

/// Verifies an enrollment response's proof of possession (its binding to a bundle is checked
/// by [`verify_enroll_response_for_bundle`]).
pub fn verify_enroll_response(text: &str) -> Result<EnrollResponse, TrustError> {
    let r = EnrollResponse::from_bytes(&wire::from_text(text)?)?;
    if !verify(&r.device_key, &r.signed_bytes(), &r.signature) {
        return Err(TrustError::BadSignature);
    }
    Ok(r)
}
