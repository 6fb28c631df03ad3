package org.quietline.robolectric

import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.IntentFilter
import android.net.Uri
import android.telecom.Call
import android.telecom.PhoneAccountHandle
import android.telecom.TelecomManager
import android.telephony.TelephonyManager
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.quietline.jvmtest.TestKeyStoreProvider
import org.quietline.AckResult
import org.quietline.Mode
import org.quietline.android.AdvocateActivity
import org.quietline.android.Commands
import org.quietline.android.Enrollment
import org.quietline.android.Quietline
import org.quietline.android.RedirectionService
import org.quietline.android.ScreeningService
import org.quietline.android.SmsCommandReceiver
import org.quietline.android.Survivors
import org.quietline.takeWipeReceipt
import org.json.JSONObject
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowCallRedirectionService.RedirectionResult.RedirectionResultType

/**
 * One scenario per rule of DESIGN.md ("The rules the field asks for") on each mode, named
 * `ruleN_<rule>_<mode>`. Each drives an entry point of the app (screen, service, receiver, job)
 * and checks the platform's state afterwards, never only the agent's answer.
 */
class RulesTest : Scenario() {
    private fun screen(): AdvocateActivity = Robolectric.buildActivity(AdvocateActivity::class.java).setup().get()

    private fun EditText.type(text: String) = setText(text)

    // 1. Auto-lock --------------------------------------------------------------------------------
    private fun autoLock(mode: Mode) {
        agent(mode)
        val executed = runPending()
        assertEquals(30_000L, dpm.getMaximumTimeToLock(admin))
        assertEquals(DevicePolicyManager.PASSWORD_COMPLEXITY_MEDIUM, dpm.requiredPasswordComplexity)
        assertTrue(executed.any { it.result is AckResult.Done })
    }

    @Test fun rule1_auto_lock_work() = autoLock(Mode.WORK)
    @Test fun rule1_auto_lock_byod() = autoLock(Mode.BYOD)

    // 2. Caller ID hidden -------------------------------------------------------------------------
    @Test
    fun rule2_caller_id_hidden_work() {
        agent(Mode.WORK).registerSurvivor(SURVIVOR, null)
        // Dialled from any dialer: the redirection service rewrites it.
        val service = Robolectric.setupService(RedirectionService::class.java)
        val account = PhoneAccountHandle(ComponentName("com.android.phone", "TelephonyConnectionService"), "sim1")
        shadowOf(service).placeCall(Uri.fromParts("tel", SURVIVOR, null), account, false)
        idle()
        val result = shadowOf(service).redirectionResult.get()
        assertEquals(RedirectionResultType.REDIRECT_CALL, result.redirectionResultType)
        assertTrue(result.redirectCallArgs.get().handle.schemeSpecificPart.startsWith("*67"))
        // From the app's own screen: placed through the SIM with the prefix.
        val s = screen()
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        val placed = shadowOf(app.getSystemService(TelecomManager::class.java)).lastOutgoingCall
        assertTrue(placed.address.schemeSpecificPart.startsWith("*67"))
    }

    @Test
    fun rule2_caller_id_hidden_byod() {
        agent(Mode.BYOD).registerSurvivor(SURVIVOR, null)
        configureSoftphone()
        val softphone = installSoftphone()
        val s = screen()
        startedActivities(s)
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        // Handed to the organisation's softphone in the work profile (it presents the helpline's
        // number), with the agent's dial string; never the SIM or the personal dialer.
        val handOff = startedActivities(s).single()
        assertEquals(softphone, handOff.component)
        assertTrue(handOff.data!!.getQueryParameter("to")!!.startsWith("*67"))
        assertTrue(shadowOf(app.getSystemService(TelecomManager::class.java)).allOutgoingCalls.isEmpty())
    }

