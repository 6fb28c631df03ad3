package org.quietline.robolectric

import android.Manifest
import android.content.ContentProvider
import android.content.ContentValues
import android.content.UriMatcher
import android.content.pm.PackageManager
import android.database.Cursor
import android.database.sqlite.SQLiteDatabase
import android.net.Uri
import android.provider.CallLog

/**
 * The call-log provider's contract, for a test: android-all does not carry the ContactsProvider
 * app. Follows AOSP `packages/providers/ContactsProvider/src/com/android/providers/contacts/
 * CallLogProvider.java`:
 * - its URI matcher knows `calls`, `calls/#` and `calls/filter/<text>` under the `call_log` authority;
 * - `delete()` accepts only `calls` (with a selection); any other URI, `calls/#` included, throws
 *   `UnsupportedOperationException("Cannot delete that URL: " + uri)`;
 * - `query()` answers `calls` and `calls/#`;
 * and the provider's declaration in `packages/providers/ContactsProvider/AndroidManifest.xml`
 * (`android:readPermission="android.permission.READ_CALL_LOG"`,
 * `android:writePermission="android.permission.WRITE_CALL_LOG"`), which the platform enforces
 * before the provider runs; here the model checks the caller's permissions itself. Rows live in
 * an in-memory SQLite table, so selections are evaluated for real.
 */
class CallLogProviderModel : ContentProvider() {
    private lateinit var db: SQLiteDatabase

    override fun onCreate(): Boolean {
        db = SQLiteDatabase.create(null)
        db.execSQL("CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT, date INTEGER, duration INTEGER, type INTEGER)")
        return true
    }

    private fun enforce(permission: String) {
        val ctx = context ?: throw IllegalStateException("no context")
        if (ctx.checkCallingOrSelfPermission(permission) != PackageManager.PERMISSION_GRANTED) {
            throw SecurityException("Permission Denial: requires $permission")
        }
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor {
        enforce(Manifest.permission.READ_CALL_LOG)
        return when (MATCHER.match(uri)) {
            CALLS -> db.query("calls", projection, selection, selectionArgs, null, null, sortOrder)
            CALLS_ID -> db.query("calls", projection, "_id = ?", arrayOf(uri.lastPathSegment), null, null, sortOrder)
            else -> throw IllegalArgumentException("Unknown URL $uri")
        }
    }

    override fun insert(uri: Uri, values: ContentValues?): Uri {
        enforce(Manifest.permission.WRITE_CALL_LOG)
        if (MATCHER.match(uri) != CALLS) throw IllegalArgumentException("Unknown URL $uri")
        val id = db.insert("calls", null, values)
        return Uri.withAppendedPath(CallLog.Calls.CONTENT_URI, id.toString())
    }

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int {
        enforce(Manifest.permission.WRITE_CALL_LOG)
        return when (MATCHER.match(uri)) {
            CALLS -> db.delete("calls", selection, selectionArgs)
            else -> throw UnsupportedOperationException("Cannot delete that URL: $uri")
        }
    }

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int {
        enforce(Manifest.permission.WRITE_CALL_LOG)
        if (MATCHER.match(uri) != CALLS) throw UnsupportedOperationException("Cannot update URL: $uri")
        return db.update("calls", values, selection, selectionArgs)
    }

    override fun getType(uri: Uri): String? = null

    /** Closes the table (the scenario's teardown), so no database outlives its scenario. */
    override fun shutdown() = db.close()

    /** Every number in the table (the test's view, not through the resolver). */
    fun numbers(): List<String> = db.rawQuery("SELECT number FROM calls ORDER BY _id", null).use { c ->
        val out = mutableListOf<String>()
        while (c.moveToNext()) out += c.getString(0)
        out
    }

    /** Adds a row as Telecom would after a call (bypassing permissions: the system writes it). */
    fun addCall(number: String, dateMillis: Long, type: Int = CallLog.Calls.OUTGOING_TYPE) {
        val v = ContentValues().apply {
            put("number", number)
            put("date", dateMillis)
            put("duration", 60)
            put("type", type)
        }
        db.insert("calls", null, v)
    }

    companion object {
        private const val CALLS = 1
        private const val CALLS_ID = 2
        private const val CALLS_FILTER = 3
        private val MATCHER = UriMatcher(UriMatcher.NO_MATCH).apply {
            addURI(CallLog.AUTHORITY, "calls", CALLS)
            addURI(CallLog.AUTHORITY, "calls/#", CALLS_ID)
            addURI(CallLog.AUTHORITY, "calls/filter/*", CALLS_FILTER)
        }
    }
}
