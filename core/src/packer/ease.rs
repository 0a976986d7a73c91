//! EASE (Steck, 2019): item-to-item weights B = I − P·diag(1/diag(P)) with
//! P = (XᵀX + λI)⁻¹, from the binary user × item matrix X. The dense inverse
//! comes from faer's Cholesky factorisation.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

use super::{strongest, PackerError, Row};

/// How EASE is learned.
#[derive(Debug, Clone, PartialEq)]
pub struct EaseConfig {
    /// L2 regularisation λ added to the Gram diagonal.
    pub lambda: f64,
    /// Neighbours kept per item (largest positive weights).
    pub top_k: usize,
}

impl Default for EaseConfig {
    fn default() -> Self {
        EaseConfig { lambda: 250.0, top_k: 40 }
    }
}

/// The dense EASE weight matrix; `b[(i, j)]` is how much having `i` supports `j`.
pub(super) fn weights(histories: &[Vec<u32>], n: usize, lambda: f64) -> Result<Mat<f64>, PackerError> {
    if !(lambda.is_finite() && lambda > 0.0) {
        return Err(PackerError::Solver("lambda must be positive".into()));
    }
    let mut gram = Mat::<f64>::zeros(n, n);
    for history in histories {
        let mut items = history.clone();
        items.sort_unstable();
        items.dedup();
        for (a, &i) in items.iter().enumerate() {
            for &j in &items[a..] {
                gram[(i as usize, j as usize)] += 1.0;
            }
        }
    }
    for i in 0..n {
        for j in i + 1..n {
            gram[(j, i)] = gram[(i, j)];
        }
        gram[(i, i)] += lambda;
    }
    let p = gram.llt(Side::Lower).map_err(|e| PackerError::Solver(format!("{e:?}")))?.inverse();
    Ok(Mat::from_fn(n, n, |i, j| if i == j { 0.0 } else { -p[(i, j)] / p[(j, j)] }))
}

/// Per item, its `top_k` strongest positive EASE neighbours.
pub(super) fn learn(histories: &[Vec<u32>], n: usize, config: &EaseConfig) -> Result<Vec<Row>, PackerError> {
    let b = weights(histories, n, config.lambda)?;
    Ok((0..n).map(|i| strongest((0..n).map(|j| (j as u32, b[(i, j)] as f32)), config.top_k)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: for 2 items, P = (G + λI)⁻¹ in closed form, so
    /// B₀₁ = −P₀₁/P₁₁ = c / (g₀₀ + λ) where c is the co-count.
    #[test]
    fn two_item_case_matches_the_closed_form() {
        let histories = vec![vec![0, 1], vec![0, 1], vec![0], vec![1], vec![0]];
        let lambda = 2.0;
        let b = weights(&histories, 2, lambda).unwrap();
        let (g00, g11, c) = (4.0, 3.0, 2.0);
        assert!((b[(0, 1)] - c / (g00 + lambda)).abs() < 1e-12);
        assert!((b[(1, 0)] - c / (g11 + lambda)).abs() < 1e-12);
        assert_eq!(b[(0, 0)], 0.0);
    }

    /// Reference: EASE's defining property — B minimises ‖X − XB‖² + λ‖B‖²
    /// with diag(B) = 0, so for each column j the off-diagonal gradient
    /// (G + λI)·B − G vanishes: ((G + λI)B)ᵢⱼ = Gᵢⱼ for i ≠ j.
    #[test]
    fn three_item_solution_satisfies_the_normal_equations() {
        let histories = vec![vec![0, 1, 2], vec![0, 1], vec![1, 2], vec![2], vec![0, 2], vec![1]];
        let lambda = 0.5;
        let b = weights(&histories, 3, lambda).unwrap();
        let x: Vec<[f64; 3]> = histories.iter().map(|h| [0, 1, 2].map(|i| f64::from(u8::from(h.contains(&i))))).collect();
        let g = |i: usize, j: usize| x.iter().map(|r| r[i] * r[j]).sum::<f64>();
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    let lhs: f64 = (0..3).map(|k| (g(i, k) + if i == k { lambda } else { 0.0 }) * b[(k, j)]).sum();
                    assert!((lhs - g(i, j)).abs() < 1e-9, "({i},{j}): {lhs} vs {}", g(i, j));
                }
            }
        }
    }

    #[test]
    fn refuses_a_non_positive_lambda() {
        assert!(weights(&[vec![0]], 1, 0.0).is_err());
    }
}
