package org.quietline.android

import android.content.ActivityNotFoundException
import android.content.Context
import android.content.Intent
import android.content.RestrictionsManager
import android.content.pm.PackageManager
import android.net.Uri
import org.quietline.ApiException
import org.quietline.SoftphoneSettings
import org.quietline.checkSoftphone
import org.quietline.softphoneCallUri

/**
 * BYOD helpline calls handed to the organisation's softphone, the Android twin of the iOS app's
 * `SoftphoneHandoff`. A work profile has no media path of its own for a helpline call (the
 * self-managed [SelfManagedCalls] account carries a call only when the organisation links its
 * own VoIP stack into the app), and the personal dialer would show the advocate's number and log
 * the survivor's in the personal call log. So IT names a calling app installed in the work
 * profile, which places the call over the organisation's VoIP service with the helpline's number.
 *
 * Where IT names it ([Source]), first found first used:
 * 1. the signed policy, `caller_id.softphone` (`Agent.softphone()`): `call_uri`, a URI template
 *    with exactly one `{number}` such as `acmevoice://call?to={number}`, and `android_package`.
 *    This is how it reaches a work profile that Quietline owns (provisioned with
 *    ACTION_PROVISION_MANAGED_PROFILE), where nobody else writes the app's managed configuration;
 *    only the organisation's root key can set or change it;
 * 2. only when the policy names none, the app's managed configuration (`res/xml/app_restrictions.xml`,
 *    read with `RestrictionsManager.getApplicationRestrictions()`), which an EMM that owns the
 *    profile writes: `softphoneCallUri` and, optionally, `softphonePackage`.
 * Both are held to the same rules, the core's (`checkSoftphone`): schemes the platform or another
 * app would turn into a plain cellular call, a text or a web page (`tel`, `sip`, `voicemail`,
 * `sms`, `http`, …) are refused.
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
class Softphone private constructor(private val settings: SoftphoneSettings, val source: Source) {
    /** The calling app's package, when IT named one: the hand-off goes only to it. */
    val packageName: String? get() = settings.androidPackage

    /**
     * The intent that asks the softphone to call [dialString] (the agent's dial string): digits,
     * `+`, `*` and `#` only, percent-encoded into the template by the core (`softphoneCallUri`).
     * Null when nothing is left to dial. Holds the number: kept in memory, handed to the
     * softphone, never logged.
     */
    fun intent(dialString: String): Intent? {
        val uri = softphoneCallUri(settings, dialString) ?: return null
        return Intent(Intent.ACTION_VIEW, Uri.parse(uri)).apply { packageName?.let { setPackage(it) } }
    }

    /** Where IT named the softphone. */
    enum class Source(val label: String) {
        /** `caller_id.softphone` in the signed policy. */
        POLICY("named in IT's signed policy"),

        /** `softphoneCallUri` in the app's managed configuration (an EMM), when the policy names none. */
        MANAGED_CONFIGURATION("set in the managed configuration"),
    }

    /** What IT configured: nothing, something unusable (with why), or a softphone. */
    sealed class Config {
        /** No `softphoneCallUri` in the managed configuration. */
        object None : Config()

        /** A softphone setting the app will not use, and why ([source] says whose). */
        class Invalid(val reason: String, val source: Source) : Config()

        /** A usable softphone. */
        class Ready(val softphone: Softphone) : Config()
    }

    /** What a hand-off came to. */
    sealed class HandOff {
        /** The softphone's activity was started with the dial string ([intent] is explicit). */
        class Started(val intent: Intent, val source: Source) : HandOff()

        /** Not handed off (nothing was dialled); [reason] is for the advocate. */
        class Refused(val reason: String) : HandOff()
    }

    companion object {
        /** The managed-configuration key of the URI template. */
        const val KEY_CALL_URI = "softphoneCallUri"

        /** The managed-configuration key of the softphone's package (optional). */
        const val KEY_PACKAGE = "softphonePackage"

        /** The package of the system's cross-profile forwarder and chooser (IntentForwarderActivity, ResolverActivity). */
        private const val SYSTEM_PACKAGE = "android"

        /** Shown when IT set no calling app: the call is not placed. */
        const val NOT_CONFIGURED = "This call must go through your organisation's calling app, and IT has not named one for this phone " +
            "(policy caller_id.softphone, or managed configuration softphoneCallUri). The call was not placed, so your number was not shown."

        /** Shown when the calling app is not installed in the work profile. */
        const val NOT_INSTALLED = "The organisation's calling app is not installed in your work profile. Ask IT to install it there. " +
            "The call was not placed, so your number was not shown."

        /** Shown when the hand-off would leave the work profile or ask which app to use. */
        const val LEAVES_PROFILE = "The organisation's calling app could not be reached inside your work profile (the call would have left it). " +
            "Ask IT to name its Android package. The call was not placed."

        /**
         * Whether [template] and [pkg] make a usable softphone by the core's rules (the ones a
         * policy's `caller_id.softphone` follows); [Config.Invalid] says why not, in the words of
         * [source]'s settings.
         */
        fun parse(template: String, pkg: String?, source: Source = Source.MANAGED_CONFIGURATION): Config =
            try {
                Config.Ready(Softphone(checkSoftphone(template, pkg), source))
            } catch (e: ApiException) {
                // "call_uri: uses \"tel:\", which …": the setting, then why.
                val why = (e as? ApiException.InvalidInput)?.reason ?: e.message.orEmpty()
                val field = why.substringBefore(": ")
                val name = when (source) {
                    Source.POLICY -> "policy's caller_id.softphone.$field"
                    Source.MANAGED_CONFIGURATION -> if (field == "android_package") KEY_PACKAGE else KEY_CALL_URI
                }
                Config.Invalid("IT's $name ${why.substringAfter(": ")}.", source)
            }

        /**
         * The softphone IT named for this phone: the signed policy's `caller_id.softphone` first;
         * only when the policy names none (or the agent cannot be opened), the app's managed
         * configuration.
         */
        fun configured(context: Context): Config {
            val fromPolicy = try {
                Quietline.agent(context).softphone()
            } catch (e: ApiException) {
                null
            }
            if (fromPolicy != null) return parse(fromPolicy.callUri, fromPolicy.androidPackage, Source.POLICY)
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
                HandOff.Started(intent, softphone.source)
            } catch (e: ActivityNotFoundException) {
                HandOff.Refused(NOT_INSTALLED)
            } catch (e: SecurityException) {
                HandOff.Refused("The organisation's calling app did not accept the call. The call was not placed.")
            }
        }
    }
}
