import CryptoKit
import Foundation
import QuietlineShared

/// Everything the app itself keeps, apart from the agent's own directory: the survivors'
/// numbers the advocate calls back (sealed, see `SealedFile`), caches, the App Group block
/// list, and the relay's address with any wipe receipt still to deliver (sealed). Selective wipe and survivor purge go through here, and never touch anything else on
/// the phone: on a personal iPhone the organisation's reach ends at this app.
public final class AppData {
    /// The agent's state directory (the core encrypts it under the key protector's key).
    public let agentDirectory: URL
    private let root: URL
    private let survivorFile: SealedFile
    private let blockList: BlockListStore?
    private let relayFile: SealedFile
    private let enrollmentMarker: URL

    public init(root: URL, container: SharedContainer?) {
        self.root = root
        self.agentDirectory = root.appendingPathComponent("agent", isDirectory: true)
        self.survivorFile = SealedFile(
            url: root.appendingPathComponent("survivors.sealed"), keyService: "org.quietline.survivors"
        )
        self.blockList = container.map(BlockListStore.init(container:))
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

    /// The survivors' numbers (E.164) the app keeps for calling back: the app's own contacts for
    /// survivors. They are also the candidates the core screens for the off-duty block list
    /// (`Agent.offDutyBlockList`), which returns those of them that belong to registered
    /// survivors and must be blocked now; numbers not registered with the core are never blocked.
    public func survivorNumbers() throws -> [String] {
        guard let data = try survivorFile.read() else { return [] }
        return try JSONDecoder().decode([String].self, from: data)
    }

    public func setSurvivorNumbers(_ numbers: [String]) throws {
        try survivorFile.write(JSONEncoder().encode(numbers))
    }

    /// Writes the block list for the Call Directory extension: the sealed App Group file of
    /// E.164 digits as sorted `Int64` (numbers CallKit cannot hold are left out).
    public func writeBlockList(e164 numbers: [String], validUntil: Date?) throws {
        guard let blockList else { throw CocoaError(.fileNoSuchFile) }
        // `.init` is QuietlineShared's list: the bindings' `BlockList` shares its name.
        try blockList.write(.init(e164: numbers, validUntil: validUntil))
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

    /// Removes the survivor data the app holds itself: numbers, the block list, caches.
    public func purgeSurvivorData() throws {
        try survivorFile.erase()
        try blockList?.erase()
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
