//! libphonenumber's `parse`, step for step (`PhoneNumberUtil.parseHelper` of version 9), over
//! the metadata of [`super::meta`].
//!
//! The `phonenumber` crate's own parser reads a number dialled with an international prefix
//! under the *device's* region: on a US phone it strips the North American trunk prefix `1`
//! from the national number of `011 49 1512 3456789` (and parses `+49 1512 3456789` the same
//! way), then strips it once more. Here, as in libphonenumber, the national prefix of the
//! number's own calling code is the one removed.

use super::meta::{self, Length, RegionMeta};
use regex::Regex;
use std::sync::OnceLock;

const MIN_LENGTH_FOR_NSN: usize = 2;
const MAX_LENGTH_FOR_NSN: usize = 17;
const MAX_LENGTH_COUNTRY_CODE: usize = 3;
const MAX_INPUT_STRING_LENGTH: usize = 250;

/// Why libphonenumber would refuse to parse a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ParseError {
    NotANumber,
    InvalidCountryCode,
    TooShortAfterIdd,
    TooShortNsn,
    TooLong,
}

/// How the calling code was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// A leading `+`.
    Plus,
    /// The device region's international dialling prefix (`011`, `00`, ...).
    Idd,
    /// The device region's own calling code written without `+` (`1 207 555 0100`).
    NumberWithoutPlus,
    /// None: a national number of the device's region.
    Default,
}

/// A parsed number: calling code and national significant number (leading zeros kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parsed {
    pub(super) calling_code: u16,
    pub(super) nsn: String,
}

/// The decimal digit a character stands for, in any script (`\p{Nd}`: full-width, Arabic-Indic,
/// Devanagari, ...). Every run of decimal digits in Unicode starts at one of these zeros.
pub(super) fn decimal_digit(c: char) -> Option<char> {
    const ZEROS: &[u32] = &[
        0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50, 0xed0,
        0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620,
        0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0,
        0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
        0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
    ];
    let cp = u32::from(c);
    let i = ZEROS.partition_point(|&z| z <= cp).checked_sub(1)?;
    let offset = cp - ZEROS[i];
    if offset < 10 {
        char::from_digit(offset, 10)
    } else {
        None
    }
}

/// The digits of `s` in ASCII, everything else dropped (`normalizeDigitsOnly`).
pub(super) fn digits_only(s: &str) -> String {
    s.chars().filter_map(decimal_digit).collect()
}

/// `normalize`: a vanity number (three or more letters) maps letters to keypad digits and drops
/// everything else (non-ASCII digits included); otherwise only the digits are kept.
fn normalize(s: &str) -> String {
    let letters = s.chars().filter(char::is_ascii_alphabetic).count();
    // `(?:.*?[A-Za-z]){3}.*` fully matched: `.` stops at a line break.
    let vanity = letters >= 3 && !s.contains('\n');
    if !vanity {
        return digits_only(s);
    }
    s.chars()
        .filter_map(|c| match c.to_ascii_uppercase() {
            d @ '0'..='9' => Some(d),
            'A'..='C' => Some('2'),
            'D'..='F' => Some('3'),
            'G'..='I' => Some('4'),
            'J'..='L' => Some('5'),
            'M'..='O' => Some('6'),
            'P'..='S' => Some('7'),
            'T'..='V' => Some('8'),
            'W'..='Z' => Some('9'),
            _ => None,
        })
        .collect()
}

const PLUS_CHARS: &str = "+\u{FF0B}";
const VALID_PUNCTUATION: &str = "-x\u{2010}-\u{2015}\u{2212}\u{30FC}\u{FF0D}-\u{FF0F} \u{00A0}\u{00AD}\u{200B}\u{2060}\u{3000}()\u{FF08}\u{FF09}\u{FF3B}\u{FF3D}.\\[\\]/~\u{2053}\u{223C}\u{FF5E}";
const VALID_ALPHA: &str = "A-Za-z";

fn extn_digits(max: usize) -> String {
    format!("(\\d{{1,{max}}})")
}

