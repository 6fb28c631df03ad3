package org.quietline.android

import android.telecom.Call
import android.telecom.CallScreeningService
import org.quietline.Event
import org.quietline.Verdict

/**
 * Asks the agent about each incoming call (off-duty screening, rule 6). Holds the call-screening
 * role (RoleManager.ROLE_CALL_SCREENING). The agent decides; this only applies its verdict.
 */
class ScreeningService : CallScreeningService() {
    override fun onScreenCall(callDetails: Call.Details) {
        val number = callDetails.handle?.schemeSpecificPart
        val verdict = try {
            val agent = Quietline.agent(this)
            val outcome = agent.handle(Event.IncomingCall(number))
            Quietline.executor(this).runAll(outcome.actions)
            outcome.verdict
        } catch (e: Exception) {
            // The agent cannot be reached (locked key store): let the call ring rather than drop it.
            Verdict.Allow
        }
        val response = CallResponse.Builder()
        if (verdict is Verdict.SendToVoicemail) {
            response.setRejectCall(true).setSkipCallLog(true).setSkipNotification(true)
        }
        respondToCall(callDetails, response.build())
    }
}
