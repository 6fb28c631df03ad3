package org.quietline.robolectric

import android.Manifest
import android.app.NotificationManager
import android.app.admin.DevicePolicyManager
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import android.content.pm.PackageManager
import android.net.Uri
import android.provider.Telephony
import android.telephony.SmsManager
import android.telephony.TelephonyManager
import org.json.JSONObject
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.quietline.Finding
import org.quietline.Mode
import org.quietline.RuleGap
import org.quietline.TextDirection
import org.quietline.android.AdvocateActivity
import org.quietline.jvmtest.TestKeyStoreProvider
import org.quietline.android.Enrollment
import org.quietline.android.MessagesActivity
import org.quietline.android.MmsDeliverReceiver
import org.quietline.android.Posture
import org.quietline.android.Quietline
import org.quietline.android.RespondViaMessageService
import org.quietline.android.SmsCommandReceiver
import org.quietline.android.SmsDeliverReceiver
import org.quietline.android.DefaultSmsChangedReceiver
import org.quietline.android.SmsRule
import org.quietline.android.SurvivorTexts
import org.quietline.android.UnlockReceiver
import org.quietline.android.Work
import org.quietline.takeWipeReceipt
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowTelephony

/**
 * Rule 3 (no texts to survivors) on each mode, through the app's SMS entry points: on `work`
 * Quietline is made the default SMS app by the device owner and denies other apps SEND_SMS
 * (enforced), on `byod` it only advises. The owner's SMS calls that Robolectric leaves out are
 * modelled on AOSP by [SmsRoleShadow]; the SMS provider by [SmsProviderModel]. Texts sent are
 * read from Robolectric's ShadowSmsManager, the radio's side.
 */
@Config(shadows = [SmsRoleShadow::class])
class SmsTest : Scenario() {
    lateinit var sms: SmsProviderModel

    @Before
    fun setUpSms() {
        SmsRoleShadow.reset()
        sms = Robolectric.buildContentProvider(SmsProviderModel::class.java).create("sms").get()
    }

    @After
    fun tearDownSms() {
        Work.awaitIdle(30_000)
        sms.shutdown()
    }

    private val pm: PackageManager get() = app.packageManager

    private fun smsManager() = shadowOf(app.getSystemService(SmsManager::class.java))

    /** An app that asks for SEND_SMS and holds it (the user granted it). */
    private fun installTexter(pkg: String) {
        shadowOf(pm).installPackage(PackageInfo().apply {
            packageName = pkg
            applicationInfo = ApplicationInfo().apply { packageName = pkg; targetSdkVersion = 34 }
            requestedPermissions = arrayOf(Manifest.permission.SEND_SMS)
            requestedPermissionsFlags = intArrayOf(PackageInfo.REQUESTED_PERMISSION_GRANTED)
        })
        check(pm.checkPermission(Manifest.permission.SEND_SMS, pkg) == PackageManager.PERMISSION_GRANTED) { "test app not granted" }
    }

    /** Another app's compose intent (`smsto:`), as the system hands it to the default SMS app. */
    private fun compose(number: String, body: String): MessagesActivity =
        Robolectric.buildActivity(
            MessagesActivity::class.java,
            Intent(Intent.ACTION_SENDTO, Uri.fromParts("smsto", number, null)).putExtra("sms_body", body),
        ).setup().get()

    private fun compliance(): String {
        val s = Robolectric.buildActivity(AdvocateActivity::class.java).setup().get()
        idle()
        return s.compliance.text.toString()
    }

    private fun assertNoSurvivorNumber(text: CharSequence) {
        val digits = text.filter { it.isDigit() }
        assertFalse("a survivor's number shown: $text", digits.contains("5550143"))
    }

    private fun notifications(): List<String> =
        shadowOf(app.getSystemService(NotificationManager::class.java)).allNotifications.map {
            it.extras.getCharSequence(android.app.Notification.EXTRA_TEXT).toString()
        }

    // work: enforced ------------------------------------------------------------------------------

