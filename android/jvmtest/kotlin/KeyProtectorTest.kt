package org.quietline.jvmtest

import java.nio.file.Files
import java.security.KeyStore
import kotlin.system.exitProcess
import org.quietline.Agent
import org.quietline.ApiException
import org.quietline.Mode
import org.quietline.android.AndroidKeyProtector
import org.quietline.android.KeyStoreFailure
import org.quietline.android.NativeBridge
import org.quietline.defaultPolicyJson
import org.quietline.jvmtest.TestKeyStoreProvider.Fault

/**
 * The JNI key protector of libquietline_android.so on the desktop JVM (run under -Xcheck:jni),
 * against a software key store that behaves like AndroidKeyStore, driving a real agent through
 * the generated bindings.
 */
object KeyProtectorTest {
    private const val PROVIDER = TestKeyStoreProvider.NAME
    private const val SURVIVOR = "+1 202 555 0143"
    private var aliases = 0

    private fun freshAlias() = "quietline-test-key-${aliases++}"

    private fun freshDir() = Files.createTempDirectory("ql-keystore").resolve("agent").toString()

    private fun create(dir: String, protector: AndroidKeyProtector): Agent =
        Agent.create(dir, "US", defaultPolicyJson(Mode.WORK), protector)

    @JvmStatic
    fun main(args: Array<String>) {
        TestKeyStoreProvider.install()
        System.setProperty("uniffi.component.quietline.libraryOverride", "quietline_android")
        System.loadLibrary("quietline_android")
        NativeBridge.nativeInit(this, KeyProtectorTest::class.java.classLoader)
        NativeBridge.nativeInit(this, KeyProtectorTest::class.java.classLoader) // a second init is harmless

        val s = Suite("keystore (JNI, -Xcheck:jni)")

        s.test("wrapped_key_round_trips_and_never_holds_the_plain_key") {
            val alias = freshAlias()
            val key = ByteArray(32) { (it * 7 + 1).toByte() }
            val wrapped = NativeBridge.wrapKey(PROVIDER, alias, key)
            check(wrapped[0] == 1.toByte()) { "format byte" }
            check(!String(wrapped, Charsets.ISO_8859_1).contains(String(key, Charsets.ISO_8859_1))) { "plain key inside the wrapped form" }
            check(NativeBridge.unwrapKey(PROVIDER, alias, wrapped).contentEquals(key)) { "round trip" }
            val w2 = NativeBridge.wrapKey(PROVIDER, alias, key)
            check(!w2.contentEquals(wrapped)) { "a fresh IV each time" }
            check(TestKeyStoreProvider.generated == 1) { "one key generated, got ${TestKeyStoreProvider.generated}" }
        }

        s.test("the_protecting_key_is_not_exportable") {
            val alias = freshAlias()
            NativeBridge.wrapKey(PROVIDER, alias, ByteArray(32))
            val ks = KeyStore.getInstance(PROVIDER).apply { load(null) }
            check(ks.getKey(alias, null).encoded == null) { "key bytes left the store" }
        }

        s.test("agent_commits_and_reopens_through_the_key_store") {
            val alias = freshAlias()
            val dir = freshDir()
            val protector = AndroidKeyProtector(PROVIDER, alias)
            create(dir, protector).use { a -> a.registerSurvivor(SURVIVOR, null) }
            Agent.open(dir, protector).use { a ->
                check(a.survivorCount() == 1UL) { "survivor lost across reopen" }
                check(a.isSurvivor(SURVIVOR)) { "survivor not recognised" }
            }
        }

        s.test("wipe_destroys_the_key_then_the_files") {
            val alias = freshAlias()
            val dir = freshDir()
            val protector = AndroidKeyProtector(PROVIDER, alias)
            create(dir, protector).use { a ->
                check(TestKeyStoreProvider.contains(alias)) { "no key after create" }
                a.wipe()
            }
            check(!TestKeyStoreProvider.contains(alias)) { "key survived the wipe" }
            expectThrows<ApiException.NotInitialized> { Agent.open(dir, protector) }
        }

        s.test("destroyed_key_is_crypto_erase_and_reopen_is_key_invalidated") {
            val alias = freshAlias()
            val dir = freshDir()
            val protector = AndroidKeyProtector(PROVIDER, alias)
            create(dir, protector).use { a -> a.registerSurvivor(SURVIVOR, null) }
            NativeBridge.destroyKey(PROVIDER, alias)
            expectThrows<ApiException.KeyInvalidated> { Agent.open(dir, protector) }
        }

        s.test("replaced_key_is_key_invalidated") {
            val alias = freshAlias()
            val dir = freshDir()
            val protector = AndroidKeyProtector(PROVIDER, alias)
            create(dir, protector).close()
            TestKeyStoreProvider.regenerate(alias)
            expectThrows<ApiException.KeyInvalidated> { Agent.open(dir, protector) }
        }

        s.test("locked_key_store_is_retriable_and_nothing_is_lost") {
            val alias = freshAlias()
            val dir = freshDir()
            val protector = AndroidKeyProtector(PROVIDER, alias)
            create(dir, protector).use { a -> a.registerSurvivor(SURVIVOR, null) }
            TestKeyStoreProvider.fault = Fault.NOT_AUTHENTICATED
            try {
                expectThrows<ApiException.KeyStoreUnavailable> { Agent.open(dir, protector) }
            } finally {
                TestKeyStoreProvider.fault = Fault.NONE
            }
            Agent.open(dir, protector).use { a -> check(a.survivorCount() == 1UL) { "state lost after a locked store" } }
        }

        s.test("permanently_invalidated_key_is_key_invalidated") {
            val alias = freshAlias()
            val dir = freshDir()
            val protector = AndroidKeyProtector(PROVIDER, alias)
            create(dir, protector).close()
            TestKeyStoreProvider.fault = Fault.PERMANENTLY_INVALIDATED
            try {
                expectThrows<ApiException.KeyInvalidated> { Agent.open(dir, protector) }
            } finally {
                TestKeyStoreProvider.fault = Fault.NONE
            }
        }

        s.test("throwing_key_store_is_a_typed_failure_and_nothing_is_lost") {
            val alias = freshAlias()
            val dir = freshDir()
            val protector = AndroidKeyProtector(PROVIDER, alias)
            create(dir, protector).use { a -> a.registerSurvivor(SURVIVOR, null) }
            TestKeyStoreProvider.fault = Fault.BROKEN
            try {
                expectThrows<ApiException.KeyStoreFailed> { Agent.open(dir, protector) }
                expectThrows<ApiException.KeyStoreFailed> { create(freshDir(), protector) }
            } finally {
                TestKeyStoreProvider.fault = Fault.NONE
            }
            Agent.open(dir, protector).use { a -> check(a.survivorCount() == 1UL) { "state lost after a failing store" } }
        }

        s.test("native_failures_carry_their_kind") {
            val alias = freshAlias()
            val missing = expectThrows<KeyStoreFailure> { NativeBridge.unwrapKey(PROVIDER, alias, byteArrayOf(1, 12) + ByteArray(40)) }
            check(missing.kind == KeyStoreFailure.KEY_INVALIDATED) { "missing key: kind ${missing.kind}" }
            val garbage = expectThrows<KeyStoreFailure> { NativeBridge.unwrapKey(PROVIDER, alias, byteArrayOf(9)) }
            check(garbage.kind == KeyStoreFailure.FAILED) { "garbage: kind ${garbage.kind}" }
            val noProvider = expectThrows<KeyStoreFailure> { NativeBridge.wrapKey("NoSuchProvider", alias, ByteArray(32)) }
            check(noProvider.kind == KeyStoreFailure.FAILED) { "unknown provider: kind ${noProvider.kind}" }
        }

        s.test("destroy_is_idempotent") {
            val alias = freshAlias()
            NativeBridge.wrapKey(PROVIDER, alias, ByteArray(32))
            NativeBridge.destroyKey(PROVIDER, alias)
            NativeBridge.destroyKey(PROVIDER, alias)
            check(!TestKeyStoreProvider.contains(alias)) { "key still there" }
        }

        s.test("works_from_another_java_thread") {
            val alias = freshAlias()
            var result: ByteArray? = null
            var error: Throwable? = null
            val t = Thread {
                try {
                    val w = NativeBridge.wrapKey(PROVIDER, alias, ByteArray(32) { 5 })
                    result = NativeBridge.unwrapKey(PROVIDER, alias, w)
                } catch (e: Throwable) {
                    error = e
                }
            }
            t.start()
            t.join()
            error?.let { throw it }
            check(result?.contentEquals(ByteArray(32) { 5 }) == true) { "round trip on another thread" }
        }

        exitProcess(if (s.finish()) 0 else 1)
    }
}
