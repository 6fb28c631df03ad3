#!/usr/bin/env python3
"""Checks the iOS Swift where no Swift compiler exists: every file parses, and every name the
hand-written Swift uses is declared somewhere known (the generated bindings, the hand-written
Swift itself, or the Apple/Swift names in platform-names.txt), so a renamed binding API fails.

    swift_check.py BINDINGS_SWIFT IOS_DIR

Parsing uses tree-sitter-swift. Two rewrites are applied to the *generated* bindings only,
because the grammar lacks them (both are valid Swift that swiftc accepts):
  - UniFFI's `@_documentation(visibility: private)` attribute is removed;
  - `let writeReturn = { () }` (a closure returning the empty tuple) becomes `{ }`, the same
    `() -> ()` closure; the grammar reports `{ () }` as an ERROR.
Hand-written Swift is parsed exactly as written.
"""
import re
import sys
from pathlib import Path

import tree_sitter
import tree_sitter_swift

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
GENERATED_NAME = "Quietline.swift"
HERE = Path(__file__).resolve().parent

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


def normalise_generated(src: bytes):
    src, n_attr = re.subn(rb"@_documentation\(visibility: private\)", b"", src)
    src, n_void = re.subn(rb"(let writeReturn = )\{ \(\) \}", rb"\1{ }", src)
    return src, n_attr, n_void


def bad_nodes(tree):
    out = []
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing:
            out.append(n)
        elif n.has_error:
            stack.extend(n.children)
    return out


def parse(path: Path, src: bytes, label: str):
    tree = PARSER.parse(src)
    bad = bad_nodes(tree)
    if bad:
        for n in bad[:5]:
            kind = "MISSING" if n.is_missing else "ERROR"
            row, col = n.start_point
            text = src[n.start_byte:n.end_byte][:60].decode(errors="replace")
            print(f"     {kind} at {path}:{row + 1}:{col + 1}: {text!r}")
        fail(f"parse {label} ({len(bad)} error nodes)")
    else:
        ok(f"parse {label}")
    return tree


def _walk(n):
    """Every node under `n`, in source order."""
    stack = [n]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(x.children))


def text(n):
    return n.text.decode().strip("`")


DECL_PARENTS = {
    "class_declaration", "protocol_declaration", "function_declaration",
    "protocol_function_declaration", "enum_entry", "enum_type_parameters", "parameter",
    "typealias_declaration", "protocol_property_declaration", "init_declaration",
    "type_parameter",
}


def is_local(n):
    """Whether a declaration sits inside a function, initialiser, accessor or closure body."""
    p = n.parent
    while p is not None:
        if p.type in ("function_body", "lambda_literal", "computed_property", "statements"):
            return True
        p = p.parent
    return False


def is_subscript(call):
    """`query[key]` parses as a call whose arguments are in brackets: a subscript, not a call."""
    for c in call.children:
        if c.type == "call_suffix":
            for a in c.children:
                if a.type == "value_arguments":
                    return a.children[0].type == "[" if a.children else False
    return False


def declared_names(tree):
    """Names a file declares: types, functions, enum cases and their labels, parameters,
    properties, generic type parameters."""
    names = set()
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type in ("simple_identifier", "type_identifier"):
            p = n.parent
            if p is None:
                continue
            if p.type in DECL_PARENTS:
                names.add(text(n))
            elif (p.type == "pattern" and p.parent is not None and p.parent.type == "property_declaration"
                  and not is_local(p.parent)):
                # A stored or computed property; a local `let` must not hide a bindings name.
                names.add(text(n))
    return names


