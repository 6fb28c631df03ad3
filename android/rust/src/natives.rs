//! The `Java_…` entry points of `org.quietline.android.NativeBridge`, and `JNI_OnLoad`.
//!
//! Each entry point runs inside `EnvUnowned::with_env`, which catches panics; a caught panic or a
//! JNI error becomes a `RuntimeException` in Java, never an abort. Key store failures are thrown
//! as `org.quietline.android.KeyStoreFailure(kind, reason)`, which the Kotlin `AndroidKeyProtector`
//! turns into the bindings' typed `KeyProtectorException`.

use crate::keystore::JniKeyProtector;
use crate::runtime::{self, Runtime};
use jni::errors::{Error as JniError, ThrowRuntimeExAndDefault};
use jni::objects::{JByteArray, JClass, JClassLoader, JObject, JString, JThrowable, JValue};
use jni::sys::{jint, JNI_VERSION_1_6};
use jni::vm::JavaVM;
use jni::{jni_sig, Env, EnvUnowned};
use quietline_ffi::KeyProtectorError;
use std::ffi::c_void;

/// `KeyStoreFailure.kind` values, mirrored in Kotlin.
const KIND_UNAVAILABLE: jint = 1;
const KIND_KEY_INVALIDATED: jint = 2;
const KIND_FAILED: jint = 3;

/// Caches the VM as soon as `System.loadLibrary("quietline_android")` loads us.
///
/// # Safety
/// Called by the JVM with its own, valid `JavaVM` pointer.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn JNI_OnLoad(vm: *mut jni::sys::JavaVM, _reserved: *mut c_void) -> jint {
    if !vm.is_null() {
        // SAFETY: the JVM passes its own valid pointer; `from_raw` only stores it.
        let _ = std::panic::catch_unwind(|| unsafe { JavaVM::from_raw(vm) });
    }
    JNI_VERSION_1_6
}

/// `NativeBridge.nativeInit(context, loader)`: caches the app context, its class loader and the
/// classes the key protector uses. Called once by `Quietline.init(context)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_quietline_android_NativeBridge_nativeInit<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
    context: JObject<'local>,
    loader: JClassLoader<'local>,
) {
    unowned
        .with_env(|env| -> Result<(), JniError> {
            runtime::init(env, &context, &loader)?;
            Ok(())
        })
        .resolve::<ThrowRuntimeExAndDefault>()
}

/// `NativeBridge.wrapKey(provider, alias, dataKey)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_quietline_android_NativeBridge_wrapKey<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
    provider: JString<'local>,
    alias: JString<'local>,
    data_key: JByteArray<'local>,
) -> JByteArray<'local> {
    unowned
        .with_env(|env| transform_key(env, &provider, &alias, &data_key, JniKeyProtector::wrap))
        .resolve::<ThrowRuntimeExAndDefault>()
}

/// `NativeBridge.unwrapKey(provider, alias, wrapped)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_quietline_android_NativeBridge_unwrapKey<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
    provider: JString<'local>,
    alias: JString<'local>,
    wrapped: JByteArray<'local>,
) -> JByteArray<'local> {
    unowned
        .with_env(|env| transform_key(env, &provider, &alias, &wrapped, JniKeyProtector::unwrap))
        .resolve::<ThrowRuntimeExAndDefault>()
}

/// `NativeBridge.destroyKey(provider, alias)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_quietline_android_NativeBridge_destroyKey<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
    provider: JString<'local>,
    alias: JString<'local>,
) {
    unowned
        .with_env(|env| -> Result<(), JniError> {
            let protector = protector(env, &provider, &alias)?;
            protector.destroy().map_err(|e| throw_failure(env, e))
        })
        .resolve::<ThrowRuntimeExAndDefault>()
}

/// Wraps or unwraps key bytes from Java with the named key, throwing `KeyStoreFailure` on a key
/// store error.
fn transform_key<'local>(
    env: &mut Env<'local>,
    provider: &JString<'_>,
    alias: &JString<'_>,
    input: &JByteArray<'_>,
    op: fn(&JniKeyProtector, &[u8]) -> Result<Vec<u8>, KeyProtectorError>,
) -> Result<JByteArray<'local>, JniError> {
    let protector = protector(env, provider, alias)?;
    let input = env.convert_byte_array(input)?;
    match op(&protector, &input) {
        Ok(out) => env.byte_array_from_slice(&out),
        Err(e) => Err(throw_failure(env, e)),
    }
}

fn protector(env: &mut Env<'_>, provider: &JString<'_>, alias: &JString<'_>) -> Result<JniKeyProtector, JniError> {
    if provider.is_null() || alias.is_null() {
        return Err(JniError::NullPtr("provider and alias"));
    }
    Ok(JniKeyProtector::new(provider.try_to_string(env)?, alias.try_to_string(env)?))
}

/// Throws `KeyStoreFailure(kind, reason)`; returns the error that tells `resolve` an exception is
/// pending. Without the runtime (no `init`), a plain `IllegalStateException` is thrown.
fn throw_failure(env: &mut Env<'_>, e: KeyProtectorError) -> JniError {
    let (kind, reason) = match &e {
        KeyProtectorError::Unavailable { reason } => (KIND_UNAVAILABLE, reason.clone()),
        KeyProtectorError::KeyInvalidated => (KIND_KEY_INVALIDATED, "the protecting key is gone".to_string()),
        KeyProtectorError::Failed { reason } => (KIND_FAILED, reason.clone()),
    };
    let Some(rt) = runtime::get() else {
        return env
            .throw_new(jni::jni_str!("java/lang/IllegalStateException"), jni::strings::JNIString::from(reason))
            .err()
            .unwrap_or(JniError::JavaException);
    };
    match new_failure(env, rt, kind, &reason) {
        Ok(t) => env.throw(t).err().unwrap_or(JniError::JavaException),
        Err(err) => err,
    }
}

fn new_failure<'l>(env: &mut Env<'l>, rt: &Runtime, kind: jint, reason: &str) -> Result<JThrowable<'l>, JniError> {
    let reason = env.new_string(reason)?;
    let obj = env.new_object(
        &rt.classes.failure,
        jni_sig!("(ILjava/lang/String;)V"),
        &[JValue::Int(kind), JValue::Object(&reason)],
    )?;
    env.cast_local::<JThrowable>(obj)
}
