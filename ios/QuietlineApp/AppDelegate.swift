import Quietline
import UIKit

/// Receives what only an application delegate receives: the push token, silent pushes carrying
/// commands, and the launch moment at which background refresh must be registered.
final class AppDelegate: NSObject, UIApplicationDelegate {
    let model = AppModel()

    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil
    ) -> Bool {
        // BGTaskScheduler requires registration before launch finishes.
        CommandInbox.registerBackgroundRefresh { [model] in model.inbox }
        model.start()
        application.registerForRemoteNotifications()
        return true
    }

    func application(_ application: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken deviceToken: Data) {
        // The token goes to the organisation's push sender with the enrollment response; it is
        // an address, not a secret: whatever arrives through it is verified by the core.
        model.pushToken = deviceToken.map { String(format: "%02x", $0) }.joined()
    }

    func application(_ application: UIApplication, didFailToRegisterForRemoteNotificationsWithError error: Error) {
        // Without push, commands still arrive through relay polling (and SMS on Android).
        model.pushToken = nil
    }

    /// A silent push (`content-available: 1`) with a `ql` field holding a signed command.
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
            let result = await inbox.handlePush(userInfo: userInfo)
            completionHandler(result)
        }
    }
}