def used_names(tree):
    """Names the file uses that must be declared somewhere: type references, member accesses,
    implicit members (`.helpline`), enum case patterns, argument labels, called free functions
    and initialisers, and types named before a `.`."""
    names = set()
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type == "type_identifier" and n.parent is not None and n.parent.type == "user_type":
            names.add(text(n))
        elif (n.type == "call_expression" and n.children and n.children[0].type == "simple_identifier"
              and not is_subscript(n)):
            # A free function or an initialiser: `takeWipeReceipt(dir:)`, `PlatformCaps(…)`.
            names.add(text(n.children[0]))
        elif (n.type == "navigation_expression" and n.children and n.children[0].type == "simple_identifier"
              and text(n.children[0])[:1].isupper()):
            # A type's static member: `Agent.open`, `ApiError.Wiped`.
            names.add(text(n.children[0]))
            for c in n.named_children[1:]:
                if c.type == "navigation_suffix":
                    names.update(text(x) for x in c.named_children if x.type == "simple_identifier")
        elif n.type == "navigation_suffix":
            for c in n.named_children:
                if c.type == "simple_identifier":
                    names.add(text(c))
        elif n.type == "value_argument_label":
            for c in n.named_children:
                if c.type == "simple_identifier":
                    names.add(text(c))
        elif n.type in ("prefix_expression", "pattern"):
            # `.name` : a simple_identifier right after a "." token.
            prev = None
            for c in n.children:
                if c.type == "simple_identifier" and prev is not None and prev.type == ".":
                    names.add(text(c))
                prev = c
    return names


def enum_cases(tree):
    """Enums a file declares: name -> set of case names."""
    out = {}
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type != "class_declaration" or not any(c.type == "enum" for c in n.children):
            continue
        name = next((text(c) for c in n.children if c.type == "type_identifier"), None)
        body = next((c for c in n.children if c.type == "enum_class_body"), None)
        if name is None or body is None:
            continue
        cases = set()
        for entry in body.children:
            if entry.type == "enum_entry":
                cases.update(text(c) for c in entry.children if c.type == "simple_identifier")
        out[name] = cases
    return out


def switch_gaps(tree, enums):
    """Switches without `default` over an enum (known by its case names) that miss some of its
    cases: what swiftc would refuse as non-exhaustive. Yields (line, enum, missing)."""
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type != "switch_statement":
            continue
        used, has_default = set(), False
        for entry in n.children:
            if entry.type != "switch_entry":
                continue
            if any(c.type == "default_keyword" or c.text == b"default" for c in entry.children):
                has_default = True
            for sp in entry.children:
                if sp.type != "switch_pattern":
                    continue
                for pat in sp.children:
                    if pat.type != "pattern":
                        continue
                    kids = [c for c in pat.children if c.type != "value_binding_pattern"]
                    if len(kids) >= 2 and kids[0].type == "." and kids[1].type == "simple_identifier":
                        used.add(text(kids[1]))
        if has_default or not used:
            continue
        candidates = [e for e, cases in enums.items() if used <= cases]
        if len(candidates) != 1:
            continue
        missing = enums[candidates[0]] - used
        if missing:
            yield n.start_point[0] + 1, candidates[0], sorted(missing)


def bindings_signatures(tree):
    """Callables the bindings declare, by name: (owner type, [(label, has_default)]) for
    functions, initialisers and enum cases with associated values."""
    from wiring_check import enclosing_type, is_local, params_of
    out = {}
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type in ("function_declaration", "protocol_function_declaration") and not is_local(n):
            name = next((text(c) for c in n.children if c.type == "simple_identifier"), None)
            if name:
                out.setdefault(name, []).append((enclosing_type(n), params_of(n)))
        elif n.type == "init_declaration" and not is_local(n):
            out.setdefault("init", []).append((enclosing_type(n), params_of(n)))
        elif n.type == "enum_entry":
            name = next((text(c) for c in n.children if c.type == "simple_identifier"), None)
            tp = next((c for c in n.children if c.type == "enum_type_parameters"), None)
            if name and tp is not None:
                kids = tp.children
                labels = [text(k) for i, k in enumerate(kids) if k.type == "simple_identifier"
                          and i + 1 < len(kids) and kids[i + 1].type == ":"]
                out.setdefault(name, []).append((enclosing_type(n), [(l, False) for l in labels]))
    return out


