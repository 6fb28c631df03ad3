package org.quietline.android

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.provider.Telephony

/**
 * Hands signed commands that arrive by SMS (a wipe fits one 160-character message, so it reaches
 * a phone without data) to the agent. Only the agent's verification decides whether to act; this
 * receiver only picks out messages that look like commands ("QL:" prefix). Needs RECEIVE_SMS,
 * which the device owner grants itself ([Permissions]).
 *
 * A broadcast has about 10 s before an ANR: the command is verified and applied at once (local
 * work), a wipe receipt is offered to the relay within [SMS_NETWORK_BUDGET_MS] before the platform
 * wipe, and everything else that needs the network waits for the periodic job.
 *
 * Android does not deliver SMS_RECEIVED to a managed (work) profile, so on `byod` commands come
 * through the relay only.
 */
class SmsCommandReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Telephony.Sms.Intents.SMS_RECEIVED_ACTION) return
        val parts = Telephony.Sms.Intents.getMessagesFromIntent(intent) ?: return
        val text = parts.joinToString("") { it.messageBody ?: "" }
        if (!text.startsWith(COMMAND_PREFIX)) return
        val app = context.applicationContext
        val pending = goAsync()
        Work.start("sms-command") {
            try {
                Commands.apply(app, text, SMS_NETWORK_BUDGET_MS)
            } catch (e: RuntimeException) {
                // Never crash the process over a message; the agent recorded what it decided.
            } finally {
                pending.finish()
            }
        }
    }

    companion object {
        const val COMMAND_PREFIX = "QL:"

        /** Network time an SMS command may spend (on the wipe receipt), inside the broadcast's limit. */
        const val SMS_NETWORK_BUDGET_MS = 4_000
    }
}