    @Test
    fun rule3_no_sms_to_survivors_work() {
        agent(Mode.WORK).registerSurvivor(SURVIVOR, null)
        Posture.report(app) // what every unlock and process start runs
        assertEquals(app.packageName, Telephony.Sms.getDefaultSmsPackage(app))
        assertTrue("the SMS role grants SEND_SMS", granted(Manifest.permission.SEND_SMS))
        // Any app's compose intent for a survivor reaches Quietline: the number stays off the
        // screen, and nothing reaches the radio.
        val s = compose(SURVIVOR, "are you safe")
        idle()
        assertEquals("", s.recipient.text.toString())
        s.send.performClick()
        idle()
        assertNull(smsManager().lastSentTextMessageParams)
        assertTrue(s.status.text.toString(), s.status.text.startsWith("Not sent"))
        assertNoSurvivorNumber(s.status.text)
        assertTrue(sms.rows().isEmpty())
        // To anyone else the text is sent and kept in the Sent folder.
        val t = compose(OTHER, "see you at 3")
        idle()
        assertEquals(OTHER, t.recipient.text.toString())
        t.send.performClick()
        idle()
        val sent = smsManager().lastSentTextMessageParams
        assertEquals(OTHER, sent.destinationAddress)
        assertEquals("see you at 3", sent.text)
        assertEquals(listOf(Triple(Telephony.Sms.MESSAGE_TYPE_SENT, OTHER, "see you at 3")), sms.rows())
        // The compliance screen names only what stays out of reach.
        val c = compliance()
        assertFalse(c, c.contains(AdvocateActivity.NOT_DEFAULT_SMS))
        assertFalse(c, c.contains(AdvocateActivity.OTHER_APPS_TEXTS))
        assertTrue(c, c.contains(AdvocateActivity.SYSTEM_SENDERS))
        assertTrue(SmsRule.state(app).enforced)
        assertEquals("enforced: no gap in the report IT gets", emptyList<Finding>(), ruleGaps())
    }

    /** The gaps in the agent's compliance report: what the check-in carries to IT. */
    private fun ruleGaps(): List<Finding> = Quietline.agent(app).compliance().findings.filterIsInstance<Finding.RuleNotEnforced>()

    @Test
    fun rule3_another_apps_send_sms_is_denied_by_the_owner_work() {
        installTexter("com.example.texter")
        agent(Mode.WORK)
        Posture.report(app)
        assertEquals(DevicePolicyManager.PERMISSION_GRANT_STATE_DENIED, dpm.getPermissionGrantState(admin, "com.example.texter", Manifest.permission.SEND_SMS))
        assertEquals(PackageManager.PERMISSION_DENIED, pm.checkPermission(Manifest.permission.SEND_SMS, "com.example.texter"))
        // An app installed later is denied as ACTION_PACKAGE_ADDED arrives.
        installTexter("com.example.later")
        app.sendBroadcast(Intent(Intent.ACTION_PACKAGE_ADDED, Uri.fromParts("package", "com.example.later", null)))
        waitFor("the new app's denial") { pm.checkPermission(Manifest.permission.SEND_SMS, "com.example.later") == PackageManager.PERMISSION_DENIED }
        assertTrue(SmsRule.state(app).stillSending.isEmpty())
        assertFalse(compliance().contains(AdvocateActivity.STILL_SENDING))
    }

    @Test
    fun rule3_denials_stay_when_the_agent_cannot_open_work() {
        installTexter("com.example.texter")
        agent(Mode.WORK)
        Posture.report(app)
        assertEquals(PackageManager.PERMISSION_DENIED, pm.checkPermission(Manifest.permission.SEND_SMS, "com.example.texter"))
        // Before the first unlock the key store is locked: the policy cannot be read, nothing is lifted.
        Quietline.forget()
        TestKeyStoreProvider.fault = TestKeyStoreProvider.Fault.NOT_AUTHENTICATED
        Posture.report(app)
        assertEquals(DevicePolicyManager.PERMISSION_GRANT_STATE_DENIED, dpm.getPermissionGrantState(admin, "com.example.texter", Manifest.permission.SEND_SMS))
        TestKeyStoreProvider.fault = TestKeyStoreProvider.Fault.NONE
    }

