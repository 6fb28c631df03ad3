import CallKit
import Foundation
import UIKit

/// The organisation's VoIP service, which carries helpline calls so that caller ID is hidden by
/// the service and CallKit keeps them out of Recents. The app supplies it (SIP/WebRTC stack).
public protocol VoipTransport: AnyObject {
    /// Starts the media for a call; reports when it connects and when it ends.
    func connect(
        callID: UUID,
        dialString: String,
        onConnected: @escaping () -> Void,
        onEnded: @escaping (_ dropped: Bool) -> Void
    )
    /// Ends the call's media.
    func hangUp(callID: UUID)
}

/// Places helpline and direct calls as the core decides, and reports their end to the agent.
///
/// Two steps, so the advocate sees the survivor's wishes before anything is dialled: `prepare`
/// asks the core (`Event.outgoingCall`) and returns the route with the survivor's guidance, or
/// the warning to confirm, or why the call cannot be placed; `place` dials what `prepare`
/// returned. The routes, from what iOS allows (docs/platforms.md cites Apple for each):
///
/// - **VoIP** (`Verdict.dial(viaVoip: true)`, the policy's `voip` method): the organisation's
///   VoIP service presents the helpline's number, never the advocate's. With an in-app
///   `VoipTransport` the call goes through CallKit with `includesCallsInRecents = false`; without
///   one, it is handed to the organisation's softphone app through its URL scheme
///   (`SoftphoneHandoff`: named in IT's signed policy, `caller_id.softphone`, else set through
///   managed app configuration). Neither: refused.
/// - **Carrier** (`Verdict.dial(viaVoip: false)` with a plain number, the `carrier` method): the
///   carrier withholds the number on the whole line, a setting no app can read or change, so
///   the call is placed through the Phone app (`tel:`) only after a recent guided caller-ID check
///   that did not show the number (no `Finding.callerIdNotHidden` or `.callerIdCheckOverdue`);
///   otherwise refused.
/// - **Prefix** (`*67`, `#31#`): iOS's Phone app does not dial a `tel:` URL holding `*` or `#`,
///   so the app says so at start (`PlatformCaps(prefixDialing: false)`) and the core blocks such
///   calls (`BlockReason.callerIdCannotBeHidden`); a dial string holding `*` or `#` is still
///   refused here, never placed without the prefix, which would show the advocate's number.
public final class HelplineCallManager: NSObject {
    /// What the core decided about a call the advocate asked for.
    public enum Decision {
        /// Ready to dial; show the guidance, then `place` it or drop it.
        case ready(PreparedCall)
        /// The survivor's plan says not now, or the call will show the advocate's number (the
        /// survivor's phone rejects hidden numbers and they agreed to see it): show the message
        /// and the guidance; to go ahead, `prepare` again with `confirmed: true`.
        case needsConfirmation(reason: WarnReason, message: String, nextSafeAt: Date?, guidance: CallGuidance?)
        /// The core blocked it; show the message.
        case blocked(String)
        /// The call cannot be placed on this phone in a way that keeps the rule; show the reason.
        case refused(String)
    }

    /// A call the core allowed, not yet dialled. Holds the number: kept in memory only.
    public struct PreparedCall {
        fileprivate let number: String
        fileprivate let line: Line
        fileprivate let dialString: String
        fileprivate let route: Route
        /// The caller-ID check's call: its end is not reported to the core, so the advocate's
        /// own other phone is never treated as a helpline caller (no contact clean-up for it).
        fileprivate var callerIdTest = false
        /// The survivor's wishes (voicemail, what it may say, dropped calls), when registered.
        public let guidance: CallGuidance?
        /// How the call will go, in words for the advocate.
        public var routeDescription: String {
            switch route {
            case .callKit: return "Through the organisation's VoIP line (kept out of Recents)."
            case .softphone(_, let source):
                let named = source == .policy ? "named in IT's signed policy" : "set by your organisation's device management"
                return "In the organisation's calling app (\(named)), which shows the helpline's number."
            case .cellular: return "Through the Phone app (the call stays in Recents)."
            }
        }
    }

    fileprivate enum Route {
        case callKit
        case softphone(URL, SoftphoneHandoff.Source)
        case cellular(URL)
    }

    /// What became of `place`.
    public enum Placement: Equatable {
        /// Placed through CallKit; `endCall` hangs it up.
        case placedInApp(UUID)
        /// Handed to the Phone app or the organisation's calling app.
        case handedOff
        case refused(String)
    }

    private struct PlacedCall {
        let number: String
        let line: Line
        let direction: CallDirection
        let startedAt: Date
        /// False for the caller-ID check's call.
        var reported = true
    }

    private let agent: AgentProtocol
    private let executor: ActionExecutor
    private let transport: VoipTransport?
    /// Read at every call: IT may change the managed configuration while the app runs.
    private let softphone: () -> SoftphoneHandoff?
    private let provider: CXProvider
    private let controller = CXCallController()
    private let observer = CXCallObserver()
    private var calls: [UUID: PlacedCall] = [:]
    /// A cellular call handed to the Phone app, until the call observer sees it end.
    private var pendingCellular: PlacedCall?
    private var cellularCallID: UUID?
    /// A call handed to the organisation's calling app: reported ended when Quietline returns.
    private var pendingHandoff: PlacedCall?
    private let queue = DispatchQueue(label: "org.quietline.calls")

