package org.quietline.android

import android.app.Activity
import org.quietline.ApiException

/**
 * Runs [block] on [Quietline.background], then [done] on this activity's main thread with the
 * advocate-facing error text (or null), unless the activity is gone by then. Agent calls do disk
 * and key-store work, which must stay off the main thread.
 */
internal fun Activity.work(block: () -> Unit, done: (String?) -> Unit) {
    Quietline.background.execute {
        val error = try {
            block()
            null
        } catch (e: ApiException) {
            EnrollActivity.describe(e)
        }
        runOnUiThread { if (!isDestroyed) done(error) }
    }
}
