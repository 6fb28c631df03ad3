import BackgroundTasks
import Foundation
import UIKit

/// Where signed input comes in: polling the organisation's relay (`RelayClient`), from a
/// `BGAppRefreshTask` iOS runs in the background, from every return to the foreground, and when
/// a push arrives. A push is only a hint to poll now: iOS treats background pushes as low
/// priority and may delay or drop them, so no command depends on one, and nothing in a push
/// payload is acted on. Nothing fetched is trusted either: every `QL:` text goes to the core,
/// whose verification alone decides (signature, device, sequence, expiry, role). Nothing here
/// parses a command or acts on one the core did not accept.
///
/// A `QL:` text is offered to the core as a command (`applyCommand`), then as a signed policy
/// (`installSignedPolicy`), then as a root rotation (`applyRootRotation`): each refuses what is
/// not its kind (`Untrusted`) and changes nothing, so the app never needs to tell them apart.
public final class CommandInbox {
    /// The BGAppRefreshTask identifier; listed in Info.plist under
    /// `BGTaskSchedulerPermittedIdentifiers`.
    public static let refreshTaskID = "org.quietline.relay-poll"

    private let agent: AgentProtocol
    private let executor: ActionExecutor
    /// Kept from the agent at start, so a wipe receipt can still be delivered after the agent is gone.
    private let relay: RelayClient
    /// Refreshed on every background wake, so the off-duty block list follows working hours.
    public var blockList: CallBlockListUpdater?
    /// The APNs token (hex) to register with the relay; sent at the next poll until it is stored.
    public var pushToken: String? {
        didSet { if pushToken != oldValue { pushTokenRegistered = false } }
    }
    private var pushTokenRegistered = false

    public init(agent: AgentProtocol, executor: ActionExecutor, relay: RelayClient) {
        self.agent = agent
        self.executor = executor
        self.relay = relay
    }

    // MARK: - Push

    /// A remote notification arrived (`content-available: 1`): poll the relay now. The payload
    /// itself is ignored, so a forged or replayed push can at most cause one extra poll.
    /// Returns what to tell iOS's fetch completion handler.
    public func handlePush() async -> UIBackgroundFetchResult {
        guard let applied = await pollCounting() else { return .failed }
        return applied > 0 ? .newData : .noData
    }

    // MARK: - Relay polling

    /// Registers the refresh task. Call from `application(_:didFinishLaunchingWithOptions:)`,
    /// before launch finishes, as BGTaskScheduler requires.
    public static func registerBackgroundRefresh(inbox: @escaping @MainActor () -> CommandInbox?) {
        _ = BGTaskScheduler.shared.register(forTaskWithIdentifier: refreshTaskID, using: nil) { task in
            Task { @MainActor in
                guard let refresh = task as? BGAppRefreshTask, let inbox = inbox() else {
                    task.setTaskCompleted(success: false)
                    return
                }
                inbox.run(refresh)
            }
        }
    }

    /// Asks iOS to wake the app for the next poll: in 15 minutes (the earliest iOS honours), or
    /// at `date` if that is sooner, such as the off-duty block list's `validUntil`. iOS decides
    /// the actual time. A new request replaces the previous one.
    public func scheduleRefresh(at date: Date? = nil) {
        let request = BGAppRefreshTaskRequest(identifier: Self.refreshTaskID)
        var earliest = Date(timeIntervalSinceNow: 15 * 60)
        if let date, date < earliest {
            earliest = max(date, Date())
        }
        request.earliestBeginDate = earliest
        try? BGTaskScheduler.shared.submit(request)
    }

    private func run(_ task: BGAppRefreshTask) {
        let work = Task {
            let ok = await poll()
            if executor.isWiped {
                task.setTaskCompleted(success: ok)
                return
            }
            let boundary = try? await blockList?.refresh()
            scheduleRefresh(at: boundary ?? nil)
            task.setTaskCompleted(success: ok)
        }
        task.expirationHandler = { work.cancel() }
    }

    /// Fetches the relay's signed input, hands each to the core, runs due actions and delivers
    /// receipts. A poll that reached the relay and brought nothing new reports `checkIn` (audit
    /// only: the offline timers run on until fresh signed input, such as IT's `ping`, arrives).
    @discardableResult
    public func poll() async -> Bool {
        await pollCounting() != nil
    }

    /// `poll`, saying how many texts brought something new; nil when the relay was not reached.
    private func pollCounting() async -> Int? {
        let lines: [String]
        do {
            guard let fetched = try await relay.fetch() else { return nil }
            lines = fetched
        } catch {
            return nil
        }
        var applied = 0
        for line in lines {
            if executor.isWiped { return applied }
            if await apply(line) {
                applied += 1
            }
        }
        if applied == 0, let outcome = try? await executor.withAgent({ try agent.handle(event: .checkIn) }) {
            await executor.run(outcome.actions)
        }
        await executor.runPending()
        await deliverReceipts()
        await registerPushToken()
        return applied
    }

    /// Sends the push token to the relay unless it has it already (`RelayClient.registerPushToken`).
    public func registerPushToken() async {
        guard let token = pushToken, !pushTokenRegistered, !executor.isWiped else { return }
        pushTokenRegistered = await relay.registerPushToken(token)
    }

    // MARK: - Applying

    /// Hands one `QL:` text to the core. Returns whether it brought something new: a replayed
    /// command, a policy already installed or a refused text changes nothing.
    private func apply(_ text: String) async -> Bool {
        do {
            let result = try await executor.withAgent { try agent.applyCommand(text: text) }
            return await carryOut(result)
        } catch ApiError.Untrusted {
            // Not a command for this phone; perhaps a signed policy.
        } catch {
            return false
        }
        do {
            let actions = try await executor.withAgent { try agent.installSignedPolicy(text: text) }
            await executor.run(actions)
            return !actions.isEmpty
        } catch ApiError.Untrusted {
            // Not a policy either; perhaps a rotation of the organisation's root keys.
        } catch {
            return false
        }
        do {
            _ = try await executor.withAgent { try agent.applyRootRotation(text: text) }
            return true
        } catch {
            return false
        }
    }

    /// Carries out what the core decided about a verified command.
    private func carryOut(_ result: CommandResult) async -> Bool {
        if let scope = result.wipe {
            // The agent's data is already erased: the receipt goes out, then the platform wipe.
            await executor.wipes.finish(scope: scope, receipt: result.receipt)
            return true
        }
        if let receipt = result.receipt, await relay.post(receipt: receipt) {
            // Also queued by the core (a replay's original may not be): drop it from the queue.
            _ = try? await executor.withAgent { try agent.receiptDelivered(receipt: receipt) }
        }
        await executor.run(result.actions)
        return result.status != .replayed
    }

    // MARK: - Receipts

    /// Sends every queued receipt to the relay and drops those it stored.
    public func deliverReceipts() async {
        guard !executor.isWiped,
              let receipts = try? await executor.withAgent({ try agent.queuedReceipts() })
        else { return }
        for receipt in receipts {
            if await relay.post(receipt: receipt) {
                _ = try? await executor.withAgent { try agent.receiptDelivered(receipt: receipt) }
            }
        }
    }
}
