package org.quietline.jvmtest

import java.io.File
import java.nio.file.Files
import java.security.KeyStore
import kotlin.system.exitProcess
import org.quietline.Agent
import org.quietline.ApiException
import org.quietline.Mode
import org.quietline.android.NativeBridge
import org.quietline.android.ffi.createAgent
import org.quietline.android.ffi.defaultKeyAlias
import org.quietline.android.ffi.enrollAgent
import org.quietline.android.ffi.openAgent
import org.quietline.defaultPolicyJson
import org.quietline.jvmtest.TestKeyStoreProvider.Fault
import org.quietline.test.Org

/**
 * The Android key path of libquietline_android.so on the desktop JVM (run under -Xcheck:jni): the
 * app's entry points `openAgent` / `enrollAgent` / `createAgent` (UniFFI namespace
 * `quietline_android`) hand Rust's JNI key protector to the agent directly, against a software key
 * store that behaves like AndroidKeyStore. Key store failures must arrive as the right typed
 * `ApiException`, a copied-back older state directory must be refused, and no survivor number or
 * data key may reach the disk in plaintext.
 */
object KeyProtectorTest {
    private const val PROVIDER = TestKeyStoreProvider.NAME
    private const val SURVIVOR = "+1 202 555 0143"
    private const val SURVIVOR_DIGITS = "2025550143"
    private var aliases = 0

    private fun freshAlias() = "quietline-test-key-${aliases++}"

    private fun freshDir() = Files.createTempDirectory("ql-keystore").resolve("agent").toString()

    private fun create(dir: String, alias: String): Agent = createAgent(dir, "US", defaultPolicyJson(Mode.WORK), PROVIDER, alias)

