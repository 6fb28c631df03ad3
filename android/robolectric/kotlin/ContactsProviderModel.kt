package org.quietline.robolectric

import android.Manifest
import android.content.ContentProvider
import android.content.ContentUris
import android.content.ContentValues
import android.content.UriMatcher
import android.content.pm.PackageManager
import android.database.Cursor
import android.database.MatrixCursor
import android.database.sqlite.SQLiteDatabase
import android.net.Uri
import android.provider.ContactsContract
import android.telephony.PhoneNumberUtils

/**
 * The contacts provider's contract for what the app uses, for a test: android-all does not carry
 * the ContactsProvider app. Follows AOSP `packages/providers/ContactsProvider/src/com/android/
 * providers/contacts/ContactsProvider2.java` (aosp-mirror/platform_packages_providers_contactsprovider
 * at 9c99fd3):
 * - the URI matcher entries `raw_contacts`, `raw_contacts/#`, `data`, `data/#` and
 *   `phone_lookup/<number>` under `com.android.contacts`; any other URI goes to `LegacyApiSupport`,
 *   which refuses it (`IllegalArgumentException`, "Unknown URL");
 * - `PHONE_LOOKUP` ignores the caller's selection ("Phone lookup cannot be combined with a
 *   selection"), matches the last path segment against the stored numbers (the real provider
 *   compares normalized/E.164 numbers, then falls back to `phone_number_compare_loose`; the
 *   model uses `PhoneNumberUtils.compare`, the same loose comparison) and answers only the
 *   columns of its projection map (strict: anything else is refused; the model knows the three
 *   the app may ask for: `_id` and `contact_id`, the contact's id, and `number`);
 * - `deleteRawContact()`: a raw contact is removed at once, with its data rows, only when the
 *   caller is the sync adapter (`caller_is_syncadapter=true`) or the raw contact is local (no
 *   account); otherwise it is only marked `deleted = 1` and its data stay until the account syncs;
 * - `update()` on `data` with a selection updates the matching data rows;
 * and the provider's declaration in the ContactsProvider app's `AndroidManifest.xml`
 * (`android:readPermission="android.permission.READ_CONTACTS"`,
 * `android:writePermission="android.permission.WRITE_CONTACTS"`), which the platform enforces
 * before the provider runs; here the model checks the caller's permissions itself.
 */
class ContactsProviderModel : ContentProvider() {
    private lateinit var db: SQLiteDatabase

    override fun onCreate(): Boolean {
        db = SQLiteDatabase.create(null)
        db.execSQL("CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, contact_id INTEGER, account_name TEXT, account_type TEXT, deleted INTEGER NOT NULL DEFAULT 0)")
        db.execSQL("CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT, raw_contact_id INTEGER NOT NULL, mimetype TEXT, data1 TEXT, data2 TEXT, data3 TEXT, data4 TEXT)")
        return true
    }

