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
 *
 * When Quietline is the default SMS app (work phones, [SmsRule]) the same text first arrives as
 * SMS_DELIVER ([SmsDeliverReceiver]); AOSP's InboundSmsHandler sends SMS_RECEIVED to every app
 * only after the default app's SMS_DELIVER, so this receiver then leaves it alone: one command,
 * one application.
 */
class SmsCommandReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Telephony.Sms.Intents.SMS_RECEIVED_ACTION) return
        val parts = Telephony.Sms.Intents.getMessagesFromIntent(intent) ?: return
        val text = parts.joinToString("") { it.messageBody ?: "" }
        if (!text.startsWith(COMMAND_PREFIX)) return
        val app = context.applicationContext
        if (SmsRule.isDefaultSmsApp(app)) return // SmsDeliverReceiver had it
        val pending = goAsync()
        Work.start("sms-command") {
            try {
                applyCommand(app, text)
            } finally {
                pending.finish()
            }
        }
    }

    companion object {
        const val COMMAND_PREFIX = "QL:"

        /** Network time an SMS command may spend (on the wipe receipt), inside the broadcast's limit. */
        const val SMS_NETWORK_BUDGET_MS = 4_000

        /** Hands a `QL:` text to the agent within the broadcast's budget; never throws. */
        fun applyCommand(context: Context, text: String) {
            try {
                Commands.apply(context, text, SMS_NETWORK_BUDGET_MS)
            } catch (e: RuntimeException) {
                // Never crash the process over a message; the agent recorded what it decided.
            }
        }
    }
}
