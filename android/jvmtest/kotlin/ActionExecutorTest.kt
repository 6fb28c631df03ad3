package org.quietline.jvmtest

import java.nio.file.Files
import java.security.SecureRandom
import java.time.Instant
import javax.crypto.Cipher
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec
import kotlin.system.exitProcess
import org.quietline.AckOutcome
import org.quietline.AckResult
import org.quietline.ActionKind
import org.quietline.Agent
import org.quietline.CallDirection
import org.quietline.Clock
import org.quietline.Event
import org.quietline.KeyProtector
import org.quietline.Line
import org.quietline.Mode
import org.quietline.NotifyKind
import org.quietline.WipeScope
import org.quietline.android.ActionExecutor
import org.quietline.android.Platform
import org.quietline.defaultPolicyJson

/** Records every platform call; throws SecurityException for the calls named in [refuse]. */
class FakePlatform(private val refuse: Set<String> = emptySet()) : Platform {
    val calls = mutableListOf<String>()

    private fun record(call: String) {
        val name = call.substringBefore('(')
        if (name in refuse) throw SecurityException("$name refused: not the device owner")
        calls += call
    }

    override fun setMaxTimeToLock(millis: Long) = record("setMaxTimeToLock($millis)")
    override fun requireSecureLock() = record("requireSecureLock()")
    override fun lockNow() = record("lockNow()")
    override fun setMaxFailedUnlocks(count: Int) = record("setMaxFailedUnlocks($count)")
    override fun deleteCallLog(number: String, since: Instant): Int { record("deleteCallLog($number,$since)"); return 1 }
    override fun deleteContacts(number: String): Int { record("deleteContacts($number)"); return 1 }
    override fun notify(kind: NotifyKind) = record("notify($kind)")
    override fun scheduleCallerIdCheck(at: Instant) = record("scheduleCallerIdCheck($at)")
    override fun purgeAppData() = record("purgeAppData()")
    override fun wipe(scope: WipeScope) = record("wipe($scope)")
}

/** AES-GCM under a key held in memory: enough for tests of the action mapping. */
class MemoryKeyProtector : KeyProtector {
    private val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
    override fun wrapKey(dataKey: ByteArray): ByteArray {
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.ENCRYPT_MODE, SecretKeySpec(key, "AES"))
        return c.iv + c.doFinal(dataKey)
    }
    override fun unwrapKey(wrapped: ByteArray): ByteArray {
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.DECRYPT_MODE, SecretKeySpec(key, "AES"), GCMParameterSpec(128, wrapped, 0, 12))
        return c.doFinal(wrapped, 12, wrapped.size - 12)
    }
    override fun destroyKey() {}
    // No generation record: these tests never copy a state directory back.
    override fun recordGeneration(generation: ULong) = false
    override fun recordedGeneration(): ULong? = null
}

/** A clock the test moves by hand. */
class TestClock(var now: Instant) : Clock {
    override fun now(): Instant = now
    override fun localOffsetSecs(): Int = 0
}

object ActionExecutorTest {
    private const val SURVIVOR = "+1 202 555 0143"
    private const val SURVIVOR_E164 = "+12025550143"

    private fun agent(mode: Mode, clock: TestClock): Agent {
        val dir = Files.createTempDirectory("ql-actions").resolve("agent").toString()
        return Agent.create(dir, "US", defaultPolicyJson(mode), MemoryKeyProtector(), clock)
    }

