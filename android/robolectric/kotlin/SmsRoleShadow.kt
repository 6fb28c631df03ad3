package org.quietline.robolectric

import android.Manifest
import android.app.admin.DevicePolicyManager
import android.app.role.RoleManager
import android.content.ComponentName
import android.content.pm.PackageInfo
import android.os.Process
import javax.xml.parsers.DocumentBuilderFactory
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.shadows.ShadowRoleManager
import org.robolectric.shadows.ShadowTelephony
import org.w3c.dom.Element

/**
 * What Robolectric 4.16 leaves out of the device owner's SMS calls, modelled on AOSP:
 * - `setDefaultSmsApplication` (not shadowed: the framework method calls a null service). AOSP's
 *   `DevicePolicyManagerService` lets only a device owner (or the owner of an organisation-owned
 *   profile) call it and then runs `SmsApplication.setDefaultApplication` (frameworks/base
 *   `telephony/common/com/android/internal/telephony/SmsApplication.java` at 05f31ae):
 *   `setDefaultApplicationInternal` changes nothing unless `getApplicationCollectionInternal`
 *   finds all four components (an SMS_DELIVER receiver guarded by BROADCAST_SMS, a
 *   WAP_PUSH_DELIVER receiver for `application/vnd.wap.mms-message` guarded by
 *   BROADCAST_WAP_PUSH, a RESPOND_VIA_MESSAGE service for `smsto:` guarded by
 *   SEND_RESPOND_VIA_MESSAGE, a SENDTO activity for `smsto:`), read here from the app's manifest;
 *   then it asks RoleManager to add the ROLE_SMS holder and, when that fails, only logs
 *   ([refuseRole] models that). The role grants its holder the SMS permissions the app requests.
 * - `setPermissionGrantState` for another package: the stock shadow only records it. AOSP's
 *   PermissionController (`PermissionControllerServiceImpl.onSetRuntimePermissionGrantStateByDeviceAdmin`,
 *   LineageOS/android_packages_modules_Permission lineage-22.0 at f76af0f) skips a permission
 *   group the system fixed (`group.isSystemFixed()`) yet returns true, and otherwise revokes on
 *   DENIED ([systemFixed] lists the packages whose SEND_SMS the system fixed).
 */
@Implements(DevicePolicyManager::class)
class SmsRoleShadow : WipeShadow() {
    @Implementation(minSdk = 29)
    protected fun setDefaultSmsApplication(@Suppress("UNUSED_PARAMETER") admin: ComponentName, packageName: String) {
        val app = RuntimeEnvironment.getApplication()
        if (!isDeviceOwnerApp(app.packageName) && !isProfileOwnerApp(app.packageName)) {
            throw SecurityException("Caller is not a device owner or the owner of an organisation-owned profile")
        }
        if (packageName != app.packageName || !SmsAppContract.complete()) return // "only make the change if the new package is valid"
        setDefaultCalls++
        if (refuseRole) return // addRoleHolderAsUser failed: SmsApplication logs and returns
        ShadowTelephony.ShadowSms.setDefaultSmsPackage(packageName)
        ShadowRoleManager.addRoleHolder(RoleManager.ROLE_SMS, packageName, Process.myUserHandle())
        val requested = Scenario.manifestPermissions()
        shadowOf(app).grantPermissions(*ROLE_PERMISSIONS.filter { it in requested }.toTypedArray())
    }

    @Implementation
    override fun setPermissionGrantState(admin: ComponentName, packageName: String, permission: String, grantState: Int): Boolean {
        grantStateCalls += packageName to permission
        val accepted = super.setPermissionGrantState(admin, packageName, permission, grantState)
        val app = RuntimeEnvironment.getApplication()
        if (!accepted || packageName == app.packageName || packageName in systemFixed) return accepted
        val info: PackageInfo = shadowOf(app.packageManager).getInternalMutablePackageInfo(packageName) ?: return accepted
        val i = info.requestedPermissions?.indexOf(permission) ?: -1
        val flags = info.requestedPermissionsFlags
        if (i >= 0 && flags != null && grantState == DevicePolicyManager.PERMISSION_GRANT_STATE_DENIED) {
            flags[i] = flags[i] and PackageInfo.REQUESTED_PERMISSION_GRANTED.inv()
        }
        return accepted
    }

    companion object {
        /** The SMS role's permissions (PermissionController's roles.xml, the `sms` role). */
        val ROLE_PERMISSIONS = listOf(
            Manifest.permission.SEND_SMS, Manifest.permission.RECEIVE_SMS, Manifest.permission.READ_SMS,
            Manifest.permission.RECEIVE_WAP_PUSH, Manifest.permission.RECEIVE_MMS,
        )

        /** The role change fails (RoleManager's callback reports failure). */
        @JvmStatic var refuseRole = false

        /** Packages whose SEND_SMS the system fixed: the owner's denial is skipped. */
        @JvmStatic val systemFixed = mutableSetOf<String>()

        /** How many times the owner asked for a valid default SMS app. */
        @JvmStatic var setDefaultCalls = 0

        /** Every grant state the owner set, as (package, permission), in order. */
        @JvmStatic val grantStateCalls = mutableListOf<Pair<String, String>>()

        fun reset() {
            refuseRole = false
            systemFixed.clear()
            setDefaultCalls = 0
            grantStateCalls.clear()
        }
    }
}

/** AOSP SmsApplication's four required components, checked against the app's manifest and classes. */
object SmsAppContract {
    private const val NS = "http://schemas.android.com/apk/res/android"

    fun complete(): Boolean = missing().isEmpty()

    /** The required components the manifest does not declare (empty when the app qualifies). */
    fun missing(): List<String> {
        val doc = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }.newDocumentBuilder().parse(Scenario.manifest)
        fun components(tag: String) = doc.getElementsByTagName(tag).let { n -> (0 until n.length).map { n.item(it) as Element } }
        fun attr(e: Element, name: String) = e.getAttributeNS(NS, name)
        fun filters(e: Element) = e.getElementsByTagName("intent-filter").let { n -> (0 until n.length).map { n.item(it) as Element } }
        fun values(f: Element, tag: String, name: String) = f.getElementsByTagName(tag).let { n -> (0 until n.length).map { attr(n.item(it) as Element, name) } }
        fun has(tag: String, action: String, permission: String?, scheme: String? = null, mime: String? = null): Boolean =
            components(tag).any { c ->
                (permission == null || attr(c, "permission") == permission) && attr(c, "exported") == "true" &&
                    runCatching { Class.forName("org.quietline.android" + attr(c, "name")) }.isSuccess &&
                    filters(c).any { f ->
                        action in values(f, "action", "name") &&
                            (scheme == null || scheme in values(f, "data", "scheme")) &&
                            (mime == null || mime in values(f, "data", "mimeType"))
                    }
            }
        val out = mutableListOf<String>()
        if (!has("receiver", "android.provider.Telephony.SMS_DELIVER", Manifest.permission.BROADCAST_SMS)) out += "SMS_DELIVER receiver"
        if (!has("receiver", "android.provider.Telephony.WAP_PUSH_DELIVER", Manifest.permission.BROADCAST_WAP_PUSH, mime = "application/vnd.wap.mms-message")) out += "WAP_PUSH_DELIVER receiver"
        if (!has("service", "android.intent.action.RESPOND_VIA_MESSAGE", Manifest.permission.SEND_RESPOND_VIA_MESSAGE, scheme = "smsto")) out += "RESPOND_VIA_MESSAGE service"
        if (!has("activity", "android.intent.action.SENDTO", null, scheme = "smsto")) out += "SENDTO activity"
        return out
    }
}
