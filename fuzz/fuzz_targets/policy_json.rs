//! Policy JSON: any input is either a policy that validates and round-trips through its
//! canonical JSON, or a typed error that names a field. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quietline_core::{Policy, PolicyError};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    match Policy::from_json(json) {
        Ok(p) => {
            assert_eq!(p.validate(), Ok(()));
            let canonical = p.to_json();
            let again = Policy::from_json(&canonical).expect("the canonical form of a valid policy parses");
            assert_eq!(again, p, "canonical JSON round-trips");
            assert_eq!(again.to_json(), canonical, "canonical JSON is stable");
            // The guidance review is total over valid policies, and refuses exactly its errors.
            let review = quietline_core::guidance::review(&p);
            assert_eq!(quietline_core::guidance::accept(&p).is_err(), review.errors().next().is_some());
        }
        Err(PolicyError::Malformed { field, reason }) => {
            // Only a key that is itself empty (`{"": …}`) leaves an empty path.
            assert!(!field.is_empty() || reason.contains("``"), "an error names its field: {reason}");
        }
        Err(PolicyError::OutOfRange { field, .. } | PolicyError::AgainstGuidance { field, .. }) => {
            assert!(!field.is_empty(), "an error names its field")
        }
        Err(PolicyError::TooLarge(n)) => assert!(n > quietline_core::policy::MAX_POLICY_BYTES),
    }
});
