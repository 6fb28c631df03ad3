#!/usr/bin/env python3
"""Checks the iOS app's wiring where no Swift compiler exists (tree-sitter-swift only):

1. Reachability: every function, initialiser and computed property the hand-written Swift
   defines is reachable from an app entry point, so a rule's code that nothing ever calls (a
   permission never requested, a caseload import no screen offers) fails instead of shipping
   dead. Entry points are the `@main` App and the extension's `NSExtensionPrincipalClass`; a
   type becomes live when reachable code names it, and then its system callbacks are entry
   points: SwiftUI `body`, the application delegate's `application(...)`, CallKit and
   notification-centre delegate methods (only once reachable code of that type registers it as
   the delegate: `delegate = self` / `setDelegate(self`), and the methods of a bindings
   protocol (`KeyProtector`, `Clock`) that the Rust core calls. Calls are resolved by name and
   argument labels (defaults and trailing closures allowed), over-approximating: a check that
   passes may miss dead code behind a shared name, but an unreached definition is surely dead.
2. Dead data: a stored `var` of a type that is assigned but never read (a push token kept
   and never sent).
3. Permissions: every permission API the Swift uses has its Info.plist usage string in the
   target that uses it, every declared usage string belongs to a request that reachable code
   makes (a Face ID string with no `evaluatePolicy` call is dead wiring), notifications are
   requested where they are posted, BGTask identifiers are listed, `canOpenURL` schemes are
   declared, and push needs `aps-environment`.

    wiring_check.py BINDINGS_SWIFT IOS_DIR

IOS_DIR has the app's layout: QuietlineApp/ (app target, Info.plist, *.entitlements),
QuietlineKit/Sources/ (linked into the app; QuietlineShared also into the extension),
CallDirectoryExtension/ (extension target).
"""
import plistlib
import re
import sys
from pathlib import Path

import tree_sitter
import tree_sitter_swift

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))

passed = 0
failed = 0


def ok(msg):
    global passed
    passed += 1
    print(f"ok   {msg}")


def fail(msg):
    global failed
    failed += 1
    print(f"FAIL {msg}")


# System callbacks by protocol or superclass: the names iOS calls on a live instance.
CALLBACKS = {
    "App": {"body"},
    "CustomStringConvertible": {"description"},
    "LocalizedError": {"errorDescription", "failureReason", "recoverySuggestion"},
    "View": {"body"},
    "Scene": {"body"},
    "UIViewControllerRepresentable": {"makeUIViewController", "updateUIViewController", "makeCoordinator"},
    "UIApplicationDelegate": {"application", "applicationDidBecomeActive", "applicationWillResignActive",
                              "applicationDidEnterBackground", "applicationWillEnterForeground"},
    "UNUserNotificationCenterDelegate": {"userNotificationCenter"},
    "CXProviderDelegate": {"provider", "providerDidReset", "providerDidBegin"},
    "CXCallObserverDelegate": {"callObserver"},
    "CXCallDirectoryProvider": {"beginRequest"},
    "CXCallDirectoryExtensionContextDelegate": {"requestFailed"},
}
# Delegates iOS calls only once the object is registered (`x.delegate = self`, `setDelegate(self`).
NEEDS_REGISTRATION = {"UNUserNotificationCenterDelegate", "CXProviderDelegate", "CXCallObserverDelegate",
                      "CXCallDirectoryExtensionContextDelegate"}

# Permission APIs: a name in the Swift -> the Info.plist key the target must carry.
USAGE_KEYS = {
    "CNContactStore": "NSContactsUsageDescription",
    "LAContext": "NSFaceIDUsageDescription",
    "CLLocationManager": "NSLocationWhenInUseUsageDescription",
    "AVCaptureDevice": "NSCameraUsageDescription",
    "requestRecordPermission": "NSMicrophoneUsageDescription",
    "AVAudioApplication": "NSMicrophoneUsageDescription",
    "PHPhotoLibrary": "NSPhotoLibraryUsageDescription",
    "EKEventStore": "NSCalendarsUsageDescription",
    "CMMotionManager": "NSMotionUsageDescription",
    "CBCentralManager": "NSBluetoothAlwaysUsageDescription",
    "NFCNDEFReaderSession": "NFCReaderUsageDescription",
}
# A declared usage string is live only if reachable code makes the request that shows it.
USAGE_REQUESTS = {
    "NSContactsUsageDescription": "requestAccess",
    "NSFaceIDUsageDescription": "evaluatePolicy",
    "NSMicrophoneUsageDescription": "requestRecordPermission",
    "NSCameraUsageDescription": "requestAccess",
    "NSLocationWhenInUseUsageDescription": "requestWhenInUseAuthorization",
}

