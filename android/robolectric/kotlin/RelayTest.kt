package org.quietline.robolectric

import android.os.PersistableBundle
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.quietline.AuditKind
import org.quietline.Mode
import org.quietline.android.Quietline
import org.quietline.android.Relay
import org.quietline.android.RelayPollJob
import org.quietline.android.Enrollment
import org.quietline.takeWipeReceipt
import org.quietline.test.DEVICE_ID
import org.robolectric.Shadows.shadowOf

/**
 * The relay job against the real `quietline-relay` over TLS (docs/relay-protocol.md), with IT
 * driving the real `quietline-admin --relay`: enrollment response, `GET /queue`, receipts and
 * the device-signed check-in, end to end; and what the relay cannot do to the phone.
 */
class RelayTest : Scenario() {
    private var relay: TestRelay? = null

    @After
    fun stopRelay() {
        relay?.close()
        Relay.trustAnchors = null
    }

    /** An org with the real relay, and this phone enrolled from a bundle naming it. */
    private fun enrolled(mode: Mode): TestRelay {
        val o = org(mode)
        val r = TestRelay(o).also { relay = it }
        asMode(mode)
        Quietline.init(app)
        Relay.trustAnchors = r.trust
        Enrollment.enroll(app, r.bundle(mode.name.lowercase()))
        runPending()
        return r
    }

    private fun poll(): Boolean = RelayPollJob.runOnce(app, PersistableBundle())

    /** One run of the job as JobScheduler starts it: onStartJob, its own thread, jobFinished. */
    private fun pollAsJobScheduler(): Boolean {
        val job = org.robolectric.Robolectric.setupService(RelayPollJob::class.java)
        val params = android.app.job.JobParameters(
            null, null, RelayPollJob.POLL_JOB, PersistableBundle(), android.os.Bundle(), null, 0, false, false, false, null, null, null,
        )
        assertTrue("the job continues on its own thread", job.onStartJob(params))
        val shadow = shadowOf(job)
        waitFor("the job to finish") { shadow.isJobFinished }
        return !shadow.isRescheduleNeeded
    }

    private fun deviceLine(status: String): String = status.lines().single { it.startsWith(DEVICE_ID) }

    @Test
    fun relay_lock_queued_by_it_is_applied_and_its_receipt_verified_and_the_phone_checks_in_work() {
        val r = enrolled(Mode.WORK)
        Quietline.agent(app).registerSurvivor(SURVIVOR, null)
        // First poll: the response reaches the relay (IT announced the enrollment), the queue is
        // read with the posted key, and the phone checks in.
        assertTrue("first poll", poll())
        val response = r.accept()
        assertEquals("IT got the phone's own response", Quietline.agent(app).enrollmentResponse(), response)
        assertTrue("checked in: ${r.status()}", !deviceLine(r.status()).contains("no check-in") && !deviceLine(r.status()).contains("not enrolled"))

        r.command("lock")
        assertEquals(0, WipeShadow.lockNowCalls)
        Relay.setPushToken(app, "fcm", "test-fcm-token-1")
        assertTrue("second poll, started by JobScheduler", pollAsJobScheduler())
        assertEquals("the queued lock was applied", 1, WipeShadow.lockNowCalls)
        assertTrue("the receipt left the phone", Quietline.agent(app).queuedReceipts().isEmpty())
        val receipts = r.receipts()
        val verified = receipts.lines().filter { it.startsWith("verified $DEVICE_ID") }
        assertEquals(receipts, 1, verified.size)
        assertTrue(receipts, verified[0].contains("\"requested\":\"lock\"") && verified[0].contains("\"outcome\":\"done\""))
        val row = deviceLine(r.status())
        assertTrue(row, row.contains(" v1 ") && row.contains("1 ok") && !row.contains("no check-in"))
        assertEquals("the push token was registered", listOf("test-fcm-token-1"), r.query("SELECT token FROM push_tokens"))

        // The queue is not drained by fetching, and feeding it again changes nothing.
        assertTrue(poll())
        assertEquals("a replayed lock does not lock again", 1, WipeShadow.lockNowCalls)
        // A poll, however successful, is not a check-in for the phone's offline rules.
        assertTrue(Quietline.agent(app).auditExport().none { it.kind == AuditKind.CHECK_IN })
        // Nothing the phone sent names the survivor: not in the relay's database, WAL or log.
        val stored = r.org.dir.listFiles()!!.filter { it.name.startsWith("relay.") }
        assertTrue("$stored", stored.any { it.name == "relay.db" && it.length() > 0 })
        for (f in stored) {
            val text = String(f.readBytes(), Charsets.ISO_8859_1)
            assertFalse("survivor number in ${f.name}", text.contains(SURVIVOR_AS_LOGGED))
        }
    }

