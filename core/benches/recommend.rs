//! `record` + `recommend` on the device: one person with a 30-item history,
//! top 10 over a MovieLens-1M-sized catalogue, with and without a sequence
//! network or weighed item embeddings in the pack (what each costs per request), and `feedback` of
//! one screen of impressions (the online ranker learns, the state is saved).

mod common;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use mizan::{Engine, EngineConfig, Event, EventKind, Feedback, RecommendRequest, StaticKey, PERSONALISATION};

const NOW: i64 = 1_780_000_000_000;

fn engine_with(pack: &[u8], key: Vec<u8>, dir: &std::path::Path) -> Engine {
    let engine = Engine::open(EngineConfig::new(dir, vec![key]), Arc::new(StaticKey(vec![3; 32]))).expect("opens");
    engine.set_consent(PERSONALISATION, true, "bench", false).expect("consent");
    engine.load_catalog(pack).expect("pack");
    let history: Vec<Event> = (0..30).map(|i| Event::new(EventKind::View, ((i * 131) % common::ITEMS).to_string(), NOW - 60_000 * (30 - i64::from(i)))).collect();
    engine.record(&history).expect("records");
    engine
}

fn bench(c: &mut Criterion) {
    let request = RecommendRequest { k: 10, now_ms: Some(NOW), diversity: 0.0, exploration: 0.0, ..Default::default() };
    for (name, dim, embedding_dim) in
        [("recommend_top10", 0, 0), ("recommend_top10_with_network_d128", 128, 0), ("recommend_top10_with_embeddings_d32", 0, 32)]
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let (pack, key) = common::synthetic_pack(dim, embedding_dim);
        let engine = engine_with(&pack, key, dir.path());
        c.bench_function(name, |b| b.iter(|| engine.recommend(std::hint::black_box(&request)).expect("ranks")));
        if dim > 0 {
            let shown = engine.recommend(&request).expect("ranks").items.into_iter().map(|r| r.item_id).collect();
            let feedback = Feedback { impressions: shown, timestamp_ms: Some(NOW), ..Default::default() };
            c.bench_function("feedback_10_impressions_with_network_d128", |b| b.iter(|| engine.feedback(std::hint::black_box(&feedback)).expect("learns")));
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