LOCAL_SCOPES = ("function_body", "lambda_literal", "computed_property", "statements")


def text(n):
    # `$name` is SwiftUI's binding to `name`: a read of it.
    return n.text.decode().strip("`").lstrip("$")


def walk(n):
    stack = [n]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(x.children))


def is_local(n):
    p = n.parent
    while p is not None:
        if p.type in LOCAL_SCOPES:
            return True
        p = p.parent
    return False


def enclosing_type(n):
    """The name of the type (class, struct, enum, extension) a declaration sits in."""
    p = n.parent
    while p is not None:
        if p.type in ("class_declaration", "protocol_declaration"):
            for c in p.children:
                if c.type == "type_identifier":
                    return text(c)
                if c.type == "user_type":
                    return text(c.children[0])
        p = p.parent
    return None


class Def:
    """A function, initialiser or computed property: a node of the call graph."""

    def __init__(self, kind, name, params, owner, node, path):
        self.kind, self.name, self.params, self.owner, self.node, self.path = kind, name, params, owner, node, path

    @property
    def label(self):
        if self.kind == "prop":
            sig = self.name
        else:
            sig = f"{self.name}(" + "".join(f"{p[0]}:" for p in self.params) + ")"
        where = f"{self.path}:{self.node.start_point[0] + 1}"
        return f"{self.owner + '.' if self.owner else ''}{sig} ({where})"

    def accepts(self, labels, trailing):
        """Whether a call with these argument labels (None: unlabelled) and trailing closures fits."""
        if self.kind == "prop":
            return False
        i = 0
        left = trailing
        for label, has_default in self.params:
            want = None if label == "_" else label
            if i < len(labels) and labels[i] == want:
                i += 1
            elif has_default:
                continue
            elif i == len(labels) and left > 0:
                left -= 1
            else:
                return False
        return i == len(labels) and left == 0


def params_of(decl):
    out = []
    kids = decl.children
    for idx, c in enumerate(kids):
        if c.type != "parameter":
            continue
        ids = [x for x in c.children if x.type == "simple_identifier"]
        label = text(ids[0]) if ids else "_"
        has_default = idx + 1 < len(kids) and kids[idx + 1].type == "="
        out.append((label, has_default))
    return out


class Program:
    def __init__(self):
        self.defs = []
        self.types = {}          # name -> {"conforms": set, "level": [nodes], "main": bool}
        self.files = {}          # path -> tree

    def type_entry(self, name):
        return self.types.setdefault(name, {"conforms": set(), "level": [], "main": False})

    def add_file(self, path, tree):
        self.files[path] = tree
        for n in walk(tree.root_node):
            if n.type in ("class_declaration",):
                name = None
                for c in n.children:
                    if c.type == "type_identifier":
                        name = text(c)
                        break
                    if c.type == "user_type":
                        name = text(c.children[0])
                        break
                if name is None:
                    continue
                t = self.type_entry(name)
                for c in n.children:
                    if c.type == "inheritance_specifier":
                        t["conforms"].add(text(c).split("<")[0].split(".")[-1].strip())
                    if c.type == "modifiers" and "@main" in text(c):
                        t["main"] = True
                    if c.type == "attribute" and text(c) == "@main":
                        t["main"] = True
                prev = n.prev_sibling
                if prev is not None and prev.type == "attribute" and text(prev) == "@main":
                    t["main"] = True
                body = next((c for c in n.children if c.type in ("class_body", "enum_class_body")), None)
                if body is None:
                    continue
                for m in body.children:
                    if m.type == "property_declaration" and not any(c.type == "computed_property" for c in m.children):
                        t["level"].append(m)
            elif n.type == "function_declaration" and not is_local(n):
                name = next((text(c) for c in n.children if c.type == "simple_identifier"), None)
                if name is None:
                    continue
                self.defs.append(Def("func", name, params_of(n), enclosing_type(n), n, path))
            elif n.type == "init_declaration" and not is_local(n):
                self.defs.append(Def("init", "init", params_of(n), enclosing_type(n), n, path))
            elif n.type == "property_declaration" and not is_local(n):
                cp = next((c for c in n.children if c.type == "computed_property"), None)
                if cp is None:
                    continue
                pat = next((c for c in n.children if c.type == "pattern"), None)
                if pat is None:
                    continue
                self.defs.append(Def("prop", text(pat), [], enclosing_type(n), n, path))