    @Test
    fun rule3_a_send_sms_the_system_fixed_is_reported_not_denied_work() {
        installTexter("com.example.carrier")
        SmsRoleShadow.systemFixed += "com.example.carrier"
        agent(Mode.WORK)
        Posture.report(app)
        // PermissionController skips a system-fixed grant and still says it was set: read back.
        assertEquals(PackageManager.PERMISSION_GRANTED, pm.checkPermission(Manifest.permission.SEND_SMS, "com.example.carrier"))
        assertEquals(listOf("com.example.carrier"), SmsRule.state(app).stillSending)
        assertFalse(SmsRule.state(app).enforced)
        assertTrue(compliance().contains(AdvocateActivity.STILL_SENDING + "com.example.carrier"))
    }

    @Test
    fun rule3_default_sms_role_refused_compliance_says_so_work() {
        SmsRoleShadow.refuseRole = true
        agent(Mode.WORK).registerSurvivor(SURVIVOR, null)
        Posture.report(app)
        assertTrue("the owner asked for the role", SmsRoleShadow.setDefaultCalls > 0)
        assertNotEquals(app.packageName, Telephony.Sms.getDefaultSmsPackage(app))
        val state = SmsRule.state(app)
        assertFalse(state.defaultApp)
        assertFalse(state.enforced)
        // The report IT gets says so, from the posture report alone (no screen opened).
        assertEquals(listOf(Finding.RuleNotEnforced(RuleGap.SMS_FROM_OTHER_APPS_UNCHECKED)), ruleGaps())
        val c = compliance()
        assertTrue(c, c.contains(AdvocateActivity.NOT_DEFAULT_SMS))
        // The role comes back (the advocate picks Quietline in Settings): the next report clears it.
        SmsRoleShadow.refuseRole = false
        Posture.report(app)
        assertEquals(app.packageName, Telephony.Sms.getDefaultSmsPackage(app))
        assertEquals(emptyList<Finding>(), ruleGaps())
    }

    @Test
    fun rule3_a_quick_reply_to_a_survivor_is_not_sent_work() {
        agent(Mode.WORK).registerSurvivor(SURVIVOR, null)
        Posture.report(app)
        fun reply(number: String) {
            val intent = Intent(TelephonyManager.ACTION_RESPOND_VIA_MESSAGE, Uri.fromParts("smsto", number, null))
                .putExtra(Intent.EXTRA_TEXT, "Cannot talk now")
            Robolectric.buildService(RespondViaMessageService::class.java, intent).create().startCommand(0, 1)
            assertTrue(Work.awaitIdle(10_000))
        }
        reply(SURVIVOR)
        assertNull(smsManager().lastSentTextMessageParams)
        val told = notifications().single { it.startsWith("Quick reply") }
        assertTrue(told, told.startsWith("Quick reply not sent"))
        assertNoSurvivorNumber(told)
        reply(OTHER)
        assertEquals(OTHER, smsManager().lastSentTextMessageParams.destinationAddress)
    }

