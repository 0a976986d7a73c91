//! The order in which exploration tries categories: Thompson sampling over
//! their click-through, without a draw per category.
//!
//! Each category's click-through is drawn from Beta(1 + clicks, 1 + unclicked
//! impressions), and categories are tried best draw first, those not yet in
//! the list before those in it. A category never shown has Beta(1, 1), the
//! uniform distribution; in a shop with thousands of categories nearly all are
//! such, and drawing and sorting one number for each cost about 90 ns a
//! category on every request (1.0 ms at 10,000 categories). So only the
//! categories shown before and those in the list are drawn one by one; the
//! never-shown ones come as the largest of `m` uniform draws, one after
//! another (`max = u^(1/m)`, then the largest below it), each given to a
//! never-shown category picked uniformly: the same order in distribution, in
//! time proportional to the categories shown and those a list actually tries
//! (and, once fewer than a quarter of the categories are left to try, one
//! pass listing them).

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};

use crate::catalog::Catalog;

/// Once fewer than one in this many open categories are left to draw, the
/// rest are listed once instead of picked by rejection (which would then mostly miss).
const LISTED_BELOW: usize = 4;

/// Categories to try, best draw first: an iterator over category indices.
pub(crate) struct ExplorationOrder<'a> {
    /// Whose categories are tried ([`Catalog::open_categories`]).
    catalog: &'a Catalog,
    /// The person's `(clicks, impressions)` per category: the categories shown.
    feedback: &'a BTreeMap<u32, (f64, f64)>,
    /// The categories of the items already in the list.
    in_list: &'a BTreeSet<u32>,
    /// Every draw, seeded by the request.
    rng: ChaCha8Rng,
    /// Drawn one by one, worst first (so the best pops off the end): the shown
    /// categories not in the list.
    shown: Vec<(f64, u32)>,
    /// The categories in the list (shown or not), worst first, tried last.
    listed: Vec<(f64, u32)>,
    /// How many never-shown categories not in the list are left to draw.
    unseen_left: usize,
    /// The next never-shown category's draw: the largest of those left.
    unseen_next: f64,
    /// The never-shown categories drawn already.
    unseen_drawn: BTreeSet<u32>,
    /// The never-shown categories left, once listed (see [`LISTED_BELOW`]).
    unseen_rest: Option<Vec<u32>>,
}

impl<'a> ExplorationOrder<'a> {
    /// The order for a list holding `in_list`'s categories, given the
    /// person's `(clicks, impressions)` per category, seeded by `seed`.
    /// Sensitive categories are never tried.
    pub(crate) fn new(catalog: &'a Catalog, feedback: &'a BTreeMap<u32, (f64, f64)>, in_list: &'a BTreeSet<u32>, seed: u64) -> Self {
        let mut rng = rand::SeedableRng::seed_from_u64(seed);
        let open = |c: &u32| catalog.open_categories().binary_search(c).is_ok();
        let mut draw = |c: u32| {
            let (clicks, unclicked) = feedback.get(&c).map_or((0.0, 0.0), |&(clicks, shown)| counts(clicks, shown));
            // With counts as `counts` leaves them the parameters are finite and at least 1.
            (Beta::new(1.0 + clicks, 1.0 + unclicked).map_or(0.0, |beta| beta.sample(&mut rng)), c)
        };
        let mut shown: Vec<(f64, u32)> = feedback.keys().copied().filter(open).filter(|c| !in_list.contains(c)).map(&mut draw).collect();
        let mut listed: Vec<(f64, u32)> = in_list.iter().copied().filter(open).map(&mut draw).collect();
        // Worst first; equal draws try the lower index first.
        let worst_first = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1));
        shown.sort_unstable_by(worst_first);
        listed.sort_unstable_by(worst_first);
        let unseen_left = catalog.open_categories().len() - shown.len() - listed.len();
        let mut order = ExplorationOrder {
            catalog,
            feedback,
            in_list,
            rng,
            shown,
            listed,
            unseen_left,
            unseen_next: 1.0,
            unseen_drawn: BTreeSet::new(),
            unseen_rest: None,
        };
        order.unseen_next = order.largest_unseen_below(1.0);
        order
    }

    /// The largest of the `unseen_left` uniform draws below `bound` (any value when none is left).
    fn largest_unseen_below(&mut self, bound: f64) -> f64 {
        match self.unseen_left {
            0 => f64::MIN,
            left => bound * self.rng.random::<f64>().powf(1.0 / left as f64),
        }
    }

    /// A never-shown category not in the list and not drawn yet, picked uniformly.
    fn pick_unseen(&mut self) -> u32 {
        let catalog: &'a Catalog = self.catalog;
        let open = catalog.open_categories();
        if self.unseen_rest.is_none() && self.unseen_left * LISTED_BELOW >= open.len() {
            loop {
                let c = open[self.rng.random_range(0..open.len())];
                if !self.feedback.contains_key(&c) && !self.in_list.contains(&c) && self.unseen_drawn.insert(c) {
                    return c;
                }
            }
        }
        let drawn = &self.unseen_drawn;
        let (feedback, in_list) = (self.feedback, self.in_list);
        let rest = self
            .unseen_rest
            .get_or_insert_with(|| open.iter().copied().filter(|c| !feedback.contains_key(c) && !in_list.contains(c) && !drawn.contains(c)).collect());
        rest.swap_remove(self.rng.random_range(0..rest.len()))
    }
}

