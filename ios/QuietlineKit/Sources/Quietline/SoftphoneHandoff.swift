import Foundation

/// The organisation's calling app (softphone), which places helpline calls over its VoIP
/// service with the helpline's number as caller ID. Quietline hands a call to it by the URL
/// scheme IT sets through managed app configuration (the MDM's `AppConfig` dictionary, which iOS
/// exposes to the app under `com.apple.configuration.managed`), key `softphoneCallURL`, a
/// template such as `acmevoice://call?to={number}`.
///
/// Whether that app keeps its calls out of Recents is its own CallKit setting, not Quietline's:
/// IT chooses a calling app that does. The template comes from the organisation's MDM; it may not
/// use a scheme that would place a plain cellular call or leave the phone (`tel`, `sms`, web).
public struct SoftphoneHandoff: Equatable {
    /// The managed app configuration key IT sets.
    public static let configurationKey = "softphoneCallURL"
    private static let refusedSchemes: Set<String> = ["tel", "telprompt", "sms", "facetime", "facetime-audio", "http", "https", "mailto"]

    private let template: String

    /// Nil unless `template` is a URL with an allowed scheme and exactly one `{number}`.
    public init?(template: String) {
        guard template.components(separatedBy: "{number}").count == 2,
              let sample = URL(string: template.replacingOccurrences(of: "{number}", with: "0")),
              let scheme = sample.scheme?.lowercased(), !Self.refusedSchemes.contains(scheme)
        else { return nil }
        self.template = template
    }

    /// The calling app IT configured for this phone, if any.
    public static func fromManagedConfiguration(_ defaults: UserDefaults = .standard) -> SoftphoneHandoff? {
        let config = defaults.dictionary(forKey: "com.apple.configuration.managed")
        guard let template = config?[configurationKey] as? String else { return nil }
        return SoftphoneHandoff(template: template)
    }

    /// The URL that asks the calling app to dial `dialString` (E.164 from the core).
    public func url(dialing dialString: String) -> URL? {
        let digits = dialString.filter { $0.isNumber || $0 == "+" }
        guard !digits.isEmpty,
              let encoded = digits.addingPercentEncoding(withAllowedCharacters: .alphanumerics)
        else { return nil }
        return URL(string: template.replacingOccurrences(of: "{number}", with: encoded))
    }
}
