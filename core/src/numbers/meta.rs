//! libphonenumber's metadata as libphonenumber itself reads it.
//!
//! The `phonenumber` crate ships Google's `PhoneNumberMetadata.xml` but compiles it unlike
//! libphonenumber's build step: its patterns are matched as prefixes rather than whole strings,
//! the general description carries no possible lengths, and a region without a
//! `nationalPrefixForParsing` gets no parsing prefix. This module takes the crate's patterns and
//! lengths and derives what libphonenumber's `BuildMetadataFromXml` derives, compiling every
//! pattern anchored, once per region, on first use.

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// One number description (general, fixed line, mobile, ...): a whole-string pattern and the
/// national lengths its numbers may have.
pub(super) struct Desc {
    full: Regex,
    lengths: Vec<u16>,
}

impl Desc {
    fn new(d: &Descriptor) -> Option<Desc> {
        Some(Desc {
            full: compile(d.national_number().as_str(), Anchor::Whole)?,
            lengths: d.possible_length().to_vec(),
        })
    }

    /// libphonenumber's `matchNationalNumber(.., allowPrefixMatch = false)`: the pattern alone.
    pub(super) fn matches(&self, nsn: &str) -> bool {
        self.full.is_match(nsn)
    }

    /// libphonenumber's `isNumberMatchingDesc`: a possible length, then the pattern.
    fn matches_with_length(&self, nsn: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.iter().any(|&l| usize::from(l) == nsn.len())) && self.matches(nsn)
    }
}

/// How [`Validation`] sorts a national number by length, as libphonenumber's `testNumberLength`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Length {
    Possible,
    LocalOnly,
    TooShort,
    Invalid,
    TooLong,
}

/// The metadata of one region (or one non-geographic calling code), compiled.
pub(super) struct RegionMeta {
    pub(super) country_code: u16,
    idd: Option<Regex>,
    national_prefix_for_parsing: Option<Regex>,
    transform_rule: Option<String>,
    pub(super) general: Desc,
    /// Every specific number type, in the order libphonenumber's `getNumberTypeHelper` tries them.
    types: Vec<Desc>,
    leading_digits: Option<Regex>,
    lengths: Vec<u16>,
    local_lengths: Vec<u16>,
}

#[derive(Clone, Copy)]
enum Anchor {
    /// `lookingAt`: at the start of the string.
    Start,
    /// `matches`: the whole string.
    Whole,
}

fn compile(pattern: &str, anchor: Anchor) -> Option<Regex> {
    let wrapped = match anchor {
        Anchor::Start => format!("^(?:{pattern})"),
        Anchor::Whole => format!("^(?:{pattern})$"),
    };
    // The metadata's patterns are laid out over several lines, as the crate reads them.
    RegexBuilder::new(&wrapped).ignore_whitespace(true).build().ok()
}

impl RegionMeta {
    fn new(m: &Metadata) -> Option<RegionMeta> {
        let d = m.descriptors();
        // `getNumberTypeHelper`'s order; fixed line and mobile last. A number of any of these
        // types is valid, so the order only matters for the type, which is not used here.
        let kinds = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ];
        let types = kinds.into_iter().flatten().map(Desc::new).collect::<Option<Vec<_>>>()?;
        // `BuildMetadataFromXml.setPossibleLengthsGeneralDesc`: the general description's lengths
        // are the union of every type's (noInternationalDialling excluded), and its local-only
        // lengths the union of theirs that are not also full lengths.
        let mut lengths: Vec<u16> = kinds.iter().flatten().flat_map(|k| k.possible_length().iter().copied()).collect();
        lengths.sort_unstable();
        lengths.dedup();
        let mut local_lengths: Vec<u16> = kinds
            .iter()
            .flatten()
            .flat_map(|k| k.possible_local_length().iter().copied())
            .filter(|l| !lengths.contains(l))
            .collect();
        local_lengths.sort_unstable();
        local_lengths.dedup();
        // libphonenumber's build step: with no nationalPrefixForParsing, the national prefix
        // itself is the parsing prefix.
        let npp = match (m.national_prefix_for_parsing(), m.national_prefix()) {
            (Some(re), _) => Some(compile(re.as_str(), Anchor::Start)?),
            (None, Some(prefix)) if !prefix.is_empty() => Some(compile(&regex::escape(prefix), Anchor::Start)?),
            _ => None,
        };
        Some(RegionMeta {
            country_code: m.country_code(),
            idd: match m.international_prefix() {
                Some(re) => Some(compile(re.as_str(), Anchor::Start)?),
                None => None,
            },
            national_prefix_for_parsing: npp,
            transform_rule: m.national_prefix_transform_rule().filter(|r| !r.is_empty()).map(str::to_string),
            general: Desc::new(d.general())?,
            types,
            leading_digits: match m.leading_digits() {
                Some(re) => Some(compile(re.as_str(), Anchor::Start)?),
                None => None,
            },
            lengths,
            local_lengths,
        })
    }

    /// The international dialling prefix pattern (`011`, `00`, `0011`, `8~10`, ...).
    pub(super) fn idd(&self) -> Option<&Regex> {
        self.idd.as_ref()
    }

    /// The general description's possible and local-only lengths, for the differential test.
    pub(super) fn possible_lengths(&self) -> (&[u16], &[u16]) {
        (&self.lengths, &self.local_lengths)
    }

    /// libphonenumber's `testNumberLength` for an unknown type.
    pub(super) fn test_length(&self, nsn: &str) -> Length {
        let len = nsn.len();
        let (Some(&min), Some(&max)) = (self.lengths.first(), self.lengths.last()) else {
            return Length::Invalid;
        };
        if self.local_lengths.iter().any(|&l| usize::from(l) == len) {
            Length::LocalOnly
        } else if len == usize::from(min) {
            Length::Possible
        } else if len < usize::from(min) {
            Length::TooShort
        } else if len > usize::from(max) {
            Length::TooLong
        } else if self.lengths.iter().any(|&l| usize::from(l) == len) {
            Length::Possible
        } else {
            Length::Invalid
        }
    }

    /// libphonenumber's `maybeStripNationalPrefixAndCarrierCode`, without the carrier code:
    /// the number with its trunk prefix (`0`, `1`, `8`, a carrier selection code, ...) removed
    /// or transformed, or `None` when nothing is to be removed.
    pub(super) fn strip_national_prefix(&self, number: &str) -> Option<String> {
        let re = self.national_prefix_for_parsing.as_ref()?;
        if number.is_empty() {
            return None;
        }
        let caps = re.captures(number)?;
        let whole = caps.get(0)?;
        let viable_before = self.general.matches(number);
        let groups = caps.len() - 1;
        let last_group = if groups > 0 { caps.get(groups) } else { None };
        match (&self.transform_rule, last_group) {
            (Some(rule), Some(_)) => {
                let mut transformed = expand(rule, &caps);
                transformed.push_str(&number[whole.end()..]);
                if viable_before && !self.general.matches(&transformed) {
                    return None;
                }
                Some(transformed)
            }
            _ => {
                let rest = &number[whole.end()..];
                if viable_before && !self.general.matches(rest) {
                    return None;
                }
                Some(rest.to_string())
            }
        }
    }

    /// libphonenumber's `getNumberTypeHelper(..) != UNKNOWN`.
    pub(super) fn is_valid_nsn(&self, nsn: &str) -> bool {
        self.general.matches_with_length(nsn) && self.types.iter().any(|t| t.matches_with_length(nsn))
    }

    /// Whether the region's leading digits (for calling codes shared by several regions) start
    /// `nsn`.
    fn leading_digits_match(&self, nsn: &str) -> Option<bool> {
        self.leading_digits.as_ref().map(|re| re.is_match(nsn))
    }
}

