// Exercises every exported item of the Kotlin bindings on the desktop JVM, error paths included.
// Usage: java … org.quietline.test.BindingsTest
package org.quietline.test

import org.quietline.AckOutcome
import org.quietline.AckResult
import org.quietline.ActionKind
import org.quietline.Agent
import org.quietline.ApiException
import org.quietline.AuditKind
import org.quietline.CallDirection
import org.quietline.CallGuidance
import org.quietline.ContactPlan
import org.quietline.Day
import org.quietline.DroppedCall
import org.quietline.Event
import org.quietline.Finding
import org.quietline.KeyProtectorException
import org.quietline.Line
import org.quietline.MessageLevel
import org.quietline.Mode
import org.quietline.SafeWindow
import org.quietline.Verdict
import org.quietline.defaultContactPlan
import org.quietline.defaultPolicyJson
import java.io.File
import java.nio.file.Files
import java.time.Instant
import kotlin.system.exitProcess

private const val BYOD = """{"schema":1,"mode":"byod"}"""
private const val SURVIVOR = "(207) 555-0100"

private fun check(ok: Boolean, what: () -> String) {
    if (!ok) throw AssertionError(what())
}

private inline fun <reified E : Throwable> raises(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) {
            check("5550100" !in e.toString()) { "the error names the number: $e" }
            return e
        }
        throw AssertionError("expected ${E::class.simpleName}, got $e", e)
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was thrown")
}

private fun newAgent(
    dir: File,
    policy: String = BYOD,
    region: String = "US",
    protector: XorProtector = XorProtector(),
    clock: FrozenClock = FrozenClock("2026-11-23T15:00:00Z", -18000),
) = Agent.create(dir.path, region, policy, protector, clock)

