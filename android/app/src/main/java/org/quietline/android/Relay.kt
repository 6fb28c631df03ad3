package org.quietline.android

import android.content.Context
import java.io.ByteArrayOutputStream
import java.io.File
import java.io.IOException
import java.io.InputStream
import java.net.URL
import java.security.KeyStore
import java.security.MessageDigest
import java.util.concurrent.atomic.AtomicInteger
import javax.net.ssl.HttpsURLConnection
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLSocketFactory
import javax.net.ssl.TrustManagerFactory
import org.quietline.Agent
import org.quietline.ApiException
import org.quietline.relaySessionAuthorizationAt
import org.quietline.relaySessionValid

/**
 * The organisation's relay, `quietline-relay`, as docs/relay-protocol.md describes it (the same
 * protocol as the iOS app). Every path is relative to the bundle's `relay_url`
 * (`https://HOST/o/ORG`):
 * - `POST /enrollments`: the enrollment response (it authenticates itself);
 * - `GET /queue`: signed policies, root rotations and commands for this phone, and a
 *   `QL-Challenge` for the check-in;
 * - `POST /receipts`: one device-signed receipt (it authenticates itself);
 * - `POST /checkin`: the device-signed status report answering the challenge;
 * - `PUT`/`DELETE /push-token`: the address for a content-free wake-up.
 * The others carry `Authorization: QL-Device …`, built and signed by the agent
 * (`Agent.relayAuthorization`) over the method, the endpoint and the exact body; `GET /queue`
 * uses the poll session instead while there is one (see [fetchQueue]).
 *
 * The relay is trusted with nothing: everything it serves goes through the agent's checks as if
 * it had come by SMS, and its answers (a 2xx, an empty queue) change nothing in the phone's
 * safety state. In particular a successful poll is not a check-in for the offline rules.
 */
object Relay {
    /** Connect and read timeout of each request, in milliseconds. */
    const val TIMEOUT_MS = 15_000

    /** The largest answer read (a queue of policies of at most 96 KiB each stays far below). */
    private const val MAX_ANSWER = 4 * 1024 * 1024

    /**
     * The certificates the relay's TLS certificate must chain to. Null on phones: the system's
     * trust store (and the app's network security config) decide, as for any HTTPS. The
     * Robolectric suite sets a key store holding its test relay's certificate; certificate and
     * host name checks stay on either way (there is no way to switch them off here).
     */
    @Volatile var trustAnchors: KeyStore? = null

    /**
     * The phone's clock, in milliseconds since the epoch, at which requests are signed (`ts` of
     * `QL-Device` and `QL-Session`). The system clock on phones; a test sets a clock that is off
     * to drive the `401` re-sign at the relay's `Date` (docs/relay-protocol.md, rule 2).
     */
    @Volatile var clock: () -> Long = { System.currentTimeMillis() }

    /** How many requests were signed once more at the relay's `Date` after a `401`. For tests. */
    val resigned = AtomicInteger()

    /** A relay's answer: status, body, and the headers the protocol uses. */
    class Answer(val status: Int, val body: String, val challenge: String?, val dateMillis: Long, internal val session: String?) {
        val ok: Boolean get() = status in 200..299
    }

    /**
     * The poll session (docs/relay-protocol.md, "Poll sessions") the relay issued with the last
     * `QL-Device`-authenticated `GET /queue`, with the relay URL it came from. In memory only:
     * never written to a file, never logged, gone with the process (the next poll then
     * authenticates with `QL-Device` and gets a new one). Guarded by `this`.
     */
    private var session: Pair<String, String>? = null

    /** How many `GET /queue` requests went out with a poll session (`QL-Session`). For tests. */
    val queueBySession = AtomicInteger()

    /** How many `GET /queue` requests went out signed by the device key (`QL-Device`). For tests. */
    val queueByDevice = AtomicInteger()

    /** Test hook: whether a poll session for [url] is kept. */
    fun hasSession(url: String): Boolean = sessionFor(url) != null

    /**
     * Test hook: replaces the kept poll session for [url] with [transform] of it (a test plays a
     * forged or expired session the relay then refuses). Does nothing when none is kept.
     */
    fun alterSession(url: String, transform: (String) -> String) {
        synchronized(this) {
            val kept = session ?: return
            if (kept.first == url) session = url to transform(kept.second)
        }
    }

    /** Forgets the poll session (after a wipe or a new enrollment; the relay would refuse it anyway). */
    fun forgetSession() {
        synchronized(this) { session = null }
    }

    private fun sessionFor(url: String): String? = synchronized(this) { session?.takeIf { it.first == url }?.second }

    private fun dropSession(value: String) {
        synchronized(this) { if (session?.second == value) session = null }
    }

