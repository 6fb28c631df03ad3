import Foundation

/// The incoming numbers the Call Directory extension blocks, as the core decided them for the
/// off-duty rule. CallKit wants `CXCallDirectoryPhoneNumber` (Int64) values: the E.164 digits
/// without the `+`, in strictly ascending order, so the list is normalised on creation.
public struct BlockList: Codable, Equatable {
    /// E.164 digits, ascending, without duplicates.
    public let numbers: [Int64]
    /// After this time the list no longer applies (working hours start again); the extension
    /// then blocks nothing even if the app could not refresh it in time.
    public let validUntil: Date?

    public init(numbers: [Int64], validUntil: Date?) {
        self.numbers = Array(Set(numbers)).sorted()
        self.validUntil = validUntil
    }

    /// Builds a list from E.164 strings (`+15551234567`); anything else is skipped, because a
    /// number CallKit cannot hold cannot be blocked by it.
    public init(e164 numbers: [String], validUntil: Date?) {
        self.init(numbers: numbers.compactMap(BlockList.callKitNumber(e164:)), validUntil: validUntil)
    }

    /// `+15551234567` → 15551234567; nil for anything that is not `+` and 1–15 digits.
    public static func callKitNumber(e164: String) -> Int64? {
        guard e164.hasPrefix("+") else { return nil }
        let digits = e164.dropFirst()
        guard (1...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(digits)
    }

    /// The numbers to block at `now`: none once the list has expired.
    public func numbersInForce(at now: Date) -> [Int64] {
        if let validUntil, now >= validUntil { return [] }
        return numbers
    }

    public static let empty = BlockList(numbers: [], validUntil: nil)
}

/// The block list on disk in the App Group container, sealed (see `SealedFile`) under a key in
/// the shared Keychain group, so survivors' numbers are never written in plaintext, even here.
/// (CallKit keeps its own copy of blocked numbers while they are loaded; see ios/README.md.)
public struct BlockListStore {
    private let file: SealedFile?

    public init(container: SharedContainer) {
        file = container.directory.map {
            SealedFile(
                url: $0.appendingPathComponent("offduty-blocklist.sealed"),
                keyService: "org.quietline.blocklist",
                keychainGroup: container.keychainGroup
            )
        }
    }

    /// Writes the list, replacing the previous one atomically.
    public func write(_ list: BlockList) throws {
        try requireFile().write(JSONEncoder().encode(list))
    }

    /// Reads the list; no file means nothing to block.
    public func read() throws -> BlockList {
        guard let data = try requireFile().read() else { return .empty }
        return try JSONDecoder().decode(BlockList.self, from: data)
    }

    /// Removes the file and its key (part of a selective wipe).
    public func erase() throws {
        try requireFile().erase()
    }

    private func requireFile() throws -> SealedFile {
        guard let file else { throw CocoaError(.fileNoSuchFile) }
        return file
    }
}