    @Test
    fun rule9_an_it_wipe_sms_delivered_by_sms_deliver_runs_the_command_path_work() {
        val org = org(Mode.WORK)
        asWork()
        Quietline.init(app)
        val agent = Enrollment.enroll(app, org.bundle)
        org.accept(agent.enrollmentResponse()!!)
        Posture.report(app)
        assertEquals(app.packageName, Telephony.Sms.getDefaultSmsPackage(app))
        app.registerReceiver(SmsDeliverReceiver(), IntentFilter(Telephony.Sms.Intents.SMS_DELIVER_ACTION))
        app.registerReceiver(SmsCommandReceiver(), IntentFilter(Telephony.Sms.Intents.SMS_RECEIVED_ACTION))
        // An ordinary text is written to the inbox: the default SMS app's job.
        app.sendBroadcast(Sms.delivered("+12025550199", "See you at 3"))
        waitFor("the inbox") { sms.rows().isNotEmpty() }
        assertEquals(listOf(Triple(Telephony.Sms.MESSAGE_TYPE_INBOX, "+12025550199", "See you at 3")), sms.rows())
        // SMS_RECEIVED follows SMS_DELIVER for every app: the default app's copy is the one applied.
        val wipe = org.command("wipe", "--scope", "full")
        app.sendBroadcast(Sms.received("+12025550100", wipe))
        idle()
        assertTrue(Work.awaitIdle(10_000))
        assertEquals(0, WipeShadow.wipeDeviceCalls)
        app.sendBroadcast(Sms.delivered("+12025550100", wipe))
        waitFor("the full wipe") { WipeShadow.wipeDeviceCalls > 0 }
        val receipt = org.verifyReceipt(takeWipeReceipt(Quietline.stateDir(app).path)!!)
        assertEquals("$receipt", "full", receipt["performed"])
        assertEquals("a command is not stored as a message", 1, sms.rows().size)
    }

    @Test
    fun rule3_an_mms_is_not_shown_and_the_advocate_is_told_work() {
        agent(Mode.WORK)
        Posture.report(app)
        app.registerReceiver(MmsDeliverReceiver(), IntentFilter(Telephony.Sms.Intents.WAP_PUSH_DELIVER_ACTION, "application/vnd.wap.mms-message"))
        app.sendBroadcast(Sms.mmsDelivered())
        idle()
        assertTrue(notifications().toString(), MmsDeliverReceiver.MMS_TEXT in notifications())
    }

    @Test
    fun rule3_the_owner_takes_the_default_sms_app_back_work() {
        agent(Mode.WORK)
        Posture.report(app)
        assertEquals(app.packageName, Telephony.Sms.getDefaultSmsPackage(app))
        // The advocate picks another SMS app in Settings: the old default is told, and takes it back.
        ShadowTelephony.ShadowSms.setDefaultSmsPackage("com.example.messages")
        app.registerReceiver(DefaultSmsChangedReceiver(), IntentFilter(Telephony.Sms.Intents.ACTION_DEFAULT_SMS_PACKAGE_CHANGED))
        app.sendBroadcast(Intent(Telephony.Sms.Intents.ACTION_DEFAULT_SMS_PACKAGE_CHANGED).putExtra(Telephony.Sms.Intents.EXTRA_IS_DEFAULT_SMS_APP, false))
        waitFor("the default back") { Telephony.Sms.getDefaultSmsPackage(app) == app.packageName }
    }

    @Test
    fun rule3_the_message_list_never_shows_a_survivor_number_work() {
        agent(Mode.WORK).registerSurvivor(SURVIVOR, null)
        Posture.report(app)
        // A survivor's text another SMS app stored before Quietline was the default.
        sms.put(Telephony.Sms.MESSAGE_TYPE_INBOX, "+12025550143", "call me after 6")
        sms.put(Telephony.Sms.MESSAGE_TYPE_INBOX, "+12025550199", "hello")
        val s = Robolectric.buildActivity(MessagesActivity::class.java).setup().get()
        idle()
        val list = s.messages.text.toString()
        assertTrue(list, list.contains(MessagesActivity.HIDDEN + ": call me after 6"))
        assertTrue(list, list.contains("+12025550199: hello"))
        assertNoSurvivorNumber(list)
    }

    @Test
    fun rule3_a_work_policy_that_allows_texts_still_keeps_survivor_texts_out_of_the_provider_work() {
        installTexter("com.example.texter")
        agent(Mode.WORK) { it.put("sms", JSONObject().put("block_to_survivors", false)) }
        Posture.report(app)
        // Quietline must be the SMS app to hold survivors' texts, and another app's sent text would
        // be written to the provider by the system: the same as when texts are blocked.
        assertEquals(app.packageName, Telephony.Sms.getDefaultSmsPackage(app))
        assertEquals(PackageManager.PERMISSION_DENIED, pm.checkPermission(Manifest.permission.SEND_SMS, "com.example.texter"))
    }

