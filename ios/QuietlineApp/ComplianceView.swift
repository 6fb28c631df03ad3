import Quietline
import SwiftUI

/// What this phone lacks: the core's compliance findings, the tasks that keep failing (with the
/// reason the app acknowledged), and the permissions and settings only the phone can see, each
/// with what to do about it.
struct ComplianceView: View {
    @ObservedObject var model: AppModel

    var body: some View {
        Form {
            Section("Permissions and settings") {
                row("Notifications", model.compliance.notifications,
                    refused: "Turned off: reminders and the caller-ID check cannot reach you. Settings › Quietline › Notifications.")
                row("Contacts", model.compliance.contacts,
                    refused: "Not allowed: contacts for survivors' numbers are not deleted after calls. Settings › Quietline › Contacts.")
                Text(model.compliance.passcodeSet ? "Passcode: set" : "Passcode: not set. Settings › Face ID & Passcode.")
                Text(model.compliance.backgroundRefreshAllowed
                    ? "Background App Refresh: on"
                    : "Background App Refresh: off. Commands from IT arrive only while Quietline is open.")
                Text(model.compliance.voipRoute
                    ? "Helpline calling app: set up by IT"
                    : "Helpline calling app: none. Calls that must go through the organisation's VoIP line are refused.")
                if model.compliance.notifications != .granted || model.compliance.contacts != .granted {
                    Button("Allow") {
                        Task { await model.requestPermissions() }
                    }
                }
            }
            Section("Off duty (work phones)") {
                // iOS gives an app no say over who rings: blocking only survivors' numbers after
                // hours would tell a caller who fakes one whether that survivor is a client
                // (CallBlockingRetired). What silences every caller alike is the advocate's.
                Text(Self.offDutyNotice)
                    .font(.footnote)
            }
            if !model.compliance.findings.isEmpty {
                Section("Your organisation's rules") {
                    ForEach(model.compliance.findings.indices, id: \.self) { index in
                        Text(Self.describe(model.compliance.findings[index]))
                    }
                }
            }
            if !model.compliance.checklist.isEmpty {
                Section("What no app can enforce (IT's checklist)") {
                    ForEach(model.compliance.checklist.indices, id: \.self) { index in
                        let entry = model.compliance.checklist[index]
                        Text(Self.describe(entry.item))
                        Text(entry.confirmedOn.map { "Confirmed by IT on \($0)" } ?? "Not confirmed by IT yet")
                            .font(.footnote)
                            .foregroundColor(entry.confirmedOn == nil ? .red : .secondary)
                    }
                }
            }
            if !model.compliance.failing.isEmpty {
                Section("Tasks that could not be completed") {
                    ForEach(model.compliance.failing, id: \.self) { Text($0).font(.footnote) }
                }
            }
            Section {
                Button("Check again") {
                    Task { await model.refreshCompliance() }
                }
            }
        }
        .navigationTitle("This phone")
        .task { await model.refreshCompliance() }
    }

    private func row(_ name: String, _ state: Permissions.State, refused: String) -> some View {
        switch state {
        case .granted: return Text("\(name): allowed")
        case .notAskedYet: return Text("\(name): not asked yet. Tap Allow.")
        case .refused: return Text(refused)
        }
    }

    /// What the advocate does instead of call blocking, which iOS cannot do without revealing
    /// who is a client.
    static let offDutyNotice = """
        Quietline cannot send calls to voicemail after hours on iPhone. It does not block \
        survivors' numbers either: if only their calls went to voicemail, anyone faking a \
        survivor's number could tell whether that survivor is a client. If your organisation \
        has off-duty hours, turn the phone off when they start (Quietline reminds you), or \
        schedule a Focus for those hours: Settings › Focus › Do Not Disturb › Add Schedule, \
        with calls allowed from no one and Repeated Calls off, so every caller is treated alike.
        """

    static func describe(_ item: ChecklistItem) -> String {
        switch item {
        case .voicemailTranscriptionOff: return "Voicemail is not transcribed to email or text."
        case .carrierAccountsRestricted: return "Few staff can open the carrier's online account, which lists every call."
        case .billingRecordsDestroyed: return "The parts of phone bills that list calls are destroyed when they arrive."
        case .noFreeVoip: return "No free VoIP service carries survivor calls."
        case .voipNumbersNotReused: return "A VoIP number is not reused with several survivors."
        }
    }

    static func describe(_ finding: Finding) -> String {
        switch finding {
        case .lockTimeoutTooLong: return "Auto-Lock is longer than allowed."
        case .secureLockMissing: return "No passcode is set."
        case .callerIdNotHidden: return "Caller ID showed in the last check: calls that must hide it are refused until a check passes."
        case .callerIdCheckOverdue:
            return "The caller-ID check is overdue: run it from the home screen. Calls that rely on the carrier to hide your number wait for it."
        case .actionFailing(_, let kind, let attempts): return "A task keeps failing (\(kind), \(attempts) attempts)."
        case .actionsAbandoned: return "Some tasks could not be completed."
        case .actionUnsupported(let kind, _):
            return "iPhone does not let an app do this (\(kind)); IT's configuration profile covers it."
        case .clockJumps: return "The phone's clock was changed."
        case .policyStale: return "Your organisation's settings have expired."
        case .ruleNotEnforced(let gap):
            switch gap {
            case .smsFromOtherAppsUnchecked: return "Texts from other apps are not checked."
            case .noHelplineCallRoute: return "Helpline calls have no calling route."
            }
        }
    }
}
