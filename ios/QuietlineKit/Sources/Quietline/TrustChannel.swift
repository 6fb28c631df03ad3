import Foundation

/// What came of a signed command handed to the agent.
public struct CommandReport: Equatable {
    public enum Status: Equatable {
        /// Verified and applied now.
        case applied
        /// Verified, but refused by policy or mode; the receipt says why.
        case refused
        /// Applied before; nothing changed and the original receipt is returned.
        case replayed
    }

    public let status: Status
    /// A signed receipt to deliver now, if the command produced one at once.
    public let receipt: String?
    /// Actions for the `ActionExecutor`, already durable in the agent.
    public let actions: [Action]
    /// After a wipe: the agent's own data is already crypto-erased and the agent can no longer be
    /// used; this is the platform wipe the app must now perform.
    public let wipe: WipeScope?

    public init(status: Status, receipt: String?, actions: [Action], wipe: WipeScope?) {
        self.status = status
        self.receipt = receipt
        self.actions = actions
        self.wipe = wipe
    }
}

/// The incoming numbers the core says the Call Directory should block now, and until when.
public struct BlockListPlan: Equatable {
    /// E.164 numbers of registered survivors whose calls the policy screens right now.
    public let numbers: [String]
    /// When the plan changes next (working hours start or end); refresh the list then.
    public let validUntil: Date?

    public init(numbers: [String], validUntil: Date?) {
        self.numbers = numbers
        self.validUntil = validUntil
    }
}

/// The agent's signed-command surface: verification of `QL:` commands, receipts, the relay URL
/// from enrollment, and the off-duty block list. The core implements all of it
/// (`Agent::apply_command`, `queued_receipts`, `receipt_delivered`, `relay_url`,
/// `take_wipe_receipt`); quietline-ffi does not export it yet, so the app talks to it through
/// this protocol. When the bindings export it, `extension Agent: AgentTrustChannel {}` (plus
/// mapping the records) replaces `UnexportedTrustChannel`, and nothing else in the app changes.
/// Only the core decides whether a command is authentic; nothing on this side parses one.
public protocol AgentTrustChannel: AnyObject {
    /// Verifies and applies a signed command (`QL:` text from a push payload or the relay).
    func applyCommand(text: String) throws -> CommandReport
    /// Signed receipts not yet delivered to IT, oldest first.
    func queuedReceipts() throws -> [String]
    /// Marks a receipt delivered, removing it from the queue.
    func receiptDelivered(receipt: String) throws -> Bool
    /// The relay URL from enrollment, if any.
    func relayUrl() throws -> String?
    /// Which of `numbers` the Call Directory must block now under the off-duty rule.
    func offDutyBlockList(numbers: [String]) throws -> BlockListPlan
    /// The receipt a wipe left in `dir` (once), for delivery after the agent is gone.
    func takeWipeReceipt(dir: String) -> String?
}

/// Stands in until quietline-ffi exports the trust surface: every command is refused with
/// `ApiError.WrongState`, so nothing unverified is ever acted on, and the block list is empty.
public final class UnexportedTrustChannel: AgentTrustChannel {
    public init() {}

    private func unavailable() -> ApiError {
        .WrongState(reason: "this build's quietline-ffi does not export signed commands yet")
    }

    public func applyCommand(text: String) throws -> CommandReport { throw unavailable() }
    public func queuedReceipts() throws -> [String] { [] }
    public func receiptDelivered(receipt: String) throws -> Bool { false }
    public func relayUrl() throws -> String? { nil }
    public func offDutyBlockList(numbers: [String]) throws -> BlockListPlan {
        BlockListPlan(numbers: [], validUntil: nil)
    }
    public func takeWipeReceipt(dir: String) -> String? { nil }
}
