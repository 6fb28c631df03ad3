// Runs tests/conformance/*.json through the generated Kotlin bindings on the desktop JVM.
// Usage: java … org.quietline.test.Conformance VECTOR_DIR [TRANSCRIPT]
package org.quietline.test

import org.quietline.AckResult
import org.quietline.ActionKind
import org.quietline.Agent
import org.quietline.ApiException
import org.quietline.CallDirection
import org.quietline.ContactPlan
import org.quietline.Day
import org.quietline.DroppedCall
import org.quietline.Event
import org.quietline.Finding
import org.quietline.Line
import org.quietline.MessageLevel
import org.quietline.RuleGap
import org.quietline.SafeWindow
import org.quietline.Verdict
import org.quietline.softphoneCallUri
import java.io.File
import java.nio.file.Files
import java.time.Instant
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter
import kotlin.system.exitProcess

private val UTC_SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC)

private fun snake(name: String) = name.replace(Regex("(?<!^)([A-Z])"), "_$1").lowercase()

@Suppress("UNCHECKED_CAST")
private fun Any?.obj() = this as Map<String, Any?>

@Suppress("UNCHECKED_CAST")
private fun Any?.list() = this as List<Any?>

private fun Map<String, Any?>.str(k: String) = this[k] as String

fun verdictText(v: Verdict): String = when (v) {
    is Verdict.Allow -> "allow"
    is Verdict.Block -> "block(${v.reason.name.lowercase()})"
    is Verdict.Dial -> "dial(${v.dialString},voip=${v.viaVoip})"
    is Verdict.Warn -> "warn(${v.reason.name.lowercase()},${v.nextSafeAt?.let { UTC_SECONDS.format(it) } ?: "none"})"
    is Verdict.SendToVoicemail -> "send_to_voicemail"
}

fun actionText(k: ActionKind): String = when (k) {
    is ActionKind.SetMaxTimeToLock -> "set_max_time_to_lock:${k.secs}"
    is ActionKind.RequireSecureLock -> "require_secure_lock"
    is ActionKind.LockNow -> "lock_now"
    is ActionKind.SetMaxFailedUnlocks -> "set_max_failed_unlocks:${k.count}"
    is ActionKind.DeleteCallLog -> "delete_call_log"
    is ActionKind.DeleteContact -> "delete_contact"
    is ActionKind.Notify -> "notify:${k.kind.name.lowercase()}"
    is ActionKind.ScheduleCallerIdCheck -> "schedule_caller_id_check"
    is ActionKind.PurgeSurvivorData -> "purge_survivor_data"
    is ActionKind.Wipe -> "wipe:${k.scope.name.lowercase()}"
}

fun findingText(f: Finding): String = snake(f::class.simpleName ?: "?")

private fun plan(p: Any?): ContactPlan? {
    if (p == null) return null
    val m = p.obj()
    return ContactPlan(
        safeWindows = m["safe_windows"].list().map {
            val w = it.obj()
            SafeWindow(Day.valueOf(w.str("day").uppercase()), w.str("start"), w.str("end"))
        },
        voicemailAllowed = m["voicemail_allowed"] as Boolean,
        messageLevel = MessageLevel.valueOf(m.str("message_level").uppercase()),
        droppedCall = DroppedCall.valueOf(m.str("dropped_call").uppercase()),
    )
}

private fun event(e: Map<String, Any?>): Event {
    fun line() = Line.valueOf(e.str("line").uppercase())
    return when (e.str("type")) {
        "outgoing_call" -> Event.OutgoingCall(e.str("number"), line(), e["confirmed"] as Boolean)
        "call_ended" -> Event.CallEnded(
            e.str("number"), line(), CallDirection.valueOf(e.str("direction").uppercase()),
            Instant.parse(e.str("started_at")), e["dropped"] as Boolean,
        )
        "outgoing_sms" -> Event.OutgoingSms(e.str("number"))
        "incoming_call" -> Event.IncomingCall(e["number"] as String?)
        "posture" -> Event.Posture(
            (e["lock_timeout_secs"] as Long?)?.toUInt(), e["secure_lock"] as Boolean?, e["caller_id_hidden"] as Boolean?,
        )
        "platform_gaps" -> Event.PlatformGaps(e["gaps"].list().map { RuleGap.valueOf((it as String).uppercase()) })
        "handoff_requested" -> Event.HandoffRequested
        "tick" -> Event.Tick
        "check_in" -> Event.CheckIn
        "unlocked" -> Event.Unlocked
        "unlock_failed" -> Event.UnlockFailed
        else -> error("unknown event ${e["type"]}")
    }
}

