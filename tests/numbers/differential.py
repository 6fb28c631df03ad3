#!/usr/bin/env python3
"""Differential test: Quietline's number normalisation against Google's libphonenumber.

Runs the corpus of gen_corpus.py through the Rust helper (core/examples/numbers_diff.rs) and
through the Python `phonenumbers` package (libphonenumber's Python port, same metadata version
as the Rust `phonenumber` crate), and compares, line by line:
  - registration (`numbers::classify`): libphonenumber's E.164 form when it parses the input and
    finds the number valid, else a refusal;
  - lookup (`numbers::classify_for_lookup`): libphonenumber's E.164 form whenever it parses;
  - the short-code rule layered on top (docs/numbers.md), the same on both sides.
Also checks that every emergency number of every region (libphonenumber's short-number
metadata) is special, and that the derived possible lengths of every region equal
libphonenumber's.

Every disagreement must be listed with its reason in known_disagreements.tsv; an unlisted one,
or a listed one that no longer happens, fails the test.
"""
import argparse
import os
import re
import subprocess
import sys
from collections import Counter

import phonenumbers as pn
from phonenumbers import PhoneMetadata, PhoneNumberFormat as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_corpus  # noqa: E402

# core/src/numbers.rs: EMERGENCY, SHORT_CODE_DIGITS, MAX_NUMBER_INPUT.
EMERGENCY = {"911", "112", "999", "000", "110", "119", "100", "101", "102", "103", "108", "15", "17", "18", "115",
             "118", "120", "122", "123", "133", "150", "155", "160", "190", "191", "192", "193", "10111", "10177",
             "0800", "08", "061", "062", "063", "066", "111", "113", "997", "998"}
SHORT_CODE_DIGITS = 6
MAX_NUMBER_INPUT = 64
START = re.compile("[+\uff0b\\d]")


def expected(region, text):
    """What Quietline must answer, (registration, lookup), with libphonenumber deciding every
    parse and validity."""
    t = text.strip()
    if not t or len(t.encode("utf-8")) > MAX_NUMBER_INPUT:
        return "error", "error"
    digits = pn.normalize_digits_only(t)
    if not digits:
        return "error", "error"
    m = START.search(t)
    plus = m is not None and m.group() in "+\uff0b"
    if not plus and digits in EMERGENCY:
        return "special", "special"
    try:
        n = pn.parse(t, region)
    except pn.NumberParseException:
        n = None
    if n is not None and pn.national_significant_number(n) in EMERGENCY:
        return "special", "special"
    short = not plus and len(digits) <= SHORT_CODE_DIGITS
    refused = "special" if short else "error"
    if n is None:
        return refused, refused
    e164 = pn.format_number(n, F.E164)
    if pn.is_valid_number(n):
        return e164, e164
    # The lookup skips the validity check, except for a short code's.
    return refused, refused if short else e164


def emergency_rows():
    """Every emergency number of every region, enumerated from its pattern."""
    rows = []
    for region in sorted(pn.SUPPORTED_SHORT_REGIONS):
        short = PhoneMetadata.short_metadata_for_region(region)
        if short is None or short.emergency is None:
            continue
        pattern = re.compile("(?:%s)$" % short.emergency.national_number_pattern)
        for length in short.emergency.possible_length:
            if length > 6:
                continue
            for i in range(10 ** length):
                d = str(i).zfill(length)
                if pattern.match(d):
                    rows.append((region, d))
    return rows


def run_rust(binary, rows):
    data = "".join("%s\t%s\n" % r for r in rows).encode("utf-8")
    out = subprocess.run([binary], input=data, stdout=subprocess.PIPE, check=True).stdout.decode("utf-8")
    lines = out.splitlines()
    if len(lines) != len(rows):
        sys.exit("FAIL: the Rust helper answered %d lines for %d inputs" % (len(lines), len(rows)))
    return [tuple(line.split("\t")) for line in lines]


def load_known(path):
    known = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 4 or not parts[3].strip():
                sys.exit("FAIL: %s:%d: want region<TAB>input<TAB>path<TAB>reason" % (path, n))
            known[(parts[0], parts[1], parts[2])] = parts[3]
    return known


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--helper", required=True, help="the built numbers_diff example")
    ap.add_argument("--known", default=os.path.join(HERE, "known_disagreements.tsv"))
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()

    failures = []
    regions = sorted(pn.SUPPORTED_REGIONS)
    lengths = subprocess.run([args.helper, "--lengths"] + regions, stdout=subprocess.PIPE, check=True,
                             text=True).stdout.splitlines()
    for line in lengths:
        region, full, local = line.split("\t")
        g = PhoneMetadata.metadata_for_region(region).general_desc
        want = (",".join(map(str, g.possible_length)), ",".join(map(str, g.possible_length_local_only)))
        if (full, local) != want:
            failures.append("lengths of %s: ours %s / %s, libphonenumber's %s / %s" % ((region, full, local) + want))

    rows = gen_corpus.corpus(args.seed)
    emergency = emergency_rows()
    answers = run_rust(args.helper, rows + emergency)
    known = load_known(args.known)
    seen_known = set()
    unexplained = []
    stats = Counter()
    for (region, text), (reg, look) in zip(rows, answers[: len(rows)]):
        wants = expected(region, text)
        for path, ours, want in (("registration", reg, wants[0]), ("lookup", look, wants[1])):
            stats[(path, want if want in ("error", "special") else "number")] += 1
            if ours == want:
                continue
            key = (region, text, path)
            if key in known:
                seen_known.add(key)
            else:
                unexplained.append("%s %r %s: ours %s, libphonenumber %s" % (region, text, path, ours, want))
    for (region, text), (reg, look) in zip(emergency, answers[len(rows):]):
        if reg != "special" or look != "special":
            failures.append("emergency number %s in %s is not special (registration %s, lookup %s)"
                            % (text, region, reg, look))
    stale = sorted(set(known) - seen_known)

    print("numbers: %d corpus lines over %d regions, %d emergency numbers; pn %s"
          % (len(rows), len(regions), len(emergency), pn.__version__))
    for (path, kind), count in sorted(stats.items()):
        print("  %-12s %-8s %6d" % (path, kind, count))
    print("  listed disagreements: %d" % len(seen_known))
    for f in failures:
        print("FAIL:", f)
    for u in unexplained[:50]:
        print("UNEXPLAINED:", u)
    if len(unexplained) > 50:
        print("... and %d more unexplained" % (len(unexplained) - 50))
    for region, text, path in stale:
        print("STALE (no longer disagrees, remove from %s): %s %r %s" % (os.path.basename(args.known), region, text,
                                                                          path))
    if failures or unexplained or stale:
        print("numbers differential: FAIL")
        return 1
    print("numbers differential: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
