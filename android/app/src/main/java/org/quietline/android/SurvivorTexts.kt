package org.quietline.android

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.provider.Telephony
import org.quietline.ApiException
import org.quietline.TextDirection

/**
 * Texts from and to registered survivors on a work phone, where Quietline is the default SMS app
 * and so the one app that writes the SMS provider. The provider (`content://sms`) is readable by
 * every app holding READ_SMS and keeps a text until someone deletes it, so a survivor's text never
 * goes there: the agent holds it, encrypted with the rest of its state, until
 * `retention.survivor_text_hours` (rules 3, 4 and 8). [MessagesActivity] shows held texts as "a
 * client (number hidden)", and replies go through the agent ([SmsSend.reply]).
 *
 * When the agent cannot be opened to check a sender (a damaged state, a key store that fails
 * after the first unlock; before it, the system does not deliver SMS to an app that is not
 * direct-boot aware), the text is kept in this process's memory only and checked again at the
 * next unlock ([retryPending]); the advocate is told, without the number or the text. It is never
 * written to the provider unchecked. With no agent at all (not enrolled) nobody is registered, and
 * texts go to the provider as usual.
 */
object SurvivorTexts {
    /** The notification for a held text: fixed words, no number, no body (the system keeps notification history). */
    const val ARRIVED = "A text from a client arrived. Open Quietline's messages to read it."

    /** A survivor's text that the agent refused to hold (full, too long): lost, and the advocate is told why. */
    const val NOT_KEPT = "A text from a client could not be kept: "

    /** The agent could not be opened to check a sender. */
    const val UNCHECKED = "A text arrived that Quietline cannot check yet. It is shown after the phone is unlocked, and lost if the phone restarts first."

    /** A text waiting in memory for the agent. */
    private class Pending(val from: String, val body: String, val sentAt: Long, val subId: Int)

    private val pending = mutableListOf<Pending>()

    /** How many texts wait in memory for the agent (for the advocate's screen and tests). */
    @Synchronized
    fun pendingCount(): Int = pending.size

    /** An incoming text that is not IT's command: held when a survivor sent it, else into the inbox. */
    fun deliver(context: Context, from: String, body: String, sentAt: Long, subId: Int) {
        val app = context.applicationContext
        val agent = try {
            Quietline.agent(app)
        } catch (e: ApiException.NotInitialized) {
            Inbox.store(app, from, body, sentAt, subId) // no agent, so no survivor is registered
            return
        } catch (e: ApiException) {
            synchronized(this) { pending += Pending(from, body, sentAt, subId) }
            SmsNotices.post(app, SmsNotices.TEXT_UNCHECKED, UNCHECKED)
            return
        }
        val held = try {
            agent.holdText(from, TextDirection.INCOMING, body)
        } catch (e: ApiException.InvalidNumber) {
            null // a sender name (BANK) or a malformed address: the registry holds only numbers
        } catch (e: ApiException) {
            SmsNotices.post(app, SmsNotices.SURVIVOR_TEXT, NOT_KEPT + reason(e))
            return
        }
        if (held != null) {
            SmsNotices.post(app, SmsNotices.SURVIVOR_TEXT, ARRIVED)
        } else {
            Inbox.store(app, from, body, sentAt, subId)
        }
    }

    /** Checks again the texts that waited for the agent (after an unlock); they stay if it still cannot open. */
    fun retryPending(context: Context) {
        val waiting = synchronized(this) { pending.toList().also { pending.clear() } }
        for (p in waiting) deliver(context, p.from, p.body, p.sentAt, p.subId)
    }

    /** Forgets texts waiting in memory (tests, and a wipe). */
    @Synchronized
    fun forgetPending() = pending.clear()

    /** What became of the provider rows of survivors' numbers. */
    data class Cleanup(
        /** Rows the provider deleted. */
        val deleted: Int,
        /** Rows still there after the attempt (the provider refused: not the default SMS app, no permission). */
        val failed: Int,
    )

    /**
     * Deletes the provider rows whose address the agent knows as a survivor's (after a survivor is
     * registered: texts that arrived before). AOSP's `SmsProvider.delete()` takes `content://sms`
     * with a selection (the `SMS_ALL` match: `db.delete(TABLE_SMS, where, whereArgs)`) and
     * returns the count; a caller without the WRITE_SMS app-op, which only the default SMS app
     * holds, gets 0 and nothing is deleted (the write check of `ContentProvider`'s transport). So each row is
     * deleted by id and the rows are read back: what is still there is reported as failed.
     */
    fun removeFromProvider(context: Context): Cleanup {
        val app = context.applicationContext
        val ids = survivorRows(app) ?: return Cleanup(0, 0)
        var deleted = 0
        for (id in ids) {
            deleted += try {
                app.contentResolver.delete(Telephony.Sms.CONTENT_URI, Telephony.Sms._ID + " = ?", arrayOf(id.toString()))
            } catch (e: SecurityException) {
                0
            } catch (e: IllegalArgumentException) {
                0
            }
        }
        val left = survivorRows(app)?.count { it in ids } ?: ids.size
        return Cleanup(deleted = ids.size - left, failed = left)
    }

    /** The ids of provider rows with a survivor's number; null when the provider or the agent cannot be read. */
    private fun survivorRows(context: Context): List<Long>? {
        if (context.checkSelfPermission(Manifest.permission.READ_SMS) != PackageManager.PERMISSION_GRANTED) return null
        val agent = try {
            Quietline.agent(context)
        } catch (e: ApiException) {
            return null
        }
        val cursor = try {
            context.contentResolver.query(Telephony.Sms.CONTENT_URI, arrayOf(Telephony.Sms._ID, Telephony.Sms.ADDRESS), null, null, null)
        } catch (e: SecurityException) {
            null
        } catch (e: IllegalArgumentException) {
            null
        } ?: return null
        val verdicts = HashMap<String, Boolean>()
        val out = mutableListOf<Long>()
        cursor.use { c ->
            while (c.moveToNext()) {
                val address = c.getString(1) ?: continue
                val survivor = verdicts.getOrPut(address) { Inbox.isSurvivor(agent, address) }
                if (survivor) out += c.getLong(0)
            }
        }
        return out
    }

    /** The advocate's words for why a text was not kept (the agent's reasons never hold a number). */
    fun reason(e: ApiException): String = when (e) {
        is ApiException.WrongState -> "too many texts are held; discard some."
        is ApiException.InvalidInput -> "it is too long."
        else -> EnrollActivity.describe(e)
    }
}
