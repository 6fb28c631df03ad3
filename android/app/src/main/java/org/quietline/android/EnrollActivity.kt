package org.quietline.android

import android.app.Activity
import android.content.Intent
import android.os.Bundle
import android.text.InputType
import android.view.View
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import org.quietline.ApiException

/**
 * The app's entry screen (launcher) and its enrollment path for phones not enrolled by device-owner
 * provisioning (ProvisioningActivity handles that one):
 * - the advocate or IT pastes IT's bundle (`QL:` text), or shares it here from another app
 *   (ACTION_SEND text/plain); it is shown and enrolled only when "Enroll" is tapped, because any
 *   app can share text and a bundle pins the organisation's root key;
 * - once enrolled, the enrollment response goes to `<relay>/enrollments`; without a relay (or
 *   while it cannot be reached) it is shown with a "Send to IT" button (ACTION_SEND). At every
 *   start of this screen an undelivered response is sent again.
 * Framework views only (no androidx); all agent and network work runs off the main thread.
 */
class EnrollActivity : Activity() {
    private lateinit var status: TextView
    private lateinit var input: EditText
    private lateinit var enrollButton: Button
    private lateinit var response: TextView
    private lateinit var shareButton: Button
    private lateinit var retryButton: Button
    private lateinit var doneButton: Button
    private lateinit var openButton: Button
    private var responseText: String? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        buildViews()
        if (intent?.action == Intent.ACTION_SEND) {
            intent.getCharSequenceExtra(Intent.EXTRA_TEXT)?.let { input.setText(it) }
        }
        refresh()
    }

    private fun buildViews() {
        status = TextView(this).apply { text = "Starting…" }
        // One line of the default text size: scales with the screen's density and font size.
        val pad = status.textSize.toInt()
        val column = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(pad, pad, pad, pad)
        }
        input = EditText(this).apply {
            hint = "Paste the QL: text from IT"
            inputType = InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_MULTI_LINE or InputType.TYPE_TEXT_FLAG_NO_SUGGESTIONS
            minLines = 3
        }
        enrollButton = Button(this).apply {
            text = "Enroll"
            setOnClickListener { enroll() }
        }
        response = TextView(this).apply { setTextIsSelectable(true) }
        shareButton = Button(this).apply {
            text = "Send to IT"
            setOnClickListener { responseText?.let { startActivity(Enrollment.shareIntent(it)) } }
        }
        retryButton = Button(this).apply {
            text = "Try the relay again"
            setOnClickListener { refresh() }
        }
        doneButton = Button(this).apply {
            text = "IT has received it"
            setOnClickListener {
                val text = responseText
                if (text != null) {
                    // A small file write; off the main thread like all of this screen's work.
                    Work.start("enroll-refresh") {
                        Enrollment.handedToIT(this@EnrollActivity, text)
                        runOnUiThread { refresh() }
                    }
                }
            }
        }
        openButton = Button(this).apply {
            text = "Open Quietline"
            visibility = View.GONE
            setOnClickListener { startActivity(Intent(this@EnrollActivity, AdvocateActivity::class.java)) }
        }
        for (v in listOf(status, input, enrollButton, response, shareButton, retryButton, doneButton, openButton)) column.addView(v)
        setContentView(ScrollView(this).apply { addView(column) })
        showForm(false)
        showResponse(null, false)
    }

    /** Opens the agent (if any) and sends an undelivered response, then shows where things stand. */
    private fun refresh() {
        status.text = "Checking…"
        Work.start("enroll-load") {
            val result = try {
                val agent = Quietline.agent(this)
                val delivery = Enrollment.deliverResponse(this, agent)
                State.Enrolled(agent.deviceId(), agent.enrollmentResponse(), delivery)
            } catch (e: ApiException.NotInitialized) {
                State.NotEnrolled(null)
            } catch (e: ApiException) {
                State.Failed(describe(e))
            }
            runOnUiThread { show(result) }
        }
    }

    private fun enroll() {
        val bundle = Enrollment.clean(input.text)
        if (bundle == null) {
            status.text = "That is not an enrollment bundle: paste the whole text from IT, starting with QL:"
            return
        }
        // A personal phone: the app is neither device nor profile owner here. The bundle goes into
        // a new work profile (ACTION_PROVISION_MANAGED_PROFILE), where the copy of the app that
        // becomes its owner enrolls from the admin extras (QuietlineAdminReceiver).
        Provisioning.workProfileIntent(this, bundle)?.let { provision ->
            status.text = "Setting up a work profile…"
            startActivityForResult(provision, PROVISION_REQUEST)
            return
        }
        enrollButton.isEnabled = false
        status.text = "Enrolling…"
        Work.start("enroll") {
            val result = try {
                Enrollment.enroll(this, bundle)
                null // refresh() delivers the response
            } catch (e: ApiException) {
                describe(e)
            } catch (e: IllegalStateException) {
                e.message ?: "Enrollment failed"
            }
            runOnUiThread {
                enrollButton.isEnabled = true
                if (result == null) refresh() else show(State.NotEnrolled(result))
            }
        }
    }

    private fun show(state: State) {
        if (isFinishing || isDestroyed) return
        when (state) {
            is State.NotEnrolled -> {
                status.text = state.error ?: "This phone is not enrolled. Paste the enrollment text IT gave you (or share it to Quietline), then tap Enroll."
                showForm(true)
                showResponse(null, false)
            }
            is State.Enrolled -> {
                showForm(false)
                openButton.visibility = View.VISIBLE
                val device = state.deviceId?.let { " Device $it." } ?: ""
                status.text = when (state.delivery) {
                    Enrollment.Delivery.DELIVERED -> "Enrolled.$device IT has this phone's enrollment response."
                    Enrollment.Delivery.NO_RELAY -> "Enrolled.$device Send the text below to IT (Send to IT), so they can accept this phone."
                    Enrollment.Delivery.FAILED -> "Enrolled.$device The relay could not be reached; Quietline tries again. You can also send the text below to IT."
                    Enrollment.Delivery.CONFLICT -> "Enrolled.$device The relay holds another phone's key for this enrollment: contact IT before using this phone."
                    Enrollment.Delivery.REFUSED -> "Enrolled.$device The relay refused this phone's enrollment response. Send the text below to IT."
                    Enrollment.Delivery.NONE -> "This phone runs a local policy and is not enrolled with an organisation."
                }
                val undelivered = state.delivery != Enrollment.Delivery.DELIVERED && state.delivery != Enrollment.Delivery.NONE
                showResponse(if (undelivered) state.response else null, state.delivery == Enrollment.Delivery.FAILED)
            }
            is State.Failed -> {
                status.text = state.message
                showForm(false)
                showResponse(null, false)
            }
        }
    }

    private fun showForm(visible: Boolean) {
        val v = if (visible) View.VISIBLE else View.GONE
        input.visibility = v
        enrollButton.visibility = v
    }

    private fun showResponse(text: String?, retry: Boolean) {
        responseText = text
        response.text = text ?: ""
        response.visibility = if (text != null) View.VISIBLE else View.GONE
        shareButton.visibility = if (text != null) View.VISIBLE else View.GONE
        doneButton.visibility = if (text != null) View.VISIBLE else View.GONE
        retryButton.visibility = if (retry) View.VISIBLE else View.GONE
    }

    private sealed class State {
        class NotEnrolled(val error: String?) : State()
        class Enrolled(val deviceId: String?, val response: String?, val delivery: Enrollment.Delivery) : State()
        class Failed(val message: String) : State()
    }

    companion object {
        const val PROVISION_REQUEST = 43

        /** What the advocate is told; never a survivor's data (the agent's errors carry none). */
        fun describe(e: ApiException): String = when (e) {
            is ApiException.Untrusted -> "IT's enrollment text was refused (" + e.reason + "). Ask IT for a new one."
            is ApiException.AlreadyInitialized -> "This phone is enrolled already."
            is ApiException.InvalidRegion -> "This phone's country could not be used (" + e.reason + ")."
            is ApiException.KeyStoreUnavailable -> "Unlock the phone once, then open Quietline again."
            is ApiException.Wiped -> "Quietline's data was erased. Ask IT to enroll this phone again."
            else -> "Quietline could not start: " + e.javaClass.simpleName
        }
    }
}
