import CallKit
import Foundation
import QuietlineShared

/// Keeps the Call Directory extension's block list in step with the core's off-duty decision.
///
/// iOS lets no app answer an incoming cellular call's "ring or not" question in real time, so the
/// core's rule is turned into a list ahead of time: `Agent.offDutyBlockList(numbers:)` is asked
/// about the app's own contacts for survivors (`AppData.survivorNumbers()`, the numbers the
/// advocate calls back: the only candidates the app keeps) and answers with those the policy
/// screens now, and until when (`validUntil`, the next start or end of working hours). The app
/// seals that list into the App Group container and asks CallKit to reload the extension, which
/// blocks those numbers. Where the policy does not ask (personal phones, working hours, survivor
/// calls that ring), the list is empty and the extension removes every block.
///
/// The list is refreshed at every return to the foreground and at every background refresh,
/// which `CommandInbox.scheduleRefresh(at:)` asks for no later than `validUntil`.
public final class CallBlockListUpdater {
    private let agent: AgentProtocol
    private let executor: ActionExecutor
    private let appData: AppData
    private let extensionID: String

    /// - Parameter extensionID: the Call Directory extension's bundle identifier.
    public init(agent: AgentProtocol, executor: ActionExecutor, appData: AppData, extensionID: String) {
        self.agent = agent
        self.executor = executor
        self.appData = appData
        self.extensionID = extensionID
    }

    /// Recomputes and reloads the list. Returns when the list should be refreshed next (the
    /// core's next off-duty boundary), for scheduling the next background refresh.
    @discardableResult
    public func refresh() async throws -> Date? {
        let candidates = try appData.survivorNumbers()
        let list = try await executor.withAgent { try agent.offDutyBlockList(numbers: candidates) }
        try appData.writeBlockList(e164: list.numbers, validUntil: list.validUntil)
        try await reload()
        return list.validUntil
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

    /// Asks CallKit to reload the extension, which reads the sealed file again (after a purge or
    /// a wipe there is none, and every block is removed).
    public func reload() async throws {
        try await Self.reload(extensionID: extensionID)
    }

    /// The same, without an agent (after a wipe).
    public static func reload(extensionID: String) async throws {
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
