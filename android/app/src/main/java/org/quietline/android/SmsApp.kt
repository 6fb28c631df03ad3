package org.quietline.android

import android.Manifest
import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.Service
import android.content.BroadcastReceiver
import android.content.ContentValues
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.net.Uri
import android.os.IBinder
import android.provider.Telephony
import android.telephony.SmsManager
import android.telephony.SmsMessage
import android.telephony.SubscriptionManager
import android.telephony.TelephonyManager
import org.quietline.Agent
import org.quietline.ApiException
import org.quietline.Event
import org.quietline.TextDirection
import org.quietline.Verdict

/**
 * Sending a text as the default SMS app: the agent decides first (rule 3), then `SmsManager`
 * sends. A text to anyone else is written to the provider's Sent folder (the default SMS app writes
 * its own messages: the system does so only for other apps); a text to a survivor, when the policy
 * allows one, is held by the agent instead ([SurvivorTexts]) and never reaches the provider.
 */
object SmsSend {
    /** What became of a text. Reasons never name the number. */
    sealed class Result {
        /** Handed to the radio. */
        object Sent : Result()

        /** The agent refused it (a survivor's number, or a warning the advocate must heed). */
        class Blocked(val why: String) : Result()

        /** Not sent for a reason of the phone's (no agent, no permission, bad number). */
        class Failed(val why: String) : Result()
    }

    /** Asks the agent, then sends [body] to [number]; never throws. */
    fun send(context: Context, number: String, body: String): Result {
        val app = context.applicationContext
        val held: ULong?
        try {
            val agent = Quietline.agent(app)
            val outcome = agent.handle(Event.OutgoingSms(number))
            Quietline.executor(app).runAll(outcome.actions)
            refusal(outcome.verdict)?.let { return Result.Blocked(it) }
            // Held (and kept out of the Sent folder) when it goes to a survivor; null for anyone else.
            held = try {
                agent.holdText(number, TextDirection.OUTGOING, body)
            } catch (e: ApiException.InvalidNumber) {
                null // the radio refuses it below
            }
        } catch (e: ApiException) {
            return Result.Failed("Not sent: " + SurvivorTexts.reason(e))
        }
        val result = radio(app, number, body)
        if (held != null) {
            if (result != Result.Sent) discard(app, held)
        } else if (result == Result.Sent && SmsRule.isDefaultSmsApp(app)) {
            Inbox.record(app, Telephony.Sms.Sent.CONTENT_URI, number, body, System.currentTimeMillis())
        }
        return result
    }

    /**
     * Replies to a text the agent holds ([SurvivorTexts]): the agent decides as for any text to
     * that survivor and hands the number back only when the policy allows it; it goes to the radio
     * and nowhere else. The reply is held by the agent, never written to the Sent folder.
     */
    fun reply(context: Context, heldId: ULong, body: String): Result {
        val app = context.applicationContext
        val reply = try {
            val r = Quietline.agent(app).replyToHeldText(heldId, body)
            Quietline.executor(app).runAll(r.outcome.actions)
            r
        } catch (e: ApiException) {
            return Result.Failed("Not sent: " + SurvivorTexts.reason(e))
        }
        refusal(reply.outcome.verdict)?.let { return Result.Blocked(it) }
        val to = reply.sendTo ?: return Result.Blocked("Texts to this client are not allowed on this phone.")
        val result = radio(app, to, body)
        if (result != Result.Sent) reply.held?.let { discard(app, it) }
        return result
    }

    private fun refusal(v: Verdict): String? = when (v) {
        is Verdict.Block -> v.message
        is Verdict.Warn -> v.message
        is Verdict.SendToVoicemail -> v.message
        else -> null
    }

    /** A text the radio did not take is not kept as if it had been sent. */
    private fun discard(app: Context, id: ULong) {
        try {
            Quietline.agent(app).discardHeldText(id)
        } catch (e: ApiException) {
            // It expires with the others; nothing names the number.
        }
    }

    /** Hands [body] to the radio for [number]. */
    private fun radio(app: Context, number: String, body: String): Result {
        if (app.checkSelfPermission(Manifest.permission.SEND_SMS) != PackageManager.PERMISSION_GRANTED) {
            return Result.Failed("Not sent: Quietline may not send texts on this phone (SEND_SMS is not granted).")
        }
        val sms = manager(app) ?: return Result.Failed("Not sent: this phone cannot send texts.")
        try {
            // calculateLength: how many SMS the text takes (GSM 7-bit or UCS-2), before asking the
            // radio service to split it.
            if (SmsMessage.calculateLength(body, false)[0] <= 1) {
                sms.sendTextMessage(number, null, body, null, null)
            } else {
                sms.sendMultipartTextMessage(number, null, sms.divideMessage(body), null, null)
            }
        } catch (e: IllegalArgumentException) {
            return Result.Failed("Not sent: the number or the text is empty.")
        }
        return Result.Sent
    }

