//! Phone numbers: normalised to E.164 as Google's libphonenumber does, given the device's
//! region, with libphonenumber's metadata (shipped by the `phonenumber` crate) read by a port of
//! libphonenumber's parser (`parse`, `meta`): the crate's own parser reads numbers dialled with
//! an international prefix wrongly. Emergency numbers and short codes are classified apart: they
//! are never blocked and never registered. See docs/numbers.md.
//!
//! An [`E164`] never shows its digits through `Debug` or `Display`, so a number cannot leak
//! into a log line, an error or a panic message by accident.

mod meta;
mod parse;

use phonenumber::country;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Inputs longer than this are rejected before parsing.
pub const MAX_NUMBER_INPUT: usize = 64;

/// Why a number could not be used. Never carries the number itself.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// The input is empty.
    #[error("the phone number is empty")]
    Empty,
    /// The input is longer than [`MAX_NUMBER_INPUT`] characters.
    #[error("the phone number input is too long")]
    TooLong,
    /// libphonenumber could not read a number from the input.
    #[error("the phone number could not be read")]
    Unparseable,
    /// The input parsed but is not a valid number for any region.
    #[error("the phone number is not valid")]
    Invalid,
    /// The region is not an ISO 3166 code known to libphonenumber.
    #[error("unknown region code `{0}`")]
    UnknownRegion(String),
    /// Emergency numbers and short codes are never registered.
    #[error("emergency numbers and short codes cannot be registered")]
    Special,
}

/// The device's region (ISO 3166-1 alpha-2, e.g. `US`, `GB`), which decides how national
/// numbers are read and which caller-ID prefix applies.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(country::Id);

impl Region {
    /// Parses a region code, case-insensitively.
    pub fn parse(code: &str) -> Result<Self, NumberError> {
        let up = code.trim().to_ascii_uppercase();
        if up.len() != 2 {
            return Err(NumberError::UnknownRegion(code.chars().take(8).collect()));
        }
        country::Id::from_str(&up).map(Region).map_err(|_| NumberError::UnknownRegion(up))
    }
    /// The two-letter code.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
    /// The country calling code of the region (1 for the North American plan).
    pub fn calling_code(&self) -> Option<u16> {
        phonenumber::metadata::DATABASE.by_id(self.code()).map(|m| m.country_code())
    }
    /// The per-call prefix that hides caller ID for calls placed in this region.
    pub fn caller_id_prefix(&self) -> &'static str {
        match self.calling_code() {
            Some(1) => "*67",
            // GSM's CLIR supplementary-service code works on mobile networks almost everywhere.
            _ => "#31#",
        }
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.code())
    }
}
impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}
impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Region::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A normalised number in E.164 form (`+12075550100`). Its digits are redacted from
/// `Debug` and `Display`; use [`E164::expose`] where the platform truly needs them.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct E164 {
    digits: String,
    calling_code: u16,
    national: String,
}

impl E164 {
    /// The E.164 string. Only for handing to the platform (dialling, deleting).
    pub fn expose(&self) -> &str {
        &self.digits
    }
    /// The country calling code.
    pub fn calling_code(&self) -> u16 {
        self.calling_code
    }
    /// The national significant number (no trunk prefix).
    pub fn national(&self) -> &str {
        &self.national
    }
}
impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("E164(<redacted>)")
    }
}
impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted number>")
    }
}

/// What a dialled or received string is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// An ordinary number, normalised.
    Number(E164),
    /// An emergency number or short code: never blocked, never registered.
    Special,
}

/// Emergency numbers across the world's numbering plans. GSM phones connect 112 and 911 in
/// every country, so these count as emergency numbers whatever the device's region, also as
/// the national part of a number written with a calling code (`+44 999`).
const EMERGENCY: &[&str] = &[
    "911", "112", "999", "000", "110", "119", "100", "101", "102", "103", "108", "15", "17", "18", "115", "118", "120",
    "122", "123", "133", "150", "155", "160", "190", "191", "192", "193", "10111", "10177", "0800", "08", "061", "062",
    "063", "066", "111", "113", "997", "998",
];

/// A string dialled without `+` with at most this many digits is a short code (a service,
/// voicemail or emergency number) unless libphonenumber finds it a valid number of the region:
/// Saint Helena, the Falklands, Niue, Tokelau and about seventy other regions have subscriber
/// numbers of four to six digits. No emergency number of any region is a valid number there.
const SHORT_CODE_DIGITS: usize = 6;

/// Classifies and normalises `input` as dialled on a device in `region`, and checks that the
/// number is valid (as registration needs).
pub fn classify(input: &str, region: Region) -> Result<Classified, NumberError> {
    classify_with(input, region, true)
}

