//! Baselines scored in the same harness, on the same split: popularity, what is
//! popular lately (trending), item-kNN (cosine), EASE, and EASE over a
//! recency-weighted history.

use std::collections::HashSet;

use mizan::packer::{ease_weights, recent_counts};

use super::data::{Case, Step};
use super::metrics::Ranked;

/// Fitted baselines for one split.
pub struct Baselines {
    n: usize,
    popularity: Vec<f32>,
    trending: Vec<f32>,
    cosine: Vec<f32>,
    ease: Vec<f32>,
}

impl Baselines {
    /// Fits every baseline on the pack histories; trending counts an interaction
    /// ½ per `trend_half_life_days` before the newest.
    pub fn fit(pack_histories: &[Vec<Step>], n: usize, lambda: f64, trend_half_life_days: f64) -> Result<Self, mizan::packer::PackerError> {
        let item_sets: Vec<Vec<u32>> = pack_histories
            .iter()
            .map(|h| {
                let mut items: Vec<u32> = h.iter().map(|s| s.1).collect();
                items.sort_unstable();
                items.dedup();
                items
            })
            .collect();
        let mut gram = vec![0f32; n * n];
        for items in &item_sets {
            for &i in items {
                for &j in items {
                    gram[i as usize * n + j as usize] += 1.0;
                }
            }
        }
        let popularity: Vec<f32> = (0..n).map(|i| gram[i * n + i]).collect();
        let cosine = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                let d = (popularity[i] * popularity[j]).sqrt();
                if i == j || d == 0.0 {
                    0.0
                } else {
                    gram[k] / d
                }
            })
            .collect();
        let newest = pack_histories.iter().flatten().map(|s| s.0).max().unwrap_or(0);
        let trending = recent_counts(pack_histories, n, trend_half_life_days, newest)?.into_iter().map(|c| c as f32).collect();
        Ok(Baselines { n, popularity, trending, cosine, ease: ease_weights(&item_sets, n, lambda)? })
    }

    /// Most popular unseen items.
    pub fn popularity(&self, case: &Case, k: usize) -> Ranked {
        top_unseen(&self.popularity, case, k)
    }

    /// Unseen items most popular lately.
    pub fn trending(&self, case: &Case, k: usize) -> Ranked {
        top_unseen(&self.trending, case, k)
    }

    /// Sum of cosine similarities to the history.
    pub fn item_knn(&self, case: &Case, k: usize) -> Ranked {
        top_unseen(&self.row_sum(&self.cosine, case, |_| 1.0), case, k)
    }

    /// EASE scores of the history.
    pub fn ease(&self, case: &Case, k: usize) -> Ranked {
        top_unseen(&self.row_sum(&self.ease, case, |_| 1.0), case, k)
    }

    /// EASE with each history item weighted 0.5^(steps back / half_life).
    pub fn ease_recency(&self, case: &Case, k: usize, half_life_steps: f32) -> Ranked {
        let last = case.input.len() - 1;
        top_unseen(&self.row_sum(&self.ease, case, |pos| 0.5f32.powf((last - pos) as f32 / half_life_steps)), case, k)
    }

    fn row_sum(&self, matrix: &[f32], case: &Case, weight: impl Fn(usize) -> f32) -> Vec<f32> {
        let mut scores = vec![0f32; self.n];
        for (pos, &(_, item)) in case.input.iter().enumerate() {
            let w = weight(pos);
            let row = &matrix[item as usize * self.n..(item as usize + 1) * self.n];
            scores.iter_mut().zip(row).for_each(|(s, &b)| *s += w * b);
        }
        scores
    }
}

/// The `k` best-scoring items not in the history (ties by index).
fn top_unseen(scores: &[f32], case: &Case, k: usize) -> Ranked {
    let seen: HashSet<u32> = case.input.iter().map(|s| s.1).collect();
    let mut order: Vec<u32> = (0..scores.len() as u32).filter(|i| !seen.contains(i)).collect();
    order.sort_unstable_by(|&a, &b| scores[b as usize].total_cmp(&scores[a as usize]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(items: &[u32]) -> Case {
        let input: Vec<Step> = items.iter().enumerate().map(|(t, &i)| (t as i64, i)).collect();
        Case { input, target: 0, target_ms: 0, gap_ms: 0 }
    }

    /// Pack users {0, 1}, {0, 1, 2}, {2, 3} and {1, 4}.
    fn fitted() -> Baselines {
        let histories: Vec<Vec<Step>> = [vec![0, 1], vec![0, 1, 2], vec![2, 3], vec![1, 4]]
            .iter()
            .map(|items| items.iter().map(|&i| (0, i)).collect())
            .collect();
        Baselines::fit(&histories, 5, 1.0, 2.0).unwrap()
    }

    #[test]
    fn popularity_and_item_knn_rank_unseen_items_by_count_and_cosine() {
        let b = fitted();
        assert_eq!(b.popularity(&case(&[0]), 10), [1, 2, 3, 4], "1 has three users, 2 two; 3 and 4 tie on one, by index");
        // cosine to 0: 1 = 2/√(2·3), 2 = 1/√(2·2), 3 = 4 = 0.
        assert_eq!(b.item_knn(&case(&[0]), 10), [1, 2, 3, 4]);
        // cosine to 3: only 2 shares a user.
        assert_eq!(b.item_knn(&case(&[3]), 2), [2, 0]);
        assert!(b.ease(&case(&[0, 1]), 10).iter().all(|&i| i > 1), "the history is never recommended");
    }

    #[test]
    fn recency_weighted_ease_moves_from_the_whole_history_to_the_last_item() {
        let b = fitted();
        let history = case(&[4, 2]);
        let last_only: Vec<u32> = b.ease(&case(&[2]), 4).into_iter().filter(|&i| i != 4).take(3).collect();
        assert_eq!(b.ease_recency(&history, 3, 1e6), b.ease(&history, 3), "a very long half-life weighs every item alike");
        assert_eq!(b.ease_recency(&history, 3, 1e-3), last_only, "a very short one keeps only the last item");
        assert_ne!(b.ease(&history, 3), last_only, "the two ends differ here (numpy: 1, 3, 0 against 3, 0, 1)");
    }
}
