//! Sequence-aware item-to-item weights: a closed-form ridge regression from a
//! decayed "history state" (the last items, each weighted 0.5^(steps back /
//! half-life)) to the item that comes next. The engine scores with the same
//! decayed state, so a pack of these weights makes on-device ranking sequential.
//! B = (SᵀS + λI)⁻¹ SᵀY, solved with faer's Cholesky.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use super::{top_k, PackerError};
use crate::catalog::NeighbourList;
use crate::model::SEQUENCE_HALF_LIFE_STEPS;

/// How sequential weights are learned.
#[derive(Debug, Clone, PartialEq)]
pub struct SequentialConfig {
    /// L2 regularisation λ.
    pub lambda: f64,
    /// Neighbours kept per item (largest positive weights).
    pub top_k: usize,
    /// How many previous items form the state.
    pub window: usize,
}

impl Default for SequentialConfig {
    fn default() -> Self {
        SequentialConfig { lambda: 100.0, top_k: 40, window: 30 }
    }
}

/// The dense weights: `b[(i, j)]` is how much `i` in the recent history supports `j` next.
pub(super) fn weights(histories: &[Vec<u32>], n: usize, config: &SequentialConfig) -> Result<Mat<f64>, PackerError> {
    if !(config.lambda.is_finite() && config.lambda > 0.0) || config.window == 0 {
        return Err(PackerError::Solver("lambda must be positive and the window non-empty".into()));
    }
    let decay: Vec<f64> = (0..config.window).map(|back| 0.5f64.powf(back as f64 / SEQUENCE_HALF_LIFE_STEPS)).collect();
    let mut gram = Mat::<f64>::zeros(n, n);
    let mut cross = Mat::<f64>::zeros(n, n);
    for history in histories {
        for t in 1..history.len() {
            let start = t.saturating_sub(config.window);
            let state: Vec<(usize, f64)> = (start..t).map(|tau| (history[tau] as usize, decay[t - 1 - tau])).collect();
            let next = history[t] as usize;
            for &(i, wi) in &state {
                cross[(i, next)] += wi;
                for &(j, wj) in &state {
                    gram[(i, j)] += wi * wj;
                }
            }
        }
    }
    for i in 0..n {
        gram[(i, i)] += config.lambda;
    }
    let llt = gram.llt(Side::Lower).map_err(|e| PackerError::Solver(format!("{e:?}")))?;
    Ok(llt.solve(&cross))
}

/// Per item, its `top_k` strongest positive successors under the sequential model.
pub(super) fn learn(histories: &[Vec<u32>], n: usize, config: &SequentialConfig) -> Result<Vec<NeighbourList>, PackerError> {
    let b = weights(histories, n, config)?;
    Ok((0..n).map(|i| top_k((0..n).map(|j| (j as u32, b[(i, j)] as f32)), config.top_k)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_what_follows_what() {
        // Everyone goes 0 → 1 → 2; nobody goes backwards.
        let histories: Vec<Vec<u32>> = (0..30).map(|_| vec![0, 1, 2]).collect();
        let b = weights(&histories, 3, &SequentialConfig { lambda: 1.0, ..Default::default() }).unwrap();
        assert!(b[(0, 1)] > 0.5 && b[(1, 2)] > 0.5);
        assert!(b[(1, 0)].abs() < 1e-9 && b[(2, 1)].abs() < 1e-9, "directional");
    }

    /// Reference: the solution satisfies the normal equations (SᵀS + λI) B = SᵀY.
    #[test]
    fn solution_satisfies_the_normal_equations() {
        let histories = vec![vec![0, 1, 2, 1], vec![2, 0], vec![1, 2, 0, 2]];
        let config = SequentialConfig { lambda: 0.7, top_k: 3, window: 2 };
        let b = weights(&histories, 3, &config).unwrap();
        let d = |back: usize| 0.5f64.powf(back as f64 / SEQUENCE_HALF_LIFE_STEPS);
        let (mut g, mut c) = ([[0.0f64; 3]; 3], [[0.0f64; 3]; 3]);
        for h in &histories {
            for t in 1..h.len() {
                let mut s = [0.0; 3];
                for tau in t.saturating_sub(2)..t {
                    s[h[tau] as usize] += d(t - 1 - tau);
                }
                for i in 0..3 {
                    c[i][h[t] as usize] += s[i];
                    for j in 0..3 {
                        g[i][j] += s[i] * s[j];
                    }
                }
            }
        }
        for i in 0..3 {
            for j in 0..3 {
                let lhs: f64 = (0..3).map(|k| (g[i][k] + if i == k { 0.7 } else { 0.0 }) * b[(k, j)]).sum();
                assert!((lhs - c[i][j]).abs() < 1e-9);
            }
        }
    }
}