    // 3. No SMS to survivors: rule3_no_sms_to_survivors_work/_byod and the SMS entry points are in
    // SmsTest (the work phone's default SMS app needs the owner's SMS calls modelled).
    @Test
    fun rule3_texts_allowed_by_a_work_policy_still_report_no_gap_work() {
        // Texts to survivors allowed: Quietline still takes the SMS role (survivors' texts are held
        // by the agent, never the provider), and with the role taken no gap is reported. The role
        // itself, modelled on AOSP, is asserted in SmsTest.
        agent(Mode.WORK) { it.put("sms", JSONObject().put("block_to_survivors", false)) }
        val s = screen()
        idle()
        assertFalse(s.compliance.text.toString(), s.compliance.text.contains(AdvocateActivity.OTHER_APPS_TEXTS))
        assertTrue(s.compliance.text.isNotEmpty())
    }


    // 4. Clean up after a survivor call -------------------------------------------------------------
    private fun cleanup(mode: Mode) {
        agent(mode).registerSurvivor(SURVIVOR, null)
        runPending()
        if (mode == Mode.BYOD) {
            configureSoftphone()
            installSoftphone()
        }
        val controller = Robolectric.buildActivity(AdvocateActivity::class.java).setup()
        val s = controller.get()
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        val tm = shadowOf(app.getSystemService(TelephonyManager::class.java))
        if (mode == Mode.WORK) tm.setCallState(TelephonyManager.CALL_STATE_OFFHOOK)
        // On byod the softphone may log the call in the work profile's call log.
        callLog.addCall(SURVIVOR_AS_LOGGED, System.currentTimeMillis() + 5)
        callLog.addCall(OTHER, System.currentTimeMillis() + 6)
        if (mode == Mode.WORK) {
            tm.setCallState(TelephonyManager.CALL_STATE_IDLE)
        } else {
            assertTrue("handed to the softphone: ${s.guidance.text}", s.guidance.text.contains("Handed to the organisation's calling app"))
            controller.pause().resume() // the advocate comes back: the call is over
        }
        idle()
        assertEquals(listOf(OTHER), callLog.numbers())
    }

    @Test fun rule4_cleanup_after_survivor_call_work() = cleanup(Mode.WORK)
    @Test fun rule4_cleanup_after_survivor_call_byod() = cleanup(Mode.BYOD)

    /**
     * The survivor's contacts go with the call: one synced to an account (deleted as its sync
     * adapter, or the provider would only mark it deleted and keep its data until the account
     * syncs) and one local; the colleague's contact stays.
     */
    private fun contactCleanup(mode: Mode) {
        contacts.addContact("Client A", "(202) 555-0143", "advocate@example.org", "com.google")
        contacts.addContact("A", "202-555-0143")
        contacts.addContact("Colleague", OTHER)
        cleanup(mode)
        assertEquals(listOf("Colleague", OTHER), contacts.dataValues())
        assertEquals("only the colleague's raw contact is left, not even marked deleted", listOf("3:0"), contacts.rawContacts())
        assertTrue("nothing failed or pending", Quietline.agent(app).pendingActions().isEmpty())
    }

    @Test fun rule4_survivor_call_ends_then_the_survivors_contact_is_deleted_work() = contactCleanup(Mode.WORK)
    @Test fun rule4_survivor_call_ends_then_the_survivors_contact_is_deleted_byod() = contactCleanup(Mode.BYOD)

    @Test
    fun rule4_contact_deletion_without_the_contacts_permission_is_acked_failed_not_done_work() {
        contacts.addContact("Client A", "(202) 555-0143", "advocate@example.org", "com.google")
        agent(Mode.WORK, managed = false).registerSurvivor(SURVIVOR, null)
        val outcome = Quietline.agent(app).handle(org.quietline.Event.CallEnded(SURVIVOR, org.quietline.Line.DIRECT, org.quietline.CallDirection.OUTGOING, java.time.Instant.now().minusSeconds(60), false))
        val executed = Quietline.executor(app).runAll(outcome.actions.filter { it.kind is org.quietline.ActionKind.DeleteContact })
        assertEquals(1, executed.size)
        assertNoneDone(executed)
        assertEquals(listOf("Client A", "(202) 555-0143"), contacts.dataValues())
    }

