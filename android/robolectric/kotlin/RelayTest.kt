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
        Relay.clock = { System.currentTimeMillis() }
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

    /** `GET /queue` requests so far authenticated by (poll session, device key), as the client counted them. */
    private fun queueAuth(): Pair<Int, Int> = Relay.queueBySession.get() to Relay.queueByDevice.get()

    /** The poll session the client keeps for [r] (read through the test hook, left unchanged). */
    private fun keptSession(r: TestRelay): String {
        var kept: String? = null
        Relay.alterSession(r.phoneUrl) { kept = it; it }
        return kept ?: throw AssertionError("no poll session kept")
    }

    /** [hex] with its first digit changed. */
    private fun flip(hex: String): String = (if (hex[0] == '0') '1' else '0') + hex.substring(1)

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
        assertTrue(r.status(), deviceLine(r.status()).contains("agent erased, selective wipe requested"))
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

    @Test
    fun relay_second_poll_uses_the_poll_session_which_stays_in_memory_only_work() {
        val r = enrolled(Mode.WORK)
        val (s0, d0) = queueAuth()
        assertTrue("first poll", poll())
        assertEquals("the first GET /queue is signed by the device key", s0 to d0 + 1, queueAuth())
        assertTrue("the relay issued a poll session with its 200", Relay.hasSession(r.phoneUrl))
        val session = keptSession(r)
        assertTrue(session, Regex("[0-9a-f]{32}\\.[0-9a-f]{64}\\.[0-9]+").matches(session))
        r.accept()
        r.command("lock")
        assertTrue("second poll", poll())
        assertEquals("the queued lock was applied", 1, WipeShadow.lockNowCalls)
        // The relay answered 200 to the session (a 401 would have made the client sign instead).
        assertEquals("the second GET /queue used the session, not the device key", s0 + 1 to d0 + 1, queueAuth())
        assertEquals("a session-authenticated answer issues no new session", session, keptSession(r))
        // The relay's side: on SQLite it keeps poll sessions in its memory only (docs/relay.md,
        // "Where state lives"), so neither the session's id nor its key is in its database files.
        assertEquals("no poll session in the relay's database", emptyList<String>(), r.query("SELECT sid FROM sessions"))
        val (sidOnly, keyOnly) = session.split('.')
        for (f in listOf(r.db, java.io.File(r.db.path + "-wal")).filter { it.isFile }) {
            val text = String(f.readBytes(), Charsets.ISO_8859_1)
            assertFalse("the poll session in the relay's ${f.name}", text.contains(sidOnly) || text.contains(keyOnly))
        }
        assertTrue(r.receipts().lines().any { it.startsWith("verified $DEVICE_ID") && it.contains("\"requested\":\"lock\"") })
        assertTrue("the check-in still works (device-signed)", deviceLine(r.status()).contains("1 ok"))
        // Never on the phone's disk: no file under the app's data directory holds the session,
        // its id or its key (the org-* directories are IT's and the relay's, not the phone's);
        // never in the log.
        val (sid, key) = session.split('.')
        val dataDir = java.io.File(app.applicationInfo.dataDir)
        val files = dataDir.walkTopDown().onEnter { it == dataDir || !it.name.startsWith("org-") }.filter { it.isFile }.toList()
        assertTrue("the app wrote files: $files", files.any { it.path.startsWith(Quietline.stateDir(app).path) })
        for (f in files) {
            val text = String(f.readBytes(), Charsets.ISO_8859_1)
            assertFalse("the poll session in ${f.path}", text.contains(sid) || text.contains(key))
        }
        for (log in org.robolectric.shadows.ShadowLog.getLogs()) {
            assertFalse("the poll session in the log", log.msg.orEmpty().contains(key) || log.msg.orEmpty().contains(sid))
        }
        assertFalse("the relay logged the session key", java.io.File(r.org.dir, "relay.log").readText().contains(key))
        // Gone with the agent (a wipe, a new enrollment): the next poll signs again.
        Quietline.forget()
        assertFalse(Relay.hasSession(r.phoneUrl))
    }

    @Test
    fun relay_refused_or_expired_poll_session_falls_back_to_the_device_key_and_the_command_arrives_work() {
        val r = enrolled(Mode.WORK)
        assertTrue(poll())
        r.accept()
        val forgeries = listOf<Pair<String, (List<String>) -> List<String>>>(
            "a forged session key (the relay's MAC check fails)" to { p -> listOf(p[0], flip(p[1]), p[2]) },
            "a session id the relay never issued" to { p -> listOf(flip(p[0]), p[1], p[2]) },
        )
        for ((what, forge) in forgeries) {
            Relay.alterSession(r.phoneUrl) { forge(it.split('.')).joinToString(".") }
            val forged = keptSession(r)
            val locks = WipeShadow.lockNowCalls
            r.command("lock")
            val (s0, d0) = queueAuth()
            assertTrue("poll with $what", poll())
            assertEquals("$what: tried once, refused (401), then signed by the device key", s0 + 1 to d0 + 1, queueAuth())
            assertEquals("$what: the queued lock still arrived", locks + 1, WipeShadow.lockNowCalls)
            assertTrue("$what: the device-signed answer issued a new session", Relay.hasSession(r.phoneUrl) && keptSession(r) != forged)
            val (s1, d1) = queueAuth()
            assertTrue("$what: poll with the new session", poll())
            assertEquals("$what: the relay accepts the new session (no device signature)", s1 + 1 to d1, queueAuth())
        }
        // Within 60 s of its expiry by the phone's clock (relaySessionValid): not sent at all.
        Relay.alterSession(r.phoneUrl) { val p = it.split('.'); listOf(p[0], p[1], (System.currentTimeMillis() / 1000 + 30).toString()).joinToString(".") }
        val expiring = keptSession(r)
        r.command("lock")
        val locks = WipeShadow.lockNowCalls
        val (s0, d0) = queueAuth()
        assertTrue(poll())
        assertEquals("an expiring session is not used: the device key signs", s0 to d0 + 1, queueAuth())
        assertEquals(locks + 1, WipeShadow.lockNowCalls)
        assertTrue("and a new session replaces it", keptSession(r) != expiring)
        assertEquals("on SQLite the relay keeps its sessions in memory, none in its file", 0, r.query("SELECT sid FROM sessions").size)
        // The receipts of all three locks reached IT.
        assertEquals(r.receipts(), 3, r.receipts().lines().count { it.startsWith("verified $DEVICE_ID") && it.contains("\"requested\":\"lock\"") })
    }

    /** The phone's clock two hours behind: far outside the relay's ±600 s window (docs/relay-protocol.md). */
    private fun clockOff() {
        Relay.clock = { System.currentTimeMillis() - 2 * 3600 * 1000 }
    }

    @Test
    fun relay_phone_clock_off_gets_401_then_the_request_re_signed_at_the_relays_date_succeeds_work() {
        val r = enrolled(Mode.WORK)
        // With the phone's clock right nothing is re-signed (the count below is not a given).
        val right = Relay.resigned.get()
        assertTrue(poll())
        assertEquals("a right clock needs no re-sign", right, Relay.resigned.get())
        r.accept()
        val checkedIn = r.query("SELECT last_checkin FROM devices").single()
        // The clock goes two hours back; IT queues a lock.
        clockOff()
        r.command("lock")
        Thread.sleep(1100) // the relay's check-in time is in seconds: the next one must differ
        val before = Relay.resigned.get()
        val (s0, d0) = queueAuth()
        assertTrue("the poll succeeds with the clock off", pollAsJobScheduler())
        // GET /queue: the session (signed at the phone's clock) and the device signature were
        // both refused (401); re-signed at the relay's Date, it succeeded. The check-in too.
        assertEquals("session tried once, then the device key", s0 + 1 to d0 + 1, queueAuth())
        assertEquals("GET /queue and POST /checkin each re-signed once", before + 2, Relay.resigned.get())
        assertEquals("the queued lock was applied", 1, WipeShadow.lockNowCalls)
        assertTrue(r.receipts().lines().any { it.startsWith("verified $DEVICE_ID") && it.contains("\"requested\":\"lock\"") })
        assertTrue("a new check-in was stored", r.query("SELECT last_checkin FROM devices").single() != checkedIn)
    }

    @Test
    fun relay_phone_clock_off_and_the_re_signed_request_still_refused_is_reported_not_done_work() {
        val r = enrolled(Mode.WORK)
        assertTrue(poll())
        r.accept()
        r.command("lock")
        val checkedIn = r.query("SELECT last_checkin FROM devices").single()
        // The clock goes back, and the relay no longer holds this phone's key (its database was
        // restored from an older backup, or its operator changed it): the re-signed request is
        // refused as well.
        clockOff()
        r.execute("UPDATE devices SET device_key = '" + "0".repeat(64) + "'")
        val before = Relay.resigned.get()
        val (s0, d0) = queueAuth()
        assertFalse("reported as failed: JobScheduler retries the job", pollAsJobScheduler())
        assertEquals("session once, device key once (no loop)", s0 + 1 to d0 + 1, queueAuth())
        assertEquals("GET /queue re-signed once, then given up", before + 1, Relay.resigned.get())
        assertEquals("nothing applied", 0, WipeShadow.lockNowCalls)
        assertTrue("no receipt made", Quietline.agent(app).queuedReceipts().isEmpty())
        assertEquals("no check-in stored", checkedIn, r.query("SELECT last_checkin FROM devices").single())
    }
}
