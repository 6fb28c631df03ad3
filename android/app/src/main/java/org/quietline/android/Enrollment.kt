package org.quietline.android

import android.app.admin.DevicePolicyManager
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.PersistableBundle
import android.telephony.TelephonyManager
import java.io.File
import java.io.IOException
import java.security.MessageDigest
import java.util.Locale
import org.quietline.Agent
import org.quietline.ApiException

/**
 * Enrollment on Android: IT's bundle (the `QL:` text `quietline-admin enroll` prints, also as a QR
 * code) goes to `Agent.enroll`, which verifies it; the app never reads it. The enrollment response
 * then goes back to IT: to `<relay>/enrollments` when the bundle named a relay, otherwise the
 * advocate shares it (EnrollActivity). The agent keeps the response, so one that did not reach the
 * relay is sent again at the next start of the app and at every relay poll.
 *
 * Where the bundle comes from:
 * - device-owner provisioning (QR/NFC): the admin extras bundle, key [ADMIN_EXTRA_BUNDLE], reaches
 *   ProvisioningActivity (ACTION_ADMIN_POLICY_COMPLIANCE) and QuietlineAdminReceiver
 *   (ACTION_PROFILE_PROVISIONING_COMPLETE); only the system can send either;
 * - pasted into EnrollActivity, or shared to it as text (ACTION_SEND text/plain); any app can
 *   share text, so that path enrolls only when the advocate confirms.
 */
object Enrollment {
    /** The key of IT's bundle in `EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE`. */
    const val ADMIN_EXTRA_BUNDLE = "quietline_bundle"

    /** Where the response went, if anywhere. */
    enum class Delivery {
        /** The relay stored it (now or earlier). */
        DELIVERED,
        /** The agent is not enrolled (no response to send). */
        NONE,
        /** No relay in the bundle: the advocate must share it with IT. */
        NO_RELAY,
        /** The relay could not be reached, or IT has not announced the enrollment yet: tried again later. */
        FAILED,
        /** The relay holds another device key for this enrollment (`409`): the advocate must contact IT; tried again later. */
        CONFLICT,
        /** The relay refused the response as invalid (`400`): it is not sent there again; the advocate shares it with IT. */
        REFUSED,
    }

    /** Whether an agent lives on this phone (enrolled, or created with a local policy). */
    fun isEnrolled(context: Context): Boolean = Quietline.stateDir(context).list()?.isNotEmpty() == true

    /** The bundle in a provisioning intent's admin extras, if it carries one. */
    fun bundleFromProvisioning(intent: Intent): String? {
        val key = DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE
        val extras: PersistableBundle? =
            if (Build.VERSION.SDK_INT >= 33) intent.getParcelableExtra(key, PersistableBundle::class.java) else legacyExtra(intent, key)
        return extras?.getString(ADMIN_EXTRA_BUNDLE)?.let(::clean)
    }

    /** API 31-32, before the type-safe getter: the untyped one, checked here. */
    @Suppress("DEPRECATION")
    private fun legacyExtra(intent: Intent, key: String): PersistableBundle? = intent.extras?.get(key) as? PersistableBundle

    /** The `QL:` text in what the advocate pasted or shared (whitespace and line breaks removed). */
    fun clean(text: CharSequence): String? {
        val compact = text.toString().filterNot { it.isWhitespace() }
        val start = compact.indexOf(SmsCommandReceiver.COMMAND_PREFIX)
        return if (start < 0) null else compact.substring(start)
    }

    /**
     * The phone's ISO 3166 region for the agent's number handling: the SIM's country, else the
     * network's, else the locale's; null when none is a two-letter code.
     */
    fun region(context: Context): String? {
        val tm: TelephonyManager? = context.getSystemService(TelephonyManager::class.java)
        val candidates = listOf(tm?.simCountryIso, tm?.networkCountryIso, Locale.getDefault().country)
        return candidates
            .map { (it ?: "").trim().uppercase(Locale.ROOT) }
            .firstOrNull { it.length == 2 && it.all { c -> c in 'A'..'Z' } }
    }

