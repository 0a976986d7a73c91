//! The ranker that keeps learning on the device: a per-person FTRL-proximal
//! logistic regression (linfa-ftrl) from what each shown item's score was made
//! of to whether the person clicked it. What it learns rescales the pack's
//! default ranker weights, so a fresh model ranks exactly as the pack says and
//! every screen of impressions moves the mix toward the signals that set this
//! person's clicks apart.

use std::collections::BTreeMap;

use linfa::prelude::*;
use linfa_ftrl::{Ftrl, FtrlParams};
use ndarray::{Array1, Array2};
use rand_08::rngs::mock::StepRng;
use serde::{Deserialize, Serialize};

use crate::catalog::RankerWeights;

/// The score parts the online ranker weighs, in [`ScoreFeatures`] order.
pub const FEATURE_NAMES: [&str; FEATURES] = ["neighbour", "transition", "network", "category", "popularity"];
/// How many score parts are learned (a constant click rate is learned besides).
pub const FEATURES: usize = 5;
/// One item's score parts, in [`FEATURE_NAMES`] order.
pub type ScoreFeatures = [f64; FEATURES];

/// FTRL step size: large enough that a few dozen screens move the mix.
const ALPHA: f64 = 0.2;
/// FTRL's β: damps the first steps of each weight.
const BETA: f64 = 1.0;
/// L1 strength: parts without consistent evidence keep the pack's weight exactly.
const L1: f64 = 0.5;
/// L2 strength: keeps adjustments small.
const L2: f64 = 1.0;
/// No part's weight grows beyond (1 + this) times the pack's, whatever the clicks say.
const MAX_ADJUSTMENT: f64 = 2.0;

/// One impression: the item's score parts when shown, and whether it was clicked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impression {
    /// The item's score parts.
    pub features: ScoreFeatures,
    /// Whether the person clicked it.
    pub clicked: bool,
}

/// What the online ranker has learned, for the debug report and the export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlineSummary {
    /// Impressions learned from.
    pub impressions: u64,
    /// Per part name, the change of its weight as a share of the pack's, as applied.
    pub adjustments: BTreeMap<String, f64>,
    /// The click model's coefficients as learned, before bounds: one per part
    /// name, and `click_rate` for its intercept (the person's base click log-odds).
    pub coefficients: BTreeMap<String, f64>,
}

/// The per-person click model, kept in the encrypted engine state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OnlineRanker {
    model: Ftrl<f64>,
    impressions: u64,
}

impl Default for OnlineRanker {
    fn default() -> Self {
        let checked = params().check().expect("constant hyperparameters are valid");
        OnlineRanker { model: Ftrl::new(checked, FEATURES + 1), impressions: 0 }
    }
}

impl PartialEq for OnlineRanker {
    fn eq(&self, other: &Self) -> bool {
        self.impressions == other.impressions && self.model.z() == other.model.z() && self.model.n() == other.model.n()
    }
}

impl OnlineRanker {
    /// Learns from one screen of impressions ranked under `weights`. Each part
    /// enters as its contribution to the score (weight × part), relative to its
    /// mean over the screen and divided by the spread of the screen's scores:
    /// the model learns which contributions set the clicked items apart from the
    /// others shown, on one scale for every part, and not how often anything is
    /// clicked. A screen whose items all score the same, or with a non-finite
    /// part, teaches nothing.
    pub fn learn(&mut self, screen: &[Impression], weights: &RankerWeights) {
        let w = part_weights(weights);
        let contributions: Vec<ScoreFeatures> = screen.iter().map(|i| std::array::from_fn(|k| w[k] * i.features[k])).collect();
        let totals: Vec<f64> = contributions.iter().map(|c| c.iter().sum()).collect();
        let spread = std_dev(&totals);
        if !(spread.is_finite() && spread > 0.0) {
            return;
        }
        let mean: ScoreFeatures = std::array::from_fn(|k| contributions.iter().map(|c| c[k]).sum::<f64>() / screen.len() as f64);
        for (impression, c) in screen.iter().zip(&contributions) {
            let row: Vec<f64> = std::iter::once(1.0).chain((0..FEATURES).map(|k| (c[k] - mean[k]) / spread)).collect();
            let records = Array2::from_shape_vec((1, FEATURES + 1), row).expect("one row of FEATURES + 1");
            let dataset = Dataset::new(records, Array1::from_elem(1, impression.clicked));
            self.model = params().fit_with(Some(self.model.clone()), &dataset).expect("constant hyperparameters are valid");
            self.impressions += 1;
        }
    }

    /// Whether the state has one coefficient per part plus the intercept, all
    /// finite (a stored state that does not is refused as corrupt).
    pub fn is_consistent(&self) -> bool {
        let fits = |a: &Array1<f64>| a.len() == FEATURES + 1 && a.iter().all(|x| x.is_finite());
        fits(self.model.z()) && fits(self.model.n())
    }

    /// Everything learned, with the impressions behind it.
    pub fn summary(&self) -> OnlineSummary {
        let names = || FEATURE_NAMES.iter().map(|n| n.to_string());
        let raw = self.model.get_weights();
        OnlineSummary {
            impressions: self.impressions,
            adjustments: names().zip(self.adjustments()).collect(),
            coefficients: std::iter::once("click_rate".to_string()).chain(names()).zip(raw.iter().copied()).collect(),
        }
    }

