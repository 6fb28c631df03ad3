import Foundation

/// Completes a wipe the core has already made. However it came (a signed wipe command through
/// `Agent.applyCommand`, an offline self-wipe in `handle`'s actions, `ApiError.Wiped` from any
/// call, `Agent.open` finishing a wipe a crash interrupted, or a receipt left behind by a wipe
/// whose app was killed), the agent's own data is already crypto-erased; what is left is, in
/// this order:
///
/// 1. the signed receipt (from the `CommandResult`, else `takeWipeReceipt(dir:)`), kept sealed
///    in the app's own storage, where the platform wipe leaves it until it is delivered;
/// 2. its delivery to the relay, attempted *before* the platform wipe;
/// 3. the platform part: on iOS only the app's own data (caches, notifications, the app's
///    files). An app cannot erase the phone:
///    the core knows (`PlatformCaps(fullWipe: false, …)`) and performs a full wipe as selective,
///    with a receipt that says so.
///
/// A receipt not delivered now is sent at the next start (`deliverPendingReceipt`).
public final class WipeFinisher {
    /// What a wipe did, for the app to show.
    public struct Report: Equatable {
        /// The core's signed receipt (`QL:` text), when there is one.
        public let receipt: String?
        /// Whether the relay stored the receipt before the platform wipe.
        public let delivered: Bool
        /// Whether the app's own data was removed.
        public let appDataRemoved: Bool
        /// What could not be done, if anything (a full wipe on iOS).
        public let notDone: String?
    }

    private let appData: AppData
    private let notifier: Notifier
    private let relay: RelayClient
    private let onWipe: (Report) -> Void
    private let lock = NSLock()
    private var started = false

    public init(
        appData: AppData,
        notifier: Notifier,
        relay: RelayClient,
        onWipe: @escaping (Report) -> Void
    ) {
        self.appData = appData
        self.notifier = notifier
        self.relay = relay
        self.onWipe = onWipe
    }

    /// Whether a wipe has been seen: the agent refuses every call from then on.
    public var isWiped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return started
    }

    /// Completes the wipe once (later calls return at once).
    ///
    /// - Parameters:
    ///   - scope: the platform wipe the core asks for (`CommandResult.wipe`, `ApiError.Wiped`'s
    ///     scope, a `Wipe` action's scope); nil after the app's own `Agent.wipe()`, when nothing
    ///     is owed beyond the agent's data.
    ///   - receipt: the receipt the `CommandResult` carried, if any.
    public func finish(scope: WipeScope?, receipt: String? = nil) async {
        guard claim() else { return }
        // 1. Keep the receipt first, then take the agent directory's copy (taking it removes it).
        var signed = receipt
        if let signed {
            try? appData.keepWipeReceipt(signed, relay: relay.url)
        }
        if let left = takeWipeReceipt(dir: appData.agentDirectory.path), signed == nil {
            signed = left
            try? appData.keepWipeReceipt(left, relay: relay.url)
        }
        // 2. Deliver it before the platform wipe (`POST /receipts`: a receipt needs no
        //    `Authorization`, and the device key is already gone).
        var delivered = false
        if let signed {
            switch await relay.post(receipt: signed) {
            case .stored:
                delivered = true
                try? appData.wipeReceiptDelivered()
            case .refused:
                // The relay can never store it (`400`): stop offering it.
                try? appData.wipeReceiptDelivered()
            case .notAnnounced, .conflict, .failed:
                break
            }
        }
        // 3. The platform part, when one is owed (or a receipt shows a commanded wipe happened).
        var removed = true
        if scope != nil || signed != nil {
            notifier.removeAll()
            do {
                try appData.wipeOwnData()
            } catch {
                removed = false
            }
        }
        let notDone: String? = scope == .full ? Unsupported.phoneErase : nil
        onWipe(Report(receipt: signed, delivered: delivered, appDataRemoved: removed, notDone: notDone))
    }

    /// At start, when `Agent.open` says there is no agent (`ApiError.NotInitialized`): a wipe
    /// that finished while the app was killed before step 1 left its receipt in the agent's
    /// directory, and its platform part may not have run. Returns whether there was one.
    public func finishLeftover() async -> Bool {
        guard let left = takeWipeReceipt(dir: appData.agentDirectory.path) else { return false }
        await finish(scope: .selective, receipt: left)
        return true
    }

    /// Sends a wipe receipt kept from an earlier wipe to the relay it was meant for, and forgets
    /// it once stored. Returns whether one is still waiting.
    @discardableResult
    public static func deliverPendingReceipt(appData: AppData, session: URLSession = .shared) async -> Bool {
        guard let pending = appData.pendingWipeReceipt() else { return false }
        let relay = RelayClient(url: pending.relay, session: session)
        switch await relay.post(receipt: pending.receipt) {
        case .stored, .refused:
            // Stored, or refused for good (`400`): either way it is not sent again.
            try? appData.wipeReceiptDelivered()
            return false
        case .notAnnounced, .conflict, .failed:
            return true
        }
    }

    private func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if started { return false }
        started = true
        return true
    }
}
