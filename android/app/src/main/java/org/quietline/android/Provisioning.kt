package org.quietline.android

import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.os.PersistableBundle

/** How a personal phone reaches `byod`: a work profile whose owner is the app. */
object Provisioning {
    /**
     * The ACTION_PROVISION_MANAGED_PROFILE intent carrying IT's bundle in the admin extras, or null
     * when the app already owns the device or a profile (enroll here) or the phone does not allow
     * a work profile (the app then enrolls unmanaged and compliance shows what it cannot enforce).
     */
    fun workProfileIntent(context: Context, bundle: String): Intent? {
        val dpm = context.getSystemService(DevicePolicyManager::class.java) ?: return null
        val pkg = context.packageName
        if (dpm.isDeviceOwnerApp(pkg) || dpm.isProfileOwnerApp(pkg)) return null
        // Work profiles need the managed-users feature (absent on some low-RAM and Go phones).
        if (!context.packageManager.hasSystemFeature(PackageManager.FEATURE_MANAGED_USERS)) return null
        val extras = PersistableBundle().apply { putString(Enrollment.ADMIN_EXTRA_BUNDLE, bundle) }
        return Intent(DevicePolicyManager.ACTION_PROVISION_MANAGED_PROFILE)
            .putExtra(DevicePolicyManager.EXTRA_PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME, ComponentName(context, QuietlineAdminReceiver::class.java))
            .putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, extras)
    }
}
