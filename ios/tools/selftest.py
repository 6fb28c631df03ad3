#!/usr/bin/env python3
"""Self-tests of the iOS checks: each check is run on small synthetic apps and must fail where
the wiring is dead (and pass once it is live), and the wiring check must fail on the app as it
was before issue 13 (commit 2788293) for the reasons the issue names.

    selftest.py BINDINGS_SWIFT

Prints `selftest: N passed, M failed`.
"""
import plistlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BEFORE_ISSUE_13 = "2788293"
# main before the iOS client moved to docs/relay-protocol.md (wave 3).
BEFORE_RELAY = "9a56ae3"

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


RELAY = "QuietlineKit/Sources/Quietline/Relay.swift"
INBOX = "QuietlineKit/Sources/Quietline/CommandInbox.swift"
WIPES = "QuietlineKit/Sources/Quietline/WipeFinisher.swift"


def relay_mutant(edits, doc_extra=""):
    """Runs relay_check.py on a copy of this ios/ tree with `edits` [(file, old, new)] applied
    (each `old` must occur, so a mutation that no longer applies fails loudly), and on a copy of
    the protocol doc with `doc_extra` appended."""
    with tempfile.TemporaryDirectory() as d:
        ios = Path(d) / "ios"
        shutil.copytree(REPO / "ios", ios, ignore=shutil.ignore_patterns("*.xcframework", ".build"))
        for rel, old, new in edits:
            f = ios / rel
            src = f.read_text()
            if old not in src:
                return 2, f"mutation does not apply: {old!r} not in {rel}"
            f.write_text(src.replace(old, new, 1))
        doc = Path(d) / "relay-protocol.md"
        doc.write_text((REPO / "docs/relay-protocol.md").read_text() + doc_extra)
        return run("relay_check.py", ios, doc)


