import Contacts
import Foundation
import LocalAuthentication

/// Carries out the core's actions with what iOS allows, and acknowledges each one.
///
/// What an iOS app can never do (set Auto-Lock, lock the phone, set a failed-unlock limit,
/// delete the system call history, erase the phone) is acknowledged `.unsupported` with the
/// reason and the alternative: the core drops the action and compliance reports the gap, where
/// IT staff see that the configuration profile (`quietline-admin profile apple`) must cover it
/// on this phone. `.failed` is kept for what may work later (Contacts or notifications not
/// allowed yet, a passcode not set yet, an I/O error): the core hands those out again.
///
/// Every call into the agent from the app goes through `withAgent`, so an `ApiError.Wiped`
/// from any of them completes the wipe (`WipeFinisher`).
public final class ActionExecutor {
    private let agent: AgentProtocol
    private let appData: AppData
    private let notifier: Notifier
    private let contacts: CNContactStore
    /// Completes a wipe: receipt first, then the platform part.
    public let wipes: WipeFinisher
    /// Locks Quietline's own screen (behind Face ID or the passcode).
    private let lockApp: () -> Void

    public init(
        agent: AgentProtocol,
        appData: AppData,
        notifier: Notifier,
        wipes: WipeFinisher,
        contacts: CNContactStore = CNContactStore(),
        lockApp: @escaping () -> Void
    ) {
        self.agent = agent
        self.appData = appData
        self.notifier = notifier
        self.wipes = wipes
        self.contacts = contacts
        self.lockApp = lockApp
    }

    /// Whether the agent has been wiped: it refuses every call, and the app must stop using it.
    public var isWiped: Bool { wipes.isWiped }

    /// Runs one call into the agent. `ApiError.Wiped` (from any call: the agent wiped itself
    /// under an offline rule, or a wipe command came in on another path) completes the wipe
    /// with the scope it carries, and is then rethrown so the caller stops.
    public func withAgent<T>(_ body: () throws -> T) async throws -> T {
        do {
            return try body()
        } catch let error as ApiError {
            if case .Wiped(_, let scope) = error {
                await wipes.finish(scope: scope)
            }
            throw error
        }
    }

    /// Executes every action due now and acknowledges it. Call at launch, after each `handle`,
    /// and from background refresh: actions not acknowledged before the app was killed come back.
    public func runPending() async {
        guard let actions = try? await withAgent({ try agent.pendingActions() }) else { return }
        await run(actions)
    }

    /// Executes and acknowledges the given actions, in order.
    public func run(_ actions: [Action]) async {
        for action in actions {
            if isWiped { return }
            let result = await execute(action.kind)
            // After a wipe the agent refuses every call (`Wiped`): there is nothing left to ack.
            _ = try? await withAgent { try agent.ack(actionId: action.id, result: result) }
        }
    }

    /// Carries out one action and says how it went. Never logs the numbers actions hold.
    public func execute(_ kind: ActionKind) async -> AckResult {
        switch kind {
        case .setMaxTimeToLock:
            return .unsupported(reason: Unsupported.lockTimeout)
        case .requireSecureLock:
            return await requireSecureLock()
        case .lockNow:
            // An app cannot lock the phone; Quietline hides its own screen behind Face ID or the
            // passcode, and says that the phone itself was not locked.
            lockApp()
            return .unsupported(reason: Unsupported.lockNow)
        case .setMaxFailedUnlocks:
            return .unsupported(reason: Unsupported.maxFailedUnlocks)
        case .deleteCallLog:
            return .unsupported(reason: Unsupported.callLog)
        case .deleteContact(let number):
            return deleteContacts(holding: number)
        case .notify(let kind):
            return await notify(kind)
        case .scheduleCallerIdCheck(let at):
            // A reminder iOS will not show is no reminder: say so, and the core retries.
            guard await notifier.isAuthorized else {
                return .failed(reason: "notifications are turned off for Quietline, so the caller-ID check reminder cannot be shown")
            }
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
            // An offline self-wipe (`handle` returned it): the agent's data is already erased
            // and the ack that follows is refused (`Wiped`), which is expected.
            await wipes.finish(scope: scope)
            return scope == .full ? .unsupported(reason: Unsupported.phoneErase) : .done
        }
    }

    // MARK: - Lock

    private func requireSecureLock() async -> AckResult {
        // `.deviceOwnerAuthentication` can be evaluated only when a passcode is set.
        let hasPasscode = LAContext().canEvaluatePolicy(.deviceOwnerAuthentication, error: nil)
        _ = try? await withAgent {
            try agent.handle(event: .posture(lockTimeoutSecs: nil, secureLock: hasPasscode, callerIdHidden: nil))
        }
        if hasPasscode {
            return .done
        }
        _ = await notify(.secureLockMissing)
        // `.failed`, not `.unsupported`: the advocate can still set a passcode, and the core
        // asks again after its backoff.
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
/// staff through the compliance report (never with a number in them).
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
    static let phoneErase =
        "an iOS app cannot erase the phone; only the app's own data and keys were erased (use MDM on supervised phones)"
}
