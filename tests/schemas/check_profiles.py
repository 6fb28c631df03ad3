#!/usr/bin/env python3
"""Checks quietline-admin's rendered profiles against the platforms' published schemas.

Android: every field of each rendered Policy JSON must exist in the TypeScript declarations of
the npm package @googleapis/androidmanagement (Schema$Policy, Schema$PasswordRequirements) with a
compatible type, and every enum value and int64 encoding must match the API's discovery document
(the d.ts gives no enum values for these fields; the discovery document, shipped in the PyPI
package google-api-python-client, does). The hand-written facts in android-policy-fields.json are
held to the same two sources, so they cannot drift.

Apple: every rendered .mobileconfig must parse with Python's plistlib (an independent reader) and
every key must match apple-payload-keys.json.

Prints `N passed, M failed` and exits non-zero on any failure.
"""
import argparse
import json
import plistlib
import re
import sys
import zipfile

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")


def dts_interfaces(text, names):
    """Field name -> TypeScript type for each `export interface Schema$NAME { ... }`."""
    out = {}
    for name in names:
        m = re.search(r"export interface Schema\$" + re.escape(name) + r" \{\n(.*?)\n    \}", text, re.S)
        if not m:
            raise SystemExit(f"Schema${name} not found in the d.ts")
        fields = {}
        for fm in re.finditer(r"^\s+(\w+)\?: ([^;]+);", m.group(1), re.M):
            fields[fm.group(1)] = fm.group(2).strip()
        out[name] = fields
    return out


def ts_kind(ts):
    """The JSON kind a TypeScript field type admits: string, number, boolean, array:<item>."""
    t = ts.replace(" | null", "").strip()
    if t.endswith("[]"):
        item = t[:-2]
        return "array:" + (item[len("Schema$"):] if item.startswith("Schema$") else item)
    return t