    /// - Parameters:
    ///   - transport: an in-app VoIP stack, where the organisation links one; nil otherwise.
    ///   - softphone: the organisation's calling app, for VoIP calls when there is no transport
    ///     (`SoftphoneHandoff.configured(agent:)`: the signed policy's, else managed configuration).
    public init(
        agent: AgentProtocol, executor: ActionExecutor, transport: VoipTransport?,
        softphone: @escaping () -> SoftphoneHandoff?
    ) {
        self.agent = agent
        self.executor = executor
        self.transport = transport
        self.softphone = softphone
        let configuration = CXProviderConfiguration()
        // The heart of it: calls reported through this provider never appear in Recents (iOS 11+).
        configuration.includesCallsInRecents = false
        configuration.supportsVideo = false
        configuration.maximumCallGroups = 1
        configuration.maximumCallsPerCallGroup = 1
        configuration.supportedHandleTypes = [.phoneNumber]
        self.provider = CXProvider(configuration: configuration)
        super.init()
        provider.setDelegate(self, queue: queue)
        observer.setDelegate(self, queue: queue)
    }

    /// Whether VoIP calls have a way out on this phone (in-app transport or the calling app).
    public var hasVoipRoute: Bool { transport != nil || softphone() != nil }

    /// Asks the core about a call, and finds the route that keeps its rule.
    ///
    /// - Parameter callerIdTest: the guided caller-ID check's call to the advocate's own other
    ///   phone: it takes the same route, but is placed even when the last check showed the number
    ///   (that is what it checks again; the number it reaches is not a survivor's).
    public func prepare(to number: String, line: Line, confirmed: Bool = false, callerIdTest: Bool = false) async -> Decision {
        let decision = await decide(number: number, line: line, confirmed: confirmed, callerIdTest: callerIdTest)
        guard callerIdTest, case .ready(var prepared) = decision else { return decision }
        prepared.callerIdTest = true
        return .ready(prepared)
    }

    private func decide(number: String, line: Line, confirmed: Bool, callerIdTest: Bool) async -> Decision {
        let outcome: Outcome
        do {
            outcome = try await executor.withAgent {
                try agent.handle(event: .outgoingCall(number: number, line: line, confirmed: confirmed))
            }
        } catch ApiError.Wiped {
            return .refused("Quietline's data was erased on this phone; calls can no longer be placed from it.")
        } catch {
            return .refused("Quietline could not check this call: \(error.localizedDescription)")
        }
        await executor.run(outcome.actions)
        switch outcome.verdict {
        case .allow:
            // The core does not ask for caller ID to be hidden on this call.
            return cellular(number: number, line: line, dialString: number, guidance: outcome.guidance)
        case .dial(let dialString, let viaVoip):
            // Whatever the route, a caller-ID check that showed the number means this call would
            // show it too (the test call itself is what checks again).
            let findings = (try? await executor.withAgent({ try agent.compliance().findings })) ?? []
            if findings.contains(.callerIdNotHidden), !callerIdTest {
                return .refused(
                    "The last caller-ID check showed this phone's number, so this call would too. Ask IT to fix caller-ID blocking, then run the check again."
                )
            }
            if viaVoip {
                if transport != nil {
                    return .ready(PreparedCall(number: number, line: line, dialString: dialString, route: .callKit, guidance: outcome.guidance))
                }
                if let handoff = softphone(), let url = handoff.url(dialing: dialString) {
                    return .ready(PreparedCall(
                        number: number, line: line, dialString: dialString, route: .softphone(url, handoff.source), guidance: outcome.guidance
                    ))
                }
                return .refused(
                    "This call must go through your organisation's VoIP line, and no calling app is set up on this iPhone (IT names it in the policy, caller_id.softphone, or in managed app configuration). The call was not placed, so your number was not shown."
                )
            }
            if dialString.contains("*") || dialString.contains("#") {
                return .refused(
                    "iOS does not let apps dial a caller-ID prefix. Use the organisation's VoIP line, or ask IT for line-level caller-ID restriction."
                )
            }
            // The carrier hides the number on the whole line, a setting no app can read: trust it
            // only on a recent check (VoIP hides it by how the service presents calls).
            if findings.contains(.callerIdCheckOverdue), !callerIdTest {
                return .refused(
                    "Run the caller-ID check first (under a minute, from the home screen): nothing has confirmed recently that this line hides your number."
                )
            }
            return cellular(number: number, line: line, dialString: dialString, guidance: outcome.guidance)
        case .block(_, let message):
            return .blocked(message)
        case .warn(let reason, let message, let nextSafeAt):
            return .needsConfirmation(reason: reason, message: message, nextSafeAt: nextSafeAt, guidance: outcome.guidance)
        case .sendToVoicemail(let message):
            return .refused(message)
        }
    }

