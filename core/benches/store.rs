//! Event store throughput and open time.
//!
//! - `record_1000_batch`: `Engine::record` of 1,000-event batches (validation,
//!   minimisation, sealing, append, model update) with group commit, i.e. without
//!   a sync per batch; `record_1000_batch_with_catalogue` the same with a
//!   5,000-item pack loaded, so the profile index is kept up to date too.
//! - `open_1m_events_with_snapshot`: `Engine::open` (and drop) of a store holding
//!   1,000,000 events whose model snapshot is current.
//!
//! Bytes per event on disk are printed at set-up.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mizan::{Engine, EngineConfig, Event, EventKind, Retention, StaticKey, SyncPolicy, PERSONALISATION};

const BATCH: usize = 1_000;
const EVENTS_FOR_OPEN: usize = 1_000_000;

fn config(dir: &std::path::Path) -> EngineConfig {
    let mut config = EngineConfig::new(dir, vec![]);
    config.retention = Retention { max_age_days: None, max_log_bytes: None };
    config.sync = SyncPolicy::GroupCommit { max_bytes: 64 << 20, max_delay_ms: 60_000 };
    config
}

fn key() -> Arc<StaticKey> {
    Arc::new(StaticKey(vec![5; 32]))
}

fn batch(n: usize, now: i64) -> Vec<Event> {
    (0..BATCH)
        .map(|k| {
            let i = n * BATCH + k;
            let mut e = Event::new(EventKind::View, format!("sku-{:05}", (i * 7_919) % 5_000), now - 10_000_000 + i as i64);
            e.dwell_secs = Some((i % 120) as f64);
            e
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let now = mizan::engine::now_ms();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(BATCH as u64));
    let signer = ring::signature::Ed25519KeyPair::from_seed_unchecked(&[9; 32]).unwrap();
    let mut pack = mizan::packer::synthetic_pack(5_000, 0, 0);
    pack.items.iter_mut().enumerate().for_each(|(i, item)| item.id = format!("sku-{i:05}"));
    let pack = pack.sign(&signer);
    let mut n = 0;
    for (name, with_pack) in [("record_1000_batch", false), ("record_1000_batch_with_catalogue", true)] {
        let dir = tempfile::tempdir().unwrap();
        let mut engine_config = config(dir.path());
        engine_config.trusted_pack_keys = vec![mizan::catalog::public_key(&signer)];
        let engine = Engine::open(engine_config, key()).unwrap();
        engine.set_consent(PERSONALISATION, true, "bench", false).unwrap();
        if with_pack {
            engine.load_catalog(&pack).unwrap();
        }
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    n += 1;
                    batch(n % 10_000, now)
                },
                |events| engine.record(&events).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }

    let dir = tempfile::tempdir().unwrap();
    {
        let engine = Engine::open(config(dir.path()), key()).unwrap();
        engine.set_consent(PERSONALISATION, true, "bench", false).unwrap();
        for n in 0..EVENTS_FOR_OPEN / BATCH {
            engine.record(&batch(n, now)).unwrap();
        }
        let report = engine.inspect().unwrap();
        eprintln!(
            "{} events: log {} bytes in {} segments = {:.1} bytes/event; all files {} bytes",
            report.store.events,
            report.store.log_bytes,
            report.store.segments,
            report.store.log_bytes as f64 / report.store.events as f64,
            report.store.bytes_on_disk
        );
        engine.close().unwrap();
    }
    group.throughput(Throughput::Elements(EVENTS_FOR_OPEN as u64));
    group.sample_size(20);
    group.bench_function("open_1m_events_with_snapshot", |b| {
        // Each open must be dropped (releasing the lock) before the next; dropping is cheap.
        b.iter(|| drop(Engine::open(config(dir.path()), key()).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
