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
import android.widget.RadioButton
import android.widget.RadioGroup
import android.widget.ScrollView
import android.widget.TextView
import org.quietline.CallGuidance
import org.quietline.ChecklistEntry
import org.quietline.ChecklistItem
import org.quietline.ContactPlan
import org.quietline.DroppedCall
import org.quietline.Event
import org.quietline.Finding
import org.quietline.HiddenNumbers
import org.quietline.Line
import org.quietline.MessageLevel
import org.quietline.RuleGap
import org.quietline.Verdict
import org.quietline.WarnReason

/**
 * The advocate's screen once the phone is enrolled (plain framework views):
 * - **Register a survivor**: number and contact plan go to the agent (keyed hash only); the app
 *   keeps the label the advocate chose, and the number field is cleared: never shown again.
 * - **Call**: the agent's verdict and the survivor's plan (`CallGuidance`: voicemail and its vague
 *   script, what to do if the call drops, the agreed alternative when their phone rejects hidden
 *   numbers, a plan review that is due) before the call; a warned call (outside the survivor's
 *   safe times, or one that will show the advocate's number as the survivor agreed) needs "Call
 *   anyway"; the call is placed with the dial string the agent returns (caller ID hidden): on
 *   `work` through the SIM; on `byod` and for VoIP verdicts through the organisation's line (its
 *   VoIP stack linked into the app, else its softphone in the work profile, else refused).
 * - **Hand over the phone**: asks the agent; on a personal phone survivor data is purged, a work
 *   phone is never shared (the agent refuses and the screen says so).
 * - **What this phone cannot enforce**: the agent's compliance findings, permissions and roles the
 *   system did not give, and the policy's checklist of what no app can enforce, with the day IT
 *   confirmed each item.
 */
class AdvocateActivity : Activity() {
    lateinit var survivorNumber: EditText
    lateinit var survivorLabel: EditText
    lateinit var voicemailAllowed: CheckBox
    lateinit var weCallBack: CheckBox
    lateinit var hiddenNumbers: RadioGroup
    lateinit var hiddenAccepted: RadioButton
    lateinit var hiddenShowNumber: RadioButton
    lateinit var hiddenAlternate: RadioButton
    lateinit var reviewOn: EditText
    lateinit var saveSurvivor: Button
    lateinit var labels: TextView

