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
    /** Returns true if the agent verified and applied (or refused by policy) a new command. */
    fun apply(context: Context, text: String): Boolean {
        val agent = Quietline.agent(context)
        // Read before applying: after a wipe the agent refuses every call.
        val relay = agent.relayUrl()
        val result = try {
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
            if (receipt != null && relay != null && Relay.deliver(relay, receipt)) {
                takeWipeReceipt(Quietline.stateDir(context).path)
            }
            try {
                AndroidPlatform(context).wipe(wipe)
            } catch (e: SecurityException) {
                // Neither device nor profile owner: nothing more the app can do; IT has the receipt.
            }
            return true
        }
        if (receipt != null && relay != null) Relay.deliver(relay, receipt)
        Quietline.executor(context).runAll(result.actions)
        if (relay != null) Relay.deliverQueued(agent, relay)
        return result.status != CommandStatus.REPLAYED
    }

    /**
     * A signed policy from the relay (`Agent.installSignedPolicy` checks it). Returns true when it
     * was new: the same policy again returns no actions and counts as nothing new.
     */
    fun installPolicy(context: Context, text: String): Boolean {
        val actions = try {
            Quietline.agent(context).installSignedPolicy(text)
        } catch (e: ApiException) {
            return false // not a policy, or refused: the old one stays in force
        }
        Quietline.executor(context).runAll(actions)
        return actions.isNotEmpty()
    }
}
