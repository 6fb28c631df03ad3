// IT staff for the trust tests: drives the real admin CLI (`quietline-admin`) to make keys, signed
// policies, enrollment bundles and commands, and to verify the phone's receipts. The binary is
// $QL_ADMIN, or the debug build under target/ (the tests run from the workspace root).
package org.quietline.test

import java.io.File
import java.util.concurrent.TimeUnit

const val DEVICE_ID = "0011223344556677"
const val RELAY = "https://relay.example.org/q"

class Org(val dir: File, rules: String, mode: String = "work") {
    private val adminBin = System.getenv("QL_ADMIN") ?: File("target/debug/quietline-admin").absolutePath
    val bundle: String

    init {
        dir.mkdirs()
        admin("keygen", "--out", "keys", "--name", "root")
        admin("keygen", "--out", "keys", "--name", "it")
        policy(1, rules)
        admin(
            "enroll", "--org", "acme", "--root-pub", "keys/root.pub", "--mode", mode, "--policy", "policy-1.ql",
            "--device-id", DEVICE_ID, "--relay-url", RELAY, "--out", "bundle.ql",
        )
        bundle = File(dir, "bundle.ql").readText().trim()
    }

    fun admin(vararg args: String): String {
        val p = ProcessBuilder(listOf(adminBin) + args).directory(dir).redirectErrorStream(false).start()
        val out = p.inputStream.bufferedReader().readText()
        val err = p.errorStream.bufferedReader().readText()
        check(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) { "quietline-admin ${args.take(2)} failed: $err" }
        return out
    }

    /** Signs `rules` (policy JSON) as policy `version`; returns the `QL:` text. */
    fun policy(version: Int, rules: String): String {
        File(dir, "rules-$version.json").writeText(rules)
        admin(
            "policy", "sign", "--rules", "rules-$version.json", "--org", "acme", "--version", "$version",
            "--expires-in-days", "30", "--staff", "it=keys/it.pub=lock,wipe_selective,wipe_full,purge_survivor_data,ping",
            "--key", "keys/root.key", "--out", "policy-$version.ql",
        )
        return File(dir, "policy-$version.ql").readText().trim()
    }

    /** IT accepts the phone's enrollment response (and so learns its device key). */
    fun accept(response: String) {
        admin("enroll", "accept", "--bundle", "bundle.ql", "--out", "device.json", response)
    }

    /** Signs a command (`lock`, `wipe --scope full`, `ping`, …); returns its SMS text. */
    fun command(vararg args: String): String =
        admin("command", *args, "--device", "device.json", "--key", "keys/it.key")
            .lines().single { it.startsWith("SMS: ") }.removePrefix("SMS: ")

    /** Checks a receipt's signature with the device key, as IT staff do; returns its fields. */
    @Suppress("UNCHECKED_CAST")
    fun verifyReceipt(receipt: String): Map<String, Any?> =
        Json.parse(admin("receipt", "verify", "--device", "device.json", receipt)) as Map<String, Any?>
}
