//! A synthetic pack with the shape of a MovieLens-1M pack, shared by the benches.

use mizan::catalog::{public_key, CatalogPack, Category, Embeddings, Item, NeighbourList, PackMeta, RankerWeights};
use mizan::network::SequenceNetwork;
use ring::signature::Ed25519KeyPair;

/// Items in the synthetic catalogue (as in MovieLens-1M).
pub const ITEMS: u32 = 3_883;

/// The synthetic pack of [`ITEMS`] items (40 neighbours and 20 transitions per
/// item; with `network_dim > 0`, also a sequence network of that size; with
/// `embedding_dim > 0`, item embeddings of that size, weighed), signed, and its public key.
#[allow(dead_code)] // each bench uses one of the two
pub fn synthetic_pack(network_dim: usize, embedding_dim: usize) -> (Vec<u8>, Vec<u8>) {
    synthetic_pack_of(ITEMS, network_dim, embedding_dim)
}

/// The same shape with `items` items, in one category per 500 items (at least 18).
pub fn synthetic_pack_of(items: u32, network_dim: usize, embedding_dim: usize) -> (Vec<u8>, Vec<u8>) {
    let n_categories = (items / 500).max(18);
    let lcg = |x: u64| x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    let mut state = 7u64;
    let mut next = move || {
        state = lcg(state);
        state >> 33
    };
    let mut list = |len: usize| {
        let pairs: Vec<(u32, f32)> = (0..len).map(|rank| (next() as u32 % items, 1.0 / (rank + 1) as f32)).collect();
        NeighbourList::quantise(&pairs)
    };
    let catalogue = (0..items)
        .map(|i| Item {
            id: i.to_string(),
            title: format!("A movie title of typical length ({})", 1950 + i % 50),
            categories: vec![i % n_categories, (i / n_categories) % n_categories],
            tags: vec![],
            sensitive: None,
            available_from_ms: None,
            available_until_ms: None,
        })
        .collect();
    let neighbours = (0..items).map(|_| list(40)).collect();
    let transitions = (0..items).map(|_| list(20)).collect();
    let n = items as usize;
    let wave = |len: usize, phase: f32| (0..len).map(|i| (i as f32 * 0.618 + phase).sin()).collect::<Vec<f32>>();
    let network = (network_dim > 0).then(|| SequenceNetwork {
        input: Embeddings::quantise(network_dim, &wave(2 * n * network_dim, 0.0)),
        hidden: wave(network_dim * network_dim, 1.0),
        hidden_bias: wave(network_dim, 2.0),
        output_bias: wave(n, 3.0),
    });
    let pack = CatalogPack {
        meta: PackMeta { pack_version: 1, built_at_ms: 0, source: "synthetic".into() },
        categories: (0..n_categories).map(|c| Category { name: format!("genre {c}"), sensitive: None }).collect(),
        items: catalogue,
        neighbours,
        transitions,
        popularity: (0..items).map(|i| (u64::from(i) * 65_535 / u64::from(items)) as u16).collect(),
        trend: (0..items).map(|i| (u64::from(items - i) * 65_535 / u64::from(items)) as u16).collect(),
        trend_as_of_ms: 0,
        embeddings: (embedding_dim > 0).then(|| Embeddings::quantise(embedding_dim, &wave(n * embedding_dim, 4.0))),
        default_weights: RankerWeights {
            network: if network.is_some() { 0.01 } else { 0.0 },
            embedding: if embedding_dim > 0 { mizan::catalog::EMBEDDING_WEIGHT } else { 0.0 },
            ..RankerWeights::default()
        },
        network,
    };
    let signer = Ed25519KeyPair::from_seed_unchecked(&[9; 32]).expect("seed");
    (pack.sign(&signer), public_key(&signer))
}
