//! Ranking metrics over a set of evaluated users.

use std::collections::BTreeSet;

use serde::Serialize;

use super::data::Case;

/// What one method returned for one case: its top items, best first.
pub type Ranked = Vec<u32>;

/// The report row of one method on one split.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    /// Evaluated users.
    pub users: usize,
    /// Hit rate at 10.
    pub hr10: f64,
    /// NDCG at 10.
    pub ndcg10: f64,
    /// Hit rate at 20.
    pub hr20: f64,
    /// Share of the catalogue that appears in some top-10 list.
    pub coverage10: f64,
    /// Mean pairwise category dissimilarity (1 − Jaccard) within top-10 lists.
    pub ild10: f64,
    /// Mean self-information −log2(popularity) of recommended items.
    pub novelty10: f64,
    /// HR@10 on the users whose target follows a gap of at least an hour.
    pub hr10_gap1h: f64,
    /// NDCG@10 on those users.
    pub ndcg10_gap1h: f64,
    /// How many users that is.
    pub users_gap1h: usize,
}

/// Computes the metrics. `popularity[i]` is the share of pack users who had item i.
pub fn compute(cases: &[Case], ranked: &[Ranked], categories: &[Vec<u32>], popularity: &[f64]) -> Metrics {
    let rank_of = |c: &Case, r: &Ranked| r.iter().position(|&i| i == c.target);
    let hr = |k: usize, filter: &dyn Fn(&Case) -> bool| {
        let (hits, n) = cases.iter().zip(ranked).filter(|(c, _)| filter(c)).fold((0usize, 0usize), |(h, n), (c, r)| {
            (h + usize::from(rank_of(c, r).is_some_and(|p| p < k)), n + 1)
        });
        (hits as f64 / n.max(1) as f64, n)
    };
    let ndcg = |filter: &dyn Fn(&Case) -> bool| {
        let (sum, n) = cases.iter().zip(ranked).filter(|(c, _)| filter(c)).fold((0.0, 0usize), |(s, n), (c, r)| {
            let gain = rank_of(c, r).filter(|&p| p < 10).map_or(0.0, |p| 1.0 / ((p + 2) as f64).log2());
            (s + gain, n + 1)
        });
        sum / n.max(1) as f64
    };
    let all = |_: &Case| true;
    let gap = |c: &Case| c.gap_ms >= 3_600_000;
    let top10 = |r: &Ranked| r.iter().take(10).copied().collect::<Vec<u32>>();
    let covered: BTreeSet<u32> = ranked.iter().flat_map(top10).collect();
    let ild = ranked.iter().map(|r| intra_list_distance(&top10(r), categories)).sum::<f64>() / ranked.len().max(1) as f64;
    let novelty_items: Vec<f64> = ranked.iter().flat_map(top10).map(|i| -popularity[i as usize].max(1e-6).log2()).collect();
    let (hr10_gap1h, users_gap1h) = hr(10, &gap);
    Metrics {
        users: cases.len(),
        hr10: hr(10, &all).0,
        ndcg10: ndcg(&all),
        hr20: hr(20, &all).0,
        coverage10: covered.len() as f64 / popularity.len().max(1) as f64,
        ild10: ild,
        novelty10: novelty_items.iter().sum::<f64>() / novelty_items.len().max(1) as f64,
        hr10_gap1h,
        ndcg10_gap1h: ndcg(&gap),
        users_gap1h,
    }
}

/// Pools the metrics of disjoint groups of users (cross-validation folds) as if
/// they had been computed together: means weighted by users, the gap metrics by
/// the gap users. Coverage, which does not add up across groups, becomes the
/// user-weighted mean of each group's coverage.
pub fn pool(parts: &[&Metrics]) -> Metrics {
    let users: usize = parts.iter().map(|m| m.users).sum();
    let users_gap1h: usize = parts.iter().map(|m| m.users_gap1h).sum();
    let mean = |f: fn(&Metrics) -> f64| parts.iter().map(|m| f(m) * m.users as f64).sum::<f64>() / users.max(1) as f64;
    let gap_mean = |f: fn(&Metrics) -> f64| parts.iter().map(|m| f(m) * m.users_gap1h as f64).sum::<f64>() / users_gap1h.max(1) as f64;
    Metrics {
        users,
        hr10: mean(|m| m.hr10),
        ndcg10: mean(|m| m.ndcg10),
        hr20: mean(|m| m.hr20),
        coverage10: mean(|m| m.coverage10),
        ild10: mean(|m| m.ild10),
        novelty10: mean(|m| m.novelty10),
        hr10_gap1h: gap_mean(|m| m.hr10_gap1h),
        ndcg10_gap1h: gap_mean(|m| m.ndcg10_gap1h),
        users_gap1h,
    }
}

