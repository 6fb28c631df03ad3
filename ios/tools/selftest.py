#!/usr/bin/env python3
"""Self-tests of the iOS checks: each check is run on small synthetic apps and must fail where
the wiring is dead (and pass once it is live), and the wiring check must fail on the app as it
was before issue 13 (commit 2788293) for the reasons the issue names.

    selftest.py BINDINGS_SWIFT

Prints `selftest: N passed, M failed`.
"""
import plistlib
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BEFORE_ISSUE_13 = "2788293"

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   selftest: {name}")
    else:
        failed += 1
        print(f"FAIL selftest: {name}")
        if detail:
            print("     " + detail.strip().replace("\n", "\n     ")[:3000])


APP = """import SwiftUI
@main
struct TestApp: App {
    %s
    var body: some Scene {
        WindowGroup { Text("x").onAppear { %s } }
    }
}
"""


def make_app(root: Path, members="", on_appear="", extra="", plist_keys=None, entitlements=None):
    app = root / "QuietlineApp"
    app.mkdir(parents=True)
    (app / "TestApp.swift").write_text(APP % (members, on_appear))
    if extra:
        (app / "Extra.swift").write_text(extra)
    keys = {"CFBundleIdentifier": "x"}
    keys.update(plist_keys or {})
    (app / "Info.plist").write_bytes(plistlib.dumps(keys))
    if entitlements is not None:
        (app / "QuietlineApp.entitlements").write_bytes(plistlib.dumps(entitlements))
    return root