    /** What happened to a posted enrollment response. */
    enum class EnrollmentAnswer {
        /** `201`/`200`: stored (now or before). */
        STORED,
        /** `404 unknown_enrollment`: IT has not announced it yet; try at the next poll. */
        NOT_ANNOUNCED,
        /** `409 enrollment_conflict`: another key was posted for this enrollment; contact IT. */
        CONFLICT,
        /** `400 bad_object`: not a valid response; never retried. */
        REFUSED,
        /** Unreachable, rate limited or failing: try later. */
        RETRY,
    }

    /** What happened to a posted receipt. */
    enum class ReceiptAnswer {
        /** `201`/`200`: stored; it leaves the agent's queue. */
        STORED,
        /** `400`: the relay cannot verify it (per the protocol, not sent again). */
        REFUSED,
        /** Unreachable or failing: sent again later. */
        RETRY,
    }

    /** `GET /queue`: the `QL:` lines (oldest first) and the challenge for this poll's check-in. */
    class Queue(val lines: List<String>, val challenge: String?)

    /** Posts the enrollment response. Never throws. */
    fun postEnrollment(url: String, response: String): EnrollmentAnswer {
        val a = try {
            request(url, "POST", "/enrollments", response.toByteArray(Charsets.UTF_8), TEXT, null)
        } catch (e: IOException) {
            return EnrollmentAnswer.RETRY
        }
        return when {
            a.ok -> EnrollmentAnswer.STORED
            a.status == 404 -> EnrollmentAnswer.NOT_ANNOUNCED
            a.status == 409 -> EnrollmentAnswer.CONFLICT
            a.status == 400 -> EnrollmentAnswer.REFUSED
            else -> EnrollmentAnswer.RETRY
        }
    }

    /** Posts one receipt within [timeoutMs]. Never throws. */
    fun postReceipt(url: String, receipt: String, timeoutMs: Int = TIMEOUT_MS): ReceiptAnswer {
        val a = try {
            request(url, "POST", "/receipts", receipt.toByteArray(Charsets.UTF_8), TEXT, null, timeoutMs)
        } catch (e: IOException) {
            return ReceiptAnswer.RETRY
        }
        return when {
            a.ok -> ReceiptAnswer.STORED
            a.status == 400 -> ReceiptAnswer.REFUSED
            else -> ReceiptAnswer.RETRY
        }
    }

    /**
     * Sends every queued receipt; those the relay stored, or refused as not verifying (the
     * protocol says not to send those again), leave the agent's queue. Returns how many are left.
     */
    fun deliverQueued(agent: Agent, url: String): Int {
        var left = 0
        for (receipt in agent.queuedReceipts()) {
            when (postReceipt(url, receipt)) {
                ReceiptAnswer.STORED, ReceiptAnswer.REFUSED -> agent.receiptDelivered(receipt)
                ReceiptAnswer.RETRY -> left++
            }
        }
        return left
    }

    /**
     * `GET /queue`. Authenticated with the poll session the relay issued at an earlier
     * `QL-Device`-authenticated poll while the core calls it valid (`relaySessionValid`: well
     * formed and more than 60 s from its expiry), else signed with the device key, whose `200`
     * answer may carry a new session (kept, in memory only). A `401` to a session drops it and
     * the request is sent once more signed with the device key. Throws IOException when the
     * relay cannot be reached or does not answer 200, ApiException when the agent cannot sign
     * (wiped, not enrolled).
     */
    fun fetchQueue(agent: Agent, url: String): Queue {
        val a = queueAnswer(agent, url)
        if (a.status != 200) throw IOException("the relay answered " + a.status)
        val lines = a.body.lineSequence().map { it.trim() }.filter { it.startsWith(SmsCommandReceiver.COMMAND_PREFIX) }.toList()
        val challenge = a.challenge?.trim()?.takeIf { c -> c.length == 32 && c.all { it in '0'..'9' || it in 'a'..'f' } }
        return Queue(lines, challenge)
    }

    private fun queueAnswer(agent: Agent, url: String): Answer {
        val empty = ByteArray(0)
        val kept = sessionFor(url)
        if (kept != null) {
            val authorization = try {
                if (relaySessionValid(kept)) relaySessionAuthorizationAt(kept, "GET", "/queue", empty, clock() / 1000) else null
            } catch (e: ApiException) {
                null
            }
            if (authorization != null) {
                queueBySession.incrementAndGet()
                val a = send(url, "GET", "/queue", empty, null, authorization, TIMEOUT_MS)
                // A session-authenticated answer never issues a new session: keep the one we have.
                if (a.status != 401) return a
            }
            // Expired, refused (re-enrolled, re-keyed, unknown to the relay, clock off): gone.
            dropSession(kept)
        }
        queueByDevice.incrementAndGet()
        val a = request(url, "GET", "/queue", empty, null, agent)
        val issued = a.session?.trim()
        if (a.status == 200 && issued != null && relaySessionValid(issued)) {
            synchronized(this) { session = url to issued }
        }
        return a
    }

