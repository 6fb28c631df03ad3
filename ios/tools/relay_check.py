#!/usr/bin/env python3
"""Checks the iOS relay client against docs/relay-protocol.md where no Swift compiler exists
(tree-sitter-swift only):

1. Endpoints: every phone endpoint the protocol doc lists (its `### `METHOD /path`` headings)
   is requested by Relay.swift with that method, and Relay.swift requests nothing else (the old
   `GET <relay>` poll and relative paths are gone).
2. Authentication: every request the doc does not exempt ("Every request except … carries")
   is sent with `signed: true`, the exempt ones with `signed: false`; a signed request gets
   its `Authorization` header from the core's `relayAuthorization(method:endpoint:body:)` (or
   `relayAuthorizationAt`, after a `401`) over the same method, endpoint and body it sends.
3. One door: no other Swift in ios/ builds a URLRequest, talks to URLSession or sets
   `Authorization`.
4. The poll, in the doc's order: the enrollment response, `GET /queue` with every line to the
   core, receipts, then `POST /checkin` with `statusReport(challenge:)` answering this poll's
   `QL-Challenge`; a poll is never a check-in (no `.checkIn` event); the background refresh
   and a push both poll; a wipe's receipt goes out before the app erases its data; a receipt
   leaves the core's queue only once the relay stored it.
5. Poll sessions: the `QL-Session` the relay issues is kept only from a `200` to a
   `QL-Device`-signed `GET /queue` and only while `relaySessionValid`; it authenticates
   `GET /queue` and nothing else (the core's `relaySessionAuthorization`, in `authorize` behind a
   GET /queue guard); it lives in one private stored property of RelayClient and nowhere else
   (no other Swift file names it; Relay.swift calls no file, UserDefaults, Keychain or logging
   API, and RelayClient is not serializable); a `401` to a session drops it and the request goes
   once more with `QL-Device` (the clock-skew re-sign is for `QL-Device` only).

    relay_check.py IOS_DIR PROTOCOL_MD

Prints `relay: N passed, M failed`.
"""
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
    print(f"ok   relay: {msg}")


def fail(msg):
    global failed
    failed += 1
    print(f"FAIL relay: {msg}")


def check(cond, msg, why=""):
    if cond:
        ok(msg)
    else:
        fail(msg + (f" ({why})" if why else ""))


def walk(n):
    stack = [n]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(x.children))


def text(n):
    return n.text.decode()


def squash(s):
    """Whitespace-insensitive text, for comparing code shapes."""
    return re.sub(r"\s+", " ", s).strip()


PAIR = re.compile(r"`(GET|POST|PUT|DELETE) (/[a-z0-9/_-]+)`")


def doc_endpoints(doc: str):
    """(every phone endpoint from the headings, the endpoints exempt from `Authorization`)."""
    listed = []
    for line in doc.splitlines():
        if line.startswith("### "):
            listed += PAIR.findall(line)
    m = re.search(r"Every request except (.+?) carries", doc, re.S)
    exempt = set(PAIR.findall(m.group(1))) if m else set()
    return listed, exempt


def functions(tree):
    """name -> [function_declaration nodes]"""
    out = {}
    for n in walk(tree.root_node):
        if n.type == "function_declaration":
            name = next((text(c) for c in n.children if c.type == "simple_identifier"), None)
            if name:
                out.setdefault(name, []).append(n)
    return out


def callee(call):
    head = call.children[0]
    if head.type == "simple_identifier":
        return text(head)
    if head.type == "navigation_expression":
        ids = [c for c in head.children[-1].children if c.type == "simple_identifier"]
        return text(ids[-1]) if ids else None
    return None


def arguments(call):
    """[(label or None, value text)] of a call."""
    out = []
    for c in call.children[1:]:
        if c.type != "call_suffix":
            continue
        for a in c.children:
            if a.type != "value_arguments":
                continue
            for v in a.children:
                if v.type != "value_argument":
                    continue
                lab = next((x for x in v.children if x.type == "value_argument_label"), None)
                val = [x for x in v.children if x.type not in ("value_argument_label", ":")]
                out.append((text(lab) if lab is not None else None, "".join(text(x) for x in val)))
    return out


def calls(node, name=None):
    for n in walk(node):
        if n.type == "call_expression" and (name is None or callee(n) == name):
            yield n


