package org.quietline.robolectric

import android.Manifest
import android.app.Activity
import android.app.admin.DevicePolicyManager
import android.app.role.RoleManager
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.PackageManager
import android.net.Uri
import android.os.PersistableBundle
import android.provider.CallLog
import android.telecom.Call
import android.telecom.PhoneAccountHandle
import android.telephony.TelephonyManager
import android.app.NotificationManager
import android.app.job.JobScheduler
import android.content.ComponentName
import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.quietline.jvmtest.TestKeyStoreProvider
import org.quietline.AckResult
import org.quietline.ActionKind
import org.quietline.ApiException
import org.quietline.Event
import org.quietline.Mode
import org.quietline.NotifyKind
import org.quietline.android.AdvocateActivity
import org.quietline.android.Commands
import org.quietline.android.AndroidPlatform
import org.quietline.android.EnrollActivity
import org.quietline.android.Enrollment
import org.quietline.android.Permissions
import org.quietline.android.ProvisioningActivity
import org.quietline.android.Quietline
import org.quietline.android.QuietlineAdminReceiver
import org.quietline.android.RedirectionService
import org.quietline.android.Refused
import org.quietline.android.RelayPollJob
import org.quietline.android.ScreeningService
import org.quietline.android.SmsCommandReceiver
import org.quietline.android.UnlockReceiver
import org.quietline.takeWipeReceipt
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowCallRedirectionService.RedirectionResult.RedirectionResultType

/** One scenario per finding of issue 12: each failed on the old app and passes now. */
class FindingsTest : Scenario() {
    private val account = PhoneAccountHandle(ComponentName("com.android.phone", "TelephonyConnectionService"), "sim1")

    /** Places a call from "any dialer" through the redirection service, as Telecom does. */
    fun dial(number: String): RedirectionService {
        val service = Robolectric.setupService(RedirectionService::class.java)
        shadowOf(service).placeCall(Uri.fromParts("tel", number, null), account, false)
        idle()
        return service
    }

    fun incoming(number: String, direction: Int = Call.Details.DIRECTION_INCOMING): ScreeningService {
        val service = Robolectric.setupService(ScreeningService::class.java)
        service.onScreenCall(callDetails(number, direction))
        return service
    }

    @Test
    fun survivor_call_ends_then_its_call_log_rows_are_gone_from_the_provider() {
        agent(Mode.WORK).registerSurvivor(SURVIVOR, null)
        runPending()
        val now = System.currentTimeMillis()
        dial(SURVIVOR)
        val tm = shadowOf(app.getSystemService(TelephonyManager::class.java))
        tm.setCallState(TelephonyManager.CALL_STATE_OFFHOOK)
        callLog.addCall("*67" + SURVIVOR_AS_LOGGED, now + 1)
        callLog.addCall(SURVIVOR_AS_LOGGED, now + 2)
        callLog.addCall(OTHER, now + 3)
        tm.setCallState(TelephonyManager.CALL_STATE_IDLE)
        idle()
        assertEquals("only the other call is left", listOf(OTHER), callLog.numbers())
        assertTrue("nothing left pending", Quietline.agent(app).pendingActions().isEmpty())
    }

    @Test
    fun deleting_through_calls_id_is_what_the_provider_refuses() {
        // The model holds the AOSP contract the old code broke: calls/# cannot be deleted.
        agent(Mode.WORK)
        callLog.addCall(SURVIVOR_AS_LOGGED, 1)
        val thrown = runCatching { app.contentResolver.delete(Uri.withAppendedPath(CallLog.Calls.CONTENT_URI, "1"), null, null) }
        assertTrue(thrown.exceptionOrNull() is UnsupportedOperationException)
    }

    @Test
    fun the_owner_grants_itself_read_and_write_permissions_it_declares() {
        agent(Mode.WORK)
        for (p in listOf(Manifest.permission.READ_CALL_LOG, Manifest.permission.WRITE_CALL_LOG, Manifest.permission.READ_CONTACTS,
            Manifest.permission.WRITE_CONTACTS, Manifest.permission.READ_PHONE_STATE, Manifest.permission.RECEIVE_SMS,
            Manifest.permission.POST_NOTIFICATIONS)) {
            assertTrue("$p granted", granted(p))
        }
        assertTrue(Permissions.grantManaged(app).isEmpty())
    }

