//! The pack's optional sequence network: a small feed-forward network that reads
//! the same two views of the history as the sequential item-to-item model (the
//! last few items and the decayed recent history) and scores every catalogue
//! item as what comes next. It is trained off-device (`packer`) and evaluated
//! here, on the device, in a few hundred thousand multiply-adds.
//!
//! `h0 = Σ weight × input[row]`, `h = h0 + relu(h0·hidden + hidden_bias)`,
//! `logit[j] = h · input[n + j] + output_bias[j]`: an item's history embedding
//! is also its output embedding (tied, as in SASRec), which halves the size.

use std::sync::LazyLock;

use crate::catalog::{in_bounds, Embeddings};
use crate::kernels;
use crate::model::{history_weight, recent_weight, RECENT_ITEMS, SEQUENCE_WINDOW};

/// Per step back, the recent and history weights, computed once: the packer
/// reads them for every position of every training history.
static STEP_WEIGHTS: LazyLock<[(f64, f64); SEQUENCE_WINDOW]> = LazyLock::new(|| std::array::from_fn(|back| (recent_weight(back), history_weight(back))));

/// A trained sequence network, as shipped in a pack (embeddings int8-quantised).
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceNetwork {
    /// Item embeddings: row `i` is item `i` among the recent items, row `n + i`
    /// the same item in the decayed history and as an output.
    pub input: Embeddings,
    /// Hidden layer, row-major `dim × dim`.
    pub hidden: Vec<f32>,
    /// Hidden layer bias, `dim`.
    pub hidden_bias: Vec<f32>,
    /// Output bias of each item.
    pub output_bias: Vec<f32>,
}

/// The network's inputs for a history given most recent first: each item's row in
/// the recent block (first [`RECENT_ITEMS`] only, weighted [`recent_weight`]) and
/// in the history block (first [`SEQUENCE_WINDOW`], weighted [`history_weight`]).
/// The sequential item-to-item model is learned on exactly these rows.
pub fn sequence_inputs(most_recent_first: impl IntoIterator<Item = u32>, n: usize) -> Vec<(usize, f64)> {
    let mut inputs = Vec::with_capacity(RECENT_ITEMS + SEQUENCE_WINDOW);
    inputs.extend(input_rows(most_recent_first, n));
    inputs
}

/// [`sequence_inputs`] as they come, without collecting them.
fn input_rows(most_recent_first: impl IntoIterator<Item = u32>, n: usize) -> impl Iterator<Item = (usize, f64)> {
    most_recent_first.into_iter().zip(STEP_WEIGHTS.iter()).enumerate().flat_map(move |(back, (item, &(recent, history)))| {
        let recent_row = (back < RECENT_ITEMS).then_some((item as usize, recent));
        recent_row.into_iter().chain(std::iter::once((n + item as usize, history)))
    })
}

/// The hidden state in integer levels, `h[d] ≈ levels[d] × unit`, so the
/// output layer's dot products with int8 embeddings are exact integer sums:
/// the same on every device, and several times as fast as in floats (600 rows
/// of 128: 14.7 → 3.0 µs on x86-64).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HiddenLevels {
    levels: Vec<i16>,
    unit: f32,
}

impl HiddenLevels {
    /// Quantises `hidden` to as many levels as keep any dot product with an int8
    /// row (magnitudes up to 128) within `i32`: 32,767 up to 128 dimensions.
    fn quantise(hidden: &[f32]) -> Self {
        let top = (i32::MAX as usize / (128 * hidden.len().max(1))).saturating_sub(1).min(i16::MAX as usize) as f32;
        let largest = hidden.iter().fold(0f32, |m, x| m.max(x.abs()));
        let unit = if largest > 0.0 { largest / top } else { 0.0 };
        let levels = hidden.iter().map(|&x| if unit > 0.0 { (x / unit).round().clamp(-top, top) as i16 } else { 0 }).collect();
        HiddenLevels { levels, unit }
    }

    /// Whether there is no hidden state (no network in use).
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }
}

