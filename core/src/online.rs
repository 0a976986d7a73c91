//! The ranker that keeps learning on the device: a per-person FTRL-proximal
//! logistic regression (linfa-ftrl) from the score parts of the items the
//! person was shown to whether they clicked. Its weights are added to the
//! pack's default ranker weights, so a fresh model ranks exactly as the pack
//! says and every impression moves the mix toward the signals that predict
//! this person's clicks.

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

/// FTRL step size: large enough that a few dozen impressions move the mix.
const ALPHA: f64 = 0.2;
/// FTRL's β: damps the first steps of each weight.
const BETA: f64 = 1.0;
/// L1 strength: weights without consistent evidence stay exactly zero.
const L1: f64 = 0.5;
/// L2 strength: keeps learned weights small.
const L2: f64 = 1.0;
/// No learned adjustment goes beyond this, whatever the clicks say.
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnlineSummary {
    /// Impressions learned from.
    pub impressions: u64,
    /// The learned adjustment of each score part's weight, by part name.
    pub adjustments: BTreeMap<String, f64>,
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
    /// Learns from impressions, one at a time in the order given. Impressions
    /// with a non-finite part are skipped, so bad numbers never reach the model.
    pub fn learn(&mut self, impressions: &[Impression]) {
        for impression in impressions.iter().filter(|i| i.features.iter().all(|x| x.is_finite())) {
            let row: Vec<f64> = std::iter::once(1.0).chain(impression.features.iter().copied()).collect();
            let records = Array2::from_shape_vec((1, FEATURES + 1), row).expect("one row of FEATURES + 1");
            let dataset = Dataset::new(records, Array1::from_elem(1, impression.clicked));
            let model = std::mem::replace(&mut self.model, OnlineRanker::default().model);
            self.model = params().fit_with(Some(model), &dataset).expect("constant hyperparameters are valid");
            self.impressions += 1;
        }
    }

    /// Impressions learned from so far.
    pub fn impressions(&self) -> u64 {
        self.impressions
    }

    /// The learned adjustments by part name, with the impressions behind them.
    pub fn summary(&self) -> OnlineSummary {
        let adjustments = FEATURE_NAMES.iter().map(|n| n.to_string()).zip(self.adjustments()).collect();
        OnlineSummary { impressions: self.impressions, adjustments }
    }

    /// The learned adjustment of each score part's weight, in [`FEATURE_NAMES`] order.
    pub fn adjustments(&self) -> ScoreFeatures {
        let weights = self.model.get_weights();
        std::array::from_fn(|k| {
            let w = weights[k + 1];
            if w.is_finite() { w.clamp(-MAX_ADJUSTMENT, MAX_ADJUSTMENT) } else { 0.0 }
        })
    }

    /// The pack's weights with this person's adjustments added; a signal can be
    /// switched off by the clicks but never turned against the person.
    pub fn apply(&self, defaults: &RankerWeights) -> RankerWeights {
        let a = self.adjustments();
        let adjust = |w: f32, k: usize| (f64::from(w) + a[k]).max(0.0) as f32;
        RankerWeights {
            neighbour: adjust(defaults.neighbour, 0),
            transition: adjust(defaults.transition, 1),
            network: adjust(defaults.network, 2),
            category: adjust(defaults.category, 3),
            popularity: adjust(defaults.popularity, 4),
            ..defaults.clone()
        }
    }
}

/// The hyperparameters. linfa-ftrl draws its initial state from the generator;
/// a generator of zeros starts every weight at exactly zero (the pack's weights).
fn params() -> FtrlParams<f64, StepRng> {
    Ftrl::params_with_rng(StepRng::new(0, 0)).alpha(ALPHA).beta(BETA).l1_ratio(L1).l2_ratio(L2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn impression(popularity: f64, neighbour: f64, clicked: bool) -> Impression {
        Impression { features: [neighbour, 0.0, 0.0, 0.0, popularity], clicked }
    }

    #[test]
    fn a_fresh_model_keeps_the_pack_weights() {
        let defaults = RankerWeights::default();
        assert_eq!(OnlineRanker::default().apply(&defaults), defaults);
        assert_eq!(OnlineRanker::default().adjustments(), [0.0; FEATURES]);
    }

    #[test]
    fn clicks_on_popular_items_raise_the_popularity_weight_only() {
        let mut ranker = OnlineRanker::default();
        let shown: Vec<Impression> = (0..200).flat_map(|_| [impression(0.9, 0.5, true), impression(0.05, 0.5, false)]).collect();
        ranker.learn(&shown);
        let a = ranker.adjustments();
        assert!(a[4] > 0.1, "{a:?}");
        assert_eq!(a[1..4], [0.0; 3], "parts that never varied stay at the pack's weight");
        assert_eq!(ranker.impressions(), 400);
        let defaults = RankerWeights::default();
        assert!(ranker.apply(&defaults).popularity > defaults.popularity);
    }

    #[test]
    fn weights_are_never_turned_negative_and_bad_numbers_are_skipped() {
        let mut ranker = OnlineRanker::default();
        let shown: Vec<Impression> = (0..500).flat_map(|_| [impression(0.0, 5.0, false), impression(0.0, 0.0, true)]).collect();
        ranker.learn(&shown);
        assert!(ranker.adjustments()[0] < 0.0);
        assert_eq!(ranker.apply(&RankerWeights::default()).neighbour, 0.0);
        let before = ranker.clone();
        ranker.learn(&[Impression { features: [f64::NAN, 0.0, 0.0, 0.0, f64::INFINITY], clicked: true }]);
        assert_eq!(ranker, before);
    }

    #[test]
    fn learning_is_deterministic_and_survives_serialisation() {
        let shown: Vec<Impression> = (0..50).map(|i| impression(f64::from(i) / 50.0, 1.0, i % 3 == 0)).collect();
        let (mut a, mut b) = (OnlineRanker::default(), OnlineRanker::default());
        a.learn(&shown);
        b.learn(&shown);
        assert_eq!(a, b);
        let bytes = bincode::serde::encode_to_vec(&a, bincode::config::standard()).unwrap();
        let (back, _): (OnlineRanker, usize) = bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        assert_eq!(back, a);
    }
}
