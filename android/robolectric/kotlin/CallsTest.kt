package org.quietline.robolectric

import android.content.ComponentName
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import android.telecom.ConnectionRequest
import android.telecom.DisconnectCause
import android.telecom.PhoneAccountHandle
import android.telecom.TelecomManager
import android.widget.EditText
import javax.xml.parsers.DocumentBuilderFactory
import org.json.JSONObject
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.quietline.Finding
import org.quietline.Mode
import org.quietline.RuleGap
import org.quietline.defaultPolicyJson
import org.quietline.android.AdvocateActivity
import org.quietline.android.Quietline
import org.quietline.android.SelfManagedCalls
import org.quietline.android.Softphone
import org.quietline.android.VoipTransport
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf

/**
 * Helpline calls on `byod` (a work profile on a personal phone): handed to the organisation's
 * softphone that IT names in the app's managed configuration, or through the app's self-managed
 * account when the organisation links its own VoIP stack; otherwise refused with the reason and
 * reported on the compliance screen. Never the SIM or the personal dialer.
 */
class CallsTest : Scenario() {
    @After
    fun unlinkTransport() {
        SelfManagedCalls.transport = null
    }

    private fun screen() = Robolectric.buildActivity(AdvocateActivity::class.java).setup()

    private fun EditText.type(text: String) = setText(text)

    private val telecom get() = shadowOf(app.getSystemService(TelecomManager::class.java))

    /** The screen, with what it started at creation (role and permission requests) drained. */
    private fun callScreen(): Pair<org.robolectric.android.controller.ActivityController<AdvocateActivity>, AdvocateActivity> {
        val c = screen()
        startedActivities(c.get())
        return c to c.get()
    }

