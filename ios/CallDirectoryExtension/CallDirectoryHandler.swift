import CallKit
import Foundation

/// Loads no blocking and no identification entries, and so removes every entry an earlier
/// Quietline build loaded (see `CallBlockingRetired` in QuietlineKit for why nothing is blocked:
/// blocking only survivors' numbers told a caller who fakes one whether that survivor is a
/// client). A complete load "adds the full list of entries from scratch", replacing what was
/// loaded before; an incremental one removes everything explicitly.
///
/// The extension reads nothing (no App Group, no Keychain group): it holds no survivor number
/// and can reach none.
final class CallDirectoryHandler: CXCallDirectoryProvider {
    override func beginRequest(with context: CXCallDirectoryExtensionContext) {
        context.delegate = self
        if context.isIncremental {
            context.removeAllBlockingEntries()
            context.removeAllIdentificationEntries()
        }
        context.completeRequest()
    }
}

extension CallDirectoryHandler: CXCallDirectoryExtensionContextDelegate {
    func requestFailed(for extensionContext: CXCallDirectoryExtensionContext, withError error: Error) {
        // CallKit keeps the previous entries until a load succeeds; the app reloads the
        // extension at every start.
    }
}