    private fun enforce(permission: String) {
        val ctx = context ?: throw IllegalStateException("no context")
        if (ctx.checkCallingOrSelfPermission(permission) != PackageManager.PERMISSION_GRANTED) {
            throw SecurityException("Permission Denial: requires $permission")
        }
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor {
        enforce(Manifest.permission.READ_CONTACTS)
        return when (MATCHER.match(uri)) {
            PHONE_LOOKUP -> phoneLookup(uri.lastPathSegment ?: "", projection)
            RAW_CONTACTS -> db.query("raw_contacts", checked(projection, RAW_COLUMNS), selection, selectionArgs, null, null, sortOrder)
            RAW_CONTACTS_ID -> db.query("raw_contacts", checked(projection, RAW_COLUMNS), "_id = ?", arrayOf(uri.lastPathSegment), null, null, sortOrder)
            DATA -> db.query("data", checked(projection, DATA_COLUMNS), selection, selectionArgs, null, null, sortOrder)
            else -> throw IllegalArgumentException("Unknown URL $uri")
        }
    }

    /** A strict projection map: an unknown column is refused, as SQLiteQueryBuilder.setStrict does. */
    private fun checked(projection: Array<out String>?, known: Set<String>): Array<out String>? {
        projection?.forEach { if (it !in known) throw IllegalArgumentException("Invalid column $it") }
        return projection
    }

    private fun phoneLookup(number: String, projection: Array<out String>?): Cursor {
        val columns = projection ?: arrayOf(ContactsContract.PhoneLookup._ID, ContactsContract.PhoneLookup.NUMBER)
        for (c in columns) if (c !in LOOKUP_COLUMNS) throw IllegalArgumentException("Invalid column $c")
        val out = MatrixCursor(columns)
        db.rawQuery(
            "SELECT r.contact_id, d.data1 FROM data d JOIN raw_contacts r ON r._id = d.raw_contact_id WHERE r.deleted = 0 AND d.mimetype = ?",
            arrayOf(ContactsContract.CommonDataKinds.Phone.CONTENT_ITEM_TYPE),
        ).use { c ->
            while (c.moveToNext()) {
                val stored = c.getString(1) ?: continue
                if (stored.isEmpty() || !PhoneNumberUtils.compare(stored, number)) continue
                out.addRow(columns.map { if (it == ContactsContract.PhoneLookup.NUMBER) stored else c.getLong(0) })
            }
        }
        return out
    }

    override fun insert(uri: Uri, values: ContentValues?): Uri {
        enforce(Manifest.permission.WRITE_CONTACTS)
        throw UnsupportedOperationException("the model adds rows through addContact only: $uri")
    }

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int {
        enforce(Manifest.permission.WRITE_CONTACTS)
        return when (MATCHER.match(uri)) {
            DATA -> db.update("data", values, selection, selectionArgs)
            DATA_ID -> db.update("data", values, "_id = ?", arrayOf(uri.lastPathSegment))
            else -> throw IllegalArgumentException("Unknown URL $uri")
        }
    }

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int {
        enforce(Manifest.permission.WRITE_CONTACTS)
        val syncAdapter = uri.getBooleanQueryParameter(ContactsContract.CALLER_IS_SYNCADAPTER, false)
        return when (MATCHER.match(uri)) {
            RAW_CONTACTS_ID -> deleteRawContact(ContentUris.parseId(uri), syncAdapter)
            RAW_CONTACTS -> {
                val ids = db.query("raw_contacts", arrayOf("_id"), selection, selectionArgs, null, null, null).use { c ->
                    val l = mutableListOf<Long>()
                    while (c.moveToNext()) l += c.getLong(0)
                    l
                }
                ids.sumOf { deleteRawContact(it, syncAdapter) }
            }
            DATA -> db.delete("data", selection, selectionArgs)
            else -> throw IllegalArgumentException("Unknown URL $uri")
        }
    }

    private fun deleteRawContact(id: Long, syncAdapter: Boolean): Int {
        val local = db.rawQuery("SELECT 1 FROM raw_contacts WHERE _id = ? AND account_name IS NULL AND account_type IS NULL", arrayOf(id.toString())).use { it.count > 0 }
        if (syncAdapter || local) {
            db.delete("data", "raw_contact_id = ?", arrayOf(id.toString()))
            return db.delete("raw_contacts", "_id = ?", arrayOf(id.toString()))
        }
        val v = ContentValues().apply { put("deleted", 1) }
        return db.update("raw_contacts", v, "_id = ? AND deleted = 0", arrayOf(id.toString()))
    }

    override fun getType(uri: Uri): String? = null

    /** Closes the tables (the scenario's teardown). */
    override fun shutdown() = db.close()

    /** Adds a contact with one phone number as the contacts app or a sync adapter would (no permission check: the test's view). */
    fun addContact(name: String, number: String, accountName: String? = null, accountType: String? = null): Long {
        val raw = db.insert("raw_contacts", null, ContentValues().apply {
            put("account_name", accountName)
            put("account_type", accountType)
        })
        db.execSQL("UPDATE raw_contacts SET contact_id = _id WHERE _id = ?", arrayOf(raw))
        db.insert("data", null, ContentValues().apply {
            put("raw_contact_id", raw)
            put("mimetype", ContactsContract.CommonDataKinds.StructuredName.CONTENT_ITEM_TYPE)
            put("data1", name)
        })
        db.insert("data", null, ContentValues().apply {
            put("raw_contact_id", raw)
            put("mimetype", ContactsContract.CommonDataKinds.Phone.CONTENT_ITEM_TYPE)
            put("data1", number)
            put("data2", ContactsContract.CommonDataKinds.Phone.TYPE_MOBILE.toString())
        })
        return raw
    }

    /** Every raw contact row, deleted-marked ones included, as "id:deleted". */
    fun rawContacts(): List<String> = db.rawQuery("SELECT _id, deleted FROM raw_contacts ORDER BY _id", null).use { c ->
        val out = mutableListOf<String>()
        while (c.moveToNext()) out += "${c.getLong(0)}:${c.getInt(1)}"
        out
    }

    /** Every non-empty data value left in the provider (names and numbers), whatever its raw contact's state. */
    fun dataValues(): List<String> = db.rawQuery("SELECT data1 FROM data WHERE data1 IS NOT NULL AND data1 != '' ORDER BY _id", null).use { c ->
        val out = mutableListOf<String>()
        while (c.moveToNext()) out += c.getString(0)
        out
    }

    companion object {
        private const val RAW_CONTACTS = 1
        private const val RAW_CONTACTS_ID = 2
        private const val DATA = 3
        private const val DATA_ID = 4
        private const val PHONE_LOOKUP = 5
        private val RAW_COLUMNS = setOf("_id", "contact_id", "account_name", "account_type", "deleted")
        private val DATA_COLUMNS = setOf("_id", "raw_contact_id", "mimetype", "data1", "data2", "data3", "data4")
        private val LOOKUP_COLUMNS = setOf(ContactsContract.PhoneLookup._ID, ContactsContract.PhoneLookup.CONTACT_ID, ContactsContract.PhoneLookup.NUMBER)
        private val MATCHER = UriMatcher(UriMatcher.NO_MATCH).apply {
            addURI(ContactsContract.AUTHORITY, "raw_contacts", RAW_CONTACTS)
            addURI(ContactsContract.AUTHORITY, "raw_contacts/#", RAW_CONTACTS_ID)
            addURI(ContactsContract.AUTHORITY, "data", DATA)
            addURI(ContactsContract.AUTHORITY, "data/#", DATA_ID)
            addURI(ContactsContract.AUTHORITY, "phone_lookup/*", PHONE_LOOKUP)
        }
    }
}
