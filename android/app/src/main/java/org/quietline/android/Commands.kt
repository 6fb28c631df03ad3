package org.quietline.android

import android.content.Context
import org.quietline.Agent

/**
 * Signed commands and policies into the agent. The core verifies them (`Agent::apply_command`,
 * `install_signed_policy` in quietline-core's device module); the UniFFI bindings do not export
 * them yet, so this file is the one place that changes when they do: replace the reflective call
 * with `agent.applyCommand(text)` and execute the returned actions.
 */
object Commands {
    /** Returns true if the agent accepted the command. */
    fun apply(context: Context, text: String): Boolean {
        val agent = Quietline.agent(context)
        val method = try {
            Agent::class.java.getMethod("applyCommand", String::class.java)
        } catch (e: NoSuchMethodException) {
            return false
        }
        return try {
            method.invoke(agent, text)
            Quietline.executor(context).runPending()
            true
        } catch (e: ReflectiveOperationException) {
            false
        }
    }
}
