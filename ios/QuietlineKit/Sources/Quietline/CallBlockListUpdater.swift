import CallKit
import Foundation
import QuietlineShared

/// Keeps the Call Directory extension's block list in step with the core's off-duty decision.
///
/// iOS lets no app answer an incoming cellular call's "ring or not" question in real time, so the
/// core's rule is turned into a list ahead of time: the core says which of the app's survivor
/// numbers its policy screens now and until when; the app seals that list into the App Group
/// container and asks CallKit to reload the extension, which blocks those numbers. Where the
/// policy does not ask (personal phones, working hours, survivor calls that ring), the list is
/// empty and the extension removes every block.
public final class CallBlockListUpdater {
    private let trust: AgentTrustChannel
    private let appData: AppData
    private let extensionID: String

    /// - Parameter extensionID: the Call Directory extension's bundle identifier.
    public init(trust: AgentTrustChannel, appData: AppData, extensionID: String) {
        self.trust = trust
        self.appData = appData
        self.extensionID = extensionID
    }

    /// Recomputes and reloads the list. Returns when the list should be refreshed next (the
    /// core's next off-duty boundary), for scheduling the next background refresh.
    @discardableResult
    public func refresh() async throws -> Date? {
        let plan = try trust.offDutyBlockList(numbers: appData.survivorNumbers())
        try appData.writeBlockList(BlockList(e164: plan.numbers, validUntil: plan.validUntil))
        try await reloadExtension()
        return plan.validUntil
    }

    /// Whether the advocate has turned the extension on (Settings › Phone › Call Blocking &
    /// Identification); until then iOS blocks nothing and the app should say so.
    public func isEnabled() async -> Bool {
        await withCheckedContinuation { continuation in
            CXCallDirectoryManager.sharedInstance.getEnabledStatusForExtension(withIdentifier: extensionID) { status, _ in
                continuation.resume(returning: status == .enabled)
            }
        }
    }

    private func reloadExtension() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            CXCallDirectoryManager.sharedInstance.reloadExtension(withIdentifier: extensionID) { error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume()
                }
            }
        }
    }
}
