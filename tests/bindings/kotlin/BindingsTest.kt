// Exercises every exported item of the Kotlin bindings on the desktop JVM, error paths included.
// Usage: java … org.quietline.test.BindingsTest
package org.quietline.test

import org.quietline.AckOutcome
import org.quietline.AckResult
import org.quietline.ActionKind
import org.quietline.Agent
import org.quietline.PlatformCaps
import org.quietline.ApiException
import org.quietline.AuditKind
import org.quietline.CallDirection
import org.quietline.CallGuidance
import org.quietline.CommandAction
import org.quietline.CommandStatus
import org.quietline.ContactPlan
import org.quietline.Day
import org.quietline.DroppedCall
import org.quietline.HiddenNumbers
import org.quietline.Event
import org.quietline.Finding
import org.quietline.KeyProtectorException
import org.quietline.Line
import org.quietline.MessageLevel
import org.quietline.Mode
import org.quietline.SafeWindow
import org.quietline.TextDirection
import org.quietline.Verdict
import org.quietline.WipeScope
import org.quietline.defaultContactPlan
import org.quietline.defaultPolicyJson
import org.quietline.takeWipeReceipt
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

private const val WORK_RULES = """{"schema":1,"mode":"work","wipe":{"allow_full":true}}"""

/** An org made with the admin CLI and a phone enrolled from its bundle, on the device clock (the CLI signs with the current time). */
private fun enrolled(
    dir: File,
    rules: String = WORK_RULES,
    mode: String = "work",
    protector: XorProtector = XorProtector(),
): Pair<Org, Agent> {
    val org = Org(File(dir.parentFile, "org"), rules, mode)
    val agent = Agent.enroll(dir.path, "US", org.bundle, protector)
    agent.setPlatformCaps(PlatformCaps(fullWipe = true, prefixDialing = true))
    org.accept(agent.enrollmentResponse()!!)
    return org to agent
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
            val script = "Hello, this is [your first name]. I'm returning your call."
            check(out.guidance == CallGuidance(true, MessageLevel.VAGUE, DroppedCall.THEY_CALL_BACK, hiddenNumbers = HiddenNumbers.ACCEPTED, voicemailScript = script, reviewDue = false, droppedCallPractice = null)) { "guidance ${out.guidance}" }
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
    "survivors' texts are held without their number, replied to as rule 3 says, purged" to { dir ->
        newAgent(dir, policy = """{"schema":1,"mode":"work","sms":{"block_to_survivors":false}}""").use { agent ->
            agent.registerSurvivor(SURVIVOR)
            val id = agent.holdText("+12075550100", TextDirection.INCOMING, "are you free at 6")!!
            check(agent.holdText("+12075550199", TextDirection.INCOMING, "hi") == null) { "not a survivor's: the provider's" }
            val held = agent.heldTexts().single()
            check(held.id == id && held.body == "are you free at 6" && held.conversation == 1u) { "held: $held" }
            check("5550100" !in held.toString()) { "the list names the number" }
            val reply = agent.replyToHeldText(id, "yes")
            check(reply.outcome.verdict == Verdict.Allow && reply.sendTo == "+12075550100" && reply.held != null) { "reply" }
            check(agent.heldTexts().map { it.direction } == listOf(TextDirection.INCOMING, TextDirection.OUTGOING)) { "reply held" }
            raises<ApiException.InvalidInput> { agent.holdText(SURVIVOR, TextDirection.INCOMING, "x".repeat(4097)) }
            check(agent.discardHeldText(id) && !agent.discardHeldText(id)) { "discard" }
            raises<ApiException.InvalidInput> { agent.replyToHeldText(id, "again") }
            agent.purgeSurvivorData()
            check(agent.heldTexts().isEmpty()) { "purged" }
        }
        val blocked = File(dir.parentFile, "blocked")
        newAgent(blocked, policy = """{"schema":1,"mode":"work"}""").use { agent ->
            agent.registerSurvivor(SURVIVOR)
            val id = agent.holdText(SURVIVOR, TextDirection.INCOMING, "x")!!
            val reply = agent.replyToHeldText(id, "y")
            check(reply.outcome.verdict is Verdict.Block && reply.sendTo == null && reply.held == null) { "blocked reply" }
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
        check(raises<ApiException.Wiped> { agent.pendingActions() }.scope == null) { "no platform wipe owed" }
        raises<ApiException.Wiped> { agent.handle(Event.Tick) }
        raises<ApiException.Wiped> { agent.wipe() }
        raises<ApiException.NotInitialized> { Agent.open(dir.path, protector) }
        agent.close()
    },
    "enroll pins the org and answers with a response" to { dir ->
        val (org, agent) = enrolled(dir)
        val response = agent.enrollmentResponse()!!
        agent.use {
            check(it.enrollmentResponse()!!.startsWith("QL:")) { "response" }
            check(it.deviceId() == DEVICE_ID && it.policyVersion() == 1UL && it.relayUrl() == RELAY) { "trust getters" }
            check(!it.policyIsStale() && it.queuedReceipts().isEmpty()) { "fresh" }
            check(it.pendingActions().any { a -> a.kind is ActionKind.SetMaxTimeToLock }) { "first actions" }
            raises<ApiException.NotAllowed> { it.installPolicyJson(BYOD) }
            raises<ApiException.AlreadyInitialized> { Agent.enroll(dir.path, "US", org.bundle, XorProtector()) }
        }
        Agent.open(dir.path, XorProtector()).use {
            check(it.deviceId() == DEVICE_ID && it.enrollmentResponse() == response) { "kept after a restart" }
        }
        for (bad in listOf("", "QL:", "hello", "QL:" + "A".repeat(100000), org.bundle.dropLast(8), org.bundle + "AAAA")) {
            raises<ApiException.Untrusted> { Agent.enroll(File(dir.parentFile, "bad").path, "US", bad, XorProtector()) }
        }
        raises<ApiException.InvalidRegion> { Agent.enroll(File(dir.parentFile, "bad").path, "ZZ", org.bundle, XorProtector()) }
    },
    "an unenrolled agent has no trust surface" to { dir ->
        newAgent(dir).use {
            check(it.enrollmentResponse() == null && it.deviceId() == null && it.policyVersion() == null) { "getters" }
            check(it.relayUrl() == null && !it.policyIsStale() && it.queuedReceipts().isEmpty()) { "getters" }
            raises<ApiException.WrongState> { it.applyCommand("QL:AAAA") }
            raises<ApiException.WrongState> { it.installSignedPolicy("QL:AAAA") }
            raises<ApiException.WrongState> { it.receiptDelivered("QL:AAAA") }
        }
        check(takeWipeReceipt(dir.path) == null && takeWipeReceipt("") == null) { "no receipt" }
    },
    "lock command is applied, replayed, acked and its receipt verifies" to { dir ->
        val (org, agent) = enrolled(dir)
        agent.use {
            val lock = org.command("lock")
            val result = it.applyCommand(lock)
            check(result.status == CommandStatus.APPLIED && result.requested == CommandAction.LOCK) { "applied $result" }
            check(result.commandId.length == 32 && result.receipt == null && result.wipe == null) { "fields $result" }
            val action = result.actions.single()
            check(action.kind == ActionKind.LockNow) { "lock now" }
            val replay = it.applyCommand(lock)
            check(replay.status == CommandStatus.REPLAYED && replay.actions.isEmpty() && replay.commandId == result.commandId) { "replay" }
            check(it.ack(action.id, AckResult.Done) == AckOutcome.COMPLETED) { "ack" }
            val receipt = it.queuedReceipts().single()
            val fields = org.verifyReceipt(receipt)
            check(fields["requested"] == "lock" && fields["outcome"] == "done" && fields["command_id"] == result.commandId) { "receipt $fields" }
            check(it.receiptDelivered(receipt) && !it.receiptDelivered(receipt) && it.queuedReceipts().isEmpty()) { "delivered" }
            val ping = it.applyCommand(org.command("ping"))
            check(org.verifyReceipt(ping.receipt!!)["requested"] == "ping") { "ping receipt" }
        }
    },
    "forged and garbage commands are untrusted and change nothing" to { dir ->
        val (org, agent) = enrolled(dir)
        agent.use {
            val lock = org.command("lock")
            val forged = lock.dropLast(4) + if (lock.endsWith("AAAA")) "BBBB" else "AAAA"
            val before = it.generation() to it.allPendingActions()
            for (bad in listOf("", "QL:", "garbage", "QL:" + "A".repeat(100000), forged, lock.dropLast(10), "\u0000".repeat(10))) {
                val e = raises<ApiException.Untrusted> { it.applyCommand(bad) }
                check(!Regex("\\d{7,}").containsMatchIn(e.toString()) && (bad.length < 8 || bad !in e.toString())) { "echoes input: $e" }
            }
            check((it.generation() to it.allPendingActions()) == before) { "a refused command changed state" }
            it.applyCommand(lock)
            raises<ApiException.Untrusted> { it.applyCommand(org.command("ping", "--seq", "1")) }
        }
    },
    "signed policies install once and never roll back" to { dir ->
        val (org, agent) = enrolled(dir)
        agent.use {
            val v2 = org.policy(2, """{"schema":1,"mode":"work","wipe":{"allow_full":true},"auto_lock":{"max_timeout_secs":60}}""")
            check(ActionKind.SetMaxTimeToLock(60u) in it.installSignedPolicy(v2).map { a -> a.kind }) { "v2 actions" }
            check(it.policyVersion() == 2UL && "\"max_timeout_secs\":60" in it.policyJson()) { "v2 installed" }
            check(it.installSignedPolicy(v2).isEmpty()) { "same policy again" }
            val v1 = File(org.dir, "policy-1.ql").readText().trim()
            for (bad in listOf(v1, "", "garbage", "QL:" + "A".repeat(100000), v2.dropLast(6))) {
                raises<ApiException.Untrusted> { it.installSignedPolicy(bad) }
            }
            for (bad in listOf("", "garbage", v2)) raises<ApiException.Untrusted> { it.applyRootRotation(bad) }
            check(it.policyVersion() == 2UL) { "rolled back" }
        }
    },
    "full wipe command erases and hands over scope and receipt" to { dir ->
        val protector = XorProtector()
        val (org, agent) = enrolled(dir, protector = protector)
        agent.use {
            val result = it.applyCommand(org.command("wipe", "--scope", "full"))
            check(result.status == CommandStatus.APPLIED && result.wipe == WipeScope.FULL) { "wipe $result" }
            check(protector.destroyed && !File(dir, "state.qls").exists()) { "not erased" }
            check(raises<ApiException.Wiped> { it.pendingActions() }.scope == WipeScope.FULL) { "scope" }
            check(raises<ApiException.Wiped> { it.queuedReceipts() }.scope == WipeScope.FULL) { "scope" }
            check(raises<ApiException.Wiped> { it.wipe() }.scope == WipeScope.FULL) { "scope" }
            val receipt = takeWipeReceipt(dir.path)
            check(receipt == result.receipt && takeWipeReceipt(dir.path) == null) { "wipe receipt taken once" }
            val fields = org.verifyReceipt(receipt!!)
            check(fields["requested"] == "wipe_full" && fields["outcome"] == "erased" && fields["performed"] == "full") { "receipt $fields" }
        }
    },
    "failed unlocks self-wipe leaves scope and receipt" to { dir ->
        val (org, agent) = enrolled(dir, rules = """{"schema":1,"mode":"byod","offline":{"max_failed_unlocks":3}}""", mode = "byod")
        agent.use {
            repeat(2) { _ -> check(it.handle(Event.UnlockFailed).actions.isEmpty()) { "early wipe" } }
            val out = it.handle(Event.UnlockFailed)
            check(ActionKind.Wipe(WipeScope.SELECTIVE) in out.actions.map { a -> a.kind }) { "wipe action" }
            check(raises<ApiException.Wiped> { it.pendingActions() }.scope == WipeScope.SELECTIVE) { "scope" }
            val fields = org.verifyReceipt(takeWipeReceipt(dir.path)!!)
            check(fields["performed"] == "selective" && fields["reason"] == "failed_unlocks") { "receipt $fields" }
        }
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
