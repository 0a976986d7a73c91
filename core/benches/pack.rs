//! Pack verification and loading: signature check, decode, consistency check
//! and indexing, i.e. what `Engine::load_catalog` does before a pack is used.
//!
//! By default the pack is synthetic with the shape of a MovieLens-1M pack
//! (3,883 items, 40 neighbours and 20 transitions each). Set `MIZAN_BENCH_PACK`
//! and `MIZAN_BENCH_PUBKEY` to measure a real pack built by `mizan pack build`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use mizan::catalog::Catalog;

fn bench(c: &mut Criterion) {
    let (bytes, key) = match (std::env::var("MIZAN_BENCH_PACK"), std::env::var("MIZAN_BENCH_PUBKEY")) {
        (Ok(pack), Ok(key)) => (std::fs::read(pack).expect("pack file"), std::fs::read(key).expect("key file")),
        _ => common::synthetic_pack(0, 0),
    };
    let trusted = vec![key];
    eprintln!("pack size: {} bytes", bytes.len());
    c.bench_function("pack_verify_and_load", |b| {
        b.iter(|| Catalog::from_signed(std::hint::black_box(&bytes), &trusted).expect("verifies"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
