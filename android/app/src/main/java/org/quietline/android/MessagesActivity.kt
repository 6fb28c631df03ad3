package org.quietline.android

import android.app.Activity
import android.content.Intent
import android.os.Bundle
import android.text.InputType
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import java.text.DateFormat
import java.util.Date
import org.quietline.ApiException
import org.quietline.HeldText
import org.quietline.TextDirection

/**
 * The texting screen of the default SMS app (plain framework views): the latest messages and a
 * compose box, so the advocate can still text everyone who is not a survivor. The system sends
 * every `sms:`/`smsto:`/`mms:`/`mmsto:` compose intent here (`ACTION_SENDTO`, `ACTION_SEND`,
 * `ACTION_VIEW`), whichever app started it. Every text goes through [SmsSend], which asks the
 * agent first; a refused one is not sent and the screen says why.
 *
 * A survivor's number is never displayed: in the list it reads "a client (number hidden)", and a
 * compose intent that names one leaves the recipient field empty (the number is kept only in
 * memory for the agent to refuse).
 *
 * Texts from and to survivors are not in the phone's messages at all: the agent holds them
 * ([SurvivorTexts]) until they expire. They are listed first, each with the conversation it belongs
 * to but never the number, and the advocate may discard one or reply with the compose box's text;
 * a reply goes through the agent, which sends only what the policy allows ([SmsSend.reply]).
 */
class MessagesActivity : Activity() {
    lateinit var recipient: EditText
    lateinit var body: EditText
    lateinit var send: Button
    lateinit var status: TextView
    lateinit var messages: TextView
    lateinit var held: LinearLayout

    /** A held text on screen: what it shows and its buttons. */
    class HeldRow(val id: ULong, val text: TextView, val reply: Button, val discard: Button)

    /** The held texts on screen, oldest first. */
    val heldRows = mutableListOf<HeldRow>()

    /** A recipient from a compose intent that the agent knows as a survivor: never put on screen. */
    private var hiddenRecipient: String? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val column = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        recipient = EditText(this).apply { hint = "To (number)"; inputType = InputType.TYPE_CLASS_PHONE }
        body = EditText(this).apply { hint = "Message" }
        send = Button(this).apply { text = "Send"; setOnClickListener { send() } }
        status = TextView(this)
        messages = TextView(this)
        held = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        val heldHeading = TextView(this).apply { text = "Texts with clients (kept by Quietline, deleted when they expire)"; textSize = 20f }
        val heading = TextView(this).apply { text = "Messages"; textSize = 20f }
        for (v in listOf(recipient, body, send, status, heldHeading, held, heading, messages)) column.addView(v)
        setContentView(ScrollView(this).apply { addView(column) })
        take(intent)
        refresh()
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        take(intent)
    }

    /** Fills the compose box from a compose intent; a survivor's number stays off the screen. */
    private fun take(intent: Intent?) {
        val number = intent?.data?.let(RespondViaMessageService::recipient) ?: return
        val text = intent.getStringExtra("sms_body") ?: intent.getStringExtra(Intent.EXTRA_TEXT)
        if (text != null) body.setText(text)
        var survivor = false
        work({
            survivor = try {
                Quietline.agent(this).isSurvivor(number)
            } catch (e: ApiException) {
                false
            }
        }) { _ ->
            if (survivor) {
                hiddenRecipient = number
                recipient.setText("")
                recipient.hint = "A client (number hidden)"
            } else {
                hiddenRecipient = null
                recipient.setText(number)
            }
        }
    }

    private fun send() {
        val number = hiddenRecipient ?: recipient.text.toString().trim()
        val text = body.text.toString()
        if (number.isEmpty() || text.isEmpty()) {
            status.text = "Enter a number and a message."
            return
        }
        var result: SmsSend.Result? = null
        work({ result = SmsSend.send(this, number, text) }) { error -> done(result, error) }
    }

    private fun done(result: SmsSend.Result?, error: String?) {
        status.text = when (val r = result) {
            null -> error ?: "Not sent."
            is SmsSend.Result.Sent -> {
                body.setText("")
                "Sent."
            }
            is SmsSend.Result.Blocked -> "Not sent. " + r.why
            is SmsSend.Result.Failed -> r.why
        }
        refresh()
    }

    /** Replies to a held text with the compose box's text; the agent decides and holds the reply. */
    private fun reply(id: ULong) {
        val text = body.text.toString()
        if (text.isEmpty()) {
            status.text = "Write the reply in the message box first."
            return
        }
        var result: SmsSend.Result? = null
        work({ result = SmsSend.reply(this, id, text) }) { error -> done(result, error) }
    }

    private fun discard(id: ULong) {
        work({ Quietline.agent(this).discardHeldText(id) }) { error ->
            status.text = error ?: "Deleted."
            refresh()
        }
    }

    /** Shows the texts the agent holds: the conversation, never the number. */
    private fun refreshHeld() {
        var list = emptyList<HeldText>()
        work({ list = Quietline.agent(this).heldTexts() }) { error ->
            held.removeAllViews()
            heldRows.clear()
            val fmt = DateFormat.getDateTimeInstance(DateFormat.SHORT, DateFormat.SHORT)
            if (list.isEmpty()) held.addView(TextView(this).apply { text = error ?: "None." })
            for (t in list) {
                val way = if (t.direction == TextDirection.INCOMING) "  from " else "  to "
                val row = HeldRow(
                    t.id,
                    TextView(this).apply {
                        text = fmt.format(Date.from(t.at)) + way + HIDDEN + ", conversation " + t.conversation + ": " + t.body +
                            " (deleted " + fmt.format(Date.from(t.expiresAt)) + ")"
                    },
                    Button(this).apply { text = "Reply"; setOnClickListener { reply(t.id) } },
                    Button(this).apply { text = "Delete"; setOnClickListener { discard(t.id) } },
                )
                heldRows += row
                held.addView(row.text)
                held.addView(LinearLayout(this).apply { addView(row.reply); addView(row.discard) })
            }
        }
    }

    /** Shows the latest messages (a survivor's number never). */
    fun refresh() {
        refreshHeld()
        var list = emptyList<Inbox.Message>()
        work({ list = Inbox.recent(this) }) { _ ->
            val fmt = DateFormat.getDateTimeInstance(DateFormat.SHORT, DateFormat.SHORT)
            messages.text = if (list.isEmpty()) "No messages." else list.joinToString("\n") {
                val who = it.address ?: HIDDEN
                fmt.format(Date(it.date)) + (if (it.incoming) "  from " else "  to ") + who + ": " + it.body
            }
        }
    }

    companion object {
        /** How a survivor's number reads on this screen. */
        const val HIDDEN = "a client (number hidden)"
    }
}
