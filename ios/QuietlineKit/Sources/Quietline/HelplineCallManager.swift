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
/// The core returns the dial string with the caller-ID rule applied. Helpline calls go through
/// CallKit with `includesCallsInRecents = false`, over the organisation's VoIP service, so they
/// never enter the phone's Recents. A cellular call can only be handed to the Phone app through a
/// `tel:` URL, which always enters Recents, and iOS refuses to dial a `tel:` URL holding `*` or
/// `#`: a per-call prefix (`*67`, `#31#`) therefore cannot be dialled by an app. The app says so
/// at start (`PlatformCaps(prefixDialing: false)`), and the core then blocks a survivor call
/// whose caller ID could not be hidden otherwise (`BlockReason.callerIdCannotBeHidden`); a dial
/// string holding `*` or `#` is still refused here, never placed without the prefix, because
/// that would show the advocate's number.
public final class HelplineCallManager: NSObject {
    /// What became of a request to call.
    public enum Placement: Equatable {
        /// The call is being placed.
        case placed(UUID)
        /// The core blocked it; show the message.
        case blocked(String)
        /// The survivor's plan says not now; ask the advocate, then call again with `confirmed`.
        case needsConfirmation(message: String, nextSafeAt: Date?)
        /// The call cannot be placed on this phone in a way that keeps the rule; show the reason.
        case refused(String)
    }

    private struct PlacedCall {
        let number: String
        let line: Line
        let direction: CallDirection
        let startedAt: Date
    }

    private let agent: AgentProtocol
    private let executor: ActionExecutor
    private let transport: VoipTransport?
    private let provider: CXProvider
    private let controller = CXCallController()
    private let observer = CXCallObserver()
    private var calls: [UUID: PlacedCall] = [:]
    /// A cellular call handed to the Phone app, until the call observer sees it.
    private var pendingCellular: PlacedCall?
    private var cellularCallID: UUID?
    private let queue = DispatchQueue(label: "org.quietline.calls")

    /// - Parameter transport: the organisation's VoIP service; nil where there is none, in which
    ///   case only calls without a prefix can be placed (through the Phone app).
    public init(agent: AgentProtocol, executor: ActionExecutor, transport: VoipTransport?) {
        self.agent = agent
        self.executor = executor
        self.transport = transport
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

    /// Asks the core, then places the call with the dial string it returns.
    public func placeCall(to number: String, line: Line, confirmed: Bool = false) async -> Placement {
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
            return await start(dialString: number, number: number, line: line, viaVoip: false)
        case .dial(let dialString, let viaVoip):
            return await start(dialString: dialString, number: number, line: line, viaVoip: viaVoip)
        case .block(_, let message):
            return .blocked(message)
        case .warn(_, let message, let nextSafeAt):
            return .needsConfirmation(message: message, nextSafeAt: nextSafeAt)
        case .sendToVoicemail(let message):
            return .refused(message)
        }
    }

    /// Hangs up a call placed through CallKit.
    public func endCall(_ id: UUID) {
        controller.request(CXTransaction(action: CXEndCallAction(call: id))) { _ in }
    }

    // MARK: - Placing

    private func start(dialString: String, number: String, line: Line, viaVoip: Bool) async -> Placement {
        let call = PlacedCall(number: number, line: line, direction: .outgoing, startedAt: Date())
        if viaVoip {
            guard transport != nil else {
                return .refused("This call must go through the organisation's VoIP service, which is not set up in this app.")
            }
            let id = UUID()
            queue.sync { calls[id] = call }
            let handle = CXHandle(type: .phoneNumber, value: dialString)
            let action = CXStartCallAction(call: id, handle: handle)
            action.isVideo = false
            do {
                try await controller.request(CXTransaction(action: action))
                return .placed(id)
            } catch {
                queue.sync { calls[id] = nil }
                return .refused("CallKit refused the call: \(error.localizedDescription)")
            }
        }
        if dialString.contains("*") || dialString.contains("#") {
            return .refused(
                "iOS does not let apps dial a caller-ID prefix. Use the organisation's VoIP line, or ask IT for line-level caller-ID restriction."
            )
        }
        guard let url = URL(string: "tel:\(dialString)") else {
            return .refused("This number cannot be dialled.")
        }
        queue.sync { pendingCellular = call }
        let opened = await UIApplication.shared.open(url)
        if !opened {
            queue.sync { pendingCellular = nil }
            return .refused("The Phone app did not accept the call.")
        }
        return .placed(UUID())
    }

    // MARK: - Ending

    /// Tells the agent a call ended (survivor calls are then cleaned up) and runs its actions.
    private func reportEnded(_ call: PlacedCall, dropped: Bool) {
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