    private func cellular(number: String, line: Line, dialString: String, guidance: CallGuidance?) -> Decision {
        let digits = dialString.filter { $0.isNumber || $0 == "+" }
        guard !digits.isEmpty, let url = URL(string: "tel:\(digits)") else {
            return .refused("This number cannot be dialled.")
        }
        return .ready(PreparedCall(number: number, line: line, dialString: dialString, route: .cellular(url), guidance: guidance))
    }

    /// Dials a call `prepare` returned.
    public func place(_ prepared: PreparedCall) async -> Placement {
        var call = PlacedCall(number: prepared.number, line: prepared.line, direction: .outgoing, startedAt: Date())
        call.reported = !prepared.callerIdTest
        switch prepared.route {
        case .callKit:
            let id = UUID()
            queue.sync { calls[id] = call }
            let action = CXStartCallAction(call: id, handle: CXHandle(type: .phoneNumber, value: prepared.dialString))
            action.isVideo = false
            do {
                try await controller.request(CXTransaction(action: action))
                return .placedInApp(id)
            } catch {
                queue.sync { calls[id] = nil }
                return .refused("CallKit refused the call: \(error.localizedDescription)")
            }
        case .softphone(let url, _):
            queue.sync { pendingHandoff = call }
            guard await UIApplication.shared.open(url) else {
                queue.sync { pendingHandoff = nil }
                return .refused("The organisation's calling app is not installed or did not accept the call.")
            }
            return .handedOff
        case .cellular(let url):
            queue.sync { pendingCellular = call }
            guard await UIApplication.shared.open(url) else {
                queue.sync { pendingCellular = nil }
                return .refused("The Phone app did not accept the call.")
            }
            return .handedOff
        }
    }

    /// Hangs up a call placed through CallKit.
    public func endCall(_ id: UUID) {
        controller.request(CXTransaction(action: CXEndCallAction(call: id))) { _ in }
    }

    /// Quietline is back in the foreground: a call handed to the organisation's calling app is
    /// over (iOS tells an app nothing about another app's calls), so its end is reported now and
    /// the core's cleanup runs.
    public func returnedToForeground() {
        let handed: PlacedCall? = queue.sync {
            defer { pendingHandoff = nil }
            return pendingHandoff
        }
        if let handed {
            reportEnded(handed, dropped: false)
        }
    }

    // MARK: - Ending

    /// Tells the agent a call ended (survivor calls are then cleaned up) and runs its actions.
    private func reportEnded(_ call: PlacedCall, dropped: Bool) {
        guard call.reported else { return }
        let event = Event.callEnded(
            number: call.number, line: call.line, direction: call.direction,
            startedAt: call.startedAt, dropped: dropped
        )
        Task {
            guard let outcome = try? await executor.withAgent({ try agent.handle(event: event) }) else { return }
            await executor.run(outcome.actions)
        }
    }
}

extension HelplineCallManager: CXProviderDelegate {
    public func providerDidReset(_ provider: CXProvider) {
        for id in calls.keys {
            transport?.hangUp(callID: id)
        }
        for call in calls.values {
            reportEnded(call, dropped: true)
        }
        calls.removeAll()
    }

    public func provider(_ provider: CXProvider, perform action: CXStartCallAction) {
        guard let transport, calls[action.callUUID] != nil else {
            action.fail()
            return
        }
        let id = action.callUUID
        provider.reportOutgoingCall(with: id, startedConnectingAt: Date())
        transport.connect(
            callID: id,
            dialString: action.handle.value,
            onConnected: { [weak self] in
                self?.queue.async {
                    self?.provider.reportOutgoingCall(with: id, connectedAt: Date())
                }
            },
            onEnded: { [weak self] dropped in
                self?.queue.async {
                    guard let self, let call = self.calls.removeValue(forKey: id) else { return }
                    self.provider.reportCall(with: id, endedAt: Date(), reason: dropped ? .failed : .remoteEnded)
                    self.reportEnded(call, dropped: dropped)
                }
            }
        )
        action.fulfill()
    }

    public func provider(_ provider: CXProvider, perform action: CXEndCallAction) {
        transport?.hangUp(callID: action.callUUID)
        if let call = calls.removeValue(forKey: action.callUUID) {
            reportEnded(call, dropped: false)
        }
        action.fulfill()
    }
}

extension HelplineCallManager: CXCallObserverDelegate {
    /// Follows the cellular call handed to the Phone app, to report its end. The observer never
    /// tells the number, so the call is matched as the next outgoing call not placed by CallKit.
    public func callObserver(_ callObserver: CXCallObserver, callChanged call: CXCall) {
        guard calls[call.uuid] == nil, call.isOutgoing else { return }
        if cellularCallID == nil, pendingCellular != nil, !call.hasEnded {
            cellularCallID = call.uuid
            return
        }
        guard call.uuid == cellularCallID, call.hasEnded, let placed = pendingCellular else { return }
        cellularCallID = nil
        pendingCellular = nil
        reportEnded(placed, dropped: false)
    }
}
