//! Sparse item-to-item neighbours for catalogues of any size: co-occurrence in
//! users' baskets, scored by Dunning's log-likelihood ratio as Mahout's
//! `spark-itemsimilarity` scores it. Memory grows with the pairs the baskets
//! produce, never with n²: pairs are counted by sorting, one shard of first
//! items at a time, as many shards as the memory budget asks for.
//!
//! The same definition runs on Spark (`examples/spark/mizan_spark.py`), and
//! both give the same lists:
//!
//! - a user's basket is their [`LlrConfig::max_per_user`] most recently used
//!   distinct items, in the order of each item's latest use (ties by index);
//! - a pair co-occurs for a user when both are in the basket, at most
//!   [`LlrConfig::window`] positions apart (anywhere, without a window);
//! - `k11` is the number of users in whose baskets the pair co-occurs; an item's
//!   count is the number of baskets holding it; N is the number of baskets;
//! - the weight of `a → b` is `1 − 1 / (1 + LLR)`, kept for the `top_k`
//!   strongest `b` of each `a` (ties by index) with `k11 ≥ min_count`.

use super::{strongest, PackerError, Row};

/// How log-likelihood neighbours are learned.
#[derive(Debug, Clone, PartialEq)]
pub struct LlrConfig {
    /// Neighbours kept per item.
    pub top_k: usize,
    /// Distinct items kept per user (the most recent), capping heavy users' pairs.
    pub max_per_user: usize,
    /// Two basket items co-occur when at most this many positions apart; `None`: anywhere.
    pub window: Option<usize>,
    /// Users a pair must co-occur for before it can be a neighbour.
    pub min_count: u32,
    /// Memory the pair counts may take at once, in bytes (more shards when smaller).
    pub pair_memory_bytes: usize,
}

impl Default for LlrConfig {
    fn default() -> Self {
        LlrConfig { top_k: 40, max_per_user: 500, window: None, min_count: 2, pair_memory_bytes: 1 << 30 }
    }
}

/// Bytes one counted pair takes while its shard is sorted.
const PAIR_BYTES: usize = std::mem::size_of::<u64>();

/// Each user's basket: their `max_per_user` most recently used distinct items,
/// ordered by latest use (`histories` are chronological, ties by index).
pub(super) fn baskets(histories: &[Vec<(i64, u32)>], n: usize, max_per_user: usize) -> Vec<Vec<u32>> {
    let mut seen = vec![false; n];
    histories
        .iter()
        .map(|history| {
            let mut basket: Vec<u32> = Vec::new();
            for &(_, item) in history.iter().rev() {
                if basket.len() == max_per_user {
                    break;
                }
                if !std::mem::replace(&mut seen[item as usize], true) {
                    basket.push(item);
                }
            }
            basket.iter().for_each(|&i| seen[i as usize] = false);
            basket.reverse();
            basket
        })
        .filter(|b| !b.is_empty())
        .collect()
}

/// Dunning's log-likelihood ratio of a 2×2 contingency table, as Mahout computes it.
pub fn log_likelihood_ratio(k11: u64, k12: u64, k21: u64, k22: u64) -> f64 {
    fn x_log_x(x: u64) -> f64 {
        if x == 0 {
            0.0
        } else {
            x as f64 * (x as f64).ln()
        }
    }
    let entropy = |parts: &[u64]| x_log_x(parts.iter().sum()) - parts.iter().map(|&p| x_log_x(p)).sum::<f64>();
    let row = entropy(&[k11 + k12, k21 + k22]);
    let column = entropy(&[k11 + k21, k12 + k22]);
    let matrix = entropy(&[k11, k12, k21, k22]);
    if row + column < matrix {
        0.0
    } else {
        2.0 * (row + column - matrix)
    }
}

/// The pack weight of a pair: `1 − 1 / (1 + LLR)`, in [0, 1).
fn weight(llr: f64) -> f32 {
    (1.0 - 1.0 / (1.0 + llr)) as f32
}

