// The Kotlin side of the FFI benchmark (issue 4), on the desktop JVM through JNA: the same
// outgoing-SMS check to a registered survivor that bindings/examples/ffi_bench.rs times in Rust,
// the trivial getter `generation()`, which measures the bare UniFFI round trip (handle clone,
// call-status structure, JNA call, mutex and panic guard, return value), and libc's getpid()
// through the same JNA direct mapping, JNA's own floor. Run by scripts/ffi-bench.sh.
// Output: one line per measurement, `<name> <nanoseconds per call>`.
package org.quietline.bench

import com.sun.jna.Native
import org.quietline.Agent
import org.quietline.Clock
import org.quietline.Event
import org.quietline.KeyProtector
import org.quietline.Verdict
import java.io.File
import java.nio.file.Files
import java.time.Instant

private const val SURVIVOR = "+1 207-555-0100"
private const val BATCHES = 7

private object FrozenClock : Clock {
    private val t0 = Instant.parse("2026-11-23T15:00:00Z")
    override fun now(): Instant = t0
    override fun localOffsetSecs(): Int = 0
}

/** Not a real protector: the benchmark measures decisions, not the key store. */
private object XorProtector : KeyProtector {
    override fun wrapKey(dataKey: ByteArray) = ByteArray(dataKey.size) { (dataKey[it].toInt() xor 0x5a).toByte() }
    override fun unwrapKey(wrapped: ByteArray) = ByteArray(wrapped.size) { (wrapped[it].toInt() xor 0x5a).toByte() }
    override fun destroyKey() {}
    override fun recordGeneration(generation: ULong) = false
    override fun recordedGeneration(): ULong? = null
}

/** libc's getpid through JNA direct mapping, as UniFFI maps its own functions: JNA's bare cost. */
private object LibC {
    init {
        Native.register("c")
    }

    external fun getpid(): Int
}

/** Mean nanoseconds per call of the fastest of BATCHES batches, after a warm-up batch for the JIT. */
private inline fun time(calls: Int, f: () -> Unit): Double {
    repeat(calls) { f() }
    var best = Double.MAX_VALUE
    repeat(BATCHES) {
        val start = System.nanoTime()
        repeat(calls) { f() }
        best = minOf(best, (System.nanoTime() - start).toDouble() / calls)
    }
    return best
}

object FfiBench {
    @JvmStatic
    fun main(args: Array<String>) {
        val survivors = args.getOrNull(0)?.toInt() ?: 100
        val calls = args.getOrNull(1)?.toInt() ?: 200_000
        val tmp = Files.createTempDirectory("ql-ffi-bench").toFile()
        try {
            Agent.create(File(tmp, "agent").path, "US", """{"schema":1,"mode":"byod"}""", XorProtector, FrozenClock).use { agent ->
                for (i in 0 until survivors - 1) agent.registerSurvivor("+1 312-555-%04d".format(i % 10_000))
                agent.registerSurvivor(SURVIVOR)
                check(agent.handle(Event.OutgoingSms(SURVIVOR)).verdict is Verdict.Block) { "not blocked" }
                var sink = 0L
                val sms = time(calls) { sink += agent.handle(Event.OutgoingSms(SURVIVOR)).actions.size }
                val generation = time(calls) { sink += agent.generation().toLong() }
                val getpid = time(calls) { sink += LibC.getpid() }
                println("kotlin_jna_sms %.1f".format(sms))
                println("kotlin_jna_generation %.1f".format(generation))
                println("kotlin_jna_getpid %.1f".format(getpid))
                if (sink == Long.MIN_VALUE) println(sink)
            }
        } finally {
            tmp.deleteRecursively()
        }
    }
}
