package org.quietline.android

import android.app.admin.DevicePolicyManager
import android.content.Context
import org.quietline.ApiException
import org.quietline.Event
import org.quietline.Mode
import org.quietline.RuleGap

/**
 * The rules this phone cannot enforce at run time, reported to the agent as
 * `Event.PlatformGaps` so that its compliance report, and so the check-in IT sees, lists each
 * as `Finding.RuleNotEnforced` (issue 12: "the compliance report tells IT"). The advocate sees
 * the same gaps, in more detail, on the compliance screen ([AdvocateActivity.refresh]).
 * - [RuleGap.SMS_FROM_OTHER_APPS_UNCHECKED] (rule 3): always on byod; on a work phone when
 *   Quietline could not take rule 3 on ([SmsRule.State.asked] false: not device owner, or the
 *   policy lets texts through, which the agent then does not count), is not the default SMS
 *   app, or another app still holds SEND_SMS ([SmsRule.state]).
 * - [RuleGap.NO_HELPLINE_CALL_ROUTE] (rule 2): a work profile (byod) with neither a linked VoIP
 *   stack ([SelfManagedCalls.transport]) nor a usable softphone ([Softphone.configured]: the
 *   signed policy's `caller_id.softphone`, else the managed configuration's).
 *
 * Reported with the posture ([Posture.report], [Posture.reportIfChanged]), after each new signed
 * policy ([Commands.installPolicy]: it may name or drop the softphone) and at each refresh of the
 * compliance screen. Each report replaces the last, so a closed gap clears.
 */
object RuleGaps {
    /** The gaps now, in the agent's order; null when the agent cannot be opened. */
    fun current(context: Context): List<RuleGap>? {
        val mode = try {
            Quietline.agent(context).compliance().mode
        } catch (e: ApiException) {
            return null
        }
        val gaps = mutableListOf<RuleGap>()
        if (smsUnchecked(context, mode)) gaps += RuleGap.SMS_FROM_OTHER_APPS_UNCHECKED
        if (callRouteMissing(context)) gaps += RuleGap.NO_HELPLINE_CALL_ROUTE
        return gaps
    }

    /** Sends the current gaps to the agent; never throws. */
    fun report(context: Context) {
        val gaps = current(context) ?: return
        Quietline.handle(context, Event.PlatformGaps(gaps))
    }

    /** Whether other apps' texts escape rule 3's check (the system's own senders aside). */
    fun smsUnchecked(context: Context, mode: Mode): Boolean {
        if (mode == Mode.BYOD) return true
        val state = SmsRule.state(context)
        return !state.asked || !state.defaultApp || state.stillSending.isNotEmpty()
    }

    /** Whether helpline calls have no way out from this work profile (byod). */
    fun callRouteMissing(context: Context): Boolean {
        if (!isWorkProfile(context) || SelfManagedCalls.transport != null) return false
        return Softphone.configured(context) !is Softphone.Config.Ready
    }

    /** A work profile (profile owner, not device owner): a personal phone. */
    fun isWorkProfile(context: Context): Boolean {
        val dpm = context.getSystemService(DevicePolicyManager::class.java) ?: return false
        return dpm.isProfileOwnerApp(context.packageName) && !dpm.isDeviceOwnerApp(context.packageName)
    }
}