def accepts(params, labels, trailing):
    from wiring_check import Def
    return Def("func", "", params, None, None, None).accepts(labels, trailing)


def signature_gaps(tree, sigs, binding_types, own_functions):
    """Calls into the bindings whose argument labels no bindings declaration accepts: a call on
    `agent` or on a bindings type (`Agent.open(…)`, `Event.posture(…)`), an implicit member
    (`.outgoingCall(…)`), a bindings initialiser (`PlatformCaps(…)`) or free function. Names the
    hand-written Swift declares itself are left to swiftc."""
    from wiring_check import call_shape
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type != "call_expression":
            continue
        shape = call_shape(n)
        if shape is None:
            continue
        name, receiver, labels, trailing = shape
        head = n.children[0]
        if name[:1].isupper() and receiver is None:
            if name not in binding_types or name in own_functions:
                continue
            candidates = [p for owner, p in sigs.get("init", []) if owner == name]
            what = f"{name}(…)"
        else:
            if name in own_functions or name not in sigs or name == "init":
                continue
            recv = text(receiver) if receiver is not None else None
            implicit = head.type == "prefix_expression"
            if recv is not None and recv not in ("agent", "self.agent") and recv not in binding_types:
                continue
            if recv is None and not implicit and head.type != "simple_identifier":
                continue
            candidates = [p for owner, p in sigs[name]
                          if recv is None or recv in ("agent", "self.agent") or owner == recv]
            what = f"{recv + '.' if recv else ('.' if implicit else '')}{name}(…)"
        if not candidates:
            continue
        if not any(accepts(p, labels, trailing) for p in candidates):
            shown = "".join(f"{l or '_'}:" for l in labels)
            yield n.start_point[0] + 1, what, shown


def record_fields(tree):
    """Stored `let` fields of the bindings' records (`generate_immutable_records = true`)."""
    fields = set()
    for n in _walk(tree.root_node):
        if n.type != "class_declaration" or not any(c.type == "struct" for c in n.children):
            continue
        body = next((c for c in n.children if c.type == "class_body"), None)
        if body is None:
            continue
        for m in body.children:
            if m.type != "property_declaration":
                continue
            vb = next((c for c in m.children if c.type == "value_binding_pattern"), None)
            pat = next((c for c in m.children if c.type == "pattern"), None)
            if vb is not None and pat is not None and text(vb) == "let":
                fields.add(text(pat))
    return fields


def own_vars(tree):
    out = set()
    for n in _walk(tree.root_node):
        if n.type == "property_declaration":
            vb = next((c for c in n.children if c.type == "value_binding_pattern"), None)
            pat = next((c for c in n.children if c.type == "pattern"), None)
            if vb is not None and pat is not None and text(vb) == "var":
                out.add(text(pat))
    return out


def record_mutations(tree, fields, mutable):
    """Writes to an immutable bindings record field: `x.field = …`, or a SwiftUI binding to one
    (`$x.field`). Yields (line, field)."""
    for n in _walk(tree.root_node):
        if n.type == "assignment":
            lhs = n.children[0]
            nav = lhs.children[0] if lhs.children else None
            if nav is None or nav.type != "navigation_expression" or nav.children[-1].type != "navigation_suffix":
                continue  # a plain name or a subscript: not a record field
            if nav.children[0].type == "self_expression":
                continue  # `self.x = …`: a type initialising its own stored property
            ids = [x for x in nav.children[-1].children if x.type == "simple_identifier"]
            if ids and text(ids[-1]) in fields and text(ids[-1]) not in mutable:
                yield n.start_point[0] + 1, text(ids[-1])
        elif n.type == "navigation_expression" and n.children and n.children[0].type == "simple_identifier" \
                and n.children[0].text.decode().startswith("$"):
            ids = [x for x in _walk(n.children[-1]) if x.type == "simple_identifier"]
            if ids and text(ids[-1]) in fields and text(ids[-1]) not in mutable:
                yield n.start_point[0] + 1, text(ids[-1])


