package org.quietline.android

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.admin.DevicePolicyManager
import android.app.job.JobInfo
import android.app.job.JobScheduler
import android.content.ComponentName
import android.content.ContentValues
import android.content.Context
import android.net.Uri
import android.os.Build
import android.provider.CallLog
import android.provider.ContactsContract
import android.telephony.PhoneNumberUtils
import java.time.Instant
import org.quietline.NotifyKind
import org.quietline.WipeScope

/**
 * [Platform] on a real phone. Device owner (work) or profile owner of the work profile (byod):
 * the DevicePolicyManager calls below throw SecurityException when the app holds neither role,
 * which becomes a failed ack.
 */
class AndroidPlatform(private val context: Context) : Platform {
    private val dpm: DevicePolicyManager = context.getSystemService(DevicePolicyManager::class.java)
    private val admin = ComponentName(context, QuietlineAdminReceiver::class.java)

    override fun setMaxTimeToLock(millis: Long) = dpm.setMaximumTimeToLock(admin, millis)

    override fun requireSecureLock() {
        // Medium: a PIN without repeats or sequences, or a password; biometrics ride on top.
        // (minSdk is 31, where complexity replaced the deprecated setPasswordQuality.)
        dpm.setRequiredPasswordComplexity(DevicePolicyManager.PASSWORD_COMPLEXITY_MEDIUM)
    }

    override fun lockNow() = dpm.lockNow()

    override fun setMaxFailedUnlocks(count: Int) = dpm.setMaximumFailedPasswordsForWipe(admin, count)

    override fun deleteCallLog(number: String, since: Instant): Int {
        grantSelf(android.Manifest.permission.WRITE_CALL_LOG)
        val resolver = context.contentResolver
        val ids = mutableListOf<Long>()
        resolver.query(
            CallLog.Calls.CONTENT_URI,
            arrayOf(CallLog.Calls._ID, CallLog.Calls.NUMBER),
            CallLog.Calls.DATE + " >= ?",
            arrayOf(since.toEpochMilli().toString()),
            null,
        )?.use { c ->
            while (c.moveToNext()) {
                // Numbers are stored as dialled; compare loosely rather than by string equality.
                if (PhoneNumberUtils.areSamePhoneNumber(c.getString(1) ?: "", number, "")) ids += c.getLong(0)
            }
        }
        var deleted = 0
        for (id in ids) {
            deleted += resolver.delete(Uri.withAppendedPath(CallLog.Calls.CONTENT_URI, id.toString()), null, null)
        }
        return deleted
    }

    override fun deleteContacts(number: String): Int {
        grantSelf(android.Manifest.permission.WRITE_CONTACTS)
        val resolver = context.contentResolver
        val contactIds = mutableSetOf<Long>()
        val lookup = Uri.withAppendedPath(ContactsContract.PhoneLookup.CONTENT_FILTER_URI, Uri.encode(number))
        resolver.query(lookup, arrayOf(ContactsContract.PhoneLookup.CONTACT_ID), null, null, null)?.use { c ->
            while (c.moveToNext()) contactIds += c.getLong(0)
        }
        var deleted = 0
        for (contactId in contactIds) {
            resolver.query(
                ContactsContract.RawContacts.CONTENT_URI,
                arrayOf(
                    ContactsContract.RawContacts._ID,
                    ContactsContract.RawContacts.ACCOUNT_NAME,
                    ContactsContract.RawContacts.ACCOUNT_TYPE,
                ),
                ContactsContract.RawContacts.CONTACT_ID + " = ?",
                arrayOf(contactId.toString()),
                null,
            )?.use { c ->
                while (c.moveToNext()) {
                    deleted += deleteRawContact(c.getLong(0), c.getString(1), c.getString(2))
                }
            }
        }
        return deleted
    }

