package org.quietline.robolectric

import java.io.File
import java.io.FileInputStream
import java.io.InputStream
import java.io.OutputStream
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.security.KeyStore
import java.security.cert.CertificateFactory
import java.util.concurrent.TimeUnit
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLSocket
import javax.net.ssl.TrustManagerFactory
import kotlin.concurrent.thread
import org.quietline.test.DEVICE_ID
import org.quietline.test.Org

/**
 * The real `quietline-relay` (the binary the test command builds, `-Dquietline.relay`) on
 * loopback with TLS (rustls) and a test certificate made by the test command
 * (`-Dquietline.tlsCert`/`-Dquietline.tlsKey`, for `127.0.0.1`), serving [org] (`acme`, its
 * pinned root) from a fresh SQLite file.
 *
 * - The phone talks to [phoneUrl] (`https://127.0.0.1:PORT/o/acme`, the bundle's relay URL)
 *   and trusts the certificate through [trust] (the app's test hook, `Relay.trustAnchors`).
 * - IT's `quietline-admin` trusts only the public web roots, so it reaches the relay through
 *   [itUrl]: a plain-HTTP port on loopback whose connections this class carries to the relay
 *   over TLS, checking its certificate and host name (what an IT laptop's HTTPS does against a
 *   relay with a public certificate).
 */
class TestRelay(val org: Org) : AutoCloseable {
    val db: File = File(org.dir, "relay.db")
    val trust: KeyStore = KeyStore.getInstance(KeyStore.getDefaultType()).apply {
        load(null, null)
        val cert = FileInputStream(prop("quietline.tlsCert")).use { CertificateFactory.getInstance("X.509").generateCertificate(it) }
        setCertificateEntry("test-relay", cert)
    }
    private val process: Process
    private val port: Int
    private val bridge = ServerSocket(0, 50, InetAddress.getLoopbackAddress())
    @Volatile private var closed = false
    private val open = mutableListOf<Socket>()

    val phoneUrl: String get() = "https://127.0.0.1:$port/o/acme"
    val itUrl: String get() = "http://127.0.0.1:${bridge.localPort}/o/acme"

    init {
        process = ProcessBuilder(
            prop("quietline.relay"), "--db", "sqlite:" + db.path, "--listen", "127.0.0.1:0",
            "--org", "acme=" + File(org.dir, "keys/root.pub").path,
            "--tls-cert", prop("quietline.tlsCert"), "--tls-key", prop("quietline.tlsKey"),
        ).redirectError(File(org.dir, "relay.log")).start()
        val line = process.inputStream.bufferedReader().readLine() ?: throw AssertionError("the relay did not start: " + File(org.dir, "relay.log").readText())
        port = Regex("https://127\\.0\\.0\\.1:(\\d+)").find(line)?.groupValues?.get(1)?.toInt() ?: throw AssertionError("relay said $line")
        val tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm()).apply { init(trust) }
        val tls = SSLContext.getInstance("TLS").apply { init(null, tmf.trustManagers, null) }.socketFactory
        thread(isDaemon = true, name = "it-bridge") {
            while (!closed) {
                val client = try {
                    bridge.accept()
                } catch (e: java.io.IOException) {
                    break
                }
                thread(isDaemon = true) {
                    try {
                        val upstream = tls.createSocket("127.0.0.1", port) as SSLSocket
                        upstream.sslParameters = upstream.sslParameters.apply { endpointIdentificationAlgorithm = "HTTPS" }
                        upstream.startHandshake()
                        synchronized(open) { open += client; open += upstream }
                        val back = thread(isDaemon = true) { pipe(upstream.inputStream, client.outputStream, client, upstream) }
                        pipe(client.inputStream, upstream.outputStream, client, upstream)
                        back.join(5_000)
                    } catch (e: java.io.IOException) {
                        client.close()
                    }
                }
            }
        }
    }

    private fun pipe(from: InputStream, to: OutputStream, a: Socket, b: Socket) {
        try {
            val buf = ByteArray(16 * 1024)
            while (true) {
                val n = from.read(buf)
                if (n < 0) break
                to.write(buf, 0, n)
                to.flush()
            }
        } catch (e: java.io.IOException) {
            // One side closed: close both.
        } finally {
            a.close()
            b.close()
        }
    }

    /** An enrollment bundle naming this relay, announced to it with IT's staff key. */
    fun bundle(mode: String): String {
        org.admin(
            "enroll", "--org", "acme", "--root-pub", "keys/root.pub", "--mode", mode, "--policy", "policy-1.ql",
            "--device-id", DEVICE_ID, "--relay-url", phoneUrl, "--relay", itUrl, "--relay-key", "keys/it.key", "--out", "bundle-relay.ql",
        )
        return File(org.dir, "bundle-relay.ql").readText().trim()
    }

    /** IT reads the phone's response from the relay and accepts it there (`devices/phone.json`). */
    fun accept(): String {
        val response = it("fleet", "enrollments", "--key", "keys/it.key").lines().single { it.startsWith("QL:") }
        File(org.dir, "devices").mkdirs()
        it("enroll", "accept", "--bundle", "bundle-relay.ql", "--out", "devices/phone.json", "--relay-key", "keys/it.key", response)
        return response
    }

    /** IT queues a command on the relay (`lock`, `wipe --scope selective`, …) signed with [key]. */
    fun command(vararg args: String, key: String = "keys/it.key"): String =
        it("command", *args, "--device", "devices/phone.json", "--key", key)

    /** `quietline-admin … --relay <itUrl>` in the org's directory. */
    fun it(vararg args: String): String = org.admin(*args, "--relay", itUrl)

    /** `fleet receipts` (each verified on IT's side against the device key) and `fleet status`. */
    fun receipts(): String = it("fleet", "receipts", "--key", "keys/it.key", "--device", "devices")
    fun status(): String = it("fleet", "status", "--key", "keys/it.key", "--device", "devices")

    /**
     * What a relay operator can do without any key: put an object in the phone's queue directly
     * in the database (python3's sqlite3, the relay running).
     */
    fun injectCommand(text: String, seq: Int) {
        val script = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=10)
now = int(time.time())
c.execute("INSERT INTO queue (org, id, target, kind, version, key_id, detail, body, created_at, expires_at) VALUES ('acme', ?, ?, 'command', ?, 'forged', 'lock', ?, ?, ?)",
          ("forged-" + sys.argv[3], sys.argv[2], int(sys.argv[3]), sys.argv[4], now, now + 3600))
c.commit()
"""
        val p = ProcessBuilder("python3", "-c", script, db.path, DEVICE_ID, seq.toString(), text).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) { "inject: $out" }
    }

    /** Runs one SQL statement on the relay's database, as its operator could (python3's sqlite3). */
    fun execute(sql: String) {
        val script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=10)\nc.execute(sys.argv[2])\nc.commit()"
        val p = ProcessBuilder("python3", "-c", script, db.path, sql).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) { "execute: $out" }
    }

    /** One column of the relay's database (python3's sqlite3). */
    fun query(sql: String): List<String> {
        val script = "import sqlite3, sys\nfor r in sqlite3.connect(sys.argv[1], timeout=10).execute(sys.argv[2]): print(r[0])"
        val p = ProcessBuilder("python3", "-c", script, db.path, sql).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) { "query: $out" }
        return out.lines().filter { it.isNotEmpty() }
    }

    override fun close() {
        closed = true
        bridge.close()
        synchronized(open) { open.forEach { it.close() } }
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor()
    }

    companion object {
        private fun prop(name: String): String = System.getProperty(name) ?: throw AssertionError("-D$name is not set (scripts/test.d/40-android.sh sets it)")
    }
}
