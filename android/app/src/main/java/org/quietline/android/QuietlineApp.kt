package org.quietline.android

import android.app.Application

/**
 * Starts Quietline with the process: call-state reporting, the agent's periodic job, the lock's
 * posture (rule 1; [Posture.report], on its own thread). On the main
 * thread: [Quietline.start] never throws for what the platform refuses (a job JobScheduler does
 * not take is scheduled again at the next unlock or start), so it cannot crash the app.
 */
class QuietlineApp : Application() {
    override fun onCreate() {
        super.onCreate()
        Quietline.start(this)
        // The lock as it is now (rule 1), as at every unlock: a process started without one (by
        // the job, a receiver, after an update) reports too. Off the main thread: the agent opens
        // and its actions run. Before the first unlock the agent cannot open: nothing is reported.
        if (Enrollment.isEnrolled(this)) {
            val app = this
            Work.start("posture") { Posture.report(app) }
        }
    }
}
