//! Directional "what comes next" transitions: how often item j follows item i
//! within a few steps, relative to how often i occurs.

use std::collections::HashMap;

use super::{strongest, PackerError, Row};

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

/// The longest window transitions are learned over.
pub const MAX_TRANSITION_WINDOW: usize = 8;

/// The least common multiple of 1..=`window`: 1/distance in these units is a whole number.
fn units(window: usize) -> u32 {
    let gcd = |mut a: u32, mut b: u32| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    (1..=window as u32).fold(1, |l, d| l / gcd(l, d) * d)
}

/// Weight of i → j = Σ 1/distance over occurrences of j after i, divided by count(i).
///
/// The sums are kept as whole numbers of 1/lcm(1..=window), so they do not
/// depend on the order they are added in (the Spark job adds in any order and
/// gets the same weights and ties), in four bytes per pair.
pub(super) fn learn(histories: &[Vec<u32>], n: usize, config: &TransitionConfig) -> Result<Vec<Row>, PackerError> {
    if !(1..=MAX_TRANSITION_WINDOW).contains(&config.window) {
        return Err(PackerError::Solver(format!("the transition window must be 1 to {MAX_TRANSITION_WINDOW} steps")));
    }
    let units = units(config.window);
    let mut counts = vec![0u64; n];
    let mut next: Vec<HashMap<u32, u32>> = vec![HashMap::new(); n];
    for history in histories {
        for (pos, &a) in history.iter().enumerate() {
            counts[a as usize] += 1;
            for (dist, &b) in history[pos + 1..].iter().take(config.window).enumerate() {
                if a != b {
                    let sum = next[a as usize].entry(b).or_default();
                    *sum = sum.saturating_add(units / (dist as u32 + 1));
                }
            }
        }
    }
    let weight = |sum: u32, count: u64| (f64::from(sum) / f64::from(units) / count as f64) as f32;
    Ok(next.iter().enumerate().map(|(a, row)| strongest(row.iter().map(|(&b, &sum)| (b, weight(sum, counts[a]))), config.top_k)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_are_directional() {
        let histories: Vec<Vec<u32>> = (0..5).map(|_| vec![0, 1, 2]).collect();
        let lists = learn(&histories, 3, &TransitionConfig { window: 1, top_k: 5 }).unwrap();
        assert_eq!(lists[0], vec![(1, 1.0)]);
        assert_eq!(lists[1], vec![(2, 1.0)]);
        assert!(lists[2].is_empty(), "nothing follows the last item");
    }

    #[test]
    fn sums_are_whole_units_whatever_the_order() {
        assert_eq!((units(1), units(3), units(MAX_TRANSITION_WINDOW)), (1, 6, 840));
        let forward: Vec<Vec<u32>> = vec![vec![0, 1, 2, 1], vec![0, 2, 1]];
        let backward: Vec<Vec<u32>> = forward.iter().rev().cloned().collect();
        let config = TransitionConfig::default();
        assert_eq!(learn(&forward, 3, &config).unwrap(), learn(&backward, 3, &config).unwrap());
        // 0 → 1: 1/1 and 1/3 in the first history, 1/2 in the second, over two occurrences of 0.
        let lists = learn(&forward, 3, &config).unwrap();
        let to_one = lists[0].iter().find(|p| p.0 == 1).unwrap().1;
        assert_eq!(to_one, ((1.0 + 1.0 / 3.0 + 0.5) / 2.0) as f32);
        assert!(learn(&forward, 3, &TransitionConfig { window: 9, ..config }).is_err());
    }
}
