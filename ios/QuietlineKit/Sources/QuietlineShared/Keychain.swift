import Foundation
import Security

/// A failed Keychain call, with the `OSStatus` kept so callers can tell "not yet" (the phone has
/// not been unlocked since it started) from "gone" (the item was deleted or never existed).
public struct KeychainError: Error, CustomStringConvertible {
    public let status: OSStatus
    public let operation: String

    public init(status: OSStatus, operation: String) {
        self.status = status
        self.operation = operation
    }

    public var isMissing: Bool { status == errSecItemNotFound }

    public var description: String {
        let message = SecCopyErrorMessageString(status, nil) as String? ?? "OSStatus \(status)"
        return "\(operation): \(message)"
    }
}

/// Small helpers over generic-password items. Every item is stored with
/// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: readable by background work once the
/// advocate has unlocked the phone once since it started, and never copied to a backup or to
/// another phone, so a restored backup holds nothing that decrypts Quietline's files.
public enum Keychain {
    /// Reads an item's data.
    public static func read(service: String, account: String, accessGroup: String? = nil) throws -> Data {
        var query = baseQuery(service: service, account: account, accessGroup: accessGroup)
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        guard status == errSecSuccess, let data = result as? Data else {
            throw KeychainError(status: status == errSecSuccess ? errSecItemNotFound : status, operation: "read")
        }
        return data
    }

    /// Adds an item; fails with `errSecDuplicateItem` if it exists, so a key is never overwritten.
    public static func add(_ data: Data, service: String, account: String, accessGroup: String? = nil) throws {
        var query = baseQuery(service: service, account: account, accessGroup: accessGroup)
        query[kSecValueData as String] = data
        query[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        let status = SecItemAdd(query as CFDictionary, nil)
        guard status == errSecSuccess else { throw KeychainError(status: status, operation: "add") }
    }

    /// Deletes an item; deleting one that is already gone succeeds.
    public static func delete(service: String, account: String, accessGroup: String? = nil) throws {
        let query = baseQuery(service: service, account: account, accessGroup: accessGroup)
        let status = SecItemDelete(query as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw KeychainError(status: status, operation: "delete")
        }
    }

    /// Reads the item, or creates it with `make()` when there is none. Another thread that
    /// created it first wins; its value is returned.
    public static func readOrCreate(
        service: String, account: String, accessGroup: String? = nil, make: () -> Data
    ) throws -> Data {
        do {
            return try read(service: service, account: account, accessGroup: accessGroup)
        } catch let error as KeychainError where error.isMissing {
            do {
                try add(make(), service: service, account: account, accessGroup: accessGroup)
            } catch let error as KeychainError where error.status == errSecDuplicateItem {
                // Lost a race: fall through and read the winner's key.
            }
            return try read(service: service, account: account, accessGroup: accessGroup)
        }
    }

    private static func baseQuery(service: String, account: String, accessGroup: String?) -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
        ]
        if let accessGroup {
            query[kSecAttrAccessGroup as String] = accessGroup
        }
        return query
    }
}
