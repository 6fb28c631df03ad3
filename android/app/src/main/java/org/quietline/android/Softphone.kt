package org.quietline.android

import android.content.ActivityNotFoundException
import android.content.Context
import android.content.Intent
import android.content.RestrictionsManager
import android.content.pm.PackageManager
import android.net.Uri

/**
 * BYOD helpline calls handed to the organisation's softphone, the Android twin of the iOS app's
 * `SoftphoneHandoff`. A work profile has no media path of its own for a helpline call (the
 * self-managed [SelfManagedCalls] account carries a call only when the organisation links its
 * own VoIP stack into the app), and the personal dialer would show the advocate's number and log
 * the survivor's in the personal call log. So IT names a calling app installed in the work
 * profile, which places the call over the organisation's VoIP service with the helpline's number.
 *
 * IT sets it in the app's managed configuration (`res/xml/app_restrictions.xml`, read with
 * `RestrictionsManager.getApplicationRestrictions()`):
 * - `softphoneCallUri`: a URI template with exactly one `{number}`, such as
 *   `acmevoice://call?to={number}`; schemes the platform or another app would turn into a plain
 *   cellular call, a text or a web page (`tel`, `sip`, `voicemail`, `sms`, `http`, …) are refused;
 * - `softphonePackage` (optional): the calling app's package; the intent is then limited to it.
 *
 * The hand-off runs only for a call the agent allowed (after the advocate confirmed a warning),
 * with the agent's dial string. The intent must resolve to an activity inside the work profile:
 * when nothing there handles it, or it resolves to the system's cross-profile forwarder or to a
 * chooser, the call is refused with the reason and never falls back to the personal dialer.
 *
 * What the hand-off cannot guarantee: whether the softphone hides anything, keeps the number in
 * its own history or writes to the system call log is the softphone's own behaviour (a
 * self-managed ConnectionService app stays out of the call log unless it opts in); IT chooses a
 * calling app that does what the policy asks, as on iOS.
 */
class Softphone private constructor(private val template: String, val packageName: String?) {
    /**
     * The intent that asks the softphone to call [dialString] (the agent's dial string): digits,
     * `+`, `*` and `#` only, percent-encoded into the template. Null when nothing is left to dial.
     * Holds the number: kept in memory, handed to the softphone, never logged.
     */
    fun intent(dialString: String): Intent? {
        val dial = dialString.filter { it in '0'..'9' || it == '+' || it == '*' || it == '#' }
        if (dial.none { it in '0'..'9' }) return null
        val uri = Uri.parse(template.replace(PLACEHOLDER, Uri.encode(dial)))
        return Intent(Intent.ACTION_VIEW, uri).apply { packageName?.let { setPackage(it) } }
    }

    /** What IT configured: nothing, something unusable (with why), or a softphone. */
    sealed class Config {
        /** No `softphoneCallUri` in the managed configuration. */
        object None : Config()

        /** A `softphoneCallUri` or `softphonePackage` the app will not use, and why. */
        class Invalid(val reason: String) : Config()

        /** A usable softphone. */
        class Ready(val softphone: Softphone) : Config()
    }

    /** What a hand-off came to. */
    sealed class HandOff {
        /** The softphone's activity was started with the dial string ([intent] is explicit). */
        class Started(val intent: Intent) : HandOff()

        /** Not handed off (nothing was dialled); [reason] is for the advocate. */
        class Refused(val reason: String) : HandOff()
    }

