package org.quietline.android

import android.telecom.Connection
import android.telecom.ConnectionRequest
import android.telecom.ConnectionService
import android.telecom.PhoneAccountHandle

/**
 * BYOD calls: the work profile cannot reach the personal profile's dialer or call log, so helpline
 * calls on a personal phone go through this self-managed ConnectionService (VoIP to the
 * organisation's helpline trunk, which presents the helpline's number). The system does not write
 * self-managed calls to the call log (EXTRA_LOG_SELF_MANAGED_CALLS is left false), so no survivor
 * number reaches the personal call log at all.
 */
class SelfManagedCalls : ConnectionService() {
    override fun onCreateOutgoingConnection(account: PhoneAccountHandle, request: ConnectionRequest): Connection {
        val connection = object : Connection() {
            override fun onDisconnect() {
                setDisconnected(android.telecom.DisconnectCause(android.telecom.DisconnectCause.LOCAL))
                destroy()
            }
        }
        connection.connectionProperties = Connection.PROPERTY_SELF_MANAGED
        connection.setAddress(request.address, android.telecom.TelecomManager.PRESENTATION_ALLOWED)
        connection.setDialing()
        return connection
    }
}