def run(tool, *args):
    r = subprocess.run([sys.executable, str(HERE / tool), *map(str, args)], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def wiring(bindings, traits=False, **kw):
    with tempfile.TemporaryDirectory() as d:
        extra = [] if traits else ["--no-foreign-traits"]
        return run("wiring_check.py", bindings, make_app(Path(d), **kw), *extra)


def main():
    bindings = sys.argv[1]

    # Reachability: a function nothing calls fails; the one called passes.
    code, out = wiring(bindings, on_appear="Helper().used()",
                       extra="final class Helper {\n func used() {}\n func unused() {}\n}\n")
    check("a function defined but never called fails the reachability check",
          code != 0 and "Helper.unused()" in out and "Helper.used()" not in out, out)
    code, out = wiring(bindings, on_appear="Helper().used(); Helper().unused()",
                       extra="final class Helper {\n func used() {}\n func unused() {}\n}\n")
    check("the same functions, both called, pass", code == 0, out)

    # Reachability through labels: `post(receipt:)` does not reach `post(enrollment:)`.
    code, out = wiring(bindings, on_appear='R().post(receipt: "a")',
                       extra="final class R {\n func post(receipt: String) {}\n func post(enrollment: String) {}\n}\n")
    check("an overload with other argument labels is not reached by a call to its sibling",
          code != 0 and "R.post(enrollment:)" in out and "R.post(receipt:)" not in out, out)

    # A delegate callback is dead until the object registers itself.
    delegate = """import UserNotifications
final class Handler: NSObject, UNUserNotificationCenterDelegate {
    override init() { super.init() %s }
    func userNotificationCenter(_ c: UNUserNotificationCenter, didReceive r: UNNotificationResponse) async {}
}
"""
    code, out = wiring(bindings, members="let h = Handler()", extra=delegate % "")
    check("a notification-centre delegate that is never registered fails",
          code != 0 and "Handler.userNotificationCenter" in out, out)
    code, out = wiring(bindings, members="let h = Handler()",
                       extra=delegate % "; UNUserNotificationCenter.current().delegate = self")
    check("the same delegate, registered with `delegate = self`, passes", code == 0, out)

    # Dead data: assigned, never read.
    code, out = wiring(bindings, extra="final class M {\n var token: String?\n}\n",
                       on_appear='let m = M(); m.token = "t"')
    check("a stored var assigned but never read fails", code != 0 and "`token`" in out, out)
    code, out = wiring(bindings, extra="final class M {\n var token: String?\n}\n",
                       on_appear='let m = M(); m.token = "t"; print(m.token ?? "")')
    check("the same var, read, passes", code == 0, out)

    # Usage strings: the API without its string fails; a string without its request fails.
    contacts = "CNContactStore().requestAccess(for: .contacts) { _, _ in }"
    code, out = wiring(bindings, on_appear=contacts)
    check("Contacts used without NSContactsUsageDescription fails",
          code != 0 and "lacks NSContactsUsageDescription" in out, out)
    code, out = wiring(bindings, on_appear=contacts,
                       plist_keys={"NSContactsUsageDescription": "Removes contacts after calls."})
    check("Contacts with its usage string and a reachable requestAccess passes", code == 0, out)
    code, out = wiring(bindings, on_appear="_ = LAContext().canEvaluatePolicy(.deviceOwnerAuthentication, error: nil)",
                       plist_keys={"NSFaceIDUsageDescription": "Unlocks Quietline."})
    check("a Face ID usage string with no reachable evaluatePolicy fails",
          code != 0 and "`evaluatePolicy`" in out, out)
    code, out = wiring(bindings, on_appear="LAContext().evaluatePolicy(.deviceOwnerAuthentication, localizedReason: \"x\") { _, _ in }")
    check("evaluatePolicy without NSFaceIDUsageDescription fails",
          code != 0 and "lacks NSFaceIDUsageDescription" in out, out)
    code, out = wiring(bindings, on_appear="UNUserNotificationCenter.current().add(UNNotificationRequest(identifier: \"a\", content: UNMutableNotificationContent(), trigger: nil))")
    check("notifications posted without requestAuthorization fail",
          code != 0 and "requestAuthorization" in out, out)
    code, out = wiring(bindings, on_appear="UIApplication.shared.registerForRemoteNotifications()",
                       entitlements={"com.apple.security.application-groups": ["g"]})
    check("push registration without aps-environment fails", code != 0 and "aps-environment" in out, out)
    code, out = wiring(bindings, on_appear='_ = UIApplication.shared.canOpenURL(URL(string: "sip:1")!)')
    check("canOpenURL without LSApplicationQueriesSchemes fails",
          code != 0 and "LSApplicationQueriesSchemes" in out, out)

    # Foreign traits: the core's platform entry points need an implementation the app builds.
    clock = """import Quietline
final class MyClock: Clock {
    func now() -> Date { Date() }
    func localOffsetSecs() -> Int32 { 0 }
}
final class MyKeys: KeyProtector {
    func wrapKey(dataKey: Data) throws -> Data { dataKey }
    func unwrapKey(wrapped: Data) throws -> Data { wrapped }
    func destroyKey() throws {}
}
"""
    code, out = wiring(bindings, traits=True, extra=clock, on_appear="_ = MyKeys()")
    check("a foreign trait implemented but never built fails (Clock)",
          code != 0 and "foreign trait `Clock`" in out and "MyClock.now()" in out, out)
    code, out = wiring(bindings, traits=True, extra=clock, on_appear="_ = MyKeys(); _ = MyClock()")
    check("both foreign traits built: their methods are entry points and the check passes", code == 0, out)

    # The parse and name checks.
    with tempfile.TemporaryDirectory() as d:
        root = make_app(Path(d), on_appear="let x = (1")
        code, out = run("swift_check.py", bindings, root)
        check("a Swift syntax error fails the parse check", code != 0 and "FAIL parse" in out, out)
    with tempfile.TemporaryDirectory() as d:
        root = make_app(Path(d), on_appear='_ = try? Agent.opne(dir: "d", keyProtector: nil, clock: nil)')
        code, out = run("swift_check.py", bindings, root)
        check("a misspelt bindings name fails the name check", code != 0 and "`opne`" in out, out)

    with tempfile.TemporaryDirectory() as d:
        root = make_app(Path(d), extra="""import Quietline
func name(_ scope: WipeScope) -> String {
    switch scope {
    case .selective: return "selective"
    }
}
""", on_appear='_ = name(.selective)')
        code, out = run("swift_check.py", bindings, root)
        check("a switch that misses a bindings enum case fails (what swiftc would refuse)",
              code != 0 and "misses full" in out, out)

    with tempfile.TemporaryDirectory() as d:
        root = make_app(Path(d), on_appear="_ = PlatformCaps(prefixDialing: false, fullWipe: false)")
        code, out = run("swift_check.py", bindings, root)
        check("a bindings call with its argument labels out of order fails",
              code != 0 and "PlatformCaps(…) with labels (prefixDialing:fullWipe:)" in out, out)
    with tempfile.TemporaryDirectory() as d:
        root = make_app(Path(d), on_appear="_ = PlatformCaps(fullWipe: false, prefixDialing: false)")
        code, out = run("swift_check.py", bindings, root)
        check("the same call with the declared labels passes", code == 0, out)

    with tempfile.TemporaryDirectory() as d:
        root = make_app(Path(d), on_appear="var plan = defaultContactPlan(); plan.voicemailAllowed = false")
        code, out = run("swift_check.py", bindings, root)
        check("a write to an immutable bindings record field fails",
              code != 0 and "writes `voicemailAllowed`" in out, out)

    # The app as it was before issue 13: each dead wire the issue names is caught.
    with tempfile.TemporaryDirectory() as d:
        have = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{BEFORE_ISSUE_13}^{{commit}}"],
                              capture_output=True).returncode == 0
        if not have:
            print(f"skip selftest: commit {BEFORE_ISSUE_13} is not in this clone (shallow?)")
        else:
            archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE_ISSUE_13, "ios"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", d], input=archive, check=True)
            code, out = run("wiring_check.py", bindings, Path(d) / "ios")
            for what, needle in [
                ("importCaseload never called", "AppModel.importCaseload(_:)"),
                ("notification permission never requested", "Notifier.requestAuthorization()"),
                ("Contacts access never requested", "no reachable code calls `requestAccess`"),
                ("Face ID declared, evaluatePolicy never called", "no reachable code calls `evaluatePolicy`"),
                ("push token stored, never sent", "`pushToken`"),
            ]:
                check(f"the pre-issue-13 app fails the wiring check: {what}", code != 0 and needle in out, out)

    print(f"selftest: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