private val tests: List<Pair<String, (File) -> Unit>> = listOf(
    "kotlin key protector creates, commits and reopens" to { dir ->
        val protector = XorProtector()
        val clock = FrozenClock("2026-11-23T15:00:00Z")
        newAgent(dir, protector = protector, clock = clock).use { it.registerSurvivor(SURVIVOR) }
        check(protector.wrapped == 1) { "wrapKey was not called" }
        Agent.open(dir.path, protector, clock).use {
            check(protector.unwrapped == 1) { "unwrapKey was not called" }
            check(it.isSurvivor("+12075550100")) { "survivor lost across reopen" }
            check(it.survivorCount() == 1UL) { "count" }
            check(it.region() == "US" && it.generation() >= 2UL) { "region/generation" }
        }
        Agent.open(dir.path, protector).use { check(it.compliance().mode == Mode.BYOD) { "default clock" } }
    },
    "throwing key protector is a typed error and loses nothing" to { dir ->
        val gen = newAgent(dir).use { it.registerSurvivor(SURVIVOR); it.generation() }
        raises<ApiException.KeyStoreUnavailable> {
            Agent.open(dir.path, FailingProtector(KeyProtectorException.Unavailable("locked")))
        }
        raises<ApiException.KeyInvalidated> { Agent.open(dir.path, FailingProtector(KeyProtectorException.KeyInvalidated())) }
        raises<ApiException.KeyStoreFailed> { Agent.open(dir.path, FailingProtector(IllegalStateException("boom"))) }
        raises<ApiException.KeyStoreFailed> {
            newAgent(File(dir, "other"), protector = object : XorProtector() {
                override fun wrapKey(dataKey: ByteArray): ByteArray = throw RuntimeException("no keystore")
            })
        }
        Agent.open(dir.path, XorProtector(), FrozenClock("2026-11-23T15:05:00Z")).use {
            check(it.isSurvivor(SURVIVOR) && it.generation() == gen) { "state changed after failed opens" }
        }
    },
    "wrong-state and bad inputs are typed errors" to { dir ->
        raises<ApiException.NotInitialized> { Agent.open(File(dir, "missing").path, XorProtector()) }
        raises<ApiException.InvalidInput> { Agent.open("", XorProtector()) }
        for (bad in listOf("", "{", "null", """{"schema":2,"mode":"byod"}""", """{"schema":1,"mode":"byod","x":1}""", " ".repeat(70000))) {
            raises<ApiException.InvalidPolicy> { newAgent(File(dir, "p"), policy = bad) }
        }
        for (bad in listOf("", "ZZ", "USA")) raises<ApiException.InvalidRegion> { newAgent(File(dir, "r"), region = bad) }
        newAgent(dir).use { agent ->
            raises<ApiException.AlreadyInitialized> { newAgent(dir) }
            for (bad in listOf("", "abc", "1".repeat(65), "\u0000", "☎".repeat(100))) {
                raises<ApiException.InvalidNumber> { agent.registerSurvivor(bad) }
                raises<ApiException.InvalidNumber> { agent.isSurvivor(bad) }
                raises<ApiException.InvalidNumber> { agent.forgetSurvivor(bad) }
            }
            raises<ApiException.InvalidNumber> { agent.registerSurvivor("911") }
            raises<ApiException.InvalidNumber> { agent.handle(Event.OutgoingSms("x".repeat(10000))) }
            check(agent.handle(Event.IncomingCall("garbage")).verdict is Verdict.Allow) { "unreadable caller rings" }
            for (bad in listOf(0UL, 999UL, ULong.MAX_VALUE)) raises<ApiException.UnknownAction> { agent.ack(bad, AckResult.Done) }
            val reversed = ContactPlan(listOf(SafeWindow(Day.MON, "20:00", "18:00")), true, MessageLevel.NONE, DroppedCall.WE_CALL_BACK)
            raises<ApiException.InvalidContactPlan> { agent.registerSurvivor(SURVIVOR, reversed) }
            raises<ApiException.InvalidContactPlan> {
                agent.registerSurvivor(SURVIVOR, reversed.copy(safeWindows = listOf(SafeWindow(Day.MON, "9am", "10am"))))
            }
            raises<ApiException.InvalidPolicy> { agent.installPolicyJson("""{"schema":1,"mode":"byod","wipe":{"allow_full":true}}""") }
            raises<ApiException.InvalidRegion> { agent.setRegion("XX") }
            check(agent.survivorCount() == 0UL) { "a refused call changed state" }
        }
    },
    "every event is handled" to { dir ->
        newAgent(dir).use { agent ->
            agent.registerSurvivor(SURVIVOR)
            var out = agent.handle(Event.OutgoingCall(SURVIVOR, Line.DIRECT, false))
            check(out.verdict == Verdict.Dial("*672075550100", false)) { "dial ${out.verdict}" }
            check(out.guidance == CallGuidance(true, MessageLevel.VAGUE, DroppedCall.THEY_CALL_BACK)) { "guidance" }
            out = agent.handle(Event.CallEnded(SURVIVOR, Line.DIRECT, CallDirection.OUTGOING, Instant.parse("2026-11-23T14:55:00Z"), false))
            val del = out.actions.first().kind as ActionKind.DeleteCallLog
            check(del.number == "+12075550100" && del.since == Instant.parse("2026-11-23T14:54:00Z")) { "deletion" }
            check(agent.handle(Event.OutgoingSms(SURVIVOR)).verdict is Verdict.Block) { "sms" }
            check(agent.handle(Event.IncomingCall(null)).verdict is Verdict.Allow) { "hidden caller" }
            out = agent.handle(Event.Posture(0u, false, false))
            check(Finding.SecureLockMissing in out.findings) { "posture ${out.findings}" }
            for (e in listOf(Event.Tick, Event.CheckIn, Event.Unlocked, Event.UnlockFailed, Event.HandoffRequested)) agent.handle(e)
            check(agent.survivorCount() == 0UL) { "handoff purges" }
        }
    },
    "acks: done, failed with backoff, repeated" to { dir ->
        val clock = FrozenClock("2026-11-23T15:00:00Z")
        newAgent(dir, clock = clock).use { agent ->
            val (first, second) = agent.pendingActions()
            check(agent.ack(first.id, AckResult.Done) == AckOutcome.COMPLETED) { "done" }
            check(agent.ack(first.id, AckResult.Done) == AckOutcome.ALREADY_DONE) { "repeat" }
            check(agent.ack(second.id, AckResult.Failed("denied for 207 555 0100")) == AckOutcome.WILL_RETRY) { "fail" }
            check(agent.pendingActions().none { it.id == second.id }) { "backoff" }
            val later = agent.allPendingActions().single { it.id == second.id }
            check(later.attempts == 1u && "555" !in later.lastError!!) { "masked ${later.lastError}" }
            check(agent.compliance().findings.any { it is Finding.ActionFailing }) { "compliance" }
            clock.at = Instant.parse("2026-11-23T15:01:00Z")
            check(agent.pendingActions().any { it.id == second.id }) { "retry due" }
        }
    },
    "survivors, policy, region, compliance, audit" to { dir ->
        newAgent(dir).use { agent ->
            val plan = defaultContactPlan()
            check(plan.voicemailAllowed && plan.messageLevel == MessageLevel.VAGUE && plan.safeWindows.isEmpty()) { "default plan" }
            agent.registerSurvivor(SURVIVOR, plan.copy(safeWindows = listOf(SafeWindow(Day.TUE, "18:00", "20:00"))))
            agent.registerSurvivor("207-555-0101")
            check(agent.forgetSurvivor("2075550101") && !agent.forgetSurvivor("2075550101")) { "forget" }
            check(agent.purgeSurvivorData().map { it.kind } == listOf(ActionKind.PurgeSurvivorData)) { "purge" }
            check(agent.survivorCount() == 0UL) { "purged" }
            val actions = agent.installPolicyJson("""{"schema":1,"mode":"byod","auto_lock":{"max_timeout_secs":60}}""")
            check(ActionKind.SetMaxTimeToLock(60u) in actions.map { it.kind }) { "install" }
            check("\"max_timeout_secs\":60" in agent.policyJson()) { "policy json" }
            check("\"mode\":\"work\"" in defaultPolicyJson(Mode.WORK)) { "default policy" }
            agent.setRegion("gb")
            check(agent.region() == "GB") { "region" }
            val report = agent.compliance()
            check(report.mode == Mode.BYOD && Finding.CallerIdCheckOverdue in report.findings) { "report" }
            val records = agent.auditExport()
            check(records.first().kind == AuditKind.AGENT_CREATED && records.zipWithNext().all { (a, b) -> b.prev == a.hash }) { "chain" }
        }
        val anon = File(dir.parentFile, "anon")
        newAgent(anon, policy = """{"schema":1,"mode":"work","retention":{"anonymous_hotline":true}}""").use {
            raises<ApiException.NotAllowed> { it.registerSurvivor(SURVIVOR) }
        }
    },
    "damaged state is a typed error" to { dir ->
        newAgent(dir).close()
        val state = File(dir, "state.qls")
        val bytes = state.readBytes()
        bytes[bytes.size - 1] = (bytes[bytes.size - 1].toInt() xor 1).toByte()
        state.writeBytes(bytes)
        raises<ApiException.StateDamaged> { Agent.open(dir.path, XorProtector()) }
    },
    "wipe erases and refuses further calls" to { dir ->
        val protector = XorProtector()
        val agent = newAgent(dir, protector = protector)
        agent.wipe()
        check(protector.destroyed && !File(dir, "state.qls").exists()) { "not erased" }
        raises<ApiException.Wiped> { agent.pendingActions() }
        raises<ApiException.Wiped> { agent.handle(Event.Tick) }
        raises<ApiException.Wiped> { agent.wipe() }
        raises<ApiException.NotInitialized> { Agent.open(dir.path, protector) }
        agent.close()
    },
    "a broken clock is an internal error, not a crash" to { dir ->
        newAgent(dir, clock = FrozenClock("2026-11-23T15:00:00Z")).use { it.registerSurvivor(SURVIVOR, defaultContactPlan().copy(safeWindows = listOf(SafeWindow(Day.TUE, "18:00", "20:00")))) }
        val bad = object : org.quietline.Clock {
            override fun now(): Instant = Instant.parse("2026-11-23T15:00:00Z")
            override fun localOffsetSecs(): Int = 1_000_000
        }
        Agent.open(dir.path, XorProtector(), bad).use { agent ->
            raises<ApiException.Internal> { agent.handle(Event.OutgoingCall(SURVIVOR, Line.DIRECT, false)) }
            raises<ApiException.Internal> { agent.pendingActions() }
        }
        Agent.open(dir.path, XorProtector(), FrozenClock("2026-11-23T15:00:00Z")).use {
            check(it.isSurvivor(SURVIVOR)) { "state lost" }
        }
    },
)

object BindingsTest {
    @JvmStatic
    fun main(args: Array<String>) {
        var passed = 0
        var failed = 0
        for ((name, test) in tests) {
            val tmp = Files.createTempDirectory("ql-kt").toFile()
            try {
                test(File(tmp, "agent"))
                passed++
                println("ok   $name")
            } catch (e: Throwable) {
                failed++
                println("FAIL $name: $e")
                e.printStackTrace()
            } finally {
                tmp.deleteRecursively()
            }
        }
        println("kotlin bindings: $passed passed, $failed failed")
        exitProcess(if (failed == 0) 0 else 1)
    }
}
