#!/usr/bin/env python3
"""Generates the number corpus of the differential test: `device_region<TAB>input` lines.

Every region libphonenumber has metadata for, each of its example numbers (fixed line, mobile,
toll free, ...), written every way a person or a phone writes it:
  - on a phone in its own region: national format (trunk prefix, parentheses), digits only,
    with dots, dashes, slashes, full-width digits, an extension, the calling code without `+`;
  - from phones in other regions: E.164, international format, `tel:` URIs, and dialled with
    that phone's own international prefix (011, 00, 0011, 010, 8~10, ...);
plus each region's emergency numbers and short codes (libphonenumber's short-number metadata),
invalid and truncated numbers, and random digit strings.

Deterministic: the same phonenumbers version gives the same corpus.
"""
import argparse
import random
import sys

import phonenumbers as pn
from phonenumbers import PhoneMetadata, PhoneNumberFormat as F

# Phones in these regions dial every number (diverse international prefixes and trunk rules).
DEVICES = ["US", "CA", "GB", "DE", "FR", "NL", "BR", "ZA", "AU", "JP", "RU", "KZ", "BY", "IN", "CN", "KR", "MX",
           "AR", "IL", "NG", "KE", "EG", "ID", "SG", "HK", "NZ", "IT", "ES", "SE", "FI", "PL", "UA", "CO", "CL",
           "TH", "VN", "UZ", "MN", "SH", "FK", "NU", "TK", "GG", "IM"]

TYPES = ["fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
         "pager", "uan", "voicemail"]

FULLWIDTH = str.maketrans("0123456789+-()", "０１２３４５６７８９＋－（）")


def examples(region):
    meta = PhoneMetadata.metadata_for_region(region)
    out = []
    for t in TYPES:
        desc = getattr(meta, t, None)
        if desc is not None and desc.example_number:
            try:
                out.append(pn.parse("+%d%s" % (meta.country_code, desc.example_number), None))
            except pn.NumberParseException:
                pass
    return out


def variants(text):
    """Separators people and phones use, for a formatted number."""
    yield text
    yield text.replace(" ", "")
    yield text.replace(" ", ".")
    yield text.replace(" ", "-")
    yield text.replace(" ", "\u00a0")
    yield text.translate(FULLWIDTH)


def local_forms(n, region):
    national = pn.format_number(n, F.NATIONAL)
    e164 = pn.format_number(n, F.E164)
    nsn = pn.national_significant_number(n)
    yield from variants(national)
    yield national + " ext. 123"
    yield national + " x45"
    yield national + ";ext=7"
    yield "(" + national + ")"
    yield "Tel: " + national
    yield nsn
    yield e164[1:]  # calling code without `+`
    yield "%d %s" % (n.country_code, national)
    yield "tel:" + nsn + ";phone-context=" + e164[: len(str(n.country_code)) + 1]
    for prefix in ("0", "1", "8"):
        yield prefix + nsn  # a trunk prefix the region may or may not use


def foreign_forms(n, device, rng):
    intl = pn.format_number(n, F.INTERNATIONAL)
    yield pn.format_number(n, F.E164)
    yield intl
    yield rng.choice(list(variants(intl))[1:])
    yield intl + " ext. 9"
    yield pn.format_number(n, F.RFC3966)
    out = pn.format_out_of_country_calling_number(n, device)
    yield out
    yield rng.choice(list(variants(out))[1:])
    # The calling code after `+` with the number's national trunk prefix kept: "+44 (0)20 ...".
    meta = PhoneMetadata.metadata_for_region_or_calling_code(n.country_code, pn.region_code_for_number(n) or "001")
    if meta is not None and meta.national_prefix:
        yield "+%d (%s)%s" % (n.country_code, meta.national_prefix, pn.national_significant_number(n))
    dev = PhoneMetadata.metadata_for_region(device)
    if dev is not None and dev.preferred_international_prefix:
        idd = dev.preferred_international_prefix.replace("~", "")
        yield "%s %d %s" % (idd, n.country_code, pn.national_significant_number(n))


def short_numbers(region):
    short = PhoneMetadata.short_metadata_for_region(region)
    if short is None:
        return
    for t in ("emergency", "short_code", "toll_free", "premium_rate", "standard_rate", "carrier_specific",
              "sms_services"):
        desc = getattr(short, t, None)
        if desc is not None and desc.example_number:
            yield desc.example_number


def corpus(seed):
    rng = random.Random(seed)
    regions = sorted(pn.SUPPORTED_REGIONS)
    rows = []
    for region in regions:
        nums = examples(region)
        for n in nums:
            rows.extend((region, s) for s in local_forms(n, region))
            for device in DEVICES + rng.sample(regions, 2):
                if device != region:
                    rows.extend((device, s) for s in foreign_forms(n, device, rng))
            nsn = pn.national_significant_number(n)
            # Truncated and extended: invalid numbers, on both paths.
            rows.append((region, nsn[:-1]))
            rows.append((region, nsn + "9"))
            rows.append(("US", "+%d %s" % (n.country_code, nsn[:-2])))
        rows.extend((region, s) for s in short_numbers(region))
        for length in (2, 3, 4, 5, 6, 7, 8, 10, 12):
            rows.append((region, "".join(rng.choice("0123456789") for _ in range(length))))
    for code in sorted(pn.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        meta = PhoneMetadata.metadata_for_nongeo_region(code)
        for t in TYPES:
            desc = getattr(meta, t, None)
            if desc is not None and desc.example_number:
                n = pn.parse("+%d%s" % (code, desc.example_number), None)
                for device in DEVICES[:8]:
                    rows.extend((device, s) for s in foreign_forms(n, device, rng))
    # Garbage: typed errors, never a panic or a number.
    for s in ["", " ", "hello", "+", "++44", "+0 123 456", "+999 1234 5678", "tel:", "*#06#", "--- ---",
              "1" * 40, "+1 (555) CALL-NOW", "1-800-FLOWERS", "0800 FLOWERS", "#31#", "*67", "+44 999", "+1 911"]:
        for device in ("US", "GB", "DE"):
            rows.append((device, s))
    seen = set()
    unique = []
    for row in rows:
        if "\t" in row[1] or "\n" in row[1] or row in seen:
            continue
        seen.add(row)
        unique.append(row)
    return unique


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    rows = corpus(args.seed)
    f = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    for region, s in rows:
        f.write("%s\t%s\n" % (region, s))
    if f is not sys.stdout:
        f.close()
    print("%d corpus lines" % len(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
