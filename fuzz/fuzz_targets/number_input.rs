//! Number input as dialled on devices in several regions: a typed error, a special number, or
//! an E.164 number that is stable under re-classification. Never a panic that escapes core.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quietline_core::numbers::{classify, Classified, Region};

const REGIONS: &[&str] = &["US", "GB", "DE", "FR", "IN", "BR", "JP", "AU", "CA", "ZA"];

fuzz_target!(
    init: {
        // `numbers::classify` contains panics of the third-party metadata parser with
        // `catch_unwind`; keep the default hook quiet so that only panics escaping core abort
        // (libfuzzer-sys still aborts on any panic that reaches it).
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
        let Some((&sel, rest)) = data.split_first() else { return };
        let Ok(input) = std::str::from_utf8(rest) else { return };
        let region = Region::parse(REGIONS[usize::from(sel) % REGIONS.len()]).expect("known region");
        if let Ok(Classified::Number(n)) = classify(input, region) {
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