/// ln Σ exp(x) over `values`, computed stably and the same whatever their
/// order: each term is cut to a multiple of 2⁻⁵² (below a part in 10¹⁵ of the
/// sum, which the largest term starts at 1) and the terms are added exactly, in
/// integers. A ranking then need not put its candidates in any order.
pub fn log_sum_exp(values: &[f64]) -> f64 {
    const UNIT: f64 = (1u64 << 52) as f64;
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    // Terms below e^-37 < 2⁻⁵² are cut to nothing: their exponentials need not be taken.
    let sum: u128 = values.iter().filter(|&&l| l - max > -37.0).map(|l| u128::from(((l - max).exp() * UNIT) as u64)).sum();
    max + (sum as f64 / UNIT).ln()
}

impl SequenceNetwork {
    /// Dimensions of the hidden state.
    pub fn dim(&self) -> usize {
        usize::from(self.input.dim)
    }

    /// Whether the shapes fit a catalogue of `n` items and every value is finite.
    pub fn is_consistent(&self, n: usize) -> bool {
        let d = self.dim();
        let finite = |v: &[f32]| v.iter().all(|&x| in_bounds(x));
        d > 0
            && self.input.scales.len() == 2 * n
            && self.input.values.len() == 2 * n * d
            && self.hidden.len() == d * d
            && self.hidden_bias.len() == d
            && self.output_bias.len() == n
            && [&self.input.scales, &self.hidden, &self.hidden_bias, &self.output_bias].iter().all(|v| finite(v))
    }

    /// The hidden state for a history given most recent first.
    pub fn hidden_state(&self, most_recent_first: &[u32]) -> HiddenLevels {
        let d = self.dim();
        let mut h0 = vec![0f32; d];
        for (row, weight) in input_rows(most_recent_first.iter().copied(), self.output_bias.len()) {
            kernels::add_dequantised(&mut h0, weight as f32, self.input.row(row as u32), self.input.factor(row as u32));
        }
        // Row by row, so the inner loop reads the hidden matrix contiguously;
        // each unit still sums its inputs in the same order.
        let mut z = vec![0f32; d];
        kernels::add_vector_times_matrix(&mut z, &h0, &self.hidden);
        h0.iter_mut().zip(&z).zip(&self.hidden_bias).for_each(|((h, z), b)| *h += (b + z).max(0.0));
        HiddenLevels::quantise(&h0)
    }

    /// Item `j`'s logit of coming next after the history whose hidden state is `hidden`.
    pub fn logit(&self, hidden: &HiddenLevels, j: u32) -> f64 {
        let row = self.output_bias.len() as u32 + j;
        let dot = self.input.dot_levels(row, &hidden.levels) as f32 * self.input.factor(row) * hidden.unit;
        f64::from(self.output_bias[j as usize] + dot)
    }

    /// For every item, how much more likely than a uniform pick the network
    /// finds it to come next: `ln(n × p)`, positive when above chance.
    pub fn scores(&self, most_recent_first: &[u32]) -> Vec<f64> {
        let h = self.hidden_state(most_recent_first);
        let n = self.output_bias.len();
        let logits: Vec<f64> = (0..n as u32).map(|j| self.logit(&h, j)).collect();
        let log_sum = log_sum_exp(&logits);
        logits.iter().map(|l| l - log_sum + (n as f64).ln()).collect()
    }

    /// The history rows that could support an item through the network's skip
    /// path, for a history given most recent first: what every search for a
    /// reason's source in one ranking reads, gathered once.
    pub fn source_rows(&self, most_recent_first: &[u32]) -> SourceRows {
        let n = self.output_bias.len();
        let rows = input_rows(most_recent_first.iter().copied(), n).map(|(row, weight)| SourceRow {
            row: row as u32,
            item: (row % n) as u32,
            weight: weight as f32,
            factor: self.input.factor(row as u32),
        });
        let mut gathered = Vec::with_capacity(RECENT_ITEMS + SEQUENCE_WINDOW);
        gathered.extend(rows);
        SourceRows(gathered)
    }