/// Classifies and normalises `input` for a lookup: the same E.164 form as [`classify`], without
/// libphonenumber's validity check for numbers longer than a short code, which costs most of the
/// time. An invalid number cannot be registered, so skipping the check can never miss a
/// survivor.
pub fn classify_for_lookup(input: &str, region: Region) -> Result<Classified, NumberError> {
    classify_with(input, region, false)
}

fn is_plus(c: char) -> bool {
    c == '+' || c == '\u{FF0B}'
}

fn classify_with(input: &str, region: Region, check_valid: bool) -> Result<Classified, NumberError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(NumberError::Empty);
    }
    if trimmed.len() > MAX_NUMBER_INPUT {
        return Err(NumberError::TooLong);
    }
    let digits = parse::digits_only(trimmed);
    if digits.is_empty() {
        return Err(NumberError::Unparseable);
    }
    // Written with `+` (or `tel:+`): never a short code dialled locally.
    let plus = trimmed.chars().find(|&c| is_plus(c) || parse::decimal_digit(c).is_some()).is_some_and(is_plus);
    if !plus && EMERGENCY.contains(&digits.as_str()) {
        return Ok(Classified::Special);
    }
    let parsed = parse::parse(trimmed, region.code());
    // However written (`+44 999`, `011 1 911`, `911 x1`), an emergency number is one.
    if parsed.as_ref().is_ok_and(|p| EMERGENCY.contains(&p.nsn.as_str())) {
        return Ok(Classified::Special);
    }
    let short = !plus && digits.len() <= SHORT_CODE_DIGITS;
    let parsed = match parsed {
        Ok(p) => p,
        Err(_) if short => return Ok(Classified::Special),
        Err(_) => return Err(NumberError::Unparseable),
    };
    if (check_valid || short) && !parse::is_valid(&parsed) {
        return if short { Ok(Classified::Special) } else { Err(NumberError::Invalid) };
    }
    let digits = format!("+{}{}", parsed.calling_code, parsed.nsn);
    Ok(Classified::Number(E164 { digits, calling_code: parsed.calling_code, national: parsed.nsn }))
}

/// Normalises `input`, refusing emergency numbers and short codes.
pub fn normalise(input: &str, region: Region) -> Result<E164, NumberError> {
    match classify(input, region)? {
        Classified::Number(n) => Ok(n),
        Classified::Special => Err(NumberError::Special),
    }
}

/// The possible and local-only lengths of national numbers in `region`, as derived from the
/// metadata (libphonenumber's general description). For the differential test.
#[doc(hidden)]
pub fn possible_lengths(region: Region) -> Option<(Vec<u16>, Vec<u16>)> {
    parse::region_lengths(region.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Region {
        Region::parse("US").expect("US")
    }

    #[test]
    fn us_formats_normalise_to_one_e164() {
        for s in ["+1 207-555-0100", "(207) 555-0100", "2075550100", "1-207-555-0100", "+12075550100"] {
            assert_eq!(normalise(s, us()).expect(s).expose(), "+12075550100", "{s}");
        }
    }

    #[test]
    fn uk_national_number_gets_44() {
        let gb = Region::parse("gb").expect("GB");
        assert_eq!(normalise("07400 123456", gb).expect("uk").expose(), "+447400123456");
        assert_eq!(normalise("+44 (0)7400 123456", gb).expect("uk").expose(), "+447400123456");
    }

    #[test]
    fn emergency_and_short_codes_are_special() {
        for s in ["911", "112", "999", "000", "*611", "311", "85511"] {
            assert_eq!(classify(s, us()), Ok(Classified::Special), "{s}");
        }
        assert_eq!(normalise("911", us()), Err(NumberError::Special));
    }

    #[test]
    fn garbage_is_a_typed_error() {
        assert_eq!(classify("", us()), Err(NumberError::Empty));
        assert_eq!(classify("hello", us()), Err(NumberError::Unparseable));
        assert_eq!(classify(&"9".repeat(100), us()), Err(NumberError::TooLong));
        assert!(classify("+999 1234 5678 9999", us()).is_err());
    }

    #[test]
    fn lookup_form_equals_registration_form() {
        for s in ["+1 207-555-0100", "(207) 555-0100", "2075550100", "+44 (0)7400 123456", "911"] {
            let full = classify(s, us());
            let quick = classify_for_lookup(s, us());
            if let Ok(c) = full {
                assert_eq!(quick, Ok(c), "{s}");
            }
        }
    }

    #[test]
    fn number_is_redacted_in_debug_and_display() {
        let n = normalise("2075550100", us()).expect("valid");
        assert!(!format!("{n:?}{n}").contains("555"));
    }

    #[test]
    fn region_prefixes() {
        assert_eq!(us().caller_id_prefix(), "*67");
        assert_eq!(Region::parse("CA").expect("CA").caller_id_prefix(), "*67");
        assert_eq!(Region::parse("GB").expect("GB").caller_id_prefix(), "#31#");
        assert!(Region::parse("XX").is_err());
        assert!(Region::parse("").is_err());
    }
}