def json_kind(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def check_object(where, obj, schema, ts, disc):
    for key, value in obj.items():
        fields = ts[schema]
        check(key in fields, f"{where}.{key} is a field of Schema${schema}")
        if key not in fields:
            continue
        kind = ts_kind(fields[key])
        prop = disc["schemas"][schema]["properties"].get(key, {})
        check(bool(prop), f"{where}.{key} is in the discovery document's {schema}")
        if kind.startswith("array:"):
            check(isinstance(value, list), f"{where}.{key} is an array ({fields[key]})")
            item = kind[len("array:"):]
            for i, it in enumerate(value if isinstance(value, list) else []):
                if item in ts:
                    check(isinstance(it, dict), f"{where}.{key}[{i}] is an object")
                    check_object(f"{where}.{key}[{i}]", it, item, ts, disc)
                else:
                    check(json_kind(it) == item, f"{where}.{key}[{i}] is a {item}")
                    enum = prop.get("items", {}).get("enum")
                    if enum:
                        check(it in enum, f"{where}.{key}[{i}] = {it!r} is one of the API's values")
        else:
            check(json_kind(value) == kind, f"{where}.{key} is a {kind} ({fields[key]}), got {json_kind(value)}")
            if prop.get("format") in ("int64", "uint64"):
                check(isinstance(value, str) and re.fullmatch(r"-?\d+", value or "") is not None,
                      f"{where}.{key}: int64 travels as a decimal string")
            if prop.get("format") == "int32":
                check(isinstance(value, int) and -2**31 <= value < 2**31, f"{where}.{key} fits int32")
            if "enum" in prop:
                check(value in prop["enum"], f"{where}.{key} = {value!r} is one of the API's values")


def check_android_facts(facts, ts, disc):
    for schema in ("Policy", "PasswordRequirements"):
        for key, fact in facts[schema].items():
            check(key in ts[schema], f"facts: {schema}.{key} is in the d.ts")
            prop = disc["schemas"][schema]["properties"].get(key)
            check(prop is not None, f"facts: {schema}.{key} is in the discovery document")
            if prop is None:
                continue
            check(prop.get("type") == fact["type"], f"facts: {schema}.{key} type {fact['type']}")
            if "format" in fact:
                check(prop.get("format") == fact["format"], f"facts: {schema}.{key} format {fact['format']}")
            enum = prop.get("enum") or prop.get("items", {}).get("enum")
            if "enum" in fact:
                check(enum == fact["enum"], f"facts: {schema}.{key} enum matches the API's")
            if fact.get("items") in disc["schemas"]:
                check(prop.get("items", {}).get("$ref") == fact["items"], f"facts: {schema}.{key} items")


PLIST_TYPES = {bool: "boolean", int: "integer", float: "real", str: "string", list: "array", dict: "dictionary",
               bytes: "data"}


def check_apple(path, facts):
    with open(path, "rb") as f:
        try:
            root = plistlib.load(f, fmt=plistlib.FMT_XML)
        except Exception as e:  # noqa: BLE001 - any parse failure is a test failure
            check(False, f"{path} parses as an XML plist: {e}")
            return
    check(True, f"{path} parses as an XML plist")

    def keys_ok(where, d, keys, also=None):
        for k, v in d.items():
            fact = keys.get(k) or (also or {}).get(k)
            check(fact is not None, f"{where}: {k} is in Apple's schema facts")
            if not fact:
                continue
            check(PLIST_TYPES.get(type(v)) == fact["type"], f"{where}: {k} is a {fact['type']}")
            if "values" in fact:
                check(v in fact["values"], f"{where}: {k} = {v!r} is allowed")
            if "min" in fact:
                check(v >= fact["min"], f"{where}: {k} = {v} >= {fact['min']}")
            if "max" in fact:
                check(v <= fact["max"], f"{where}: {k} = {v} <= {fact['max']}")
            check(fact.get("ios_supervised") is not True, f"{where}: {k} works without supervision")
        for src in (keys, also or {}):
            for k, fact in src.items():
                if fact.get("required"):
                    check(k in d, f"{where}: required {k} present")

    keys_ok(f"{path} top level", root, facts["toplevel"]["keys"])
    for pl in root.get("PayloadContent", []):
        ptype = pl.get("PayloadType")
        check(ptype in facts["payloads"], f"{path}: payload {ptype} is in the facts")
        if ptype in facts["payloads"]:
            keys_ok(f"{path} {ptype}", pl, facts["payloads"][ptype]["keys"], facts["common"]["keys"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dts", required=True, help="@googleapis/androidmanagement build/v1.d.ts")
    ap.add_argument("--discovery-wheel", required=True, help="google-api-python-client wheel")
    ap.add_argument("--facts", required=True, help="tests/schemas")
    ap.add_argument("--android", nargs="*", default=[], help="rendered Policy JSON files")
    ap.add_argument("--apple", nargs="*", default=[], help="rendered .mobileconfig files")
    a = ap.parse_args()

    with open(a.dts, encoding="utf-8") as f:
        ts = dts_interfaces(f.read(), ["Policy", "PasswordRequirements"])
    with zipfile.ZipFile(a.discovery_wheel) as z:
        disc = json.loads(z.read("googleapiclient/discovery_cache/documents/androidmanagement.v1.json"))
    with open(f"{a.facts}/android-policy-fields.json", encoding="utf-8") as f:
        android_facts = json.load(f)
    with open(f"{a.facts}/apple-payload-keys.json", encoding="utf-8") as f:
        apple_facts = json.load(f)

    check_android_facts(android_facts, ts, disc)
    for path in a.android:
        with open(path, encoding="utf-8") as f:
            policy = json.load(f)
        check(isinstance(policy, dict) and policy, f"{path} is a non-empty JSON object")
        check_object(path, policy, "Policy", ts, disc)
    for path in a.apple:
        check_apple(path, apple_facts)

    print(f"profiles: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
