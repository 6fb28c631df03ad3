package org.quietline.android

import java.time.Instant
import org.quietline.NotifyKind
import org.quietline.WipeScope

/**
 * The platform calls the agent's actions need, behind one small interface so the mapping from
 * actions to calls ([ActionExecutor]) is tested on the desktop JVM with a fake.
 * [AndroidPlatform] implements it with DevicePolicyManager, the ContentResolver and
 * NotificationManager. A call that the platform refuses throws (SecurityException on a phone
 * where the app is not device or profile owner); [ActionExecutor] turns that into a failed ack.
 */
interface Platform {
    /** DevicePolicyManager.setMaximumTimeToLock. */
    fun setMaxTimeToLock(millis: Long)

    /** Requires a PIN, password or biometric (password complexity / quality). */
    fun requireSecureLock()

    /** DevicePolicyManager.lockNow. */
    fun lockNow()

    /** DevicePolicyManager.setMaximumFailedPasswordsForWipe. */
    fun setMaxFailedUnlocks(count: Int)

    /** Deletes call-log entries for [number] at or after [since]; returns how many were deleted. */
    fun deleteCallLog(number: String, since: Instant): Int

    /** Overwrites, then deletes, every raw contact holding [number]; returns how many. */
    fun deleteContacts(number: String): Int

    /** Shows the advocate a notification for [kind]. */
    fun notify(kind: NotifyKind)

    /** Schedules the caller-ID check (a test call to a number-echo service) at [at]. */
    fun scheduleCallerIdCheck(at: Instant)

    /** Removes survivor data the app holds itself (its caches, notes, notifications). */
    fun purgeAppData()

    /**
     * Wipes: [WipeScope.FULL] the whole phone (device owner only), [WipeScope.SELECTIVE] the work
     * profile and the agent's data, never personal data.
     */
    fun wipe(scope: WipeScope)
}
