package org.quietline.android

import android.Manifest
import android.app.admin.DevicePolicyManager
import android.content.BroadcastReceiver
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.PackageInfo
import android.content.pm.PackageManager
import android.os.Build
import android.provider.Telephony
import org.quietline.ApiException
import org.quietline.Mode

/**
 * Rule 3 (no texts to survivors) on a work phone, as far as Android lets a device owner go, and
 * rule 8 for texts: a survivor's text is held by the agent, never written to the SMS provider
 * ([SurvivorTexts]), which needs Quietline to be the SMS app. So on every work phone, whether
 * the policy blocks texts to survivors (`sms.block_to_survivors`, the default) or allows them:
 * - Quietline becomes the default SMS app (`DevicePolicyManager.setDefaultSmsApplication`, API 29+,
 *   device owner or the owner of an organisation-owned profile). The system then sends every
 *   `sms:`/`smsto:` compose intent and the in-call quick replies to Quietline, which asks the agent
 *   first ([SmsSend]); AOSP's `SmsApplication.setDefaultApplicationInternal` changes nothing, and
 *   says nothing, unless the package declares all four SMS components, so the result is read back
 *   ([isDefaultSmsApp]) and never assumed.
 * - Every other installed package that asks for `SEND_SMS` has it denied by the owner
 *   (`setPermissionGrantState(…, PERMISSION_GRANT_STATE_DENIED)`), unless it is denied already
 *   (grant state and permission read back); packages installed later are
 *   denied as `ACTION_PACKAGE_ADDED` arrives (while the process runs) and at the next start,
 *   unlock or periodic job. AOSP's PermissionController skips a permission the system fixed
 *   (`group.isSystemFixed()`) and still reports success, so each denial is checked with
 *   `PackageManager.checkPermission` and a package that still holds `SEND_SMS` is named on the
 *   compliance screen ([otherSenders]).
 *
 * Out of reach (docs/platforms.md row 3): the system's own senders, to which AOSP gives the SMS
 * app-ops whoever the default is (the phone process, Bluetooth message access for a paired car or
 * computer, the MMS service); messengers that do not use SMS.
 *
 * On `byod` nothing here runs: SMS belongs to the personal profile, which the work profile's owner
 * cannot reach, and the advocate is told instead ([AdvocateActivity.OTHER_APPS_TEXTS]).
 */
object SmsRule {
    /** What the phone enforces of rule 3 now, as the compliance screen shows it. */
    data class State(
        /** The app is device owner and the policy blocks texts to survivors. */
        val asked: Boolean,
        /** Quietline is the default SMS app (read back from the system). */
        val defaultApp: Boolean,
        /** Other packages that still hold SEND_SMS (the system refused or skipped the denial). */
        val stillSending: List<String>,
    ) {
        /** True when the compose intents and every other installed app's SEND_SMS are covered. */
        val enforced: Boolean get() = asked && defaultApp && stillSending.isEmpty()
    }

    @Volatile private var watching: BroadcastReceiver? = null
    @Volatile private var watchingIn: Context? = null

    /** Whether this phone is a work phone (device owner) on which rule 3 and the texts' rule 8 are enforced. */
    fun asked(context: Context): Boolean = policyAsks(context) == true

    /**
     * True on a work phone whose agent opens (false on any other phone); null when the
     * agent cannot be opened (not enrolled, key store locked before the first unlock), so nothing
     * is changed on a guess: tried again at the next start, unlock or job.
     */
    private fun policyAsks(context: Context): Boolean? {
        val dpm = context.getSystemService(DevicePolicyManager::class.java) ?: return false
        if (!dpm.isDeviceOwnerApp(context.packageName)) return false
        return try {
            // Whatever `sms.block_to_survivors` says: a work phone's survivor texts are kept out of
            // the SMS provider only while Quietline is the default SMS app and other apps cannot
            // send (the system writes another app's sent text to the provider itself).
            Quietline.agent(context).compliance().mode == Mode.WORK
        } catch (e: ApiException) {
            null
        }
    }

    /**
     * Makes the phone enforce rule 3 as far as it can (work phones whose policy asks for it), or
     * gives back what an earlier policy denied when the policy no longer asks. Never throws for
     * what the platform refuses: the returned state says what took effect.
     */
    fun enforce(context: Context): State {
        val app = context.applicationContext
        when (policyAsks(app)) {
            null -> return state(app) // the policy cannot be read now: keep what is in force
            false -> {
                release(app)
                return State(asked = false, defaultApp = isDefaultSmsApp(app), stillSending = emptyList())
            }
            true -> {}
        }
        val dpm: DevicePolicyManager = app.service()
        if (!isDefaultSmsApp(app)) {
            try {
                dpm.setDefaultSmsApplication(admin(app), app.packageName)
            } catch (e: SecurityException) {
                // Not owner after all (a race with de-provisioning): read back below.
            }
        }
        for (pkg in otherSenders(app)) if (!denied(app, pkg)) deny(app, pkg)
        watchInstalls(app)
        return state(app)
    }

