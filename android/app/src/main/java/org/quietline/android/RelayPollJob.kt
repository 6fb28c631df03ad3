package org.quietline.android

import android.app.job.JobParameters
import android.app.job.JobService
import org.quietline.Event

/**
 * Polls the organisation's relay over HTTPS for signed commands and policies (JobScheduler, with
 * network). Whatever arrives goes to the agent, which alone decides; a successful poll with nothing
 * new is a check-in for the offline rules. Also runs due actions.
 */
class RelayPollJob : JobService() {
    override fun onStartJob(params: JobParameters): Boolean {
        Thread {
            var retry = false
            try {
                val agent = Quietline.agent(this)
                // The relay IT gave at enrollment; the job's extra only for a phone enrolled without one.
                val url = agent.relayUrl() ?: params.extras.getString(EXTRA_RELAY_URL)
                if (url != null) {
                    val commands = Relay.fetch(url) // signed commands and policies
                    var applied = 0
                    for (line in commands) if (Commands.apply(this, line) || Commands.installPolicy(this, line)) applied++
                    // A poll that reached the relay and brought nothing new is a check-in.
                    if (applied == 0) Quietline.executor(this).runAll(Quietline.agent(this).handle(Event.CheckIn).actions)
                }
                Quietline.executor(this).runPending()
                if (url != null) Relay.deliverQueued(Quietline.agent(this), url)
            } catch (e: Exception) {
                retry = true
            } finally {
                jobFinished(params, retry)
            }
        }.start()
        return true
    }

    override fun onStopJob(params: JobParameters): Boolean = true

    companion object {
        const val EXTRA_RELAY_URL = "relay_url"
    }
}
