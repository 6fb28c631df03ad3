package org.quietline.android

import android.app.KeyguardManager
import android.app.admin.DevicePolicyManager
import android.content.Context
import android.provider.Settings
import java.io.File
import java.io.IOException
import org.quietline.Event

/**
 * What the phone's lock really is, reported to the agent as `Event.Posture` (rule 1), which
 * turns a shortfall into compliance findings (also in the check-in IT sees) and the actions
 * that restore it:
 * - the lock timeout: the screen-off timeout the user chose (`Settings.System.SCREEN_OFF_TIMEOUT`),
 *   capped by the maximum time to lock every admin set (`DevicePolicyManager.getMaximumTimeToLock(null)`,
 *   which the system enforces over the user's setting);
 * - a secure lock: `KeyguardManager.isDeviceSecure` (a PIN, pattern or password is set);
 * - caller-ID blocking: never observed here (an app cannot see the caller ID its calls
 *   present), so left out and the agent keeps what it knew.
 *
 * Reported at every unlock ([UnlockReceiver], [QuietlineAdminReceiver]) and process start
 * ([QuietlineApp]) with [report], and by the periodic job when it changed ([reportIfChanged]).
 *
 * The same moments re-apply rule 3 on work phones ([SmsRule.enforce]: default SMS app, SEND_SMS
 * denied to other apps), so a default changed in Settings or an app installed while the process
 * was not running is caught at the next unlock, start or job; and report what of rules 2 and 3
 * stays unenforced ([RuleGaps]), which the check-in carries to IT.
 */
object Posture {
    /** The posture as the platform shows it now. */
    fun observe(context: Context): Event.Posture {
        val screenOffMs = try {
            Settings.System.getInt(context.contentResolver, Settings.System.SCREEN_OFF_TIMEOUT).toLong()
        } catch (e: Settings.SettingNotFoundException) {
            null
        }
        val dpm: DevicePolicyManager? = context.getSystemService(DevicePolicyManager::class.java)
        val cap = dpm?.getMaximumTimeToLock(null)?.takeIf { it > 0 }
        val effectiveMs = listOfNotNull(screenOffMs?.takeIf { it > 0 }, cap).minOrNull()
        val lockSecs = effectiveMs?.let { ((it + 999) / 1000).coerceAtMost(UInt.MAX_VALUE.toLong()).toUInt() }
        val km: KeyguardManager? = context.getSystemService(KeyguardManager::class.java)
        return Event.Posture(lockSecs, km?.isDeviceSecure, null)
    }

    /** Reports the posture to the agent and carries out what it asks; never throws. */
    fun report(context: Context) {
        SmsRule.enforce(context)
        val now = observe(context)
        if (Quietline.handle(context, now) != null) remember(context, now)
        RuleGaps.report(context)
    }

    /** Reports the posture only when it differs from the last one reported (the periodic job). */
    fun reportIfChanged(context: Context) {
        SmsRule.enforce(context)
        RuleGaps.report(context) // a default SMS app changed in Settings, a softphone configured
        val now = observe(context)
        val last = try {
            file(context).readText()
        } catch (e: IOException) {
            null
        }
        if (last == key(now)) return
        if (Quietline.handle(context, now) != null) remember(context, now)
    }

    private fun remember(context: Context, p: Event.Posture) {
        try {
            file(context).writeText(key(p))
        } catch (e: IOException) {
            // Reported again at the next run: harmless.
        }
    }

    private fun key(p: Event.Posture): String = "${p.lockTimeoutSecs} ${p.secureLock}"

    private fun file(context: Context): File = File(context.noBackupFilesDir, "posture-last")
}