    @Test
    fun rule3_a_send_sms_denied_already_is_not_denied_again_at_each_unlock_work() {
        installTexter("com.example.texter")
        agent(Mode.WORK)
        fun denials(pkg: String) = SmsRoleShadow.grantStateCalls.count { it == pkg to Manifest.permission.SEND_SMS }
        Posture.report(app)
        assertEquals(1, denials("com.example.texter"))
        Posture.report(app) // the next unlock
        assertEquals("only what changed is acted on", 1, denials("com.example.texter"))
        installTexter("com.example.later")
        Posture.report(app)
        assertEquals(1, denials("com.example.texter"))
        assertEquals(1, denials("com.example.later"))
        assertEquals(PackageManager.PERMISSION_DENIED, pm.checkPermission(Manifest.permission.SEND_SMS, "com.example.later"))
    }

    // Survivors' texts: held by the agent, never in the SMS provider (rules 3, 4, 5, 8) --------------

    private fun deliver(vararg texts: Pair<String, String>) {
        app.registerReceiver(SmsDeliverReceiver(), IntentFilter(Telephony.Sms.Intents.SMS_DELIVER_ACTION))
        for ((from, body) in texts) app.sendBroadcast(Sms.delivered(from, body))
    }

    /** Every byte under the agent's state directory, as Latin-1 text for searching. */
    private fun stateOnDisk(): String =
        Quietline.stateDir(app).walkTopDown().filter { it.isFile }.joinToString("") { String(it.readBytes(), Charsets.ISO_8859_1) }

    private fun messages(): MessagesActivity = Robolectric.buildActivity(MessagesActivity::class.java).setup().get().also { idle() }

    @Test
    fun rule8_a_text_from_a_survivor_is_held_by_the_agent_never_in_the_provider_work() {
        val agent = agent(Mode.WORK) { it.getJSONObject("retention").put("survivor_text_hours", 2) }
        agent.registerSurvivor(SURVIVOR, null)
        Posture.report(app)
        deliver("+12025550143" to "call me after 6", "+12025550199" to "hello")
        waitFor("both texts") { sms.rows().size == 1 && agent.heldTexts().size == 1 }
        Work.awaitIdle(10_000)
        assertEquals("only the other text is in the provider", listOf(Triple(Telephony.Sms.MESSAGE_TYPE_INBOX, "+12025550199", "hello")), sms.rows())
        val held = agent.heldTexts().single()
        assertEquals("call me after 6", held.body)
        assertEquals(TextDirection.INCOMING, held.direction)
        assertEquals("deleted after the policy's 2 hours", java.time.Duration.ofHours(2), java.time.Duration.between(held.at, held.expiresAt))
        // The notification (kept in the system's notification history) names neither the number nor the text.
        val told = notifications()
        assertTrue(told.toString(), SurvivorTexts.ARRIVED in told)
        for (t in told) {
            assertNoSurvivorNumber(t)
            assertFalse(t, t.contains("call me"))
        }
        // At rest it is encrypted: neither the number nor the text is on disk.
        val disk = stateOnDisk()
        assertTrue("the state was read", disk.length > 100)
        assertFalse("the number on disk", disk.contains("5550143"))
        assertFalse("the text on disk", disk.contains("call me after 6"))
        // Shown as a client, number hidden, with when it goes.
        val s = messages()
        val row = s.heldRows.single().text.text.toString()
        assertTrue(row, row.contains("from " + MessagesActivity.HIDDEN + ", conversation 1: call me after 6"))
        assertTrue(row, row.contains("(deleted "))
        assertNoSurvivorNumber(row)
        assertNoSurvivorNumber(s.messages.text)
        assertTrue(s.messages.text.toString(), s.messages.text.contains("+12025550199: hello"))
    }