def relay_selftests():
    code, out = relay_mutant([])
    check("relay: this tree passes the relay check", code == 0, out)
    for what, edits, needle, extra in [
        ("GET /queue sent as POST fails (wrong method)",
         [(RELAY, 'exchange("GET", "/queue"', 'exchange("POST", "/queue"')] * 2,
         "FAIL relay: Relay.swift requests `GET /queue`", ""),
        ("a check-in that is never sent fails (endpoint missing)",
         [(RELAY, '"/checkin"', '"/check-in"')], "FAIL relay: Relay.swift requests `POST /checkin`", ""),
        ("GET /queue sent unsigned fails",
         [(RELAY, '"/queue", signed: true', '"/queue", signed: false')],
         "FAIL relay: `GET /queue` is sent with signed: true", ""),
        ("a receipt sent signed fails (a wipe's receipt has no key left to sign with)",
         [(RELAY, 'contentType: Self.textPlain, signed: false) else {\n            return .failed\n        }\n        switch answer.status {\n        case 200, 201: return .stored\n        case 400',
           'contentType: Self.textPlain, signed: true) else {\n            return .failed\n        }\n        switch answer.status {\n        case 200, 201: return .stored\n        case 400')],
         "FAIL relay: `POST /receipts` is sent with signed: false", ""),
        ("the Authorization header never set fails",
         [(RELAY, 'request.setValue(header, forHTTPHeaderField: "Authorization")', '_ = header')],
         "FAIL relay: authorize: the core's header is set as `Authorization`", ""),
        ("a header signed for another endpoint fails",
         [(RELAY, "relayAuthorization(method: method, endpoint: endpoint, body: body)",
           'relayAuthorization(method: method, endpoint: "/queue", body: body)')],
         "FAIL relay: authorize: the header is the core's relayAuthorization", ""),
        ("a request built outside RelayClient.exchange fails",
         [(INBOX, "    private func checkIn(", "    private func side() { _ = URLRequest(url: URL(fileURLWithPath: \"/\")) }\n\n    private func checkIn(")],
         "CommandInbox.swift", ""),
        ("the old relative path \"receipts\" fails",
         [(RELAY, 'exchange("POST", "/receipts"', 'exchange("POST", "/receipts" + String("receipts".prefix(0))')],
         "uses the relative path \"receipts\"", ""),
        ("a poll reported to the core as a check-in fails",
         [(INBOX, "        await registerPushToken()\n        return applied",
           "        _ = try? await executor.withAgent { try agent.handle(event: .checkIn) }\n        await registerPushToken()\n        return applied")],
         "FAIL relay: a poll is never a check-in", ""),
        ("a check-in sent before the receipts fails (the doc's order)",
         [(INBOX, "            await deliverReceipts()\n", ""),
          (INBOX, "            if await checkIn(answering: challenge) != .conflict { break }\n",
           "            if await checkIn(answering: challenge) != .conflict { break }\n            await deliverReceipts()\n")],
         "FAIL relay: a poll goes:", ""),
        ("the app erasing its data before the wipe receipt is posted fails",
         [(WIPES, "        guard claim() else { return }\n", "        guard claim() else { return }\n        try? appData.wipeOwnData()\n")],
         "FAIL relay: a wipe's receipt goes to POST /receipts before", ""),
        ("the challenge read from another header fails",
         [(RELAY, 'answer.header("QL-Challenge")', 'answer.header("X-Challenge")')],
         "FAIL relay: GET /queue reads the answer headers the doc names", ""),
        ("the poll session used for POST /checkin fails",
         [(RELAY, 'exchange("POST", "/checkin", body: body, contentType: Self.textPlain, signed: true)',
           'exchange("POST", "/checkin", body: body, contentType: Self.textPlain, signed: true, pollSession: keptPollSession())')],
         "FAIL relay: only GET /queue requests are sent with the poll session", ""),
        ("authorize without its GET /queue guard for sessions fails",
         [(RELAY, '            guard method == "GET", endpoint == "/queue" else { throw URLError(.userAuthenticationRequired) }\n', "")],
         "FAIL relay: authorize: a session signs GET /queue only", ""),
        ("the poll session saved in UserDefaults fails",
         [(RELAY, "        pollSession = value\n", '        pollSession = value\n        UserDefaults.standard.set(value, forKey: "relay-session")\n')],
         "FAIL relay: Relay.swift writes nothing to files, UserDefaults or the Keychain and logs nothing", ""),
        ("the poll session written to a file fails",
         [(RELAY, "        pollSession = value\n", '        pollSession = value\n        try? Data(value.utf8).write(to: URL(fileURLWithPath: NSTemporaryDirectory() + "s"))\n')],
         "FAIL relay: Relay.swift writes nothing to files", ""),
        ("the poll session put in the Keychain fails",
         [(RELAY, "        pollSession = value\n", "        pollSession = value\n        _ = SecItemAdd([kSecValueData: Data(value.utf8)] as CFDictionary, nil)\n")],
         "SecItemAdd (the Keychain)", ""),
        ("the poll session logged fails",
         [(RELAY, "        pollSession = value\n", '        pollSession = value\n        print("session \\(value)")\n')],
         "print (a log)", ""),
        ("the poll session readable outside RelayClient fails",
         [(RELAY, "    private var pollSession: String?", "    public var pollSession: String?")],
         "FAIL relay: the poll session is one private stored property", ""),
        ("the poll session handed to another file fails",
         [(INBOX, "    private func checkIn(", "    private var pollSessionCopy: String?\n\n    private func checkIn(")],
         "FAIL relay: no Swift outside Relay.swift names the poll session", ""),
        ("a session's 401 answer returned without the device-key fallback fails",
         [(RELAY, "answer.status != 401 {", "answer.status != 0 {")],
         "FAIL relay: a 401 to the poll session drops it", ""),
        ("a refused session kept (never dropped) fails",
         [(RELAY, "            dropPollSession(kept)\n", "")],
         "FAIL relay: a 401 to the poll session drops it", ""),
        ("a session re-signed at the relay's time instead of dropped fails",
         [(RELAY, "if signed, pollSession == nil, answer.status == 401,", "if signed, answer.status == 401,")],
         "FAIL relay: the clock-skew re-sign after a 401 is for QL-Device only", ""),
        ("a QL-Session taken from any answer fails",
         [(RELAY, 'if answer.status == 200, let issued = answer.header("QL-Session")', 'if let issued = answer.header("QL-Session")')],
         "FAIL relay: QL-Session is kept only from a 200", ""),
        ("an expiring session used without relaySessionValid fails",
         [(RELAY, "            if relaySessionValid(session: kept),\n", "            if true,\n")],
         "FAIL relay: a 401 to the poll session drops it", ""),
        ("an endpoint the doc adds for phones and the client does not use fails",
         [], "FAIL relay: Relay.swift requests `GET /policy`", "\n### `GET /policy` (a test-only heading)\n"),
    ]:
        code, out = relay_mutant(edits, extra)
        check(f"relay mutant: {what}", code == 1 and needle in out, out)
    # The client as it was before the relay protocol (main at 9a56ae3) fails for the old paths.
    with tempfile.TemporaryDirectory() as d:
        have = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{BEFORE_RELAY}^{{commit}}"],
                              capture_output=True).returncode == 0
        if not have:
            print(f"skip selftest: commit {BEFORE_RELAY} is not in this clone (shallow?)")
            return
        archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE_RELAY, "ios"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", d], input=archive, check=True)
        code, out = run("relay_check.py", Path(d) / "ios", REPO / "docs/relay-protocol.md")
        for what, needle in [
            ("polls GET <relay>, not GET /queue", "FAIL relay: Relay.swift requests `GET /queue`"),
            ("never checks in", "FAIL relay: Relay.swift requests `POST /checkin`"),
            ("builds unsigned requests outside the one door", "builds a URLRequest"),
            ("a poll was a check-in", "FAIL relay: a poll is never a check-in"),
        ]:
            check(f"the pre-protocol client fails the relay check: {what}", code != 0 and needle in out, out)