    /** What the last save said (and how many earlier texts it deleted), kept above the list of labels. */
    private var lastSave: String? = null
    lateinit var callNumber: EditText
    lateinit var checkCall: Button
    lateinit var text: Button
    lateinit var openMessages: Button
    lateinit var guidance: TextView
    lateinit var callAnyway: Button
    lateinit var callDropped: Button
    lateinit var handOver: Button
    lateinit var handOverResult: TextView
    lateinit var compliance: TextView
    lateinit var checklist: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val column = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        fun heading(text: String) = TextView(this).apply { this.text = text; textSize = 20f }
        survivorNumber = EditText(this).apply { hint = "Survivor's number"; inputType = InputType.TYPE_CLASS_PHONE }
        survivorLabel = EditText(this).apply { hint = "A label you will recognise (no name, no number)" }
        voicemailAllowed = CheckBox(this).apply { text = "A voicemail may be left (vague script)" }
        weCallBack = CheckBox(this).apply { text = "If a call drops, we call back" }
        hiddenAccepted = RadioButton(this).apply { text = "Their phone accepts hidden numbers"; id = View.generateViewId() }
        hiddenShowNumber = RadioButton(this).apply {
            text = "Their phone rejects hidden numbers: show my number, after I confirm each call"
            id = View.generateViewId()
        }
        hiddenAlternate = RadioButton(this).apply {
            text = "Their phone rejects hidden numbers: call from the organisation's alternate caller ID"
            id = View.generateViewId()
        }
        hiddenNumbers = RadioGroup(this).apply {
            addView(hiddenAccepted)
            addView(hiddenShowNumber)
            addView(hiddenAlternate)
            check(hiddenAccepted.id)
        }
        reviewOn = EditText(this).apply { hint = "Review the plan with them on (YYYY-MM-DD, optional)"; inputType = InputType.TYPE_CLASS_DATETIME }
        saveSurvivor = Button(this).apply { text = "Save"; setOnClickListener { saveSurvivor() } }
        labels = TextView(this)
        callNumber = EditText(this).apply { hint = "Number to call"; inputType = InputType.TYPE_CLASS_PHONE }
        checkCall = Button(this).apply { text = "Call"; setOnClickListener { call(false) } }
        text = Button(this).apply { this.text = "Text"; setOnClickListener { sms() } }
        openMessages = Button(this).apply {
            this.text = "Messages"
            setOnClickListener { startActivity(Intent(this@AdvocateActivity, MessagesActivity::class.java)) }
        }
        guidance = TextView(this)
        callAnyway = Button(this).apply { text = "Call anyway"; visibility = View.GONE; setOnClickListener { call(true) } }
        callDropped = Button(this).apply { text = "The last call dropped"; setOnClickListener { dropped() } }
        handOver = Button(this).apply { text = "Hand over this phone"; setOnClickListener { handOver() } }
        handOverResult = TextView(this)
        compliance = TextView(this)
        checklist = TextView(this)
        val views = listOf(
            heading("Register a survivor"), survivorNumber, survivorLabel, voicemailAllowed, weCallBack, hiddenNumbers, reviewOn,
            saveSurvivor, labels,
            heading("Call or text"), callNumber, checkCall, text, openMessages, guidance, callAnyway, callDropped,
            heading("Hand over the phone"), handOver, handOverResult,
            heading("What this phone cannot enforce"), compliance,
            heading("What IT confirms by hand"), checklist,
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
            hiddenNumbers = when (hiddenNumbers.checkedRadioButtonId) {
                hiddenShowNumber.id -> HiddenNumbers.SHOW_NUMBER_AFTER_CONFIRM
                hiddenAlternate.id -> HiddenNumbers.ALTERNATE_CALLER_ID
                else -> null // accepted
            },
            reviewOn = reviewOn.text.toString().trim().ifEmpty { null },
        )
        var cleanup: SurvivorTexts.Cleanup? = null
        work({
            Quietline.agent(this).registerSurvivor(number, plan)
            // Texts already in the phone's messages from or to this number: out of the provider.
            cleanup = SurvivorTexts.removeFromProvider(this)
        }) { error ->
            if (error == null) {
                Survivors.addLabel(this, label)
                survivorNumber.setText("")
                survivorLabel.setText("")
                reviewOn.setText("")
                hiddenNumbers.check(hiddenAccepted.id)
            }
            lastSave = error ?: ("Saved: " + label + (cleanup?.let(::cleaned) ?: ""))
            labels.text = lastSave
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
            advice = outcome.guidance?.let(::advise) ?: ""
        }) { error ->
            when (val v = verdict) {
                null -> guidance.text = error ?: "The call could not be checked"
                is Verdict.Dial -> {
                    val how = if (v.viaVoip) "Calling through the organisation's line." else "Calling with caller ID hidden."
                    guidance.text = listOf(advice, place(number, v.dialString, v.viaVoip) ?: how).joinToString(" ").trim()
                }
                is Verdict.Allow -> {
                    guidance.text = listOf(advice, place(number, number, false) ?: "Calling.").joinToString(" ").trim()
                }
                is Verdict.Warn -> {
                    guidance.text = listOf(v.message, advice).joinToString(" ").trim()
                    callAnyway.text = when (v.reason) {
                        WarnReason.OUTSIDE_SAFE_WINDOW -> "Call anyway"
                        WarnReason.NUMBER_WILL_SHOW -> "Call with my number shown"
                    }
                    callAnyway.visibility = View.VISIBLE
                }
                is Verdict.Block -> guidance.text = v.message
                is Verdict.SendToVoicemail -> guidance.text = v.message
            }
        }
    }

    /**
     * A text from the app: the agent decides first (rule 3), then the default SMS app composes it.
     * On a work phone that is Quietline itself ([MessagesActivity], [SmsRule]), which asks again
     * before sending; on byod it is the personal SMS app, outside the work profile's reach.
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

    /**
     * Places a call the agent allowed (after any warning was confirmed) with its dial string.
     * Returns null when it was placed through the phone's own line or the app's account, else
     * what the advocate is told (handed to the softphone, or why nothing was dialled).
     * - `work`, not VoIP: the SIM, through Telecom (the redirection service and the prefix hide
     *   caller ID).
     * - VoIP verdicts, and every helpline call on `byod`: the organisation's line ([orgLine]),
     *   never the SIM or the personal dialer, which would show the advocate's number and, on a
     *   personal phone, log the survivor's number in the personal call log.
     */
    private fun place(number: String, dialString: String, viaVoip: Boolean): String? {
        if (viaVoip || isWorkProfile()) return orgLine(number, dialString)
        return try {
            service<TelecomManager>().placeCall(Uri.fromParts("tel", dialString, null), Bundle())
            Quietline.calls()?.callStarted(number, Line.HELPLINE, org.quietline.CallDirection.OUTGOING)
            null
        } catch (e: SecurityException) {
            "Quietline may not place calls on this phone (CALL_PHONE)."
        }
    }

    /**
     * The organisation's line: its own VoIP stack linked into the app ([SelfManagedCalls.transport],
     * through the self-managed account), else the organisation's softphone in this profile
     * ([Softphone], named in IT's signed policy, else in the managed configuration), else refused
     * with the reason.
     */
    private fun orgLine(number: String, dialString: String): String? {
        if (SelfManagedCalls.transport != null) {
            return try {
                SelfManagedCalls.place(this, dialString)
                Quietline.calls()?.callStarted(number, Line.HELPLINE, org.quietline.CallDirection.OUTGOING)
                null
            } catch (e: SecurityException) {
                "Quietline may not place calls through the organisation's line on this phone."
            }
        }
        return when (val h = Softphone.handOff(this, dialString)) {
            is Softphone.HandOff.Started -> {
                handedOff = number to java.time.Instant.now()
                Quietline.calls()?.callStarted(number, Line.HELPLINE, org.quietline.CallDirection.OUTGOING)
                "Handed to the organisation's calling app (${h.source.label})."
            }
            is Softphone.HandOff.Refused -> h.reason
        }
    }

    /**
     * A call handed to the softphone, with when. Quietline does not follow the softphone's call (a
     * VoIP app need not go through Telecom at all), so when the advocate comes back to this screen
     * the call is taken as over and its end reported to the agent (its cleanup runs), as the iOS
     * app does. In memory only.
     */
    private var handedOff: Pair<String, java.time.Instant>? = null

    override fun onResume() {
        super.onResume()
        val (number, startedAt) = handedOff ?: return
        if (!paused) return
        handedOff = null
        val reporter = Quietline.calls()
        if (reporter != null) {
            // Through the call-state reporter, as a connected call that went idle: its end is
            // reported once, and the advocate can still say it dropped ("The last call dropped").
            reporter.onCallStateChanged(android.telephony.TelephonyManager.CALL_STATE_OFFHOOK)
            reporter.onCallStateChanged(android.telephony.TelephonyManager.CALL_STATE_IDLE)
        } else {
            work({
                Quietline.handle(this, Event.CallEnded(number, Line.HELPLINE, org.quietline.CallDirection.OUTGOING, startedAt, false))
            }) { }
        }
    }

    private var paused = false

    override fun onPause() {
        super.onPause()
        paused = handedOff != null
    }

    /** Whether helpline calls have a way out on `byod` (linked VoIP stack or a usable softphone); null when they do. */
    private fun byodCallRouteMissing(): String? {
        if (!RuleGaps.callRouteMissing(this)) return null
        return when (val c = Softphone.configured(this)) {
            is Softphone.Config.Invalid -> "Helpline calls cannot be placed: " + c.reason
            else -> NO_CALL_ROUTE
        }
    }

    /** The advocate reports that the last call dropped: the survivor's plan says who calls back. */
    private fun dropped() {
        var outcome: org.quietline.Outcome? = null
        work({ outcome = Quietline.calls()?.reportDropped() }) { error ->
            val g = outcome?.guidance
            guidance.text = when {
                error != null -> error
                outcome == null -> "No call ended in the last minutes that could have dropped."
                g != null -> listOfNotNull(
                    if (g.droppedCall == DroppedCall.WE_CALL_BACK) "The call dropped. Their plan: call them back, at a safe time." else "The call dropped. Their plan: wait for them to call back; do not call them.",
                    g.droppedCallPractice,
                ).joinToString(" ")
                else -> "Noted."
            }
        }
    }

    private fun isWorkProfile(): Boolean = RuleGaps.isWorkProfile(this)

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
        val confirmed = mutableListOf<String>()
        var saved = emptyList<String>()
        work({
            saved = Survivors.labels(this)
            RuleGaps.report(this) // the check-in tells IT what this screen tells the advocate
            val report = Quietline.agent(this).compliance()
            // The gaps are described in detail below (which app, what to do).
            for (f in report.findings) if (f !is Finding.RuleNotEnforced) lines += describe(f)
            // On work phones also where texts to survivors are allowed: their texts stay out of the
            // SMS provider only while Quietline is the SMS app (SurvivorTexts).
            lines += smsGaps(this, report.mode)
            for (e in report.checklist) confirmed += describe(e)
            for (p in Permissions.MANAGED) {
                if (checkSelfPermission(p) != PackageManager.PERMISSION_GRANTED) lines += "Permission not granted: " + p.substringAfterLast('.')
            }
            for (r in Roles.missing(this)) lines += "Role not held: " + r.substringAfterLast('.')
            byodCallRouteMissing()?.let { lines += it }
        }) { error ->
            val registered = if (saved.isEmpty()) "No survivors registered." else "Registered: " + saved.joinToString(", ")
            labels.text = lastSave?.let { it + "\n" + registered } ?: registered
            compliance.text = error ?: if (lines.isEmpty()) "Everything the policy asks for is enforced." else lines.joinToString("\n")
            checklist.text = if (error != null) "" else if (confirmed.isEmpty()) "The policy lists nothing for IT to confirm." else confirmed.joinToString("\n")
        }
    }

    /** What became of the earlier texts with a survivor just registered, in the advocate's words. */
    private fun cleaned(c: SurvivorTexts.Cleanup): String = when {
        c.deleted == 0 && c.failed == 0 -> ""
        c.failed == 0 -> ". " + c.deleted + " earlier texts with this client were deleted from the phone's messages."
        else -> ". " + c.deleted + " earlier texts with this client were deleted; " + c.failed + " could not be deleted (" + TEXTS_NOT_DELETED + ")."
    }

    companion object {
        /** Why earlier texts with a survivor may stay in the phone's messages. */
        const val TEXTS_NOT_DELETED = "only the default SMS app may delete them"

        const val NOTIFICATIONS_REQUEST = 42

        /**
         * A personal phone with no calling route for helpline calls: neither the organisation's
         * softphone (signed policy, or managed configuration) nor a linked VoIP stack. Helpline
         * calls are refused.
         */
        const val NO_CALL_ROUTE = "Helpline calls cannot be placed from this work profile: IT has not named the organisation's calling app " +
            "(policy caller_id.softphone, or managed configuration softphoneCallUri)."

        /**
         * Rule 3 where Quietline cannot be the default SMS app: on byod SMS belongs to the personal
         * profile, which the work profile's owner cannot reach, and on a phone where Quietline is
         * not device owner nothing can make it the default. No app can stop another app's texts to
         * one number, and DISALLOW_SMS would stop every SMS both ways (IT's wipe by SMS included).
         */
        const val OTHER_APPS_TEXTS = "Texts from other apps are not checked: Android lets no app block another app's texts to one number. " +
            "Text with Quietline's Text button, which refuses texts to survivors."

        /** Work phone: the owner could not make Quietline the default SMS app. */
        const val NOT_DEFAULT_SMS = "Quietline is not the default SMS app: texts written in other apps are not checked. Tell IT."

        /** Work phone: an app whose SEND_SMS the owner could not deny (the package name follows). */
        const val STILL_SENDING = "This app can still send texts without Quietline's check: "

        /** Work phone: what no app can reach even as default SMS app and device owner. */
        const val SYSTEM_SENDERS = "Texts sent by the phone's system (Bluetooth messaging from a paired car or computer, the carrier's services) are not checked."

        /** What the phone could not enforce of rule 3, in the advocate's words (never a number). */
        fun smsGaps(context: android.content.Context, mode: org.quietline.Mode): List<String> {
            if (mode == org.quietline.Mode.BYOD) return listOf(OTHER_APPS_TEXTS)
            val state = SmsRule.state(context)
            if (!state.asked) return listOf(OTHER_APPS_TEXTS)
            val out = mutableListOf<String>()
            if (!state.defaultApp) out += NOT_DEFAULT_SMS
            for (p in state.stillSending) out += STILL_SENDING + p
            out += SYSTEM_SENDERS
            return out
        }

        /** The survivor's plan for this call in the advocate's words (guidance never carries a number). */
        fun advise(g: CallGuidance): String {
            val parts = mutableListOf<String>()
            if (g.reviewDue) parts += "Their plan is due for review: check it still suits them."
            parts += when (g.hiddenNumbers) {
                HiddenNumbers.ACCEPTED -> ""
                HiddenNumbers.SHOW_NUMBER_AFTER_CONFIRM -> "Their phone rejects hidden numbers; they agreed to see your number."
                HiddenNumbers.ALTERNATE_CALLER_ID -> "Their phone rejects hidden numbers; call from the organisation's alternate caller ID."
            }
            parts += if (!g.voicemailAllowed) {
                "Leave no voicemail."
            } else {
                val script = g.voicemailScript
                when {
                    script != null -> "Voicemail allowed, say only: \"" + script + "\""
                    g.messageLevel == MessageLevel.NONE -> "Voicemail allowed, but leave no words."
                    else -> "Voicemail allowed, keep it vague."
                }
            }
            parts += if (g.droppedCall == DroppedCall.WE_CALL_BACK) "If it drops, call back." else "If it drops, wait for them to call."
            g.droppedCallPractice?.let { parts += it }
            return parts.filter { it.isNotEmpty() }.joinToString(" ")
        }

        /** A checklist line: what no app can enforce, and whether and when IT confirmed it. */
        fun describe(e: ChecklistEntry): String {
            val item = when (e.item) {
                ChecklistItem.VOICEMAIL_TRANSCRIPTION_OFF -> "Voicemail is not transcribed to email or text"
                ChecklistItem.CARRIER_ACCOUNTS_RESTRICTED -> "Few staff can open the carrier's online account"
                ChecklistItem.BILLING_RECORDS_DESTROYED -> "Call lists on phone bills are destroyed when they arrive"
                ChecklistItem.NO_FREE_VOIP -> "No free VoIP service carries survivor calls"
                ChecklistItem.VOIP_NUMBERS_NOT_REUSED -> "A VoIP number is not reused with several survivors"
            }
            val on = e.confirmedOn
            return item + ": " + (if (on == null) "not confirmed by IT yet" else "confirmed by IT on " + on)
        }

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
            is Finding.RuleNotEnforced -> when (f.gap) {
                RuleGap.SMS_FROM_OTHER_APPS_UNCHECKED -> "Texts from other apps are not checked."
                RuleGap.NO_HELPLINE_CALL_ROUTE -> "Helpline calls have no calling route."
            }
        }
    }
}