    // 5. Sharing the phone --------------------------------------------------------------------------
    @Test
    fun rule5_sharing_refused_work() {
        agent(Mode.WORK).registerSurvivor(SURVIVOR, null)
        Survivors.addLabel(app, "Client A")
        val s = screen()
        s.handOver.performClick()
        assertTrue(s.handOverResult.text.toString(), s.handOverResult.text.contains("never", ignoreCase = true) || s.handOverResult.text.contains("not", ignoreCase = true))
        assertEquals(1UL, Quietline.agent(app).survivorCount())
    }

    @Test
    fun rule5_sharing_purges_byod() {
        agent(Mode.BYOD).registerSurvivor(SURVIVOR, null)
        Survivors.addLabel(app, "Client A")
        val s = screen()
        s.handOver.performClick()
        assertEquals(0UL, Quietline.agent(app).survivorCount())
        assertTrue(Survivors.labels(app).isEmpty())
    }

    // 6. Off duty -----------------------------------------------------------------------------------
    private fun offDuty(mode: Mode): Boolean {
        agent(mode, edit = ::offDutyNow).registerSurvivor(SURVIVOR, null)
        runPending()
        val service = Robolectric.setupService(ScreeningService::class.java)
        service.onScreenCall(callDetails(SURVIVOR, Call.Details.DIRECTION_INCOMING))
        return shadowOf(service).lastRespondToCallInput.get().callResponse.rejectCall
    }

    @Test fun rule6_off_duty_screening_work() = assertTrue("an off-duty survivor call goes to voicemail", offDuty(Mode.WORK))

    @Test
    fun rule6_off_duty_screening_byod() {
        // Off-duty hours are a work-phone rule: on a personal phone the agent lets the call ring,
        // and the screening service does what the agent says.
        val rejected = offDuty(Mode.BYOD)
        val verdict = Quietline.agent(app).handle(org.quietline.Event.IncomingCall(SURVIVOR)).verdict
        assertEquals(verdict is org.quietline.Verdict.SendToVoicemail, rejected)
    }

