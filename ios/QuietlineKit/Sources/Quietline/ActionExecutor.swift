import Contacts
import Foundation
import LocalAuthentication

/// Carries out the core's actions with what iOS allows, and acknowledges each one.
///
/// What an iOS app cannot do is acknowledged as `.failed` with the reason and the alternative,
/// never as `.done`: the failure shows in the compliance report, where IT staff see that the
/// configuration profile (`quietline-admin profile apple`) must cover it on this phone.
public final class ActionExecutor {
    /// What a selective wipe did, for the app to show and deliver.
    public struct WipeReceipt: Equatable {
        /// The core's signed receipt (`QL:` text), when it produced one.
        public let signed: String?
        /// Whether the app's own data was removed.
        public let appDataRemoved: Bool
        /// What could not be done, if anything (a full wipe on iOS).
        public let notDone: String?
    }

    private let agent: AgentProtocol
    private let trust: AgentTrustChannel
    private let appData: AppData
    private let notifier: Notifier
    private let contacts: CNContactStore
    /// Locks Quietline's own screen (behind Face ID or the passcode).
    private let lockApp: () -> Void
    /// Called after a wipe with the receipt to deliver (see `CommandInbox.deliver`).
    private let onWipe: (WipeReceipt) -> Void

    public init(
        agent: AgentProtocol,
        trust: AgentTrustChannel,
        appData: AppData,
        notifier: Notifier,
        contacts: CNContactStore = CNContactStore(),
        lockApp: @escaping () -> Void,
        onWipe: @escaping (WipeReceipt) -> Void
    ) {
        self.agent = agent
        self.trust = trust
        self.appData = appData
        self.notifier = notifier
        self.contacts = contacts
        self.lockApp = lockApp
        self.onWipe = onWipe
    }

    /// Executes every action due now and acknowledges it. Call at launch, after each `handle`,
    /// and from background refresh: actions not acknowledged before the app was killed come back.
    public func runPending() async {
        guard let actions = try? agent.pendingActions() else { return }
        await run(actions)
    }

    /// Executes and acknowledges the given actions, in order.
    public func run(_ actions: [Action]) async {
        for action in actions {
            let result = await execute(action.kind)
            // After a wipe the agent refuses every call (`Wiped`): there is nothing left to ack.
            _ = try? agent.ack(actionId: action.id, result: result)
        }
    }

    /// Carries out one action and says how it went. Never logs the numbers actions hold.
    public func execute(_ kind: ActionKind) async -> AckResult {
        switch kind {
        case .setMaxTimeToLock:
            return .failed(reason: Unsupported.lockTimeout)
        case .requireSecureLock:
            return await requireSecureLock()
        case .lockNow:
            // An app cannot lock the phone; Quietline hides its own screen behind Face ID or the
            // passcode, and says that the phone itself was not locked.
            lockApp()
            return .failed(reason: Unsupported.lockNow)
        case .setMaxFailedUnlocks:
            return .failed(reason: Unsupported.maxFailedUnlocks)
        case .deleteCallLog:
            return .failed(reason: Unsupported.callLog)
        case .deleteContact(let number):
            return deleteContacts(holding: number)
        case .notify(let kind):
            return await notify(kind)
        case .scheduleCallerIdCheck(let at):
            do {
                try await notifier.scheduleCallerIdCheck(at: at)
                return .done
            } catch {
                return .failed(reason: "could not schedule the caller-ID check reminder: \(error.localizedDescription)")
            }
        case .purgeSurvivorData:
            do {
                try appData.purgeSurvivorData()
                return .done
            } catch {
                return .failed(reason: "could not purge the app's survivor data: \(error.localizedDescription)")
            }
        case .wipe(let scope):
            return selectiveWipe(requested: scope)
        }
    }

    // MARK: - Wipe

    /// Selective wipe: the app's own data and keys, and nothing else on the phone. The agent's
    /// state is crypto-erased through the agent (the key protector's key is destroyed first); the
    /// receipt the core signed is handed to `onWipe` for delivery.
    @discardableResult
    public func selectiveWipe(requested scope: WipeScope) -> AckResult {
        notifier.removeAll()
        var removed = true
        do {
            try appData.wipeOwnData()
        } catch {
            removed = false
        }
        do {
            try agent.wipe()
        } catch ApiError.Wiped {
            // Already erased by the core (a commanded or self-decided wipe erases before it returns).
        } catch {
            removed = false
        }
        let notDone: String? = scope == .full ? Unsupported.fullWipe : nil
        let signed = trust.takeWipeReceipt(dir: appData.agentDirectory.path)
        onWipe(WipeReceipt(signed: signed, appDataRemoved: removed, notDone: notDone))
        if let notDone {
            return .failed(reason: notDone)
        }
        return removed ? .done : .failed(reason: "some of the app's own data could not be removed")
    }

    // MARK: - Lock

    private func requireSecureLock() async -> AckResult {
        // `.deviceOwnerAuthentication` can be evaluated only when a passcode is set.
        let hasPasscode = LAContext().canEvaluatePolicy(.deviceOwnerAuthentication, error: nil)
        _ = try? agent.handle(event: .posture(lockTimeoutSecs: nil, secureLock: hasPasscode, callerIdHidden: nil))
        if hasPasscode {
            return .done
        }
        _ = await notify(.secureLockMissing)
        return .failed(reason: Unsupported.secureLock)
    }

    // MARK: - Contacts

    /// Deletes every contact holding the number, where the advocate granted Contacts access.
    private func deleteContacts(holding number: String) -> AckResult {
        guard CNContactStore.authorizationStatus(for: .contacts) == .authorized else {
            return .failed(reason: "Contacts access is not granted, so contacts for the number were not deleted")
        }
        let predicate = CNContact.predicateForContacts(matching: CNPhoneNumber(stringValue: number))
        do {
            let found = try contacts.unifiedContacts(
                matching: predicate, keysToFetch: [CNContactIdentifierKey as CNKeyDescriptor]
            )
            guard !found.isEmpty else { return .done }
            let request = CNSaveRequest()
            for contact in found {
                // A contact fetched from the store is always a CNContact whose mutable copy is a
                // CNMutableContact.
                guard let mutable = contact.mutableCopy() as? CNMutableContact else { continue }
                request.delete(mutable)
            }
            try contacts.execute(request)
            return .done
        } catch {
            return .failed(reason: "deleting contacts failed: \(error.localizedDescription)")
        }
    }

    // MARK: - Notifications

    private func notify(_ kind: NotifyKind) async -> AckResult {
        guard await notifier.isAuthorized else {
            return .failed(reason: "notifications are turned off for Quietline")
        }
        do {
            try await notifier.post(kind)
            return .done
        } catch {
            return .failed(reason: "could not show the notification: \(error.localizedDescription)")
        }
    }
}

/// Why an action cannot be done by an iOS app, and what does it instead. These reasons reach IT
/// staff through the compliance report.
enum Unsupported {
    static let lockTimeout =
        "iOS does not let an app set Auto-Lock; the configuration profile's Passcode payload (maxInactivity) does"
    static let secureLock =
        "no passcode is set and iOS does not let an app require one; the configuration profile (forcePIN) does"
    static let lockNow =
        "iOS does not let an app lock the phone; Quietline locked its own screen"
    static let maxFailedUnlocks =
        "iOS does not let an app set failed-unlock limits; the configuration profile (maxFailedAttempts) does"
    static let callLog =
        "iOS gives apps no access to the call history; helpline calls placed through Quietline never enter Recents"
    static let fullWipe =
        "an iOS app cannot erase the phone; only the app's own data and keys were erased (use MDM on supervised phones)"
}
