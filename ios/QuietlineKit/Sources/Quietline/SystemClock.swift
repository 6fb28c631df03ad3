import Foundation

/// The device's clock for the agent: system time, and the current offset of the device's time
/// zone at that moment, so working hours and survivors' safe windows follow daylight-saving
/// changes and travel. The app may also leave `clock` out (the core then reads the same thing);
/// this type exists so the app and its tests pass clocks the same way.
public final class SystemClock: Clock, @unchecked Sendable {
    private let timeZone: () -> TimeZone

    public init(timeZone: @escaping () -> TimeZone = { TimeZone.current }) {
        self.timeZone = timeZone
    }

    public func now() -> Date {
        Date()
    }

    public func localOffsetSecs() -> Int32 {
        Int32(timeZone().secondsFromGMT(for: Date()))
    }
}