/// A category's `(clicks, impressions)` as its draw reads them: clicks and
/// unclicked impressions. A count is a number of events, so one that no app
/// could have recorded (NaN, negative, past `u32::MAX`) counts as none or as
/// the most there can be: a hostile value never stops the draw.
fn counts(clicks: f64, shown: f64) -> (f64, f64) {
    let count = |n: f64| if n > 0.0 { n.min(f64::from(u32::MAX)) } else { 0.0 };
    let (clicks, shown) = (count(clicks), count(shown));
    (clicks, (shown - clicks).max(0.0))
}

impl Iterator for ExplorationOrder<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let best_shown = self.shown.last().map_or(f64::MIN, |&(draw, _)| draw);
        if self.unseen_left > 0 && (self.shown.is_empty() || self.unseen_next > best_shown) {
            let category = self.pick_unseen();
            self.unseen_left -= 1;
            self.unseen_next = self.largest_unseen_below(self.unseen_next);
            return Some(category);
        }
        if let Some((_, category)) = self.shown.pop() {
            return Some(category);
        }
        self.listed.pop().map(|(_, category)| category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::tiny_pack;
    use crate::catalog::Category;
    use crate::catalog::SensitiveCategory;

    /// A catalogue of `n` categories, every third sensitive.
    fn catalog_of(n: u32) -> Catalog {
        let mut pack = tiny_pack();
        pack.categories = (0..n).map(|c| Category { name: format!("c{c}"), sensitive: (c % 3 == 2).then_some(SensitiveCategory::Health) }).collect();
        Catalog::new(pack).unwrap()
    }

    #[test]
    fn every_open_category_comes_once_those_in_the_list_last_sensitive_never() {
        let catalog = catalog_of(300);
        let feedback: BTreeMap<u32, (f64, f64)> = [(0, (3.0, 4.0)), (1, (0.0, 9.0)), (2, (1.0, 1.0)), (30, (0.0, 1.0))].into();
        let in_list: BTreeSet<u32> = [3, 4, 5, 30].into();
        for seed in 0..20 {
            let order: Vec<u32> = ExplorationOrder::new(&catalog, &feedback, &in_list, seed).collect();
            let open: BTreeSet<u32> = (0..300).filter(|c| c % 3 != 2).collect();
            assert_eq!(order.len(), open.len(), "seed {seed}");
            assert_eq!(order.iter().copied().collect::<BTreeSet<u32>>(), open, "seed {seed}");
            let tail: BTreeSet<u32> = order[order.len() - 3..].iter().copied().collect();
            assert_eq!(tail, [3, 4, 30].into(), "the open categories in the list come last (seed {seed})");
            assert_eq!(order, ExplorationOrder::new(&catalog, &feedback, &in_list, seed).collect::<Vec<u32>>(), "reproducible");
        }
    }

    #[test]
    fn counts_no_app_could_record_still_give_every_open_category_once() {
        let catalog = catalog_of(30);
        let hostile = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, f64::MAX, f64::MIN_POSITIVE, 0.0];
        let feedback: BTreeMap<u32, (f64, f64)> = (0..30).map(|c| (c, (hostile[c as usize % 7], hostile[c as usize / 7 % 7]))).collect();
        let open: BTreeSet<u32> = (0..30).filter(|c| c % 3 != 2).collect();
        for seed in 0..10 {
            let order: Vec<u32> = ExplorationOrder::new(&catalog, &feedback, &BTreeSet::new(), seed).collect();
            assert_eq!((order.len(), order.iter().copied().collect::<BTreeSet<u32>>()), (open.len(), open.clone()), "seed {seed}");
        }
    }

    /// The order has the distribution of one Beta draw per category sorted
    /// (those in the list last): over many seeds, how often each category
    /// comes first, and its mean place in the whole order (which reaches every
    /// later draw, the merge, the listed rest and the tail), match those of a
    /// draw per category.
    #[test]
    fn the_order_is_distributed_as_with_a_draw_per_category() {
        let catalog = catalog_of(30);
        // Category 0 was clicked often, 1 shown and never clicked; 4 is in the list.
        let feedback: BTreeMap<u32, (f64, f64)> = [(0, (4.0, 5.0)), (1, (0.0, 12.0))].into();
        let in_list: BTreeSet<u32> = [4].into();
        let runs = 20_000u32;
        let (mut lazy_first, mut full_first, mut lazy_place, mut full_place) = (vec![0u32; 30], vec![0u32; 30], vec![0f64; 30], vec![0f64; 30]);
        let mut rng: ChaCha8Rng = rand::SeedableRng::seed_from_u64(99);
        for seed in 0..u64::from(runs) {
            let lazy: Vec<u32> = ExplorationOrder::new(&catalog, &feedback, &in_list, seed).collect();
            let mut full: Vec<(bool, f64, u32)> = (0..30u32)
                .filter(|c| c % 3 != 2)
                .map(|c| {
                    let (clicks, shown) = feedback.get(&c).copied().unwrap_or_default();
                    (in_list.contains(&c), Beta::new(1.0 + clicks, 1.0 + shown - clicks).unwrap().sample(&mut rng), c)
                })
                .collect();
            full.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
            lazy_first[lazy[0] as usize] += 1;
            full_first[full[0].2 as usize] += 1;
            lazy.iter().enumerate().for_each(|(place, &c)| lazy_place[c as usize] += place as f64 / f64::from(runs));
            full.iter().enumerate().for_each(|(place, &(_, _, c))| full_place[c as usize] += place as f64 / f64::from(runs));
        }
        let n = f64::from(runs);
        for c in 0..30 {
            let (a, b) = (f64::from(lazy_first[c]) / n, f64::from(full_first[c]) / n);
            // Four standard errors of the difference of two shares, at most.
            let tolerance = 4.0 * (2.0 * a.max(b) * (1.0 - a.max(b)) / n).sqrt() + 1e-9;
            assert!((a - b).abs() <= tolerance, "category {c}: first in {a:.4} of lazy orders, {b:.4} with a draw per category");
            // A place among 20 varies by at most 10 around its mean: four standard errors of the difference.
            let tolerance = 4.0 * (2.0 * 100.0 / n).sqrt();
            assert!(
                (lazy_place[c] - full_place[c]).abs() <= tolerance,
                "category {c}: mean place {:.3} lazy, {:.3} with a draw each",
                lazy_place[c],
                full_place[c]
            );
        }
        assert!(lazy_first[0] > 5 * lazy_first[1], "a category often clicked comes first far more often than one never clicked");
        assert!(lazy_first[3] > 0 && lazy_first.iter().skip(2).step_by(3).all(|&n| n == 0), "never-shown categories come first too; sensitive never");
        assert!((lazy_place[4] - 19.0).abs() < 1e-9, "the category in the list comes last");
    }
}
