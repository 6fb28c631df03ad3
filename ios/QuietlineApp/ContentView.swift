import Quietline
import SwiftUI
import UIKit

/// The home screen: status and enrollment, then the advocate's screens (calls, survivors, the
/// caller-ID check, and what this phone lacks).
struct ContentView: View {
    @ObservedObject var model: AppModel
    @State private var sharing = false

    var body: some View {
        NavigationView {
            Form {
                Section("Status") {
                    Text(statusText)
                }
                if model.enrollmentOpen {
                    enrollSection
                }
                if let pending = model.undeliveredResponse {
                    responseSection(pending)
                }
                if model.status == .ready {
                    Section("Quietline") {
                        // `NavigationLink(_:destination:)` with a view value: iOS 13+ (the closure form is newer).
                        NavigationLink("Call", destination: CallView(model: model))
                        NavigationLink("Survivors (\(model.survivorCount))", destination: SurvivorsView(model: model))
                        NavigationLink("Caller-ID check", destination: CallerIdCheckView(model: model))
                        NavigationLink("This phone", destination: ComplianceView(model: model))
                    }
                }
            }
            .navigationTitle("Quietline")
            .sheet(isPresented: $model.showCallerIdCheck) {
                NavigationView { CallerIdCheckView(model: model) }
            }
        }
        .overlay {
            if model.appLocked {
                Button("Unlock Quietline") {
                    Task { await model.unlockApp() }
                }
                .frame(maxWidth: .infinity, maxHeight: .infinity)
                .background(.regularMaterial)
            }
        }
    }

    /// IT's bundle (`QL:` text), pasted or filled in from a link; enrolled only on a tap.
    private var enrollSection: some View {
        Section("Enroll this phone") {
            TextEditor(text: $model.bundleText)
                .font(.system(.footnote, design: .monospaced))
                .frame(minHeight: 90)
            Button("Paste from IT's message") {
                model.bundleText = UIPasteboard.general.string ?? ""
            }
            Button("Enroll") {
                Task { await model.enroll() }
            }
            .disabled(model.bundleText.isEmpty)
            if let error = model.enrollError {
                Text(error).font(.footnote)
            }
        }
    }

    /// The enrollment response IT still needs (`quietline-admin enroll accept`).
    private func responseSection(_ pending: AppModel.UndeliveredResponse) -> some View {
        Section("Send this to IT") {
            Text(responseNote(pending))
            Text(pending.text)
                .font(.system(.caption2, design: .monospaced))
                .textSelection(.enabled)
            if #available(iOS 16, *) {
                ShareLink(item: pending.text, subject: Text("Quietline enrollment response")) {
                    Text("Send to IT")
                }
            } else {
                Button("Send to IT") { sharing = true }
                    .sheet(isPresented: $sharing) {
                        ActivityView(items: [pending.text])
                    }
            }
            if let problem = pending.relayProblem, problem != .refused {
                Button("Try the relay again") {
                    Task { await model.deliverEnrollmentResponse() }
                }
            }
            Button("IT has received it") { model.responseHandedToIT() }
        }
    }

    private func responseNote(_ pending: AppModel.UndeliveredResponse) -> String {
        switch pending.relayProblem {
        case nil:
            return "Send this text to IT so they can accept this phone."
        case .unreachable:
            return "Your organisation's relay could not be reached; Quietline tries again. You can also send this text to IT."
        case .notAnnounced:
            return "The relay does not expect this phone yet (IT has not announced it); Quietline tries again. You can also send this text to IT."
        case .conflict:
            return "The relay already holds another response for this enrollment. Contact IT before doing anything else; Quietline keeps trying."
        case .refused:
            return "The relay refused this response. Send this text to IT."
        }
    }

    private var statusText: String {
        switch model.status {
        case .starting: return "Starting…"
        case .notEnrolled: return "Not enrolled yet. Paste the enrollment text IT gave you, or open IT's quietline-enroll link, then tap Enroll."
        case .waitingForFirstUnlock: return "Unlock the phone once to start Quietline."
        case .ready: return "Protected."
        case .wiped: return "Quietline's data was erased. Enroll this phone again with a new text from IT."
        case .failed(let reason): return reason
        }
    }
}

/// The system share sheet where `ShareLink` is not available (iOS 15).
struct ActivityView: UIViewControllerRepresentable {
    let items: [Any]

    func makeUIViewController(context: Context) -> UIActivityViewController {
        UIActivityViewController(activityItems: items, applicationActivities: nil)
    }

    func updateUIViewController(_ controller: UIActivityViewController, context: Context) {}
}