/// libphonenumber's `createExtnPattern(forParsing = true)`.
fn extn_patterns_for_parsing() -> String {
    let separators = "[ \u{00A0}\\t,]*";
    let after_label = "[:\\.\u{FF0E}]?[ \u{00A0}\\t,-]*";
    let suffix = "#?";
    let explicit_labels =
        "(?:e?xt(?:ensi(?:o\u{0301}?|\u{00F3}))?n?|\u{FF45}?\u{FF58}\u{FF54}\u{FF4E}?|\u{0434}\u{043E}\u{0431}|anexo)";
    let ambiguous_labels = "(?:[x\u{FF58}#\u{FF03}~\u{FF5E}]|int|\u{FF49}\u{FF4E}\u{FF54})";
    let ambiguous_separator = "[- ]+";
    let rfc = format!(";ext={}", extn_digits(20));
    let explicit = format!("{separators}{explicit_labels}{after_label}{}{suffix}", extn_digits(20));
    let ambiguous = format!("{separators}{ambiguous_labels}{after_label}{}{suffix}", extn_digits(9));
    let american = format!("{ambiguous_separator}{}#", extn_digits(6));
    let no_comma = "[ \u{00A0}\\t]*";
    let auto_dialling = format!("{no_comma}(?:,{{2}}|;){after_label}{}{suffix}", extn_digits(15));
    let only_commas = format!("{no_comma}(?:,)+{after_label}{}{suffix}", extn_digits(9));
    format!("{rfc}|{explicit}|{ambiguous}|{american}|{auto_dialling}|{only_commas}")
}

struct Patterns {
    valid_start: Regex,
    unwanted_end: Regex,
    second_number: Regex,
    valid_phone_number: Regex,
    extension: Regex,
    plus: Regex,
    global_number_digits: Regex,
    domain_name: Regex,
}

fn patterns() -> Option<&'static Patterns> {
    static P: OnceLock<Option<Patterns>> = OnceLock::new();
    P.get_or_init(|| {
        let extn = extn_patterns_for_parsing();
        let ci = |p: &str| regex::RegexBuilder::new(p).case_insensitive(true).build().ok();
        let valid_phone = format!(
            "^(?:\\d{{{MIN_LENGTH_FOR_NSN}}}|[{PLUS_CHARS}]*(?:[{VALID_PUNCTUATION}*]*\\d){{3,}}[{VALID_PUNCTUATION}*{VALID_ALPHA}\\d]*(?:{extn})?)$"
        );
        let alphanum = format!("{VALID_ALPHA}\\d");
        Some(Patterns {
            valid_start: Regex::new(&format!("[{PLUS_CHARS}\\d]")).ok()?,
            // Java's `[[\P{N}&&\P{L}]&&[^#]]+$`.
            unwanted_end: Regex::new("[^\\p{N}\\p{L}#]+$").ok()?,
            second_number: Regex::new("[\\\\/] *x").ok()?,
            valid_phone_number: ci(&valid_phone)?,
            extension: ci(&format!("(?:{extn})$"))?,
            plus: Regex::new(&format!("^[{PLUS_CHARS}]+")).ok()?,
            global_number_digits: Regex::new("^\\+(?:\\d|[\\-\\.\\(\\)]?)*\\d(?:\\d|[\\-\\.\\(\\)]?)*$").ok()?,
            domain_name: Regex::new(&format!(
                "^(?:[{alphanum}]+(?:-*[{alphanum}])*\\.)*[{VALID_ALPHA}]+(?:-*[{alphanum}])*\\.?$"
            ))
            .ok()?,
        })
    })
    .as_ref()
}

/// `extractPossibleNumber`: from the first `+` or digit, without trailing punctuation or a
/// second number.
fn extract_possible_number<'a>(p: &Patterns, s: &'a str) -> &'a str {
    let Some(start) = p.valid_start.find(s) else { return "" };
    let mut out = &s[start.start()..];
    if let Some(end) = p.unwanted_end.find(out) {
        out = &out[..end.start()];
    }
    if let Some(second) = p.second_number.find(out) {
        out = &out[..second.start()];
    }
    out
}

