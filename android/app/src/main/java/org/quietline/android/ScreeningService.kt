package org.quietline.android

import android.os.Handler
import android.os.Looper
import android.telecom.Call
import android.telecom.CallScreeningService
import java.time.Instant
import org.quietline.CallDirection
import org.quietline.Event
import org.quietline.Line
import org.quietline.Verdict

/**
 * Off-duty screening of incoming calls (rule 6), bound by the system once the app holds the
 * call-screening role (RoleManager.ROLE_CALL_SCREENING, asked for by [Roles]).
 *
 * The system calls [onScreenCall] for outgoing calls too (API 29+), and only for numbers not in
 * the contacts: outgoing calls are let through untouched (the redirection service applies the
 * caller-ID rule to them) and only incoming ones go to the agent. Every incoming call is handed
 * to [CallStateReporter] so its end triggers cleanup (rule 4). A third-party screener's
 * `setSkipCallLog` is ignored by the system (the rejected call is logged as blocked), so a
 * rejected survivor call is followed by a `CallEnded`, whose cleanup deletes that entry.
 */
class ScreeningService : CallScreeningService() {
    override fun onScreenCall(callDetails: Call.Details) {
        val number = callDetails.handle?.schemeSpecificPart
        if (callDetails.callDirection != Call.Details.DIRECTION_INCOMING) {
            respondToCall(callDetails, CallResponse.Builder().build())
            return
        }
        // The agent unreachable (locked key store, not enrolled): let the call ring rather than drop it.
        val verdict = Quietline.handle(this, Event.IncomingCall(number))?.verdict ?: Verdict.Allow
        val response = CallResponse.Builder()
        if (verdict is Verdict.SendToVoicemail) {
            // A rejected call must also be disallowed: the framework refuses reject without it
            // ("Invalid response state for allowed call", CallScreeningService.CallResponse).
            response.setDisallowCall(true).setRejectCall(true).setSkipCallLog(true).setSkipNotification(true)
        }
        respondToCall(callDetails, response.build())
        if (number == null) return
        if (verdict is Verdict.SendToVoicemail) {
            val app = applicationContext
            val startedAt = Instant.now()
            // The system writes the blocked call's entry after this returns: clean up shortly after.
            Handler(Looper.getMainLooper()).postDelayed({
                Work.start("screened-call-ended") { Quietline.handle(app, Event.CallEnded(number, Line.DIRECT, CallDirection.INCOMING, startedAt, false)) }
            }, CLEANUP_DELAY_MS)
        } else {
            Quietline.calls()?.callStarted(number, Line.DIRECT, CallDirection.INCOMING)
        }
    }

    companion object {
        /** How long after a rejection the cleanup runs (the entry is written when the call ends). */
        const val CLEANUP_DELAY_MS = 3_000L
    }
}
