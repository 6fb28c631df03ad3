import Quietline
import UIKit
import UserNotifications

/// Receives what only an application delegate receives: the push token, pushes (a hint to poll
/// the relay), the launch moment at which background refresh must be registered, and taps on
/// Quietline's notifications.
final class AppDelegate: NSObject, UIApplicationDelegate, UNUserNotificationCenterDelegate {
    let model = AppModel()

    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil
    ) -> Bool {
        // BGTaskScheduler requires registration before launch finishes.
        CommandInbox.registerBackgroundRefresh { [model] in model.inbox }
        // Set before launch finishes, so a tap that launched the app is delivered here.
        UNUserNotificationCenter.current().delegate = self
        model.start()
        application.registerForRemoteNotifications()
        return true
    }

    func application(_ application: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken deviceToken: Data) {
        // Registered with the relay (`PUT <relay>/push-token`) so it can wake the app to poll.
        // An address, not a secret: a push carries nothing the app acts on.
        model.pushToken = deviceToken.map { String(format: "%02x", $0) }.joined()
    }

    func application(_ application: UIApplication, didFailToRegisterForRemoteNotificationsWithError error: Error) {
        // Without push, commands still arrive: background refresh and every foregrounding poll.
        model.pushToken = nil
    }

    /// A push (`content-available: 1`): a reason to poll the relay now; its payload is ignored.
    func application(
        _ application: UIApplication,
        didReceiveRemoteNotification userInfo: [AnyHashable: Any],
        fetchCompletionHandler completionHandler: @escaping (UIBackgroundFetchResult) -> Void
    ) {
        guard let inbox = model.inbox else {
            completionHandler(.noData)
            return
        }
        Task {
            let result = await inbox.handlePush()
            completionHandler(result)
        }
    }

    /// The advocate tapped a Quietline notification: the caller-ID reminder opens the check.
    func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        didReceive response: UNNotificationResponse,
        withCompletionHandler completionHandler: @escaping () -> Void
    ) {
        if response.notification.request.identifier == Notifier.callerIdCheckID {
            Task { @MainActor in self.model.showCallerIdCheck = true }
        }
        completionHandler()
    }

    /// A notification while Quietline is open is shown as a banner too (reminders matter).
    func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        willPresent notification: UNNotification,
        withCompletionHandler completionHandler: @escaping (UNNotificationPresentationOptions) -> Void
    ) {
        completionHandler([.banner, .sound])
    }
}
