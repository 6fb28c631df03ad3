package org.quietline.robolectric

import android.app.Application
import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.content.pm.PackageManager
import android.os.Looper
import android.provider.CallLog
import android.telephony.TelephonyManager
import java.io.File
import java.time.LocalTime
import java.util.concurrent.Executor
import javax.xml.parsers.DocumentBuilderFactory
import org.json.JSONArray
import org.json.JSONObject
import org.junit.After
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.runner.RunWith
import org.quietline.Agent
import org.quietline.Mode
import org.quietline.android.ActionExecutor
import org.quietline.android.Quietline
import org.quietline.android.QuietlineAdminReceiver
import org.quietline.android.QuietlineApp
import org.quietline.android.ffi.createAgent
import org.quietline.defaultPolicyJson
import org.quietline.jvmtest.TestKeyStoreProvider
import org.quietline.test.Org
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config

/**
 * One scenario on the real framework (Robolectric, API 35) with the real Rust library and the
 * real generated bindings. The app's manifest is read from source: its `uses-permission` list
 * becomes the package's requested permissions, so a device-owner grant of a permission the
 * manifest forgot fails as it would on a phone. The key store is a software provider (Robolectric
 * has no AndroidKeyStore); everything else is the app's own code.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], application = QuietlineApp::class, shadows = [WipeShadow::class])
abstract class Scenario {
    lateinit var app: Application
    lateinit var callLog: CallLogProviderModel
    lateinit var contacts: ContactsProviderModel

    val admin: ComponentName get() = ComponentName(app, QuietlineAdminReceiver::class.java)
    val dpm: DevicePolicyManager get() = app.getSystemService(DevicePolicyManager::class.java)!!

    @Before
    fun setUpScenario() {
        app = RuntimeEnvironment.getApplication()
        // Before anything touches the generated bindings (a test's org(), defaultPolicyJson...):
        // the library override that init sets is what lets UniFFI load libquietline_android, and a
        // failed first load would poison every later scenario of the process. Idempotent, so every
        // scenario does it whatever ran before it (or nothing did).
        Quietline.init(app)
        TestKeyStoreProvider.install()
        TestKeyStoreProvider.fault = TestKeyStoreProvider.Fault.NONE
        WipeShadow.wipeDeviceCalls = 0
        WipeShadow.lockNowCalls = 0
        WipeShadow.requiredComplexity = 0
        Quietline.reset()
        // Process-wide hooks a scenario may have changed: each starts from the app's defaults.
        org.quietline.android.Relay.trustAnchors = null
        org.quietline.android.Relay.clock = { System.currentTimeMillis() }
        org.quietline.android.SelfManagedCalls.transport = null
        org.quietline.android.SurvivorTexts.forgetPending()
        Quietline.keyStoreProvider = TestKeyStoreProvider.NAME
        Quietline.background = Executor { it.run() }
        shadowOf(app.packageManager).getInternalMutablePackageInfo(app.packageName).requestedPermissions =
            manifestPermissions().toTypedArray()
        shadowOf(app.getSystemService(TelephonyManager::class.java)).setSimCountryIso("us")
        callLog = Robolectric.buildContentProvider<CallLogProviderModel>(CallLogProviderModel::class.java).create(CallLog.AUTHORITY).get()
        contacts = Robolectric.buildContentProvider<ContactsProviderModel>(ContactsProviderModel::class.java)
            .create(android.provider.ContactsContract.AUTHORITY).get()
    }

    @After
    fun tearDownScenario() {
        // Work an entry point started on its own thread (a receiver after goAsync, the job) must
        // not run into the next scenario, which shares the process's Quietline object.
        val idle = org.quietline.android.Work.awaitIdle(30_000)
        Quietline.reset()
        if (::callLog.isInitialized) callLog.shutdown()
        if (::contacts.isInitialized) contacts.shutdown()
        check(idle) { "background work of the scenario still running after 30 s" }
    }

    /** A work phone: the app is device owner. */
    fun asWork() {
        shadowOf(dpm).setDeviceOwner(admin)
    }

    /** A personal phone's work profile: the app is its profile owner. */
    fun asByod() {
        shadowOf(dpm).setProfileOwner(admin)
    }

    fun asMode(mode: Mode) = if (mode == Mode.WORK) asWork() else asByod()

    /**
     * An agent with the mode's default policy, [edit]ed, created in the app's state directory and
     * opened the way the app opens it. Its first actions (lock policy...) are left pending.
     */
    fun agent(mode: Mode, managed: Boolean = true, edit: (JSONObject) -> Unit = {}): Agent {
        if (managed) asMode(mode)
        Quietline.init(app)
        val json = JSONObject(defaultPolicyJson(mode))
        edit(json)
        createAgent(Quietline.stateDir(app).path, "US", json.toString(), TestKeyStoreProvider.NAME).close()
        Quietline.start(app)
        return Quietline.agent(app)
    }

    /** Runs every due action on the real platform; returns what the agent made of each ack. */
    fun runPending(): List<ActionExecutor.Executed> = Quietline.executor(app).runPending()

    fun idle() = shadowOf(Looper.getMainLooper()).idle()

    /** Waits (bounded) for work an entry point started on its own thread. */
    fun waitFor(what: String, condition: () -> Boolean) {
        repeat(200) {
            idle()
            if (condition()) return
            Thread.sleep(50)
        }
        throw AssertionError("timed out waiting for $what")
    }

    /** An organisation made with the real admin CLI (keys, signed policy, enrollment bundle). */
    fun org(mode: Mode, rules: JSONObject = JSONObject(defaultPolicyJson(mode))): Org =
        Org(File(app.cacheDir.parentFile, "org-" + System.nanoTime()), rules.toString(), mode.name.lowercase())

    /**
     * IT's managed configuration for this app (what `RestrictionsManager.getApplicationRestrictions`
     * returns): the softphone's URI template and, if given, its package.
     */
    fun configureSoftphone(uri: String? = SOFTPHONE_URI, pkg: String? = SOFTPHONE) {
        val b = android.os.Bundle()
        uri?.let { b.putString(org.quietline.android.Softphone.KEY_CALL_URI, it) }
        pkg?.let { b.putString(org.quietline.android.Softphone.KEY_PACKAGE, it) }
        shadowOf(app.getSystemService(android.content.RestrictionsManager::class.java)).setApplicationRestrictions(b)
    }

    /** Installs a calling app in this profile whose activity opens `acmevoice:` links. */
    fun installSoftphone(pkg: String = SOFTPHONE, activity: String = "$pkg.CallActivity"): ComponentName {
        val component = ComponentName(pkg, activity)
        val pm = shadowOf(app.packageManager)
        pm.addActivityIfNotPresent(component)
        pm.addIntentFilterForActivity(
            component,
            android.content.IntentFilter(android.content.Intent.ACTION_VIEW).apply {
                addCategory(android.content.Intent.CATEGORY_DEFAULT)
                addDataScheme("acmevoice")
            },
        )
        return component
    }

    /** Every activity [activity] started so far, oldest first (role requests included). */
    fun startedActivities(activity: android.app.Activity): List<android.content.Intent> {
        val shadow = shadowOf(activity)
        return generateSequence { shadow.nextStartedActivity }.toList()
    }

    fun assertNoneDone(executed: List<ActionExecutor.Executed>) {
        for (e in executed) assertTrue("acked Done although refused: $e", e.result !is org.quietline.AckResult.Done)
    }

    fun granted(permission: String) = app.checkSelfPermission(permission) == PackageManager.PERMISSION_GRANTED

    companion object {
        const val SURVIVOR = "+1 202 555 0143"
        const val SURVIVOR_AS_LOGGED = "2025550143"
        const val OTHER = "+1 202 555 0199"

        /** The organisation's softphone in the tests (its package) and its call-URI template. */
        const val SOFTPHONE = "org.example.acmevoice"
        const val SOFTPHONE_URI = "acmevoice://call?to={number}"

        /** The app's AndroidManifest.xml (path from the test command). */
        val manifest: File get() = File(System.getProperty("quietline.manifest") ?: "android/app/src/main/AndroidManifest.xml")

        fun manifestPermissions(): List<String> {
            val doc = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }.newDocumentBuilder().parse(manifest)
            val nodes = doc.getElementsByTagName("uses-permission")
            return (0 until nodes.length).map {
                nodes.item(it).attributes.getNamedItemNS("http://schemas.android.com/apk/res/android", "name").nodeValue
            }
        }

        /** Off-duty hours around now: working hours are a one-minute window twelve hours away. */
        fun offDutyNow(json: JSONObject) {
            val start = LocalTime.now().plusHours(12).withSecond(0).withNano(0)
            val end = if (start.hour == 23 && start.minute == 59) start.minusMinutes(1) else start.plusMinutes(1)
            val (s, e) = if (end.isAfter(start)) start to end else end to start
            json.put(
                "off_duty",
                JSONObject().put("enabled", true)
                    .put("days", JSONArray(listOf("mon", "tue", "wed", "thu", "fri", "sat", "sun")))
                    .put("start", "%02d:%02d".format(s.hour, s.minute)).put("end", "%02d:%02d".format(e.hour, e.minute))
                    .put("survivor_calls", "voicemail"),
            )
        }

        /** A ringing call's details as Telecom hands them to a CallScreeningService. */
        fun callDetails(number: String, direction: Int): android.telecom.Call.Details {
            val call = android.telecom.ParcelableCall.ParcelableCallBuilder().setId("1").setState(android.telecom.Call.STATE_RINGING)
                .setHandle(android.net.Uri.fromParts("tel", number, null)).setCallDirection(direction)
                .setCannedSmsResponses(emptyList()).setChildCallIds(emptyList()).setConferenceableCallIds(emptyList())
                .createParcelableCall()
            return android.telecom.Call.Details.createFromParcelableCall(call)
        }
    }
}