    /** What is enforced now, without changing anything (the compliance screen). */
    fun state(context: Context): State {
        val asked = asked(context)
        val pm = context.packageManager
        val still = if (asked) otherSenders(context).filter { pm.checkPermission(Manifest.permission.SEND_SMS, it) == PackageManager.PERMISSION_GRANTED } else emptyList()
        return State(asked, isDefaultSmsApp(context), still)
    }

    /** Whether the system delivers SMS to Quietline and sends compose intents to it. */
    fun isDefaultSmsApp(context: Context): Boolean = Telephony.Sms.getDefaultSmsPackage(context) == context.packageName

    /** Installed packages other than Quietline that request SEND_SMS. */
    fun otherSenders(context: Context): List<String> =
        installed(context).filter { it.packageName != context.packageName && it.requestedPermissions?.contains(Manifest.permission.SEND_SMS) == true }
            .map { it.packageName }

    /**
     * Denies [pkg] SEND_SMS as owner; true only when the system accepted the denial and the
     * package no longer holds the permission (a system-fixed grant is skipped yet reported as set).
     */
    fun deny(context: Context, pkg: String): Boolean {
        val dpm = context.getSystemService(DevicePolicyManager::class.java) ?: return false
        val accepted = try {
            dpm.setPermissionGrantState(admin(context), pkg, Manifest.permission.SEND_SMS, DevicePolicyManager.PERMISSION_GRANT_STATE_DENIED)
        } catch (e: SecurityException) {
            false
        }
        return accepted && context.packageManager.checkPermission(Manifest.permission.SEND_SMS, pkg) != PackageManager.PERMISSION_GRANTED
    }

    /**
     * Whether [pkg]'s SEND_SMS is already denied by the owner and not held (both read back), so
     * that each unlock acts only on what changed: a new package, or a grant that came back.
     */
    private fun denied(context: Context, pkg: String): Boolean {
        val dpm = context.getSystemService(DevicePolicyManager::class.java) ?: return false
        val state = try {
            dpm.getPermissionGrantState(admin(context), pkg, Manifest.permission.SEND_SMS)
        } catch (e: SecurityException) {
            return false
        }
        return state == DevicePolicyManager.PERMISSION_GRANT_STATE_DENIED &&
            context.packageManager.checkPermission(Manifest.permission.SEND_SMS, pkg) != PackageManager.PERMISSION_GRANTED
    }

    /** A policy that no longer blocks texts: the denials Quietline set are lifted (the user decides again). */
    private fun release(context: Context) {
        val dpm = context.getSystemService(DevicePolicyManager::class.java) ?: return
        if (!dpm.isDeviceOwnerApp(context.packageName)) return
        for (pkg in otherSenders(context)) {
            try {
                if (dpm.getPermissionGrantState(admin(context), pkg, Manifest.permission.SEND_SMS) == DevicePolicyManager.PERMISSION_GRANT_STATE_DENIED) {
                    dpm.setPermissionGrantState(admin(context), pkg, Manifest.permission.SEND_SMS, DevicePolicyManager.PERMISSION_GRANT_STATE_DEFAULT)
                }
            } catch (e: SecurityException) {
                return // no longer owner: nothing of ours to give back
            }
        }
    }

    /**
     * `ACTION_PACKAGE_ADDED` is not among the implicit broadcasts a manifest receiver still gets
     * (Android 8+), so it is registered here for the life of the process; a package installed
     * while the process was not running is caught by the next [enforce] (start, unlock, job).
     */
    @Synchronized
    private fun watchInstalls(context: Context) {
        val app = context.applicationContext
        if (watching != null && watchingIn === app) return
        val receiver = PackageAddedReceiver()
        val filter = IntentFilter(Intent.ACTION_PACKAGE_ADDED).apply { addDataScheme("package") }
        app.registerReceiver(receiver, filter, Context.RECEIVER_NOT_EXPORTED)
        watching = receiver
        watchingIn = app
    }

    /** A package just installed: denied SEND_SMS at once when it asks for it and the policy blocks texts. */
    class PackageAddedReceiver : BroadcastReceiver() {
        override fun onReceive(context: Context, intent: Intent) {
            if (intent.action != Intent.ACTION_PACKAGE_ADDED) return
            val pkg = intent.data?.schemeSpecificPart ?: return
            val app = context.applicationContext
            val pending = goAsync()
            Work.start("sms-package-added") {
                try {
                    if (pkg in otherSenders(app) && asked(app)) deny(app, pkg)
                } finally {
                    pending.finish()
                }
            }
        }
    }

    private fun admin(context: Context) = ComponentName(context, QuietlineAdminReceiver::class.java)

    private fun installed(context: Context): List<PackageInfo> {
        val pm = context.packageManager
        return if (Build.VERSION.SDK_INT >= 33) {
            pm.getInstalledPackages(PackageManager.PackageInfoFlags.of(PackageManager.GET_PERMISSIONS.toLong()))
        } else {
            @Suppress("DEPRECATION")
            pm.getInstalledPackages(PackageManager.GET_PERMISSIONS)
        }
    }
}