/// `buildNationalNumberForParsing`: RFC 3966 (`tel:` with `;phone-context=`) or free text.
fn national_number_for_parsing(p: &Patterns, s: &str) -> Result<String, ParseError> {
    const CONTEXT: &str = ";phone-context=";
    let mut out = match s.find(CONTEXT) {
        Some(at) => {
            let start = at + CONTEXT.len();
            let rest = &s[start..];
            let context = rest.find(';').map_or(rest, |end| &rest[..end]);
            if context.is_empty() || !(p.global_number_digits.is_match(context) || p.domain_name.is_match(context)) {
                return Err(ParseError::NotANumber);
            }
            let mut out = if context.starts_with('+') { context.to_string() } else { String::new() };
            let from = s.find("tel:").map_or(0, |i| i + 4);
            out.push_str(s.get(from..at).unwrap_or(""));
            out
        }
        None => extract_possible_number(p, s).to_string(),
    };
    if let Some(isdn) = out.find(";isub=").filter(|&i| i > 0) {
        out.truncate(isdn);
    }
    Ok(out)
}

fn is_viable(p: &Patterns, s: &str) -> bool {
    s.chars().count() >= MIN_LENGTH_FOR_NSN && p.valid_phone_number.is_match(s)
}

/// `maybeStripExtension`: the number without its extension (`x123`, `ext. 12`, `;ext=1`, ...).
fn strip_extension<'a>(p: &Patterns, s: &'a str) -> &'a str {
    // Every way of writing an extension has a letter, `#`, `~`, `,`, `;` or a non-ASCII
    // character: without one, skip the (costly) search.
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_alphabetic() && !b"#~,;".contains(&b)) {
        return s;
    }
    match p.extension.captures(s) {
        Some(c) => match c.get(0) {
            Some(m) if is_viable(p, &s[..m.start()]) && c.iter().skip(1).flatten().next().is_some() => &s[..m.start()],
            _ => s,
        },
        None => s,
    }
}

/// `extractCountryCode`: the longest-prefix-free calling code at the start of `digits`.
fn extract_country_code(digits: &str) -> Option<(u16, &str)> {
    if digits.starts_with('0') {
        return None;
    }
    (1..=MAX_LENGTH_COUNTRY_CODE.min(digits.len())).find_map(|len| {
        let code: u16 = digits.get(..len)?.parse().ok()?;
        meta::is_calling_code(code).then(|| (code, &digits[len..]))
    })
}

/// `maybeExtractCountryCode`: `Ok(None)` when the number carries no calling code.
fn maybe_extract_country_code(
    p: &Patterns,
    number: &str,
    region: Option<&RegionMeta>,
) -> Result<Option<(u16, String, Source)>, ParseError> {
    if number.is_empty() {
        return Ok(None);
    }
    let (source, full) = if let Some(m) = p.plus.find(number) {
        (Source::Plus, normalize(&number[m.end()..]))
    } else {
        let full = normalize(number);
        match region.and_then(|r| r.idd()).and_then(|idd| idd.find(&full)) {
            // A calling code never starts with 0: `00` then `0...` is not an IDD.
            Some(m) if !full[m.end()..].starts_with('0') => (Source::Idd, full[m.end()..].to_string()),
            _ => (Source::Default, full),
        }
    };
    if source != Source::Default {
        if full.len() <= MIN_LENGTH_FOR_NSN {
            return Err(ParseError::TooShortAfterIdd);
        }
        return match extract_country_code(&full) {
            Some((code, rest)) => Ok(Some((code, rest.to_string(), source))),
            None => Err(ParseError::InvalidCountryCode),
        };
    }
    let Some(region) = region else { return Ok(None) };
    let code = region.country_code.to_string();
    let Some(rest) = full.strip_prefix(code.as_str()) else { return Ok(None) };
    let potential = region.strip_national_prefix(rest).unwrap_or_else(|| rest.to_string());
    if (!region.general.matches(&full) && region.general.matches(&potential))
        || region.test_length(&full) == Length::TooLong
    {
        return Ok(Some((region.country_code, potential, Source::NumberWithoutPlus)));
    }
    Ok(None)
}