    @Test
    fun cleanup_is_acked_failed_not_done_when_the_phone_is_not_managed() {
        agent(Mode.WORK, managed = false).registerSurvivor(SURVIVOR, null)
        callLog.addCall(SURVIVOR_AS_LOGGED, System.currentTimeMillis() + 1)
        val outcome = Quietline.agent(app).handle(Event.CallEnded(SURVIVOR, org.quietline.Line.DIRECT, org.quietline.CallDirection.OUTGOING, java.time.Instant.now().minusSeconds(60), false))
        val executed = Quietline.executor(app).runAll(outcome.actions.filter { it.kind is ActionKind.DeleteCallLog })
        assertTrue(executed.isNotEmpty())
        assertNoneDone(executed)
        assertEquals(listOf(SURVIVOR_AS_LOGGED), callLog.numbers())
    }

    @Test
    fun call_state_reporter_is_registered_by_the_app_once_phone_state_is_granted() {
        agent(Mode.WORK)
        assertNotNull(Quietline.calls())
    }

    @Test
    fun sms_command_receiver_applies_a_signed_lock_in_time() {
        val org = org(Mode.WORK)
        asWork()
        Quietline.init(app)
        val agent = Enrollment.enroll(app, org.bundle)
        org.accept(agent.enrollmentResponse()!!)
        runPending()
        assertTrue(granted(Manifest.permission.RECEIVE_SMS))
        app.registerReceiver(SmsCommandReceiver(), IntentFilter(android.provider.Telephony.Sms.Intents.SMS_RECEIVED_ACTION))
        app.sendBroadcast(Sms.received("+12025550100", org.command("lock")))
        waitFor("the lock") { WipeShadow.lockNowCalls > 0 }
    }

    @Test
    fun screening_leaves_outgoing_calls_alone() {
        agent(Mode.WORK, edit = ::offDutyOn).registerSurvivor(SURVIVOR, null)
        val service = incoming(SURVIVOR, Call.Details.DIRECTION_OUTGOING)
        val response = shadowOf(service).lastRespondToCallInput.get().callResponse
        assertFalse(response.rejectCall)
    }

    @Test
    fun screening_rejects_an_off_duty_survivor_call_and_deletes_its_blocked_entry() {
        agent(Mode.WORK, edit = ::offDutyOn).registerSurvivor(SURVIVOR, null)
        runPending()
        val service = incoming(SURVIVOR)
        assertTrue(shadowOf(service).lastRespondToCallInput.get().callResponse.rejectCall)
        // A third-party screener cannot skip the call log: the system logs the call as blocked.
        callLog.addCall(SURVIVOR_AS_LOGGED, System.currentTimeMillis(), CallLog.Calls.BLOCKED_TYPE)
        shadowOf(android.os.Looper.getMainLooper()).idleFor(java.time.Duration.ofMillis(ScreeningService.CLEANUP_DELAY_MS))
        waitFor("the blocked entry's deletion") { callLog.numbers().isEmpty() }
    }

    @Test
    fun roles_are_requested_from_the_advocate_screen() {
        agent(Mode.WORK)
        val roles = shadowOf(app.getSystemService(RoleManager::class.java))
        roles.addAvailableRole(RoleManager.ROLE_CALL_SCREENING)
        roles.addAvailableRole(RoleManager.ROLE_CALL_REDIRECTION)
        val activity = Robolectric.buildActivity(AdvocateActivity::class.java).setup().get()
        val asked = shadowOf(activity).nextStartedActivityForResult
        assertEquals(RoleManager.ACTION_REQUEST_ROLE, asked.intent.action)
        assertEquals(RoleManager.ROLE_CALL_SCREENING, asked.intent.getStringExtra(Intent.EXTRA_ROLE_NAME))
        roles.addHeldRole(RoleManager.ROLE_CALL_SCREENING)
        roles.addHeldRole(RoleManager.ROLE_CALL_REDIRECTION)
        assertTrue(org.quietline.android.Roles.missing(app).isEmpty())
    }

    @Test
    fun redirection_hides_caller_id_instead_of_cancelling_when_the_agent_cannot_open() {
        asWork() // never enrolled: the agent cannot open
        val service = dial(SURVIVOR)
        val result = shadowOf(service).redirectionResult.get()
        assertEquals(RedirectionResultType.REDIRECT_CALL, result.redirectionResultType)
        assertEquals("*67$SURVIVOR", result.redirectCallArgs.get().handle.schemeSpecificPart)
    }

