package org.quietline.android

import java.io.IOException
import java.net.URL
import javax.net.ssl.HttpsURLConnection
import org.quietline.Agent

/**
 * The organisation's relay, the same protocol as the iOS app (plain HTTPS, any static host or
 * object store will do):
 * - `GET <relay>` returns `text/plain`, one `QL:` object per line (other lines are ignored);
 * - `POST <relay>/receipts` with one signed receipt (`QL:` text) as the body; a 2xx answer means
 *   it was stored, and the receipt leaves the agent's queue;
 * - `POST <relay>/enrollments` with the enrollment response (`QL:` text, signed by the new device
 *   key) as the body, once after enrollment; IT staff fetch it and run `quietline-admin enroll
 *   accept`. A 2xx answer means it was stored.
 * The relay is trusted with nothing: commands are signed and only the agent's checks decide.
 */
object Relay {
    /** Connect and read timeout of each request, in milliseconds. */
    const val TIMEOUT_MS = 15_000

    /** The `QL:` lines the relay holds. Throws IOException when it cannot be reached. */
    fun fetch(url: String): List<String> {
        val conn = open(url)
        try {
            if (conn.responseCode !in 200..299) throw IOException("relay answered " + conn.responseCode)
            val body = conn.inputStream.bufferedReader().use { it.readText() }
            return body.lineSequence().map { it.trim() }.filter { it.startsWith(SmsCommandReceiver.COMMAND_PREFIX) }.toList()
        } finally {
            conn.disconnect()
        }
    }

    /** Posts one receipt; true when the relay stored it. Never throws. */
    fun deliver(url: String, receipt: String, timeoutMs: Int = TIMEOUT_MS): Boolean = post(url, "receipts", receipt, timeoutMs)

    /** Posts the enrollment response; true when the relay stored it. Never throws. */
    fun deliverEnrollment(url: String, response: String): Boolean = post(url, "enrollments", response)

    /** Posts [body] (`QL:` text) to `<url>/<path>`; true on a 2xx answer. Never throws. */
    private fun post(url: String, path: String, body: String, timeoutMs: Int = TIMEOUT_MS): Boolean =
        try {
            val conn = open(url.trimEnd('/') + "/" + path, timeoutMs)
            try {
                conn.requestMethod = "POST"
                conn.doOutput = true
                conn.setRequestProperty("Content-Type", "text/plain; charset=utf-8")
                conn.outputStream.use { it.write(body.toByteArray(Charsets.UTF_8)) }
                conn.responseCode in 200..299
            } finally {
                conn.disconnect()
            }
        } catch (e: IOException) {
            false
        }

    /** Sends every queued receipt and drops those the relay stored. */
    fun deliverQueued(agent: Agent, url: String) {
        for (receipt in agent.queuedReceipts()) {
            if (deliver(url, receipt)) agent.receiptDelivered(receipt)
        }
    }

    /** HTTPS only: a plain-HTTP relay URL is refused rather than used. */
    private fun open(url: String, timeoutMs: Int = TIMEOUT_MS): HttpsURLConnection {
        val conn = URL(url).openConnection() as? HttpsURLConnection ?: throw IOException("the relay must be https")
        conn.connectTimeout = timeoutMs
        conn.readTimeout = timeoutMs
        return conn
    }
}
