//! Implicit-feedback ALS (Hu, Koren & Volinsky, 2008) item embeddings. Each
//! half-step solves one small k×k system per user or item with faer's Cholesky.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use super::PackerError;

/// How item embeddings are learned.
#[derive(Debug, Clone, PartialEq)]
pub struct AlsConfig {
    /// Dimensions per item.
    pub factors: usize,
    /// Alternating iterations.
    pub iterations: usize,
    /// L2 regularisation.
    pub regularization: f64,
    /// Confidence of an observed interaction: 1 + alpha.
    pub alpha: f64,
}

impl Default for AlsConfig {
    fn default() -> Self {
        AlsConfig { factors: 32, iterations: 8, regularization: 0.1, alpha: 10.0 }
    }
}

/// Learns item factors (row-major, `factors` per item) from user histories.
pub(super) fn learn(histories: &[Vec<u32>], n: usize, config: &AlsConfig) -> Result<Vec<f32>, PackerError> {
    let k = config.factors;
    let reg_ok = config.regularization.is_finite() && config.regularization > 0.0;
    let alpha_ok = config.alpha.is_finite() && config.alpha >= 0.0;
    if k == 0 || config.iterations == 0 || !reg_ok || !alpha_ok {
        return Err(PackerError::Solver("ALS needs factors, iterations, regularization > 0 and alpha >= 0".into()));
    }
    let user_items: Vec<Vec<u32>> = histories
        .iter()
        .map(|h| {
            let mut items = h.clone();
            items.sort_unstable();
            items.dedup();
            items
        })
        .collect();
    let mut item_users: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (u, items) in user_items.iter().enumerate() {
        for &i in items {
            item_users[i as usize].push(u as u32);
        }
    }
    let mut items = Mat::from_fn(n, k, |i, f| initial_value(i, f, k));
    for _ in 0..config.iterations {
        let users = half_step(&items, &user_items, config)?;
        items = half_step(&users, &item_users, config)?;
    }
    Ok((0..n).flat_map(|i| (0..k).map(move |f| (i, f))).map(|(i, f)| items[(i, f)] as f32).collect())
}

/// Solves every row of the other side given `fixed`: (FᵀF + Fᵀ(C−I)F + λI) x = Fᵀ C p.
fn half_step(fixed: &Mat<f64>, rows: &[Vec<u32>], config: &AlsConfig) -> Result<Mat<f64>, PackerError> {
    let k = fixed.ncols();
    let gram = fixed.transpose() * fixed;
    let mut out = Mat::<f64>::zeros(rows.len(), k);
    for (r, observed) in rows.iter().enumerate() {
        if observed.is_empty() {
            continue;
        }
        let mut a = gram.clone();
        let mut b = Mat::<f64>::zeros(k, 1);
        for &j in observed {
            let y = fixed.row(j as usize);
            for p in 0..k {
                b[(p, 0)] += (1.0 + config.alpha) * y[p];
                for q in 0..k {
                    a[(p, q)] += config.alpha * y[p] * y[q];
                }
            }
        }
        for p in 0..k {
            a[(p, p)] += config.regularization;
        }
        let x = a.llt(Side::Lower).map_err(|e| PackerError::Solver(format!("ALS: {e:?}")))?.solve(&b);
        for p in 0..k {
            out[(r, p)] = x[(p, 0)];
        }
    }
    Ok(out)
}

/// A small deterministic starting value (splitmix64 of the position).
fn initial_value(row: usize, col: usize, k: usize) -> f64 {
    let mut z = (row * k + col) as u64 ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (norm(a) * norm(b))
    }

    #[test]
    fn items_consumed_together_get_similar_vectors() {
        // Two taste groups: users 0..10 take items 0..3, users 10..20 take items 3..6.
        let histories: Vec<Vec<u32>> = (0..20).map(|u| if u < 10 { vec![0, 1, 2] } else { vec![3, 4, 5] }).collect();
        let config = AlsConfig { factors: 4, iterations: 10, ..Default::default() };
        let f = learn(&histories, 6, &config).unwrap();
        let v = |i: usize| &f[i * 4..(i + 1) * 4];
        assert!(cosine(v(0), v(1)) > 0.9);
        assert!(cosine(v(0), v(4)) < cosine(v(0), v(1)) - 0.5);
        assert_eq!(f, learn(&histories, 6, &config).unwrap(), "deterministic");
    }
}
