import Foundation
import QuietlineShared

/// Everything the app itself keeps, apart from the agent's own directory: the survivors'
/// numbers the advocate calls back (sealed, see `SealedFile`), caches, and the App Group block
/// list. Selective wipe and survivor purge go through here, and never touch anything else on
/// the phone: on a personal iPhone the organisation's reach ends at this app.
public final class AppData {
    /// The agent's state directory (the core encrypts it under the key protector's key).
    public let agentDirectory: URL
    private let root: URL
    private let survivorFile: SealedFile
    private let blockList: BlockListStore?

    public init(root: URL, container: SharedContainer?) {
        self.root = root
        self.agentDirectory = root.appendingPathComponent("agent", isDirectory: true)
        self.survivorFile = SealedFile(
            url: root.appendingPathComponent("survivors.sealed"), keyService: "org.quietline.survivors"
        )
        self.blockList = container.map(BlockListStore.init(container:))
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

    /// The survivors' numbers (E.164) the app keeps for calling back and for the block list.
    public func survivorNumbers() throws -> [String] {
        guard let data = try survivorFile.read() else { return [] }
        return try JSONDecoder().decode([String].self, from: data)
    }

    public func setSurvivorNumbers(_ numbers: [String]) throws {
        try survivorFile.write(JSONEncoder().encode(numbers))
    }

    /// Writes the block list for the Call Directory extension.
    public func writeBlockList(_ list: BlockList) throws {
        guard let blockList else { throw CocoaError(.fileNoSuchFile) }
        try blockList.write(list)
    }

    /// Removes the survivor data the app holds itself: numbers, the block list, caches.
    public func purgeSurvivorData() throws {
        try survivorFile.erase()
        try blockList?.erase()
        try removeContents(of: cachesDirectory())
    }

    /// Selective wipe of the app's own data: survivor data, then every file under the app's
    /// root except the agent's directory, which the agent crypto-erases itself.
    public func wipeOwnData() throws {
        try purgeSurvivorData()
        let items = try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)
        for item in items where item.standardizedFileURL != agentDirectory.standardizedFileURL {
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
