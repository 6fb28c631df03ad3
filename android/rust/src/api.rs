//! The Android entry points of the agent, exported through UniFFI (namespace `quietline_android`,
//! Kotlin package `org.quietline.android.ffi`): they build the bindings' [`Agent`] with this
//! crate's [`JniKeyProtector`] handed to the core directly, so the data key never travels through
//! Kotlin and the key store's failures stay typed from `java.security.KeyStore` to the
//! [`ApiError`] the app sees (`KeyStoreUnavailable`: retry after an unlock; `KeyInvalidated`:
//! wipe and re-enroll; `KeyStoreFailed`).
//!
//! `Quietline.init(context)` (the one JNI native, `NativeBridge.nativeInit`) must run first: it
//! caches the VM, the context and the class loader the key protector needs; before it every call
//! here fails with `KeyStoreFailed`.

use crate::keystore::{JniKeyProtector, DEFAULT_KEY_ALIAS};
use quietline_core as ql;
use quietline_ffi::{embed, Agent, ApiError};
use std::sync::Arc;

fn protector(provider: String, alias: Option<String>) -> Result<Arc<dyn ql::KeyProtector>, ApiError> {
    if provider.trim().is_empty() {
        return Err(ApiError::InvalidInput { reason: "the key store provider is empty".into() });
    }
    let alias = alias.unwrap_or_else(|| DEFAULT_KEY_ALIAS.to_string());
    if alias.trim().is_empty() {
        return Err(ApiError::InvalidInput { reason: "the key alias is empty".into() });
    }
    Ok(Arc::new(JniKeyProtector::new(provider, alias)))
}

/// Opens the agent in `stateDir` at every app start, its data key unwrapped by a key in the key
/// store `keyStoreProvider` ("AndroidKeyStore" on phones). As `Agent.open`: a missing directory is
/// `NotInitialized`; a damaged, altered or rolled-back one (an older copy put back over the
/// directory the key store last saw) is `StateDamaged`; the key store locked before the first
/// unlock is `KeyStoreUnavailable` (retry, never run without the agent); a key that is gone or
/// permanently invalidated is `KeyInvalidated`. `keyAlias` names the key; leave it out in the app.
#[uniffi::export(default(key_alias = None))]
pub fn open_agent(
    state_dir: String,
    key_store_provider: String,
    key_alias: Option<String>,
) -> Result<Arc<Agent>, ApiError> {
    embed::open(state_dir, protector(key_store_provider, key_alias)?, None)
}

/// Enrolls this phone from IT's bundle (the `QL:` text) into the empty `stateDir`, the data key
/// protected by a new, non-exportable key in `keyStoreProvider`. As `Agent.enroll`: a bad, foreign
/// or expired bundle is `Untrusted`, an agent already there `AlreadyInitialized`. `region` is the
/// device's ISO 3166 region. Send `enrollmentResponse()` of the result back to IT.
#[uniffi::export(default(key_alias = None))]
pub fn enroll_agent(
    state_dir: String,
    region: String,
    bundle: String,
    key_store_provider: String,
    key_alias: Option<String>,
) -> Result<Arc<Agent>, ApiError> {
    embed::enroll(state_dir, region, bundle, protector(key_store_provider, key_alias)?, None)
}

/// Creates an agent that is not enrolled, with a local, unsigned policy (as `Agent.create`), its
/// data key protected by `keyStoreProvider`. For tests and tools on the Android key path: a
/// managed phone is set up with `enrollAgent`.
#[uniffi::export(default(key_alias = None))]
pub fn create_agent(
    state_dir: String,
    region: String,
    policy_json: String,
    key_store_provider: String,
    key_alias: Option<String>,
) -> Result<Arc<Agent>, ApiError> {
    embed::create(state_dir, region, policy_json, protector(key_store_provider, key_alias)?, None)
}

/// The alias of the key that wraps the agent's data key when `keyAlias` is left out: the app's
/// one entry in the key store (with its generation records, `<alias>.generation.<n>`).
#[uniffi::export]
pub fn default_key_alias() -> String {
    DEFAULT_KEY_ALIAS.to_string()
}