    @Test
    fun notifications_are_acked_failed_when_the_advocate_turned_them_off() {
        agent(Mode.BYOD)
        shadowOf(app.getSystemService(NotificationManager::class.java)).setNotificationsEnabled(false)
        val err = runCatching { AndroidPlatform(app).notify(NotifyKind.NO_UNLOCK) }.exceptionOrNull()
        assertTrue(err is Refused)
    }

    @Test
    fun notifications_need_post_notifications_which_an_unmanaged_app_lacks() {
        Quietline.init(app)
        val err = runCatching { AndroidPlatform(app).notify(NotifyKind.NO_UNLOCK) }.exceptionOrNull()
        assertTrue("$err", err is Refused)
        assertTrue(shadowOf(app.getSystemService(NotificationManager::class.java)).allNotifications.isEmpty())
    }

    @Test
    fun caller_id_check_is_acked_unsupported_not_done() {
        agent(Mode.WORK)
        val checks = Quietline.agent(app).handle(Event.Tick).actions.filter { it.kind is ActionKind.ScheduleCallerIdCheck }
        assertTrue("the policy schedules a caller-ID check", checks.isNotEmpty())
        for (e in Quietline.executor(app).runAll(checks)) assertTrue("$e", e.result is AckResult.Unsupported)
    }

    @Test
    fun admin_receiver_does_not_crash_before_enrollment() {
        asWork()
        val receiver = QuietlineAdminReceiver()
        val user = android.os.Process.myUserHandle()
        receiver.onReceive(app, Intent(DeviceAdminActions.PASSWORD_SUCCEEDED).setComponent(admin).putExtra(Intent.EXTRA_USER, user))
        receiver.onReceive(app, Intent(DeviceAdminActions.PASSWORD_FAILED).setComponent(admin).putExtra(Intent.EXTRA_USER, user))
        assertFalse(Enrollment.isEnrolled(app))
    }

    @Test
    fun posture_is_reported_when_the_process_starts_without_an_unlock_work() {
        agent(Mode.WORK)
        val km = shadowOf(app.getSystemService(android.app.KeyguardManager::class.java))
        km.setIsDeviceSecure(false)
        assertFalse("nothing reported yet", Quietline.agent(app).compliance().findings.contains(org.quietline.Finding.SecureLockMissing))
        // The process starts (a job or a receiver woke it; no unlock): Application.onCreate.
        (app as org.quietline.android.QuietlineApp).onCreate()
        waitFor("the posture at start") { Quietline.agent(app).compliance().findings.contains(org.quietline.Finding.SecureLockMissing) }
    }

    @Test
    fun posture_is_reported_at_unlock_and_by_the_job_a_weak_lock_becomes_a_finding_until_fixed_work() {
        agent(Mode.WORK) // the policy's lock actions not run yet: nothing caps the timeout
        android.provider.Settings.System.putInt(app.contentResolver, android.provider.Settings.System.SCREEN_OFF_TIMEOUT, 600_000)
        val km = shadowOf(app.getSystemService(android.app.KeyguardManager::class.java))
        km.setIsDeviceSecure(false)
        // The advocate unlocks: the admin receiver reports the lock as it is.
        QuietlineAdminReceiver().onReceive(app, Intent(DeviceAdminActions.PASSWORD_SUCCEEDED).setComponent(admin).putExtra(Intent.EXTRA_USER, android.os.Process.myUserHandle()))
        val findings = Quietline.agent(app).compliance().findings
        assertTrue("$findings", findings.any { it is org.quietline.Finding.LockTimeoutTooLong } && findings.contains(org.quietline.Finding.SecureLockMissing))
        // The posture's own actions capped the timeout; the advocate sets a PIN; the job reports the change.
        assertEquals(30_000L, dpm.getMaximumTimeToLock(admin))
        km.setIsDeviceSecure(true)
        assertTrue(RelayPollJob.runOnce(app, PersistableBundle()))
        val after = Quietline.agent(app).compliance().findings
        assertTrue("$after", after.none { it is org.quietline.Finding.LockTimeoutTooLong || it == org.quietline.Finding.SecureLockMissing })
    }

    @Test
    fun unlock_receiver_retries_key_store_work_after_user_unlocked() {
        agent(Mode.WORK)
        Quietline.forget()
        TestKeyStoreProviderFaults.locked()
        assertNull(Quietline.handle(app, Event.Tick)) // before the first unlock: no agent
        TestKeyStoreProviderFaults.unlocked()
        app.registerReceiver(UnlockReceiver(), IntentFilter(Intent.ACTION_USER_UNLOCKED))
        app.sendBroadcast(Intent(Intent.ACTION_USER_UNLOCKED))
        waitFor("the lock policy") { dpm.getMaximumTimeToLock(admin) == 30_000L }
    }

