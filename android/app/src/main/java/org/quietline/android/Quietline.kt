package org.quietline.android

import android.content.Context
import java.io.File
import org.quietline.Agent
import org.quietline.ApiException

/**
 * The app's one entry into Quietline. [init] loads `libquietline_android.so` (which carries both
 * the UniFFI scaffolding and the JNI key protector) and hands Rust the application context once.
 */
object Quietline {
    /** The UniFFI component name; its library is ours, not the default `quietline_ffi`. */
    private const val LIBRARY_OVERRIDE = "uniffi.component.quietline.libraryOverride"

    @Volatile private var initialized = false
    @Volatile private var agent: Agent? = null

    /** Call from Application.onCreate and from every component that can start the process. */
    @Synchronized
    fun init(context: Context) {
        if (initialized) return
        System.setProperty(LIBRARY_OVERRIDE, "quietline_android")
        System.loadLibrary("quietline_android")
        val loader = Quietline::class.java.classLoader ?: throw IllegalStateException("no class loader")
        NativeBridge.nativeInit(context.applicationContext, loader)
        initialized = true
    }

    /** The state directory: credential-encrypted storage, so it is unreadable before first unlock. */
    fun stateDir(context: Context): File = File(context.filesDir, "quietline")

    /**
     * The agent, opened on first use. Before the first unlock the key store is unavailable and this
     * throws [ApiException.KeyStoreUnavailable]: callers retry after ACTION_USER_UNLOCKED, they
     * never fall back to running without the agent.
     */
    @Synchronized
    fun agent(context: Context): Agent {
        init(context)
        agent?.let { return it }
        val opened = Agent.open(stateDir(context).path, AndroidKeyProtector(), null)
        agent = opened
        return opened
    }

    /**
     * Enrolls this phone from IT's bundle (the `QL:` text of `quietline-admin enroll`) into the
     * empty state directory and keeps the new agent open. The agent verifies the bundle; a bad,
     * foreign or expired one is [ApiException.Untrusted], an agent already there
     * [ApiException.AlreadyInitialized]. Synchronized with [agent], so two entry points (the
     * provisioning activity and the admin receiver) never enroll at once.
     */
    @Synchronized
    fun enroll(context: Context, region: String, bundle: String): Agent {
        init(context)
        val enrolled = Agent.enroll(stateDir(context).path, region, bundle, AndroidKeyProtector(), null)
        agent?.close()
        agent = enrolled
        return enrolled
    }

    /** The executor for this process's agent and the real platform. */
    fun executor(context: Context): ActionExecutor = ActionExecutor(agent(context), AndroidPlatform(context))

    /** Forgets the open agent (after a wipe). */
    @Synchronized
    fun forget() {
        agent?.close()
        agent = null
    }
}
