//! Directional "what comes next" transitions: how often item j follows item i
//! within a few steps, relative to how often i occurs.

use std::collections::HashMap;

use super::{strongest, Row};

/// How transitions are learned.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionConfig {
    /// j counts as following i when at most this many steps later.
    pub window: usize,
    /// Successors kept per item.
    pub top_k: usize,
}

impl Default for TransitionConfig {
    fn default() -> Self {
        TransitionConfig { window: 3, top_k: 20 }
    }
}

/// Weight of i → j = Σ 1/distance over occurrences of j after i, divided by count(i).
pub(super) fn learn(histories: &[Vec<u32>], n: usize, config: &TransitionConfig) -> Vec<Row> {
    // Summed in f64, so that the Spark job's sums give the same weights and ties.
    let mut counts = vec![0f64; n];
    let mut next: Vec<HashMap<u32, f64>> = vec![HashMap::new(); n];
    for history in histories {
        for (pos, &a) in history.iter().enumerate() {
            counts[a as usize] += 1.0;
            for (dist, &b) in history[pos + 1..].iter().take(config.window).enumerate() {
                if a != b {
                    *next[a as usize].entry(b).or_default() += 1.0 / (dist + 1) as f64;
                }
            }
        }
    }
    next.iter().enumerate().map(|(a, row)| strongest(row.iter().map(|(&b, &w)| (b, (w / counts[a]) as f32)), config.top_k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_are_directional() {
        let histories: Vec<Vec<u32>> = (0..5).map(|_| vec![0, 1, 2]).collect();
        let lists = learn(&histories, 3, &TransitionConfig { window: 1, top_k: 5 });
        assert_eq!(lists[0], vec![(1, 1.0)]);
        assert_eq!(lists[1], vec![(2, 1.0)]);
        assert!(lists[2].is_empty(), "nothing follows the last item");
    }
}