def call_shape(call):
    """(callee name, receiver node or None, labels, trailing closures) of a call_expression."""
    head = call.children[0]
    receiver = None
    if head.type == "simple_identifier":
        name = text(head)
    elif head.type == "navigation_expression":
        suffix = head.children[-1]
        ids = [c for c in suffix.children if c.type == "simple_identifier"]
        if not ids:
            return None
        name = text(ids[-1])
        receiver = head.children[0]
    elif head.type == "prefix_expression":
        ids = [c for c in head.children if c.type == "simple_identifier"]
        if not ids:
            return None
        name = text(ids[-1])
    else:
        return None
    labels, trailing = [], 0
    for c in call.children[1:]:
        if c.type != "call_suffix":
            continue
        for a in c.children:
            if a.type == "value_arguments":
                if a.children and a.children[0].type == "[":
                    return None  # a subscript
                for v in a.children:
                    if v.type == "value_argument":
                        lab = next((x for x in v.children if x.type == "value_argument_label"), None)
                        labels.append(text(lab) if lab is not None else None)
            elif a.type == "lambda_literal":
                trailing += 1
    return name, receiver, labels, trailing


def reachability(prog, roots_types):
    """Returns (reached defs, reached types, reachable call names)."""
    by_name = {}
    for d in prog.defs:
        by_name.setdefault(d.name, []).append(d)
    reached, reached_types, called_names = set(), set(), set()
    registered = set()  # types that registered themselves as a delegate
    work = []

    def reach_def(d):
        if id(d) not in reached:
            reached.add(id(d))
            work.append(("def", d))

    def reach_type(name):
        if name in prog.types and name not in reached_types:
            reached_types.add(name)
            work.append(("type", name))

    def callbacks_of(tname):
        t = prog.types[tname]
        for proto in t["conforms"]:
            names = CALLBACKS.get(proto, set()) | prog.bindings_protocols.get(proto, set())
            if proto in NEEDS_REGISTRATION and tname not in registered:
                continue
            for d in prog.defs:
                if d.owner == tname and d.name in names:
                    reach_def(d)

    def scan(node, owner):
        for n in walk(node):
            if n.type == "call_expression":
                shape = call_shape(n)
                if shape is None:
                    continue
                name, receiver, labels, trailing = shape
                called_names.add(name)
                if name == "setDelegate" and labels and labels[0] is None:
                    args = n.children[1]
                    if "self" in text(args).split(",")[0] and owner:
                        registered.add(owner)
                        if owner in reached_types:
                            callbacks_of(owner)
                if name[:1].isupper() and receiver is None:
                    reach_type(name)
                    for d in by_name.get("init", []):
                        if d.owner == name and d.accepts(labels, trailing):
                            reach_def(d)
                    continue
                if name == "init":
                    for d in by_name.get("init", []):
                        if d.accepts(labels, trailing):
                            reach_def(d)
                    continue
                for d in by_name.get(name, []):
                    if d.accepts(labels, trailing):
                        reach_def(d)
            elif n.type == "assignment":
                lhs = text(n.children[0])
                rhs = text(n.children[-1])
                if lhs.endswith(".delegate") and rhs == "self" and owner:
                    registered.add(owner)
                    if owner in reached_types:
                        callbacks_of(owner)
            elif n.type == "simple_identifier":
                name = text(n)
                if name[:1].isupper():
                    reach_type(name)
                p = n.parent
                if p is not None and p.type in ("function_declaration", "parameter", "pattern",
                                                  "value_argument_label", "protocol_function_declaration"):
                    continue  # a declaration's own name, a parameter or a label: not a reference
                in_call_head = p is not None and p.type == "call_expression" and p.children[0] == n
                if p is not None and p.type == "navigation_suffix":
                    gp = p.parent
                    in_call_head = (gp is not None and gp.parent is not None and gp.parent.type == "call_expression"
                                    and gp.parent.children[0] == gp)
                if not in_call_head:
                    # A reference, not a call: a computed property, or a function passed as a value.
                    for d in by_name.get(name, []):
                        if d.kind == "prop" or d.kind == "func":
                            reach_def(d)

    for t in roots_types:
        reach_type(t)
    while work:
        kind, item = work.pop()
        if kind == "type":
            for node in prog.types[item]["level"]:
                scan(node, item)
            callbacks_of(item)
        else:
            scan(item.node, item.owner)
    return reached, reached_types, called_names