    private fun store(): KeyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }

    private fun generationAliases(alias: String) = TestKeyStoreProvider.KEYS.keys.filter { it.startsWith("$alias.generation.") }.sorted()

    private fun copyDir(from: String, to: String) {
        val target = File(to)
        target.deleteRecursively()
        File(from).copyRecursively(target)
    }

    /** Every byte the agent wrote to its directory. */
    private fun diskBytes(dir: String): String =
        File(dir).walk().filter { it.isFile }.joinToString("") { String(it.readBytes(), Charsets.ISO_8859_1) }

    @JvmStatic
    fun main(args: Array<String>) {
        TestKeyStoreProvider.install()
        System.setProperty("uniffi.component.quietline.libraryOverride", "quietline_android")
        System.loadLibrary("quietline_android")
        val s = Suite("keystore (JNI, -Xcheck:jni)")

        // Before Quietline.init the key protector has no VM state: a typed failure, not a crash.
        s.test("before_init_every_entry_point_is_key_store_failed") {
            val e = expectThrows<ApiException.KeyStoreFailed> { create(freshDir(), freshAlias()) }
            check(e.message.orEmpty().contains("Quietline.init")) { "reason: ${e.message}" }
        }

        NativeBridge.nativeInit(this, KeyProtectorTest::class.java.classLoader)
        NativeBridge.nativeInit(this, KeyProtectorTest::class.java.classLoader) // a second init is harmless

        s.test("agent_commits_and_reopens_through_the_key_store_never_in_plaintext") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).use { a -> a.registerSurvivor(SURVIVOR, null) }
            check(TestKeyStoreProvider.contains(alias)) { "no key in the store" }
            openAgent(dir, PROVIDER, alias).use { a ->
                check(a.survivorCount() == 1UL) { "survivor lost across reopen" }
                check(a.isSurvivor(SURVIVOR)) { "survivor not recognised" }
            }
            val wrapped = File(dir, "data.key").readBytes()
            check(wrapped[0] == 1.toByte() && wrapped.size == 2 + wrapped[1] + 32 + 16) { "not the JNI protector's format: ${wrapped.size} bytes" }
            val disk = diskBytes(dir)
            check(!disk.contains(SURVIVOR_DIGITS) && !disk.contains(SURVIVOR)) { "survivor number on disk in plaintext" }
        }

        s.test("the_protecting_key_is_not_exportable") {
            val alias = freshAlias()
            create(freshDir(), alias).close()
            check(store().getKey(alias, null).encoded == null) { "key bytes left the store" }
        }

        s.test("the_app_uses_one_default_alias") {
            check(defaultKeyAlias() == "quietline-data-key") { defaultKeyAlias() }
            val dir = freshDir()
            create(dir, defaultKeyAlias()).close()
            openAgent(dir, PROVIDER).close()
            check(TestKeyStoreProvider.contains(defaultKeyAlias())) { "the default alias holds no key" }
        }

        s.test("enrolled_agent_survives_a_reopen") {
            val org = Org(Files.createTempDirectory("ql-org").toFile(), defaultPolicyJson(Mode.WORK))
            val alias = freshAlias()
            val dir = freshDir()
            val device = enrollAgent(dir, "US", org.bundle, PROVIDER, alias).use { a ->
                check(a.enrollmentResponse()?.startsWith("QL:") == true) { "no enrollment response" }
                a.registerSurvivor(SURVIVOR, null)
                a.deviceId()
            }
            check(device != null) { "no device id" }
            openAgent(dir, PROVIDER, alias).use { a ->
                check(a.deviceId() == device) { "device id changed across reopen" }
                check(a.policyVersion() == 1UL) { "policy version ${a.policyVersion()}" }
                check(a.isSurvivor(SURVIVOR)) { "survivor lost" }
            }
            expectThrows<ApiException.AlreadyInitialized> { enrollAgent(dir, "US", org.bundle, PROVIDER, alias) }
            expectThrows<ApiException.Untrusted> { enrollAgent(freshDir(), "US", "QL:garbage", PROVIDER, freshAlias()) }
        }

        s.test("each_commit_is_recorded_as_one_generation_entry_in_the_key_store") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).use { a ->
                a.registerSurvivor(SURVIVOR, null)
                a.forgetSurvivor(SURVIVOR)
                val records = generationAliases(alias)
                check(records == listOf("$alias.generation.${a.generation()}")) { "records $records at generation ${a.generation()}" }
            }
        }

        s.test("an_older_state_directory_copied_back_is_refused_not_revived") {
            val alias = freshAlias()
            val dir = freshDir()
            val old = freshDir()
            create(dir, alias).use { a ->
                a.registerSurvivor(SURVIVOR, null)
                copyDir(dir, old) // the attacker's copy, with the survivor registered
                check(a.forgetSurvivor(SURVIVOR)) { "not forgotten" }
            }
            val newest = generationAliases(alias)
            openAgent(dir, PROVIDER, alias).use { a -> check(!a.isSurvivor(SURVIVOR)) { "forgotten survivor back" } }
            copyDir(old, dir)
            val e = expectThrows<ApiException.StateDamaged> { openAgent(dir, PROVIDER, alias).close() }
            check(e.message.orEmpty().contains("rolled back")) { "reason: ${e.message}" }
            check(!e.message.orEmpty().contains(SURVIVOR_DIGITS)) { "the error names the survivor" }
            check(generationAliases(alias) == newest) { "refusing changed the record: ${generationAliases(alias)}" }
        }

        s.test("wipe_destroys_the_key_and_the_generation_record_then_the_files") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).use { a ->
                check(TestKeyStoreProvider.contains(alias)) { "no key after create" }
                check(generationAliases(alias).size == 1) { "no generation record" }
                a.wipe()
            }
            check(!TestKeyStoreProvider.contains(alias)) { "key survived the wipe" }
            check(generationAliases(alias).isEmpty()) { "generation record survived the wipe" }
            expectThrows<ApiException.NotInitialized> { openAgent(dir, PROVIDER, alias) }
            // A new agent under the same alias starts from generation one and is not "rolled back".
            create(dir, alias).close()
            openAgent(dir, PROVIDER, alias).close()
        }

        s.test("deleted_key_is_crypto_erase_and_reopen_is_key_invalidated") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).use { a -> a.registerSurvivor(SURVIVOR, null) }
            store().deleteEntry(alias)
            expectThrows<ApiException.KeyInvalidated> { openAgent(dir, PROVIDER, alias) }
        }

        s.test("replaced_key_is_key_invalidated") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).close()
            TestKeyStoreProvider.regenerate(alias)
            expectThrows<ApiException.KeyInvalidated> { openAgent(dir, PROVIDER, alias) }
        }

        s.test("locked_key_store_is_key_store_unavailable_and_nothing_is_lost") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).use { a -> a.registerSurvivor(SURVIVOR, null) }
            TestKeyStoreProvider.fault = Fault.NOT_AUTHENTICATED
            try {
                expectThrows<ApiException.KeyStoreUnavailable> { openAgent(dir, PROVIDER, alias) }
            } finally {
                TestKeyStoreProvider.fault = Fault.NONE
            }
            openAgent(dir, PROVIDER, alias).use { a -> check(a.survivorCount() == 1UL) { "state lost after a locked store" } }
        }

        s.test("permanently_invalidated_key_is_key_invalidated_the_re_enroll_case") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).close()
            TestKeyStoreProvider.fault = Fault.PERMANENTLY_INVALIDATED
            try {
                expectThrows<ApiException.KeyInvalidated> { openAgent(dir, PROVIDER, alias) }
            } finally {
                TestKeyStoreProvider.fault = Fault.NONE
            }
        }

        s.test("throwing_key_store_is_a_typed_failure_and_nothing_is_lost") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).use { a -> a.registerSurvivor(SURVIVOR, null) }
            TestKeyStoreProvider.fault = Fault.BROKEN
            try {
                expectThrows<ApiException.KeyStoreFailed> { openAgent(dir, PROVIDER, alias) }
                expectThrows<ApiException.KeyStoreFailed> { create(freshDir(), freshAlias()) }
            } finally {
                TestKeyStoreProvider.fault = Fault.NONE
            }
            openAgent(dir, PROVIDER, alias).use { a -> check(a.survivorCount() == 1UL) { "state lost after a failing store" } }
        }

        s.test("unknown_or_blank_provider_is_refused_with_a_type") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).close()
            expectThrows<ApiException.KeyStoreFailed> { openAgent(dir, "NoSuchProvider", alias) }
            expectThrows<ApiException.InvalidInput> { openAgent(dir, " ", alias) }
            expectThrows<ApiException.InvalidInput> { openAgent(dir, PROVIDER, "") }
            expectThrows<ApiException.InvalidInput> { openAgent("", PROVIDER, alias) }
        }

        s.test("altered_wrapped_key_is_a_typed_failure") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).close()
            File(dir, "data.key").writeBytes(byteArrayOf(9))
            expectThrows<ApiException.KeyStoreFailed> { openAgent(dir, PROVIDER, alias) }
        }

        s.test("works_from_another_java_thread") {
            val alias = freshAlias()
            val dir = freshDir()
            create(dir, alias).use { a -> a.registerSurvivor(SURVIVOR, null) }
            var count: ULong? = null
            var error: Throwable? = null
            val t = Thread {
                try {
                    openAgent(dir, PROVIDER, alias).use { a ->
                        a.forgetSurvivor(SURVIVOR)
                        count = a.survivorCount()
                    }
                } catch (e: Throwable) {
                    error = e
                }
            }
            t.start()
            t.join()
            error?.let { throw it }
            check(count == 0UL) { "commit on another thread: $count" }
        }

        exitProcess(if (s.finish()) 0 else 1)
    }
}
