package org.quietline.android

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import org.quietline.Event

/**
 * Polls the organisation's relay over HTTPS for signed commands and policies (JobScheduler, with
 * network). Whatever arrives goes to the agent, which alone decides; a successful poll with nothing
 * new is a check-in for the offline rules. Also runs due actions, and sends the enrollment
 * response again if the relay has not stored it yet.
 */
class RelayPollJob : JobService() {
    override fun onStartJob(params: JobParameters): Boolean {
        Thread {
            var retry = false
            try {
                val agent = Quietline.agent(this)
                // IT cannot address this phone until it has the response: before anything else.
                if (Enrollment.deliverResponse(this, agent) == Enrollment.Delivery.FAILED) retry = true
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

        /** The periodic poll's job id (AndroidPlatform.CALLER_ID_JOB is the caller-ID check's). */
        const val POLL_JOB = 1

        /** The shortest period JobScheduler allows. */
        const val POLL_INTERVAL_MS = 15L * 60L * 1000L

        /** Schedules the periodic poll (kept across reboots); scheduling it again replaces it. */
        fun schedule(context: Context) {
            val job = JobInfo.Builder(POLL_JOB, ComponentName(context, RelayPollJob::class.java))
                .setPeriodic(POLL_INTERVAL_MS)
                .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
                .setPersisted(true)
                .build()
            context.getSystemService(JobScheduler::class.java).schedule(job)
        }
    }
}
