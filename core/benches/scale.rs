//! `recommend` at catalogue scale: top 20 over synthetic packs of 1k, 10k and
//! 100k items (40 neighbours and 20 transitions each, as the benches' packs)
//! after histories of 50, 500 and 5,000 events, with the default request
//! (diversity 0.2, exploration 0.1). `MIZAN_SCALE` limits the grid, e.g.
//! `MIZAN_SCALE=10000x500`. Besides criterion's estimates, each configuration
//! is timed call by call ([`LATENCY_CALLS`] calls) for its p50 and p99, printed
//! and, with `MIZAN_BENCH_OUT=file.jsonl`, appended as JSON lines (the input of
//! `examples/scale/chart.py`). A second group varies the categories of a
//! 10k-item catalogue, with and without exploration.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mizan::{Engine, EngineConfig, Event, EventKind, RecommendRequest, Retention, StaticKey, SyncPolicy, PERSONALISATION};

const NOW: i64 = 1_780_000_000_000;
/// Calls timed one by one per configuration for the latency percentiles.
const LATENCY_CALLS: usize = 400;

/// The `q` quantile (0..=1) of sorted durations, in µs.
fn quantile_us(sorted: &[Duration], q: f64) -> f64 {
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at].as_secs_f64() * 1e6
}

/// Times `LATENCY_CALLS` calls one by one; prints and records p50 and p99.
fn latency(engine: &Engine, request: &RecommendRequest, items: u32, history: u32) {
    let mut times: Vec<Duration> = (0..LATENCY_CALLS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(engine.recommend(std::hint::black_box(request)).expect("ranks"));
            started.elapsed()
        })
        .collect();
    times.sort_unstable();
    let (p50, p99) = (quantile_us(&times, 0.5), quantile_us(&times, 0.99));
    eprintln!("latency {items} items x {history} events: p50 {p50:.1} µs, p99 {p99:.1} µs");
    if let Ok(path) = std::env::var("MIZAN_BENCH_OUT") {
        let line = format!("{{\"items\": {items}, \"history\": {history}, \"p50_us\": {p50:.2}, \"p99_us\": {p99:.2}}}\n");
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("output file");
        std::io::Write::write_all(&mut file, line.as_bytes()).expect("writes");
    }
}

/// An engine with the pack loaded and `history` views recorded, one a minute
/// up to `NOW`, spread over the catalogue.
pub fn engine_with_history(dir: &std::path::Path, pack: &[u8], key: Vec<u8>, items: u32, history: u32) -> Engine {
    let mut config = EngineConfig::new(dir, vec![key]);
    config.retention = Retention { max_age_days: None, max_log_bytes: None };
    config.sync = SyncPolicy::GroupCommit { max_bytes: u64::MAX, max_delay_ms: u64::MAX };
    let engine = Engine::open(config, Arc::new(StaticKey(vec![3; 32]))).expect("opens");
    engine.set_consent(PERSONALISATION, true, "bench", false).expect("consent");
    engine.load_catalog(pack).expect("pack");
    let events: Vec<Event> = (0..history)
        .map(|i| {
            let item = (u64::from(i) * 7_919 + u64::from(i / 7)) % u64::from(items);
            Event::new(EventKind::View, item.to_string(), NOW - 60_000 * i64::from(history - i))
        })
        .collect();
    for batch in events.chunks(mizan::events::MAX_BATCH) {
        engine.record(batch).expect("records");
    }
    engine
}

fn bench(c: &mut Criterion) {
    let only = std::env::var("MIZAN_SCALE").ok();
    let mut group = c.benchmark_group("recommend_top20");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    let request = RecommendRequest { k: 20, now_ms: Some(NOW), seed: Some(1), ..Default::default() };
    for items in [1_000u32, 10_000, 100_000] {
        let (pack, key) = common::synthetic_pack_of(items, 0, 0);
        for history in [50u32, 500, 5_000] {
            let id = format!("{items}x{history}");
            if only.as_ref().is_some_and(|o| *o != id) {
                continue;
            }
            let dir = tempfile::tempdir().expect("temp dir");
            let engine = engine_with_history(dir.path(), &pack, key.clone(), items, history);
            group.bench_function(BenchmarkId::from_parameter(&id), |b| b.iter(|| engine.recommend(std::hint::black_box(&request)).expect("ranks")));
            latency(&engine, &request, items, history);
        }
    }
    group.finish();
}

/// `recommend` top 20 over 10k items after 500 events as the catalogue's
/// categories grow from 20 to 10,000, with the default request (exploration
/// 0.1: Thompson sampling over the categories) and without exploration.
fn categories(c: &mut Criterion) {
    let mut group = c.benchmark_group("recommend_top20_categories");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    let (items, history) = (10_000, 500);
    for categories in [20u32, 200, 2_000, 10_000] {
        let (pack, key) = common::synthetic_pack_in_categories(items, categories);
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = engine_with_history(dir.path(), &pack, key, items, history);
        for exploration in [0.1f32, 0.0] {
            let request = RecommendRequest { k: 20, now_ms: Some(NOW), seed: Some(1), exploration, ..Default::default() };
            let id = format!("{categories} categories, exploration {exploration}");
            group.bench_function(BenchmarkId::from_parameter(id), |b| b.iter(|| engine.recommend(std::hint::black_box(&request)).expect("ranks")));
        }
    }
    group.finish();
}

criterion_group!(benches, bench, categories);
criterion_main!(benches);
