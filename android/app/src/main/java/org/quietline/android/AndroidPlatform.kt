package org.quietline.android

import android.Manifest
import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.ContentValues
import android.content.Context
import android.content.pm.PackageManager
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
 * and a call that returns without effect (a permission grant the system refused, notifications
 * turned off) throws [Refused]: both become failed acks, never Done.
 */
class AndroidPlatform(private val context: Context) : Platform {
    private val dpm: DevicePolicyManager = context.service()
    private val admin = ComponentName(context, QuietlineAdminReceiver::class.java)

    override fun setMaxTimeToLock(millis: Long) {
        dpm.setMaximumTimeToLock(admin, millis)
        // A lower limit set by another admin still wins; a higher one means ours did not apply.
        if (dpm.getMaximumTimeToLock(admin) != millis) throw Refused("the lock timeout did not apply")
    }

    override fun requireSecureLock() {
        // Medium: a PIN without repeats or sequences, or a password; biometrics ride on top.
        // (minSdk is 31, where complexity replaced the deprecated setPasswordQuality.)
        dpm.setRequiredPasswordComplexity(DevicePolicyManager.PASSWORD_COMPLEXITY_MEDIUM)
        if (dpm.requiredPasswordComplexity != DevicePolicyManager.PASSWORD_COMPLEXITY_MEDIUM) {
            throw Refused("the password complexity did not apply")
        }
    }

    override fun lockNow() = dpm.lockNow()

    override fun setMaxFailedUnlocks(count: Int) = dpm.setMaximumFailedPasswordsForWipe(admin, count)

    /**
     * AOSP's CallLogProvider deletes only through `Calls.CONTENT_URI` with a selection (`calls/#`
     * throws "Cannot delete that URL"), and reading the rows needs READ_CALL_LOG besides
     * WRITE_CALL_LOG: a grant covers only the permission it names (Android 8+).
     */
    override fun deleteCallLog(number: String, since: Instant): Int {
        Permissions.require(context, Manifest.permission.READ_CALL_LOG, Manifest.permission.WRITE_CALL_LOG)
        val resolver = context.contentResolver
        val ids = mutableListOf<String>()
        resolver.query(
            CallLog.Calls.CONTENT_URI,
            arrayOf(CallLog.Calls._ID, CallLog.Calls.NUMBER),
            CallLog.Calls.DATE + " >= ?",
            arrayOf(since.toEpochMilli().toString()),
            null,
        )?.use { c ->
            while (c.moveToNext()) {
                // Numbers are stored as dialled; compare loosely rather than by string equality.
                // A call placed with a caller-ID prefix may be logged with it (`*67…`, `#31#…`).
                val logged = withoutCallerIdPrefix(c.getString(1) ?: "")
                if (PhoneNumberUtils.areSamePhoneNumber(logged, number, region())) ids += c.getLong(0).toString()
            }
        } ?: throw Refused("the call log cannot be read")
        if (ids.isEmpty()) return 0
        val placeholders = ids.joinToString(",") { "?" }
        val deleted = resolver.delete(CallLog.Calls.CONTENT_URI, CallLog.Calls._ID + " IN (" + placeholders + ")", ids.toTypedArray())
        if (deleted < ids.size) throw Refused("the call log kept " + (ids.size - deleted) + " of the call's entries")
        return deleted
    }

    private fun region(): String = Enrollment.region(context) ?: ""

    private fun withoutCallerIdPrefix(logged: String): String {
        for (p in CALLER_ID_PREFIXES) if (logged.startsWith(p)) return logged.substring(p.length)
        return logged
    }

