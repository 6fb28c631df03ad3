//! Receipt, enrollment-response and check-in acknowledgement decoding and verification: never a
//! panic; whatever decodes re-encodes to the same bytes; a fuzzed receipt or acknowledgement
//! never verifies under a fixed key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quietline_core::device;
use quietline_core::wire::{self, CheckinAck, EnrollResponse, Receipt};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Receipt::from_bytes(data) {
        assert_eq!(r.to_bytes(), data);
    }
    if let Ok(e) = EnrollResponse::from_bytes(data) {
        assert_eq!(e.to_bytes(), data);
    }
    if let Ok(a) = CheckinAck::from_bytes(data) {
        assert_eq!(a.to_bytes(), data);
    }
    let text = wire::to_text(data);
    assert!(device::verify_receipt(&text, &[7u8; 32]).is_err());
    let _ = device::verify_enroll_response(&text);
    assert!(quietline_core::checkin::verify_ack(&text, &[7u8; 32]).is_err());
});