def offduty_selftests():
    """The off-duty check on this tree, on mutants that bring survivor-only blocking back, and
    on the app as it was before (main at 9a56ae3, which blocked registered survivors only)."""
    def mutant(rel, old, new):
        with tempfile.TemporaryDirectory() as d:
            ios = Path(d) / "ios"
            shutil.copytree(REPO / "ios", ios, ignore=shutil.ignore_patterns("*.xcframework", ".build"))
            if rel:
                f = ios / rel
                src = f.read_text()
                if old not in src:
                    return 2, f"mutation does not apply: {old!r} not in {rel}"
                f.write_text(src.replace(old, new, 1))
            return run("offduty_check.py", ios)
    code, out = mutant(None, "", "")
    check("offduty: this tree passes the off-duty check", code == 0, out)
    handler = "CallDirectoryExtension/CallDirectoryHandler.swift"
    for what, rel, old, new, needle in [
        ("a blocking entry in the extension fails", handler, "        context.completeRequest()",
         "        context.addBlockingEntry(withNextSequentialPhoneNumber: 15551234567)\n        context.completeRequest()",
         "FAIL offduty: no Call Directory blocking entry"),
        ("an identification entry in the extension fails", handler, "        context.completeRequest()",
         "        context.addIdentificationEntry(withNextSequentialPhoneNumber: 15551234567, label: \"x\")\n        context.completeRequest()",
         "FAIL offduty: no Call Directory identification entry"),
        ("asking the core for its survivor-only list fails", "QuietlineKit/Sources/Quietline/CallBlockingRetired.swift",
         "        try? appData.eraseRetiredBlockList()",
         "        try? appData.eraseRetiredBlockList()\n        let list = try? agent.offDutyBlockList(numbers: [])",
         "FAIL offduty: the app never asks the core"),
    ]:
        code, out = mutant(rel, old, new)
        check(f"offduty mutant: {what}", code == 1 and needle in out, out)
    with tempfile.TemporaryDirectory() as d:
        have = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{BEFORE_RELAY}^{{commit}}"],
                              capture_output=True).returncode == 0
        if not have:
            print(f"skip selftest: commit {BEFORE_RELAY} is not in this clone (shallow?)")
            return
        archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE_RELAY, "ios"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", d], input=archive, check=True)
        code, out = run("offduty_check.py", Path(d) / "ios")
        for what, needle in [
            ("it blocked survivors' numbers after hours", "FAIL offduty: no Call Directory blocking entry"),
            ("it asked the core for the survivor-only list", "FAIL offduty: the app never asks the core"),
        ]:
            check(f"the app before issue 11 item 9 fails the off-duty check: {what}", code != 0 and needle in out, out)


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

    relay_selftests()
    offduty_selftests()

    print(f"selftest: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