    /**
     * Overwrites the raw contact's data rows first (a plain delete only marks the row DELETED=1
     * until the account syncs, leaving the number readable), then deletes it as the sync adapter
     * where it belongs to an account, which removes the row at once.
     */
    private fun deleteRawContact(rawId: Long, accountName: String?, accountType: String?): Int {
        val resolver = context.contentResolver
        val blank = ContentValues().apply {
            put(ContactsContract.Data.DATA1, "")
            put(ContactsContract.Data.DATA2, "")
            put(ContactsContract.Data.DATA3, "")
            put(ContactsContract.Data.DATA4, "")
        }
        resolver.update(ContactsContract.Data.CONTENT_URI, blank, ContactsContract.Data.RAW_CONTACT_ID + " = ?", arrayOf(rawId.toString()))
        var uri = Uri.withAppendedPath(ContactsContract.RawContacts.CONTENT_URI, rawId.toString())
        if (accountName != null && accountType != null) {
            uri = uri.buildUpon()
                .appendQueryParameter(ContactsContract.CALLER_IS_SYNCADAPTER, "true")
                .appendQueryParameter(ContactsContract.RawContacts.ACCOUNT_NAME, accountName)
                .appendQueryParameter(ContactsContract.RawContacts.ACCOUNT_TYPE, accountType)
                .build()
        }
        return resolver.delete(uri, null, null)
    }

    /** On managed phones the app grants itself the runtime permission a deletion needs. */
    private fun grantSelf(permission: String) {
        if (dpm.isDeviceOwnerApp(context.packageName) || dpm.isProfileOwnerApp(context.packageName)) {
            dpm.setPermissionGrantState(admin, context.packageName, permission, DevicePolicyManager.PERMISSION_GRANT_STATE_GRANTED)
        }
    }

    override fun notify(kind: NotifyKind) {
        val nm = context.getSystemService(NotificationManager::class.java)
        nm.createNotificationChannel(NotificationChannel(CHANNEL, "Quietline", NotificationManager.IMPORTANCE_HIGH))
        // Wording is per kind and never names a survivor or a number.
        val n = Notification.Builder(context, CHANNEL)
            .setContentTitle("Quietline")
            .setContentText(Texts.forKind(kind))
            .setSmallIcon(android.R.drawable.ic_dialog_info)
            .build()
        nm.notify(kind.ordinal, n)
    }

    override fun scheduleCallerIdCheck(at: Instant) {
        val js = context.getSystemService(JobScheduler::class.java)
        val delay = (at.toEpochMilli() - System.currentTimeMillis()).coerceAtLeast(0L)
        val job = JobInfo.Builder(CALLER_ID_JOB, ComponentName(context, RelayPollJob::class.java))
            .setMinimumLatency(delay)
            .setPersisted(true)
            .build()
        js.schedule(job)
    }

    override fun purgeAppData() {
        context.getSystemService(NotificationManager::class.java).cancelAll()
        context.cacheDir.listFiles()?.forEach { it.deleteRecursively() }
    }

    override fun wipe(scope: WipeScope) {
        when (scope) {
            // Work phone, device owner: the whole phone.
            WipeScope.FULL ->
                if (Build.VERSION.SDK_INT >= 34) dpm.wipeDevice(0) else dpm.wipeData(0)
            // Personal phone, profile owner: wipeData removes the work profile only.
            WipeScope.SELECTIVE -> dpm.wipeData(0)
        }
    }

    companion object {
        const val CHANNEL = "quietline"
        const val CALLER_ID_JOB = 2
    }
}

/** Advocate-facing wording per notification kind. */
object Texts {
    fun forKind(kind: NotifyKind): String = when (kind) {
        NotifyKind.LOCK_TIMEOUT_TOO_LONG -> "Your screen lock timeout is longer than allowed."
        NotifyKind.SECURE_LOCK_MISSING -> "Set a PIN, password or biometric lock."
        NotifyKind.CALLER_ID_BLOCKING_FAILED -> "Caller ID is no longer hidden. Tell IT before calling clients."
        NotifyKind.OFF_DUTY_POWER_OFF -> "Working hours are over: turn the phone off."
        NotifyKind.OFF_DUTY_SURVIVOR_CALL -> "A client called outside working hours."
        NotifyKind.DROPPED_CALL_WE_CALL_BACK -> "The call dropped. The client asked you to call back."
        NotifyKind.DROPPED_CALL_THEY_CALL_BACK -> "The call dropped. Wait for the client to call back."
        NotifyKind.ACTION_FAILING -> "A safety action keeps failing on this phone. Tell IT."
        NotifyKind.POLICY_STALE -> "The phone's policy has expired. Connect to get a new one."
        NotifyKind.NO_CHECK_IN -> "The phone has not reached your organisation for a while."
        NotifyKind.NO_UNLOCK -> "The phone has not been unlocked for a while."
        NotifyKind.OFFLINE_LOCK_SOON -> "The phone will lock soon unless it connects or is unlocked."
        NotifyKind.OFFLINE_WIPE_SOON -> "The phone will wipe its work data soon unless it connects or is unlocked."
    }
}
