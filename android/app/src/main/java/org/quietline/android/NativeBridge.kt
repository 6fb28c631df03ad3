package org.quietline.android

/**
 * The one JNI entry point of `libquietline_android.so` (Rust, `android/rust/src/natives.rs`).
 * Everything else goes through the UniFFI bindings: the agent's key protector lives in Rust and is
 * handed to the agent there (`openAgent` / `enrollAgent`), so no key store call crosses from
 * Kotlin. Plain JVM types only, so the same class runs in the desktop tests. Apps call
 * [Quietline.init], not this object.
 */
object NativeBridge {
    /** Caches the context, the app's class loader and the classes Rust calls. */
    @JvmStatic external fun nativeInit(context: Any, loader: ClassLoader)
}