    @Test
    fun a_periodic_job_jobscheduler_refuses_crashes_no_entry_point_and_is_scheduled_at_the_next_unlock() {
        val js = app.getSystemService(JobScheduler::class.java)!!
        shadowOf(js).failOnJob(RelayPollJob.POLL_JOB) // schedule() answers RESULT_FAILURE
        asWork()
        Quietline.init(app)
        val o = org(Mode.WORK)
        // Enrollment (the provisioning flow, the admin receiver, the enroll screen): enrolled all the same.
        Enrollment.enroll(app, o.bundle)
        assertTrue(Enrollment.isEnrolled(app))
        assertEquals("the bundle's policy applied", 30_000L, dpm.getMaximumTimeToLock(admin))
        assertNull(js.getPendingJob(RelayPollJob.POLL_JOB))
        // The process starts again: Application.onCreate, on the main thread, must not crash the app.
        assertTrue("on the main thread", android.os.Looper.myLooper() == android.os.Looper.getMainLooper())
        (app as org.quietline.android.QuietlineApp).onCreate()
        assertFalse("start reports the refusal", Quietline.start(app))
        assertTrue("and logs it", org.robolectric.shadows.ShadowLog.getLogsForTag(Quietline.TAG).any { it.type == android.util.Log.WARN && it.msg.contains("not scheduled") })
        // The next unlock, still refused: no crash, the agent's tick still runs.
        app.registerReceiver(UnlockReceiver(), IntentFilter(Intent.ACTION_USER_UNLOCKED))
        app.sendBroadcast(Intent(Intent.ACTION_USER_UNLOCKED))
        idle()
        assertTrue(org.quietline.android.Work.awaitIdle(30_000))
        assertNull(js.getPendingJob(RelayPollJob.POLL_JOB))
        // JobScheduler takes the job again (the shadow has no "stop failing": clear its set):
        // the next unlock schedules it.
        val shadowJs = shadowOf(js)
        val field = generateSequence<Class<*>>(shadowJs.javaClass) { it.superclass }.mapNotNull { c -> runCatching { c.getDeclaredField("jobsToFail") }.getOrNull() }.first()
        field.isAccessible = true
        (field.get(shadowJs) as MutableSet<*>).clear()
        app.sendBroadcast(Intent(Intent.ACTION_USER_UNLOCKED))
        waitFor("the periodic job") { js.getPendingJob(RelayPollJob.POLL_JOB)?.let { it.isPeriodic && it.isPersisted } == true }
        assertTrue(Quietline.start(app))
    }

    @Test
    fun periodic_job_is_scheduled_and_ticks_without_a_relay() {
        agent(Mode.WORK)
        val js = app.getSystemService(JobScheduler::class.java)!!
        assertTrue(js.allPendingJobs.any { it.id == RelayPollJob.POLL_JOB && it.isPeriodic && it.isPersisted })
        assertTrue(RelayPollJob.runOnce(app, PersistableBundle()))
        assertEquals(30_000L, dpm.getMaximumTimeToLock(admin))
    }