    @Test
    fun byod_helpline_call_with_a_softphone_configured_is_an_explicit_intent_to_the_softphone_with_the_dial_string_and_nothing_in_the_call_log() {
        agent(Mode.BYOD).registerSurvivor(SURVIVOR, null)
        runPending()
        configureSoftphone()
        val softphone = installSoftphone()
        val (controller, s) = callScreen()
        assertFalse("a configured softphone is a calling route: ${s.compliance.text}", s.compliance.text.contains(AdvocateActivity.NO_CALL_ROUTE))
        assertFalse(Finding.RuleNotEnforced(RuleGap.NO_HELPLINE_CALL_ROUTE) in Quietline.agent(app).compliance().findings)
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        val started = startedActivities(s)
        assertEquals("one hand-off: $started", 1, started.size)
        val handOff = started.single()
        assertEquals("explicit to the softphone's activity", softphone, handOff.component)
        assertEquals(Intent.ACTION_VIEW, handOff.action)
        assertEquals("acmevoice", handOff.data!!.scheme)
        assertEquals("the agent's dial string (caller-ID prefix of the byod policy)", "*67" + SURVIVOR_AS_LOGGED, handOff.data!!.getQueryParameter("to"))
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains("Handed to the organisation's calling app"))
        assertTrue("nothing through Telecom (SIM or the app's account)", telecom.allOutgoingCalls.isEmpty())
        assertTrue("nothing in the call log", callLog.numbers().isEmpty())
        // The advocate comes back from the softphone: the call is over, its end reported once;
        // had the softphone logged it in the profile's call log, the cleanup removes it.
        callLog.addCall(SURVIVOR_AS_LOGGED, System.currentTimeMillis() + 5)
        controller.pause().resume()
        idle()
        assertTrue("the survivor's row is gone after the call: ${callLog.numbers()}", callLog.numbers().isEmpty())
        assertTrue("no hand-off again on resume", startedActivities(s).isEmpty())
    }

    @Test
    fun byod_no_softphone_configured_the_call_is_refused_with_the_reason_and_compliance_says_so() {
        agent(Mode.BYOD).registerSurvivor(SURVIVOR, null)
        installSoftphone() // installed, but IT named no calling app: nothing is guessed
        val (_, s) = callScreen()
        assertTrue("compliance tells the advocate: ${s.compliance.text}", s.compliance.text.contains(AdvocateActivity.NO_CALL_ROUTE))
        // ... and the agent's compliance report, which the check-in carries, tells IT.
        val gaps = Quietline.agent(app).compliance().findings.filterIsInstance<Finding.RuleNotEnforced>().map { it.gap }
        assertTrue("the check-in's report: $gaps", RuleGap.NO_HELPLINE_CALL_ROUTE in gaps)
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains(Softphone.NOT_CONFIGURED))
        assertTrue("nothing started", startedActivities(s).isEmpty())
        assertTrue("nothing dialled", telecom.allOutgoingCalls.isEmpty())
        // A template that would leave the softphone (a tel: link reaches the personal dialer) is
        // refused as well, and the screen says why.
        configureSoftphone(uri = "tel:{number}", pkg = null)
        val (_, s2) = callScreen()
        assertTrue(s2.compliance.text.toString(), s2.compliance.text.contains("Helpline calls cannot be placed: IT's softphoneCallUri uses \"tel:\""))
        s2.callNumber.type(SURVIVOR)
        s2.checkCall.performClick()
        assertTrue(s2.guidance.text.toString(), s2.guidance.text.contains("\"tel:\""))
        assertTrue(startedActivities(s2).isEmpty())
        assertTrue(telecom.allOutgoingCalls.isEmpty())
    }

    @Test
    fun byod_softphone_package_not_installed_in_the_profile_the_call_is_refused() {
        agent(Mode.BYOD).registerSurvivor(SURVIVOR, null)
        configureSoftphone()
        // Another app in the profile opens acmevoice: links, but it is not the one IT named.
        installSoftphone("org.example.othervoice")
        val (_, s) = callScreen()
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains(Softphone.NOT_INSTALLED))
        assertTrue("not handed to another app", startedActivities(s).isEmpty())
        assertTrue("no fallback to a dialer", telecom.allOutgoingCalls.isEmpty())
    }

    @Test
    fun byod_softphone_link_answered_only_by_the_cross_profile_forwarder_the_call_is_refused() {
        agent(Mode.BYOD).registerSurvivor(SURVIVOR, null)
        // No package named, and only the system's cross-profile forwarder answers the link (it
        // would carry the call out of the work profile, to whatever the personal side has).
        configureSoftphone(pkg = null)
        installSoftphone("android", "com.android.internal.app.ForwardIntentToParent")
        val (_, s2) = callScreen()
        s2.callNumber.type(SURVIVOR)
        s2.checkCall.performClick()
        assertTrue(s2.guidance.text.toString(), s2.guidance.text.contains(Softphone.LEAVES_PROFILE))
        assertTrue(startedActivities(s2).isEmpty())
        assertTrue(telecom.allOutgoingCalls.isEmpty())
    }

    @Test
    fun byod_guidance_warning_must_be_confirmed_before_hand_off() {
        agent(Mode.BYOD)
        configureSoftphone()
        val softphone = installSoftphone()
        val (_, s) = callScreen()
        s.survivorNumber.type(SURVIVOR)
        s.survivorLabel.type("Client C")
        s.hiddenNumbers.check(s.hiddenShowNumber.id)
        s.saveSurvivor.performClick()
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains("will show your number"))
        assertEquals(android.view.View.VISIBLE, s.callAnyway.visibility)
        assertTrue("nothing handed off before the advocate confirms", startedActivities(s).isEmpty())
        assertTrue(telecom.allOutgoingCalls.isEmpty())
        s.callAnyway.performClick()
        val handOff = startedActivities(s).single()
        assertEquals(softphone, handOff.component)
        assertEquals("confirmed: the number as the agent allowed it", "+12025550143", handOff.data!!.getQueryParameter("to"))
        assertTrue(telecom.allOutgoingCalls.isEmpty())
    }

    @Test
    fun byod_an_org_that_links_its_own_voip_stack_calls_through_the_self_managed_account() {
        agent(Mode.BYOD).registerSurvivor(SURVIVOR, null)
        configureSoftphone()
        installSoftphone()
        val handle = SelfManagedCalls.handle(app)
        val request = ConnectionRequest(handle, Uri.fromParts("tel", "*67" + SURVIVOR_AS_LOGGED, null), Bundle())
        // Without a linked stack the account fails the call visibly, never pretends to ring.
        val service = Robolectric.setupService(SelfManagedCalls::class.java)
        val failed = service.onCreateOutgoingConnection(handle, request)
        assertEquals(DisconnectCause.ERROR, failed.disconnectCause.code)
        assertEquals(SelfManagedCalls.NO_TRANSPORT, failed.disconnectCause.reason)
        // The organisation links its stack: helpline calls go through the app's account (kept
        // out of the call log by the system), before the softphone.
        val dialled = mutableListOf<String>()
        SelfManagedCalls.transport = object : VoipTransport {
            override fun connect(request: ConnectionRequest, dialString: String): android.telecom.Connection {
                dialled += dialString
                return object : android.telecom.Connection() {}
            }
        }
        val (_, s) = callScreen()
        assertFalse(s.compliance.text.toString(), s.compliance.text.contains(AdvocateActivity.NO_CALL_ROUTE))
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        assertTrue("not handed to the softphone", startedActivities(s).isEmpty())
        val placed = telecom.lastOutgoingCall
        assertNotNull(placed)
        assertEquals(handle, placed.extras.getParcelable(TelecomManager.EXTRA_PHONE_ACCOUNT_HANDLE, PhoneAccountHandle::class.java))
        assertEquals("*67" + SURVIVOR_AS_LOGGED, placed.address.schemeSpecificPart)
        // Telecom then asks the service for the connection: the organisation's stack carries it.
        val connection = service.onCreateOutgoingConnection(handle, ConnectionRequest(handle, placed.address, Bundle()))
        assertEquals(listOf("*67" + SURVIVOR_AS_LOGGED), dialled)
        assertFalse(connection.state == android.telecom.Connection.STATE_DISCONNECTED)
    }

    /** [rules] with the organisation's calling app in `caller_id.softphone` (and method voip). */
    private fun withPolicySoftphone(rules: JSONObject, uri: String = SOFTPHONE_URI, pkg: String? = SOFTPHONE): JSONObject {
        val sp = JSONObject().put("call_uri", uri)
        pkg?.let { sp.put("android_package", it) }
        rules.getJSONObject("caller_id").put("method", "voip").put("softphone", sp)
        return rules
    }

    /** A work profile Quietline owns, enrolled from IT's bundle (its root-signed policy is [rules]). */
    private fun enrolledByod(rules: JSONObject): org.quietline.test.Org {
        val o = org(Mode.BYOD, rules)
        asByod()
        Quietline.init(app)
        Quietline.enroll(app, "US", o.bundle)
        Quietline.start(app)
        runPending()
        return o
    }

    private fun gaps() = Quietline.agent(app).compliance().findings.filterIsInstance<Finding.RuleNotEnforced>().map { it.gap }

    @Test
    fun byod_helpline_call_with_the_softphone_in_the_signed_policy_and_no_managed_configuration_is_handed_off() {
        // The usual work profile: Quietline is its owner, so nobody writes a managed configuration;
        // the calling app comes from IT's root-signed policy.
        enrolledByod(withPolicySoftphone(JSONObject(defaultPolicyJson(Mode.BYOD))))
        Quietline.agent(app).registerSurvivor(SURVIVOR, null)
        val softphone = installSoftphone()
        val (_, s) = callScreen()
        assertFalse("the policy's calling app is a route: ${s.compliance.text}", s.compliance.text.contains(AdvocateActivity.NO_CALL_ROUTE))
        assertFalse("the check-in reports no gap: ${gaps()}", RuleGap.NO_HELPLINE_CALL_ROUTE in gaps())
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        val handOff = startedActivities(s).single()
        assertEquals("explicit to the policy's app", softphone, handOff.component)
        assertEquals(SOFTPHONE, handOff.`package`)
        assertEquals("acmevoice", handOff.data!!.scheme)
        assertEquals("the agent's dial string (voip: the number, the VoIP line hides caller ID)", "+12025550143", handOff.data!!.getQueryParameter("to"))
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains("Handed to the organisation's calling app (named in IT's signed policy)"))
        assertTrue("nothing through Telecom", telecom.allOutgoingCalls.isEmpty())
    }

    @Test
    fun byod_the_policy_softphone_wins_over_a_different_managed_configuration() {
        agent(Mode.BYOD) { withPolicySoftphone(it) }.registerSurvivor(SURVIVOR, null)
        runPending()
        // An EMM's managed configuration names another app (and the policy's is installed too).
        configureSoftphone(uri = "othervoice://dial/{number}", pkg = "org.example.othervoice")
        val other = ComponentName("org.example.othervoice", "org.example.othervoice.Dial")
        shadowOf(app.packageManager).addActivityIfNotPresent(other)
        shadowOf(app.packageManager).addIntentFilterForActivity(
            other,
            android.content.IntentFilter(Intent.ACTION_VIEW).apply {
                addCategory(Intent.CATEGORY_DEFAULT)
                addDataScheme("othervoice")
            },
        )
        val softphone = installSoftphone()
        val c = Softphone.configured(app)
        assertTrue(c is Softphone.Config.Ready && c.softphone.source == Softphone.Source.POLICY)
        val (_, s) = callScreen()
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        val handOff = startedActivities(s).single()
        assertEquals("the signed policy's app, not the managed configuration's", softphone, handOff.component)
        assertEquals("acmevoice", handOff.data!!.scheme)
        assertTrue(telecom.allOutgoingCalls.isEmpty())
        // Without a policy softphone the managed configuration is the fallback (an EMM's profile).
        Quietline.agent(app).installPolicyJson(defaultPolicyJson(Mode.BYOD))
        val fallback = Softphone.configured(app)
        assertTrue(fallback is Softphone.Config.Ready && fallback.softphone.source == Softphone.Source.MANAGED_CONFIGURATION)
        val (_, s2) = callScreen()
        s2.callNumber.type(SURVIVOR)
        s2.checkCall.performClick()
        assertEquals(other, startedActivities(s2).single().component)
        assertTrue(s2.guidance.text.toString(), s2.guidance.text.contains("(set in the managed configuration)"))
    }

    @Test
    fun byod_a_signed_policy_update_that_drops_the_softphone_brings_the_gap_back() {
        // First a policy without a calling app and no managed configuration: refused, and reported.
        val o = enrolledByod(JSONObject(defaultPolicyJson(Mode.BYOD)).apply { getJSONObject("caller_id").put("method", "voip") })
        Quietline.agent(app).registerSurvivor(SURVIVOR, null)
        installSoftphone()
        val (_, s0) = callScreen()
        assertTrue(s0.compliance.text.toString(), s0.compliance.text.contains(AdvocateActivity.NO_CALL_ROUTE))
        assertTrue("the check-in's report: ${gaps()}", RuleGap.NO_HELPLINE_CALL_ROUTE in gaps())
        s0.callNumber.type(SURVIVOR)
        s0.checkCall.performClick()
        assertTrue(s0.guidance.text.toString(), s0.guidance.text.contains(Softphone.NOT_CONFIGURED))
        assertTrue(startedActivities(s0).isEmpty())
        // IT's next root-signed policy names the calling app, as the relay delivers it: the gap
        // closes at once, before any screen is shown.
        assertTrue(org.quietline.android.Commands.installPolicy(app, o.policy(2, withPolicySoftphone(JSONObject(defaultPolicyJson(Mode.BYOD))).toString())))
        assertFalse("closed by the new policy: ${gaps()}", RuleGap.NO_HELPLINE_CALL_ROUTE in gaps())
        // The one after drops it again: the gap comes back, and calls are refused again.
        assertTrue(org.quietline.android.Commands.installPolicy(app, o.policy(3, JSONObject(defaultPolicyJson(Mode.BYOD)).apply { getJSONObject("caller_id").put("method", "voip") }.toString())))
        assertTrue("reopened by the update: ${gaps()}", RuleGap.NO_HELPLINE_CALL_ROUTE in gaps())
        val (_, s) = callScreen()
        assertTrue(s.compliance.text.toString(), s.compliance.text.contains(AdvocateActivity.NO_CALL_ROUTE))
        s.callNumber.type(SURVIVOR)
        s.checkCall.performClick()
        assertTrue(s.guidance.text.toString(), s.guidance.text.contains(Softphone.NOT_CONFIGURED))
        assertTrue("nothing handed off", startedActivities(s).isEmpty())
        assertTrue("nothing dialled", telecom.allOutgoingCalls.isEmpty())
    }

    @Test
    fun managed_configuration_is_declared_with_the_softphone_keys() {
        // The manifest points APP_RESTRICTIONS at res/xml/app_restrictions.xml, which declares the
        // keys the app reads (an EMM console lists them from the APK).
        val doc = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }.newDocumentBuilder().parse(manifest)
        val android = "http://schemas.android.com/apk/res/android"
        val metas = doc.getElementsByTagName("meta-data")
        val resource = (0 until metas.length).map { metas.item(it).attributes }
            .single { it.getNamedItemNS(android, "name").nodeValue == "android.content.APP_RESTRICTIONS" }
            .getNamedItemNS(android, "resource").nodeValue
        assertEquals("@xml/app_restrictions", resource)
        val xml = java.io.File(manifest.parentFile, "res/xml/app_restrictions.xml")
        val restrictions = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }.newDocumentBuilder().parse(xml)
            .getElementsByTagName("restriction")
        val keys = (0 until restrictions.length).associate {
            val a = restrictions.item(it).attributes
            a.getNamedItemNS(android, "key").nodeValue to a.getNamedItemNS(android, "restrictionType").nodeValue
        }
        assertEquals(mapOf(Softphone.KEY_CALL_URI to "string", Softphone.KEY_PACKAGE to "string"), keys)
        // Templates: exactly one {number}, a scheme that stays in a calling app.
        assertTrue(Softphone.parse(SOFTPHONE_URI, SOFTPHONE) is Softphone.Config.Ready)
        // The core's rules, the same as a policy's caller_id.softphone: the iOS-only cellular and
        // FaceTime schemes and characters outside a URI are refused here too.
        for (bad in listOf(
            "acmevoice://call", "acmevoice://{number}/{number}", "sip:{number}@pbx.example.org", "https://voice.example.org/c?n={number}",
            "sms:{number}", "telprompt:{number}", "facetime-audio:{number}", "acmevoice://call?to={number} now",
        )) {
            assertTrue(bad, Softphone.parse(bad, null) is Softphone.Config.Invalid)
        }
        val invalid = Softphone.parse("TEL:{number}", null) as Softphone.Config.Invalid
        assertEquals("IT's softphoneCallUri uses \"tel:\", which would not stay in the organisation's calling app.", invalid.reason)
        assertTrue(Softphone.parse(SOFTPHONE_URI, "not a package") is Softphone.Config.Invalid)
    }
}
