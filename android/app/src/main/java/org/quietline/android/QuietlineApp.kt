package org.quietline.android

import android.app.Application

/** Starts Quietline with the process: call-state reporting, the agent's periodic job. */
class QuietlineApp : Application() {
    override fun onCreate() {
        super.onCreate()
        Quietline.start(this)
    }
}