    @Test
    fun provisioning_asks_for_a_fully_managed_phone_and_hands_the_bundle_on() {
        val extras = PersistableBundle().apply { putString(Enrollment.ADMIN_EXTRA_BUNDLE, "QL:abc") }
        val start = Intent(DevicePolicyManager.ACTION_GET_PROVISIONING_MODE)
            .putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, extras)
        val activity = Robolectric.buildActivity(ProvisioningActivity::class.java, start).setup().get()
        val result = shadowOf(activity)
        assertEquals(Activity.RESULT_OK, result.resultCode)
        assertEquals(DevicePolicyManager.PROVISIONING_MODE_FULLY_MANAGED_DEVICE, result.resultIntent.getIntExtra(DevicePolicyManager.EXTRA_PROVISIONING_MODE, -1))
    }

    @Test
    fun provisioning_compliance_enrolls_a_work_phone_from_the_qr_extras() {
        val org = org(Mode.WORK)
        asWork()
        val extras = PersistableBundle().apply { putString(Enrollment.ADMIN_EXTRA_BUNDLE, org.bundle) }
        val start = Intent(DevicePolicyManager.ACTION_ADMIN_POLICY_COMPLIANCE)
            .putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, extras)
        Robolectric.buildActivity(ProvisioningActivity::class.java, start).setup()
        waitFor("enrollment") { Enrollment.isEnrolled(app) && dpm.getMaximumTimeToLock(admin) == 30_000L }
        assertNotNull(Quietline.agent(app).deviceId())
    }

    @Test
    fun a_personal_phone_reaches_byod_through_a_work_profile_carrying_the_bundle() {
        val org = org(Mode.BYOD)
        shadowOf(app.packageManager).setSystemFeature(PackageManager.FEATURE_MANAGED_USERS, true)
        Quietline.init(app)
        val activity = Robolectric.buildActivity(EnrollActivity::class.java).setup().get()
        val form = activity.window.decorView
        val input = findAll(form, android.widget.EditText::class.java).first()
        input.setText(org.bundle)
        findAll(form, android.widget.Button::class.java).first { it.text == "Enroll" }.performClick()
        val started = shadowOf(activity).nextStartedActivityForResult.intent
        assertEquals(DevicePolicyManager.ACTION_PROVISION_MANAGED_PROFILE, started.action)
        val extras = started.getParcelableExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, PersistableBundle::class.java)!!
        assertEquals(org.bundle, extras.getString(Enrollment.ADMIN_EXTRA_BUNDLE))
        assertFalse("the personal side does not enroll", Enrollment.isEnrolled(app))
        // In the new profile the app is its owner; provisioning completes there.
        asByod()
        app.registerReceiver(QuietlineAdminReceiver(), IntentFilter(android.app.admin.DeviceAdminReceiver.ACTION_PROFILE_PROVISIONING_COMPLETE))
        app.sendBroadcast(Intent(android.app.admin.DeviceAdminReceiver.ACTION_PROFILE_PROVISIONING_COMPLETE).putExtras(started))
        waitFor("the work profile's enrollment") { Enrollment.isEnrolled(app) }
        assertEquals(Mode.BYOD, Quietline.agent(app).compliance().mode)
    }

    @Test
    fun a_wipe_command_on_a_phone_that_is_not_owner_is_not_reported_as_a_platform_wipe() {
        val org = org(Mode.WORK)
        Quietline.init(app)
        val agent = Enrollment.enroll(app, org.bundle)
        org.accept(agent.enrollmentResponse()!!)
        Commands.apply(app, org.command("wipe", "--scope", "full"), 0)
        assertEquals(0L, shadowOf(dpm).wipeCalledTimes)
        assertTrue(runCatching { Quietline.agent(app) }.exceptionOrNull() is ApiException)
        assertFalse("the data key is destroyed", TestKeyStoreProvider.contains(AndroidKeyProtectorAlias))
        // Not device owner: the app declared no full wipe, so the receipt says selective.
        val receipt = org.verifyReceipt(takeWipeReceipt(Quietline.stateDir(app).path)!!)
        assertEquals("$receipt", "wipe_full", receipt["requested"])
        assertEquals("$receipt", "selective", receipt["performed"])
    }

    companion object {
        fun offDutyOn(json: org.json.JSONObject) = offDutyNow(json)

        fun <T : android.view.View> findAll(root: android.view.View, type: Class<T>): List<T> {
            val out = mutableListOf<T>()
            fun walk(v: android.view.View) {
                if (type.isInstance(v)) out += type.cast(v)
                if (v is android.view.ViewGroup) for (i in 0 until v.childCount) walk(v.getChildAt(i))
            }
            walk(root)
            return out
        }
    }
}

val AndroidKeyProtectorAlias = org.quietline.android.ffi.defaultKeyAlias()

/** The device-admin broadcast actions (DeviceAdminReceiver's constants). */
object DeviceAdminActions {
    const val PASSWORD_SUCCEEDED = android.app.admin.DeviceAdminReceiver.ACTION_PASSWORD_SUCCEEDED
    const val PASSWORD_FAILED = android.app.admin.DeviceAdminReceiver.ACTION_PASSWORD_FAILED
}

/** The key store as before the first unlock, and after. */
object TestKeyStoreProviderFaults {
    fun locked() { org.quietline.jvmtest.TestKeyStoreProvider.fault = org.quietline.jvmtest.TestKeyStoreProvider.Fault.NOT_AUTHENTICATED }
    fun unlocked() { org.quietline.jvmtest.TestKeyStoreProvider.fault = org.quietline.jvmtest.TestKeyStoreProvider.Fault.NONE }
}
