package org.quietline.android

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import android.os.PersistableBundle
import java.io.IOException
import org.quietline.ApiException
import org.quietline.Event

/**
 * The agent's periodic job (JobScheduler, every 15 minutes, kept across reboots):
 * - `Tick`: the offline rules (no check-in, no unlock), off-duty reminders and retention run on
 *   the agent's clock even with no network and no relay;
 * - with a relay: polls it over HTTPS for signed commands and policies (only the agent's checks
 *   decide), counts a poll with nothing new as a check-in, sends the enrollment response again
 *   until the relay stored it, and delivers queued receipts;
 * - runs due actions (retries of failed ones).
 */
class RelayPollJob : JobService() {
    override fun onStartJob(params: JobParameters): Boolean {
        val extras = params.extras
        Thread {
            val retry = try {
                !runOnce(this, extras)
            } catch (e: RuntimeException) {
                true
            }
            jobFinished(params, retry)
        }.start()
        return true
    }

    override fun onStopJob(params: JobParameters): Boolean = true

    companion object {
        const val EXTRA_RELAY_URL = "relay_url"

        /** The periodic job's id. */
        const val POLL_JOB = 1

        /** The shortest period JobScheduler allows. */
        const val POLL_INTERVAL_MS = 15L * 60L * 1000L

        /** Schedules the periodic job (kept across reboots); scheduling it again replaces it. */
        fun schedule(context: Context) {
            val job = JobInfo.Builder(POLL_JOB, ComponentName(context, RelayPollJob::class.java))
                .setPeriodic(POLL_INTERVAL_MS)
                .setPersisted(true)
                .build()
            val js: JobScheduler = context.service()
            if (js.schedule(job) != JobScheduler.RESULT_SUCCESS) throw Refused("the periodic job was not scheduled")
        }

        /** One run of the job, off the main thread; false when it should be retried. */
        fun runOnce(context: Context, extras: PersistableBundle): Boolean {
            val agent = try {
                Quietline.agent(context)
            } catch (e: ApiException) {
                return false // locked key store: retried, and again after ACTION_USER_UNLOCKED
            }
            var ok = true
            Quietline.handle(context, Event.Tick)
            // IT cannot address this phone until it has the response: before the poll.
            if (Enrollment.deliverResponse(context, agent) == Enrollment.Delivery.FAILED) ok = false
            // The relay IT gave at enrollment; the job's extra only for a phone enrolled without one.
            val url = agent.relayUrl() ?: extras.getString(EXTRA_RELAY_URL)
            if (url != null) {
                try {
                    var applied = 0
                    for (line in Relay.fetch(url)) if (Commands.apply(context, line) || Commands.installPolicy(context, line)) applied++
                    // A poll that reached the relay and brought nothing new is a check-in.
                    if (applied == 0) Quietline.handle(context, Event.CheckIn)
                } catch (e: IOException) {
                    ok = false
                }
            }
            Quietline.runPending(context)
            if (url != null) {
                try {
                    Relay.deliverQueued(Quietline.agent(context), url)
                } catch (e: ApiException) {
                    // Wiped by a command of this poll: nothing more to deliver.
                }
            }
            return ok
        }
    }
}
