import Foundation

/// The App Group container and the shared Keychain access group, where builds before issue 11
/// item 9 kept the off-duty block list for the Call Directory extension; the app now only erases
/// it there (`AppData.eraseRetiredBlockList`). Both identifiers come from the app's Info.plist
/// (`QuietlineAppGroup`, `QuietlineKeychainGroup`), so the Team ID prefix that Xcode fills in
/// through `$(AppIdentifierPrefix)` is never hard-coded here.
public struct SharedContainer {
    public let appGroup: String
    public let keychainGroup: String

    public init(appGroup: String, keychainGroup: String) {
        self.appGroup = appGroup
        self.keychainGroup = keychainGroup
    }

    /// The identifiers from the running target's Info.plist.
    public static func fromInfoPlist(_ bundle: Bundle = .main) -> SharedContainer? {
        guard
            let group = bundle.object(forInfoDictionaryKey: "QuietlineAppGroup") as? String,
            let keychain = bundle.object(forInfoDictionaryKey: "QuietlineKeychainGroup") as? String
        else { return nil }
        return SharedContainer(appGroup: group, keychainGroup: keychain)
    }

    /// The container directory, or nil when the App Groups entitlement is missing.
    public var directory: URL? {
        FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: appGroup)
    }
}