def dead_vars(prog):
    """Stored `var`s of a type that are assigned but never read."""
    out = []
    declared = {}
    for path, tree in prog.files.items():
        for n in walk(tree.root_node):
            if n.type == "property_declaration" and not is_local(n):
                if any(c.type == "computed_property" for c in n.children):
                    continue
                vb = next((c for c in n.children if c.type == "value_binding_pattern"), None)
                pat = next((c for c in n.children if c.type == "pattern"), None)
                if vb is None or pat is None or text(vb) != "var":
                    continue
                declared.setdefault(text(pat), (path, n.start_point[0] + 1))
    assigned, read = set(), set()
    for tree in prog.files.values():
        for n in walk(tree.root_node):
            if n.type != "simple_identifier":
                continue
            name = text(n)
            if name not in declared:
                continue
            p = n.parent
            if p is not None and p.type == "pattern" and p.parent is not None and p.parent.type == "property_declaration":
                continue
            # The last name of an assignment's target is written, not read.
            target = None
            q = n
            while q is not None and q.type not in ("directly_assignable_expression", "statements", "function_body"):
                q = q.parent
            if q is not None and q.type == "directly_assignable_expression":
                last = [x for x in walk(q) if x.type == "simple_identifier"]
                target = last[-1] if last else None
            if target is not None and target == n and q.parent.type == "assignment" and \
                    any(c.type == "=" for c in q.parent.children):
                assigned.add(name)
            else:
                read.add(name)
    for name, where in sorted(declared.items()):
        if name in assigned and name not in read:
            out.append((name, where))
    return out


def plist(path):
    try:
        return plistlib.load(open(path, "rb"))
    except (OSError, plistlib.InvalidFileException, ValueError):
        return {}


def target_of(path: Path, ios: Path):
    rel = path.relative_to(ios).parts
    if rel[0] == "CallDirectoryExtension":
        return ["extension"]
    if rel[0] == "QuietlineKit" and "QuietlineShared" in rel:
        return ["app", "extension"]
    return ["app"]


def permissions(prog, ios, reached, called_names):
    app_plist = plist(ios / "QuietlineApp" / "Info.plist")
    ext_plist = plist(ios / "CallDirectoryExtension" / "Info.plist")
    ents = {}
    for e in (ios / "QuietlineApp").glob("*.entitlements"):
        ents[e.name] = plist(e)
    plists = {"app": app_plist, "extension": ext_plist}
    reached_nodes = [d for d in prog.defs if id(d) in reached]
    reached_text = "\n".join(d.node.text.decode() for d in reached_nodes)
    used_any = {}
    for path, tree in prog.files.items():
        ids = {text(n) for n in walk(tree.root_node) if n.type in ("simple_identifier", "type_identifier")}
        for api, key in USAGE_KEYS.items():
            if api in ids:
                for t in target_of(path, ios):
                    used_any.setdefault((t, key), set()).add(f"{api} in {path}")
    for (t, key), where in sorted(used_any.items()):
        value = plists[t].get(key)
        if isinstance(value, str) and value.strip() and "$(" not in value:
            ok(f"{t} Info.plist has {key} ({', '.join(sorted(where))})")
        else:
            fail(f"{t} Info.plist lacks {key}, needed by {', '.join(sorted(where))}")
    for t, pl in plists.items():
        for key, request in USAGE_REQUESTS.items():
            if key in pl:
                if request in called_names and re.search(rf"\b{request}\b", reached_text):
                    ok(f"{t}: {key} is shown by a reachable `{request}` call")
                else:
                    fail(f"{t} declares {key} but no reachable code calls `{request}`: the permission is never asked")
    # Notifications need no usage string, but posting without ever asking fails every notice.
    if "UNNotificationRequest" in reached_text or "UNMutableNotificationContent" in reached_text:
        if "requestAuthorization" in called_names and re.search(r"\brequestAuthorization\b", reached_text):
            ok("notifications are requested (requestAuthorization) by reachable code")
        else:
            fail("notifications are posted but reachable code never calls requestAuthorization")
    # Background tasks: every identifier registered or requested is listed.
    listed = set(app_plist.get("BGTaskSchedulerPermittedIdentifiers") or [])
    all_src = "\n".join(t.root_node.text.decode() for t in prog.files.values())
    if "BGTaskScheduler" in all_src:
        ids = set(re.findall(r'refreshTaskID\s*=\s*"([^"]+)"', all_src)) | \
            set(re.findall(r'forTaskWithIdentifier:\s*"([^"]+)"', all_src))
        missing = sorted(i for i in ids if i not in listed)
        if ids and not missing:
            ok(f"BGTask identifiers listed in Info.plist: {', '.join(sorted(ids))}")
        else:
            fail(f"BGTask identifiers not in BGTaskSchedulerPermittedIdentifiers: {missing or 'none found'}")
        if "BGAppRefreshTask" in all_src and "fetch" not in (app_plist.get("UIBackgroundModes") or []):
            fail("BGAppRefreshTask used without UIBackgroundModes fetch")
    if "didReceiveRemoteNotification" in all_src:
        if "remote-notification" in (app_plist.get("UIBackgroundModes") or []):
            ok("silent pushes: UIBackgroundModes remote-notification")
        else:
            fail("didReceiveRemoteNotification without UIBackgroundModes remote-notification")
    if "registerForRemoteNotifications" in all_src:
        missing = [n for n, e in ents.items() if "aps-environment" not in e]
        if ents and not missing:
            ok("push: every app entitlements file has aps-environment")
        else:
            fail(f"push registered but aps-environment missing in {missing or 'no entitlements file'}")
    if re.search(r"\bcanOpenURL\b", all_src):
        if app_plist.get("LSApplicationQueriesSchemes"):
            ok("canOpenURL: LSApplicationQueriesSchemes declared")
        else:
            fail("canOpenURL is used but Info.plist has no LSApplicationQueriesSchemes (iOS answers false)")