    override fun deleteContacts(number: String): Int {
        Permissions.require(context, Manifest.permission.READ_CONTACTS, Manifest.permission.WRITE_CONTACTS)
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

    /** Posted only when the advocate will see it: POST_NOTIFICATIONS (API 33+) held and not blocked. */
    override fun notify(kind: NotifyKind) {
        Permissions.require(context, Manifest.permission.POST_NOTIFICATIONS)
        val nm: NotificationManager = context.service()
        if (!nm.areNotificationsEnabled()) throw Refused("notifications are turned off")
        nm.createNotificationChannel(NotificationChannel(CHANNEL, "Quietline", NotificationManager.IMPORTANCE_HIGH))
        // Wording is per kind and never names a survivor or a number.
        val n = Notification.Builder(context, CHANNEL)
            .setContentTitle("Quietline")
            .setContentText(Texts.forKind(kind))
            .setSmallIcon(android.R.drawable.ic_dialog_info)
            .build()
        nm.notify(kind.ordinal, n)
    }

    /**
     * Android gives an app no way to see the caller ID its own calls present (that needs a call to
     * a number-echo service and someone to read the result), so the check cannot be automated:
     * Unsupported, and compliance tells IT the check is theirs to run.
     */
    override fun scheduleCallerIdCheck(at: Instant) {
        throw UnsupportedOperationException("an app cannot observe the caller ID its calls present")
    }

    override fun purgeAppData() {
        context.getSystemService(NotificationManager::class.java)?.cancelAll()
        Survivors.forgetLabels(context)
        context.cacheDir.listFiles()?.forEach { it.deleteRecursively() }
    }

    override fun wipe(scope: WipeScope) {
        when (scope) {
            // Work phone, device owner: the whole phone.
            WipeScope.FULL -> {
                if (!dpm.isDeviceOwnerApp(context.packageName)) throw Refused("a full wipe needs the device owner")
                if (Build.VERSION.SDK_INT >= 34) dpm.wipeDevice(0) else dpm.wipeData(0)
            }
            // Personal phone, profile owner: wipeData removes the work profile only.
            WipeScope.SELECTIVE -> {
                if (!dpm.isProfileOwnerApp(context.packageName) || dpm.isDeviceOwnerApp(context.packageName)) {
                    // On a work phone a selective wipe is the agent's own crypto-erase (done already).
                    if (dpm.isDeviceOwnerApp(context.packageName)) return
                    throw Refused("a selective wipe needs the work profile's owner")
                }
                dpm.wipeData(0)
            }
        }
    }

    companion object {
        const val CHANNEL = "quietline"

        /** Per-call caller-ID prefixes (North American plan, GSM). */
        val CALLER_ID_PREFIXES = listOf("*67", "#31#", "*31#")
    }
}

/**
 * Runtime permissions the actions need. On a managed phone the app grants them to itself with
 * `setPermissionGrantState` and checks both its return value and the result: call-log and SMS
 * permissions are hard-restricted (Android 10+), and the system may refuse the grant.
 */
object Permissions {
    /** What the agent needs on a work phone (device owner) and a work profile (profile owner). */
    val MANAGED = listOf(
        Manifest.permission.READ_PHONE_STATE,
        Manifest.permission.READ_CALL_LOG,
        Manifest.permission.WRITE_CALL_LOG,
        Manifest.permission.READ_CONTACTS,
        Manifest.permission.WRITE_CONTACTS,
        Manifest.permission.RECEIVE_SMS,
        Manifest.permission.CALL_PHONE,
        Manifest.permission.POST_NOTIFICATIONS,
    )

    /** Grants what it can (as owner) and returns the permissions still not held. */
    fun grantManaged(context: Context): List<String> = MANAGED.filterNot { ensure(context, it) }

    /** Throws [Refused] unless every permission is held (granting it first as owner). */
    fun require(context: Context, vararg permissions: String) {
        val missing = permissions.filterNot { ensure(context, it) }
        if (missing.isNotEmpty()) throw Refused("permission not granted: " + missing.joinToString { it.substringAfterLast('.') })
    }

    private fun held(context: Context, permission: String) =
        context.checkSelfPermission(permission) == PackageManager.PERMISSION_GRANTED

    private fun ensure(context: Context, permission: String): Boolean {
        if (held(context, permission)) return true
        val dpm = context.getSystemService(DevicePolicyManager::class.java) ?: return false
        val pkg = context.packageName
        if (!dpm.isDeviceOwnerApp(pkg) && !dpm.isProfileOwnerApp(pkg)) return false
        val admin = ComponentName(context, QuietlineAdminReceiver::class.java)
        val accepted = dpm.setPermissionGrantState(admin, pkg, permission, DevicePolicyManager.PERMISSION_GRANT_STATE_GRANTED)
        return accepted && held(context, permission)
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