    @Test
    fun rule8_the_advocate_deletes_a_held_text_and_a_purge_deletes_them_all_work() {
        val agent = agent(Mode.WORK)
        agent.registerSurvivor(SURVIVOR, null)
        Posture.report(app)
        deliver("+12025550143" to "first", "+12025550143" to "second")
        waitFor("both held") { agent.heldTexts().size == 2 }
        Work.awaitIdle(10_000)
        val s = messages()
        assertEquals(2, s.heldRows.size)
        s.heldRows[0].discard.performClick()
        idle()
        assertEquals(listOf("second"), agent.heldTexts().map { it.body })
        assertEquals(1, s.heldRows.size)
        // Purge before a handoff (or IT's purge command): the agent drops every held text.
        agent.purgeSurvivorData()
        assertTrue(agent.heldTexts().isEmpty())
        assertTrue(sms.rows().isEmpty())
    }

    @Test
    fun rule3_a_reply_to_a_survivor_is_not_sent_when_the_policy_blocks_texts_work() {
        val agent = agent(Mode.WORK)
        agent.registerSurvivor(SURVIVOR, null)
        Posture.report(app)
        deliver("+12025550143" to "are you there")
        waitFor("held") { agent.heldTexts().size == 1 }
        Work.awaitIdle(10_000)
        val s = messages()
        s.body.setText("yes")
        s.heldRows.single().reply.performClick()
        idle()
        assertNull(smsManager().lastSentTextMessageParams)
        assertTrue(s.status.text.toString(), s.status.text.startsWith("Not sent"))
        assertNoSurvivorNumber(s.status.text)
        assertEquals(1, agent.heldTexts().size)
        assertTrue(sms.rows().isEmpty())
    }

    @Test
    fun rule3_a_reply_the_policy_allows_is_sent_and_held_never_in_sent_work() {
        val agent = agent(Mode.WORK) { it.put("sms", JSONObject().put("block_to_survivors", false)) }
        agent.registerSurvivor(SURVIVOR, null)
        Posture.report(app)
        assertTrue("the SMS role grants SEND_SMS", granted(Manifest.permission.SEND_SMS))
        deliver("+12025550143" to "are you there")
        waitFor("held") { agent.heldTexts().size == 1 }
        Work.awaitIdle(10_000)
        val s = messages()
        s.body.setText("yes at 6")
        s.heldRows.single().reply.performClick()
        idle()
        assertEquals(s.status.text.toString(), "Sent.", s.status.text.toString())
        val sent = smsManager().lastSentTextMessageParams
        assertEquals("+12025550143", sent.destinationAddress)
        assertEquals("yes at 6", sent.text)
        assertTrue("nothing in the Sent folder or the inbox", sms.rows().isEmpty())
        assertEquals(listOf(TextDirection.INCOMING, TextDirection.OUTGOING), agent.heldTexts().map { it.direction })
        val shown = s.heldRows.map { it.text.text.toString() }
        assertTrue(shown.toString(), shown[1].contains("to " + MessagesActivity.HIDDEN + ", conversation 1: yes at 6"))
        // A compose intent to the survivor is held the same way, not written to Sent.
        val c = compose(SURVIVOR, "see you")
        idle()
        assertEquals("", c.recipient.text.toString())
        c.send.performClick()
        idle()
        assertEquals("see you", smsManager().lastSentTextMessageParams.text)
        assertTrue(sms.rows().isEmpty())
        assertEquals(3, agent.heldTexts().size)
    }

    @Test
    fun rule4_registering_a_survivor_deletes_their_texts_from_the_provider_work() {
        agent(Mode.WORK)
        Posture.report(app)
        deliver("+12025550143" to "call me after 6", "+12025550199" to "hello")
        waitFor("both in the inbox (not yet a survivor)") { sms.rows().size == 2 }
        Work.awaitIdle(10_000)
        val s = Robolectric.buildActivity(AdvocateActivity::class.java).setup().get()
        s.survivorNumber.setText("(202) 555-0143")
        s.survivorLabel.setText("Client A")
        s.saveSurvivor.performClick()
        idle()
        assertEquals(listOf(Triple(Telephony.Sms.MESSAGE_TYPE_INBOX, "+12025550199", "hello")), sms.rows())
        val said = s.labels.text.toString()
        assertTrue(said, said.contains("1 earlier texts with this client were deleted from the phone's messages"))
        assertNoSurvivorNumber(said)
    }

