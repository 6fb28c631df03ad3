//! The core's value types whose foreign shape differs, as UniFFI custom types: a core time
//! (`DateTime<Utc>`) crosses as a timestamp, an [`E164`] number and a calendar date as strings.
//! With these, the core's records and enums that hold them cross as they are (`remote`), with
//! no mirror and no conversion. Each custom type is a typealias in the foreign code (Kotlin
//! `typealias UtcTime = java.time.Instant`, Swift `typealias UtcTime = Date`, Python
//! `UtcTime = Timestamp`, itself `datetime.datetime`), so apps use the platform's own type.
//!
//! Lowering never fails. Lifting (a value from the app) reports a typed `ApiError`
//! (`InvalidInput`, `InvalidNumber` for an E.164 string), which UniFFI raises in the app for a
//! call returning `ApiError`. Today no exported function takes one of these from the app: the
//! app's times arrive in `Event` (checked by hand, see event.rs) and from its `Clock`.

use crate::error::ApiError;
use crate::platform::{from_system_time, to_system_time};
use quietline_core::numbers::{classify_for_lookup, Classified, Region};
use std::time::SystemTime;

pub use quietline_core::numbers::E164;

/// A core time. Its foreign name is `UtcTime`.
pub type UtcTime = chrono::DateTime<chrono::Utc>;

/// A calendar date, `"YYYY-MM-DD"`. Its foreign name is `IsoDate`.
pub type IsoDate = chrono::NaiveDate;

uniffi::custom_type!(
    /// A point in time: `java.time.Instant` in Kotlin, `Date` in Swift, a timezone-aware
    /// `datetime` in Python.
    UtcTime, SystemTime, {
    remote,
    lower: |t| to_system_time(t),
    try_lift: |t| Ok(from_system_time(t).ok_or_else(|| ApiError::input("a time is out of range"))?),
});

uniffi::custom_type!(
    /// A phone number in E.164 form (`+12075550100`), as a string. It names a survivor: keep it
    /// only in protected storage and never log it.
    E164, String, {
    remote,
    lower: |n| n.expose().to_string(),
    try_lift: |s| Ok(e164_from(&s)?),
});

uniffi::custom_type!(
    /// A calendar date, `"YYYY-MM-DD"`, as a string.
    IsoDate, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| Ok(IsoDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| ApiError::input("a date must be \"YYYY-MM-DD\""))?),
});

/// An E.164 string back into the core's number: only the canonical form the core hands out
/// (`+`, the country code, the national number) is accepted. The error never holds the input.
fn e164_from(s: &str) -> Result<E164, ApiError> {
    let refused = || ApiError::InvalidNumber { reason: "not a number in E.164 form".into() };
    if !s.starts_with('+') {
        return Err(refused());
    }
    // A number written with `+` reads the same in every region.
    let region = Region::parse("US").map_err(|_| refused())?;
    match classify_for_lookup(s, region) {
        Ok(Classified::Number(n)) if n.expose() == s => Ok(n),
        _ => Err(refused()),
    }
}
