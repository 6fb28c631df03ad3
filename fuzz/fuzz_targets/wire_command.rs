//! Command decoding, bytes and `QL:` text: never a panic; whatever decodes re-encodes to the
//! same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quietline_core::wire::{self, Command};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Command::from_bytes(data) {
        assert_eq!(c.to_bytes(), data);
        let _ = c.id();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = wire::from_text(text) {
            let _ = wire::header(&bytes);
            let _ = Command::from_bytes(&bytes);
        }
    }
});