    @JvmStatic
    fun main(args: Array<String>) {
        System.setProperty("uniffi.component.quietline.libraryOverride", "quietline_android")
        val s = Suite("actions (JVM, real agent, fake platform)")
        // A Wednesday, 10:00 UTC: inside default working hours.
        val start = Instant.parse("2026-11-25T10:00:00Z")

        s.test("enrollment_actions_become_lock_policy_calls_and_are_acked_done") {
            val clock = TestClock(start)
            val agent = agent(Mode.WORK, clock)
            val platform = FakePlatform()
            val pending = agent.pendingActions()
            val lockSecs = pending.map { it.kind }.filterIsInstance<ActionKind.SetMaxTimeToLock>().single().secs
            val done = ActionExecutor(agent, platform).runPending()
            check(done.isNotEmpty() && done.all { it.result == AckResult.Done && it.outcome == AckOutcome.COMPLETED }) { "acks: $done" }
            check("setMaxTimeToLock(${lockSecs.toLong() * 1000})" in platform.calls) { "calls: ${platform.calls}" }
            check("requireSecureLock()" in platform.calls) { "calls: ${platform.calls}" }
            check(agent.pendingActions().isEmpty()) { "still pending after done acks" }
        }

        s.test("survivor_call_end_deletes_call_log_and_contacts_with_the_e164_number") {
            val clock = TestClock(start)
            val agent = agent(Mode.WORK, clock)
            ActionExecutor(agent, FakePlatform()).runPending()
            agent.registerSurvivor(SURVIVOR, null)
            val startedAt = start.plusSeconds(60)
            clock.now = start.plusSeconds(600)
            val outcome = agent.handle(Event.CallEnded(SURVIVOR, Line.HELPLINE, CallDirection.OUTGOING, startedAt, false))
            check(outcome.actions.any { it.kind is ActionKind.DeleteCallLog }) { "no call-log deletion issued" }
            clock.now = clock.now.plusSeconds(3600)
            val platform = FakePlatform()
            ActionExecutor(agent, platform).runPending()
            check(platform.calls.any { it.startsWith("deleteCallLog($SURVIVOR_E164,") }) { "calls: ${platform.calls}" }
            check("deleteContacts($SURVIVOR_E164)" in platform.calls) { "calls: ${platform.calls}" }
            check(agent.allPendingActions().none { it.kind is ActionKind.DeleteCallLog || it.kind is ActionKind.DeleteContact }) {
                "deletions still pending after done acks"
            }
        }

        s.test("security_exception_is_a_failed_ack_and_the_action_comes_back") {
            val clock = TestClock(start)
            val agent = agent(Mode.WORK, clock)
            val done = ActionExecutor(agent, FakePlatform(refuse = setOf("setMaxTimeToLock"))).runPending()
            val refused = done.single { it.result is AckResult.Failed }
            check(refused.outcome == AckOutcome.WILL_RETRY) { "outcome ${refused.outcome}" }
            check((refused.result as AckResult.Failed).reason.contains("SecurityException")) { "reason ${refused.result}" }
            val back = agent.allPendingActions().single { it.id == refused.id }
            check(back.attempts == 1u && back.kind is ActionKind.SetMaxTimeToLock) { "not pending again: $back" }
            clock.now = clock.now.plusSeconds(24 * 3600)
            val platform = FakePlatform()
            val retried = ActionExecutor(agent, platform).runPending()
            check(retried.any { it.id == refused.id && it.result == AckResult.Done }) { "not retried: $retried" }
        }

        s.test("purge_becomes_an_app_data_purge") {
            val clock = TestClock(start)
            val agent = agent(Mode.BYOD, clock)
            agent.registerSurvivor(SURVIVOR, null)
            val platform = FakePlatform()
            val done = ActionExecutor(agent, platform).runAll(agent.purgeSurvivorData())
            check("purgeAppData()" in platform.calls) { "calls: ${platform.calls}" }
            check(done.all { it.result == AckResult.Done }) { "acks: $done" }
            check(agent.survivorCount() == 0UL) { "survivors left" }
        }

        s.test("a_repeated_ack_after_a_restart_is_harmless") {
            val clock = TestClock(start)
            val agent = agent(Mode.WORK, clock)
            val first = ActionExecutor(agent, FakePlatform()).runPending().first()
            check(agent.ack(first.id, AckResult.Done) == AckOutcome.ALREADY_DONE) { "second ack not AlreadyDone" }
        }

        exitProcess(if (s.finish()) 0 else 1)
    }
}