    /// The learned change of each part's weight as a share of the pack's
    /// (−1 switches the part off), in [`FEATURE_NAMES`] order.
    pub fn adjustments(&self) -> ScoreFeatures {
        let weights = self.model.get_weights();
        std::array::from_fn(|k| {
            let w = weights[k + 1];
            if w.is_finite() { w.clamp(-1.0, MAX_ADJUSTMENT) } else { 0.0 }
        })
    }

    /// The pack's weights, each scaled by this person's adjustment: a part can
    /// weigh up to (1 + [`MAX_ADJUSTMENT`]) times the pack's weight or be switched
    /// off, but is never turned against the person nor added where the pack
    /// gives it no weight.
    pub fn apply(&self, defaults: &RankerWeights) -> RankerWeights {
        let (w, a) = (part_weights(defaults), self.adjustments());
        let [neighbour, transition, network, category, popularity] = std::array::from_fn(|k| (w[k] * (1.0 + a[k])) as f32);
        RankerWeights { neighbour, transition, network, category, popularity, ..defaults.clone() }
    }
}

/// The weights of the learned parts, in [`FEATURE_NAMES`] order.
fn part_weights(w: &RankerWeights) -> ScoreFeatures {
    [w.neighbour, w.transition, w.network, w.category, w.popularity].map(f64::from)
}

fn std_dev(xs: &[f64]) -> f64 {
    let n = xs.len().max(1) as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// The hyperparameters. linfa-ftrl draws its initial state from the generator;
/// a generator of zeros starts every weight at exactly zero (the pack's weights).
fn params() -> FtrlParams<f64, StepRng> {
    Ftrl::params_with_rng(StepRng::new(0, 0)).alpha(ALPHA).beta(BETA).l1_ratio(L1).l2_ratio(L2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn impression(neighbour: f64, popularity: f64, clicked: bool) -> Impression {
        Impression { features: [neighbour, 0.0, 0.0, 0.0, popularity], clicked }
    }

    /// Screens of a similar-but-obscure item beside a popular unrelated one,
    /// where the person opens the one chosen by `click_popular`.
    fn screens(ranker: &mut OnlineRanker, count: usize, click_popular: bool) {
        for _ in 0..count {
            ranker.learn(&[impression(0.8, 0.1, !click_popular), impression(0.0, 0.9, click_popular)], &RankerWeights::default());
        }
    }

    #[test]
    fn a_fresh_model_keeps_the_pack_weights() {
        let defaults = RankerWeights::default();
        assert_eq!(OnlineRanker::default().apply(&defaults), defaults);
        assert_eq!(OnlineRanker::default().adjustments(), [0.0; FEATURES]);
    }

    #[test]
    fn the_mix_moves_toward_what_sets_the_clicked_items_apart() {
        let mut ranker = OnlineRanker::default();
        screens(&mut ranker, 100, true);
        let a = ranker.adjustments();
        assert!(a[4] > 0.1 && a[0] < -0.1, "{a:?}");
        assert_eq!(a[1..4], [0.0; 3], "parts that never varied keep the pack's weight");
        assert_eq!(ranker.summary().impressions, 200);
        assert_eq!(ranker.summary().coefficients["popularity"], ranker.adjustments()[4], "within bounds, applied as learned");
        let (defaults, adjusted) = (RankerWeights::default(), ranker.apply(&RankerWeights::default()));
        assert!(adjusted.popularity > defaults.popularity && adjusted.neighbour < defaults.neighbour);
        let mut follower = OnlineRanker::default();
        screens(&mut follower, 100, false);
        let a = follower.adjustments();
        assert!(a[0] > 0.1 && a[4] < -0.1, "{a:?}");
    }

    #[test]
    fn weights_stay_within_bounds_and_bad_screens_teach_nothing() {
        let mut ranker = OnlineRanker::default();
        screens(&mut ranker, 2_000, true);
        let adjusted = ranker.apply(&RankerWeights::default());
        assert!(adjusted.neighbour >= 0.0, "never turned against the person");
        assert!(f64::from(adjusted.popularity) <= f64::from(RankerWeights::default().popularity) * (1.0 + MAX_ADJUSTMENT) + 1e-6);
        let none = RankerWeights { popularity: 0.0, ..RankerWeights::default() };
        assert_eq!(ranker.apply(&none).popularity, 0.0, "no weight where the pack gives none");
        let before = ranker.clone();
        ranker.learn(&[impression(f64::NAN, 0.0, true), impression(0.0, 1.0, false)], &RankerWeights::default());
        ranker.learn(&[impression(0.5, 0.5, true), impression(0.5, 0.5, false)], &RankerWeights::default());
        ranker.learn(&[], &RankerWeights::default());
        assert_eq!(ranker, before);
    }

    #[test]
    fn a_stored_state_of_the_wrong_shape_is_detected() {
        let mut json = serde_json::to_value(OnlineRanker::default()).unwrap();
        json["model"]["z"]["dim"] = serde_json::json!([3]);
        json["model"]["z"]["data"] = serde_json::json!([0.0, 0.0, 0.0]);
        let short: OnlineRanker = serde_json::from_value(json).unwrap();
        assert!(!short.is_consistent());
        assert!(OnlineRanker::default().is_consistent());
    }

    #[test]
    fn learning_is_deterministic_and_survives_serialisation() {
        let (mut a, mut b) = (OnlineRanker::default(), OnlineRanker::default());
        screens(&mut a, 30, true);
        screens(&mut b, 30, true);
        assert_eq!(a, b);
        let bytes = bincode::serde::encode_to_vec(&a, bincode::config::standard()).unwrap();
        let (back, _): (OnlineRanker, usize) = bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        assert_eq!(back, a);
        assert!(back.is_consistent());
    }
}
