package org.quietline.android

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.telephony.TelephonyCallback
import android.telephony.TelephonyManager
import java.time.Instant
import org.quietline.CallDirection
import org.quietline.Event
import org.quietline.Line

/**
 * Reports call ends to the agent (rule 4: cleanup at once). TelephonyCallback gives states, not
 * numbers, so the number and direction come from whoever saw the call start ([callStarted]: the
 * screening service, the redirection service or the app's own dialer). Registered once per
 * process by [Quietline.start] (needs READ_PHONE_STATE, which the owner grants itself).
 */
class CallStateReporter(private val context: Context) : TelephonyCallback(), TelephonyCallback.CallStateListener {
    private data class Live(val number: String, val line: Line, val direction: CallDirection, val startedAt: Instant)

    @Volatile private var live: Live? = null
    @Volatile private var offHook = false

    /** Registers for call states; false when READ_PHONE_STATE is not held (then nothing is reported). */
    fun register(): Boolean {
        if (context.checkSelfPermission(Manifest.permission.READ_PHONE_STATE) != PackageManager.PERMISSION_GRANTED) return false
        val tm: TelephonyManager = context.service()
        tm.registerTelephonyCallback(context.mainExecutor, this)
        return true
    }

    /** A call to or from [number] is starting; its end is reported when the phone goes idle. */
    fun callStarted(number: String, line: Line, direction: CallDirection) {
        live = Live(number, line, direction, Instant.now())
    }

    @Volatile private var ended: Live? = null
    @Volatile private var endedAt: Instant? = null

    override fun onCallStateChanged(state: Int) {
        if (state == TelephonyManager.CALL_STATE_OFFHOOK) offHook = true
        if (state != TelephonyManager.CALL_STATE_IDLE) return
        val call = live ?: return
        val connected = offHook
        live = null
        offHook = false
        // Only a call that was connected can have dropped; the advocate says whether it did.
        ended = if (connected) call else null
        endedAt = Instant.now()
        Quietline.handle(context, Event.CallEnded(call.number, call.line, call.direction, call.startedAt, false))
    }

    /**
     * Whether the last connected call ended within [DROP_WINDOW] and may be reported as dropped.
     * Android tells apps only that the phone went idle: the disconnect cause
     * (`TelephonyCallback.CallDisconnectCauseListener`) needs READ_PRECISE_PHONE_STATE, which
     * is not granted to this app, so the advocate reports a drop from the screen.
     */
    fun canReportDrop(now: Instant = Instant.now()): Boolean {
        val at = endedAt ?: return false
        return ended != null && !now.isAfter(at.plus(DROP_WINDOW))
    }

    /**
     * The advocate says the last call dropped (rule 7): the agent answers with the survivor's
     * plan for it (we call back / they call back) as guidance and a reminder. Returns the
     * outcome, or null when there is no recent call or the agent cannot open.
     */
    fun reportDropped(): org.quietline.Outcome? {
        if (!canReportDrop()) return null
        val call = ended ?: return null
        ended = null
        return Quietline.handle(context, Event.CallEnded(call.number, call.line, call.direction, call.startedAt, true))
    }

    companion object {
        /** How long after a call the advocate may still report that it dropped. */
        val DROP_WINDOW: java.time.Duration = java.time.Duration.ofMinutes(10)
    }
}
