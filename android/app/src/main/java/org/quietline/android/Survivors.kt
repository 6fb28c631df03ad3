package org.quietline.android

import android.content.Context

/**
 * The labels the advocate chose for the survivors they registered ("Client A"). The numbers go to
 * the agent only (keyed hashes); the app keeps labels, never a number, so nothing here can name a
 * survivor to someone who picks up the phone.
 */
object Survivors {
    private const val PREFS = "quietline-labels"
    private const val KEY = "labels"

    /** The labels, in the order they were saved. */
    fun labels(context: Context): List<String> =
        context.getSharedPreferences(PREFS, Context.MODE_PRIVATE).getString(KEY, "")!!
            .split('\n').filter { it.isNotEmpty() }

    /** Adds a label (line breaks removed). */
    fun addLabel(context: Context, label: String) {
        val clean = label.replace('\n', ' ').trim()
        if (clean.isEmpty()) return
        val all = labels(context) + clean
        context.getSharedPreferences(PREFS, Context.MODE_PRIVATE).edit().putString(KEY, all.joinToString("\n")).commit()
    }

    /** Removes every label (purge before handoff, wipe). */
    fun forgetLabels(context: Context) {
        context.getSharedPreferences(PREFS, Context.MODE_PRIVATE).edit().clear().commit()
    }
}
