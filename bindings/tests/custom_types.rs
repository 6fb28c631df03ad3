//! The custom types (`src/custom.rs`) through UniFFI's own lowering and lifting, as the
//! generated Kotlin, Swift and Python code drives them: a core time crosses as a timestamp, an
//! E.164 number and a date as strings, and a value from the app that the core cannot hold is a
//! typed `ApiError` that never echoes a number.

use quietline_core::numbers::{classify_for_lookup, Classified, Region};
use quietline_ffi::{ApiError, IsoDate, UniFfiTag, UtcTime, E164};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use uniffi::{Lift, Lower};

/// What the app sends back for `T`, given as the foreign side's bridge value `B`.
fn lift<T: Lift<UniFfiTag>, B: Lower<UniFfiTag, FfiType = T::FfiType>>(b: B) -> uniffi::Result<T> {
    T::try_lift(B::lower(b))
}

/// What the app receives for `t`, read as the foreign side's bridge type `B`.
fn lower<T: Lower<UniFfiTag>, B: Lift<UniFfiTag, FfiType = T::FfiType>>(t: T) -> B {
    B::try_lift(T::lower(t)).expect("the bridge value")
}

fn typed(e: &uniffi::deps::anyhow::Error) -> Option<&ApiError> {
    e.downcast_ref::<ApiError>()
}

#[test]
fn an_e164_number_crosses_as_its_string_and_back() {
    let n = match classify_for_lookup("(207) 555-0100", Region::parse("US").expect("region")).expect("number") {
        Classified::Number(n) => n,
        Classified::Special => panic!("an ordinary number"),
    };
    let s: String = lower::<E164, String>(n.clone());
    assert_eq!(s, "+12075550100");
    assert_eq!(lift::<E164, String>(s).expect("lift"), n);
}

#[test]
fn a_string_that_is_not_canonical_e164_is_refused_without_echoing_it() {
    for s in ["2075550100", "+1 207 555 0100", "tel:+12075550100", "+12075550100 ", "911", "", "+"] {
        let e = lift::<E164, String>(s.to_string()).expect_err(s);
        match typed(&e) {
            Some(ApiError::InvalidNumber { reason }) => assert!(!reason.contains("555"), "{reason}"),
            other => panic!("{s:?}: expected InvalidNumber, got {other:?}"),
        }
        assert!(!format!("{e:?}").contains("555"), "the error echoes the input: {e:?}");
    }
}

#[test]
fn a_time_crosses_as_a_timestamp_and_one_beyond_the_core_is_a_typed_error() {
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-23T15:00:00.25Z").expect("time").to_utc();
    let st: SystemTime = lower::<UtcTime, SystemTime>(t);
    assert_eq!(st, UNIX_EPOCH + Duration::from_millis(1_795_446_000_250));
    assert_eq!(lift::<UtcTime, SystemTime>(st).expect("lift"), t);
    // Not within the last second before 1970: UniFFI's timestamp encoding (a signed seconds
    // count, unsigned nanoseconds) loses the sign of -0.25 s and reads it back as +0.25 s.
    let before_1970 = chrono::DateTime::parse_from_rfc3339("1969-12-31T23:59:58.75Z").expect("time").to_utc();
    assert_eq!(lift::<UtcTime, SystemTime>(lower::<UtcTime, SystemTime>(before_1970)).expect("lift"), before_1970);

    let far = UNIX_EPOCH + Duration::from_secs(1 << 50);
    let e = lift::<UtcTime, SystemTime>(far).expect_err("beyond chrono's range");
    assert!(matches!(typed(&e), Some(ApiError::InvalidInput { .. })), "{e:?}");
}

#[test]
fn a_date_crosses_as_yyyy_mm_dd_and_anything_else_is_a_typed_error() {
    let d = IsoDate::from_ymd_opt(2026, 11, 20).expect("date");
    let s: String = lower::<IsoDate, String>(d);
    assert_eq!(s, "2026-11-20");
    assert_eq!(lift::<IsoDate, String>(s).expect("lift"), d);
    for bad in ["next week", "2026-13-01", "20-11-2026", ""] {
        let e = lift::<IsoDate, String>(bad.to_string()).expect_err(bad);
        assert!(matches!(typed(&e), Some(ApiError::InvalidInput { .. })), "{bad}: {e:?}");
    }
}
