package org.quietline.android

import android.content.Context

/**
 * A system service, or UnsupportedOperationException when this phone has none (a tablet without
 * telephony has no TelephonyManager): the action that needed it is acked Unsupported, never Done.
 */
inline fun <reified T> Context.service(): T =
    getSystemService(T::class.java) ?: throw UnsupportedOperationException("no " + T::class.java.simpleName + " on this phone")
