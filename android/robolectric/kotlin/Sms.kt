package org.quietline.robolectric

import android.content.Intent
import android.provider.Telephony

/**
 * An SMS_RECEIVED or SMS_DELIVER broadcast as the radio delivers it: one GSM SMS-DELIVER PDU (3GPP TS 23.040,
 * 7-bit default alphabet) in the `pdus` extra, format "3gpp". Built by hand so the app's receiver
 * parses it with the framework's own `Telephony.Sms.Intents.getMessagesFromIntent`.
 */
object Sms {
    /** SMS_RECEIVED, which every app holding RECEIVE_SMS gets. */
    fun received(from: String, text: String): Intent = withPdu(Telephony.Sms.Intents.SMS_RECEIVED_ACTION, from, text)

    /** SMS_DELIVER, which the system sends to the default SMS app only (before SMS_RECEIVED). */
    fun delivered(from: String, text: String): Intent = withPdu(Telephony.Sms.Intents.SMS_DELIVER_ACTION, from, text)

    /** WAP_PUSH_DELIVER for an MMS notification, as the default SMS app gets it (PDU not modelled). */
    fun mmsDelivered(): Intent = Intent(Telephony.Sms.Intents.WAP_PUSH_DELIVER_ACTION).setType("application/vnd.wap.mms-message")

    private fun withPdu(action: String, from: String, text: String): Intent {
        require(text.length <= 160) { "one SMS holds 160 septets" }
        val pdu = deliverPdu(from, text)
        return Intent(action)
            .putExtra("pdus", arrayOf<Any>(pdu))
            .putExtra("format", "3gpp")
    }

    private fun deliverPdu(from: String, text: String): ByteArray {
        val out = mutableListOf<Int>()
        out += 0x00 // no SMSC address
        out += 0x04 // SMS-DELIVER, no more messages to send
        val digits = from.filter { it.isDigit() }
        out += digits.length
        out += 0x91 // international number
        val padded = if (digits.length % 2 == 1) digits + "F" else digits
        for (i in padded.indices step 2) out += (hex(padded[i + 1]) shl 4) or hex(padded[i])
        out += 0x00 // TP-PID
        out += 0x00 // TP-DCS: GSM 7-bit default alphabet
        out += listOf(0x52, 0x11, 0x92, 0x51, 0x20, 0x00, 0x00) // TP-SCTS
        val septets = text.map { septet(it) }
        out += septets.size
        val packed = IntArray((septets.size * 7 + 7) / 8)
        for ((i, s) in septets.withIndex()) {
            val bit = i * 7
            packed[bit / 8] = packed[bit / 8] or ((s shl (bit % 8)) and 0xFF)
            if (bit % 8 > 1) packed[bit / 8 + 1] = packed[bit / 8 + 1] or (s shr (8 - bit % 8))
        }
        out += packed.toList()
        return ByteArray(out.size) { out[it].toByte() }
    }

    private fun hex(c: Char): Int = if (c == 'F') 0xF else c - '0'

    /** The GSM 7-bit default alphabet agrees with ASCII for letters, digits, ':' and '-'; '_' is 0x11. */
    private fun septet(c: Char): Int = when {
        c == '_' -> 0x11
        c in 'A'..'Z' || c in 'a'..'z' || c in '0'..'9' || c == ':' || c == '-' || c == ' ' || c == '.' || c == ',' -> c.code
        else -> throw IllegalArgumentException("not in the test's GSM subset: $c")
    }
}