    companion object {
        /** The managed-configuration key of the URI template. */
        const val KEY_CALL_URI = "softphoneCallUri"

        /** The managed-configuration key of the softphone's package (optional). */
        const val KEY_PACKAGE = "softphonePackage"

        /** Where the dial string goes in the template. */
        const val PLACEHOLDER = "{number}"

        /**
         * Schemes that would not reach a work-profile softphone: `tel`, `sip` and `voicemail` are
         * forwarded to the personal profile's dialer when nothing in the profile handles them
         * (AOSP DefaultCrossProfileIntentFiltersUtils, DIAL_DATA), SMS schemes always are
         * (SMS_MMS), web and mail schemes open other apps, and `intent`/`content`/`file` are not
         * calling-app links at all.
         */
        private val REFUSED_SCHEMES = setOf(
            "tel", "sip", "sips", "voicemail", "sms", "smsto", "mms", "mmsto", "http", "https", "mailto",
            "intent", "content", "file", "javascript", "market", "android-app",
        )

        /** The package of the system's cross-profile forwarder and chooser (IntentForwarderActivity, ResolverActivity). */
        private const val SYSTEM_PACKAGE = "android"

        /** Shown when IT set no calling app: the call is not placed. */
        const val NOT_CONFIGURED = "This call must go through your organisation's calling app, and IT has not set one up on this phone " +
            "(managed configuration softphoneCallUri). The call was not placed, so your number was not shown."

        /** Shown when the calling app is not installed in the work profile. */
        const val NOT_INSTALLED = "The organisation's calling app is not installed in your work profile. Ask IT to install it there. " +
            "The call was not placed, so your number was not shown."

        /** Shown when the hand-off would leave the work profile or ask which app to use. */
        const val LEAVES_PROFILE = "The organisation's calling app could not be reached inside your work profile (the call would have left it). " +
            "Ask IT to set softphonePackage. The call was not placed."

        /** Whether [template] and [pkg] make a usable softphone; [Config.Invalid] says why not. */
        fun parse(template: String, pkg: String?): Config {
            if (template.split(PLACEHOLDER).size != 2) return Config.Invalid("IT's softphoneCallUri must contain {number} exactly once.")
            val sample = Uri.parse(template.replace(PLACEHOLDER, "0"))
            val scheme = sample.scheme?.lowercase()
                ?: return Config.Invalid("IT's softphoneCallUri is not a URI with a scheme.")
            if (scheme in REFUSED_SCHEMES) {
                return Config.Invalid("IT's softphoneCallUri uses \"$scheme:\", which would not stay in the organisation's calling app.")
            }
            if (pkg != null && !Regex("[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z][A-Za-z0-9_]*)+").matches(pkg)) {
                return Config.Invalid("IT's softphonePackage is not a package name.")
            }
            return Config.Ready(Softphone(template, pkg))
        }

        /** The softphone IT configured in this app's managed configuration. */
        fun configured(context: Context): Config {
            val rm = context.getSystemService(RestrictionsManager::class.java) ?: return Config.None
            val restrictions = rm.applicationRestrictions ?: return Config.None
            val template = restrictions.getString(KEY_CALL_URI)?.trim()
            if (template.isNullOrEmpty()) return Config.None
            val pkg = restrictions.getString(KEY_PACKAGE)?.trim()?.ifEmpty { null }
            return parse(template, pkg)
        }

        /**
         * Hands a call the agent allowed to the softphone: builds the intent, checks that it
         * resolves to the configured app inside this profile, makes it explicit to that activity
         * and starts it. Anything else is [HandOff.Refused] with the reason; nothing is dialled.
         */
        fun handOff(context: Context, dialString: String): HandOff {
            val softphone = when (val c = configured(context)) {
                is Config.None -> return HandOff.Refused(NOT_CONFIGURED)
                is Config.Invalid -> return HandOff.Refused(c.reason + " The call was not placed.")
                is Config.Ready -> c.softphone
            }
            val intent = softphone.intent(dialString) ?: return HandOff.Refused("This number cannot be dialled.")
            val target = context.packageManager.resolveActivity(intent, PackageManager.MATCH_DEFAULT_ONLY)?.activityInfo
                ?: return HandOff.Refused(NOT_INSTALLED)
            val wanted = softphone.packageName
            if (target.packageName == SYSTEM_PACKAGE || (wanted != null && target.packageName != wanted)) {
                return HandOff.Refused(LEAVES_PROFILE)
            }
            intent.setClassName(target.packageName, target.name)
            return try {
                context.startActivity(intent)
                HandOff.Started(intent)
            } catch (e: ActivityNotFoundException) {
                HandOff.Refused(NOT_INSTALLED)
            } catch (e: SecurityException) {
                HandOff.Refused("The organisation's calling app did not accept the call. The call was not placed.")
            }
        }
    }
}
