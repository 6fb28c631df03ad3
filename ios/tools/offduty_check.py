#!/usr/bin/env python3
"""Checks that the iOS app's answer to an incoming call never depends on whether the number
belongs to a registered survivor (issue 11 item 9), with tree-sitter-swift:

1. No Swift under ios/ adds a Call Directory blocking or identification entry: iOS can only
   block listed numbers, so any list drawn from the caseload sends exactly the survivors'
   calls to voicemail, which tells a caller who fakes a survivor's number that the survivor
   is a client (and a label would name them on screen).
2. No Swift asks the core for its survivor-only list (`offDutyBlockList`).
3. The Call Directory extension reads nothing (no App Group, no Keychain group, no shared
   container) and completes its load, so a load replaces whatever an earlier build loaded.
4. The app clears what earlier builds loaded (`CallBlockingRetired.clear`) and the compliance
   screen tells the advocate what to do instead (`offDutyNotice`).

    offduty_check.py IOS_DIR

Prints `offduty: N passed, M failed`.
"""
import plistlib
import sys
from pathlib import Path

import tree_sitter
import tree_sitter_swift

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))

passed = 0
failed = 0


def check(cond, msg, why=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   offduty: {msg}")
    else:
        failed += 1
        print(f"FAIL offduty: {msg}" + (f" ({why})" if why else ""))


def walk(n):
    stack = [n]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(x.children))


def called_names(tree):
    """(name, line) of every call and every `.member` reference (a method passed as a value)."""
    for n in walk(tree.root_node):
        if n.type == "simple_identifier":
            yield n.text.decode(), n.start_point[0] + 1


def main():
    ios = Path(sys.argv[1])
    found = {"addBlockingEntry": [], "addIdentificationEntry": [], "offDutyBlockList": []}
    ext_reads = []
    for path in sorted(ios.rglob("*.swift")):
        tree = PARSER.parse(path.read_bytes())
        for name, line in called_names(tree):
            if name in found:
                found[name].append(f"{path.relative_to(ios)}:{line}")
            if path.parent.name == "CallDirectoryExtension" and name in (
                    "SharedContainer", "BlockListStore", "SealedFile", "Keychain", "containerURL"):
                ext_reads.append(f"{path.relative_to(ios)}:{line} {name}")
    check(not found["addBlockingEntry"],
          "no Call Directory blocking entry is added (blocking only survivors' numbers reveals who is a client)",
          ", ".join(found["addBlockingEntry"]))
    check(not found["addIdentificationEntry"],
          "no Call Directory identification entry is added (a label would name a survivor's call)",
          ", ".join(found["addIdentificationEntry"]))
    check(not found["offDutyBlockList"], "the app never asks the core for its survivor-only off-duty list",
          ", ".join(found["offDutyBlockList"]))

    handler = ios / "CallDirectoryExtension/CallDirectoryHandler.swift"
    src = handler.read_text() if handler.exists() else ""
    check("completeRequest()" in src, "the extension completes its (empty) load, replacing earlier entries")
    check(not ext_reads, "the extension reads nothing (no shared container, sealed file or Keychain)",
          ", ".join(ext_reads))
    ent = ios / "CallDirectoryExtension/CallDirectoryExtension.entitlements"
    ent_keys = sorted(plistlib.loads(ent.read_bytes())) if ent.exists() else []
    check(not ent_keys, "the extension has no entitlements", ", ".join(ent_keys))
    info = ios / "CallDirectoryExtension/Info.plist"
    info_keys = plistlib.loads(info.read_bytes()) if info.exists() else {}
    check(not any(k.startswith("Quietline") for k in info_keys), "the extension's Info.plist names no shared group",
          ", ".join(k for k in info_keys if k.startswith("Quietline")))

    app = "\n".join(p.read_text() for p in sorted((ios / "QuietlineApp").glob("*.swift")))
    check("CallBlockingRetired.clear(" in app, "the app clears what earlier builds loaded (CallBlockingRetired.clear)")
    check("Text(Self.offDutyNotice)" in app, "the compliance screen tells the advocate what to do instead")

    print(f"offduty: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
