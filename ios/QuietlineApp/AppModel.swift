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
    private let notifier = Notifier()
    private let protector = KeychainKeyProtector()
    // Replace with `extension Agent: AgentTrustChannel {}` once quietline-ffi exports it.
    private let trust: AgentTrustChannel = UnexportedTrustChannel()
    private static let extensionID = "org.quietline.app.CallDirectory"

    func start() {
        let container = SharedContainer.fromInfoPlist()
        let appData: AppData
        do {
            appData = try AppData.standard(container: container)
        } catch {
            status = .failed("Quietline cannot use its storage: \(error.localizedDescription)")
            return
        }
        let agent: Agent
        do {
            agent = try Agent.open(dir: appData.agentDirectory.path, keyProtector: protector, clock: SystemClock())
        } catch ApiError.NotInitialized {
            status = .notEnrolled
            return
        } catch ApiError.KeyStoreUnavailable {
            status = .waitingForFirstUnlock
            return
        } catch {
            status = .failed(error.localizedDescription)
            return
        }
        let executor = ActionExecutor(
            agent: agent,
            trust: trust,
            appData: appData,
            notifier: notifier,
            lockApp: { [weak self] in Task { @MainActor in self?.appLocked = true } },
            onWipe: { [weak self] receipt in
                Task { @MainActor in self?.didWipe(receipt) }
            }
        )
        self.agent = agent
        self.executor = executor
        self.inbox = CommandInbox(agent: agent, trust: trust, executor: executor)
        self.calls = HelplineCallManager(agent: agent, executor: executor, transport: nil)
        self.blockList = CallBlockListUpdater(trust: trust, appData: appData, extensionID: Self.extensionID)
        inbox?.blockList = blockList
        status = .ready
        inbox?.scheduleRefresh()
    }

    /// On every return to the foreground: housekeeping, due actions, and the block list.
    func becameActive() async {
        if status == .waitingForFirstUnlock || status == .starting {
            start()
        }
        guard let agent, let executor else { return }
        if let outcome = try? agent.handle(event: .tick) {
            await executor.run(outcome.actions)
        }
        await executor.runPending()
        let boundary = try? await blockList?.refresh()
        inbox?.scheduleRefresh(at: boundary ?? nil)
        await inbox?.deliverReceipts()
        findings = (try? agent.compliance().findings) ?? []
    }

    /// The advocate unlocked Quietline's own screen.
    func unlockApp() {
        appLocked = false
        _ = try? agent?.handle(event: .unlocked)
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

    private func didWipe(_ receipt: ActionExecutor.WipeReceipt) {
        agent = nil
        executor = nil
        calls = nil
        blockList = nil
        status = .wiped
        if let signed = receipt.signed, let inbox {
            Task { _ = await inbox.deliver(receipt: signed) }
        }
    }
}
