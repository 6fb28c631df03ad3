import Quietline
import SwiftUI

/// Helpline and direct calls: the core decides, and the advocate sees the survivor's wishes
/// (and any warning) before anything is dialled, with Call and Cancel.
struct CallView: View {
    @ObservedObject var model: AppModel
    @State private var number = ""
    @State private var line: Line = .helpline

    var body: some View {
        Form {
            Section("Call") {
                TextField("Number", text: $number)
                    .keyboardType(.phonePad)
                    .textContentType(.telephoneNumber)
                Picker("Line", selection: $line) {
                    Text("Helpline").tag(Line.helpline)
                    Text("Direct").tag(Line.direct)
                }
                Button("Check and call") {
                    Task { await model.prepareCall(number, line: line) }
                }
                .disabled(number.isEmpty)
                if let message = model.callMessage {
                    Text(message).font(.footnote)
                }
            }
            CallPromptSection(model: model)
            if model.activeCallID != nil {
                Section {
                    Button("Hang up", role: .destructive) { model.hangUp() }
                }
            }
        }
        .navigationTitle("Call")
        .onDisappear { model.cancelCall() }
    }
}

/// The core's answer before a call: a warning to confirm or cancel, the survivor's guidance,
/// and the route the call will take.
struct CallPromptSection: View {
    @ObservedObject var model: AppModel

    var body: some View {
        if let prompt = model.callPrompt {
            Section(prompt.warning == nil ? "Before you call" : "Wait") {
                if let warning = prompt.warning {
                    Text(warning).foregroundColor(.red)
                }
                if let guidance = prompt.guidance {
                    Text(Self.describe(guidance))
                }
                if let route = prompt.route {
                    Text(route).font(.footnote)
                }
                Button(prompt.warning == nil ? "Call" : "Call anyway") {
                    Task { await model.confirmCall() }
                }
                Button("Cancel", role: .cancel) { model.cancelCall() }
            }
        }
    }

    static func describe(_ guidance: CallGuidance) -> String {
        var parts: [String] = []
        if guidance.voicemailAllowed {
            parts.append(guidance.messageLevel == .vague
                ? "A voicemail may be left: keep it vague (no organisation, no reason for the call)."
                : "A voicemail may be left, with no message.")
        } else {
            parts.append("Do not leave a voicemail.")
        }
        switch guidance.droppedCall {
        case .weCallBack: parts.append("If the call drops, call back.")
        case .theyCallBack: parts.append("If the call drops, wait for them to call back.")
        }
        return parts.joined(separator: " ")
    }
}
