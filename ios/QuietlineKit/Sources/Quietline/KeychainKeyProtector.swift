import CryptoKit
import Foundation
import QuietlineShared
import Security

/// The iOS key protector: wraps Quietline's data key with a key the app cannot export.
///
/// Where the phone has a Secure Enclave, the wrapping key is a P-256 private key generated inside
/// it (ECIES, `.eciesEncryptionStandardX963SHA256AESGCM`): the key never leaves the chip, so a copy
/// of the app's files and Keychain is useless elsewhere. Elsewhere (the simulator, old devices)
/// it is a 256-bit AES-GCM key kept in the Keychain. Either key is stored
/// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: usable by background work (push, refresh)
/// once the advocate has unlocked the phone after a restart, never included in backups.
///
/// The first byte of every wrapped key names the scheme, so a phone whose key kind changed (a
/// restore onto a device without an enclave) reports `KeyInvalidated` instead of garbage.
///
/// The state's generation is recorded in a Keychain generic-password item of its own (same
/// accessibility, never synchronizable), outside the app's container: copying an older agent
/// directory back over a newer one does not roll the record back, so `Agent.open` refuses it
/// (`StateDamaged`) instead of reviving purged survivors and revoked keys. See
/// docs/threat-model.md for what this does not cover.
public final class KeychainKeyProtector: KeyProtector, @unchecked Sendable {
    private enum Scheme: UInt8 {
        case secureEnclave = 1
        case keychainAESGCM = 2
    }

    private let tag: Data
    private let service = "org.quietline.keyprotector"
    private let generationService = "org.quietline.generation"
    private let account: String
    private let useSecureEnclave: Bool
    private let lock = NSLock()

    /// - Parameters:
    ///   - label: names this protector's key; one per agent directory.
    ///   - preferSecureEnclave: pass false only in tests that must run on the simulator.
    public init(label: String = "agent", preferSecureEnclave: Bool = true) {
        self.tag = Data("org.quietline.keyprotector.\(label)".utf8)
        self.account = label
        self.useSecureEnclave = preferSecureEnclave && SecureEnclave.isAvailable
    }

    public func wrapKey(dataKey: Data) throws -> Data {
        lock.lock()
        defer { lock.unlock() }
        if useSecureEnclave {
            let privateKey = try enclaveKey(createIfMissing: true)
            guard let publicKey = SecKeyCopyPublicKey(privateKey) else {
                throw KeyProtectorError.Failed(reason: "the Secure Enclave key has no public key")
            }
            var error: Unmanaged<CFError>?
            guard let sealed = SecKeyCreateEncryptedData(publicKey, Self.algorithm, dataKey as CFData, &error) else {
                throw Self.mapped(error?.takeRetainedValue(), operation: "encrypt")
            }
            return Data([Scheme.secureEnclave.rawValue]) + (sealed as Data)
        }
        do {
            let sealed = try AES.GCM.seal(dataKey, using: aesKey(createIfMissing: true))
            guard let combined = sealed.combined else {
                throw KeyProtectorError.Failed(reason: "AES-GCM produced no combined box")
            }
            return Data([Scheme.keychainAESGCM.rawValue]) + combined
        } catch let error as KeyProtectorError {
            throw error
        } catch {
            throw KeyProtectorError.Failed(reason: "AES-GCM seal: \(error)")
        }
    }

    public func unwrapKey(wrapped: Data) throws -> Data {
        lock.lock()
        defer { lock.unlock() }
        guard let first = wrapped.first, let scheme = Scheme(rawValue: first) else {
            throw KeyProtectorError.Failed(reason: "unknown wrapping scheme")
        }
        let body = wrapped.dropFirst()
        switch scheme {
        case .secureEnclave:
            guard useSecureEnclave else { throw KeyProtectorError.KeyInvalidated }
            let privateKey = try enclaveKey(createIfMissing: false)
            var error: Unmanaged<CFError>?
            guard let plain = SecKeyCreateDecryptedData(privateKey, Self.algorithm, Data(body) as CFData, &error) else {
                throw Self.mapped(error?.takeRetainedValue(), operation: "decrypt")
            }
            return plain as Data
        case .keychainAESGCM:
            let key = try aesKey(createIfMissing: false)
            do {
                return try AES.GCM.open(AES.GCM.SealedBox(combined: body), using: key)
            } catch {
                // The key is there but does not open the box: it is not the key that wrapped it.
                throw KeyProtectorError.KeyInvalidated
            }
        }
    }