/// How hard a split's targets are, whatever the method: how many share their
/// timestamp with the interaction before them (so their place in the order came
/// from the tie-break), and how popular they are among the pack's users.
#[derive(Debug, Clone, Serialize)]
pub struct TargetProfile {
    /// Evaluated users.
    pub users: usize,
    /// Share of targets with the same timestamp as the interaction before them.
    pub tied_share: f64,
    /// Median rank of the targets by `popularity` (0 = most popular item).
    pub median_popularity_rank: usize,
}

/// The [`TargetProfile`] of `cases`; `popularity[i]` is the share of pack users who had item i.
pub fn target_profile(cases: &[Case], popularity: &[f64]) -> TargetProfile {
    let mut by_popularity: Vec<usize> = (0..popularity.len()).collect();
    by_popularity.sort_by(|&a, &b| popularity[b].total_cmp(&popularity[a]).then(a.cmp(&b)));
    let mut rank = vec![0; popularity.len()];
    by_popularity.iter().enumerate().for_each(|(r, &i)| rank[i] = r);
    let mut ranks: Vec<usize> = cases.iter().map(|c| rank[c.target as usize]).collect();
    ranks.sort_unstable();
    TargetProfile {
        users: cases.len(),
        tied_share: cases.iter().filter(|c| c.gap_ms == 0).count() as f64 / cases.len().max(1) as f64,
        median_popularity_rank: ranks.get(ranks.len() / 2).copied().unwrap_or(0),
    }
}

fn intra_list_distance(list: &[u32], categories: &[Vec<u32>]) -> f64 {
    let mut sum = 0.0;
    let mut pairs = 0;
    for (a, &i) in list.iter().enumerate() {
        for &j in &list[a + 1..] {
            let (ci, cj) = (&categories[i as usize], &categories[j as usize]);
            let shared = ci.iter().filter(|c| cj.contains(c)).count();
            let union = ci.len() + cj.len() - shared;
            sum += if union == 0 { 0.0 } else { 1.0 - shared as f64 / union as f64 };
            pairs += 1;
        }
    }
    if pairs == 0 {
        0.0
    } else {
        sum / pairs as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(target: u32) -> Case {
        Case { input: vec![], target, target_ms: 0, gap_ms: 0 }
    }

    #[test]
    fn hit_rates_ndcg_and_coverage_follow_the_target_positions() {
        let cases = [case(5), case(7), case(9)];
        let mut late: Vec<u32> = (0..30).filter(|&i| i != 9).collect();
        late.insert(15, 9);
        let ranked = vec![vec![5, 1, 2], vec![1, 7, 2], late];
        let cats = vec![vec![0]; 30];
        let m = compute(&cases, &ranked, &cats, &[0.5; 30]);
        assert!((m.hr10 - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.hr20 - 1.0).abs() < 1e-12, "the third target is 16th");
        assert!((m.ndcg10 - (1.0 + 1.0 / 3f64.log2()) / 3.0).abs() < 1e-12);
        assert!((m.coverage10 - 10.0 / 30.0).abs() < 1e-12, "the top tens hold items 0-8 and 10");
        assert_eq!(m.ild10, 0.0, "one category everywhere");
        assert!((m.novelty10 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn pooled_folds_equal_one_computation_over_all_users() {
        let cases: Vec<Case> = [5, 7, 9, 11, 13].map(case).to_vec();
        let ranked: Vec<Ranked> = vec![vec![5, 1], vec![1, 2], vec![3, 9], vec![11], (0..30).filter(|&i| i != 13).collect()];
        let cats = vec![vec![0]; 30];
        let all = compute(&cases, &ranked, &cats, &[0.5; 30]);
        let first = compute(&cases[..2], &ranked[..2], &cats, &[0.5; 30]);
        let rest = compute(&cases[2..], &ranked[2..], &cats, &[0.5; 30]);
        let pooled = pool(&[&first, &rest]);
        assert_eq!(pooled.users, 5);
        for (a, b) in [(pooled.hr10, all.hr10), (pooled.ndcg10, all.ndcg10), (pooled.hr20, all.hr20), (pooled.hr10_gap1h, all.hr10_gap1h)] {
            assert!((a - b).abs() < 1e-12, "{a} != {b}");
        }
        assert!((pooled.hr10 - 0.6).abs() < 1e-12);
    }

    #[test]
    fn target_profile_counts_ties_and_ranks_by_popularity() {
        let mut cases: Vec<Case> = [2, 0, 1].map(case).to_vec();
        cases[0].gap_ms = 5;
        let profile = target_profile(&cases, &[0.2, 0.9, 0.5]);
        assert_eq!(profile.users, 3);
        assert!((profile.tied_share - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(profile.median_popularity_rank, 1, "ranks 2, 0 and 1: item 1 is the most popular");
    }
}
