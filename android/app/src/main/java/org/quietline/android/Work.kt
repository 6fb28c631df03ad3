package org.quietline.android

import java.util.concurrent.ConcurrentHashMap

/**
 * The app's own background threads (receivers after `goAsync`, the job, screens' network work).
 * Each is tracked until it ends, so a test can wait for everything an entry point started
 * before the next scenario begins ([awaitIdle]); on a phone this only names the threads.
 */
object Work {
    private val running: MutableSet<Thread> = ConcurrentHashMap.newKeySet()

    /** Runs [block] on a new thread named `quietline-<name>`. */
    fun start(name: String, block: () -> Unit): Thread {
        lateinit var thread: Thread
        thread = Thread({
            try {
                block()
            } finally {
                running.remove(thread)
            }
        }, "quietline-$name")
        running.add(thread)
        thread.start()
        return thread
    }

    /** Waits up to [timeoutMs] for every thread started by [start]; true when none is left. */
    fun awaitIdle(timeoutMs: Long): Boolean {
        val deadline = System.nanoTime() + timeoutMs * 1_000_000
        for (t in running.toList()) {
            val left = (deadline - System.nanoTime()) / 1_000_000
            if (left <= 0) break
            t.join(left)
        }
        return running.isEmpty()
    }
}
