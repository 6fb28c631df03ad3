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
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.quietline.Finding
import org.quietline.Mode
import org.quietline.RuleGap
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
        for (bad in listOf("acmevoice://call", "acmevoice://{number}/{number}", "sip:{number}@pbx.example.org", "https://voice.example.org/c?n={number}", "sms:{number}")) {
            assertTrue(bad, Softphone.parse(bad, null) is Softphone.Config.Invalid)
        }
        assertTrue(Softphone.parse(SOFTPHONE_URI, "not a package") is Softphone.Config.Invalid)
    }
}
