package org.quietline.android

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.provider.Telephony

/**
 * Hands signed commands that arrive by SMS (a wipe fits one 160-character message, so it reaches
 * a phone without data) to the agent. Only the agent's verification decides whether to act; this
 * receiver only picks out messages that look like commands ("QL:" prefix).
 */
class SmsCommandReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Telephony.Sms.Intents.SMS_RECEIVED_ACTION) return
        val parts = Telephony.Sms.Intents.getMessagesFromIntent(intent) ?: return
        val text = parts.joinToString("") { it.messageBody ?: "" }
        if (!text.startsWith(COMMAND_PREFIX)) return
        val pending = goAsync()
        Thread {
            try {
                Commands.apply(context, text)
            } finally {
                pending.finish()
            }
        }.start()
    }

    companion object {
        const val COMMAND_PREFIX = "QL:"
    }
}