/// Parses `input` as dialled on a phone in `region` (an ISO code), as libphonenumber's
/// `parse(input, region)` does.
pub(super) fn parse(input: &str, region: &str) -> Result<Parsed, ParseError> {
    let p = patterns().ok_or(ParseError::NotANumber)?;
    if input.len() > MAX_INPUT_STRING_LENGTH {
        return Err(ParseError::TooLong);
    }
    let national = national_number_for_parsing(p, input)?;
    if !is_viable(p, &national) {
        return Err(ParseError::NotANumber);
    }
    let region_meta = meta::for_region(region);
    if region_meta.is_none() && !p.plus.is_match(&national) {
        return Err(ParseError::InvalidCountryCode);
    }
    let national = strip_extension(p, &national);
    let region_meta = region_meta.as_deref();
    let extracted = match maybe_extract_country_code(p, national, region_meta) {
        Err(ParseError::InvalidCountryCode) => match p.plus.find(national) {
            // `++` or `+` followed by the device region's own IDD: try once more without it.
            Some(m) => match maybe_extract_country_code(p, &national[m.end()..], region_meta)? {
                Some(found) => Some(found),
                None => return Err(ParseError::InvalidCountryCode),
            },
            None => return Err(ParseError::InvalidCountryCode),
        },
        other => other?,
    };
    let (calling_code, mut nsn, number_meta) = match extracted {
        Some((code, rest, _)) => (code, rest, meta::for_code(code)),
        None => {
            let r = region_meta.ok_or(ParseError::InvalidCountryCode)?;
            (r.country_code, normalize(national), meta::for_region(region))
        }
    };
    if nsn.len() < MIN_LENGTH_FOR_NSN {
        return Err(ParseError::TooShortNsn);
    }
    if let Some(m) = number_meta.as_deref() {
        if let Some(stripped) = m.strip_national_prefix(&nsn) {
            // Only when what is left is a possible length: the original may be a short number.
            if !matches!(m.test_length(&stripped), Length::TooShort | Length::LocalOnly | Length::Invalid) {
                nsn = stripped;
            }
        }
    }
    if nsn.len() < MIN_LENGTH_FOR_NSN {
        return Err(ParseError::TooShortNsn);
    }
    if nsn.len() > MAX_LENGTH_FOR_NSN {
        return Err(ParseError::TooLong);
    }
    Ok(Parsed { calling_code, nsn })
}

/// libphonenumber's `isValidNumber` for a parsed number.
pub(super) fn is_valid(p: &Parsed) -> bool {
    meta::is_valid(p.calling_code, &p.nsn)
}

/// The general description's possible and local-only lengths of a region, as derived here.
pub(super) fn region_lengths(region: &str) -> Option<(Vec<u16>, Vec<u16>)> {
    let m = meta::for_region(region)?;
    let (full, local) = m.possible_lengths();
    Some((full.to_vec(), local.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits_of_every_script_read_as_ascii() {
        assert_eq!(digits_only("０１２３４５６７８９"), "0123456789");
        assert_eq!(digits_only("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(digits_only("०१२"), "012");
        assert_eq!(digits_only("𝟎𝟗𝟘𝟡"), "0909");
        assert_eq!(digits_only("+1 (207) x"), "1207");
        assert_eq!(decimal_digit('Ⅻ'), None);
    }

    #[test]
    fn vanity_letters_map_to_the_keypad_only_with_three_or_more() {
        assert_eq!(normalize("1-800-FLOWERS"), "18003569377");
        assert_eq!(normalize("207 555 0100 ab"), "2075550100");
    }

    #[test]
    fn the_idd_is_stripped_only_before_a_calling_code() {
        let p = parse("00 0123", "DE").map(|p| p.calling_code);
        assert_eq!(p, Ok(49));
        let p = parse("00 44 7400 123456", "DE").expect("parse");
        assert_eq!((p.calling_code, p.nsn.as_str()), (44, "7400123456"));
    }

    #[test]
    fn unreadable_input_is_an_error_not_a_panic() {
        for s in ["", "+", "tel:", ";phone-context=", "tel:1;phone-context=+", "x", "++", "+0 123", "ﾠ", "1\u{301}2"]
        {
            assert!(parse(s, "US").is_err(), "{s:?}");
        }
        assert_eq!(parse("+999 1234 5678", "US"), Err(ParseError::InvalidCountryCode));
    }
}