    // 7. Survivor-led contact plan --------------------------------------------------------------------
    private fun contactPlan(mode: Mode) {
        agent(mode)
        val s = screen()
        s.survivorNumber.type(SURVIVOR)
        s.survivorLabel.type("Client A")
        s.voicemailAllowed.isChecked = false
        s.weCallBack.isChecked = true
        s.saveSurvivor.performClick()
        assertEquals("the number is never shown again", "", s.survivorNumber.text.toString())
        assertTrue(s.labels.text.contains("Client A"))
        assertFalse(s.labels.text.contains("555"))
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains("Leave no voicemail"))
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains("call back"))
    }

    @Test fun rule7_contact_plan_guidance_work() = contactPlan(Mode.WORK)
    @Test fun rule7_contact_plan_guidance_byod() = contactPlan(Mode.BYOD)

    /** A connected survivor call ends and the advocate says it dropped: the plan says who calls back. */
    private fun droppedCall(mode: Mode) {
        agent(mode).registerSurvivor(SURVIVOR, org.quietline.defaultContactPlan().copy(droppedCall = org.quietline.DroppedCall.WE_CALL_BACK))
        runPending()
        if (mode == Mode.BYOD) {
            configureSoftphone()
            installSoftphone()
        }
        val controller = Robolectric.buildActivity(AdvocateActivity::class.java).setup()
        val s = controller.get()
        s.callDropped.performClick()
        idle()
        assertTrue("no call yet: ${s.guidance.text}", s.guidance.text.startsWith("No call ended"))
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        if (mode == Mode.WORK) {
            val tm = shadowOf(app.getSystemService(TelephonyManager::class.java))
            tm.setCallState(TelephonyManager.CALL_STATE_OFFHOOK)
            tm.setCallState(TelephonyManager.CALL_STATE_IDLE)
        } else {
            controller.pause().resume() // back from the softphone's call
        }
        idle()
        val notifications = shadowOf(app.getSystemService(android.app.NotificationManager::class.java))
        val before = notifications.allNotifications.size
        s.callDropped.performClick()
        idle()
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains("call them back"))
        assertTrue("the dropped-call reminder was posted", notifications.allNotifications.size > before)
        s.callDropped.performClick()
        idle()
        assertTrue("reported once: ${s.guidance.text}", s.guidance.text.startsWith("No call ended"))
    }

    @Test fun rule7_dropped_call_follows_the_plan_work() = droppedCall(Mode.WORK)
    @Test fun rule7_dropped_call_follows_the_plan_byod() = droppedCall(Mode.BYOD)

    /** Registers [SURVIVOR] from the screen with a plan whose review date has passed. */
    private fun registerWithPlan(s: AdvocateActivity, hidden: android.widget.RadioButton) {
        s.survivorNumber.type(SURVIVOR)
        s.survivorLabel.type("Client B")
        s.voicemailAllowed.isChecked = true
        s.weCallBack.isChecked = false
        s.hiddenNumbers.check(hidden.id)
        s.reviewOn.type("2020-01-01")
        s.saveSurvivor.performClick()
        assertTrue(s.labels.text.toString(), s.labels.text.contains("Client B"))
    }

    private fun numberShownAfterConfirm(mode: Mode) {
        agent(mode)
        if (mode == Mode.BYOD) {
            configureSoftphone()
            installSoftphone()
        }
        val s = screen()
        startedActivities(s)
        registerWithPlan(s, s.hiddenShowNumber)
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        val telecom = shadowOf(app.getSystemService(TelecomManager::class.java))
        assertTrue("nothing placed before the advocate confirms", telecom.allOutgoingCalls.isEmpty())
        assertTrue("nothing handed off before the advocate confirms", startedActivities(s).isEmpty())
        val text = s.guidance.text.toString()
        assertTrue(text, text.contains("will show your number"))
        assertTrue(text, text.contains("they agreed to see your number"))
        assertTrue(text, text.contains("due for review"))
        assertTrue(text, text.contains("Voicemail allowed, say only: \""))
        assertTrue(text, text.contains("If it drops, wait for them to call."))
        assertEquals(android.view.View.VISIBLE, s.callAnyway.visibility)
        assertEquals("Call with my number shown", s.callAnyway.text.toString())
        s.callAnyway.performClick()
        val dialled = if (mode == Mode.WORK) telecom.lastOutgoingCall.address.schemeSpecificPart
        else startedActivities(s).single().data!!.getQueryParameter("to")!! // the softphone, on byod
        assertFalse("the number shows, as the survivor agreed", dialled.startsWith("*67"))
    }

    @Test fun rule7_number_shown_only_after_confirm_work() = numberShownAfterConfirm(Mode.WORK)
    @Test fun rule7_number_shown_only_after_confirm_byod() = numberShownAfterConfirm(Mode.BYOD)

    private fun alternateCallerId(mode: Mode) {
        agent(mode)
        val s = screen()
        registerWithPlan(s, s.hiddenAlternate)
        startedActivities(s)
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        // No route to the organisation's line yet (no softphone, no linked VoIP stack): refused,
        // never through the SIM.
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains(org.quietline.android.Softphone.NOT_CONFIGURED))
        assertTrue(shadowOf(app.getSystemService(TelecomManager::class.java)).allOutgoingCalls.isEmpty())
        configureSoftphone()
        val softphone = installSoftphone()
        s.checkCall.performClick()
        val text = s.guidance.text.toString()
        assertTrue(text, text.contains("alternate caller ID"))
        assertTrue(text, text.contains("organisation's calling app"))
        // Through the organisation's line (its softphone, which presents the alternate caller ID).
        val handOff = startedActivities(s).single()
        assertEquals(softphone, handOff.component)
        assertEquals("+12025550143", handOff.data!!.getQueryParameter("to"))
        assertTrue(shadowOf(app.getSystemService(TelecomManager::class.java)).allOutgoingCalls.isEmpty())
        // Dialled from another dialer, the call is not sent through the SIM either.
        val service = Robolectric.setupService(RedirectionService::class.java)
        val account = PhoneAccountHandle(ComponentName("com.android.phone", "TelephonyConnectionService"), "sim1")
        shadowOf(service).placeCall(Uri.fromParts("tel", SURVIVOR, null), account, false)
        idle()
        assertEquals(RedirectionResultType.CANCEL_CALL, shadowOf(service).redirectionResult.get().redirectionResultType)
    }

    @Test fun rule7_alternate_caller_id_through_the_org_line_work() = alternateCallerId(Mode.WORK)
    @Test fun rule7_alternate_caller_id_through_the_org_line_byod() = alternateCallerId(Mode.BYOD)

    private fun checklist(mode: Mode) {
        agent(mode) { it.put("checklist", JSONObject().put("no_free_voip", "2026-11-01")) }
        val s = screen()
        val text = s.checklist.text.toString()
        assertTrue(text, text.contains("No free VoIP service carries survivor calls: confirmed by IT on 2026-11-01"))
        assertTrue(text, text.contains("Voicemail is not transcribed to email or text: not confirmed by IT yet"))
        assertEquals(text, 5, text.lines().size)
    }

    @Test fun compliance_screen_shows_the_checklist_work() = checklist(Mode.WORK)
    @Test fun compliance_screen_shows_the_checklist_byod() = checklist(Mode.BYOD)

    // 8. Retention ------------------------------------------------------------------------------------
    private fun retention(mode: Mode) {
        agent(mode).registerSurvivor(SURVIVOR, null)
        Quietline.forget()
        val digits = SURVIVOR.filter { it.isDigit() }
        for (f in Quietline.stateDir(app).walkTopDown().filter { it.isFile }) {
            val bytes = String(f.readBytes(), Charsets.ISO_8859_1)
            assertFalse("${f.name} holds the number", bytes.contains(digits) || bytes.contains(digits.drop(1)))
        }
        val manifest = Scenario.manifest.readText()
        assertTrue(manifest.contains("android:allowBackup=\"false\""))
        assertTrue(Quietline.agent(app).isSurvivor(SURVIVOR))
    }

    @Test fun rule8_retention_encrypted_no_backup_work() = retention(Mode.WORK)
    @Test fun rule8_retention_encrypted_no_backup_byod() = retention(Mode.BYOD)

    // 9. Remote wipe ----------------------------------------------------------------------------------
    @Test
    fun rule9_remote_wipe_full_by_sms_work() {
        val org = org(Mode.WORK)
        asWork()
        Quietline.init(app)
        val agent = Enrollment.enroll(app, org.bundle)
        org.accept(agent.enrollmentResponse()!!)
        app.registerReceiver(SmsCommandReceiver(), IntentFilter(android.provider.Telephony.Sms.Intents.SMS_RECEIVED_ACTION))
        app.sendBroadcast(Sms.received("+12025550100", org.command("wipe", "--scope", "full")))
        waitFor("the full wipe") { WipeShadow.wipeDeviceCalls > 0 }
        assertFalse(TestKeyStoreProvider.contains(AndroidKeyProtectorAlias))
        // The app declared it is device owner, so the receipt says the whole phone was wiped.
        val receipt = org.verifyReceipt(takeWipeReceipt(Quietline.stateDir(app).path)!!)
        assertEquals("$receipt", "wipe_full", receipt["requested"])
        assertEquals("$receipt", "full", receipt["performed"])
        assertEquals("$receipt", "erased", receipt["outcome"])
    }

    @Test
    fun rule9_remote_wipe_selective_byod() {
        val org = org(Mode.BYOD)
        asByod()
        Quietline.init(app)
        val agent = Enrollment.enroll(app, org.bundle)
        org.accept(agent.enrollmentResponse()!!)
        // On byod commands come from the relay (SMS is not delivered to a work profile).
        assertTrue(Commands.apply(app, org.command("wipe", "--scope", "selective"), 0))
        assertEquals("the work profile is removed", 1L, shadowOf(dpm).wipeCalledTimes)
        assertEquals("never the whole phone", 0, WipeShadow.wipeDeviceCalls)
        val receipt = org.verifyReceipt(takeWipeReceipt(Quietline.stateDir(app).path)!!)
        assertEquals("$receipt", "selective", receipt["performed"])
        assertEquals("$receipt", "erased", receipt["outcome"])
        assertFalse(File(Quietline.stateDir(app), "x").exists())
    }
}