    /// The history item that supports `target` most through the network's skip
    /// path (`weight × input[row] · output[target]`), for explanations; `rows`
    /// are [`Self::source_rows`] of the history.
    pub fn strongest_source(&self, rows: &SourceRows, target: u32) -> Option<u32> {
        // An item's output embedding is its history row.
        let output = self.output_bias.len() as u32 + target;
        let output_factor = self.input.factor(output);
        let mut best: Option<(u32, f32)> = None;
        for r in &rows.0 {
            let support = r.weight * (self.input.dot_rows(r.row, output) as f32 * r.factor * output_factor);
            if support > 0.0 && best.is_none_or(|(_, top)| support > top) {
                best = Some((r.item, support));
            }
        }
        best.map(|(item, _)| item)
    }
}

/// [`SequenceNetwork::source_rows`]: each row of the history's inputs with its
/// item, weight and quantisation factor.
#[derive(Debug, Clone, Default)]
pub struct SourceRows(Vec<SourceRow>);

#[derive(Debug, Clone, Copy)]
struct SourceRow {
    row: u32,
    item: u32,
    weight: f32,
    factor: f32,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::SEQUENCE_HALF_LIFE_STEPS;

    /// A hand-built network over `n` items whose recent block maps item `i` to
    /// item `i + 1` (and the hidden layer is off), so what comes next is known.
    pub(crate) fn successor_network(n: usize) -> SequenceNetwork {
        let d = n;
        let mut input = vec![0f32; 2 * n * d];
        for i in 0..n {
            input[i * d + (i + 1) % n] = 4.0;
            input[(n + i) * d + i] = 1.0;
        }
        SequenceNetwork { input: Embeddings::quantise(d, &input), hidden: vec![0.0; d * d], hidden_bias: vec![-1.0; d], output_bias: vec![0.0; n] }
    }

    #[test]
    fn inputs_follow_the_sequential_windows() {
        let inputs = sequence_inputs(0..40, 100);
        assert_eq!(inputs.len(), RECENT_ITEMS + SEQUENCE_WINDOW);
        assert_eq!(inputs[0], (0, 1.0));
        assert_eq!(inputs[1], (100, 1.0));
        assert!(inputs.iter().all(|&(row, _)| row < 100 + SEQUENCE_WINDOW));
        let last = inputs.last().unwrap();
        assert_eq!(last.0, 100 + SEQUENCE_WINDOW - 1);
        assert!((last.1 - 0.5f64.powf((SEQUENCE_WINDOW - 1) as f64 / SEQUENCE_HALF_LIFE_STEPS)).abs() < 1e-12);
    }

    #[test]
    fn scores_rank_the_successor_first_and_are_log_odds_against_chance() {
        let net = successor_network(6);
        assert!(net.is_consistent(6));
        let scores = net.scores(&[2, 1]);
        let best = (0..6).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap();
        assert_eq!(best, 3, "{scores:?}");
        let total: f64 = scores.iter().map(|s| s.exp() / 6.0).sum();
        assert!((total - 1.0).abs() < 1e-9, "probabilities sum to one");
        let rows = net.source_rows(&[2, 1]);
        assert_eq!(net.strongest_source(&rows, 3), Some(2));
        assert_eq!(net.strongest_source(&rows, 5), None, "nothing supports an unrelated item");
    }

    /// A network of random weights over `n` items of `d` dimensions.
    fn random_network(n: usize, d: usize, seed: u64) -> SequenceNetwork {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut values = |len: usize, scale: f32| (0..len).map(|_| rng.random_range(-scale..scale)).collect::<Vec<f32>>();
        let input = Embeddings::quantise(d, &values(2 * n * d, 1.0));
        SequenceNetwork { input, hidden: values(d * d, 0.3), hidden_bias: values(d, 0.1), output_bias: values(n, 0.5) }
    }

