import CallKit
import Foundation

/// Why Quietline on iOS blocks no incoming number, and the clean-up of builds that did.
///
/// Off duty, the policy may send survivors' calls to voicemail. Android asks the core about each
/// ringing call; iOS gives an app no per-call decision over cellular calls: a Call Directory
/// extension can only load numbers to block ahead of time, and a blocked number is refused
/// without being shown (`addBlockingEntry(withNextSequentialPhoneNumber:)`). Earlier builds
/// loaded the registered survivors' numbers after hours, so a survivor's number went to
/// voicemail while every other number rang: anyone who fakes a survivor's caller ID could
/// learn whether that survivor is a client (issue 11 item 9). A list can never hold "every
/// number", and an app cannot turn on a Focus (Do Not Disturb), which silences every caller
/// alike: it can only read whether one is on (`INFocusStatusCenter`) or react to one
/// (`SetFocusFilterIntent`). So no survivor-only blocking is done at all: how a call is
/// answered never depends on whether its number is registered. The advocate is told instead
/// (the compliance screen) to schedule a Focus for off-duty hours or turn the phone off, as the
/// core's `OffDutyPowerOff` reminder says, and docs/platforms.md says the same to IT.
///
/// Builds that blocked also kept the numbers (sealed) and CallKit held its own copy. At every
/// start the app erases its sealed copies and reloads the extension, which now loads nothing:
/// a complete load replaces every entry loaded before, so CallKit drops the numbers too.
public enum CallBlockingRetired {
    /// Erases the retired block list and its candidates, then asks CallKit to reload the
    /// extension (an error means the extension is turned off, when CallKit uses none of its
    /// entries; it loads nothing when turned on again).
    public static func clear(appData: AppData, extensionID: String) async {
        try? appData.eraseRetiredBlockList()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            CXCallDirectoryManager.sharedInstance.reloadExtension(withIdentifier: extensionID) { _ in
                continuation.resume()
            }
        }
    }
}
