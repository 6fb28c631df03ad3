import CallKit
import Foundation
import QuietlineShared

/// Blocks the incoming numbers the app wrote for the off-duty rule (see `CallBlockListUpdater`).
///
/// The extension never decides anything: it reads the sealed list from the App Group container
/// and hands it to CallKit. It always does a full reload (removing every previous block first
/// where the request is incremental), so a list that became empty lifts every block. A list past
/// its `validUntil`, or one that cannot be read, blocks nothing: a survivor's call is never
/// blocked by mistake because the app could not refresh in time.
final class CallDirectoryHandler: CXCallDirectoryProvider {
    override func beginRequest(with context: CXCallDirectoryExtensionContext) {
        context.delegate = self
        if context.isIncremental {
            context.removeAllBlockingEntries()
        }
        for number in numbersToBlock() {
            // Ascending and without duplicates, as CallKit requires (`BlockList` sorts them).
            context.addBlockingEntry(withNextSequentialPhoneNumber: number)
        }
        context.completeRequest()
    }

    private func numbersToBlock() -> [CXCallDirectoryPhoneNumber] {
        guard let container = SharedContainer.fromInfoPlist() else { return [] }
        guard let list = try? BlockListStore(container: container).read() else { return [] }
        return list.numbersInForce(at: Date())
    }
}

extension CallDirectoryHandler: CXCallDirectoryExtensionContextDelegate {
    func requestFailed(for extensionContext: CXCallDirectoryExtensionContext, withError error: Error) {
        // CallKit keeps the previous entries; the app sees the failure in reloadExtension's
        // completion and retries at its next refresh. Nothing is logged: the error may concern
        // a number.
    }
}
