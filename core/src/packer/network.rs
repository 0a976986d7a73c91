//! Trains the pack's [`SequenceNetwork`]: from the recent items and the decayed
//! history ([`sequence_inputs`]) to a softmax over the whole catalogue, with the
//! next `steps_ahead` items as the target (the k-th weighted `ahead_decay`^k),
//! by mini-batch AdamW with dropout on the pooled input. On ML-1M validation the
//! network alone reaches about the sequential item-to-item model, and the two
//! together beat either (BENCHMARKS.md).
//!
//! Everything is laid out one column per example (`dim × batch`), so each
//! example's vectors are contiguous and the three large products are faer GEMMs.
//! Deterministic for a given seed.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::PackerError;
use crate::catalog::Embeddings;
use crate::network::{sequence_inputs, SequenceNetwork};

/// How the sequence network is trained.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfig {
    /// Dimensions of the hidden state.
    pub dim: usize,
    /// Passes over every position of every history.
    pub epochs: usize,
    /// Share of the pooled input dropped during training.
    pub dropout: f32,
    /// AdamW step size.
    pub learning_rate: f32,
    /// AdamW decoupled weight decay.
    pub weight_decay: f32,
    /// Examples per step.
    pub batch: usize,
    /// How many upcoming items form the target.
    pub steps_ahead: usize,
    /// Weight of the k-th upcoming item relative to the one before it.
    pub ahead_decay: f32,
    /// Seed of the initialisation, the shuffles and the dropout.
    pub seed: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig { dim: 128, epochs: 3, dropout: 0.3, learning_rate: 2e-3, weight_decay: 1e-4, batch: 512, steps_ahead: 3, ahead_decay: 0.5, seed: 7 }
    }
}

/// One training position: the inputs before it and the weighted items to come.
struct Example {
    inputs: Vec<(usize, f32)>,
    targets: Vec<(usize, f32)>,
}

/// The trainable parameters, or their gradients or moments (same shapes).
#[derive(Clone)]
struct Params {
    /// `dim × 2n`: column `r` is input row `r`; columns `n..2n` are also the
    /// output embeddings.
    input: Mat<f32>,
    /// `dim × dim`: the transpose of the shipped row-major hidden layer.
    hidden: Mat<f32>,
    /// `dim × 1`.
    hidden_bias: Mat<f32>,
    /// `n × 1`.
    output_bias: Mat<f32>,
}

impl Params {
    fn zeros(dim: usize, n: usize) -> Self {
        Params {
            input: Mat::zeros(dim, 2 * n),
            hidden: Mat::zeros(dim, dim),
            hidden_bias: Mat::zeros(dim, 1),
            output_bias: Mat::zeros(n, 1),
        }
    }

    fn random(dim: usize, n: usize, rng: &mut ChaCha8Rng) -> Self {
        let embedding = Normal::new(0.0f32, 0.05).expect("valid");
        let layer = Normal::new(0.0f32, 1.0 / (dim as f32).sqrt()).expect("valid");
        Params {
            input: Mat::from_fn(dim, 2 * n, |_, _| embedding.sample(rng)),
            hidden: Mat::from_fn(dim, dim, |_, _| layer.sample(rng)),
            ..Params::zeros(dim, n)
        }
    }

    fn mats(&mut self) -> [&mut Mat<f32>; 4] {
        [&mut self.input, &mut self.hidden, &mut self.hidden_bias, &mut self.output_bias]
    }
}

