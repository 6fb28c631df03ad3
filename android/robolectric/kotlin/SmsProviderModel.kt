package org.quietline.robolectric

import android.Manifest
import android.content.ContentProvider
import android.content.ContentValues
import android.content.UriMatcher
import android.content.pm.PackageManager
import android.database.Cursor
import android.database.sqlite.SQLiteDatabase
import android.net.Uri
import android.provider.Telephony

/**
 * The SMS provider's contract, for a test: android-all does not carry the TelephonyProvider app.
 * Follows AOSP `packages/providers/TelephonyProvider/src/com/android/providers/telephony/
 * SmsProvider.java` (aosp-mirror/platform_packages_providers_telephonyprovider at bca387f):
 * - its URI matcher under the `sms` authority: `sms`, `sms/#`, `sms/inbox`, `sms/inbox/#`,
 *   `sms/sent`, `sms/sent/#` (the folders this app uses); an insert on any other URI is logged as
 *   "Invalid request" and returns null;
 * - `delete()` (read at aosp-mirror/platform_packages_providers_telephonyprovider 00b9c7f): `sms`
 *   deletes the rows the selection matches (`db.delete(TABLE_SMS, where, whereArgs)`), `sms/#` one
 *   row, any other URI this app could use throws `IllegalArgumentException("Unknown URL")`;
 * - `insertInner()`: the folder URI sets `type` (inbox 1, sent 2; `sms` takes the row's own type,
 *   else inbox), `date` is added when missing, a message that is not incoming is stored read;
 * - `onCreate()`: `setAppOps(OP_READ_SMS, OP_WRITE_SMS)`: a write needs the WRITE_SMS app-op, which
 *   AOSP's `SmsApplication` gives only the default SMS app (and system apps); a refused insert is
 *   not an error but `ContentProvider.rejectInsert`, a URI ending in `/0` with nothing stored;
 * - the provider's declaration in that app's `AndroidManifest.xml`:
 *   `android:readPermission="android.permission.READ_SMS"`, which the platform enforces before
 *   the provider runs; here the model checks the caller itself.
 * Rows live in an in-memory SQLite table, so selections and sort orders are evaluated for real.
 */
class SmsProviderModel : ContentProvider() {
    private lateinit var db: SQLiteDatabase

    override fun onCreate(): Boolean {
        db = SQLiteDatabase.create(null)
        db.execSQL("CREATE TABLE sms (_id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, body TEXT, date INTEGER, date_sent INTEGER, type INTEGER, read INTEGER, seen INTEGER, sub_id INTEGER)")
        return true
    }

    private fun defaultApp(): Boolean {
        val ctx = context ?: return false
        return Telephony.Sms.getDefaultSmsPackage(ctx) == ctx.packageName
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor? {
        val ctx = context ?: throw IllegalStateException("no context")
        if (ctx.checkCallingOrSelfPermission(Manifest.permission.READ_SMS) != PackageManager.PERMISSION_GRANTED) {
            throw SecurityException("Permission Denial: requires " + Manifest.permission.READ_SMS)
        }
        val where = mutableListOf<String>()
        val args = mutableListOf<String>()
        when (MATCHER.match(uri)) {
            ALL -> {}
            ALL_ID -> { where += "_id = ?"; args += uri.lastPathSegment!! }
            INBOX -> where += "type = ${Telephony.Sms.MESSAGE_TYPE_INBOX}"
            INBOX_ID -> { where += "type = ${Telephony.Sms.MESSAGE_TYPE_INBOX} AND _id = ?"; args += uri.lastPathSegment!! }
            SENT -> where += "type = ${Telephony.Sms.MESSAGE_TYPE_SENT}"
            SENT_ID -> { where += "type = ${Telephony.Sms.MESSAGE_TYPE_SENT} AND _id = ?"; args += uri.lastPathSegment!! }
            else -> throw IllegalArgumentException("Unknown URL $uri")
        }
        if (selection != null) { where += "($selection)"; args += selectionArgs?.toList() ?: emptyList() }
        return db.query("sms", projection, where.joinToString(" AND ").ifEmpty { null }, args.toTypedArray(), null, null, sortOrder)
    }

    override fun insert(uri: Uri, values: ContentValues?): Uri? {
        if (!defaultApp()) return Uri.withAppendedPath(uri, "0") // ContentProvider.rejectInsert: WRITE_SMS app-op refused
        val type = when (MATCHER.match(uri)) {
            ALL -> values?.getAsInteger(Telephony.Sms.TYPE) ?: Telephony.Sms.MESSAGE_TYPE_INBOX
            INBOX -> Telephony.Sms.MESSAGE_TYPE_INBOX
            SENT -> Telephony.Sms.MESSAGE_TYPE_SENT
            else -> return null // "Invalid request"
        }
        val row = ContentValues(values ?: ContentValues())
        if (!row.containsKey(Telephony.Sms.DATE)) row.put(Telephony.Sms.DATE, System.currentTimeMillis())
        if (!row.containsKey(Telephony.Sms.TYPE)) row.put(Telephony.Sms.TYPE, type)
        if (type != Telephony.Sms.MESSAGE_TYPE_INBOX) row.put(Telephony.Sms.READ, 1)
        val id = db.insert("sms", null, row)
        return if (id < 0) null else Uri.withAppendedPath(Telephony.Sms.CONTENT_URI, id.toString())
    }

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int =
        throw UnsupportedOperationException("not modelled")

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int {
        // ContentProvider's transport checks the write op (setAppOps) before delete() runs: a
        // caller without WRITE_SMS gets 0 and nothing is deleted.
        if (!defaultApp()) return 0
        return when (MATCHER.match(uri)) {
            ALL -> db.delete("sms", selection, selectionArgs)
            ALL_ID -> db.delete("sms", "_id = ?", arrayOf(uri.lastPathSegment!!))
            else -> throw IllegalArgumentException("Unknown URL")
        }
    }

    override fun getType(uri: Uri): String? = null

    override fun shutdown() = db.close()

    /** Stores a row as another SMS app would have (before Quietline was the default), for setting up a scenario. */
    fun put(type: Int, address: String, body: String) {
        db.insert("sms", null, ContentValues().apply { put("type", type); put("address", address); put("body", body); put("date", 0L) })
    }

    /** Every stored row as (type, address, body), for assertions. */
    fun rows(): List<Triple<Int, String, String>> =
        db.rawQuery("SELECT type, address, body FROM sms ORDER BY _id", null).use { c ->
            val out = mutableListOf<Triple<Int, String, String>>()
            while (c.moveToNext()) out += Triple(c.getInt(0), c.getString(1) ?: "", c.getString(2) ?: "")
            out
        }

    companion object {
        private const val ALL = 0
        private const val ALL_ID = 1
        private const val INBOX = 2
        private const val INBOX_ID = 3
        private const val SENT = 4
        private const val SENT_ID = 5
        private val MATCHER = UriMatcher(UriMatcher.NO_MATCH).apply {
            addURI("sms", null, ALL)
            addURI("sms", "#", ALL_ID)
            addURI("sms", "inbox", INBOX)
            addURI("sms", "inbox/#", INBOX_ID)
            addURI("sms", "sent", SENT)
            addURI("sms", "sent/#", SENT_ID)
        }
    }
}