    /// Deletes both kinds of key, so every wrapped copy of the data key is unreadable from now on.
    public func destroyKey() throws {
        lock.lock()
        defer { lock.unlock() }
        let keyQuery: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag,
        ]
        let status = SecItemDelete(keyQuery as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw Self.mapped(status: status, operation: "delete the Secure Enclave key")
        }
        do {
            try Keychain.delete(service: service, account: account)
            try Keychain.delete(service: generationService, account: account)
        } catch let error as KeychainError {
            throw Self.mapped(status: error.status, operation: "delete the AES key and the generation record")
        }
    }

    // MARK: - Generation record

    /// Replaces the recorded generation (decimal digits) with `generation`: updated in place when
    /// the item exists (one call, so there is no moment without a record), added otherwise.
    public func recordGeneration(generation: UInt64) throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let value = Data(String(generation).utf8)
        let status = SecItemUpdate(
            generationQuery() as CFDictionary, [kSecValueData as String: value] as CFDictionary
        )
        if status == errSecItemNotFound {
            var add = generationQuery()
            add[kSecValueData as String] = value
            add[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
            let added = SecItemAdd(add as CFDictionary, nil)
            guard added == errSecSuccess else { throw Self.mapped(status: added, operation: "add the generation record") }
            return true
        }
        guard status == errSecSuccess else { throw Self.mapped(status: status, operation: "update the generation record") }
        return true
    }

    /// The recorded generation; `nil` when none was recorded (a new agent, or after `destroyKey`).
    public func recordedGeneration() throws -> UInt64? {
        lock.lock()
        defer { lock.unlock() }
        var query = generationQuery()
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess, let data = result as? Data,
              let generation = UInt64(String(decoding: data, as: UTF8.self)) else {
            throw Self.mapped(status: status == errSecSuccess ? errSecDecode : status, operation: "read the generation record")
        }
        return generation
    }

    /// The generation item: this device only, never synchronized to iCloud Keychain.
    private func generationQuery() -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: generationService,
            kSecAttrAccount as String: account,
            kSecAttrSynchronizable as String: false,
        ]
    }

    // MARK: - Secure Enclave

    private static let algorithm: SecKeyAlgorithm = .eciesEncryptionStandardX963SHA256AESGCM

    private func enclaveKey(createIfMissing: Bool) throws -> SecKey {
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecReturnRef as String: true,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecSuccess, let item {
            // SecItemCopyMatching with kSecReturnRef on kSecClassKey always yields a SecKey.
            return item as! SecKey
        }
        guard status == errSecItemNotFound, createIfMissing else {
            throw Self.mapped(status: status, operation: "find the Secure Enclave key")
        }
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, .privateKeyUsage, &error
        ) else {
            throw Self.mapped(error?.takeRetainedValue(), operation: "create access control")
        }
        let attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag,
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw Self.mapped(error?.takeRetainedValue(), operation: "create the Secure Enclave key")
        }
        return key
    }

    // MARK: - Keychain AES-GCM

    private func aesKey(createIfMissing: Bool) throws -> SymmetricKey {
        do {
            let data: Data
            if createIfMissing {
                data = try Keychain.readOrCreate(service: service, account: account) {
                    SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
                }
            } else {
                data = try Keychain.read(service: service, account: account)
            }
            return SymmetricKey(data: data)
        } catch let error as KeychainError {
            throw Self.mapped(status: error.status, operation: "the AES key")
        }
    }

    // MARK: - Errors

    /// The one place where Keychain results become the core's error cases: "not now" is
    /// retriable, "gone" means the wrapped data can never be read again.
    static func mapped(status: OSStatus, operation: String) -> KeyProtectorError {
        let message = SecCopyErrorMessageString(status, nil) as String? ?? "OSStatus \(status)"
        switch status {
        case errSecInteractionNotAllowed:
            return .Unavailable(reason: "\(operation): the phone has not been unlocked since it started (\(message))")
        case errSecItemNotFound:
            return .KeyInvalidated
        default:
            return .Failed(reason: "\(operation): \(message)")
        }
    }

    private static func mapped(_ error: CFError?, operation: String) -> KeyProtectorError {
        guard let error else { return .Failed(reason: "\(operation): no error was given") }
        let nsError = error as Error as NSError
        if nsError.domain == NSOSStatusErrorDomain {
            return mapped(status: OSStatus(nsError.code), operation: operation)
        }
        return .Failed(reason: "\(operation): \(nsError.localizedDescription)")
    }
}