def bindings_protocols(path):
    out = {}
    if path is None or not Path(path).exists():
        return out
    src = re.sub(rb"@_documentation\(visibility: private\)", b"", Path(path).read_bytes())
    tree = PARSER.parse(src)
    for n in walk(tree.root_node):
        if n.type == "protocol_declaration":
            name = next((text(c) for c in n.children if c.type == "type_identifier"), None)
            if name is None:
                continue
            funcs = {text(c) for m in walk(n) if m.type == "protocol_function_declaration"
                     for c in m.children if c.type == "simple_identifier"}
            out[name] = funcs
    return out


def foreign_traits(path):
    """The bindings' foreign traits: protocols the Rust core calls back (UniFFI generates a
    `UniffiCallbackInterface<Name>` vtable for each)."""
    if path is None or not Path(path).exists():
        return []
    return sorted(set(re.findall(r"struct UniffiCallbackInterface(\w+)", Path(path).read_text())))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    check_traits = "--no-foreign-traits" not in sys.argv
    bindings = args[0] if args[0] != "-" else None
    ios = Path(args[1])
    prog = Program()
    prog.bindings_protocols = bindings_protocols(bindings)
    files = sorted(p for p in ios.rglob("*.swift") if p.name != "Quietline.swift" and ".build" not in p.parts)
    for f in files:
        prog.add_file(f, PARSER.parse(f.read_bytes()))

    roots = [name for name, t in prog.types.items() if t["main"]]
    principal = plist(ios / "CallDirectoryExtension" / "Info.plist").get("NSExtension", {}).get("NSExtensionPrincipalClass")
    if principal:
        roots.append(principal.split(".")[-1])
    if not roots:
        fail("no entry point found (@main type or NSExtensionPrincipalClass)")
    reached, reached_types, called_names = reachability(prog, roots)
    dead = [d for d in prog.defs if id(d) not in reached]
    for d in dead:
        fail(f"{d.label} is defined but never reached from an app entry point")
    if not dead:
        ok(f"reachability: all {len(prog.defs)} functions, initialisers and computed properties are reached "
           f"from the entry points ({', '.join(sorted(roots))})")
    # Every platform entry point the core calls (a foreign trait) has an implementation the app
    # actually builds; otherwise the core runs with its fallback (or cannot open at all).
    for trait in (foreign_traits(bindings) if check_traits else []):
        impls = sorted(t for t, v in prog.types.items() if trait in v["conforms"])
        live = [t for t in impls if t in reached_types]
        if live:
            ok(f"foreign trait `{trait}` is implemented and built: {', '.join(live)}")
        else:
            fail(f"foreign trait `{trait}` has no implementation the app builds (implemented by: {impls or 'none'})")
    for name, (path, line) in dead_vars(prog):
        fail(f"`{name}` ({path}:{line}) is assigned but never read: dead data")
    if not dead_vars(prog):
        ok("every stored var that is assigned is also read")
    permissions(prog, ios, reached, called_names)
    print(f"wiring: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
