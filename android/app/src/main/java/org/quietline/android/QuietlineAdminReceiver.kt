package org.quietline.android

import android.app.admin.DeviceAdminReceiver
import android.content.Context
import android.content.Intent
import android.os.UserHandle
import org.quietline.Event

/**
 * The device-admin component: device owner on work phones (provisioned with the QR code the
 * admin CLI prints), profile owner of the work profile on personal phones. Also reports unlock
 * attempts, which feed the agent's offline safety rules.
 */
class QuietlineAdminReceiver : DeviceAdminReceiver() {
    override fun onEnabled(context: Context, intent: Intent) {
        Quietline.init(context)
    }

    /**
     * Provisioning finished (device owner or work profile). Its admin extras carry IT's bundle
     * when the QR/NFC code had one; ProvisioningActivity usually enrolled from it already, and the
     * agent refuses a second enrollment, so this only covers a flow that skipped that activity.
     */
    override fun onProfileProvisioningComplete(context: Context, intent: Intent) {
        val bundle = Enrollment.bundleFromProvisioning(intent) ?: return
        val pending = goAsync()
        Work.start("provisioned") {
            val agent = try {
                ProvisioningActivity.enrollQuietly(context, bundle)
            } finally {
                pending.finish()
            }
            // Best effort past the broadcast's time limit; the relay poll sends it otherwise.
            if (agent != null) Enrollment.deliverResponse(context, agent)
        }
    }

    // The UserHandle overloads (API 26+): the two-argument ones are deprecated.
    override fun onPasswordSucceeded(context: Context, intent: Intent, user: UserHandle) {
        report(context, Event.Unlocked)
        Posture.report(context) // the advocate may have changed the lock or its timeout
    }

    override fun onPasswordFailed(context: Context, intent: Intent, user: UserHandle) = report(context, Event.UnlockFailed)

    /** Never throws: a phone not enrolled yet, or a locked key store, must not crash the process. */
    private fun report(context: Context, event: Event) {
        Quietline.handle(context, event)
    }
}
