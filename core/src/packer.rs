//! Builds catalogue packs off-device: learns item-to-item neighbours and
//! popularity from an interaction log the app lawfully holds.

use std::collections::HashMap;

use crate::catalog::{CatalogPack, Category, Item, NeighbourList, PackMeta, RankerWeights};

/// One interaction from the app's backend log (item given by its index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    /// Any stable per-user key.
    pub user: u32,
    /// Index into the item list.
    pub item: u32,
    /// When it happened, in ms since the Unix epoch.
    pub timestamp_ms: i64,
}

/// How co-occurrence neighbours are learned.
#[derive(Debug, Clone, PartialEq)]
pub struct CooccurrenceConfig {
    /// Two items co-occur when at most this many steps apart in a user's history.
    pub window: usize,
    /// Neighbours kept per item.
    pub top_k: usize,
}

impl Default for CooccurrenceConfig {
    fn default() -> Self {
        CooccurrenceConfig { window: 8, top_k: 40 }
    }
}

/// Learns a pack from items and interactions. Neighbour weight is the
/// distance-discounted co-occurrence count, cosine-normalised by item counts.
/// Deterministic: the same inputs give the same pack.
pub fn build_cooccurrence_pack(
    meta: PackMeta,
    categories: Vec<Category>,
    items: Vec<Item>,
    interactions: &[Interaction],
    config: &CooccurrenceConfig,
) -> CatalogPack {
    let n = items.len();
    let mut by_user: HashMap<u32, Vec<(i64, u32)>> = HashMap::new();
    for i in interactions.iter().filter(|i| (i.item as usize) < n) {
        by_user.entry(i.user).or_default().push((i.timestamp_ms, i.item));
    }
    let mut users: Vec<_> = by_user.into_iter().collect();
    users.sort_unstable_by_key(|(u, _)| *u);

    let mut counts = vec![0f32; n];
    let mut co: Vec<HashMap<u32, f32>> = vec![HashMap::new(); n];
    for (_, mut history) in users {
        history.sort_unstable();
        for (pos, &(_, a)) in history.iter().enumerate() {
            counts[a as usize] += 1.0;
            for (dist, &(_, b)) in history[pos + 1..].iter().take(config.window).enumerate() {
                if a != b {
                    let w = 1.0 / (dist + 1) as f32;
                    *co[a as usize].entry(b).or_default() += w;
                    *co[b as usize].entry(a).or_default() += w;
                }
            }
        }
    }

    let neighbours = co
        .iter()
        .enumerate()
        .map(|(a, row)| {
            let mut pairs: Vec<(u32, f32)> =
                row.iter().map(|(&b, &w)| (b, w / (counts[a] * counts[b as usize]).sqrt())).collect();
            pairs.sort_unstable_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            pairs.truncate(config.top_k);
            NeighbourList::quantise(&pairs)
        })
        .collect();

    let max_log = counts.iter().map(|c| c.ln_1p()).fold(0.0f32, f32::max);
    let popularity = counts
        .iter()
        .map(|c| if max_log > 0.0 { (c.ln_1p() / max_log * f32::from(u16::MAX)).round() as u16 } else { 0 })
        .collect();

    CatalogPack { meta, categories, items, neighbours, popularity, default_weights: RankerWeights::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> Item {
        Item { id: id.into(), title: id.into(), categories: vec![], tags: vec![], available_from_ms: None, available_until_ms: None }
    }

    fn meta() -> PackMeta {
        PackMeta { pack_version: 1, built_at_ms: 0, source: "test".into() }
    }

    #[test]
    fn items_bought_together_become_neighbours() {
        let items = vec![item("bread"), item("butter"), item("drill")];
        let mut log = Vec::new();
        for user in 0..10 {
            log.push(Interaction { user, item: 0, timestamp_ms: 1 });
            log.push(Interaction { user, item: 1, timestamp_ms: 2 });
        }
        log.push(Interaction { user: 99, item: 2, timestamp_ms: 1 });
        let pack = build_cooccurrence_pack(meta(), vec![], items, &log, &CooccurrenceConfig::default());
        let bread: Vec<_> = pack.neighbours[0].iter().collect();
        assert_eq!(bread.len(), 1);
        assert_eq!(bread[0].0, 1);
        assert!((bread[0].1 - 1.0).abs() < 0.01);
        assert!(pack.neighbours[2].items.is_empty());
        assert_eq!(pack.popularity[0], u16::MAX);
        assert!(pack.popularity[2] < pack.popularity[0]);
    }

    #[test]
    fn same_input_gives_identical_pack() {
        let items = vec![item("a"), item("b"), item("c")];
        let log: Vec<_> = (0..30).map(|k| Interaction { user: k % 4, item: (k * 7 % 3) as u32, timestamp_ms: k as i64 }).collect();
        let a = build_cooccurrence_pack(meta(), vec![], items.clone(), &log, &CooccurrenceConfig::default());
        let b = build_cooccurrence_pack(meta(), vec![], items, &log, &CooccurrenceConfig::default());
        assert_eq!(a, b);
    }
}
