package org.quietline.android

import android.Manifest
import android.app.Activity
import android.app.admin.DevicePolicyManager
import android.content.Intent
import android.content.pm.PackageManager
import android.net.Uri
import android.os.Bundle
import android.telecom.TelecomManager
import android.text.InputType
import android.view.View
import android.widget.Button
import android.widget.CheckBox
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import org.quietline.ApiException
import org.quietline.ContactPlan
import org.quietline.DroppedCall
import org.quietline.Event
import org.quietline.Finding
import org.quietline.Line
import org.quietline.MessageLevel
import org.quietline.Verdict

/**
 * The advocate's screen once the phone is enrolled (plain framework views):
 * - **Register a survivor**: number and contact plan go to the agent (keyed hash only); the app
 *   keeps the label the advocate chose, and the number field is cleared: never shown again.
 * - **Call**: the agent's verdict and the survivor's plan (`CallGuidance`) before the call; a
 *   warned call (outside the survivor's safe times) needs "Call anyway"; the call is placed with
 *   the dial string the agent returns (caller ID hidden), on `byod` through the app's
 *   self-managed account.
 * - **Hand over the phone**: asks the agent; on a personal phone survivor data is purged, a work
 *   phone is never shared (the agent refuses and the screen says so).
 * - **What this phone cannot enforce**: the agent's compliance findings, permissions and roles the
 *   system did not give.
 */
