package org.quietline.android

import android.app.Activity
import android.app.admin.DevicePolicyManager
import android.content.Context
import android.content.Intent
import android.os.Bundle
import android.os.PersistableBundle
import org.quietline.Agent
import org.quietline.ApiException

/**
 * The device-policy controller's part of QR/NFC provisioning (Android 12+ requires a DPC to answer
 * both intents; the manifest lets only the system start this activity, BIND_DEVICE_ADMIN):
 * - ACTION_GET_PROVISIONING_MODE: a work phone, so fully managed (device owner) whenever the
 *   setup flow allows it, else a work profile; the admin extras are handed on unchanged;
 * - ACTION_ADMIN_POLICY_COMPLIANCE (after the app became device or profile owner): enrolls from the
 *   admin extras' `quietline_bundle` (IT's `QL:` text) and applies the bundle's policy. The
 *   enrollment response goes to the relay from a background thread and, should that fail, from
 *   the periodic relay poll. Provisioning is never failed over a bad bundle: the phone then
 *   starts not enrolled, and EnrollActivity takes a bundle pasted by IT.
 */
class ProvisioningActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val start = intent
        when (start?.action) {
            DevicePolicyManager.ACTION_GET_PROVISIONING_MODE -> {
                setResult(RESULT_OK, modeResult(start))
                finish()
            }
            DevicePolicyManager.ACTION_ADMIN_POLICY_COMPLIANCE -> {
                val bundle = Enrollment.bundleFromProvisioning(start)
                val context = applicationContext
                Work.start("provisioning") {
                    val agent = if (bundle != null) enrollQuietly(context, bundle) else null
                    runOnUiThread {
                        setResult(RESULT_OK)
                        finish()
                    }
                    // After provisioning moves on: the relay may take a while, or be unreachable yet.
                    if (agent != null) Enrollment.deliverResponse(context, agent)
                }
            }
            else -> finish()
        }
    }

    private fun modeResult(start: Intent): Intent {
        val allowed = start.getIntegerArrayListExtra(DevicePolicyManager.EXTRA_PROVISIONING_ALLOWED_PROVISIONING_MODES)
        val full = DevicePolicyManager.PROVISIONING_MODE_FULLY_MANAGED_DEVICE
        val mode = if (allowed == null || full in allowed) full else DevicePolicyManager.PROVISIONING_MODE_MANAGED_PROFILE
        val result = Intent().putExtra(DevicePolicyManager.EXTRA_PROVISIONING_MODE, mode)
        Enrollment.bundleFromProvisioning(start)?.let { text ->
            val extras = PersistableBundle()
            extras.putString(Enrollment.ADMIN_EXTRA_BUNDLE, text)
            result.putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, extras)
        }
        return result
    }

    companion object {
        /**
         * Enrolls from a provisioning bundle (this activity and QuietlineAdminReceiver both get
         * one; the second finds the agent there and stops). Returns the new agent, or null: a
         * failure leaves the phone not enrolled.
         */
        fun enrollQuietly(context: Context, bundle: String): Agent? =
            try {
                Enrollment.enroll(context, bundle)
            } catch (e: ApiException) {
                null // refused, or enrolled already by the other entry point
            } catch (e: IllegalStateException) {
                null // no region: EnrollActivity explains it at first launch
            }
    }
}
