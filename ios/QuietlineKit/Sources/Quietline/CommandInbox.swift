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
    /// The APNs token (hex) to register with the relay; sent at the next poll until it is
    /// stored. Set to nil when APNs withdrew it: the relay is then told to forget it.
    public var pushToken: String? {
        didSet { if pushToken != oldValue { pushTokenSynced = false } }
    }
    /// Whether the relay holds what `pushToken` says (nothing to send before the first token).
    private var pushTokenSynced = true

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

    /// Asks iOS to wake the app for the next poll: in 15 minutes, or later when the relay's
    /// `QL-Poll-After` says so. iOS decides the actual time. A new request replaces the
    /// previous one.
    public func scheduleRefresh() {
        let request = BGAppRefreshTaskRequest(identifier: Self.refreshTaskID)
        request.earliestBeginDate = Date(timeIntervalSinceNow: max(15 * 60, min(pollAfter ?? 0, 24 * 3600)))
        try? BGTaskScheduler.shared.submit(request)
    }

    private func run(_ task: BGAppRefreshTask) {
        let work = Task {
            // The offline timers and the off-duty reminder run here too, not only when the app
            // is opened.
            if let outcome = try? await executor.withAgent({ try agent.handle(event: .tick) }) {
                await executor.run(outcome.actions)
            }
            let ok = await poll()
            if !executor.isWiped {
                scheduleRefresh()
            }
            task.setTaskCompleted(success: ok)
        }
        task.expirationHandler = { work.cancel() }
    }

    /// One poll, in the order docs/relay-protocol.md gives: the enrollment response while the
    /// relay has not stored it (`beforePoll`), `GET /queue` with every `QL:` line handed to the
    /// core and its actions run, `POST /receipts` for every queued receipt, then `POST /checkin`
    /// with the device-signed status report answering this poll's challenge. Returns whether
    /// the relay was reached.
    ///
    /// A poll is never a check-in: nothing the relay answers (a 2xx, an empty queue, a stored
    /// report) is reported to the core as one, so the offline timers run on until fresh signed
    /// input from the organisation arrives.
    @discardableResult
    public func poll() async -> Bool {
        await pollCounting() != nil
    }

    /// Called at the start of every poll: `AppModel` sends the enrollment response there until
    /// the relay has stored it (step 1 of a poll), so background polls deliver it too.
    public var beforePoll: (() async -> Void)?

    /// The relay's `QL-Poll-After` from the last poll: the next background refresh is asked for
    /// no earlier than that.
    private var pollAfter: TimeInterval?

    /// Polls may be asked for at once (foreground, background refresh, a push): one runs, the
    /// others return at once, since each `GET /queue` replaces the relay's challenge and two
    /// overlapping polls would make each other's check-in stale.
    private let pollLock = NSLock()
    private var polling = false

    private func claimPoll() -> Bool {
        pollLock.lock()
        defer { pollLock.unlock() }
        if polling { return false }
        polling = true
        return true
    }

    private func releasePoll() {
        pollLock.lock()
        polling = false
        pollLock.unlock()
    }

    /// `poll`, saying how many texts brought something new; nil when the relay was not reached.
    /// While another poll runs, 0: that poll covers this request.
    private func pollCounting() async -> Int? {
        guard claimPoll() else { return 0 }
        defer { releasePoll() }
        if let beforePoll {
            await beforePoll()
        }
        var applied = 0
        // A `409 stale_challenge` answer to the check-in: fetch the queue once more (feeding its
        // lines again is safe: replays change nothing) and answer the new challenge.
        for round in 0..<2 {
            guard let queue = await relay.queue() else { return round == 0 ? nil : applied }
            pollAfter = queue.pollAfter
            for line in queue.lines {
                if executor.isWiped { return applied }
                if await apply(line) {
                    applied += 1
                }
            }
            await executor.runPending()
            await deliverReceipts()
            guard !executor.isWiped, let challenge = queue.challenge else { break }
            if await checkIn(answering: challenge) != .conflict { break }
        }
        await registerPushToken()
        return applied
    }

    /// `POST /checkin` with the device-signed status report for `challenge` (what the fleet view
    /// shows IT: policy version, findings by kind, pending counts; never anything about a
    /// survivor). What the relay answers changes nothing on the phone.
    private func checkIn(answering challenge: String) async -> RelayClient.Delivery {
        guard let report = try? await executor.withAgent({ try agent.statusReport(challenge: challenge) }) else {
            return .failed
        }
        return await relay.checkIn(report: report)
    }

    /// Brings the relay's push token in step with `pushToken`: `PUT /push-token` for a new
    /// token, `DELETE /push-token` when APNs took it away (`RelayClient`).
    public func registerPushToken() async {
        guard !pushTokenSynced, !executor.isWiped else { return }
        if let token = pushToken {
            pushTokenSynced = await relay.registerPushToken(token)
        } else {
            pushTokenSynced = await relay.forgetPushToken()
        }
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
        if let receipt = result.receipt {
            // Also queued by the core (a replay's original may not be): delivered at once.
            await deliver(receipt)
        }
        await executor.run(result.actions)
        return result.status != .replayed
    }

    // MARK: - Receipts

    /// Receipts the relay refused (`400`) in this run: not sent again until the app restarts.
    /// They stay in the core's queue (and in the status report's `queued_receipts`): a receipt
    /// is never dropped because the relay would not take it.
    private var refusedReceipts = Set<String>()

    /// Sends every queued receipt to the relay (`POST /receipts`) and drops those it stored.
    public func deliverReceipts() async {
        guard !executor.isWiped,
              let receipts = try? await executor.withAgent({ try agent.queuedReceipts() })
        else { return }
        for receipt in receipts where !refusedReceipts.contains(receipt) {
            await deliver(receipt)
        }
    }

    /// One receipt to the relay; stored (`201`/`200`) means `receiptDelivered`.
    private func deliver(_ receipt: String) async {
        switch await relay.post(receipt: receipt) {
        case .stored:
            _ = try? await executor.withAgent { try agent.receiptDelivered(receipt: receipt) }
        case .refused:
            refusedReceipts.insert(receipt)
        case .notAnnounced, .conflict, .failed:
            break
        }
    }
}