    /** What a check-in came to. */
    enum class CheckInAnswer {
        /** `204`: the relay stored the report. */
        STORED,
        /** `409 stale_challenge`: fetch the queue again and check in with the new challenge. */
        STALE_CHALLENGE,
        /** Anything else: tried at the next poll. */
        FAILED,
    }

    /** `POST /checkin` with the agent's signed status report answering [challenge]. Never throws IOException. */
    fun checkIn(agent: Agent, url: String, challenge: String): CheckInAnswer {
        val report = agent.statusReport(challenge).toByteArray(Charsets.UTF_8)
        val a = try {
            request(url, "POST", "/checkin", report, TEXT, agent)
        } catch (e: IOException) {
            return CheckInAnswer.FAILED
        }
        return when {
            a.ok -> CheckInAnswer.STORED
            a.status == 409 -> CheckInAnswer.STALE_CHALLENGE
            else -> CheckInAnswer.FAILED
        }
    }

    /**
     * `PUT /push-token`: the token a push service gave this app, so the relay can send a
     * content-free wake-up ("poll now"). True on `204`. Never throws IOException.
     */
    fun putPushToken(agent: Agent, url: String, platform: String, token: String): Boolean {
        val body = "{\"platform\":\"" + platform + "\",\"token\":\"" + token + "\"}"
        return try {
            request(url, "PUT", "/push-token", body.toByteArray(Charsets.UTF_8), "application/json", agent).ok
        } catch (e: IOException) {
            false
        }
    }

    /** `DELETE /push-token`: the relay forgets the token. True on `204`. Never throws IOException. */
    fun deletePushToken(agent: Agent, url: String): Boolean =
        try {
            request(url, "DELETE", "/push-token", ByteArray(0), null, agent).ok
        } catch (e: IOException) {
            false
        }

    /**
     * Whether [token] is something the relay accepts as a push token: 1 to 4096 printable ASCII
     * characters without spaces or JSON specials (a token is an opaque platform string).
     */
    fun isPushToken(token: String): Boolean =
        token.length in 1..4096 && token.all { it.code in 0x21..0x7e && it != '"' && it != '\\' }

    /**
     * One request to `<url><endpoint>`. With [agent], signed with the device key at [clock]; a
     * `401` carrying the relay's `Date` is signed once more at that time (for a phone whose clock
     * is off: that time only authenticates this request and changes nothing on the phone), and
     * only once: a second `401` is returned to the caller, which reports the request as failed.
     */
    private fun request(
        url: String,
        method: String,
        endpoint: String,
        body: ByteArray,
        contentType: String?,
        agent: Agent?,
        timeoutMs: Int = TIMEOUT_MS,
    ): Answer {
        val first = send(url, method, endpoint, body, contentType, agent?.relayAuthorizationAt(method, endpoint, body, clock() / 1000), timeoutMs)
        if (agent == null || first.status != 401 || first.dateMillis <= 0) return first
        // Once: a second 401 is the answer (reported by the caller as a failure, retried at the next poll).
        val retry = agent.relayAuthorizationAt(method, endpoint, body, first.dateMillis / 1000)
        resigned.incrementAndGet()
        return send(url, method, endpoint, body, contentType, retry, timeoutMs)
    }

    private fun send(
        url: String,
        method: String,
        endpoint: String,
        body: ByteArray,
        contentType: String?,
        authorization: String?,
        timeoutMs: Int,
    ): Answer {
        val conn = open(url.trimEnd('/') + endpoint, timeoutMs)
        try {
            conn.requestMethod = method
            if (authorization != null) conn.setRequestProperty("Authorization", authorization)
            if (contentType != null) {
                conn.doOutput = true
                conn.setRequestProperty("Content-Type", contentType)
                conn.setFixedLengthStreamingMode(body.size)
                conn.outputStream.use { it.write(body) }
            }
            val status = conn.responseCode
            val stream: InputStream? = if (status in 200..299) conn.inputStream else conn.errorStream
            val text = stream?.use { readBounded(it) } ?: ""
            return Answer(status, text, conn.getHeaderField("QL-Challenge"), conn.getHeaderFieldDate("Date", 0), conn.getHeaderField("QL-Session"))
        } finally {
            conn.disconnect()
        }
    }

    private fun readBounded(input: InputStream): String {
        val out = ByteArrayOutputStream()
        val buf = ByteArray(8192)
        while (true) {
            val n = input.read(buf)
            if (n < 0) break
            if (out.size() + n > MAX_ANSWER) throw IOException("the relay's answer is too large")
            out.write(buf, 0, n)
        }
        return out.toString(Charsets.UTF_8.name())
    }

