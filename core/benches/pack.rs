//! Pack verification and loading: signature check, decode, consistency check
//! and indexing, i.e. what `Engine::load_catalog` does before a pack is used.
//!
//! By default the pack is synthetic with the shape of a MovieLens-1M pack
//! (3,883 items, 40 neighbours and 20 transitions each). Set `MIZAN_BENCH_PACK`
//! and `MIZAN_BENCH_PUBKEY` to measure a real pack built by `mizan pack build`.

use criterion::{criterion_group, criterion_main, Criterion};
use mizan::catalog::{public_key, Catalog, CatalogPack, Category, Item, NeighbourList, PackMeta, RankerWeights};
use ring::signature::Ed25519KeyPair;

const ITEMS: u32 = 3_883;

fn synthetic_pack() -> (Vec<u8>, Vec<u8>) {
    let lcg = |x: u64| x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    let mut state = 7u64;
    let mut list = |len: usize| {
        let pairs: Vec<(u32, f32)> = (0..len)
            .map(|rank| {
                state = lcg(state);
                ((state >> 33) as u32 % ITEMS, 1.0 / (rank + 1) as f32)
            })
            .collect();
        NeighbourList::quantise(&pairs)
    };
    let items = (0..ITEMS)
        .map(|i| Item {
            id: i.to_string(),
            title: format!("A movie title of typical length ({})", 1950 + i % 50),
            categories: vec![i % 18, (i / 18) % 18],
            tags: vec![],
            sensitive: None,
            available_from_ms: None,
            available_until_ms: None,
        })
        .collect();
    let pack = CatalogPack {
        meta: PackMeta { pack_version: 1, built_at_ms: 0, source: "synthetic".into() },
        categories: (0..18).map(|c| Category { name: format!("genre {c}"), sensitive: None }).collect(),
        items,
        neighbours: (0..ITEMS).map(|_| list(40)).collect(),
        transitions: (0..ITEMS).map(|_| list(20)).collect(),
        popularity: (0..ITEMS).map(|i| (i * 16) as u16).collect(),
        embeddings: None,
        default_weights: RankerWeights::default(),
    };
    let signer = Ed25519KeyPair::from_seed_unchecked(&[9; 32]).expect("seed");
    (pack.sign(&signer), public_key(&signer))
}

fn bench(c: &mut Criterion) {
    let (bytes, key) = match (std::env::var("MIZAN_BENCH_PACK"), std::env::var("MIZAN_BENCH_PUBKEY")) {
        (Ok(pack), Ok(key)) => (std::fs::read(pack).expect("pack file"), std::fs::read(key).expect("key file")),
        _ => synthetic_pack(),
    };
    let trusted = vec![key];
    eprintln!("pack size: {} bytes", bytes.len());
    c.bench_function("pack_verify_and_load", |b| {
        b.iter(|| Catalog::from_signed(std::hint::black_box(&bytes), &trusted).expect("verifies"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