    @Test
    fun rule4_texts_the_provider_refuses_to_delete_are_reported_not_hidden_work() {
        SmsRoleShadow.refuseRole = true // Quietline is not the default SMS app: no WRITE_SMS app-op
        agent(Mode.WORK)
        Posture.report(app)
        shadowOf(app).grantPermissions(Manifest.permission.READ_SMS)
        sms.put(Telephony.Sms.MESSAGE_TYPE_INBOX, "+12025550143", "call me after 6")
        val s = Robolectric.buildActivity(AdvocateActivity::class.java).setup().get()
        s.survivorNumber.setText("(202) 555-0143")
        s.saveSurvivor.performClick()
        idle()
        assertEquals(1, sms.rows().size)
        val said = s.labels.text.toString()
        assertTrue(said, said.contains("0 earlier texts with this client were deleted; 1 could not be deleted (" + AdvocateActivity.TEXTS_NOT_DELETED))
    }

    @Test
    fun rule8_a_text_that_arrives_when_the_agent_cannot_open_waits_in_memory_never_in_the_provider_work() {
        val agent = agent(Mode.WORK)
        agent.registerSurvivor(SURVIVOR, null)
        Posture.report(app)
        // The key store fails (as before the first unlock): the sender cannot be checked.
        Quietline.forget()
        TestKeyStoreProvider.fault = TestKeyStoreProvider.Fault.NOT_AUTHENTICATED
        deliver("+12025550143" to "call me after 6")
        waitFor("waiting") { SurvivorTexts.pendingCount() == 1 }
        Work.awaitIdle(10_000)
        assertTrue(sms.rows().isEmpty())
        assertTrue(notifications().toString(), SurvivorTexts.UNCHECKED in notifications())
        // The next unlock checks it again: held.
        TestKeyStoreProvider.fault = TestKeyStoreProvider.Fault.NONE
        app.registerReceiver(UnlockReceiver(), IntentFilter(Intent.ACTION_USER_UNLOCKED))
        app.sendBroadcast(Intent(Intent.ACTION_USER_UNLOCKED))
        waitFor("held after the unlock") { SurvivorTexts.pendingCount() == 0 && Quietline.agent(app).heldTexts().size == 1 }
        Work.awaitIdle(10_000)
        assertTrue(sms.rows().isEmpty())
    }

    // byod: advised only ----------------------------------------------------------------------------

    @Test
    fun rule3_no_sms_to_survivors_byod() {
        installTexter("com.example.texter")
        agent(Mode.BYOD).registerSurvivor(SURVIVOR, null)
        Posture.report(app)
        // A work profile's owner cannot make itself the personal SMS app nor deny personal apps.
        assertEquals(0, SmsRoleShadow.setDefaultCalls)
        assertNotEquals(app.packageName, Telephony.Sms.getDefaultSmsPackage(app))
        assertEquals(PackageManager.PERMISSION_GRANTED, pm.checkPermission(Manifest.permission.SEND_SMS, "com.example.texter"))
        // Advised: the Text button refuses a survivor and opens the SMS app for anyone else.
        val s = Robolectric.buildActivity(AdvocateActivity::class.java).setup().get()
        s.callNumber.setText(SURVIVOR)
        s.text.performClick()
        assertNull(shadowOf(s).nextStartedActivity)
        assertTrue(s.guidance.text.isNotEmpty())
        s.callNumber.setText(OTHER)
        s.text.performClick()
        assertEquals(Intent.ACTION_SENDTO, shadowOf(s).nextStartedActivity.action)
        idle()
        assertTrue(s.compliance.text.toString(), s.compliance.text.contains(AdvocateActivity.OTHER_APPS_TEXTS))
    }
}
