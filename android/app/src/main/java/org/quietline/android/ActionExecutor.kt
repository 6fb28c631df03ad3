package org.quietline.android

import org.quietline.AckOutcome
import org.quietline.AckResult
import org.quietline.Action
import org.quietline.ActionKind
import org.quietline.Agent

/**
 * Carries out the agent's actions on the platform and acknowledges each with what really
 * happened: a platform refusal (SecurityException, a missing role or permission) is a failed ack,
 * which the agent retries after a backoff and reports to IT staff, and what Android never allows
 * is acked Unsupported (a compliance gap); neither is ever acknowledged as done.
 * Failure reasons name the exception type only, never a number.
 */
class ActionExecutor(private val agent: Agent, private val platform: Platform) {
    /** One executed action and what the agent made of its ack. */
    data class Executed(val id: ULong, val result: AckResult, val outcome: AckOutcome)

    /** Executes every action that is due (at app start, after each event, from jobs). */
    fun runPending(): List<Executed> = runAll(agent.pendingActions())

    /** Executes [actions] (the actions of an Outcome) in order and acknowledges each. */
    fun runAll(actions: List<Action>): List<Executed> = actions.map { run(it) }

    /** Executes one action and acknowledges it. */
    fun run(action: Action): Executed {
        val result = execute(action.kind)
        return Executed(action.id, result, agent.ack(action.id, result))
    }

    private fun execute(kind: ActionKind): AckResult =
        try {
            perform(kind)
            AckResult.Done
        } catch (e: Refused) {
            AckResult.Failed("refused: " + (e.message ?: "no effect"))
        } catch (e: SecurityException) {
            AckResult.Failed("not permitted: " + e.javaClass.simpleName)
        } catch (e: UnsupportedOperationException) {
            AckResult.Unsupported("not possible on Android: " + (e.message ?: e.javaClass.simpleName))
        } catch (e: RuntimeException) {
            AckResult.Failed("failed: " + e.javaClass.simpleName)
        }

    private fun perform(kind: ActionKind) {
        when (kind) {
            is ActionKind.SetMaxTimeToLock -> platform.setMaxTimeToLock(kind.secs.toLong() * 1000L)
            is ActionKind.RequireSecureLock -> platform.requireSecureLock()
            is ActionKind.LockNow -> platform.lockNow()
            is ActionKind.SetMaxFailedUnlocks -> platform.setMaxFailedUnlocks(kind.count.coerceAtMost(Int.MAX_VALUE.toUInt()).toInt())
            is ActionKind.DeleteCallLog -> platform.deleteCallLog(kind.number, kind.since)
            is ActionKind.DeleteContact -> platform.deleteContacts(kind.number)
            is ActionKind.Notify -> platform.notify(kind.kind)
            is ActionKind.ScheduleCallerIdCheck -> platform.scheduleCallerIdCheck(kind.at)
            is ActionKind.PurgeSurvivorData -> platform.purgeAppData()
            is ActionKind.Wipe -> platform.wipe(kind.scope)
        }
    }
}
