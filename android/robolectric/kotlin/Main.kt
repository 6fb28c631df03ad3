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
        // Every scenario sets up what it needs (Scenario's @Before), so the order must not
        // matter: the test command runs the suite a second time with -Dquietline.order=reverse
        // (the classes in the opposite order, so RelayTest, whose scenarios use the bindings
        // before enrolling, runs first in a fresh process; each class's methods by name,
        // descending). `quietline.classes` runs only the named classes.
        val all = listOf(FindingsTest::class.java, RulesTest::class.java, CallsTest::class.java, SmsTest::class.java, RelayTest::class.java)
        val named = System.getProperty("quietline.classes")?.split(',')?.map { it.trim() }?.filter { it.isNotEmpty() }
        val classes = if (named == null) all else named.map { n -> all.singleOrNull { it.simpleName == n } ?: throw IllegalArgumentException("no test class $n") }
        var request = org.junit.runner.Request.classes(*classes.toTypedArray())
        if (System.getProperty("quietline.order") == "reverse") {
            request = request.sortWith(
                Comparator<Description> { a, b ->
                    if (a.methodName != null && b.methodName != null) b.methodName.compareTo(a.methodName)
                    else classes.indexOf(b.testClass).compareTo(classes.indexOf(a.testClass))
                },
            )
        }
        val only = System.getProperty("quietline.only")
        if (only != null) {
            request = request.filterWith(object : org.junit.runner.manipulation.Filter() {
                override fun shouldRun(d: Description) = d.methodName == null || d.methodName.contains(only)
                override fun describe() = "only $only"
            })
        }
        val result = core.run(request)
        println("robolectric: ${result.runCount - result.failureCount} passed, ${result.failureCount} failed")
        exitProcess(if (result.wasSuccessful()) 0 else 1)
    }
}
