//! Synthetic packs with the shape of real ones, for benchmarks at catalogue
//! sizes no public dataset here reaches: 40 neighbours and 20 successors per
//! item at pseudo-random indices (the hardest case for the pack's index gaps),
//! one category per 500 items (at least 18), two categories per item, and
//! optionally item embeddings and a sequence network of given sizes.

use crate::catalog::{CatalogPack, Category, Embeddings, Item, NeighbourList, PackMeta, RankerWeights, EMBEDDING_WEIGHT, NETWORK_WEIGHT};
use crate::network::SequenceNetwork;

/// Neighbours per item in a synthetic pack.
const SYNTHETIC_NEIGHBOURS: usize = 40;
/// Successors per item in a synthetic pack.
const SYNTHETIC_TRANSITIONS: usize = 20;

/// A synthetic pack of `items` items; with `network_dim > 0` it carries a
/// sequence network of that size, with `embedding_dim > 0` weighed item
/// embeddings. Deterministic.
pub fn synthetic_pack(items: u32, network_dim: usize, embedding_dim: usize) -> CatalogPack {
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
            title: format!("A title of typical length ({})", 1950 + i % 50),
            categories: vec![i % n_categories, (i / n_categories) % n_categories],
            tags: vec![],
            sensitive: None,
            available_from_ms: None,
            available_until_ms: None,
        })
        .collect();
    let neighbours = (0..items).map(|_| list(SYNTHETIC_NEIGHBOURS)).collect();
    let transitions = (0..items).map(|_| list(SYNTHETIC_TRANSITIONS)).collect();
    let n = items as usize;
    let wave = |len: usize, phase: f32| (0..len).map(|i| (i as f32 * 0.618 + phase).sin()).collect::<Vec<f32>>();
    let network = (network_dim > 0).then(|| SequenceNetwork {
        input: Embeddings::quantise(network_dim, &wave(2 * n * network_dim, 0.0)),
        hidden: wave(network_dim * network_dim, 1.0),
        hidden_bias: wave(network_dim, 2.0),
        output_bias: wave(n, 3.0),
    });
    CatalogPack {
        meta: PackMeta { pack_version: 1, built_at_ms: 0, source: "synthetic".into(), coverage: None },
        categories: (0..n_categories).map(|c| Category { name: format!("genre {c}"), sensitive: None }).collect(),
        items: catalogue,
        neighbours,
        transitions,
        popularity: (0..items).map(|i| (u64::from(i) * 65_535 / u64::from(items)) as u16).collect(),
        trend: (0..items).map(|i| (u64::from(items - i) * 65_535 / u64::from(items)) as u16).collect(),
        trend_as_of_ms: 0,
        embeddings: (embedding_dim > 0).then(|| Embeddings::quantise(embedding_dim, &wave(n * embedding_dim, 4.0))),
        default_weights: RankerWeights {
            network: if network.is_some() { NETWORK_WEIGHT } else { 0.0 },
            embedding: if embedding_dim > 0 { EMBEDDING_WEIGHT } else { 0.0 },
            ..RankerWeights::default()
        },
        network,
        repurchase_hours: Vec::new(),
    }
}