def code(n):
    """A node's text without its comments, whitespace squashed."""
    src = n.text
    cuts = sorted((c.start_byte - n.start_byte, c.end_byte - n.start_byte)
                  for c in walk(n) if c.type in ("comment", "multiline_comment"))
    out, at = [], 0
    for a, b in cuts:
        if a >= at:
            out.append(src[at:a])
            at = b
    out.append(src[at:])
    return squash(b" ".join(out).decode())


def enclosing_function(n):
    fn = n.parent
    while fn is not None and fn.type != "function_declaration":
        fn = fn.parent
    return next((text(c) for c in fn.children if c.type == "simple_identifier"), None) if fn else None


def body_of(fn):
    return next((c for c in fn.children if c.type == "function_body"), None)


PERSIST_OR_LOG = {
    "UserDefaults": "UserDefaults", "NSUbiquitousKeyValueStore": "iCloud key-value store",
    "Keychain": "the Keychain", "SecItemAdd": "the Keychain", "SecItemUpdate": "the Keychain",
    "FileManager": "files", "NSKeyedArchiver": "an archive", "JSONEncoder": "an encoder", "PropertyListEncoder": "an encoder",
    "print": "a log", "debugPrint": "a log", "dump": "a log", "NSLog": "a log", "os_log": "a log",
    "Logger": "a log", "OSLog": "a log",
}


def sessions(ios, relay_path, relay_tree, fns):
    """5: the poll session (docs/relay-protocol.md): only GET /queue, memory only, 401 fallback."""
    # Only GET /queue: the core's session header is made in `authorize` alone, behind a guard
    # for GET /queue, and only `exchange` hands it a session, for `GET /queue` requests only.
    makers = [f"{enclosing_function(c)}:{c.start_point[0] + 1}" for c in calls(relay_tree.root_node, "relaySessionAuthorization")]
    check(makers and all(m.startswith("authorize:") for m in makers),
          "the QL-Session header is made (relaySessionAuthorization) only in authorize", ", ".join(makers) or "never made")
    au = fns.get("authorize", [])
    check(len(au) == 1 and re.search(
        r'if let pollSession \{ guard method == "GET", endpoint == "/queue" else \{ throw [^{}]*\} '
        r'header = try relaySessionAuthorization\(session: pollSession, method: method, endpoint: endpoint, body: body\) \}',
        code(au[0])), "authorize: a session signs GET /queue only (guarded), over the request's own method, endpoint and body")
    wrong = []
    for call in calls(relay_tree.root_node, "exchange"):
        args = arguments(call)
        labels = dict((k, v) for k, v in args if k)
        if "pollSession" in labels and [a[1] for a in args[:2]] != ['"GET"', '"/queue"']:
            wrong.append(squash(text(call))[:100])
    for call in calls(relay_tree.root_node, "authorize"):
        labels = dict((k, v) for k, v in arguments(call) if k)
        if "pollSession" in labels and (enclosing_function(call) != "exchange" or labels["pollSession"] != "pollSession"):
            wrong.append(squash(text(call))[:100])
    check(not wrong, "only GET /queue requests are sent with the poll session", "; ".join(wrong))
    # Issued only by a device-signed 200, and only a session the core calls valid is kept.
    qa = fns.get("queueAnswer", [])
    qa_src = code(qa[0]) if len(qa) == 1 else ""
    q = fns.get("queue", [])
    check(len(q) == 1 and "await queueAnswer()" in code(q[0]) and
          all(enclosing_function(c) == "queueAnswer" for c in calls(relay_tree.root_node, "exchange")
              if [a[1] for a in arguments(c)[:2]] == ['"GET"', '"/queue"']),
          "GET /queue goes only through queueAnswer (session first, then the device key)")
    readers = [enclosing_function(n) for n in walk(relay_tree.root_node)
               if n.type == "line_string_literal" and text(n).strip('"') == "QL-Session"]
    check(readers == ["queueAnswer"] and re.search(
        r'guard let answer = await exchange\("GET", "/queue", signed: true\) else \{ return nil \} '
        r'if answer\.status == 200, let issued = answer\.header\("QL-Session"\), relaySessionValid\(session: issued\) '
        r'\{ keepPollSession\(issued\) \}', qa_src),
          "QL-Session is kept only from a 200 to a device-signed GET /queue, and only when relaySessionValid",
          f"read in {readers}")
    # The 401 fallback: a refused (or unusable) session is dropped and the request is sent once
    # more signed by the device key; a session's 401 is not re-signed at the relay's time.
    check(re.search(
        r'if let kept = keptPollSession\(\) \{ if relaySessionValid\(session: kept\), '
        r'let answer = await exchange\("GET", "/queue", signed: true, pollSession: kept\), answer\.status != 401 \{ '
        r'return answer \} dropPollSession\(kept\) \} guard let answer = await exchange\("GET", "/queue", signed: true\)',
        qa_src), "a 401 to the poll session drops it and GET /queue is sent once more with QL-Device")
    ex = fns.get("exchange", [])
    check(len(ex) == 1 and "if signed, pollSession == nil, answer.status == 401," in code(ex[0]),
          "the clock-skew re-sign after a 401 is for QL-Device only (a refused session goes back to the fallback)")
    # Memory only: one private, non-static stored property; no other file names the session;
    # Relay.swift persists and logs nothing; RelayClient cannot be serialized.
    props = [n for n in walk(relay_tree.root_node) if n.type == "property_declaration"
             and re.search(r"\bvar pollSession\b", text(n))]
    check(len(props) == 1 and re.match(r"private var pollSession: String\?$", squash(text(props[0]))),
          "the poll session is one private stored property (in memory, for the client's life)",
          "; ".join(squash(text(p)) for p in props) or "none found")
    stored = [f"{enclosing_function(n)}" for n in walk(relay_tree.root_node)
              if n.type == "assignment" and re.match(r"(self\.)?pollSession\b", text(n.children[0]))]
    check(stored and set(stored) <= {"keepPollSession", "dropPollSession"},
          "the property is set only by keepPollSession/dropPollSession", ", ".join(map(str, stored)))
    elsewhere = []
    for path in sorted(ios.rglob("*.swift")):
        if path == relay_path:
            continue
        src = path.read_text()
        if re.search(r"QL-Session|[pP]ollSession|relaySessionAuthorization", src):
            elsewhere.append(str(path.relative_to(ios)))
    check(not elsewhere, "no Swift outside Relay.swift names the poll session", ", ".join(elsewhere))
    leaks = []
    for n in walk(relay_tree.root_node):
        if n.type in ("simple_identifier", "type_identifier") and text(n) in PERSIST_OR_LOG:
            leaks.append(f"Relay.swift:{n.start_point[0] + 1} {text(n)} ({PERSIST_OR_LOG[text(n)]})")
        elif n.type == "call_expression" and callee(n) in ("write", "createFile", "archivedData"):
            leaks.append(f"Relay.swift:{n.start_point[0] + 1} {callee(n)}(…) (files)")
    check(not leaks, "Relay.swift writes nothing to files, UserDefaults or the Keychain and logs nothing",
          "; ".join(leaks))
    cls = next((n for n in walk(relay_tree.root_node) if n.type == "class_declaration" and "class RelayClient" in text(n)), None)
    head = text(cls).split("{", 1)[0] if cls is not None else ""
    check(cls is not None and not re.search(r"Codable|Encodable|NSCoding|NSSecureCoding", head),
          "RelayClient is not serializable (Codable/NSCoding)", head.strip())


