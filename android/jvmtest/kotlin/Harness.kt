package org.quietline.jvmtest

/** A tiny test runner: each test is a named block; prints one line per failure and a summary. */
class Suite(private val name: String) {
    private var passed = 0
    private val failures = mutableListOf<String>()

    fun test(testName: String, body: () -> Unit) {
        try {
            body()
            passed++
            println("  ok   $testName")
        } catch (t: Throwable) {
            failures += testName
            println("  FAIL $testName: $t")
            t.printStackTrace(System.out)
        }
    }

    /** Prints `name: N passed, M failed` and returns whether all passed. */
    fun finish(): Boolean {
        println("$name: $passed passed, ${failures.size} failed")
        return failures.isEmpty()
    }
}

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

inline fun <reified T : Throwable> expectThrows(body: () -> Unit): T {
    try {
        body()
    } catch (t: Throwable) {
        if (t is T) return t
        throw AssertionError("expected ${T::class.java.simpleName}, got $t", t)
    }
    throw AssertionError("expected ${T::class.java.simpleName}, nothing was thrown")
}