    @Test
    fun relay_policy_renewal_signed_by_it_is_installed_and_reported_in_the_check_in_work() {
        val r = enrolled(Mode.WORK)
        assertTrue(poll())
        r.accept()
        assertEquals(1UL, Quietline.agent(app).policyVersion())
        // IT renews the policy (a shorter auto-lock) and queues it for the fleet.
        val rules = org.json.JSONObject(org.quietline.defaultPolicyJson(Mode.WORK))
        rules.getJSONObject("auto_lock").put("max_timeout_secs", 20)
        java.io.File(r.org.dir, "rules-2.json").writeText(rules.toString())
        r.it(
            "policy", "sign", "--rules", "rules-2.json", "--org", "acme", "--version", "2", "--expires-in-days", "30",
            "--staff", "it=keys/it.pub=lock,wipe_selective,wipe_full,purge_survivor_data,ping", "--key", "keys/root.key", "--out", "policy-2.ql",
        )
        assertTrue(poll())
        assertEquals("the renewed policy is installed", 2UL, Quietline.agent(app).policyVersion())
        assertEquals("and enforced", 20_000L, dpm.getMaximumTimeToLock(admin))
        val row = deviceLine(r.status())
        assertTrue("the check-in reports it: $row", row.contains(" v2 "))
    }

    @Test
    fun relay_selective_wipe_sends_its_receipt_before_the_platform_wipe_byod() {
        val r = enrolled(Mode.BYOD)
        assertTrue(poll())
        r.accept()
        r.command("wipe", "--scope", "selective")
        poll()
        assertTrue("the platform wipe ran", shadowOf(dpm).wipeCalledTimes > 0)
        assertFalse("the data key is destroyed", org.quietline.jvmtest.TestKeyStoreProvider.contains(AndroidKeyProtectorAlias))
        assertNull("the wipe receipt was delivered, not left behind", takeWipeReceipt(Quietline.stateDir(app).path))
        val receipts = r.receipts()
        assertTrue(receipts, receipts.lines().any { it.startsWith("verified $DEVICE_ID") && it.contains("\"requested\":\"wipe_selective\"") && it.contains("\"performed\":\"selective\"") })
        assertTrue(r.status(), deviceLine(r.status()).contains("wiped selective"))
    }

    @Test
    fun relay_a_second_device_key_for_one_enrollment_is_a_conflict_and_the_advocate_is_told_work() {
        val r = enrolled(Mode.WORK)
        assertTrue(poll()) // the relay holds this phone's key
        // Someone enrolls another phone (or this one again) from the same bundle: a new device key.
        Quietline.reset()
        assertTrue(Quietline.stateDir(app).deleteRecursively())
        java.io.File(app.noBackupFilesDir, "enrollment-delivered").delete()
        Enrollment.enroll(app, java.io.File(r.org.dir, "bundle-relay.ql").readText().trim())
        assertEquals(Enrollment.Delivery.CONFLICT, Enrollment.deliverResponse(app, Quietline.agent(app)))
        assertFalse("a conflict is retried, not a success", poll())
        val screen = org.robolectric.Robolectric.buildActivity(org.quietline.android.EnrollActivity::class.java).setup().get()
        waitFor("the advocate is told") {
            FindingsTest.findAll(screen.window.decorView, android.widget.TextView::class.java).any { it.text.contains("contact IT") }
        }
    }

    @Test
    fun relay_forged_queued_command_is_refused_by_the_phone_work() {
        val r = enrolled(Mode.WORK)
        assertTrue(poll())
        r.accept()
        // A key the organisation never named: the relay refuses to queue its command ...
        r.org.admin("keygen", "--out", "keys", "--name", "mallory")
        val refused = runCatching { r.command("lock", key = "keys/mallory.key") }
        assertTrue("the relay queued a command from an unknown key", refused.isFailure)
        // ... so the relay's operator puts it (and a tampered copy of a real one) in the queue.
        val forged = r.org.admin("command", "lock", "--device", "devices/phone.json", "--key", "keys/mallory.key")
            .lines().single { it.startsWith("SMS: ") }.removePrefix("SMS: ")
        val real = r.org.admin("command", "lock", "--device", "devices/phone.json", "--key", "keys/it.key")
            .lines().single { it.startsWith("SMS: ") }.removePrefix("SMS: ")
        val tampered = real.substring(0, 20) + (if (real[20] == 'A') 'B' else 'A') + real.substring(21)
        r.injectCommand(forged, 50)
        r.injectCommand(tampered, 51)
        assertEquals(2, r.query("SELECT id FROM queue WHERE kind = 'command'").size)
        assertTrue(poll())
        assertEquals("the relay handed both to the phone", listOf("forged-50", "forged-51"), r.query("SELECT id FROM deliveries WHERE id LIKE 'forged-%' ORDER BY id"))
        assertEquals("no forged lock was applied", 0, WipeShadow.lockNowCalls)
        assertTrue("no receipt for a forged command", Quietline.agent(app).queuedReceipts().isEmpty())
        assertTrue(r.receipts().lines().none { it.startsWith("verified") })
    }

    @Test
    fun relay_over_plain_http_or_with_an_untrusted_certificate_is_never_used_work() {
        val r = enrolled(Mode.WORK)
        assertTrue(poll())
        // The same relay through a plain-HTTP port: refused before anything is sent.
        val plain = runCatching { Relay.fetchQueue(Quietline.agent(app), r.itUrl) }.exceptionOrNull()
        assertTrue("$plain", plain is java.io.IOException && plain.message == "the relay must be https")
        // Without the test certificate the relay's TLS is not trusted: the poll fails, nothing applied.
        Relay.trustAnchors = null
        assertFalse(poll())
    }
}
