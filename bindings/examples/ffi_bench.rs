//! The Rust side of the FFI benchmark (issue 4): one decision call, an outgoing-SMS check to a
//! registered survivor, timed (a) on the core's agent directly and (b) through quietline-ffi's
//! Rust API (the same `Agent` object the generated bindings call: the mutex, the panic guard and
//! the record conversions, but no foreign-language boundary), plus (c) the trivial getter
//! `generation()` through the same API. `scripts/ffi-bench.sh` runs this in release mode beside
//! the same calls from Kotlin through JNA (`scripts/ffi-bench/FfiBench.kt`) and reports the ratios
//! in docs/performance.md. A measurement, not a test: it asserts only that the verdict is a block.
//!
//! Output: one line per measurement, `<name> <nanoseconds per call>`.
//!
//! Run: `cargo run --release -p quietline-ffi --example ffi_bench [SURVIVORS] [CALLS_PER_BATCH]`

use quietline_core as ql;
use quietline_ffi::{Agent, Event, Verdict};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

const T0: &str = "2026-11-23T15:00:00Z";
const SURVIVOR: &str = "+1 207-555-0100";
const BATCHES: usize = 7;

// The test app's clock (frozen at T0) and key protector (not a real one: the benchmark measures
// decisions, not the key store), shared with the FFI crate's tests.
#[path = "../tests/common/mod.rs"]
mod common;
use common::{Frozen as FrozenClock, Xor as XorProtector};

/// The n-th survivor number: distinct valid North American numbers, none of them `SURVIVOR`.
fn survivor(i: usize) -> String {
    format!("+1 312-555-{:04}", i % 10_000)
}

/// Mean nanoseconds per call of the fastest of `BATCHES` batches (the least disturbed by the
/// other processes on the machine), after a warm-up batch.
fn time(calls: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..calls {
        f();
    }
    (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed().as_nanos() as f64 / calls as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let survivors = args.next().unwrap_or(100);
    let calls = args.next().unwrap_or(200_000);
    let base = std::env::temp_dir().join(format!("ql-ffi-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let policy = r#"{"schema":1,"mode":"byod"}"#;

    // (a) The core's agent, called directly.
    let clock = Arc::new(ql::FixedClock::at(T0, 0).expect("clock"));
    let protector = Arc::new(ql::FileKeyProtector::new(base.join("core.kek")));
    let config = ql::AgentConfig::new(base.join("core"), "US");
    let mut core =
        ql::Agent::create(config, protector, clock, ql::Policy::from_json(policy).expect("policy")).expect("create");
    // (b), (c) The FFI crate's agent, through its Rust API.
    let ffi = Agent::create(
        base.join("ffi").to_string_lossy().into_owned(),
        "US".into(),
        policy.into(),
        Arc::new(XorProtector),
        Some(Arc::new(FrozenClock)),
    )
    .expect("create");
    for i in 0..survivors.saturating_sub(1) {
        core.register_survivor(&survivor(i), None).expect("register");
        ffi.register_survivor(survivor(i), None).expect("register");
    }
    core.register_survivor(SURVIVOR, None).expect("register");
    ffi.register_survivor(SURVIVOR.into(), None).expect("register");

    let core_event = || ql::Event::OutgoingSms { number: SURVIVOR.into() };
    assert!(matches!(core.handle(core_event()).expect("handle").verdict, ql::Verdict::Block { .. }));
    let ffi_event = || Event::OutgoingSms { number: SURVIVOR.into() };
    assert!(matches!(ffi.handle(ffi_event()).expect("handle").verdict, Verdict::Block { .. }));

    let core_sms = time(calls, || {
        black_box(core.handle(black_box(core_event())).expect("handle"));
    });
    let ffi_sms = time(calls, || {
        black_box(ffi.handle(black_box(ffi_event())).expect("handle"));
    });
    let ffi_generation = time(calls, || {
        black_box(ffi.generation().expect("generation"));
    });
    println!("survivors {survivors}");
    println!("rust_core_sms {core_sms:.1}");
    println!("rust_ffi_sms {ffi_sms:.1}");
    println!("rust_ffi_generation {ffi_generation:.1}");
    let _ = std::fs::remove_dir_all(&base);
}
