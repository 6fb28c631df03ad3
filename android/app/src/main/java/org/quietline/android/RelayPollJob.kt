package org.quietline.android

import android.app.job.JobParameters
import android.app.job.JobService
import java.net.URL
import javax.net.ssl.HttpsURLConnection
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
                val url = params.extras.getString(EXTRA_RELAY_URL)
                if (url != null) {
                    val body = fetch(url)
                    val agent = Quietline.agent(this)
                    val commands = body.lineSequence().map { it.trim() }.filter { it.startsWith(SmsCommandReceiver.COMMAND_PREFIX) }.toList()
                    if (commands.isEmpty()) Quietline.executor(this).runAll(agent.handle(Event.CheckIn).actions)
                    commands.forEach { Commands.apply(this, it) }
                }
                Quietline.executor(this).runPending()
            } catch (e: Exception) {
                retry = true
            } finally {
                jobFinished(params, retry)
            }
        }.start()
        return true
    }

    override fun onStopJob(params: JobParameters): Boolean = true

    private fun fetch(url: String): String {
        val conn = URL(url).openConnection() as HttpsURLConnection
        conn.connectTimeout = 15_000
        conn.readTimeout = 15_000
        try {
            if (conn.responseCode != 200) throw java.io.IOException("relay answered " + conn.responseCode)
            return conn.inputStream.bufferedReader().use { it.readText() }
        } finally {
            conn.disconnect()
        }
    }

    companion object {
        const val EXTRA_RELAY_URL = "relay_url"
    }
}
