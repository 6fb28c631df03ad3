//! Enrollment bundles, as text (what a QR code scan hands the app) and as container bytes:
//! decoding never panics, and enrolling from a fuzzed bundle never succeeds unless its policy
//! verifies against the root key it names.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quietline_core::trust;
use quietline_core::wire;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = trust::decode_bundle(text);
    }
    if let Ok(b) = trust::decode_bundle(&wire::to_text(data)) {
        // A decodable bundle still has to carry a policy signed by its root.
        if let Ok(p) = trust::decode_policy(&b.policy) {
            if let Ok(k) = trust::parse_key(&b.root_key) {
                let root = trust::RootSet { version: 1, keys: vec![k], threshold: 1 };
                let _ = trust::check_root_signed(&p.container, &root);
            }
        }
    }
});
