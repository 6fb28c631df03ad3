import Quietline
import SwiftUI

/// The app's entry point: a thin shell. Every decision is the core's; this target only wires the
/// iOS pieces from QuietlineKit together and shows their results.
@main
struct QuietlineApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var appDelegate
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            ContentView(model: appDelegate.model)
                // `quietline-enroll://enroll?bundle=QL:…` (CFBundleURLTypes): fills the form only.
                .onOpenURL { url in appDelegate.model.receive(enrollLink: url) }
        }
        .onChange(of: scenePhase) { phase in
            if phase == .active {
                Task { await appDelegate.model.becameActive() }
            } else if phase == .background {
                appDelegate.model.enteredBackground()
            }
        }
    }
}
