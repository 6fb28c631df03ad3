//! The one `Java_…` entry point, `org.quietline.android.NativeBridge.nativeInit`, and `JNI_OnLoad`.
//!
//! Everything else the app calls goes through UniFFI ([`crate::api`]): the key protector is handed
//! to the agent in Rust, so no key store operation crosses JNI from Kotlin. The entry point runs
//! inside `EnvUnowned::with_env`, which catches panics; a caught panic or a JNI error becomes a
//! `RuntimeException` in Java, never an abort.

use crate::runtime;
use jni::errors::{Error as JniError, ThrowRuntimeExAndDefault};
use jni::objects::{JClass, JClassLoader, JObject};
use jni::sys::{jint, JNI_VERSION_1_6};
use jni::vm::JavaVM;
use jni::EnvUnowned;
use std::ffi::c_void;

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