private fun ackAll(agent: Agent) {
    for (a in agent.pendingActions()) agent.ack(a.id, AckResult.Done)
}

private fun run(file: File, dir: File, failures: MutableList<String>): List<String> {
    val v = Json.parse(file.readText()).obj()
    val name = file.nameWithoutExtension
    val clock = FrozenClock(v.str("start"), (v["local_offset_secs"] as Long).toInt())
    val agent = Agent.create(dir.path, v.str("region"), toJson(v["policy"]), XorProtector(), clock)
    for (s in v["survivors"].list()) agent.registerSurvivor(s.obj().str("number"), plan(s.obj()["plan"]))
    ackAll(agent)
    val lines = mutableListOf<String>()
    for ((i, stepAny) in v["steps"].list().withIndex()) {
        val step = stepAny.obj()
        clock.at = Instant.parse(step.str("at"))
        val exp = (step["expect"] ?: emptyMap<String, Any?>()).obj()
        fun check(what: String, got: Any?, want: Any?) {
            if (got != want) failures.add("$name step $i: $what was $got, expected $want")
        }
        val line = when {
            step.containsKey("event") -> {
                val out = agent.handle(event(step["event"].obj()))
                val gv = verdictText(out.verdict)
                val ga = out.actions.map { actionText(it.kind) }
                val gf = out.findings.map { findingText(it) }
                check("verdict", gv, exp["verdict"])
                check("actions", ga, exp["actions"])
                if (exp.containsKey("findings")) check("findings", gf, exp["findings"])
                "$gv [${ga.joinToString(",")}] [${gf.joinToString(",")}]"
            }
            step.containsKey("is_survivor") -> {
                val got = agent.isSurvivor(step.str("is_survivor"))
                check("is_survivor", got, exp["is_survivor"])
                "is_survivor=$got"
            }
            step.containsKey("register") -> {
                val got = try {
                    agent.registerSurvivor(step.str("register"), null)
                    "ok"
                } catch (e: ApiException) {
                    snake(e::class.simpleName ?: "?")
                }
                check("register", got, exp["error"] ?: "ok")
                "register=$got"
            }
            step.containsKey("softphone") -> {
                val sp = agent.softphone()
                val got = if (sp == null) "none" else "softphone(${softphoneCallUri(sp, step.str("softphone")) ?: "none"},${sp.androidPackage ?: "none"})"
                check("softphone", got, exp["softphone"])
                got
            }
            step["ack_all"] == true -> {
                ackAll(agent)
                "ack_all"
            }
            else -> error("$name step $i: unknown step")
        }
        lines.add("$name $i $line")
    }
    agent.wipe()
    agent.close()
    return lines
}

object Conformance {
    @JvmStatic
    fun main(args: Array<String>) {
        val files = File(args[0]).listFiles { f -> f.name.endsWith(".json") }!!.sortedBy { it.name }
        val tmp = Files.createTempDirectory("ql-conformance-kt").toFile()
        val transcript = mutableListOf<String>()
        val failures = mutableListOf<String>()
        var passed = 0
        for ((n, f) in files.withIndex()) {
            val before = failures.size
            transcript += run(f, File(tmp, n.toString()), failures)
            if (failures.size == before) passed++
        }
        tmp.deleteRecursively()
        if (args.size > 1) File(args[1]).writeText(transcript.joinToString("\n") + "\n")
        failures.forEach { println("FAIL $it") }
        println("kotlin conformance: $passed passed, ${files.size - passed} failed")
        exitProcess(if (failures.isEmpty() && files.isNotEmpty()) 0 else 1)
    }
}
