//! Number input as dialled on devices in several regions: a typed error, a special number, or
//! an E.164 number that is stable under re-classification and that the lookup path reads the
//! same. Never a panic that escapes core (the number parser is core's port of libphonenumber's).
#![no_main]

use libfuzzer_sys::fuzz_target;
use quietline_core::numbers::{classify, classify_for_lookup, Classified, Region};

const REGIONS: &[&str] = &[
    "US", "GB", "DE", "FR", "IN", "BR", "JP", "AU", "CA", "ZA", "RU", "AR", "IT", "KR", "SH", "NU", "MX", "ID", "KZ", "TK",
];

fuzz_target!(
    |data: &[u8]| {
        let Some((&sel, rest)) = data.split_first() else { return };
        let Ok(input) = std::str::from_utf8(rest) else { return };
        let region = Region::parse(REGIONS[usize::from(sel) % REGIONS.len()]).expect("known region");
        let registered = classify(input, region);
        if let Ok(c) = &registered {
            assert_eq!(classify_for_lookup(input, region).as_ref(), Ok(c), "lookup reads what registration accepts");
        }
        if let Ok(Classified::Number(n)) = registered {
            let e164 = n.expose();
            assert!(e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()), "E.164 form");
            assert!(!format!("{n:?}{n}").contains(&e164[1..]), "digits never show through Debug/Display");
            // The normalised form reads back as the same number, whatever the region.
            match classify(e164, region) {
                Ok(Classified::Number(m)) => assert_eq!(m.expose(), e164),
                other => panic!("E.164 form did not classify back to itself: {other:?}"),
            }
        }
    }
);
