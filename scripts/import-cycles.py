#!/usr/bin/env python3
"""Fails when the files of a Rust crate import each other in a loop.

Usage: import-cycles.py SRC_DIR...     check each crate source directory (e.g. core/src)
       import-cycles.py --self-test    prove on tiny synthetic crates that a loop is caught

A file is a module: lib.rs/main.rs the crate root, a.rs or a/mod.rs `crate::a`, a/b.rs
`crate::a::b`. An arrow A -> B means A names something of B: a `use` path or an inline path
that starts with `crate::`, `super::`, `self::` or a child module of A. A path is resolved to
the longest module that exists; inline `mod x { ... }` blocks (tests) belong to their file, so
`use super::*` in a test module points at its own file. `mod x;` declarations are containment,
not imports, and are not arrows. Any strongly connected set of two or more files is a loop:
each is printed with the names that tie it, and the exit status is 1.
"""

import os
import re
import sys
import tempfile

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text):
    """Blanks comments, string and char literals (keeping offsets and newlines)."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and (i == 0 or not re.match(r"\w", text[i - 1])):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            j = n if end < 0 else end + 1 + len(hashes)
            blank(i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            blank(i, j + 1)
            i = j + 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{..}'), not a lifetime ('a).
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                blank(i, i + len(m.group(0)))
                i += len(m.group(0))
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def module_files(src):
    """Maps module paths (tuples) to files, for every .rs file under src."""
    mods = {}
    has_lib = os.path.exists(os.path.join(src, "lib.rs"))
    for root, dirs, files in os.walk(src):
        if os.path.relpath(root, src) == ".":
            # src/bin/*.rs are crates of their own.
            dirs[:] = [d for d in dirs if d != "bin"]
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)
            if rel == "main.rs" and has_lib:
                # A binary beside a library is a crate of its own that uses the library by name.
                continue
            parts = rel[:-3].split(os.sep)
            if parts[-1] == "mod":
                parts = parts[:-1]
            elif len(parts) == 1 and parts[0] in ("lib", "main"):
                parts = []
            mods[tuple(parts)] = rel
    return mods


def inline_mods(code):
    """Spans of inline `mod name { ... }` blocks: (start, end, name)."""
    spans = []
    for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{", code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        spans.append((m.start(), j, m.group(1)))
    return spans


def expand_use(tree):
    """Expands a use tree (`a::{b, c::{self, D}}`) into paths (lists of segments)."""
    tree = re.sub(r"\s+as\s+(" + IDENT + ")", r"@\1", tree)
    tree = re.sub(r"\s+", "", tree)

    def split_top(s):
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += {"{": 1, "}": -1}.get(ch, 0)
            cur += ch
        if cur:
            parts.append(cur)
        return parts

    def walk(prefix, s):
        if not s:
            return [prefix] if prefix else []
        i = s.find("{")
        if i < 0:
            segs = [x for x in s.split("::") if x]
            return [prefix + [x for x in segs if x != "self"]]
        head = [x for x in s[:i].split("::") if x]
        inner = s[i + 1 : s.rfind("}")]
        paths = []
        for part in split_top(inner):
            paths.extend(walk(prefix + head, part))
        return paths

    return walk([], tree)


def plain(path):
    """A use path without its `as` renaming."""
    return [seg.split("@")[0] for seg in path]


def references(code):
    """Yields (offset, segments) for every path that may name another file."""
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        for path in expand_use(m.group(1)):
            yield m.start(), plain(path)
    used = {m.start(1) for m in re.finditer(r"\buse\s+([^;]+);", code)}
    for m in re.finditer(r"(?<![:\w])((?:" + IDENT + r"::)+" + IDENT + r"|(?:" + IDENT + r"::)+\{)", code):
        if any(a <= m.start() <= a + 1 for a in used):
            continue
        yield m.start(), [x for x in m.group(1).rstrip("{").split("::") if x]


def resolve(segs, here, mods):
    """The module a path names, as a module tuple, or None when it is outside the crate."""
    if not segs:
        return None
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    elif segs[0] in ("super", "self"):
        base, rest = here, segs
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    elif here + (segs[0],) in mods:
        base, rest = here, segs
    else:
        return None
    target = base
    for s in rest:
        if target + (s,) in mods or any(k[: len(target) + 1] == target + (s,) for k in mods):
            target = target + (s,)
        else:
            break
    return target, rest[len(target) - len(base) :]


def reexports(mod, code, mods):
    """Names a module hands on with `pub use`: {(module, name): (module, name)}."""
    out = {}
    for m in re.finditer(r"\bpub(?:\s*\([^)]*\))?\s+use\s+([^;]+);", code):
        for path in expand_use(m.group(1)):
            if not path or path[-1] == "*":
                continue
            exported = path[-1].split("@")[-1]
            r = resolve(plain(path), mod, mods)
            if r and r[1]:
                out[(mod, exported)] = (r[0], r[1][0])
    return out


def graph(src):
    """Arrows between files of one crate: {file: {file: set(names)}}. A name handed on with
    `pub use` is followed to the file that defines it (a crate root that only re-exports is
    not a hub every file points at)."""
    mods = module_files(src)
    edges = {f: {} for f in mods.values()}
    codes, handed_on = {}, {}
    for mod, rel in mods.items():
        with open(os.path.join(src, rel), encoding="utf-8") as fh:
            codes[mod] = strip(fh.read())
        handed_on.update(reexports(mod, codes[mod], mods))
    for mod, rel in mods.items():
        code = codes[mod]
        spans = inline_mods(code)
        for off, segs in references(code):
            here = mod + tuple(name for a, b, name in spans if a < off < b)
            r = resolve(segs, here, mods)
            if r is None:
                continue
            target, names = r
            for _ in range(16):
                if not names or (target, names[0]) not in handed_on or here == target:
                    break
                target, first = handed_on[(target, names[0])]
                names = [first] + list(names[1:])
            while target not in mods and target:
                target = target[:-1]
            to = mods.get(target)
            if to is None or to == rel:
                continue
            edges[rel].setdefault(to, set()).add(names[0] if names else "(module)")
    return edges


def cycles(edges):
    """Strongly connected sets of two or more files (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def check(src):
    """Prints the loops of one crate; returns how many there are."""
    edges = graph(src)
    found = cycles(edges)
    for comp in found:
        print(f"LOOP in {src}: " + ", ".join(comp))
        for a in comp:
            for b, names in sorted(edges[a].items()):
                if b in comp:
                    print(f"  {a} -> {b}: {', '.join(sorted(names))}")
    arrows = sum(len(v) for v in edges.values())
    if not found:
        print(f"ok: {src}: {len(edges)} files, {arrows} arrows, no import loop")
    return len(found)


def write_tree(root, files):
    for rel, text in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as fh:
            fh.write(text)


def self_test():
    """A loop through `crate::` and one through `super::` are caught, and so is a crate root that
    a child imports from; test modules, comments, strings, `mod` declarations, names the root
    only re-exports and a folder's children naming their parent are not loops."""
    clean = {
        "lib.rs": "mod a;\nmod b;\nmod c;\nmod room;\npub use a::A;\n// use crate::b::Z; in a comment\n"
        "pub fn run() { c::go() }\n",
        "c.rs": "use crate::A;\npub fn go() {}\n",
        "a.rs": 'use crate::b::{self, B};\npub struct A;\nconst S: &str = "crate::lib::x";\n'
        "#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::a::A;\n}\n",
        "b.rs": "pub struct B;\npub fn f() -> char { '{' }\n",
        "room/mod.rs": "mod inner;\npub struct Desk;\n",
        "room/inner.rs": "use super::Desk;\nuse crate::b::B;\n",
    }
    looped = dict(clean)
    looped["b.rs"] = "use crate::a::A;\npub struct B;\n"
    looped_super = dict(clean)
    looped_super["room/mod.rs"] = "mod inner;\npub struct Desk;\nuse self::inner::Thing;\n"
    looped_super["room/inner.rs"] = "use super::Desk;\npub struct Thing;\n"
    root_defines = dict(clean)
    root_defines["lib.rs"] += "pub struct Out;\n"
    root_defines["c.rs"] = "use crate::{Out, A};\npub fn go() {}\n"
    nested = dict(clean)
    nested["b.rs"] = "use crate::{room::{self as r, Desk}, a::{A}};\npub struct B;\n"
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, files, want in [
            ("clean", clean, 0),
            ("crate:: loop", looped, 1),
            ("super:: loop", looped_super, 1),
            ("nested use tree loop", nested, 1),
            ("crate root defines what a child uses", root_defines, 1),
        ]:
            root = os.path.join(tmp, name.replace(" ", "_").replace(":", ""))
            write_tree(root, files)
            got = len(cycles(graph(root)))
            print(f"self-test {name}: {got} loop(s), expected {want}")
            if got != want:
                failures.append(name)
    if failures:
        print("SELF-TEST FAILED: " + ", ".join(failures))
        return 1
    print("self-test ok: loops are caught, non-loops are not")
    return 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if not argv:
        print(__doc__)
        return 2
    loops = sum(check(src) for src in argv)
    return 1 if loops else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
