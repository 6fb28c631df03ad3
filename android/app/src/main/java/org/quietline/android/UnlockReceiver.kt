package org.quietline.android

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import org.quietline.Event

/**
 * ACTION_USER_UNLOCKED (and BOOT_COMPLETED, which follows it): before the first unlock the key
 * store and the state directory are unavailable, so work that failed with KeyStoreUnavailable is
 * retried here: the agent opens, due actions run, the clock ticks, texts that waited in memory for
 * the agent are checked ([SurvivorTexts.retryPending]), and call-state reporting and the periodic
 * job are set up.
 */
class UnlockReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Intent.ACTION_USER_UNLOCKED && intent.action != Intent.ACTION_BOOT_COMPLETED) return
        val app = context.applicationContext
        val pending = goAsync()
        Work.start("unlock") {
            try {
                // False when the periodic job was not scheduled: the ticks below still run, and the
                // next unlock or start tries again.
                Quietline.start(app)
                Quietline.handle(app, Event.Tick)
                SurvivorTexts.retryPending(app)
                Posture.report(app) // the lock as it is after this unlock (rule 1)
                Quietline.runPending(app)
            } finally {
                pending.finish()
            }
        }
    }
}
