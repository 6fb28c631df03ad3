package org.quietline.android

import android.app.Application

/**
 * Starts Quietline with the process: call-state reporting, the agent's periodic job. On the main
 * thread: [Quietline.start] never throws for what the platform refuses (a job JobScheduler does
 * not take is scheduled again at the next unlock or start), so it cannot crash the app.
 */
class QuietlineApp : Application() {
    override fun onCreate() {
        super.onCreate()
        Quietline.start(this)
    }
}