def main():
    ios, doc_path = Path(sys.argv[1]), Path(sys.argv[2])
    kit = ios / "QuietlineKit/Sources/Quietline"
    relay_path, inbox_path, wipes_path = kit / "Relay.swift", kit / "CommandInbox.swift", kit / "WipeFinisher.swift"
    listed, exempt = doc_endpoints(doc_path.read_text())
    check(len(listed) >= 5 and exempt, f"the protocol doc lists {len(listed)} phone endpoints, "
          f"{len(exempt)} without Authorization", "cannot read docs/relay-protocol.md")

    relay_tree = PARSER.parse(relay_path.read_bytes())
    relay_src = relay_path.read_text()
    fns = functions(relay_tree)

    # 1 and 2: the endpoints Relay.swift requests, their methods and whether they are signed.
    used = {}
    for call in calls(relay_tree.root_node, "exchange"):
        args = arguments(call)
        if len(args) < 2 or args[0][0] is not None or args[1][0] is not None:
            fail(f"an `exchange` call without a literal method and endpoint: {squash(text(call))[:120]}")
            continue
        method, endpoint = args[0][1].strip('"'), args[1][1].strip('"')
        signed = dict((k, v) for k, v in args if k).get("signed")
        used.setdefault((method, endpoint), []).append(signed)
    for method, endpoint in listed:
        check((method, endpoint) in used, f"Relay.swift requests `{method} {endpoint}`",
              "the doc lists it; " + (", ".join(f"{m} {e}" for m, e in used if e == endpoint)
                                      or "no request to it at all"))
    for (method, endpoint), signs in sorted(used.items()):
        if (method, endpoint) not in listed:
            fail(f"Relay.swift requests `{method} {endpoint}`, which the protocol doc does not list for phones")
            continue
        want = "false" if (method, endpoint) in exempt else "true"
        check(all(s == want for s in signs), f"`{method} {endpoint}` is sent with signed: {want}",
              f"found signed: {', '.join(str(s) for s in signs)}")

    # The queue answer: the headers the doc's `GET /queue` section names are read, and only
    # `QL:` lines go to the core.
    doc = doc_path.read_text()
    sect = doc[doc.find("### `GET /queue`"):]
    sect = sect[:sect.find("\n### ", 1)]
    headers = sorted(set(re.findall(r"^\| `(QL-[A-Za-z-]+)` \|", sect, re.M)))
    qfn = fns.get("queue", []) + fns.get("queueAnswer", [])
    qsrc = " ".join(squash(text(f)) for f in qfn)
    check(headers and all(f'answer.header("{h}")' in qsrc for h in headers),
          f"GET /queue reads the answer headers the doc names ({', '.join(headers) or 'none found'})")
    check('.filter { $0.hasPrefix("QL:") }' in qsrc, "GET /queue hands only `QL:` lines on")

    # The one place a request is built: the endpoint it is sent to is the one it is signed for.
    ex = fns.get("exchange", [])
    check(len(ex) == 1, "Relay.swift has one `exchange` function, the only place a request is built")
    if ex:
        src = squash(text(ex[0]))
        for what, shape in [
            ("the URL is the relay URL plus the endpoint",
             r"URLRequest\(url: url\.appendingPathComponent\(String\(endpoint\.dropFirst\(\)\)\)\)"),
            ("the HTTP method is the one signed", r"request\.httpMethod = method\b"),
            ("the body sent is the one signed", r"request\.httpBody = body\b"),
            ("a signed request is authorized before it is sent",
             r"if signed \{ try authorize\(&request, method: method, endpoint: endpoint, body: body, at: nil"
             r"(, pollSession: pollSession)?\) \}"),
        ]:
            check(re.search(shape, src), f"exchange: {what}")
        check("httpBody" not in src.replace("request.httpBody = body", ""), "exchange: the body is set once")
    for call in calls(relay_tree.root_node, "authorize"):
        args = squash(", ".join(f"{k + ': ' if k else ''}{v}" for k, v in arguments(call)))
        check(args.startswith("&request, method: method, endpoint: endpoint, body: body"),
              "every authorize(…) call signs the request's own method, endpoint and body", args)
    au = fns.get("authorize", [])
    check(len(au) == 1, "Relay.swift has one `authorize` function")
    if au:
        src = squash(text(au[0]))
        check(re.search(r"header = try agent\.relayAuthorization\(method: method, endpoint: endpoint, body: body\)", src),
              "authorize: the header is the core's relayAuthorization(method:endpoint:body:)")
        check(re.search(r"header = try agent\.relayAuthorizationAt\(method: method, endpoint: endpoint, body: body, "
                        r"unixSeconds: time\)", src),
              "authorize: after a 401 the header is relayAuthorizationAt(…, unixSeconds:) at the relay's time")
        check(re.search(r'request\.setValue\(header, forHTTPHeaderField: "Authorization"\)', src),
              "authorize: the core's header is set as `Authorization`")
        check(not re.search(r"header = (?!try agent\.relayAuthorization|try relaySessionAuthorization\(session: pollSession,)", src),
              "authorize: the header has no other source")

    # 3: one door for every request in the app.
    doors = []
    for path in sorted(ios.rglob("*.swift")):
        tree = PARSER.parse(path.read_bytes())
        here = functions(tree)
        allowed = {"exchange", "authorize", "send"} if path == relay_path else set()
        for n in walk(tree.root_node):
            t = None
            if n.type == "call_expression":
                name = callee(n)
                if name == "URLRequest":
                    t = "builds a URLRequest"
                elif name in ("data", "dataTask", "upload", "download", "bytes") and \
                        any(k == "for" or k == "with" or k == "from" for k, _ in arguments(n)):
                    t = f"calls URLSession.{name}"
            elif n.type == "line_string_literal" and text(n).strip('"') == "Authorization":
                t = "names the Authorization header"
            elif n.type == "line_string_literal" and text(n).strip('"') in (
                    "queue", "receipts", "enrollments", "checkin", "push-token"):
                t = f"uses the relative path {text(n)} (the old client's)"
            if t is None:
                continue
            fn = n.parent
            while fn is not None and fn.type != "function_declaration":
                fn = fn.parent
            name = next((text(c) for c in fn.children if c.type == "simple_identifier"), None) if fn else None
            allowed_here = name in allowed and not t.startswith("uses the relative path")
            if t == "builds a URLRequest" and name != "exchange":
                allowed_here = False
            if t == "names the Authorization header" and name != "authorize":
                allowed_here = False
            if t.startswith("calls URLSession") and name != "send":
                allowed_here = False
            if not allowed_here:
                doors.append(f"{path.relative_to(ios)}:{n.start_point[0] + 1} {t}")
        del here
    check(not doors, "no Swift outside RelayClient.exchange/authorize/send builds a request, talks to URLSession "
          "or sets Authorization; no old relative relay path is left", "; ".join(doors))

    # 4: the poll.
    inbox_tree = PARSER.parse(inbox_path.read_bytes())
    ifns = functions(inbox_tree)
    pc = ifns.get("pollCounting", [])
    check(len(pc) == 1, "CommandInbox has one pollCounting (the poll)")
    if pc:
        src = squash(text(pc[0]))
        order = [("the enrollment response (beforePoll)", "await beforePoll()"),
                 ("GET /queue", "await relay.queue()"),
                 ("every line to the core", "await apply(line)"),
                 ("receipts", "await deliverReceipts()"),
                 ("the check-in", "await checkIn(answering: challenge)")]
        pos = [src.find(s) for _, s in order]
        check(all(p >= 0 for p in pos) and pos == sorted(pos),
              "a poll goes: " + ", then ".join(w for w, _ in order),
              "; ".join(f"{w}: {'missing' if p < 0 else p}" for (w, _), p in zip(order, pos)))
        check(re.search(r"for line in queue\.lines\b", src), "every QL: line of the queue goes to the core")
        check(re.search(r"let challenge = queue\.challenge\b", src),
              "the check-in answers the challenge of this poll's GET /queue")
    ci = ifns.get("checkIn", [])
    check(len(ci) == 1 and re.search(r"agent\.statusReport\(challenge: challenge\)", squash(text(ci[0])))
          and "relay.checkIn(report: report)" in squash(text(ci[0])),
          "POST /checkin carries the core's statusReport(challenge:) for that challenge")
    ap = ifns.get("apply", [])
    check(len(ap) == 1 and all(f"agent.{f}(text: text)" in squash(text(ap[0]))
                              for f in ("applyCommand", "installSignedPolicy", "applyRootRotation")),
          "each line is offered to applyCommand, installSignedPolicy and applyRootRotation")
    dl = ifns.get("deliver", [])
    check(len(dl) == 1 and re.search(r"case \.stored: _ = try\? await executor\.withAgent \{ try agent\.receiptDelivered",
                                      squash(text(dl[0]))),
          "a receipt leaves the core's queue (receiptDelivered) only once the relay stored it")
    run = ifns.get("run", [])
    check(len(run) == 1 and "BGAppRefreshTask" in text(run[0]) and "await poll()" in text(run[0]),
          "the background refresh (BGAppRefreshTask) polls the relay")
    hp = ifns.get("handlePush", [])
    check(len(hp) == 1 and "await pollCounting()" in text(hp[0]) and "userInfo" not in text(hp[0]),
          "a push only triggers a poll")
    checkins = []
    for path in sorted(ios.rglob("*.swift")):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.checkIn\b(?!\()", line) and not line.strip().startswith("//"):
                checkins.append(f"{path.relative_to(ios)}:{i}")
    check(not checkins, "a poll is never a check-in: the app never reports `.checkIn` to the core",
          ", ".join(checkins))

    wipes_tree = PARSER.parse(wipes_path.read_bytes())
    fin = functions(wipes_tree).get("finish", [])
    if fin:
        src = squash(text(fin[0]))
        post, erase = src.find("relay.post(receipt:"), src.find("wipeOwnData()")
        check(0 <= post < erase, "a wipe's receipt goes to POST /receipts before the app erases its data",
              f"post at {post}, erase at {erase}")
    else:
        fail("WipeFinisher.finish not found")

    sessions(ios, relay_path, relay_tree, fns)

    del relay_src
    print(f"relay: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
