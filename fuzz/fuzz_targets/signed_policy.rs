//! Signed policy and root-rotation containers: decoding never panics, and a fuzzed object is
//! never signed by a fixed root key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quietline_core::trust::{self, RootSet};
use quietline_core::wire::{self, Container, ObjType};

fuzz_target!(|data: &[u8]| {
    for kind in [ObjType::Policy, ObjType::Root, ObjType::EnrollBundle] {
        if let Ok(c) = Container::from_bytes(data, kind) {
            assert_eq!(c.to_bytes().as_deref(), Ok(data));
            let root = RootSet { version: 1, keys: vec![[9u8; 32]], threshold: 1 };
            assert!(trust::check_root_signed(&c, &root).is_err());
        }
    }
    let text = wire::to_text(data);
    let _ = trust::decode_policy(&text);
    let _ = trust::decode_root(&text);
});
