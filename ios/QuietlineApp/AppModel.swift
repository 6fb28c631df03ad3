import Foundation
import Quietline
import QuietlineShared

/// Opens the agent and builds the iOS pieces around it. Published state is what the one screen
/// shows; nothing here names a survivor.
@MainActor
final class AppModel: ObservableObject {
    enum Status: Equatable {
        case starting
        /// No agent yet: the phone must be enrolled by IT.
        case notEnrolled
        /// The phone has not been unlocked since it started; the Keychain opens after that.
        case waitingForFirstUnlock
        case ready
        /// The app's data was wiped; IT must enroll the phone again.
        case wiped
        case failed(String)
    }

    @Published private(set) var status: Status = .starting
    @Published private(set) var findings: [Finding] = []
    @Published private(set) var appLocked = false
    @Published var callMessage: String?
    var pushToken: String?

    private(set) var inbox: CommandInbox?
    private(set) var calls: HelplineCallManager?
    private var agent: Agent?
    private var executor: ActionExecutor?
    private var blockList: CallBlockListUpdater?
    private var appData: AppData?
    private let notifier = Notifier()
    private let protector = KeychainKeyProtector()
    private static let extensionID = "org.quietline.app.CallDirectory"
    /// What iOS lets an app do: never erase the phone, never dial `*` or `#` in a `tel:` URL.
    private static let caps = PlatformCaps(fullWipe: false, prefixDialing: false)

    func start() {
        let container = SharedContainer.fromInfoPlist()
        let appData: AppData
        do {
            appData = try AppData.standard(container: container)
        } catch {
            status = .failed("Quietline cannot use its storage: \(error.localizedDescription)")
            return
        }
        self.appData = appData
        let agent: Agent
        do {
            agent = try Agent.open(dir: appData.agentDirectory.path, keyProtector: protector, clock: SystemClock())
        } catch ApiError.NotInitialized {
            status = .notEnrolled
            // A wipe that finished while the app was killed leaves its receipt in the agent's
            // directory, and its platform part may still be owed.
            let wipes = makeWipeFinisher(appData: appData, relay: RelayClient(url: appData.rememberedRelay()))
            Task {
                _ = await wipes.finishLeftover()
                await WipeFinisher.deliverPendingReceipt(appData: appData)
            }
            return
        } catch ApiError.Wiped(_, let scope) {
            // `open` finished a wipe a crash interrupted: deliver its receipt, then the platform part.
            status = .wiped
            let wipes = makeWipeFinisher(appData: appData, relay: RelayClient(url: appData.rememberedRelay()))
            Task { await wipes.finish(scope: scope) }
            return
        } catch ApiError.KeyStoreUnavailable {
            status = .waitingForFirstUnlock
            return
        } catch {
            status = .failed(error.localizedDescription)
            return
        }
        // Read while the agent can answer; after a wipe it cannot, and the memo says where to go.
        let relay = RelayClient(string: try? agent.relayUrl())
        try? appData.rememberRelay(relay.url)
        let wipes = makeWipeFinisher(appData: appData, relay: relay)
        do {
            // Once at start, before anything else asks the core: what this platform can do.
            try agent.setPlatformCaps(caps: Self.caps)
        } catch ApiError.Wiped(_, let scope) {
            status = .wiped
            Task { await wipes.finish(scope: scope) }
            return
        } catch {
            // The core keeps its defaults; a `*` or `#` dial string is still refused by the app.
        }
        let executor = ActionExecutor(
            agent: agent,
            appData: appData,
            notifier: notifier,
            wipes: wipes,
            lockApp: { [weak self] in Task { @MainActor in self?.appLocked = true } }
        )
        self.agent = agent
        self.executor = executor
        self.inbox = CommandInbox(agent: agent, executor: executor, relay: relay)
        self.calls = HelplineCallManager(agent: agent, executor: executor, transport: nil)
        let blockList = CallBlockListUpdater(agent: agent, executor: executor, appData: appData, extensionID: Self.extensionID)
        self.blockList = blockList
        inbox?.blockList = blockList
        status = .ready
        Task { await WipeFinisher.deliverPendingReceipt(appData: appData) }
        inbox?.scheduleRefresh()
    }

    private func makeWipeFinisher(appData: AppData, relay: RelayClient) -> WipeFinisher {
        WipeFinisher(appData: appData, notifier: notifier, relay: relay, extensionID: Self.extensionID) { [weak self] report in
            Task { @MainActor in self?.didWipe(report) }
        }
    }

    /// On every return to the foreground: housekeeping, due actions, receipts, and the block list.
    func becameActive() async {
        if status == .waitingForFirstUnlock || status == .starting {
            start()
        }
        guard let agent, let executor else {
            if let appData, status == .wiped || status == .notEnrolled {
                await WipeFinisher.deliverPendingReceipt(appData: appData)
            }
            return
        }
        if let outcome = try? await executor.withAgent({ try agent.handle(event: .tick) }) {
            await executor.run(outcome.actions)
        }
        await executor.runPending()
        let boundary = try? await blockList?.refresh()
        inbox?.scheduleRefresh(at: boundary ?? nil)
        await inbox?.deliverReceipts()
        findings = (try? await executor.withAgent({ try agent.compliance().findings })) ?? []
    }

    /// Registers the advocate's callback list with the core (one commit: all or none) and keeps
    /// it as the app's own contacts for survivors, the candidates of the off-duty block list.
    func importCaseload(_ numbers: [String]) async throws {
        guard let agent, let executor, let appData else { return }
        let entries = numbers.map { SurvivorEntry(number: $0, plan: nil) }
        _ = try await executor.withAgent { try agent.registerSurvivors(survivors: entries) }
        try appData.setSurvivorNumbers(numbers)
        let boundary = try? await blockList?.refresh()
        inbox?.scheduleRefresh(at: boundary ?? nil)
    }

    /// The advocate unlocked Quietline's own screen.
    func unlockApp() {
        appLocked = false
        guard let agent, let executor else { return }
        Task { _ = try? await executor.withAgent { try agent.handle(event: .unlocked) } }
    }

    func call(_ number: String, line: Line, confirmed: Bool = false) async {
        guard let calls else { return }
        switch await calls.placeCall(to: number, line: line, confirmed: confirmed) {
        case .placed:
            callMessage = nil
        case .blocked(let message), .refused(let message):
            callMessage = message
        case .needsConfirmation(let message, _):
            callMessage = message
        }
    }

    /// The agent's data is erased, the receipt went out (or waits for the next start) and the
    /// app's own data is gone: nothing is left to use until IT enrolls the phone again.
    private func didWipe(_ report: WipeFinisher.Report) {
        agent = nil
        executor = nil
        inbox = nil
        calls = nil
        blockList = nil
        findings = []
        status = .wiped
    }
}
