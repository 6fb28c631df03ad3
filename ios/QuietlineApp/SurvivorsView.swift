import Quietline
import SwiftUI

/// Survivor entry with the survivor-led contact plan, and caseload import. A number is typed
/// once: after saving, the field is cleared and the app never shows it again (only a count).
struct SurvivorsView: View {
    @ObservedObject var model: AppModel
    @State private var number = ""
    // The bindings' records are immutable (`generate_immutable_records`): the plan is edited
    // field by field and built on save, starting from the field's default.
    @State private var windows: [SafeWindow] = defaultContactPlan().safeWindows
    @State private var voicemailAllowed = defaultContactPlan().voicemailAllowed
    @State private var messageLevel = defaultContactPlan().messageLevel
    @State private var droppedCall = defaultContactPlan().droppedCall
    @State private var hiddenNumbers = defaultContactPlan().hiddenNumbers ?? .accepted
    @State private var reviewSet = defaultContactPlan().reviewOn != nil
    @State private var reviewOn = Self.inMonths(3)
    @State private var day: Day = .mon
    @State private var start = Self.time(hour: 9)
    @State private var end = Self.time(hour: 17)
    @State private var caseload = ""

    private static let days: [(Day, String)] = [
        (.mon, "Monday"), (.tue, "Tuesday"), (.wed, "Wednesday"), (.thu, "Thursday"),
        (.fri, "Friday"), (.sat, "Saturday"), (.sun, "Sunday"),
    ]

    var body: some View {
        Form {
            Section {
                Text("\(model.survivorCount) survivors registered on this phone.")
                if let message = model.survivorMessage {
                    Text(message).font(.footnote)
                }
            }
            Section("Add a survivor") {
                TextField("Number", text: $number)
                    .keyboardType(.phonePad)
                    .textContentType(.telephoneNumber)
                    .autocorrectionDisabled()
                Toggle("A voicemail may be left", isOn: $voicemailAllowed)
                Picker("Voicemail says", selection: $messageLevel) {
                    Text("Nothing").tag(MessageLevel.none)
                    Text("Something vague").tag(MessageLevel.vague)
                }
                Picker("If a call drops", selection: $droppedCall) {
                    Text("We call back").tag(DroppedCall.weCallBack)
                    Text("They call back").tag(DroppedCall.theyCallBack)
                }
                Picker("Hidden numbers", selection: $hiddenNumbers) {
                    Text("Their phone accepts hidden calls").tag(HiddenNumbers.accepted)
                    Text("Show my number, after I confirm each call").tag(HiddenNumbers.showNumberAfterConfirm)
                    Text("Call from the organisation's alternate caller ID (VoIP)").tag(HiddenNumbers.alternateCallerId)
                }
                Toggle("Review this plan on a date", isOn: $reviewSet)
                if reviewSet {
                    DatePicker("Review on", selection: $reviewOn, displayedComponents: .date)
                }
            }
            Section("Safe times to call (none: any time)") {
                ForEach(windows.indices, id: \.self) { index in
                    let window = windows[index]
                    Text("\(Self.name(of: window.day)) \(window.start)–\(window.end)")
                }
                .onDelete { windows.remove(atOffsets: $0) }
                Picker("Day", selection: $day) {
                    ForEach(Self.days.indices, id: \.self) { index in
                        Text(Self.days[index].1).tag(Self.days[index].0)
                    }
                }
                DatePicker("From", selection: $start, displayedComponents: .hourAndMinute)
                DatePicker("To", selection: $end, displayedComponents: .hourAndMinute)
                Button("Add this safe time") {
                    windows.append(SafeWindow(day: day, start: Self.hhmm(start), end: Self.hhmm(end)))
                }
                .disabled(end <= start)
            }
            Section {
                Button("Save survivor") {
                    Task {
                        let plan = ContactPlan(
                            safeWindows: windows, voicemailAllowed: voicemailAllowed,
                            messageLevel: messageLevel, droppedCall: droppedCall,
                            hiddenNumbers: hiddenNumbers, reviewOn: reviewSet ? Self.yyyymmdd(reviewOn) : nil
                        )
                        if await model.registerSurvivor(number: number, plan: plan) {
                            number = ""
                            let fresh = defaultContactPlan()
                            windows = fresh.safeWindows
                            voicemailAllowed = fresh.voicemailAllowed
                            messageLevel = fresh.messageLevel
                            droppedCall = fresh.droppedCall
                            hiddenNumbers = fresh.hiddenNumbers ?? .accepted
                            reviewSet = fresh.reviewOn != nil
                            reviewOn = Self.inMonths(3)
                        }
                    }
                }
                .disabled(number.isEmpty)
            }
            Section("Import a caseload") {
                Text("One number per line; each gets the default plan (any time, vague voicemail, they call back). All are imported or none.")
                    .font(.footnote)
                TextEditor(text: $caseload)
                    .frame(minHeight: 90)
                    .autocorrectionDisabled()
                Button("Import") {
                    Task {
                        if await model.importCaseload(text: caseload) {
                            caseload = ""
                        }
                    }
                }
                .disabled(caseload.isEmpty)
            }
        }
        .navigationTitle("Survivors")
        // Leaving the screen drops what was typed and not saved.
        .onDisappear {
            number = ""
            caseload = ""
        }
    }

    private static func name(of day: Day) -> String {
        days.first(where: { $0.0 == day })?.1 ?? ""
    }

    private static func time(hour: Int) -> Date {
        Calendar.current.date(bySettingHour: hour, minute: 0, second: 0, of: Date()) ?? Date()
    }

    /// A default review date, a few months ahead.
    private static func inMonths(_ months: Int) -> Date {
        Calendar.current.date(byAdding: .month, value: months, to: Date()) ?? Date()
    }

    /// The core's date format for a review, `"YYYY-MM-DD"` (the phone's calendar day).
    private static func yyyymmdd(_ date: Date) -> String {
        let parts = Calendar.current.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// The core's local time format, `"HH:MM"`.
    private static func hhmm(_ date: Date) -> String {
        let parts = Calendar.current.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }
}
