//! `quietline-android`: the Rust half of the Android app, built into `libquietline_android.so`.
//!
//! It carries three things:
//! - the UniFFI scaffolding of [`quietline_ffi`] (namespace `quietline`, Kotlin package
//!   `org.quietline`), re-exported so its `uniffi_quietline_ffi_*` symbols end up in this one
//!   `.so`: the generated Kotlin loads it through JNA once the app sets
//!   `uniffi.component.quietline.libraryOverride` to `quietline_android` (see `Quietline.init`);
//! - this crate's own UniFFI namespace `quietline_android` (Kotlin package
//!   `org.quietline.android.ffi`, [`api`]): `openAgent`, `enrollAgent` and `createAgent` build the
//!   bindings' `Agent` with the key protector below handed to the core directly, so the data key
//!   never goes through Kotlin;
//! - the key protector that wraps the agent's data key with a non-exportable AES-GCM key in the
//!   Android Keystore and records the state's generation there (rollback of the directory),
//!   written in Rust against `java.security.KeyStore` / `javax.crypto.Cipher` through `jni`
//!   ([`keystore`]).
//!
//! The JNI plumbing follows DESIGN.md: `JNI_OnLoad` caches the `JavaVM`; one Kotlin
//! `Quietline.init(context)` call (the one JNI native, [`natives`]) caches global references to
//! the context, the app's class loader and every class Rust calls, in a `OnceLock` ([`runtime`]);
//! each use attaches with `attach_current_thread_for_scope`; a Java exception is cleared and
//! classified when it is mapped to an error; the JNI entry point and every UniFFI export catch
//! panics. Provider and alias are parameters, so the same code runs on the desktop JVM against a
//! software key store in tests (`-Xcheck:jni`).
#![deny(clippy::unwrap_used)]

pub mod api;
pub mod keystore;
pub mod natives;
pub mod runtime;

/// The UniFFI surface, linked into this library so the app ships one `.so`.
pub use quietline_ffi;

pub use keystore::JniKeyProtector;

uniffi::setup_scaffolding!("quietline_android");
