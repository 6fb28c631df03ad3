import Contacts
import Foundation
import LocalAuthentication
import UIKit

/// The permissions Quietline asks for, each at the moment it is first needed, and what the
/// compliance screen shows about them. Asking never happens at first launch: notifications
/// and Contacts are asked right after enrollment (the advocate has just set the app up and
/// reads why), Face ID or the passcode when the advocate unlocks Quietline's own screen. A
/// refusal is never hidden: the actions that need the permission are acknowledged `.failed`
/// with the reason, the core retries them, and the compliance screen says what to change in
/// Settings.
public final class Permissions {
    /// One permission's state, for the compliance screen.
    public enum State: Equatable {
        case granted
        case notAskedYet
        case refused
    }

    private let notifier: Notifier
    private let contacts: CNContactStore

    public init(notifier: Notifier, contacts: CNContactStore = CNContactStore()) {
        self.notifier = notifier
        self.contacts = contacts
    }

    /// Right after enrollment, or at a start that finds one not asked yet: notifications (the
    /// core's reminders, the caller-ID check) and Contacts (deleting a survivor's contact after a
    /// call). iOS shows each prompt once; later calls only read the answer.
    public func requestAfterEnrollment() async {
        if await notificationState() == .notAskedYet {
            _ = await notifier.requestAuthorization()
        }
        if contactsState() == .notAskedYet {
            _ = try? await contacts.requestAccess(for: .contacts)
        }
    }

    public func notificationState() async -> State {
        let status = await notifier.authorizationStatus
        switch status {
        case .authorized, .provisional, .ephemeral: return .granted
        case .notDetermined: return .notAskedYet
        default: return .refused
        }
    }

    public func contactsState() -> State {
        switch CNContactStore.authorizationStatus(for: .contacts) {
        case .authorized: return .granted
        case .notDetermined: return .notAskedYet
        default: return .refused
        }
    }

    /// Whether a passcode is set: `.deviceOwnerAuthentication` can be evaluated only then. Sent to
    /// the core as posture (`secureLock`) at every return to the foreground.
    public static func passcodeSet() -> Bool {
        LAContext().canEvaluatePolicy(.deviceOwnerAuthentication, error: nil)
    }

    /// What unlocking Quietline's own screen gave.
    public enum UnlockResult: Equatable {
        case unlocked
        /// Face ID / Touch ID and then the passcode were tried and failed.
        case failed
        /// The advocate cancelled, or no passcode is set: nothing was tried.
        case notTried(String)
    }

    /// Face ID (with `NSFaceIDUsageDescription`), Touch ID or the passcode, through
    /// `LAContext.evaluatePolicy(.deviceOwnerAuthentication)`; the passcode is the fallback, so a
    /// phone without biometrics still unlocks.
    public static func authenticate(reason: String) async -> UnlockResult {
        let context = LAContext()
        var error: NSError?
        guard context.canEvaluatePolicy(.deviceOwnerAuthentication, error: &error) else {
            return .notTried("Set a passcode on this iPhone to unlock Quietline.")
        }
        do {
            return try await context.evaluatePolicy(.deviceOwnerAuthentication, localizedReason: reason) ? .unlocked : .failed
        } catch let error as LAError where error.code == .authenticationFailed {
            return .failed
        } catch {
            return .notTried(error.localizedDescription)
        }
    }

    /// Opens Quietline's page in Settings, where a refused permission can be turned on.
    @MainActor
    public static func openSettings() async {
        guard let url = URL(string: UIApplication.openSettingsURLString) else { return }
        _ = await UIApplication.shared.open(url)
    }
}