    /**
     * Enrolls, applies the bundle's policy and schedules relay polls; then call [deliverResponse]
     * (off the main thread). Throws ApiException when the agent refuses the bundle, and
     * IllegalStateException when the phone's region is unknown.
     */
    fun enroll(context: Context, bundle: String): Agent {
        val region = region(context) ?: throw IllegalStateException(
            "This phone's country is unknown: insert the SIM or set a region in the phone's language settings",
        )
        val agent = Quietline.enroll(context, region, bundle)
        try {
            Quietline.executor(context).runPending() // the bundle's policy, at once
            // The periodic job ticks the agent's clock and, with a relay, polls it and sends the
            // response again until the relay has stored it. Not scheduled (JobScheduler refused):
            // enrolled all the same, scheduled again at the next unlock or start.
            Quietline.start(context)
        } catch (e: ApiException) {
            // Enrolled all the same; the actions stay pending and run at the next start or poll.
        }
        return agent
    }

    /**
     * Sends the enrollment response to `<relay>/enrollments` unless the relay stored it already.
     * Never on the main thread (network). Safe to call at every start.
     */
    fun deliverResponse(context: Context, agent: Agent): Delivery {
        val response = agent.enrollmentResponse() ?: return Delivery.NONE
        if (isDelivered(context, response)) return Delivery.DELIVERED
        val relay = try {
            agent.relayUrl()
        } catch (e: ApiException) {
            return Delivery.FAILED // wiped or failing: nothing to deliver for now
        } ?: return Delivery.NO_RELAY
        if (isRefused(context, response)) return Delivery.REFUSED
        return when (Relay.postEnrollment(relay, response)) {
            Relay.EnrollmentAnswer.STORED -> {
                markDelivered(context, response)
                Delivery.DELIVERED
            }
            Relay.EnrollmentAnswer.CONFLICT -> Delivery.CONFLICT
            Relay.EnrollmentAnswer.REFUSED -> {
                try {
                    refusedFile(context).writeText(digest(response))
                } catch (e: IOException) {
                    // Offered to the relay once more at the next poll: harmless.
                }
                Delivery.REFUSED
            }
            Relay.EnrollmentAnswer.NOT_ANNOUNCED, Relay.EnrollmentAnswer.RETRY -> Delivery.FAILED
        }
    }

    private fun isRefused(context: Context, response: String): Boolean =
        try {
            refusedFile(context).readText() == digest(response)
        } catch (e: IOException) {
            false
        }

    private fun refusedFile(context: Context): File = File(context.noBackupFilesDir, "enrollment-refused")

    /** Whether the relay stored this response (a new enrollment has a new response). */
    fun isDelivered(context: Context, response: String): Boolean =
        try {
            deliveredFile(context).readText() == digest(response)
        } catch (e: IOException) {
            false
        }

    /** The advocate sent the response to IT another way (the share sheet): stop offering it. */
    fun handedToIT(context: Context, response: String) = markDelivered(context, response)

    private fun markDelivered(context: Context, response: String) {
        try {
            deliveredFile(context).writeText(digest(response))
        } catch (e: IOException) {
            // Not recorded: the relay gets it once more at the next start, which is harmless.
        }
    }

    /** Outside the agent's directory, which must be empty at enrollment and is the agent's own. */
    private fun deliveredFile(context: Context): File = File(context.noBackupFilesDir, "enrollment-delivered")

    private fun digest(text: String): String =
        MessageDigest.getInstance("SHA-256").digest(text.toByteArray(Charsets.UTF_8)).joinToString("") { "%02x".format(it) }

    /** An intent that lets the advocate send the response to IT by any app (mail, messenger). */
    fun shareIntent(response: String): Intent {
        val send = Intent(Intent.ACTION_SEND)
            .setType("text/plain")
            .putExtra(Intent.EXTRA_SUBJECT, "Quietline enrollment response")
            .putExtra(Intent.EXTRA_TEXT, response)
        return Intent.createChooser(send, "Send to IT")
    }
}
