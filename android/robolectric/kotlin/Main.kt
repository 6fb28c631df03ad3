package org.quietline.robolectric

import kotlin.system.exitProcess
import org.junit.runner.Description
import org.junit.runner.JUnitCore
import org.junit.runner.notification.Failure
import org.junit.runner.notification.RunListener

/** Runs the Robolectric scenarios with JUnit 4; one `ok`/`FAIL` line per scenario and a summary. */
object Main {
    @JvmStatic
    fun main(args: Array<String>) {
        val failed = mutableSetOf<Description>()
        val core = JUnitCore()
        core.addListener(object : RunListener() {
            override fun testFailure(failure: Failure) {
                failed += failure.description
                println("  FAIL ${failure.description.methodName}: ${failure.message}")
                println(failure.trace.lines().take(40).joinToString("\n"))
            }

            override fun testFinished(description: Description) {
                if (description !in failed) println("  ok   ${description.methodName}")
            }
        })
        val classes = listOf(FindingsTest::class.java, RulesTest::class.java, SmsTest::class.java, RelayTest::class.java)
        val only = System.getProperty("quietline.only")
        val request = if (only == null) org.junit.runner.Request.classes(*classes.toTypedArray())
        else org.junit.runner.Request.classes(*classes.toTypedArray()).filterWith(object : org.junit.runner.manipulation.Filter() {
            override fun shouldRun(d: Description) = d.methodName == null || d.methodName.contains(only)
            override fun describe() = "only $only"
        })
        val result = core.run(request)
        println("robolectric: ${result.runCount - result.failureCount} passed, ${result.failureCount} failed")
        exitProcess(if (result.wasSuccessful()) 0 else 1)
    }
}
