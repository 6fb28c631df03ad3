import Foundation
import UserNotifications

/// Local notifications for the advocate. Wording is discreet on purpose: notifications show on
/// the lock screen, so none names a survivor, a number or the organisation.
public final class Notifier {
    private let center: UNUserNotificationCenter

    public init(center: UNUserNotificationCenter = .current()) {
        self.center = center
    }

    /// Asks once for permission (`Permissions.requestAfterEnrollment`, right after enrollment, not
    /// at first launch).
    public func requestAuthorization() async -> Bool {
        (try? await center.requestAuthorization(options: [.alert, .sound, .badge])) ?? false
    }

    public var isAuthorized: Bool {
        get async {
            let status = await authorizationStatus
            return status == .authorized || status == .provisional
        }
    }

    /// What the advocate answered (`.notDetermined` until asked), for the compliance screen.
    public var authorizationStatus: UNAuthorizationStatus {
        get async { await center.notificationSettings().authorizationStatus }
    }

    /// Shows `kind` now, or at `date`. The identifier lets a later notice of the same kind replace
    /// an earlier one instead of piling up.
    public func post(_ kind: NotifyKind, at date: Date? = nil) async throws {
        let content = UNMutableNotificationContent()
        content.title = "Quietline"
        content.body = Self.text(for: kind)
        content.sound = .default
        var trigger: UNNotificationTrigger?
        if let date, date.timeIntervalSinceNow > 1 {
            trigger = UNTimeIntervalNotificationTrigger(timeInterval: date.timeIntervalSinceNow, repeats: false)
        }
        let request = UNNotificationRequest(identifier: "ql.\(kind)", content: content, trigger: trigger)
        try await center.add(request)
    }

    /// Reminds the advocate to run the caller-ID check at `date` (iOS apps cannot place the test
    /// call by themselves).
    public func scheduleCallerIdCheck(at date: Date) async throws {
        let content = UNMutableNotificationContent()
        content.title = "Quietline"
        content.body = "Time for the caller-ID check: tap to run it (under a minute)."
        let interval = max(date.timeIntervalSinceNow, 1)
        let trigger = UNTimeIntervalNotificationTrigger(timeInterval: interval, repeats: false)
        try await center.add(UNNotificationRequest(identifier: Self.callerIdCheckID, content: content, trigger: trigger))
    }

    /// The caller-ID reminder's identifier: tapping it opens the guided check.
    public static let callerIdCheckID = "ql.callerIdCheck"

    /// Removes every pending and delivered Quietline notification (part of a wipe).
    public func removeAll() {
        center.removeAllPendingNotificationRequests()
        center.removeAllDeliveredNotifications()
    }

    static func text(for kind: NotifyKind) -> String {
        switch kind {
        case .lockTimeoutTooLong:
            return "Auto-Lock is longer than your organisation allows. Settings › Display & Brightness › Auto-Lock."
        case .secureLockMissing:
            return "Set a passcode: your organisation requires one on this phone."
        case .callerIdBlockingFailed:
            return "Caller ID may be showing on calls. Use the helpline line until IT has checked it."
        case .offDutyPowerOff:
            // iOS lets no app silence calls: the phone off, or the advocate's own Focus schedule.
            return "Working hours have ended: please turn this phone off, or turn on your off-duty Focus."
        case .offDutySurvivorCall:
            return "A call came in outside working hours."
        case .droppedCallWeCallBack:
            return "A call dropped. The plan says you call back."
        case .droppedCallTheyCallBack:
            return "A call dropped. The plan says to wait for them to call back."
        case .actionFailing:
            return "Quietline cannot complete a task on this phone. Open the app for details."
        case .policyStale:
            return "Your organisation's settings have expired. Connect to the internet."
        case .noCheckIn:
            return "Quietline has not reached your organisation for a while. Connect to the internet."
        case .noUnlock:
            return "This phone has not been unlocked for a while."
        case .offlineLockSoon:
            return "Quietline will lock soon unless the phone connects or is unlocked."
        case .offlineWipeSoon:
            return "Quietline will erase its data soon unless the phone connects or is unlocked."
        }
    }
}
