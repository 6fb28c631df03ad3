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

/// The core's answer before a call: a warning to confirm or cancel, the survivor's guidance
/// (voicemail script, review due, what to do about hidden numbers and dropped calls), and the
/// route the call will take.
struct CallPromptSection: View {
    @ObservedObject var model: AppModel

    var body: some View {
        if let prompt = model.callPrompt {
            Section(prompt.warning == nil ? "Before you call" : "Wait") {
                if let warning = prompt.warning {
                    Text(warning).foregroundColor(.red)
                }
                if let guidance = prompt.guidance {
                    if guidance.reviewDue {
                        Text("Review due: this survivor's contact plan is due for review. Check it with them when it is safe to.")
                            .foregroundColor(.orange)
                    }
                    ForEach(Self.describe(guidance), id: \.self) { Text($0) }
                    if let script = guidance.voicemailScript {
                        Text("Voicemail script").font(.headline)
                        Text(script).italic()
                    }
                }
                if let route = prompt.route {
                    Text(route).font(.footnote)
                }
                Button(Self.confirmLabel(prompt.warnReason, prompt.guidance)) {
                    Task { await model.confirmCall() }
                }
                Button("Cancel", role: .cancel) { model.cancelCall() }
            }
        }
    }

    /// What confirming does: a number the survivor agreed to see is shown only after this step.
    static func confirmLabel(_ reason: WarnReason?, _ guidance: CallGuidance?) -> String {
        guard let reason else { return "Call" }
        switch reason {
        case .numberWillShow:
            return "Call with my number shown"
        case .outsideSafeWindow:
            // One warning covers both: the confirmation also shows the number.
            return guidance?.hiddenNumbers == .showNumberAfterConfirm ? "Call anyway, with my number shown" : "Call anyway"
        }
    }

    static func describe(_ guidance: CallGuidance) -> [String] {
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
        if let practice = guidance.droppedCallPractice {
            parts.append(practice)
        }
        switch guidance.hiddenNumbers {
        case .accepted:
            break
        case .showNumberAfterConfirm:
            parts.append("Their phone rejects hidden numbers. They agreed to see your number: it is shown only after you confirm this call.")
        case .alternateCallerId:
            parts.append("Their phone rejects hidden numbers. They agreed to calls from the organisation's alternate caller ID: this call goes through the organisation's VoIP line (its calling app), never your own number.")
        }
        return parts
    }
}
