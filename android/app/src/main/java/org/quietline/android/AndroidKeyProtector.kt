package org.quietline.android

import org.quietline.KeyProtector
import org.quietline.KeyProtectorException

/**
 * The agent's key protector: the Rust JNI code in `libquietline_android.so` wraps the data key
 * with a non-exportable AES-GCM key in [provider] ("AndroidKeyStore" on phones). Failures arrive
 * typed, so the agent reports "retry later" or "re-enroll" instead of crashing or falling back to
 * plaintext.
 */
class AndroidKeyProtector(
    private val provider: String = ANDROID_KEY_STORE,
    private val alias: String = DEFAULT_ALIAS,
) : KeyProtector {
    override fun wrapKey(dataKey: ByteArray): ByteArray = typed { NativeBridge.wrapKey(provider, alias, dataKey) }

    override fun unwrapKey(wrapped: ByteArray): ByteArray = typed { NativeBridge.unwrapKey(provider, alias, wrapped) }

    override fun destroyKey() = typed { NativeBridge.destroyKey(provider, alias) }

    private inline fun <T> typed(block: () -> T): T =
        try {
            block()
        } catch (e: KeyStoreFailure) {
            throw when (e.kind) {
                KeyStoreFailure.UNAVAILABLE -> KeyProtectorException.Unavailable(e.message ?: "")
                KeyStoreFailure.KEY_INVALIDATED -> KeyProtectorException.KeyInvalidated()
                else -> KeyProtectorException.Failed(e.message ?: "")
            }
        } catch (e: RuntimeException) {
            // A JNI error or a caught Rust panic: a failure, never a success.
            throw KeyProtectorException.Failed(e.javaClass.name + ": " + (e.message ?: ""))
        }

    companion object {
        /** The platform key store provider on Android. */
        const val ANDROID_KEY_STORE = "AndroidKeyStore"
        /** The alias of the key that wraps the agent's data key. */
        const val DEFAULT_ALIAS = "quietline-data-key"
    }
}