    private fun manager(context: Context): SmsManager? =
        context.getSystemService(SmsManager::class.java) ?: @Suppress("DEPRECATION") SmsManager.getDefault()
}

/**
 * The SMS provider as the default SMS app uses it (AOSP `SmsProvider`: `content://sms`, read with
 * READ_SMS; writes need the WRITE_SMS app-op, which only the default SMS app holds, and a refused
 * insert still returns a URI ending in `/0`, so the row id is checked).
 */
object Inbox {
    /** One stored message; [address] is null when it is a survivor's (never shown). */
    data class Message(val incoming: Boolean, val address: String?, val body: String, val date: Long)

    /** Writes a delivered text into the inbox; false when the provider did not store it. */
    fun store(context: Context, from: String, body: String, sentAt: Long, subId: Int): Boolean =
        record(context, Telephony.Sms.Inbox.CONTENT_URI, from, body, sentAt, subId)

    /** Writes a message to [folder]; false when the provider refused it or is missing. */
    fun record(context: Context, folder: Uri, address: String, body: String, sentAt: Long, subId: Int? = null): Boolean {
        val values = ContentValues().apply {
            put(Telephony.Sms.ADDRESS, address)
            put(Telephony.Sms.BODY, body)
            put(Telephony.Sms.DATE, System.currentTimeMillis())
            put(Telephony.Sms.DATE_SENT, sentAt)
            put(Telephony.Sms.READ, 0)
            put(Telephony.Sms.SEEN, 0)
            if (subId != null && subId != SubscriptionManager.INVALID_SUBSCRIPTION_ID) put(Telephony.Sms.SUBSCRIPTION_ID, subId)
        }
        val uri = try {
            context.contentResolver.insert(folder, values)
        } catch (e: SecurityException) {
            null
        } catch (e: IllegalArgumentException) {
            null // no SMS provider on this device
        }
        val id = uri?.lastPathSegment?.toLongOrNull() ?: return false
        return id > 0
    }

    /**
     * Whether the agent knows [address] as a survivor's. False for a sender that is not a phone
     * number (an alphanumeric sender such as BANK): the registry holds only numbers.
     */
    fun isSurvivor(agent: Agent, address: String): Boolean = try {
        agent.isSurvivor(address)
    } catch (e: ApiException) {
        false
    }

    /**
     * The latest [limit] messages, newest first. A survivor's number is looked up in the agent
     * (keyed hashes only) and left out; a message whose number the agent cannot check is left
     * out too rather than shown.
     */
    fun recent(context: Context, limit: Int = 50): List<Message> {
        if (context.checkSelfPermission(Manifest.permission.READ_SMS) != PackageManager.PERMISSION_GRANTED) return emptyList()
        val agent = try {
            Quietline.agent(context)
        } catch (e: ApiException) {
            return emptyList()
        }
        val out = mutableListOf<Message>()
        val cursor = try {
            context.contentResolver.query(
                Telephony.Sms.CONTENT_URI,
                arrayOf(Telephony.Sms.TYPE, Telephony.Sms.ADDRESS, Telephony.Sms.BODY, Telephony.Sms.DATE),
                null, null, Telephony.Sms.DATE + " DESC",
            )
        } catch (e: SecurityException) {
            null
        } ?: return emptyList()
        cursor.use { c ->
            while (out.size < limit && c.moveToNext()) {
                val address = c.getString(1) ?: ""
                val survivor = isSurvivor(agent, address)
                out += Message(c.getInt(0) == Telephony.Sms.MESSAGE_TYPE_INBOX, if (survivor) null else address, c.getString(2) ?: "", c.getLong(3))
            }
        }
        return out
    }
}

/**
 * Tells the advocate something about texts outside a screen (a quick reply refused, an MMS that
 * cannot be shown). Fixed texts: never a number.
 */
object SmsNotices {
    const val QUICK_REPLY_BLOCKED = 100
    const val MMS_NOT_SHOWN = 101
    const val SURVIVOR_TEXT = 102
    const val TEXT_UNCHECKED = 103

    fun post(context: Context, id: Int, text: String) {
        if (context.checkSelfPermission(Manifest.permission.POST_NOTIFICATIONS) != PackageManager.PERMISSION_GRANTED) return
        val nm = context.getSystemService(NotificationManager::class.java) ?: return
        nm.createNotificationChannel(NotificationChannel(AndroidPlatform.CHANNEL, "Quietline", NotificationManager.IMPORTANCE_HIGH))
        nm.notify(
            id,
            Notification.Builder(context, AndroidPlatform.CHANNEL).setContentTitle("Quietline").setContentText(text)
                .setSmallIcon(android.R.drawable.ic_dialog_info).build(),
        )
    }
}

