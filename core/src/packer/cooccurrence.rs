//! Distance-discounted co-occurrence neighbours, cosine-normalised.

use std::collections::HashMap;

use super::top_k;
use crate::catalog::NeighbourList;

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

/// Weight of a pair = Σ 1/distance over co-occurrences, divided by √(count_a · count_b).
pub(super) fn learn(histories: &[Vec<u32>], n: usize, config: &CooccurrenceConfig) -> Vec<NeighbourList> {
    let mut counts = vec![0f32; n];
    let mut co: Vec<HashMap<u32, f32>> = vec![HashMap::new(); n];
    for history in histories {
        for (pos, &a) in history.iter().enumerate() {
            counts[a as usize] += 1.0;
            for (dist, &b) in history[pos + 1..].iter().take(config.window).enumerate() {
                if a != b {
                    let w = 1.0 / (dist + 1) as f32;
                    *co[a as usize].entry(b).or_default() += w;
                    *co[b as usize].entry(a).or_default() += w;
                }
            }
        }
    }
    co.iter()
        .enumerate()
        .map(|(a, row)| top_k(row.iter().map(|(&b, &w)| (b, w / (counts[a] * counts[b as usize]).sqrt())), config.top_k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_seen_together_become_neighbours() {
        let mut histories: Vec<Vec<u32>> = (0..10).map(|_| vec![0, 1]).collect();
        histories.push(vec![2]);
        let lists = learn(&histories, 3, &CooccurrenceConfig::default());
        let bread: Vec<_> = lists[0].iter().collect();
        assert_eq!(bread.len(), 1);
        assert_eq!(bread[0].0, 1);
        assert!((bread[0].1 - 1.0).abs() < 0.01);
        assert!(lists[2].items.is_empty());
    }
}
