import CryptoKit
import Foundation

/// A small file sealed with AES-GCM under its own 256-bit key in the Keychain
/// (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`), written with file protection
/// "complete until first user authentication". Erasing deletes the key first: without it the
/// file is noise even if the deletion of the file itself never reaches the flash.
public struct SealedFile {
    public let url: URL
    private let keyService: String
    private let keychainGroup: String?
    private static let keyAccount = "sealing-key"

    public init(url: URL, keyService: String, keychainGroup: String? = nil) {
        self.url = url
        self.keyService = keyService
        self.keychainGroup = keychainGroup
    }

    public func write(_ plain: Data) throws {
        let sealed = try AES.GCM.seal(plain, using: key(createIfMissing: true))
        guard let combined = sealed.combined else { throw CocoaError(.fileWriteUnknown) }
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true
        )
        try combined.write(to: url, options: [.atomic, .completeFileProtectionUntilFirstUserAuthentication])
    }

    /// The plaintext, or nil when there is no file.
    public func read() throws -> Data? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let box = try AES.GCM.SealedBox(combined: Data(contentsOf: url))
        return try AES.GCM.open(box, using: key(createIfMissing: false))
    }

    /// Crypto-erase: the key, then the file.
    public func erase() throws {
        try Keychain.delete(service: keyService, account: Self.keyAccount, accessGroup: keychainGroup)
        if FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.removeItem(at: url)
        }
    }

    private func key(createIfMissing: Bool) throws -> SymmetricKey {
        let data: Data
        if createIfMissing {
            data = try Keychain.readOrCreate(service: keyService, account: Self.keyAccount, accessGroup: keychainGroup) {
                SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            }
        } else {
            data = try Keychain.read(service: keyService, account: Self.keyAccount, accessGroup: keychainGroup)
        }
        return SymmetricKey(data: data)
    }
}
