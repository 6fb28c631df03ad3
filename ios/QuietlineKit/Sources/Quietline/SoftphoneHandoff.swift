import Foundation

/// The organisation's calling app (softphone), which places helpline calls over its VoIP
/// service with the helpline's number as caller ID. Quietline hands a call to it by a URL
/// template with exactly one `{number}`, such as `acmevoice://call?to={number}`.
///
/// Where IT names it, first found first used (`configured(agent:)`):
/// 1. the signed policy, `caller_id.softphone.call_uri` (`Agent.softphone()`): only the
///    organisation's root key can set or change it, and the relay cannot;
/// 2. only when the policy names none, managed app configuration (the MDM's `AppConfig`
///    dictionary, which iOS exposes to the app under `com.apple.configuration.managed`), key
///    `softphoneCallURL`.
/// Both follow the core's rules (`checkSoftphone`): a template may not use a scheme that would
/// place a plain cellular call, a FaceTime call, a text or leave for the web (`tel`, `telprompt`,
/// `facetime`, `facetime-audio`, `sms`, `http`…).
///
/// Whether that app keeps its calls out of Recents is its own CallKit setting, not Quietline's:
/// IT chooses a calling app that does. iOS opens the URL with whichever app claims the scheme
/// (the policy's `android_package` has no iOS equivalent).
public struct SoftphoneHandoff: Equatable {
    /// Where IT named the calling app.
    public enum Source: Equatable {
        /// `caller_id.softphone` in the signed policy.
        case policy
        /// `softphoneCallURL` in managed app configuration, when the policy names none.
        case managedConfiguration
    }

    /// The managed app configuration key IT sets.
    public static let configurationKey = "softphoneCallURL"

    private let settings: SoftphoneSettings
    /// Where this calling app was named.
    public let source: Source

    /// Nil unless `template` passes the core's checks (`checkSoftphone`).
    public init?(template: String, source: Source = .managedConfiguration) {
        guard let settings = try? checkSoftphone(callUri: template, androidPackage: nil) else { return nil }
        self.settings = settings
        self.source = source
    }

    /// The calling app for this phone: the signed policy's first, else managed app configuration.
    public static func configured(agent: AgentProtocol, defaults: UserDefaults = .standard) -> SoftphoneHandoff? {
        if let fromPolicy = (try? agent.softphone()) ?? nil {
            return SoftphoneHandoff(template: fromPolicy.callUri, source: .policy)
        }
        return fromManagedConfiguration(defaults)
    }

    /// The calling app IT configured through managed app configuration, if any.
    public static func fromManagedConfiguration(_ defaults: UserDefaults = .standard) -> SoftphoneHandoff? {
        let config = defaults.dictionary(forKey: "com.apple.configuration.managed")
        guard let template = config?[configurationKey] as? String else { return nil }
        return SoftphoneHandoff(template: template)
    }

    /// The URL that asks the calling app to dial `dialString` (from the core), built by the core
    /// (`softphoneCallUri`): digits, `+`, `*` and `#`, percent-encoded into the template.
    public func url(dialing dialString: String) -> URL? {
        guard let uri = softphoneCallUri(settings: settings, dialString: dialString) else { return nil }
        return URL(string: uri)
    }
}
