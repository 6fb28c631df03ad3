//! The workspace's binding generator: `cargo run -p quietline-ffi --bin uniffi-bindgen -- generate …`.
//! Using it (rather than a globally installed one) keeps the generator and the library on the
//! same UniFFI version. See docs/bindings.md and scripts/gen-bindings.sh.

fn main() {
    uniffi::uniffi_bindgen_main()
}
