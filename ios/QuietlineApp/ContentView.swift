import Quietline
import SwiftUI

/// The one screen: status, what the phone lacks, and the helpline dialler.
struct ContentView: View {
    @ObservedObject var model: AppModel
    @State private var number = ""

    var body: some View {
        NavigationView {
            Form {
                Section("Status") {
                    Text(statusText)
                }
                if model.status == .ready {
                    Section("Helpline call") {
                        TextField("Number", text: $number)
                            .keyboardType(.phonePad)
                        Button("Call from the helpline") {
                            Task { await model.call(number, line: .helpline) }
                        }
                        if let message = model.callMessage {
                            Text(message).font(.footnote)
                        }
                    }
                    if !model.findings.isEmpty {
                        Section("This phone") {
                            ForEach(model.findings.indices, id: \.self) { index in
                                Text(describe(model.findings[index]))
                            }
                        }
                    }
                }
            }
            .navigationTitle("Quietline")
        }
        .overlay {
            if model.appLocked {
                Button("Unlock Quietline") { model.unlockApp() }
                    .frame(maxWidth: .infinity, maxHeight: .infinity)
                    .background(.regularMaterial)
            }
        }
    }

    private var statusText: String {
        switch model.status {
        case .starting: return "Starting…"
        case .notEnrolled: return "Not enrolled. Ask IT to enroll this phone."
        case .waitingForFirstUnlock: return "Unlock the phone once to start Quietline."
        case .ready: return "Protected."
        case .wiped: return "Quietline's data was erased. Ask IT to enroll this phone again."
        case .failed(let reason): return reason
        }
    }

    private func describe(_ finding: Finding) -> String {
        switch finding {
        case .lockTimeoutTooLong: return "Auto-Lock is longer than allowed."
        case .secureLockMissing: return "No passcode is set."
        case .callerIdNotHidden: return "Caller ID showed in the last check."
        case .callerIdCheckOverdue: return "The caller-ID check is overdue."
        case .actionFailing: return "A task keeps failing on this phone."
        case .actionsAbandoned: return "Some tasks could not be completed."
        case .actionUnsupported: return "Some settings cannot be applied by an app on iPhone; IT's configuration profile covers them."
        case .clockJumps: return "The phone's clock was changed."
        case .policyStale: return "Your organisation's settings have expired."
        }
    }
}
