package org.quietline.android

import android.app.admin.DevicePolicyManager
import android.content.Context
import android.util.Log
import java.io.File
import java.util.concurrent.Executor
import java.util.concurrent.Executors
import org.quietline.Agent
import org.quietline.ApiException
import org.quietline.Event
import org.quietline.Outcome
import org.quietline.PlatformCaps
import org.quietline.android.ffi.enrollAgent
import org.quietline.android.ffi.openAgent

/**
 * The app's one entry into Quietline. [init] loads `libquietline_android.so` (which carries the
 * UniFFI scaffolding of both namespaces and the key protector) and hands Rust the application
 * context once. The agent is opened and enrolled through `openAgent` / `enrollAgent`: Rust hands
 * its Keystore key protector to the agent itself, so the data key never passes through Kotlin.
 */
object Quietline {
    /** The UniFFI component name; its library is ours, not the default `quietline_ffi`. */
    private const val LIBRARY_OVERRIDE = "uniffi.component.quietline.libraryOverride"

    /** The log tag (messages are fixed texts: never a number, a key or a session). */
    const val TAG = "Quietline"

    /** The platform key store provider on Android. */
    const val ANDROID_KEY_STORE = "AndroidKeyStore"

    /**
     * The key store provider that holds the key wrapping the agent's data key (and the record of
     * the state's generation). "AndroidKeyStore" on phones; the Robolectric tests, which have no
     * such provider, set a software one.
     */
    @Volatile var keyStoreProvider: String = ANDROID_KEY_STORE

    /** Where screens run agent and network work, off the main thread (tests run it in place). */
    @Volatile var background: Executor = Executors.newSingleThreadExecutor()

    @Volatile private var initialized = false
    @Volatile private var agent: Agent? = null
    @Volatile private var calls: CallStateReporter? = null

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

    /**
     * Sets up what runs without a screen: call-state reporting (rule 4) once READ_PHONE_STATE is
     * held, and the agent's periodic job (ticks, relay poll) once enrolled. Safe to call again
     * (after an unlock, after enrollment), and from the main thread: it never throws for what the
     * platform refuses. When JobScheduler does not take the periodic job (`RESULT_FAILURE`, for
     * example the app's limit of scheduled jobs) this returns false and says so in the log (a
     * fixed text, nothing about the phone); the job is scheduled again at the next start: the
     * next unlock or boot ([UnlockReceiver]), the next process start ([QuietlineApp]) or enrollment.
     * The agent's ticks still run at each of those meanwhile.
     */
    @Synchronized
    fun start(context: Context): Boolean {
        val app = context.applicationContext
        Permissions.grantManaged(app)
        if (calls == null) {
            val reporter = CallStateReporter(app)
            if (reporter.register()) calls = reporter
        }
        if (!Enrollment.isEnrolled(app)) return true
        return try {
            RelayPollJob.schedule(app)
            true
        } catch (e: Refused) {
            Log.w(TAG, "the periodic job was not scheduled; tried again at the next unlock or start")
            false
        }
    }

    /** The call-state reporter, when registered: services tell it which call started. */
    fun calls(): CallStateReporter? = calls

    /** The state directory: credential-encrypted storage, so it is unreadable before first unlock. */
    fun stateDir(context: Context): File = File(context.filesDir, "quietline")

    /**
     * The agent, opened on first use. Before the first unlock the key store is unavailable and this
     * throws [ApiException.KeyStoreUnavailable]: callers retry after ACTION_USER_UNLOCKED, they
     * never fall back to running without the agent. An older copy of the state directory put back
     * over a newer one is [ApiException.StateDamaged] (the Keystore recorded a later generation).
     */
    @Synchronized
    fun agent(context: Context): Agent {
        init(context)
        agent?.let { return it }
        val opened = openAgent(stateDir(context).path, keyStoreProvider)
        try {
            declareCaps(context, opened)
        } catch (e: ApiException) {
            opened.close()
            throw e
        }
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
        val enrolled = enrollAgent(stateDir(context).path, region, bundle, keyStoreProvider)
        // Before the bundle's policy runs: until then the agent assumes no full wipe.
        declareCaps(context, enrolled)
        agent?.close()
        agent = enrolled
        return enrolled
    }

    /**
     * What this phone can do, as the agent must know it: a full wipe only as device owner (a
     * profile owner or an unmanaged app can remove only the work profile or its own data), and
     * caller-ID prefixes are dialled through Telecom on every Android phone. Declared at every
     * open and enrollment, and again before a signed command, so a change of owner is seen.
     */
    fun caps(context: Context): PlatformCaps {
        val dpm = context.getSystemService(DevicePolicyManager::class.java)
        val owner = dpm != null && dpm.isDeviceOwnerApp(context.packageName)
        return PlatformCaps(fullWipe = owner, prefixDialing = true)
    }

    /** Tells [agent] what this phone can do ([caps]); the agent stores it only when it changed. */
    fun declareCaps(context: Context, agent: Agent) = agent.setPlatformCaps(caps(context))

    /** The executor for this process's agent and the real platform. */
    fun executor(context: Context): ActionExecutor = ActionExecutor(agent(context), AndroidPlatform(context))

    /**
     * Hands [event] to the agent and carries out its actions. Returns the outcome, or null when
     * the agent cannot be opened (not enrolled, key store locked): entry points never crash on it.
     */
    fun handle(context: Context, event: Event): Outcome? =
        try {
            val outcome = agent(context).handle(event)
            executor(context).runAll(outcome.actions)
            outcome
        } catch (e: ApiException) {
            null
        }

    /** Runs every due action; false when the agent cannot be opened. */
    fun runPending(context: Context): Boolean =
        try {
            executor(context).runPending()
            true
        } catch (e: ApiException) {
            false
        }

    /** Forgets the open agent (after a wipe, and in tests between scenarios). */
    @Synchronized
    fun forget() {
        agent?.close()
        agent = null
        Relay.forgetSession() // bound to the device key that may just have gone
    }

    /** Forgets the call-state reporter too (tests start each scenario from a new process state). */
    @Synchronized
    fun reset() {
        forget()
        calls = null
    }
}