/// Trains the network on `histories` (item indices in time order) over `n` items.
pub(super) fn learn(histories: &[Vec<u32>], n: usize, config: &NetworkConfig) -> Result<SequenceNetwork, PackerError> {
    let valid = config.dim > 0
        && config.batch > 0
        && config.steps_ahead > 0
        && (0.0..1.0).contains(&config.dropout)
        && config.learning_rate.is_finite()
        && config.learning_rate > 0.0
        && config.weight_decay.is_finite()
        && config.weight_decay >= 0.0
        && config.ahead_decay.is_finite()
        && config.ahead_decay > 0.0;
    if !valid {
        return Err(PackerError::Solver("the network needs a positive size, batch, step and horizon, and dropout below one".into()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut params = Params::random(config.dim, n, &mut rng);
    let mut adam = AdamW::new(config, n);
    let mut positions: Vec<(usize, usize)> =
        histories.iter().enumerate().flat_map(|(u, h)| (1..h.len()).map(move |t| (u, t))).collect();
    if positions.is_empty() {
        // An untrained network would rank at random: refuse rather than ship one.
        return Err(PackerError::Solver("the sequence network needs at least one history of two or more items".into()));
    }
    for _ in 0..config.epochs {
        positions.shuffle(&mut rng);
        for chunk in positions.chunks(config.batch) {
            let batch: Vec<Example> = chunk.iter().map(|&(u, t)| example(&histories[u], t, n, config)).collect();
            let mask = dropout_mask(config.dim, batch.len(), config.dropout, &mut rng);
            let (_, grads) = loss_and_gradients(&params, &batch, &mask);
            adam.step(&mut params, grads);
        }
    }
    Ok(export(&params, n))
}

fn example(items: &[u32], t: usize, n: usize, config: &NetworkConfig) -> Example {
    let inputs = sequence_inputs(items[..t].iter().rev().copied(), n).into_iter().map(|(r, w)| (r, w as f32)).collect();
    let mut targets: Vec<(usize, f32)> =
        items[t..].iter().take(config.steps_ahead).zip(0..).map(|(&j, k)| (j as usize, config.ahead_decay.powi(k))).collect();
    let total: f32 = targets.iter().map(|t| t.1).sum();
    targets.iter_mut().for_each(|t| t.1 /= total);
    Example { inputs, targets }
}

/// Inverted dropout: each entry kept with probability `1 − p`, scaled by `1 / (1 − p)`.
fn dropout_mask(dim: usize, batch: usize, p: f32, rng: &mut ChaCha8Rng) -> Mat<f32> {
    let keep = 1.0 / (1.0 - p);
    Mat::from_fn(dim, batch, |_, _| if p > 0.0 && rng.random::<f32>() < p { 0.0 } else { keep })
}

/// The mean cross-entropy of `batch` and its gradient with respect to `params`.
fn loss_and_gradients(params: &Params, batch: &[Example], mask: &Mat<f32>) -> (f32, Params) {
    let (d, b, n) = (params.hidden.nrows(), batch.len(), params.output_bias.nrows());
    let output = params.input.as_ref().subcols(n, n);
    let par = Par::rayon(0);
    let mut pooled = Mat::<f32>::zeros(d, b);
    for (c, ex) in batch.iter().enumerate() {
        let col = pooled.col_as_slice_mut(c);
        for &(row, w) in &ex.inputs {
            col.iter_mut().zip(params.input.col_as_slice(row)).for_each(|(h, e)| *h += w * e);
        }
        col.iter_mut().zip(mask.col_as_slice(c)).for_each(|(h, m)| *h *= m);
    }
    let mut pre = Mat::<f32>::zeros(d, b);
    matmul(&mut pre, Accum::Replace, &params.hidden, &pooled, 1.0, par);
    let mut state = pooled.clone();
    for c in 0..b {
        let (pre_c, state_c) = (pre.col_as_slice_mut(c), state.col_as_slice_mut(c));
        for k in 0..d {
            pre_c[k] += params.hidden_bias[(k, 0)];
            state_c[k] += pre_c[k].max(0.0);
        }
    }
    let mut logits = Mat::<f32>::zeros(n, b);
    matmul(&mut logits, Accum::Replace, output.transpose(), &state, 1.0, par);
    // Softmax minus the target, per example: the gradient of the cross-entropy.
    let mut loss = 0.0;
    for (c, ex) in batch.iter().enumerate() {
        let col = logits.col_as_slice_mut(c);
        let mut max = f32::MIN;
        for (l, bias) in col.iter_mut().zip(params.output_bias.col_as_slice(0)) {
            *l += bias;
            max = max.max(*l);
        }
        let sum: f32 = col.iter_mut().map(|l| {
            *l = (*l - max).exp();
            *l
        }).sum();
        col.iter_mut().for_each(|p| *p /= sum);
        for &(j, y) in &ex.targets {
            loss -= y * col[j].max(f32::MIN_POSITIVE).ln();
            col[j] -= y;
        }
        col.iter_mut().for_each(|g| *g /= b as f32);
    }
    let mut grads = Params::zeros(d, n);
    matmul(grads.input.as_mut().subcols_mut(n, n), Accum::Replace, &state, logits.transpose(), 1.0, par);
    for c in 0..b {
        grads.output_bias.col_as_slice_mut(0).iter_mut().zip(logits.col_as_slice(c)).for_each(|(g, l)| *g += l);
    }
    let mut d_state = Mat::<f32>::zeros(d, b);
    matmul(&mut d_state, Accum::Replace, output, &logits, 1.0, par);
    let mut d_pre = d_state.clone();
    for c in 0..b {
        for (g, p) in d_pre.col_as_slice_mut(c).iter_mut().zip(pre.col_as_slice(c)) {
            if *p <= 0.0 {
                *g = 0.0;
            }
        }
        grads.hidden_bias.col_as_slice_mut(0).iter_mut().zip(d_pre.col_as_slice(c)).for_each(|(g, x)| *g += x);
    }
    matmul(&mut grads.hidden, Accum::Replace, &d_pre, pooled.transpose(), 1.0, par);
    matmul(&mut d_state, Accum::Add, params.hidden.transpose(), &d_pre, 1.0, par);
    for (c, ex) in batch.iter().enumerate() {
        let d_pooled: Vec<f32> = d_state.col_as_slice(c).iter().zip(mask.col_as_slice(c)).map(|(g, m)| g * m).collect();
        for &(row, w) in &ex.inputs {
            grads.input.col_as_slice_mut(row).iter_mut().zip(&d_pooled).for_each(|(g, x)| *g += w * x);
        }
    }
    (loss / b as f32, grads)
}

/// AdamW (Loshchilov & Hutter) with the usual β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
struct AdamW {
    first: Params,
    second: Params,
    steps: i32,
    learning_rate: f32,
    weight_decay: f32,
}

impl AdamW {
    const BETA1: f32 = 0.9;
    const BETA2: f32 = 0.999;
    const EPSILON: f32 = 1e-8;

    fn new(config: &NetworkConfig, n: usize) -> Self {
        let zeros = Params::zeros(config.dim, n);
        AdamW { first: zeros.clone(), second: zeros, steps: 0, learning_rate: config.learning_rate, weight_decay: config.weight_decay }
    }

    fn step(&mut self, params: &mut Params, mut grads: Params) {
        self.steps += 1;
        let (c1, c2) = (1.0 - Self::BETA1.powi(self.steps), 1.0 - Self::BETA2.powi(self.steps));
        let (lr, wd) = (self.learning_rate, self.weight_decay);
        let moments = self.first.mats().into_iter().zip(self.second.mats());
        for ((p, g), (m, v)) in params.mats().into_iter().zip(grads.mats()).zip(moments) {
            for c in 0..p.ncols() {
                let (p, g, m, v) = (p.col_as_slice_mut(c), g.col_as_slice(c), m.col_as_slice_mut(c), v.col_as_slice_mut(c));
                for i in 0..p.len() {
                    m[i] = Self::BETA1 * m[i] + (1.0 - Self::BETA1) * g[i];
                    v[i] = Self::BETA2 * v[i] + (1.0 - Self::BETA2) * g[i] * g[i];
                    p[i] -= lr * ((m[i] / c1) / ((v[i] / c2).sqrt() + Self::EPSILON) + wd * p[i]);
                }
            }
        }
    }
}

/// The shipped, int8-quantised form.
fn export(params: &Params, n: usize) -> SequenceNetwork {
    let d = params.hidden.nrows();
    let columns: Vec<f32> = (0..2 * n).flat_map(|c| params.input.col_as_slice(c).to_vec()).collect();
    SequenceNetwork {
        input: Embeddings::quantise(d, &columns),
        hidden: (0..d).flat_map(|i| (0..d).map(move |k| (i, k))).map(|(i, k)| params.hidden[(k, i)]).collect(),
        hidden_bias: params.hidden_bias.col_as_slice(0).to_vec(),
        output_bias: params.output_bias.col_as_slice(0)[..n].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> NetworkConfig {
        NetworkConfig { dim: 8, epochs: 40, batch: 4, dropout: 0.0, learning_rate: 0.05, steps_ahead: 1, ..Default::default() }
    }

    /// The analytic gradient matches central finite differences of the loss.
    #[test]
    fn gradients_match_finite_differences() {
        let config = NetworkConfig { dim: 4, steps_ahead: 2, ..tiny() };
        let histories = [vec![0u32, 1, 2, 3], vec![4, 2, 0, 1, 3]];
        let batch: Vec<Example> = [(0, 1), (0, 3), (1, 2), (1, 4)].iter().map(|&(u, t)| example(&histories[u], t, 5, &config)).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut params = Params::random(4, 5, &mut rng);
        // Larger activations keep every pre-activation clear of the ReLU's kink.
        (0..5).for_each(|c| params.input.col_as_slice_mut(c).iter_mut().for_each(|x| *x *= 10.0));
        let mask = Mat::from_fn(4, batch.len(), |_, _| 1.0);
        let (_, mut analytic) = loss_and_gradients(&params, &batch, &mask);
        let eps = 1e-3f32;
        let mut checked = 0;
        for m in 0..4 {
            let (rows, cols) = (params.mats()[m].nrows(), params.mats()[m].ncols());
            for c in 0..cols {
                for r in 0..rows {
                    let original = params.mats()[m][(r, c)];
                    params.mats()[m][(r, c)] = original + eps;
                    let up = loss_and_gradients(&params, &batch, &mask).0;
                    params.mats()[m][(r, c)] = original - eps;
                    let down = loss_and_gradients(&params, &batch, &mask).0;
                    params.mats()[m][(r, c)] = original;
                    let numeric = (up - down) / (2.0 * eps);
                    let exact = analytic.mats()[m][(r, c)];
                    assert!((numeric - exact).abs() < 2e-3 + 0.05 * exact.abs(), "param {m} ({r}, {c}): {numeric} vs {exact}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 4 * 10 + 16 + 4 + 5);
    }

    #[test]
    fn learns_what_follows_what_and_is_deterministic() {
        let histories: Vec<Vec<u32>> = (0..20).map(|u| (0..6).map(|k| ((u + k) % 6) as u32).collect()).collect();
        let net = learn(&histories, 6, &tiny()).unwrap();
        for last in 0..6u32 {
            let scores = net.scores(&[last, (last + 5) % 6]);
            let best = (0..6).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap();
            assert_eq!(best as u32, (last + 1) % 6, "after {last}: {scores:?}");
        }
        assert_eq!(net, learn(&histories, 6, &tiny()).unwrap());
    }

    #[test]
    fn refuses_a_senseless_configuration_or_no_data() {
        for config in [NetworkConfig { dim: 0, ..tiny() }, NetworkConfig { dropout: 1.0, ..tiny() }, NetworkConfig { learning_rate: f32::NAN, ..tiny() }] {
            assert!(learn(&[vec![0, 1]], 2, &config).is_err());
        }
        assert!(learn(&[vec![0], vec![1]], 2, &tiny()).is_err(), "nothing to learn from");
    }
}
