package org.quietline.android

/**
 * The JNI entry points of `libquietline_android.so` (Rust, `android/rust/src/natives.rs`).
 * Plain JVM types only, so the same class runs in the desktop tests. Apps use
 * [AndroidKeyProtector] and [Quietline.init], not this object.
 */
object NativeBridge {
    /** Caches the context, the app's class loader and the classes Rust calls. */
    @JvmStatic external fun nativeInit(context: Any, loader: ClassLoader)

    /** Wraps [dataKey] with the key [alias] in [provider]; throws [KeyStoreFailure]. */
    @JvmStatic external fun wrapKey(provider: String, alias: String, dataKey: ByteArray): ByteArray

    /** Unwraps what [wrapKey] returned; throws [KeyStoreFailure]. */
    @JvmStatic external fun unwrapKey(provider: String, alias: String, wrapped: ByteArray): ByteArray

    /** Deletes the key [alias] from [provider] (cryptographic erase); throws [KeyStoreFailure]. */
    @JvmStatic external fun destroyKey(provider: String, alias: String)
}

/**
 * Thrown by [NativeBridge] when the key store fails. Constructed from Rust (keep rule in
 * proguard-rules.pro): [kind] is one of the constants below.
 */
class KeyStoreFailure(val kind: Int, reason: String) : RuntimeException(reason) {
    companion object {
        /** Locked (before first unlock, authentication needed): retry later. */
        const val UNAVAILABLE = 1
        /** The key is gone or permanently invalidated: the wrapped data key is lost. */
        const val KEY_INVALIDATED = 2
        /** Anything else. */
        const val FAILED = 3
    }
}
