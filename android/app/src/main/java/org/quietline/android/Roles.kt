package org.quietline.android

import android.app.Activity
import android.app.admin.DevicePolicyManager
import android.app.role.RoleManager
import android.content.Context

/**
 * The telephony roles the services need before the system binds them. No app, device owner
 * included, can take a role without the user's consent (RoleManager.createRequestRoleIntent shows
 * the system dialog), so the app asks from a screen and reports the roles it still lacks.
 * - call screening (both modes): off-duty screening of incoming calls (rule 6);
 * - call redirection (work phones): the caller-ID rule for calls from any dialer (rule 2). In a
 *   work profile the personal dialer's calls never reach the profile, so it is not asked there.
 */
object Roles {
    const val REQUEST_CODE = 41

    /** The roles this phone's mode calls for. */
    fun wanted(context: Context): List<String> {
        val dpm = context.getSystemService(DevicePolicyManager::class.java)
        val work = dpm?.isDeviceOwnerApp(context.packageName) == true
        return if (work) listOf(RoleManager.ROLE_CALL_SCREENING, RoleManager.ROLE_CALL_REDIRECTION) else listOf(RoleManager.ROLE_CALL_SCREENING)
    }

    /** The wanted roles the app does not hold (unavailable roles count as missing). */
    fun missing(context: Context): List<String> {
        val rm = context.getSystemService(RoleManager::class.java) ?: return wanted(context)
        return wanted(context).filterNot { rm.isRoleAvailable(it) && rm.isRoleHeld(it) }
    }

    /** Asks for the first missing role that the phone offers; returns the role asked for, if any. */
    fun requestNext(activity: Activity): String? {
        val rm = activity.getSystemService(RoleManager::class.java) ?: return null
        val role = missing(activity).firstOrNull { rm.isRoleAvailable(it) } ?: return null
        activity.startActivityForResult(rm.createRequestRoleIntent(role), REQUEST_CODE)
        return role
    }
}
