package org.quietline.android

import android.content.ComponentName
import android.content.Context
import android.net.Uri
import android.os.Bundle
import android.telecom.Connection
import android.telecom.ConnectionRequest
import android.telecom.ConnectionService
import android.telecom.DisconnectCause
import android.telecom.PhoneAccount
import android.telecom.PhoneAccountHandle
import android.telecom.TelecomManager

/**
 * The organisation's own VoIP stack (SIP/WebRTC to its helpline trunk, which presents the
 * helpline's number), for an organisation that links one into its build of the app. Quietline
 * ships none: without it a call through [SelfManagedCalls] fails visibly, and helpline calls on
 * `byod` go to the organisation's softphone instead ([Softphone]).
 */
interface VoipTransport {
    /**
     * A connection that carries the call to [dialString] (the agent's dial string) over the
     * organisation's service; it reports its own state changes and disconnect cause to Telecom.
     */
    fun connect(request: ConnectionRequest, dialString: String): Connection
}

/**
 * Helpline calls through the app's own self-managed ConnectionService, for an organisation that
 * links its own VoIP stack ([transport]). The system does not write self-managed calls to the
 * call log (EXTRA_LOG_SELF_MANAGED_CALLS is left false), so no survivor number reaches any call
 * log. Without a transport (Quietline's own builds) the app places no call through the account
 * (it hands the call to the organisation's softphone, [Softphone], or refuses it), and a call
 * that reaches the service anyway fails with an error the advocate sees instead of pretending to
 * ring.
 */
class SelfManagedCalls : ConnectionService() {
    override fun onCreateOutgoingConnection(account: PhoneAccountHandle, request: ConnectionRequest): Connection {
        val voip = transport ?: return Connection.createFailedConnection(DisconnectCause(DisconnectCause.ERROR, NO_TRANSPORT))
        val dialString = request.address?.schemeSpecificPart
            ?: return Connection.createFailedConnection(DisconnectCause(DisconnectCause.ERROR, "No number to call"))
        return voip.connect(request, dialString)
    }

    companion object {
        private const val ACCOUNT_ID = "quietline-helpline"

        /** Why a call through the account fails when no VoIP stack is linked. */
        const val NO_TRANSPORT = "No VoIP trunk is configured for helpline calls"

        /**
         * The organisation's VoIP stack, set once at process start by a build that links one
         * (null in Quietline's own builds). With it, helpline calls go through this account.
         */
        @Volatile var transport: VoipTransport? = null

        /** The app's self-managed phone account. */
        fun handle(context: Context): PhoneAccountHandle =
            PhoneAccountHandle(ComponentName(context, SelfManagedCalls::class.java), ACCOUNT_ID)

        /** Registers the self-managed account (needs MANAGE_OWN_CALLS, a normal permission). */
        fun register(context: Context) {
            val account = PhoneAccount.builder(handle(context), "Quietline helpline")
                .setCapabilities(PhoneAccount.CAPABILITY_SELF_MANAGED)
                .build()
            context.service<TelecomManager>().registerPhoneAccount(account)
        }

        /** Places a helpline call through the self-managed account. */
        fun place(context: Context, dialString: String) {
            register(context)
            val extras = Bundle().apply { putParcelable(TelecomManager.EXTRA_PHONE_ACCOUNT_HANDLE, handle(context)) }
            context.service<TelecomManager>().placeCall(Uri.fromParts("tel", dialString, null), extras)
        }
    }
}
