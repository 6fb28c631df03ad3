package org.quietline.android

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import android.os.PersistableBundle
import org.quietline.ApiException
import org.quietline.Event

/**
 * The agent's periodic job (JobScheduler, every 15 minutes, kept across reboots):
 * - `Tick`: the offline rules (no check-in, no unlock), off-duty reminders and retention run on
 *   the agent's clock even with no network and no relay;
 * - with a relay: one poll of docs/relay-protocol.md ([Relay.poll]): the enrollment response
 *   until the relay stored it, signed policies, root rotations and commands from `GET /queue`
 *   (only the agent's checks decide), queued receipts, and a device-signed check-in for IT's
 *   fleet view. A poll is never a check-in for the phone's own offline rules: the relay is
 *   not trusted, so only fresh signed objects from the organisation count;
 * - runs due actions (retries of failed ones).
 */
class RelayPollJob : JobService() {
    override fun onStartJob(params: JobParameters): Boolean {
        val extras = params.extras
        Work.start("poll") {
            val retry = try {
                !runOnce(this, extras)
            } catch (e: RuntimeException) {
                true
            }
            jobFinished(params, retry)
        }
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
            // Before the poll, so the check-in carries today's findings.
            Posture.reportIfChanged(context)
            // The relay IT gave at enrollment; the job's extra only for a phone enrolled without one.
            val url = try {
                agent.relayUrl()
            } catch (e: ApiException) {
                null
            } ?: extras.getString(EXTRA_RELAY_URL)
            if (url != null) {
                if (!Relay.poll(context, url)) ok = false
            } else if (Enrollment.deliverResponse(context, agent) == Enrollment.Delivery.FAILED) {
                ok = false
            }
            Quietline.runPending(context)
            return ok
        }
    }
}