/// Expands a Java replacement (`$1`, `9$1`) with the captured groups.
fn expand(rule: &str, caps: &regex::Captures<'_>) -> String {
    let mut out = String::with_capacity(rule.len() + 8);
    let mut chars = rule.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek().and_then(|d| d.to_digit(10))) {
            ('$', Some(group)) => {
                chars.next();
                if let Some(m) = usize::try_from(group).ok().and_then(|g| caps.get(g)) {
                    out.push_str(m.as_str());
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Compiled regions, by ISO code and by non-geographic calling code.
#[derive(Default)]
struct Cache {
    regions: HashMap<String, Option<Arc<RegionMeta>>>,
    non_geo: HashMap<u16, Option<Arc<RegionMeta>>>,
}

fn cache() -> &'static RwLock<Cache> {
    static CACHE: OnceLock<RwLock<Cache>> = OnceLock::new();
    CACHE.get_or_init(RwLock::default)
}

/// The metadata of a region by its ISO code (`US`, `GB`), if libphonenumber has any.
pub(super) fn for_region(id: &str) -> Option<Arc<RegionMeta>> {
    if let Some(hit) = cache().read().ok().and_then(|c| c.regions.get(id).cloned()) {
        return hit;
    }
    let made = DATABASE.by_id(id).and_then(RegionMeta::new).map(Arc::new);
    if let Ok(mut c) = cache().write() {
        c.regions.entry(id.to_string()).or_insert_with(|| made.clone());
    }
    made
}

fn for_non_geo(code: u16) -> Option<Arc<RegionMeta>> {
    if let Some(hit) = cache().read().ok().and_then(|c| c.non_geo.get(&code).cloned()) {
        return hit;
    }
    let made = DATABASE.by_code(&code).and_then(|m| m.into_iter().next()).and_then(RegionMeta::new).map(Arc::new);
    if let Ok(mut c) = cache().write() {
        c.non_geo.entry(code).or_insert_with(|| made.clone());
    }
    made
}

/// The regions (ISO codes, or `001` for a non-geographic code) that share a calling code, the
/// main one first, as libphonenumber's `COUNTRY_CODE_TO_REGION_CODE`.
fn regions_for_code(code: u16) -> Vec<&'static str> {
    DATABASE.region(&code).unwrap_or_default()
}

/// Whether a calling code is assigned.
pub(super) fn is_calling_code(code: u16) -> bool {
    DATABASE.region(&code).is_some()
}

/// The metadata libphonenumber uses for numbers of a calling code: its main region's, or the
/// code's own for a non-geographic code (`+800`, `+882`, ...).
pub(super) fn for_code(code: u16) -> Option<Arc<RegionMeta>> {
    match regions_for_code(code).first() {
        Some(&"001") => for_non_geo(code),
        Some(main) => for_region(main),
        None => None,
    }
}

/// libphonenumber's `isValidNumber`: finds the region of a calling code that the number
/// belongs to (by leading digits, else by type) and checks the number against it alone.
pub(super) fn is_valid(code: u16, nsn: &str) -> bool {
    let regions = regions_for_code(code);
    let meta = match regions.as_slice() {
        [] => return false,
        [_] => for_code(code),
        many => many
            .iter()
            .filter_map(|r| for_region(r))
            .find(|m| m.leading_digits_match(nsn).unwrap_or_else(|| m.is_valid_nsn(nsn))),
    };
    meta.is_some_and(|m| m.is_valid_nsn(nsn))
}
