import Quietline
import SwiftUI

/// The guided caller-ID check, under a minute: call a phone you can see through the same route
/// as a helpline call, and say whether it showed this phone's number. The answer is the
/// posture's caller-ID result (`Event.posture(callerIdHidden:)`); a "showed" answer makes the
/// app refuse calls that rely on the carrier hiding the number until a later check passes.
struct CallerIdCheckView: View {
    @ObservedObject var model: AppModel
    @State private var number = ""
    @State private var called = false

    var body: some View {
        Form {
            Section("1. Call a phone you can see") {
                Text("Your own other phone, or a colleague's next to you. Never a survivor's.")
                    .font(.footnote)
                TextField("Number", text: $number)
                    .keyboardType(.phonePad)
                Button("Place the test call") {
                    called = true
                    Task { await model.prepareCall(number, line: .helpline, callerIdTest: true) }
                }
                .disabled(number.isEmpty)
                if let message = model.callMessage {
                    Text(message).font(.footnote)
                }
            }
            CallPromptSection(model: model)
            if called {
                Section("2. What did that phone show?") {
                    Button("No Caller ID, Unknown or Private") {
                        Task { await model.recordCallerIdCheck(hidden: true) }
                    }
                    Button("This phone's number", role: .destructive) {
                        Task { await model.recordCallerIdCheck(hidden: false) }
                    }
                }
            }
        }
        .navigationTitle("Caller-ID check")
        .onDisappear {
            number = ""
            called = false
        }
    }
}
