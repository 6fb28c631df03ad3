import Foundation
import Quietline
import QuietlineShared
import UIKit

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
    /// What the compliance screen shows: the core's findings, failing actions with the reason
    /// the app gave, and the permissions and settings only the phone knows.
    @Published private(set) var compliance = ComplianceState()
    /// The call being decided: the core's guidance, or its warning to confirm or cancel.
    @Published private(set) var callPrompt: CallPrompt?
    /// A call placed through CallKit, which the advocate can hang up.
    @Published private(set) var activeCallID: UUID?
    /// Survivors registered on this phone (a count: numbers are never shown again once saved).
    @Published private(set) var survivorCount: UInt64 = 0
    /// Opens the guided caller-ID check (a reminder notification was tapped).
    @Published var showCallerIdCheck = false
    /// The result of the last survivor entry or caseload import.
    @Published private(set) var survivorMessage: String?
    /// The APNs token (hex), registered with the relay at once and at every poll until stored.
    var pushToken: String? {
        didSet {
            inbox?.pushToken = pushToken
            Task { await inbox?.registerPushToken() }
        }
    }

    /// What the compliance screen shows.
    struct ComplianceState: Equatable {
        var findings: [Finding] = []
        /// The policy's checklist of what no app can enforce, with the day IT confirmed each.
        var checklist: [ChecklistEntry] = []
        /// Actions the phone keeps failing, with the app's reason (no number is ever in one).
        var failing: [String] = []
        var notifications: Permissions.State = .notAskedYet
        var contacts: Permissions.State = .notAskedYet
        var passcodeSet = true
        var backgroundRefreshAllowed = true
        var voipRoute = false
    }

    /// The call the advocate asked for, waiting for a decision on screen.
    struct CallPrompt {
        /// The warning to confirm (outside the survivor's safe window, or the number will show),
        /// if any.
        let warning: String?
        /// Why the core warned: what the confirm button says.
        let warnReason: WarnReason?
        /// What the survivor's plan says about voicemail and dropped calls.
        let guidance: CallGuidance?
        /// How the call will go; nil while a warning waits for confirmation.
        let route: String?
        fileprivate let prepared: HelplineCallManager.PreparedCall?
        fileprivate let retry: (number: String, line: Line, callerIdTest: Bool)?
    }

    struct UndeliveredResponse: Equatable {
        /// The `QL:` text for `quietline-admin enroll accept`.
        let text: String
        /// Why the relay does not have it yet; nil when the bundle named no relay, so the
        /// advocate must send it.
        let relayProblem: RelayProblem?
    }

    /// What the relay answered to `POST /enrollments` when it did not store the response.
    enum RelayProblem: Equatable {
        /// Not reached, or not now (`5xx`, `429`): the app tries again at every poll.
        case unreachable
        /// `404`: IT has not announced this enrollment to the relay yet; tried again at every poll.
        case notAnnounced
        /// `409`: another device key was already posted for this enrollment. Contact IT; the app
        /// keeps trying at later polls.
        case conflict
        /// `400`: the relay cannot accept this response; it is not sent again. Send it to IT.
        case refused
    }
    /// A response the relay refused (`400`): not posted again.
    private var refusedResponse: String?

    private(set) var inbox: CommandInbox?
    private(set) var calls: HelplineCallManager?
    private var agent: Agent?
    private var executor: ActionExecutor?
    private var appData: AppData?
    private var relay: RelayClient?
    private var deliveringResponse = false
    private let notifier = Notifier()
    private lazy var permissions = Permissions(notifier: notifier)
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
        // The agent signs the relay requests that need the device's authentication.
        let relay = RelayClient(string: try? agent.relayUrl(), agent: agent)
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
        let inbox = CommandInbox(agent: agent, executor: executor, relay: relay)
        inbox.pushToken = pushToken
        // Step 1 of every poll, background ones too: the enrollment response until it is stored.
        inbox.beforePoll = { [weak self] in await self?.deliverEnrollmentResponse() }
        self.inbox = inbox
        // No in-app VoIP stack ships with Quietline: VoIP calls go to the organisation's
        // calling app (the signed policy's, else managed app configuration), or are refused with
        // the reason. Read at every call: a new policy may name or drop it.
        self.calls = HelplineCallManager(
            agent: agent, executor: executor, transport: nil, softphone: { SoftphoneHandoff.configured(agent: agent) }
        )
        // No survivor-only call blocking on iOS (it would tell a caller who fakes a survivor's
        // number whether that survivor is a client): what earlier builds loaded is cleared.
        Task { await CallBlockingRetired.clear(appData: appData, extensionID: Self.extensionID) }
        enrollmentOpen = false
        status = .ready
        Task { await WipeFinisher.deliverPendingReceipt(appData: appData) }
        inbox.scheduleRefresh()
        Task {
            // Enrolled: the moment to ask for notifications and Contacts (once each; a phone
            // enrolled by an older version is asked at its next start).
            await permissions.requestAfterEnrollment()
            await refreshCompliance()
        }
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
        // The bundle's policy (lock timeout, passcode) at once, then a first poll: the
        // enrollment response goes to the relay, and whatever IT queued comes in.
        await executor?.runPending()
        await inbox?.poll()
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
            undeliveredResponse = UndeliveredResponse(text: response, relayProblem: nil)
            return
        }
        guard refusedResponse != response else { return }
        switch await relay.post(enrollmentResponse: response) {
        case .stored:
            try? appData.markEnrollmentResponseDelivered(response)
            undeliveredResponse = nil
        case .notAnnounced:
            undeliveredResponse = UndeliveredResponse(text: response, relayProblem: .notAnnounced)
        case .conflict:
            undeliveredResponse = UndeliveredResponse(text: response, relayProblem: .conflict)
        case .refused:
            refusedResponse = response
            undeliveredResponse = UndeliveredResponse(text: response, relayProblem: .refused)
        case .failed:
            undeliveredResponse = UndeliveredResponse(text: response, relayProblem: .unreachable)
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
        WipeFinisher(appData: appData, notifier: notifier, relay: relay) { [weak self] report in
            Task { @MainActor in self?.didWipe(report) }
        }
    }

    /// On every return to the foreground: housekeeping, posture, due actions, a relay poll,
    /// receipts, the block list and the compliance screen.
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
        calls?.returnedToForeground()
        if let outcome = try? await executor.withAgent({ try agent.handle(event: .tick) }) {
            await executor.run(outcome.actions)
        }
        // What the app can observe of the lock: a passcode is set or not (Auto-Lock is unreadable).
        let posture = Event.posture(lockTimeoutSecs: nil, secureLock: Permissions.passcodeSet(), callerIdHidden: nil)
        if let outcome = try? await executor.withAgent({ try agent.handle(event: posture) }) {
            await executor.run(outcome.actions)
        }
        await executor.runPending()
        // Commands never wait for a push: every return to the foreground polls too.
        await inbox?.poll()
        inbox?.scheduleRefresh()
        await refreshCompliance()
    }

    /// Going to the background: ask iOS for the next relay poll (BGAppRefreshTask).
    func enteredBackground() {
        inbox?.scheduleRefresh()
    }

    /// Reads the core's findings and the phone's permissions for the compliance screen.
    func refreshCompliance() async {
        guard let agent, let executor else { return }
        var state = ComplianceState()
        let report = try? await executor.withAgent({ try agent.compliance() })
        state.findings = report?.findings ?? []
        state.checklist = report?.checklist ?? []
        let actions = (try? await executor.withAgent({ try agent.allPendingActions() })) ?? []
        state.failing = actions.compactMap { (action: Action) -> String? in
            guard action.attempts > 0, let reason = action.lastError else { return nil }
            return "\(Self.name(of: action.kind)): \(reason) (\(action.attempts) attempts)"
        }
        state.notifications = await permissions.notificationState()
        state.contacts = permissions.contactsState()
        state.passcodeSet = Permissions.passcodeSet()
        state.backgroundRefreshAllowed = UIApplication.shared.backgroundRefreshStatus == .available
        state.voipRoute = calls?.hasVoipRoute ?? false
        compliance = state
        survivorCount = (try? await executor.withAgent({ try agent.survivorCount() })) ?? 0
    }

    /// Asks for what was not asked yet; what was refused can only be changed in Settings.
    func requestPermissions() async {
        await permissions.requestAfterEnrollment()
        if compliance.notifications == .refused || compliance.contacts == .refused {
            await Permissions.openSettings()
        }
        await refreshCompliance()
    }

    private static func name(of kind: ActionKind) -> String {
        switch kind {
        case .setMaxTimeToLock: return "Auto-Lock"
        case .requireSecureLock: return "Passcode"
        case .lockNow: return "Lock"
        case .setMaxFailedUnlocks: return "Failed-unlock limit"
        case .deleteCallLog: return "Call history clean-up"
        case .deleteContact: return "Contact clean-up"
        case .notify: return "Notification"
        case .scheduleCallerIdCheck: return "Caller-ID check reminder"
        case .purgeSurvivorData: return "Survivor data purge"
        case .wipe: return "Wipe"
        }
    }

    // MARK: - Survivors

    /// Registers one survivor with their contact plan. The core keeps a keyed hash of the
    /// number, never the number; the app keeps nothing and does not show it again.
    func registerSurvivor(number: String, plan: ContactPlan) async -> Bool {
        guard let agent, let executor else { return false }
        do {
            try await executor.withAgent { try agent.registerSurvivor(number: number, plan: plan) }
        } catch ApiError.InvalidNumber(let reason) {
            survivorMessage = "That number could not be read (\(reason))."
            return false
        } catch ApiError.InvalidContactPlan(let reason) {
            survivorMessage = "The contact plan is not valid: \(reason)."
            return false
        } catch {
            survivorMessage = "Not saved: \(error.localizedDescription)"
            return false
        }
        survivorMessage = "Saved. Quietline keeps only a keyed hash of the number and does not show it again."
        await refreshCompliance()
        return true
    }

    /// A caseload pasted by the advocate: one number per line, each with the default plan.
    func importCaseload(text: String) async -> Bool {
        let numbers = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !numbers.isEmpty else {
            survivorMessage = "Paste one number per line."
            return false
        }
        do {
            try await importCaseload(numbers)
        } catch ApiError.InvalidNumber(let reason) {
            survivorMessage = "Nothing was imported: a number could not be read (\(reason))."
            return false
        } catch {
            survivorMessage = "Nothing was imported: \(error.localizedDescription)"
            return false
        }
        survivorMessage = "Imported \(numbers.count). Quietline keeps only keyed hashes of the numbers and does not show them again."
        await refreshCompliance()
        return true
    }

    /// Registers the advocate's caseload with the core, each with the default plan (one
    /// commit: all or none). Nothing of it is kept by the app.
    func importCaseload(_ numbers: [String]) async throws {
        guard let agent, let executor else { return }
        let entries = numbers.map { SurvivorEntry(number: $0, plan: nil) }
        _ = try await executor.withAgent { try agent.registerSurvivors(survivors: entries) }
    }

    // MARK: - Unlock

    /// The advocate unlocks Quietline's own screen: Face ID, Touch ID or the passcode
    /// (`LAContext.evaluatePolicy`). Only a real unlock is reported `unlocked` to the core.
    func unlockApp() async {
        switch await Permissions.authenticate(reason: "Unlock Quietline") {
        case .unlocked:
            appLocked = false
            guard let agent, let executor else { return }
            _ = try? await executor.withAgent { try agent.handle(event: .unlocked) }
        case .failed:
            guard let agent, let executor else { return }
            if let outcome = try? await executor.withAgent({ try agent.handle(event: .unlockFailed) }) {
                await executor.run(outcome.actions)
            }
        case .notTried(let message):
            callMessage = message
        }
    }

    // MARK: - Calls

    /// Asks the core about a call and shows its guidance (or warning) before anything is dialled.
    func prepareCall(_ number: String, line: Line, confirmed: Bool = false, callerIdTest: Bool = false) async {
        guard let calls else { return }
        callMessage = nil
        switch await calls.prepare(to: number, line: line, confirmed: confirmed, callerIdTest: callerIdTest) {
        case .ready(let prepared):
            callPrompt = CallPrompt(warning: nil, warnReason: nil, guidance: prepared.guidance,
                                    route: prepared.routeDescription, prepared: prepared, retry: nil)
        case .needsConfirmation(let reason, let message, _, let guidance):
            callPrompt = CallPrompt(
                warning: message, warnReason: reason, guidance: guidance, route: nil, prepared: nil,
                retry: (number, line, callerIdTest)
            )
        case .blocked(let message), .refused(let message):
            callPrompt = nil
            callMessage = message
        }
    }

    /// The advocate confirmed the prompt: a warned call is asked again as confirmed (and its
    /// guidance shown); a ready call is dialled.
    func confirmCall() async {
        guard let prompt = callPrompt else { return }
        if let retry = prompt.retry {
            await prepareCall(retry.number, line: retry.line, confirmed: true, callerIdTest: retry.callerIdTest)
            return
        }
        guard let prepared = prompt.prepared, let calls else { return }
        callPrompt = nil
        switch await calls.place(prepared) {
        case .placedInApp(let id):
            activeCallID = id
        case .handedOff:
            break
        case .refused(let message):
            callMessage = message
        }
    }

    /// The advocate cancelled: nothing is dialled.
    func cancelCall() {
        callPrompt = nil
    }

    /// Hangs up a call placed through CallKit.
    func hangUp() {
        guard let id = activeCallID else { return }
        calls?.endCall(id)
        activeCallID = nil
    }

    // MARK: - Caller-ID check

    /// The guided check: the advocate called a phone they can see, through the same route as a
    /// helpline call, and says whether it showed this phone's number. Recorded as posture.
    func recordCallerIdCheck(hidden: Bool) async {
        guard let agent, let executor else { return }
        let posture = Event.posture(lockTimeoutSecs: nil, secureLock: nil, callerIdHidden: hidden)
        if let outcome = try? await executor.withAgent({ try agent.handle(event: posture) }) {
            await executor.run(outcome.actions)
        }
        showCallerIdCheck = false
        await refreshCompliance()
    }

    /// The agent's data is erased, the receipt went out (or waits for the next start) and the
    /// app's own data is gone: nothing is left to use until IT enrolls the phone again.
    private func didWipe(_ report: WipeFinisher.Report) {
        agent = nil
        executor = nil
        inbox = nil
        calls = nil
        relay = nil
        compliance = ComplianceState()
        callPrompt = nil
        activeCallID = nil
        survivorCount = 0
        undeliveredResponse = nil
        status = .wiped
        enrollmentOpen = true
    }
}