    /// The hidden state and logits in floats, from the de-quantised embeddings.
    fn float_logits(net: &SequenceNetwork, most_recent_first: &[u32]) -> Vec<f64> {
        let (n, d) = (net.output_bias.len(), net.dim());
        let mut h0 = vec![0f64; d];
        for (row, weight) in sequence_inputs(most_recent_first.iter().copied(), n) {
            h0.iter_mut().zip(net.input.vector(row as u32)).for_each(|(h, e)| *h += weight * f64::from(e));
        }
        let h: Vec<f64> = (0..d)
            .map(|u| {
                let z: f64 = (0..d).map(|x| h0[x] * f64::from(net.hidden[x * d + u])).sum();
                h0[u] + (z + f64::from(net.hidden_bias[u])).max(0.0)
            })
            .collect();
        let output = |j: usize| net.input.vector((n + j) as u32).zip(&h).map(|(e, h)| f64::from(e) * h).sum::<f64>();
        (0..n).map(|j| f64::from(net.output_bias[j]) + output(j)).collect()
    }

    #[test]
    fn integer_logits_match_the_float_network() {
        for (n, d, seed) in [(50, 128, 1), (30, 16, 2), (25, 40, 3), (20, 3, 4)] {
            let net = random_network(n, d, seed);
            let history: Vec<u32> = (0..40).map(|k| (k * 7 % n) as u32).collect();
            let hidden = net.hidden_state(&history);
            let expected = float_logits(&net, &history);
            let spread = expected.iter().fold(0f64, |m, l| m.max(l.abs()));
            for (j, want) in expected.iter().enumerate() {
                let got = net.logit(&hidden, j as u32);
                assert!((got - want).abs() <= 1e-4 * spread, "item {j} of {n} x {d}: {got} against {want}");
            }
        }
    }

    #[test]
    fn hidden_levels_keep_any_dot_product_within_i32() {
        // The widest dot product: every component at the extreme of both
        // ranges, in as many dimensions as a pack may carry.
        let dim = usize::from(u16::MAX);
        let hidden = HiddenLevels::quantise(&vec![-3.5f32; dim]);
        let top = i64::from(hidden.levels[0]).abs();
        assert!(top > 0 && hidden.levels.iter().all(|&l| i64::from(l).abs() == top));
        assert!(128 * top * dim as i64 <= i64::from(i32::MAX));
        let rows = Embeddings { dim: dim as u16, scales: vec![1.0], values: vec![-128; dim] };
        assert_eq!(i64::from(rows.dot_levels(0, &hidden.levels)), 128 * top * dim as i64);
        // Up to 128 dimensions the hidden state keeps the full 16-bit precision.
        assert_eq!(HiddenLevels::quantise(&[0.25, -1.0, 0.5]).levels, vec![8192, -32767, 16384]);
        assert!(HiddenLevels::quantise(&[0.0; 4]).levels.iter().all(|&l| l == 0), "a zero state stays zero");
    }

    #[test]
    fn the_log_sum_does_not_depend_on_the_order_of_the_terms() {
        use rand::{seq::SliceRandom, Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut logits: Vec<f64> = (0..600).map(|_| rng.random_range(-30.0..12.0)).collect();
        let naive = |v: &[f64]| v.iter().map(|l| l.exp()).sum::<f64>().ln();
        let (expected, first) = (naive(&logits), log_sum_exp(&logits));
        assert!((first - expected).abs() <= 1e-12 * expected.abs());
        let mut naive_sums = std::collections::BTreeSet::new();
        for _ in 0..20 {
            logits.shuffle(&mut rng);
            naive_sums.insert(naive(&logits).to_bits());
            assert_eq!(log_sum_exp(&logits).to_bits(), first.to_bits());
        }
        assert!(naive_sums.len() > 1, "a floating-point sum does depend on the order here");
    }

    #[test]
    fn inconsistent_shapes_and_values_are_detected() {
        let mut net = successor_network(4);
        assert!(!net.is_consistent(5));
        net.hidden_bias[0] = f32::NAN;
        assert!(!net.is_consistent(4));
    }
}
