package org.quietline.android

import android.app.admin.DeviceAdminReceiver
import android.content.Context
import android.content.Intent
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

    override fun onPasswordSucceeded(context: Context, intent: Intent) = report(context, Event.Unlocked)

    override fun onPasswordFailed(context: Context, intent: Intent) = report(context, Event.UnlockFailed)

    private fun report(context: Context, event: Event) {
        val agent = Quietline.agent(context)
        Quietline.executor(context).runAll(agent.handle(event).actions)
    }
}
