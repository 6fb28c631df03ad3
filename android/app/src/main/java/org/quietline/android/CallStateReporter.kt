package org.quietline.android

import android.content.Context
import android.telephony.TelephonyCallback
import android.telephony.TelephonyManager
import java.time.Instant
import org.quietline.CallDirection
import org.quietline.Event
import org.quietline.Line

/**
 * Reports call ends to the agent (rule 4: cleanup at once). TelephonyCallback gives states, not
 * numbers, so the number and direction come from whoever saw the call start ([callStarted]: the
 * screening service, the redirection service or the app's own dialer).
 */
class CallStateReporter(private val context: Context) : TelephonyCallback(), TelephonyCallback.CallStateListener {
    private data class Live(val number: String, val line: Line, val direction: CallDirection, val startedAt: Instant)

    @Volatile private var live: Live? = null

    fun register() {
        val tm = context.getSystemService(TelephonyManager::class.java)
        tm.registerTelephonyCallback(context.mainExecutor, this)
    }

    fun callStarted(number: String, line: Line, direction: CallDirection) {
        live = Live(number, line, direction, Instant.now())
    }

    override fun onCallStateChanged(state: Int) {
        if (state != TelephonyManager.CALL_STATE_IDLE) return
        val call = live ?: return
        live = null
        val agent = Quietline.agent(context)
        val outcome = agent.handle(Event.CallEnded(call.number, call.line, call.direction, call.startedAt, false))
        Quietline.executor(context).runAll(outcome.actions)
    }
}
