// A frozen clock, test key protectors and a small JSON reader, for the Kotlin binding tests.
package org.quietline.test

import org.quietline.Clock
import org.quietline.KeyProtector
import org.quietline.KeyProtectorException
import java.time.Instant

class FrozenClock(var at: Instant, private val offsetSecs: Int = 0) : Clock {
    constructor(at: String, offsetSecs: Int = 0) : this(Instant.parse(at), offsetSecs)

    @Synchronized override fun now(): Instant = at

    override fun localOffsetSecs(): Int = offsetSecs
}

/** Not a real protector: enough to prove the data key goes through the app's code. */
open class XorProtector : KeyProtector {
    var wrapped = 0
    var unwrapped = 0
    var destroyed = false

    override fun wrapKey(dataKey: ByteArray): ByteArray {
        wrapped++
        return ByteArray(dataKey.size) { (dataKey[it].toInt() xor 0x5a).toByte() }
    }

    override fun unwrapKey(wrapped: ByteArray): ByteArray {
        unwrapped++
        return ByteArray(wrapped.size) { (wrapped[it].toInt() xor 0x5a).toByte() }
    }

    override fun destroyKey() {
        destroyed = true
    }

    // Keeps no generation record (rollback detection is tested in bindings/tests/rollback.rs).
    override fun recordGeneration(generation: ULong): Boolean = false

    override fun recordedGeneration(): ULong? = null
}

/** A key store that is locked or broken: every call throws. */
class FailingProtector(private val error: Exception) : KeyProtector {
    override fun wrapKey(dataKey: ByteArray): ByteArray = throw error

    override fun unwrapKey(wrapped: ByteArray): ByteArray = throw error

    override fun destroyKey(): Unit = throw error

    override fun recordGeneration(generation: ULong): Boolean = throw error

    override fun recordedGeneration(): ULong? = throw error
}

/** Reads JSON into Map, List, String, Long, Double, Boolean and null. */
class Json private constructor(private val s: String) {
    private var i = 0

    companion object {
        fun parse(text: String): Any? {
            val p = Json(text)
            val v = p.value()
            p.ws()
            require(p.i == text.length) { "trailing characters at $p.i" }
            return v
        }
    }

    private fun ws() {
        while (i < s.length && s[i].isWhitespace()) i++
    }

    private fun value(): Any? {
        ws()
        return when (val c = s[i]) {
            '{' -> obj()
            '[' -> arr()
            '"' -> str()
            't' -> lit("true", true)
            'f' -> lit("false", false)
            'n' -> lit("null", null)
            else -> if (c == '-' || c.isDigit()) num() else error("unexpected '$c' at $i")
        }
    }

    private fun lit(word: String, v: Any?): Any? {
        require(s.startsWith(word, i)) { "bad literal at $i" }
        i += word.length
        return v
    }

    private fun num(): Any {
        val start = i
        while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
        val t = s.substring(start, i)
        return t.toLongOrNull() ?: t.toDouble()
    }

    private fun str(): String {
        val b = StringBuilder()
        i++
        while (s[i] != '"') {
            if (s[i] == '\\') {
                i++
                when (s[i]) {
                    'n' -> b.append('\n')
                    't' -> b.append('\t')
                    'u' -> {
                        b.append(s.substring(i + 1, i + 5).toInt(16).toChar())
                        i += 4
                    }
                    else -> b.append(s[i])
                }
            } else {
                b.append(s[i])
            }
            i++
        }
        i++
        return b.toString()
    }

    private fun arr(): List<Any?> {
        val out = mutableListOf<Any?>()
        i++
        ws()
        if (s[i] == ']') { i++; return out }
        while (true) {
            out.add(value())
            ws()
            if (s[i++] == ']') return out
        }
    }

    private fun obj(): Map<String, Any?> {
        val out = linkedMapOf<String, Any?>()
        i++
        ws()
        if (s[i] == '}') { i++; return out }
        while (true) {
            ws()
            val k = str()
            ws()
            i++ // ':'
            out[k] = value()
            ws()
            if (s[i++] == '}') return out
        }
    }
}

/** Writes JSON (for handing a vector's policy to the agent). */
fun toJson(v: Any?): String = when (v) {
    null -> "null"
    is String -> "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\""
    is Map<*, *> -> v.entries.joinToString(",", "{", "}") { toJson(it.key) + ":" + toJson(it.value) }
    is List<*> -> v.joinToString(",", "[", "]") { toJson(it) }
    else -> v.toString()
}
