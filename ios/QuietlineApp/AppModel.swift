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
    /// The enrollment text being entered: pasted, or filled in from a `quietline-enroll:` link.
    @Published var bundleText = ""
    /// Why the last enrollment attempt failed, for the advocate and IT.
    @Published private(set) var enrollError: String?
    /// Whether the enrollment form may be used: not enrolled, and no wipe still finishing (its
    /// platform part removes the agent's directory, which would take a new enrollment with it).
    @Published private(set) var enrollmentOpen = false
    /// The enrollment response IT has not received yet, to share with them; nil once delivered.
    @Published private(set) var undeliveredResponse: UndeliveredResponse?
    var pushToken: String?

    struct UndeliveredResponse: Equatable {
        /// The `QL:` text for `quietline-admin enroll accept`.
        let text: String
        /// True when a relay is known but could not be reached (the app tries again); false
        /// when the bundle named no relay, so the advocate must send it.
        let relayFailed: Bool
    }

    private(set) var inbox: CommandInbox?
    private(set) var calls: HelplineCallManager?
    private var agent: Agent?
    private var executor: ActionExecutor?
    private var blockList: CallBlockListUpdater?
    private var appData: AppData?
    private var relay: RelayClient?
    private var deliveringResponse = false
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
                self.enrollmentOpen = true
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
        attach(agent, appData: appData)
        // An enrollment response the relay has not stored yet goes out again at every start.
        Task { await deliverEnrollmentResponse() }
    }

    /// Builds the iOS pieces around an open (or just enrolled) agent.
    private func attach(_ agent: Agent, appData: AppData) {
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
        self.relay = relay
        self.inbox = CommandInbox(agent: agent, executor: executor, relay: relay)
        self.calls = HelplineCallManager(agent: agent, executor: executor, transport: nil)
        let blockList = CallBlockListUpdater(agent: agent, executor: executor, appData: appData, extensionID: Self.extensionID)
        self.blockList = blockList
        inbox?.blockList = blockList
        enrollmentOpen = false
        status = .ready
        Task { await WipeFinisher.deliverPendingReceipt(appData: appData) }
        inbox?.scheduleRefresh()
    }

    // MARK: - Enrollment

    /// Enrolls this phone from IT's bundle (the `QL:` text `quietline-admin enroll` prints):
    /// `Agent.enroll` verifies it and pins the organisation's root key; the app never reads it.
    /// Only ever on the advocate's tap: a `quietline-enroll:` link, which any web page or app can
    /// open, fills the field and nothing more. Then the bundle's policy is applied and the
    /// enrollment response goes to `<relay>/enrollments`, or is offered to share with IT.
    func enroll() async {
        guard enrollmentOpen, let appData else { return }
        guard let bundle = Self.bundle(in: bundleText) else {
            enrollError = "That is not an enrollment text. Paste the whole text from IT, starting with QL:."
            return
        }
        guard let region = Self.deviceRegion() else {
            enrollError = "This iPhone has no region set. Choose one in Settings > General > Language & Region."
            return
        }
        let agent: Agent
        do {
            agent = try Agent.enroll(
                dir: appData.agentDirectory.path, region: region, bundle: bundle,
                keyProtector: protector, clock: SystemClock()
            )
        } catch ApiError.Untrusted(let reason) {
            enrollError = "IT's enrollment text was refused (\(reason)). Ask IT for a new one."
            return
        } catch ApiError.AlreadyInitialized {
            enrollError = nil
            start() // enrolled already (another launch got there first): open it
            return
        } catch ApiError.KeyStoreUnavailable {
            enrollError = "Unlock the iPhone, then try again."
            return
        } catch ApiError.InvalidRegion(let reason) {
            enrollError = "This iPhone's region could not be used (\(reason))."
            return
        } catch {
            enrollError = error.localizedDescription
            return
        }
        enrollError = nil
        bundleText = ""
        attach(agent, appData: appData)
        // The bundle's policy (lock timeout, passcode) at once.
        await executor?.runPending()
        await deliverEnrollmentResponse()
    }

    /// A `quietline-enroll://enroll?bundle=QL:…` link (Info.plist `CFBundleURLTypes`) fills in
    /// the enrollment text; the advocate still taps Enroll.
    func receive(enrollLink url: URL) {
        guard url.scheme?.lowercased() == Self.enrollScheme else { return }
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let value = components?.queryItems?.first(where: { $0.name == "bundle" })?.value
        guard let bundle = Self.bundle(in: value ?? "") else {
            enrollError = "The link holds no enrollment text."
            return
        }
        bundleText = bundle
        enrollError = nil
    }

    /// Sends the enrollment response to the relay unless IT has it already; without a relay, or
    /// while it cannot be reached, keeps it on screen to share. At every start and foregrounding.
    func deliverEnrollmentResponse() async {
        guard let agent, let appData, let relay, !deliveringResponse else { return }
        deliveringResponse = true
        defer { deliveringResponse = false }
        guard let response = agent.enrollmentResponse(), !appData.enrollmentResponseDelivered(response) else {
            undeliveredResponse = nil
            return
        }
        guard relay.url != nil else {
            undeliveredResponse = UndeliveredResponse(text: response, relayFailed: false)
            return
        }
        if await relay.post(enrollmentResponse: response) {
            try? appData.markEnrollmentResponseDelivered(response)
            undeliveredResponse = nil
        } else {
            undeliveredResponse = UndeliveredResponse(text: response, relayFailed: true)
        }
    }

    /// The advocate sent the response to IT another way (share sheet): stop offering it.
    func responseHandedToIT() {
        guard let appData, let response = undeliveredResponse?.text else { return }
        try? appData.markEnrollmentResponseDelivered(response)
        undeliveredResponse = nil
    }

    private static let enrollScheme = "quietline-enroll"

    /// The `QL:` text in what was pasted (whitespace and line breaks from mail or chat removed).
    static func bundle(in text: String) -> String? {
        let compact = String(text.filter { !$0.isWhitespace })
        guard let start = compact.range(of: "QL:") else { return nil }
        let bundle = String(compact[start.lowerBound...])
        return bundle.count > 3 ? bundle : nil
    }

    /// The device's ISO 3166 region for the core's number handling (`Locale.current.region`), or
    /// nil when it is not a two-letter code (`001`, the world, for instance).
    static func deviceRegion() -> String? {
        let code: String?
        if #available(iOS 16, *) {
            code = Locale.current.region?.identifier
        } else {
            code = Locale.current.regionCode
        }
        guard let code, code.count == 2, code.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        return code.uppercased()
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
        await deliverEnrollmentResponse()
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
        relay = nil
        findings = []
        undeliveredResponse = nil
        status = .wiped
        enrollmentOpen = true
    }
}