/**
 * SMS_DELIVER: sent by the system to the default SMS app only (`BROADCAST_SMS` guards it). IT's
 * signed commands (`QL:`) go to the agent, exactly as [SmsCommandReceiver] hands them over; a text
 * from a survivor is held by the agent, never written to the provider ([SurvivorTexts]); every
 * other text is written to the inbox, which no one else does for the default app. Commands are not
 * stored: they are IT's, and a refused one is noise.
 */
class SmsDeliverReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Telephony.Sms.Intents.SMS_DELIVER_ACTION) return
        val parts = Telephony.Sms.Intents.getMessagesFromIntent(intent) ?: return
        if (parts.isEmpty()) return
        val text = parts.joinToString("") { it.messageBody ?: "" }
        val from = parts[0].displayOriginatingAddress ?: ""
        val sentAt = parts[0].timestampMillis
        val subId = intent.getIntExtra(SubscriptionManager.EXTRA_SUBSCRIPTION_INDEX, SubscriptionManager.INVALID_SUBSCRIPTION_ID)
        val app = context.applicationContext
        val pending = goAsync()
        Work.start("sms-deliver") {
            try {
                if (text.startsWith(SmsCommandReceiver.COMMAND_PREFIX)) {
                    SmsCommandReceiver.applyCommand(app, text)
                } else {
                    SurvivorTexts.deliver(app, from, text, sentAt, subId)
                }
            } finally {
                pending.finish()
            }
        }
    }
}

/**
 * WAP_PUSH_DELIVER (MMS notifications), which the system requires of a default SMS app. Quietline
 * does not download or show MMS (that needs the MMS PDU codec, which is not public API): the
 * advocate is told that a picture or group message arrived and that it cannot be shown here.
 */
class MmsDeliverReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Telephony.Sms.Intents.WAP_PUSH_DELIVER_ACTION) return
        SmsNotices.post(context.applicationContext, SmsNotices.MMS_NOT_SHOWN, MMS_TEXT)
    }

    companion object {
        const val MMS_TEXT = "A picture or group message (MMS) arrived. Quietline cannot show MMS: ask the sender to text instead."
    }
}

/**
 * ACTION_DEFAULT_SMS_PACKAGE_CHANGED, sent to the old and the new default SMS app: when Quietline
 * is no longer the default on a work phone whose policy blocks texts, the owner takes it back.
 */
class DefaultSmsChangedReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Telephony.Sms.Intents.ACTION_DEFAULT_SMS_PACKAGE_CHANGED) return
        if (intent.getBooleanExtra(Telephony.Sms.Intents.EXTRA_IS_DEFAULT_SMS_APP, true)) return
        val app = context.applicationContext
        val pending = goAsync()
        Work.start("sms-default-changed") {
            try {
                SmsRule.enforce(app)
            } finally {
                pending.finish()
            }
        }
    }
}

/**
 * RESPOND_VIA_MESSAGE: the quick replies offered on an incoming call's screen, sent by the default
 * SMS app (`SEND_RESPOND_VIA_MESSAGE` guards it). The agent decides first; a refused reply is not
 * sent and the advocate is told why in a notification (no number).
 */
class RespondViaMessageService : Service() {
    override fun onBind(intent: Intent?): IBinder? = null

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        val number = intent?.takeIf { it.action == TelephonyManager.ACTION_RESPOND_VIA_MESSAGE }?.data?.let(::recipient)
        val body = intent?.getStringExtra(Intent.EXTRA_TEXT)
        if (number.isNullOrEmpty() || body.isNullOrEmpty()) {
            stopSelf(startId)
            return START_NOT_STICKY
        }
        val app = applicationContext
        Work.start("respond-via-message") {
            try {
                when (val r = SmsSend.send(app, number, body)) {
                    is SmsSend.Result.Sent -> {}
                    is SmsSend.Result.Blocked -> SmsNotices.post(app, SmsNotices.QUICK_REPLY_BLOCKED, "Quick reply not sent. " + r.why)
                    is SmsSend.Result.Failed -> SmsNotices.post(app, SmsNotices.QUICK_REPLY_BLOCKED, "Quick reply not sent. " + r.why)
                }
            } finally {
                stopSelf(startId)
            }
        }
        return START_NOT_STICKY
    }

    companion object {
        /** The number of an `sms:`/`smsto:` URI (the scheme-specific part, before any `?body=`). */
        fun recipient(uri: Uri): String? = uri.schemeSpecificPart?.substringBefore('?')?.takeIf { it.isNotBlank() }
    }
}
