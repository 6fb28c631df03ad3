package org.quietline.android

import java.time.Instant
import org.quietline.NotifyKind
import org.quietline.WipeScope

/**
 * The platform calls the agent's actions need, behind one small interface so the mapping from
 * actions to calls ([ActionExecutor]) is tested with a fake as well as on the real framework.
 * [AndroidPlatform] implements it with DevicePolicyManager, the ContentResolver and
 * NotificationManager.
 *
 * How a call reports that it did not happen, which [ActionExecutor] turns into the ack:
 * - [Refused] (and SecurityException): the platform refused or the call had no effect -> Failed,
 *   retried after a backoff and shown to IT;
 * - UnsupportedOperationException: this platform can never do it -> Unsupported, a compliance gap.
 */
interface Platform {
    /** DevicePolicyManager.setMaximumTimeToLock. */
    fun setMaxTimeToLock(millis: Long)

    /** Requires a PIN, password or biometric (password complexity). */
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

    /** Schedules the caller-ID check at [at]. */
    fun scheduleCallerIdCheck(at: Instant)

    /** Removes survivor data the app holds itself (its caches, labels, notifications). */
    fun purgeAppData()

    /**
     * Wipes: [WipeScope.FULL] the whole phone (device owner only), [WipeScope.SELECTIVE] the work
     * profile and the agent's data, never personal data.
     */
    fun wipe(scope: WipeScope)
}

/** The platform refused an action, or the call returned without effect; the reason names no number. */
class Refused(reason: String) : RuntimeException(reason)
