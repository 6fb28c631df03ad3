package org.quietline.android

import android.content.Context
import org.quietline.ApiException
import org.quietline.CommandStatus
import org.quietline.takeWipeReceipt

/**
 * Signed commands into the agent (from an SMS or the relay). The agent's verification alone
 * decides (`Agent.applyCommand`: signature, device, sequence, expiry, role); this only carries
 * out what it returns.
 */
object Commands {
    /**
     * Returns true if the agent verified and applied (or refused by policy) a new command.
     * [networkBudgetMs] bounds the relay calls (an SMS broadcast has seconds); receipts that do
     * not make it stay queued for the periodic job, except a wipe's, which goes with the phone.
     * [deliver] false leaves the receipts to the caller (a relay poll sends them all at once).
     */
    fun apply(context: Context, text: String, networkBudgetMs: Int = Relay.TIMEOUT_MS, deliver: Boolean = true): Boolean {
        val agent = Quietline.agent(context)
        // Read before applying: after a wipe the agent refuses every call.
        val relay = agent.relayUrl()
        val result = try {
            // A full wipe is performed only as far as the phone can: declare it as it is now.
            Quietline.declareCaps(context, agent)
            agent.applyCommand(text)
        } catch (e: ApiException) {
            return false // untrusted, malformed, for another phone...: nothing changes
        }
        val receipt = result.receipt
        val wipe = result.wipe
        if (wipe != null) {
            // The agent's own data is already crypto-erased. Deliver the wipe receipt before the
            // platform wipe removes everything; if it was delivered, take it out of the directory.
            Quietline.forget()
            if (receipt != null && relay != null && Relay.postReceipt(relay, receipt, networkBudgetMs / 2) == Relay.ReceiptAnswer.STORED) {
                takeWipeReceipt(Quietline.stateDir(context).path)
            }
            try {
                AndroidPlatform(context).wipe(wipe)
            } catch (e: RuntimeException) {
                // Refused (neither device nor profile owner): the agent's data is erased all the
                // same and the receipt says what was done; nothing more the app can do.
            }
            return true
        }
        Quietline.executor(context).runAll(result.actions)
        // Receipts are queued by the agent; the full-time delivery is the periodic job's.
        if (deliver && relay != null && networkBudgetMs >= Relay.TIMEOUT_MS) Relay.deliverQueued(agent, relay)
        return result.status != CommandStatus.REPLAYED
    }

    /**
     * A signed policy from the relay (`Agent.installSignedPolicy` checks it). Returns true when it
     * was new: the same policy again returns no actions and counts as nothing new. A new policy
     * may name or drop the organisation's calling app, so the rule gaps are reported again
     * ([RuleGaps.report]) and the next check-in tells IT.
     */
    fun installPolicy(context: Context, text: String): Boolean {
        val actions = try {
            Quietline.agent(context).installSignedPolicy(text)
        } catch (e: ApiException) {
            return false // not a policy, or refused: the old one stays in force
        }
        Quietline.executor(context).runAll(actions)
        if (actions.isNotEmpty()) RuleGaps.report(context)
        return actions.isNotEmpty()
    }

    /**
     * A root rotation from the relay (`Agent.applyRootRotation` checks the old and new keys'
     * signatures and the version). Returns true when the root set moved on.
     */
    fun applyRootRotation(context: Context, text: String): Boolean =
        try {
            Quietline.agent(context).applyRootRotation(text)
            true
        } catch (e: ApiException) {
            false // not a rotation, or refused: the pinned roots stay
        }
}
