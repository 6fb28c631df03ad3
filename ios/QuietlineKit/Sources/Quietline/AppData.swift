import CryptoKit
import Foundation
import QuietlineShared

/// Everything the app itself keeps, apart from the agent's own directory: caches, the relay's
/// address with any wipe receipt still to deliver (sealed, see `SealedFile`) and the enrollment
/// response's digest. No survivor number is kept here: the core's registry holds keyed hashes
/// only. Selective wipe and survivor purge go through here, and never touch anything else on
/// the phone: on a personal iPhone the organisation's reach ends at this app.
public final class AppData {
    /// The agent's state directory (the core encrypts it under the key protector's key).
    public let agentDirectory: URL
    private let root: URL
    /// What builds before issue 11 item 9 kept for the off-duty block list, erased at every
    /// start (`eraseRetiredBlockList`): the survivors' numbers, sealed in the app's directory,
    /// and the sealed block list in the App Group container.
    private let retiredSurvivorFile: SealedFile
    private let retiredBlockList: SealedFile?
    private let relayFile: SealedFile
    private let enrollmentMarker: URL

    public init(root: URL, container: SharedContainer?) {
        self.root = root
        self.agentDirectory = root.appendingPathComponent("agent", isDirectory: true)
        self.retiredSurvivorFile = SealedFile(
            url: root.appendingPathComponent("survivors.sealed"), keyService: "org.quietline.survivors"
        )
        self.retiredBlockList = container.flatMap { shared in
            shared.directory.map {
                SealedFile(
                    url: $0.appendingPathComponent("offduty-blocklist.sealed"),
                    keyService: "org.quietline.blocklist",
                    keychainGroup: shared.keychainGroup
                )
            }
        }
        self.relayFile = SealedFile(
            url: root.appendingPathComponent("relay.sealed"), keyService: "org.quietline.relay"
        )
        self.enrollmentMarker = root.appendingPathComponent("enrollment-delivered")
    }

    /// The default location: Application Support, excluded from backups.
    public static func standard(container: SharedContainer?) throws -> AppData {
        var root = try FileManager.default.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
        ).appendingPathComponent("Quietline", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try root.setResourceValues(values)
        return AppData(root: root, container: container)
    }

    /// Crypto-erases what earlier builds kept for the off-duty block list (survivors' numbers and
    /// the list itself). The app no longer blocks survivors' numbers (`CallBlockingRetired`), so
    /// nothing needs them; erasing is idempotent.
    public func eraseRetiredBlockList() throws {
        try retiredSurvivorFile.erase()
        try retiredBlockList?.erase()
    }

    // MARK: - Relay memo

    /// A wipe's signed receipt not yet delivered, and the relay it goes to.
    public struct PendingWipeReceipt: Codable, Equatable {
        public var receipt: String
        public var relay: URL?
    }

    private struct RelayMemo: Codable {
        var relay: URL?
        var pending: PendingWipeReceipt?
    }

    private func readMemo() -> RelayMemo? {
        guard let data = try? relayFile.read() else { return nil }
        return try? JSONDecoder().decode(RelayMemo.self, from: data)
    }

    /// Remembers the relay from enrollment at every start, so that a wipe found by `Agent.open`
    /// (when the agent can no longer say where its relay is) can still deliver its receipt.
    public func rememberRelay(_ url: URL?) throws {
        var memo = readMemo() ?? RelayMemo()
        guard memo.relay != url else { return }
        memo.relay = url
        try relayFile.write(JSONEncoder().encode(memo))
    }

    public func rememberedRelay() -> URL? {
        readMemo()?.relay
    }

    /// Keeps a wipe receipt until it is delivered; the app's own wipe leaves it in place.
    public func keepWipeReceipt(_ receipt: String, relay: URL?) throws {
        var memo = readMemo() ?? RelayMemo()
        memo.pending = PendingWipeReceipt(receipt: receipt, relay: relay ?? memo.relay)
        try relayFile.write(JSONEncoder().encode(memo))
    }

    public func pendingWipeReceipt() -> PendingWipeReceipt? {
        readMemo()?.pending
    }

    /// The wipe receipt was delivered: nothing of the relay memo is needed any more.
    public func wipeReceiptDelivered() throws {
        try relayFile.erase()
    }

    // MARK: - Enrollment response

    /// Whether IT has this enrollment response (the relay stored it, or the advocate confirmed
    /// IT received it). The agent keeps the response itself; this file holds only its SHA-256,
    /// so a new enrollment (a new response) is sent again. The app's own wipe removes it.
    public func enrollmentResponseDelivered(_ response: String) -> Bool {
        guard let data = try? Data(contentsOf: enrollmentMarker) else { return false }
        return String(decoding: data, as: UTF8.self) == Self.digest(response)
    }

    public func markEnrollmentResponseDelivered(_ response: String) throws {
        try Data(Self.digest(response).utf8).write(to: enrollmentMarker, options: .atomic)
    }

    private static func digest(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Removes the survivor data the app holds itself: caches (and anything an earlier build
    /// kept for the off-duty block list).
    public func purgeSurvivorData() throws {
        try eraseRetiredBlockList()
        try removeContents(of: cachesDirectory())
    }

    /// Selective wipe of the app's own data: survivor data, then every file under the app's
    /// root except the agent's directory (the agent crypto-erases it itself; what is left there
    /// is removed) and a wipe receipt still to be delivered (its sealed memo).
    public func wipeOwnData() throws {
        try purgeSurvivorData()
        let keepMemo = pendingWipeReceipt() != nil
        if !keepMemo {
            try relayFile.erase()
        }
        let items = try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)
        for item in items {
            if keepMemo && item.standardizedFileURL == relayFile.url.standardizedFileURL { continue }
            try FileManager.default.removeItem(at: item)
        }
    }

    private func cachesDirectory() throws -> URL {
        try FileManager.default.url(for: .cachesDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
    }

    private func removeContents(of dir: URL) throws {
        for item in try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil) {
            try FileManager.default.removeItem(at: item)
        }
    }
}
