//! Time-decayed, distance-discounted co-occurrence neighbours, cosine-normalised.

use std::collections::HashMap;

use super::{strongest, Row};

/// How co-occurrence neighbours are learned.
#[derive(Debug, Clone, PartialEq)]
pub struct CooccurrenceConfig {
    /// Two items co-occur when at most this many steps apart in a user's history.
    pub window: usize,
    /// Neighbours kept per item.
    pub top_k: usize,
    /// A co-occurrence counts half as much this many days before the newest
    /// interaction in the log; `None` weighs all time equally.
    pub half_life_days: Option<f64>,
}

impl Default for CooccurrenceConfig {
    fn default() -> Self {
        CooccurrenceConfig { window: 8, top_k: 40, half_life_days: Some(180.0) }
    }
}

/// Weight of a pair = Σ decay(time) / distance over co-occurrences, divided by
/// √(count_a · count_b).
pub(super) fn learn(histories: &[Vec<(i64, u32)>], n: usize, config: &CooccurrenceConfig) -> Vec<Row> {
    let newest = histories.iter().flatten().map(|&(t, _)| t).max().unwrap_or(0);
    let decay = |t: i64| match config.half_life_days {
        Some(days) => 0.5f64.powf((newest - t) as f64 / 86_400_000.0 / days) as f32,
        None => 1.0,
    };
    let mut counts = vec![0f32; n];
    let mut co: Vec<HashMap<u32, f32>> = vec![HashMap::new(); n];
    for history in histories {
        for (pos, &(_, a)) in history.iter().enumerate() {
            counts[a as usize] += 1.0;
            for (dist, &(t, b)) in history[pos + 1..].iter().take(config.window).enumerate() {
                if a != b {
                    let w = decay(t) / (dist + 1) as f32;
                    *co[a as usize].entry(b).or_default() += w;
                    *co[b as usize].entry(a).or_default() += w;
                }
            }
        }
    }
    co.iter()
        .enumerate()
        .map(|(a, row)| strongest(row.iter().map(|(&b, &w)| (b, w / (counts[a] * counts[b as usize]).sqrt())), config.top_k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_seen_together_become_neighbours() {
        let mut histories: Vec<Vec<(i64, u32)>> = (0..10).map(|_| vec![(0, 0), (0, 1)]).collect();
        histories.push(vec![(0, 2)]);
        let lists = learn(&histories, 3, &CooccurrenceConfig::default());
        let bread = &lists[0];
        assert_eq!(bread.len(), 1);
        assert_eq!(bread[0].0, 1);
        assert!((bread[0].1 - 1.0).abs() < 0.01);
        assert!(lists[2].is_empty());
    }

    #[test]
    fn recent_co_occurrences_outweigh_old_ones() {
        const YEAR: i64 = 365 * 86_400_000;
        // 0–1 co-occurred often long ago; 0–2 a little, recently.
        let mut histories: Vec<Vec<(i64, u32)>> = (0..6).map(|_| vec![(0, 0), (0, 1)]).collect();
        histories.extend((0..3).map(|_| vec![(2 * YEAR, 0), (2 * YEAR, 2)]));
        histories.extend((0..3).map(|_| vec![(2 * YEAR, 1)]));
        let strongest = |list: &Row| list.first().map(|p| p.0);
        let decayed = learn(&histories, 3, &CooccurrenceConfig::default());
        assert_eq!(strongest(&decayed[0]), Some(2));
        let flat = learn(&histories, 3, &CooccurrenceConfig { half_life_days: None, ..Default::default() });
        assert_eq!(strongest(&flat[0]), Some(1));
    }
}