class AdvocateActivity : Activity() {
    lateinit var survivorNumber: EditText
    lateinit var survivorLabel: EditText
    lateinit var voicemailAllowed: CheckBox
    lateinit var weCallBack: CheckBox
    lateinit var saveSurvivor: Button
    lateinit var labels: TextView
    lateinit var callNumber: EditText
    lateinit var checkCall: Button
    lateinit var text: Button
    lateinit var guidance: TextView
    lateinit var callAnyway: Button
    lateinit var handOver: Button
    lateinit var handOverResult: TextView
    lateinit var compliance: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val column = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        fun heading(text: String) = TextView(this).apply { this.text = text; textSize = 20f }
        survivorNumber = EditText(this).apply { hint = "Survivor's number"; inputType = InputType.TYPE_CLASS_PHONE }
        survivorLabel = EditText(this).apply { hint = "A label you will recognise (no name, no number)" }
        voicemailAllowed = CheckBox(this).apply { text = "A voicemail may be left (vague script)" }
        weCallBack = CheckBox(this).apply { text = "If a call drops, we call back" }
        saveSurvivor = Button(this).apply { text = "Save"; setOnClickListener { saveSurvivor() } }
        labels = TextView(this)
        callNumber = EditText(this).apply { hint = "Number to call"; inputType = InputType.TYPE_CLASS_PHONE }
        checkCall = Button(this).apply { text = "Call"; setOnClickListener { call(false) } }
        text = Button(this).apply { this.text = "Text"; setOnClickListener { sms() } }
        guidance = TextView(this)
        callAnyway = Button(this).apply { text = "Call anyway"; visibility = View.GONE; setOnClickListener { call(true) } }
        handOver = Button(this).apply { text = "Hand over this phone"; setOnClickListener { handOver() } }
        handOverResult = TextView(this)
        compliance = TextView(this)
        val views = listOf(
            heading("Register a survivor"), survivorNumber, survivorLabel, voicemailAllowed, weCallBack, saveSurvivor, labels,
            heading("Call or text"), callNumber, checkCall, text, guidance, callAnyway,
            heading("Hand over the phone"), handOver, handOverResult,
            heading("What this phone cannot enforce"), compliance,
        )
        for (v in views) column.addView(v)
        setContentView(ScrollView(this).apply { addView(column) })
        Roles.requestNext(this)
        if (checkSelfPermission(Manifest.permission.POST_NOTIFICATIONS) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(arrayOf(Manifest.permission.POST_NOTIFICATIONS), NOTIFICATIONS_REQUEST)
        }
        refresh()
    }

    private fun saveSurvivor() {
        val number = survivorNumber.text.toString()
        val label = survivorLabel.text.toString().ifBlank { "Client " + (Survivors.labels(this).size + 1) }
        val plan = ContactPlan(
            safeWindows = emptyList(),
            voicemailAllowed = voicemailAllowed.isChecked,
            messageLevel = MessageLevel.VAGUE,
            droppedCall = if (weCallBack.isChecked) DroppedCall.WE_CALL_BACK else DroppedCall.THEY_CALL_BACK,
        )
        work({ Quietline.agent(this).registerSurvivor(number, plan) }) { error ->
            if (error == null) {
                Survivors.addLabel(this, label)
                survivorNumber.setText("")
                survivorLabel.setText("")
            }
            labels.text = error ?: ("Saved: " + label)
            refresh()
        }
    }

    private fun call(confirmed: Boolean) {
        val number = callNumber.text.toString()
        callAnyway.visibility = View.GONE
        var verdict: Verdict? = null
        var advice = ""
        work({
            val outcome = Quietline.agent(this).handle(Event.OutgoingCall(number, Line.HELPLINE, confirmed))
            Quietline.executor(this).runAll(outcome.actions)
            verdict = outcome.verdict
            advice = outcome.guidance?.let { g ->
                (if (g.voicemailAllowed) "Voicemail allowed, keep it vague. " else "Leave no voicemail. ") +
                    (if (g.droppedCall == DroppedCall.WE_CALL_BACK) "If it drops, call back." else "If it drops, wait for them to call.")
            } ?: ""
        }) { error ->
            when (val v = verdict) {
                null -> guidance.text = error ?: "The call could not be checked"
                is Verdict.Dial -> {
                    guidance.text = listOf(advice, "Calling with caller ID hidden.").joinToString(" ").trim()
                    place(number, v.dialString)
                }
                is Verdict.Allow -> {
                    guidance.text = advice.ifEmpty { "Calling." }
                    place(number, number)
                }
                is Verdict.Warn -> {
                    guidance.text = listOf(v.message, advice).joinToString(" ").trim()
                    callAnyway.visibility = View.VISIBLE
                }
                is Verdict.Block -> guidance.text = v.message
                is Verdict.SendToVoicemail -> guidance.text = v.message
            }
        }
    }

    /**
     * A text from the app: the agent decides first (rule 3). No app can stop another app's texts;
     * on work phones IT can add the DISALLOW_SMS restriction through policy instead.
     */
    private fun sms() {
        val number = callNumber.text.toString()
        var verdict: Verdict? = null
        work({ verdict = Quietline.agent(this).handle(Event.OutgoingSms(number)).verdict }) { error ->
            when (val v = verdict) {
                null -> guidance.text = error ?: "The text could not be checked"
                is Verdict.Block -> guidance.text = v.message
                is Verdict.Warn -> guidance.text = v.message
                else -> startActivity(Intent(Intent.ACTION_SENDTO, Uri.fromParts("smsto", number, null)))
            }
        }
    }

    /** Places the call: the phone's own line on a work phone, the self-managed account on byod. */
    private fun place(number: String, dialString: String) {
        try {
            if (isWorkProfile()) {
                SelfManagedCalls.place(this, dialString)
            } else {
                service<TelecomManager>().placeCall(Uri.fromParts("tel", dialString, null), Bundle())
            }
            Quietline.calls()?.callStarted(number, Line.HELPLINE, org.quietline.CallDirection.OUTGOING)
        } catch (e: SecurityException) {
            guidance.text = "Quietline may not place calls on this phone (CALL_PHONE)."
        }
    }

    private fun isWorkProfile(): Boolean {
        val dpm = getSystemService(DevicePolicyManager::class.java) ?: return false
        return dpm.isProfileOwnerApp(packageName) && !dpm.isDeviceOwnerApp(packageName)
    }

    private fun handOver() {
        var verdict: Verdict? = null
        work({
            val outcome = Quietline.agent(this).handle(Event.HandoffRequested)
            Quietline.executor(this).runAll(outcome.actions)
            verdict = outcome.verdict
        }) { error ->
            handOverResult.text = when (val v = verdict) {
                is Verdict.Block -> v.message
                null -> error ?: "Could not ask Quietline"
                else -> "Survivor data is purged from Quietline. You can hand the phone over."
            }
            refresh()
        }
    }

    /** Shows the labels and what the phone cannot enforce. */
    fun refresh() {
        val lines = mutableListOf<String>()
        var saved = emptyList<String>()
        work({
            saved = Survivors.labels(this)
            for (f in Quietline.agent(this).compliance().findings) lines += describe(f)
            for (p in Permissions.MANAGED) {
                if (checkSelfPermission(p) != PackageManager.PERMISSION_GRANTED) lines += "Permission not granted: " + p.substringAfterLast('.')
            }
            for (r in Roles.missing(this)) lines += "Role not held: " + r.substringAfterLast('.')
        }) { error ->
            labels.text = if (saved.isEmpty()) "No survivors registered." else "Registered: " + saved.joinToString(", ")
            compliance.text = error ?: if (lines.isEmpty()) "Everything the policy asks for is enforced." else lines.joinToString("\n")
        }
    }

    /** Runs [block] on [Quietline.background], then [done] on the main thread with an error text or null. */
    private fun work(block: () -> Unit, done: (String?) -> Unit) {
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

    companion object {
        const val NOTIFICATIONS_REQUEST = 42

        /** A compliance finding in the advocate's words (findings never carry a number). */
        fun describe(f: Finding): String = when (f) {
            is Finding.LockTimeoutTooLong -> "The screen lock timeout is longer than the policy allows."
            is Finding.SecureLockMissing -> "No PIN, password or biometric lock."
            is Finding.CallerIdNotHidden -> "Caller ID is not hidden."
            is Finding.CallerIdCheckOverdue -> "The caller-ID check is overdue: ask IT to run it."
            is Finding.ActionFailing -> "A safety action keeps failing."
            is Finding.ActionsAbandoned -> "Safety actions were given up on."
            is Finding.ActionUnsupported -> "This phone cannot do a safety action the policy asks for."
            is Finding.ClockJumps -> "The phone's clock jumped."
            is Finding.PolicyStale -> "The policy has expired."
        }
    }
}
