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
 * BYOD calls: the work profile cannot reach the personal profile's dialer or call log, so helpline
 * calls on a personal phone go through this self-managed ConnectionService (VoIP to the
 * organisation's helpline trunk, which presents the helpline's number). The system does not write
 * self-managed calls to the call log (EXTRA_LOG_SELF_MANAGED_CALLS is left false), so no survivor
 * number reaches the personal call log at all.
 *
 * The VoIP media path (SIP to the organisation's trunk) is not part of this app yet: the
 * connection fails with an error the advocate sees, instead of pretending to ring.
 */
class SelfManagedCalls : ConnectionService() {
    override fun onCreateOutgoingConnection(account: PhoneAccountHandle, request: ConnectionRequest): Connection =
        Connection.createFailedConnection(DisconnectCause(DisconnectCause.ERROR, "No VoIP trunk is configured for helpline calls"))

    companion object {
        private const val ACCOUNT_ID = "quietline-helpline"

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
