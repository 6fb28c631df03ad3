package org.quietline.android

import android.net.Uri
import android.telecom.CallRedirectionService
import android.telecom.PhoneAccountHandle
import org.quietline.CallDirection
import org.quietline.Event
import org.quietline.Line
import org.quietline.Verdict

/**
 * Applies the caller-ID rule (rule 2) to calls dialled from any dialer: with the call-redirection
 * role (Android 10+, asked for by [Roles]), every outgoing call passes here and a survivor's
 * number is redirected to the dial string the agent returns (`*67…`, `#31#…`), or the call is
 * cancelled when the agent blocks it. Every call is handed to [CallStateReporter] so its end
 * triggers cleanup (rule 4).
 *
 * When the agent cannot be opened (before the first unlock, or damaged state) the survivor list
 * cannot be read. Cancelling would leave the advocate without a phone, placing the call as dialled
 * might show the number: the call goes out with the caller-ID prefix of the SIM's region instead,
 * so it never shows the number and still connects.
 */
class RedirectionService : CallRedirectionService() {
    override fun onPlaceCall(handle: Uri, initialPhoneAccount: PhoneAccountHandle, allowInteractiveResponse: Boolean) {
        val number = handle.schemeSpecificPart
        val outcome = Quietline.handle(this, Event.OutgoingCall(number, Line.DIRECT, false))
        if (outcome == null) {
            redirectCall(Uri.fromParts("tel", fallbackDialString(number, Enrollment.region(this)), null), initialPhoneAccount, false)
            return
        }
        when (val verdict = outcome.verdict) {
            // Through the organisation's VoIP line (its policy, or the survivor's alternate caller
            // ID): the SIM would show the advocate's number, so the call is placed from the app.
            is Verdict.Dial -> if (verdict.viaVoip) cancelCall() else {
                Quietline.calls()?.callStarted(number, Line.DIRECT, CallDirection.OUTGOING)
                if (verdict.dialString == number) placeCallUnmodified()
                else redirectCall(Uri.fromParts("tel", verdict.dialString, null), initialPhoneAccount, false)
            }
            is Verdict.Allow -> {
                Quietline.calls()?.callStarted(number, Line.DIRECT, CallDirection.OUTGOING)
                placeCallUnmodified()
            }
            // Warned calls are confirmed in the app's own dial screen (CallActivity), not here.
            is Verdict.Block, is Verdict.Warn, is Verdict.SendToVoicemail -> cancelCall()
        }
    }

    companion object {
        /** `*67` in the North American plan, `#31#` elsewhere (GSM); prefixes are not added twice. */
        fun fallbackDialString(number: String, region: String?): String {
            if (number.startsWith("*67") || number.startsWith("#31#")) return number
            val nanp = region in setOf("US", "CA", "PR", "GU", "VI", "AS", "MP", "BS", "BB", "JM", "TT", "DO")
            return (if (nanp) "*67" else "#31#") + number
        }
    }
}
