import BackgroundTasks
import Foundation
import UIKit

/// Where signed commands come in: a push notification's payload, and background polling of the
/// organisation's relay. Neither channel is trusted: every `QL:` text goes to the core, whose
/// verification alone decides (signature, device, sequence, expiry, role). Nothing here parses a
/// command or acts on one the core did not accept.
///
/// Relay protocol (plain HTTPS, any static host or object store will do):
/// - `GET <relay>` returns `text/plain`, one `QL:` object per line (other lines are ignored);
/// - `POST <relay>/receipts` with one signed receipt (`QL:` text) as the body; a 2xx answer
///   means it was stored, and the receipt leaves the agent's queue.
public final class CommandInbox {
    /// The BGAppRefreshTask identifier; listed in Info.plist under
    /// `BGTaskSchedulerPermittedIdentifiers`.
    public static let refreshTaskID = "org.quietline.relay-poll"
    /// The push payload key holding the command: `{"aps": {"content-available": 1}, "ql": "QL:…"}`.
    public static let payloadKey = "ql"

    private let agent: AgentProtocol
    private let trust: AgentTrustChannel
    private let executor: ActionExecutor
    private let session: URLSession
    /// Kept from the agent at start, so a wipe receipt can still be delivered after the agent is gone.
    private let relay: URL?
    /// Refreshed on every background wake, so the off-duty block list follows working hours.
    public var blockList: CallBlockListUpdater?

    public init(agent: AgentProtocol, trust: AgentTrustChannel, executor: ActionExecutor, session: URLSession = .shared) {
        self.agent = agent
        self.trust = trust
        self.executor = executor
        self.session = session
        self.relay = (try? trust.relayUrl()).flatMap { URL(string: $0) }
    }

    // MARK: - Push

    /// Handles a remote notification's payload. Returns what to tell iOS's fetch completion handler.
    public func handlePush(userInfo: [AnyHashable: Any]) async -> UIBackgroundFetchResult {
        guard let text = userInfo[Self.payloadKey] as? String, text.hasPrefix("QL:") else {
            return .noData
        }
        let accepted = await apply(text)
        await deliverReceipts()
        return accepted ? .newData : .failed
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
    /// at `date` if that is sooner, such as the next off-duty boundary. iOS decides the actual time.
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
            let boundary = try? await blockList?.refresh()
            scheduleRefresh(at: boundary ?? nil)
            task.setTaskCompleted(success: ok)
        }
        task.expirationHandler = { work.cancel() }
    }

    /// Fetches the relay's commands, hands each to the core, runs due actions and delivers
    /// receipts. A poll that reached the relay and brought nothing new counts as a check-in.
    @discardableResult
    public func poll() async -> Bool {
        guard let relay else { return false }
        do {
            let (data, response) = try await session.data(from: relay)
            guard (response as? HTTPURLResponse).map({ (200..<300).contains($0.statusCode) }) == true else {
                return false
            }
            let lines = String(decoding: data, as: UTF8.self)
                .split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.hasPrefix("QL:") }
            var applied = 0
            for line in lines {
                if await apply(line) {
                    applied += 1
                }
            }
            if applied == 0, let outcome = try? agent.handle(event: .checkIn) {
                await executor.run(outcome.actions)
            }
            await executor.runPending()
            await deliverReceipts()
            return true
        } catch {
            return false
        }
    }

    // MARK: - Applying

    /// Hands one `QL:` text to the core. A replayed command is harmless (the core returns its
    /// original receipt); a refused one changes nothing.
    private func apply(_ text: String) async -> Bool {
        let report: CommandReport
        do {
            report = try trust.applyCommand(text: text)
        } catch {
            return false
        }
        if let receipt = report.receipt {
            _ = await deliver(receipt: receipt)
        }
        await executor.run(report.actions)
        if let scope = report.wipe {
            executor.selectiveWipe(requested: scope)
        }
        return report.status != .replayed
    }

    // MARK: - Receipts

    /// Sends every queued receipt to the relay and drops those it stored.
    public func deliverReceipts() async {
        guard let receipts = try? trust.queuedReceipts() else { return }
        for receipt in receipts {
            if await deliver(receipt: receipt) {
                _ = try? trust.receiptDelivered(receipt: receipt)
            }
        }
    }

    /// Posts one receipt to the relay; true when it was stored.
    public func deliver(receipt: String) async -> Bool {
        guard let relay else { return false }
        var request = URLRequest(url: relay.appendingPathComponent("receipts"))
        request.httpMethod = "POST"
        request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(receipt.utf8)
        guard let response = try? await session.data(for: request).1 as? HTTPURLResponse else { return false }
        return (200..<300).contains(response.statusCode)
    }
}