/// Per item, its `top_k` neighbours by log-likelihood ratio.
pub(super) fn learn(histories: &[Vec<(i64, u32)>], n: usize, config: &LlrConfig) -> Result<Vec<Row>, PackerError> {
    if config.max_per_user < 2 || config.window == Some(0) || config.pair_memory_bytes < PAIR_BYTES {
        return Err(PackerError::Solver("LLR needs at least two items per user, a window of at least one and memory for pairs".into()));
    }
    let baskets = baskets(histories, n, config.max_per_user);
    let mut counts = vec![0u64; n];
    baskets.iter().flatten().for_each(|&i| counts[i as usize] += 1);
    let users = baskets.len() as u64;
    let reach = |len: usize, p: usize| config.window.map_or(len - 1 - p, |w| w.min(len - 1 - p));
    // Both directions of every pair, so that each item's row can be read whole.
    let pairs: usize = baskets.iter().map(|b| (0..b.len()).map(|p| 2 * reach(b.len(), p)).sum::<usize>()).sum();
    let shards = (pairs * PAIR_BYTES).div_ceil(config.pair_memory_bytes).max(1);
    let mut lists = vec![Row::new(); n];
    let mut keys: Vec<u64> = Vec::with_capacity(pairs.div_ceil(shards).min(config.pair_memory_bytes / PAIR_BYTES));
    for shard in 0..shards {
        keys.clear();
        let mine = |a: u32| a as usize % shards == shard;
        for basket in &baskets {
            for (p, &a) in basket.iter().enumerate() {
                for &b in &basket[p + 1..=p + reach(basket.len(), p)] {
                    if mine(a) {
                        keys.push(u64::from(a) << 32 | u64::from(b));
                    }
                    if mine(b) {
                        keys.push(u64::from(b) << 32 | u64::from(a));
                    }
                }
            }
        }
        keys.sort_unstable();
        for row in keys.chunk_by(|x, y| x >> 32 == y >> 32) {
            let a = (row[0] >> 32) as usize;
            let scored = row.chunk_by(|x, y| x == y).filter(|run| run.len() as u64 >= u64::from(config.min_count)).map(|run| {
                let b = run[0] as u32;
                let k11 = run.len() as u64;
                let (k12, k21) = (counts[a] - k11, counts[b as usize] - k11);
                (b, weight(log_likelihood_ratio(k11, k12, k21, users - k11 - k12 - k21)))
            });
            lists[a] = strongest(scored, config.top_k);
        }
    }
    Ok(lists)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(histories: &[&[u32]]) -> Vec<Vec<(i64, u32)>> {
        histories.iter().map(|h| h.iter().enumerate().map(|(t, &i)| (t as i64, i)).collect()).collect()
    }

    /// Against the G statistic of scipy's `chi2_contingency(..., lambda_="log-likelihood")`.
    #[test]
    fn the_ratio_is_the_g_statistic() {
        let cases = [
            ((1, 0, 0, 1), 2.772588722239781),
            ((10, 0, 0, 10), 27.725887222397812),
            ((5, 1995, 0, 100000), 39.33052165490081),
            ((1000, 1995, 1000, 100000), 4730.7368130612485),
            ((3, 1, 1, 3), 2.0929925750581915),
            ((1, 1, 1, 1), 0.0),
        ];
        for ((k11, k12, k21, k22), g) in cases {
            let llr = log_likelihood_ratio(k11, k12, k21, k22);
            assert!((llr - g).abs() < 1e-9 * g.max(1.0), "{llr} against {g}");
        }
    }

    #[test]
    fn baskets_keep_the_most_recent_distinct_items_in_order_of_latest_use() {
        let histories = timed(&[&[0, 1, 0, 2, 3], &[], &[4]]);
        assert_eq!(baskets(&histories, 5, 3), vec![vec![0, 2, 3], vec![4]]);
        assert_eq!(baskets(&histories, 5, 10), vec![vec![1, 0, 2, 3], vec![4]]);
    }

    #[test]
    fn items_bought_together_beyond_chance_become_neighbours() {
        // 0 and 1 go together; 2 goes with almost everything, so it tells less.
        let mut histories: Vec<&[u32]> = vec![&[0, 1, 2]; 8];
        histories.extend([&[2, 3][..], &[2, 4], &[2, 3, 4], &[3, 4]]);
        let lists = learn(&timed(&histories), 5, &LlrConfig::default()).unwrap();
        let strongest = |a: usize| lists[a].first().map(|p| p.0);
        assert_eq!(strongest(0), Some(1));
        assert_eq!(strongest(1), Some(0));
        let to = |b: u32| lists[0].iter().find(|p| p.0 == b).map_or(0.0, |p| p.1);
        assert!(to(1) > to(2) && to(2) > 0.0, "{:?}", lists[0]);
        assert!(lists[3].iter().all(|&(b, _)| b != 0), "never seen together");
    }

    #[test]
    fn shards_and_windows_change_the_memory_not_the_answer_within_reach() {
        let histories: Vec<Vec<u32>> = (0..40u32).map(|u| (0..12).map(|k| (u * 7 + k * k) % 30).collect()).collect();
        let refs: Vec<&[u32]> = histories.iter().map(Vec::as_slice).collect();
        let timed = timed(&refs);
        let whole = learn(&timed, 30, &LlrConfig::default()).unwrap();
        let sharded = learn(&timed, 30, &LlrConfig { pair_memory_bytes: 64, ..Default::default() }).unwrap();
        assert_eq!(whole, sharded);
        assert!(whole.iter().any(|l| !l.is_empty()));
        let windowed = learn(&timed, 30, &LlrConfig { window: Some(2), ..Default::default() }).unwrap();
        assert_ne!(whole, windowed);
    }

    #[test]
    fn refuses_a_senseless_configuration() {
        let timed = timed(&[&[0, 1]]);
        for config in [
            LlrConfig { max_per_user: 1, ..Default::default() },
            LlrConfig { window: Some(0), ..Default::default() },
            LlrConfig { pair_memory_bytes: 0, ..Default::default() },
        ] {
            assert!(learn(&timed, 2, &config).is_err());
        }
    }
}