    /** HTTPS only: a plain-HTTP relay URL is refused rather than used. */
    private fun open(url: String, timeoutMs: Int): HttpsURLConnection {
        val conn = URL(url).openConnection() as? HttpsURLConnection ?: throw IOException("the relay must be https")
        socketFactory()?.let { conn.sslSocketFactory = it }
        conn.connectTimeout = timeoutMs
        conn.readTimeout = timeoutMs
        conn.instanceFollowRedirects = false
        return conn
    }

    private fun socketFactory(): SSLSocketFactory? {
        val anchors = trustAnchors ?: return null
        val tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())
        tmf.init(anchors)
        return SSLContext.getInstance("TLS").apply { init(null, tmf.trustManagers, null) }.socketFactory
    }

    private const val TEXT = "text/plain; charset=utf-8"

    /**
     * One poll, in the protocol's order: the enrollment response if the relay does not have it,
     * `GET /queue` with every line handed to the agent (whichever of command, policy or root
     * rotation accepts it), due actions, queued receipts, then the check-in answering this
     * poll's challenge (once more with a new challenge if the relay calls it stale), and the push
     * token if it changed. Returns false when something should be retried. Off the main thread.
     */
    fun poll(context: Context, url: String): Boolean {
        var ok = true
        var agent = try {
            Quietline.agent(context)
        } catch (e: ApiException) {
            return false
        }
        // IT cannot address this phone until it has the response: before the queue.
        when (Enrollment.deliverResponse(context, agent)) {
            Enrollment.Delivery.FAILED, Enrollment.Delivery.CONFLICT -> ok = false
            else -> {}
        }
        var queue = try {
            fetchQueue(agent, url)
        } catch (e: IOException) {
            return false
        } catch (e: ApiException) {
            return false
        }
        if (!applyAll(context, queue.lines)) return ok // wiped by a command: nothing more to send
        Quietline.runPending(context)
        try {
            agent = Quietline.agent(context)
            if (deliverQueued(agent, url) > 0) ok = false
            var checkedIn = false
            var challenge = queue.challenge
            for (attempt in 0 until 2) {
                val c = challenge ?: break
                val answer = checkIn(agent, url, c)
                if (answer == CheckInAnswer.STORED) {
                    checkedIn = true
                    break
                }
                if (answer == CheckInAnswer.FAILED) break
                // Stale (another poll took a newer challenge): fetch again, check in with the new one.
                queue = fetchQueue(agent, url)
                if (!applyAll(context, queue.lines)) return ok
                agent = Quietline.agent(context)
                challenge = queue.challenge
            }
            if (!checkedIn || !registerPushToken(context, agent, url)) ok = false
        } catch (e: IOException) {
            ok = false
        } catch (e: ApiException) {
            // Wiped meanwhile: nothing more to send.
        }
        return ok
    }

    /** Hands each line to the agent; false when a command wiped the agent (stop the poll). */
    private fun applyAll(context: Context, lines: List<String>): Boolean {
        try {
            for (line in lines) {
                // Only the agent's verification decides; a line none accepts changes nothing.
                if (!Commands.apply(context, line, deliver = false) && !Commands.installPolicy(context, line)) {
                    Commands.applyRootRotation(context, line)
                }
                Quietline.agent(context) // throws once a command wiped the agent
            }
        } catch (e: ApiException) {
            return false
        }
        return true
    }

    /**
     * Remembers the push token a messaging service handed the app (for example FCM's
     * `onNewToken`); the next poll registers it with the relay. The app ships no push library,
     * so nothing calls this today and the relay is polled every 15 minutes instead.
     */
    fun setPushToken(context: Context, platform: String, token: String) {
        require(platform == "fcm" && isPushToken(token)) { "not an FCM token" }
        pushTokenFile(context).writeText("$platform $token")
    }

    /** Registers the stored push token unless the relay has it already; true when nothing is left to do. */
    private fun registerPushToken(context: Context, agent: Agent, url: String): Boolean {
        val stored = try {
            pushTokenFile(context).readText().trim()
        } catch (e: IOException) {
            return true // no token: nothing to register
        }
        val parts = stored.split(' ')
        if (parts.size != 2 || !isPushToken(parts[1])) return true
        val sent = File(context.noBackupFilesDir, "push-token-sent")
        val digest = MessageDigest.getInstance("SHA-256").digest((url + "\n" + stored).toByteArray(Charsets.UTF_8))
            .joinToString("") { "%02x".format(it) }
        val already = try {
            sent.readText() == digest
        } catch (e: IOException) {
            false
        }
        if (already) return true
        if (!putPushToken(agent, url, parts[0], parts[1])) return false
        try {
            sent.writeText(digest)
        } catch (e: IOException) {
            // Sent again at the next poll: harmless.
        }
        return true
    }

    private fun pushTokenFile(context: Context): File = File(context.noBackupFilesDir, "push-token")
}