def main():
    bindings = Path(sys.argv[1])
    ios = Path(sys.argv[2])

    src, n_attr, n_void = normalise_generated(bindings.read_bytes())
    print(f"     generated bindings: removed {n_attr} @_documentation attributes, rewrote {n_void} `{{ () }}` closures")
    btree = parse(bindings, src, f"generated {bindings.name}")
    binding_names = declared_names(btree)

    files = sorted(p for p in ios.rglob("*.swift") if p.name != GENERATED_NAME and ".build" not in p.parts)
    own_declared = set()
    uses = {}
    trees = {}
    enums = enum_cases(btree)
    for f in files:
        tree = parse(f, f.read_bytes(), str(f))
        trees[f] = tree
        own_declared |= declared_names(tree)
        enums.update(enum_cases(tree))
        for name in used_names(tree):
            uses.setdefault(name, []).append(f)

    # Exhaustive switches: swiftc refuses a switch that misses an enum case; no swiftc here, so
    # a new case in the bindings (an action the app does not carry out) fails this check.
    switches = 0
    for f, tree in trees.items():
        for line, enum, missing in switch_gaps(tree, enums):
            fail(f"switch over `{enum}` at {f}:{line} misses {', '.join(missing)}")
        switches += 1
    ok(f"switches without default cover every case of their enum ({switches} files)")

    # Argument labels of calls into the bindings: each call must fit one declaration.
    sigs = bindings_signatures(btree)
    binding_types = set(enum_cases(btree)) | {
        text(c) for c in _walk(btree.root_node)
        if c.type == "type_identifier" and c.parent is not None
        and c.parent.type in ("class_declaration", "protocol_declaration")
    }
    own_functions = set()
    for tree in trees.values():
        for c in _walk(tree.root_node):
            if c.type in ("function_declaration", "protocol_function_declaration"):
                own_functions.update(text(x) for x in c.children if x.type == "simple_identifier")
            elif c.type in ("class_declaration", "protocol_declaration"):
                own_functions.update(text(x) for x in c.children if x.type == "type_identifier")
            elif c.type == "enum_entry":
                own_functions.update(text(x) for x in c.children if x.type == "simple_identifier")
    calls_checked = 0
    for f, tree in trees.items():
        for line, what, labels in signature_gaps(tree, sigs, binding_types, own_functions):
            fail(f"{f}:{line}: {what} with labels ({labels}) matches no declaration in the bindings")
        calls_checked += 1
    ok(f"calls into the bindings use declared argument labels ({calls_checked} files)")

    # The bindings' records are immutable: a write to one of their fields does not compile.
    fields = record_fields(btree)
    mutable = set()
    for tree in trees.values():
        mutable |= own_vars(tree)
    writes = 0
    for f, tree in trees.items():
        for line, field in record_mutations(tree, fields, mutable):
            writes += 1
            fail(f"{f}:{line}: writes `{field}`, a field of an immutable bindings record (build a new value)")
    if writes == 0:
        ok(f"no writes to immutable bindings record fields ({len(fields)} fields)")

    platform = set()
    for line in (HERE / "platform-names.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            platform.update(line.split())

    from_bindings = sorted(n for n in uses if n in binding_names and n not in own_declared)
    for name in from_bindings:
        ok(f"bindings declare `{name}`")
    unknown = sorted(n for n in uses if n not in binding_names and n not in own_declared and n not in platform)
    for name in unknown:
        where = ", ".join(sorted({str(p) for p in uses[name]}))
        fail(f"`{name}` is declared neither by the bindings, nor by ios/ Swift, nor in platform-names.txt (used in {where})")
    stale = sorted(n for n in platform if n in binding_names)
    for name in stale:
        fail(f"`{name}` is in platform-names.txt but is a bindings name: remove it there so it is checked")

    print(f"swift: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
