package org.quietline.android

import android.net.Uri
import android.telecom.CallRedirectionService
import android.telecom.PhoneAccountHandle
import org.quietline.Event
import org.quietline.Line
import org.quietline.Verdict

/**
 * Applies the caller-ID rule (rule 2) to calls dialled from any dialer: with the call-redirection
 * role (Android 10+), every outgoing call passes here and a survivor's number is redirected to
 * the dial string the agent returns (`*67…`, `#31#…`), or the call is cancelled when blocked.
 */
class RedirectionService : CallRedirectionService() {
    override fun onPlaceCall(handle: Uri, initialPhoneAccount: PhoneAccountHandle, allowInteractiveResponse: Boolean) {
        val number = handle.schemeSpecificPart
        val verdict = try {
            Quietline.agent(this).handle(Event.OutgoingCall(number, Line.DIRECT, false)).verdict
        } catch (e: Exception) {
            // Without the agent the rule cannot be checked: do not place a call that might show the number.
            cancelCall()
            return
        }
        when (verdict) {
            is Verdict.Dial ->
                if (verdict.dialString == number) placeCallUnmodified()
                else redirectCall(Uri.fromParts("tel", verdict.dialString, null), initialPhoneAccount, false)
            is Verdict.Allow -> placeCallUnmodified()
            is Verdict.Block, is Verdict.Warn, is Verdict.SendToVoicemail -> cancelCall()
        }
    }
}
