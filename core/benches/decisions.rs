//! Decision latency with a realistic registry, against the targets of issue 2:
//! an SMS check and a call end under 5 µs at 100,000 survivors and within 10x of one
//! HMAC-SHA256 of the number; opening an agent with 10,000 survivors under 20 ms; and the cost
//! of one durable commit (fsync). Results: docs/performance.md. Run: scripts/bench.sh.
//!
//! The fixtures register their survivors with one `Agent::register_survivors` call (one commit).
// criterion's group and main macros define undocumented functions.
#![allow(missing_docs)]

use chrono::{DateTime, Duration as Days, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use quietline_core::numbers::{self, Region};
use quietline_core::store::STATE_FILE;
use quietline_core::{
    Agent, AgentConfig, CallDirection, ContactPlan, Event, FileKeyProtector, FixedClock, Line, Policy, Verdict,
};
use ring::hmac;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const T0: &str = "2026-11-23T15:00:00Z";
const SURVIVOR: &str = "+1 207-555-0100";
const SIZES: [usize; 3] = [100, 10_000, 100_000];

struct Fixture {
    dir: PathBuf,
    clock: Arc<FixedClock>,
    protector: Arc<FileKeyProtector>,
    /// The state file as built, so that benchmarks that commit start every iteration from it:
    /// otherwise each commit's audit records would grow the state under measurement.
    pristine: Vec<u8>,
}

impl Fixture {
    fn open(&self) -> Agent {
        Agent::open(&self.dir, self.protector.clone(), self.clock.clone()).expect("open")
    }

    fn fresh(&self) -> Agent {
        std::fs::write(self.dir.join(STATE_FILE), &self.pristine).expect("restore state");
        self.open()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Distinct valid North American numbers, none of them the measured survivor's.
fn numbers(region: Region) -> impl Iterator<Item = quietline_core::E164> {
    const AREAS: [u32; 10] = [212, 305, 312, 415, 503, 617, 702, 808, 917, 971];
    AREAS.into_iter().flat_map(move |area| {
        (234..=987u32).flat_map(move |exchange| {
            (0..10_000u32)
                .step_by(97)
                .filter_map(move |line| numbers::normalise(&format!("+1 {area} {exchange} {line:04}"), region).ok())
        })
    })
}

/// A byod agent on disk holding `n` survivors, the measured one among them.
fn fixture(n: usize) -> Fixture {
    let dir = std::env::temp_dir().join(format!("ql-bench-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = Arc::new(FixedClock::at(T0, 0).expect("clock"));
    let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let policy = Policy::from_json(r#"{"schema":1,"mode":"byod"}"#).expect("policy");
    let started = Instant::now();
    {
        let mut agent =
            Agent::create(AgentConfig::new(&dir, "US"), protector.clone(), clock.clone(), policy).expect("create");
        let region = Region::parse("US").expect("US");
        let mut batch: Vec<(String, Option<ContactPlan>)> = vec![(SURVIVOR.to_string(), None)];
        batch.extend(numbers(region).take(n - 1).map(|e| (e.expose().to_string(), None)));
        assert_eq!(batch.len(), n, "not enough distinct numbers");
        agent.register_survivors(&batch).expect("bulk registration");
    }
    let pristine = std::fs::read(dir.join(STATE_FILE)).expect("state file");
    let f = Fixture { dir, clock, protector, pristine };
    let agent = f.open();
    assert_eq!(agent.survivor_count(), n);
    assert!(agent.is_survivor("(207) 555-0100").expect("lookup"));
    let kib = f.pristine.len() / 1024;
    eprintln!("fixture: {n} survivors, state file {kib} KiB, built in {:.1?}", started.elapsed());
    f
}

fn clock_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(T0).expect("t0").with_timezone(&Utc)
}

fn call_ended(number: &str) -> Event {
    Event::CallEnded {
        number: number.into(),
        line: Line::Direct,
        direction: CallDirection::Outgoing,
        started_at: clock_now() - Days::minutes(5),
        dropped: false,
    }
}

fn quick<'a>(c: &'a mut Criterion, name: &str) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    g
}

fn benches(c: &mut Criterion) {
    // The reference: one HMAC-SHA256 of the E.164 number under a 32-byte key.
    {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[7u8; 32]);
        let mut g = quick(c, "reference");
        g.bench_function("hmac_sha256_of_number", |b| b.iter(|| hmac::sign(&key, black_box(b"+12075550100"))));
        let us = Region::parse("US").expect("US");
        g.bench_function("classify_number", |b| b.iter(|| numbers::classify(black_box("(207) 555-0100"), us)));
        g.bench_function("classify_number_for_lookup", |b| {
            b.iter(|| numbers::classify_for_lookup(black_box("(207) 555-0100"), us))
        });
        g.finish();
    }

    let mut open_fixture = None;
    for n in SIZES {
        let f = fixture(n);
        let mut agent = f.open();
        let mut g = quick(c, &format!("survivors_{n}"));

        let blocked = agent.handle(Event::OutgoingSms { number: "(207) 555-0100".into() }).expect("sms");
        assert!(matches!(blocked.verdict, Verdict::Block { .. }), "the measured number is a survivor");
        g.bench_function(BenchmarkId::new("sms_check", "survivor"), |b| {
            b.iter(|| agent.handle(black_box(Event::OutgoingSms { number: "(207) 555-0100".into() })).expect("sms"))
        });
        g.bench_function(BenchmarkId::new("sms_check", "not_survivor"), |b| {
            b.iter(|| agent.handle(black_box(Event::OutgoingSms { number: "(207) 555-0199".into() })).expect("sms"))
        });
        // A call end with someone who is not a survivor: a decision and no commit.
        g.bench_function(BenchmarkId::new("call_end", "not_survivor"), |b| {
            b.iter(|| agent.handle(black_box(call_ended("(207) 555-0199"))).expect("call end"))
        });
        // A call end with a survivor issues durable deletions, so it commits (and fsyncs) the
        // whole state before it returns.
        let out = f.fresh().handle(call_ended("(207) 555-0100")).expect("call end");
        assert_eq!(out.actions.len(), 2, "two deletions");
        g.sample_size(10);
        g.bench_function(BenchmarkId::new("call_end", "survivor_with_commit"), |b| {
            b.iter_batched_ref(
                || f.fresh(),
                |agent| agent.handle(black_box(call_ended("(207) 555-0100"))).expect("call end"),
                BatchSize::PerIteration,
            )
        });
        g.finish();
        drop(agent);
        if n == 10_000 {
            open_fixture = Some(f);
        }
    }

    let mut g = quick(c, "state");
    if let Some(f) = &open_fixture {
        g.bench_function("agent_open_10000_survivors", |b| b.iter(|| f.open()));
    }
    let small = fixture(100);
    let posture = || Event::Posture { lock_timeout_secs: Some(20), secure_lock: Some(true), caller_id_hidden: None };
    g.bench_function("state_commit_fsync_100_survivors", |b| {
        b.iter_batched_ref(|| small.fresh(), |agent| agent.handle(posture()).expect("posture"), BatchSize::PerIteration)
    });
    if let Some(f) = &open_fixture {
        g.bench_function("state_commit_fsync_10000_survivors", |b| {
            b.iter_batched_ref(|| f.fresh(), |agent| agent.handle(posture()).expect("posture"), BatchSize::PerIteration)
        });
    }
    g.finish();
}

criterion_group!(decisions, benches);
criterion_main!(decisions);
