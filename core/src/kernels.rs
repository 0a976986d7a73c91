//! The inner loops of the sequence network, written once portably and
//! once for x86-64's 256-bit vectors, chosen at run time.
//!
//! The portable forms compile to each target's baseline vectors (NEON on
//! every arm64 phone, SSE2 on x86-64). x86-64 machines almost all have AVX2
//! as well, which a library cannot assume at build time; where the CPU has it,
//! the wide forms run instead. Both give bit-identical results: the dot
//! products sum integers exactly, and the float loop does the same
//! multiplications and additions per element in the same order (Rust never
//! fuses them), only more elements at a time.

/// Returns `x86::$kernel(args)` where the CPU has AVX2 (x86-64 only); the
/// portable form that follows runs everywhere else. The arguments are plain
/// names, so that nothing but the call itself sits in the `unsafe` block.
macro_rules! avx2_first {
    ($kernel:ident($($arg:ident),*)) => {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { x86::$kernel($($arg),*) };
        }
    };
}

/// Components per block of the portable dot products.
const DOT_BLOCK: usize = 16;

/// `Σ q[k] × x[k]`, exact: the caller keeps `128 × max |x| × len` within `i32`.
pub(crate) fn dot_i8_i16(q: &[i8], x: &[i16]) -> i32 {
    let (q, x) = common(q, x);
    avx2_first!(dot(q, x));
    dot_portable(q, x)
}

/// `Σ a[k] × b[k]` over two int8 rows, exact for any length up to 65,535
/// (`128² × 65,535` is within `i32`), without widening either into a buffer.
pub(crate) fn dot_i8_i8(a: &[i8], b: &[i8]) -> i32 {
    let (a, b) = common(a, b);
    avx2_first!(dot(a, b));
    dot_portable(a, b)
}

/// Both rows over their common length, so that both forms of a dot product
/// agree whatever they are given.
fn common<'a, T>(a: &'a [i8], b: &'a [T]) -> (&'a [i8], &'a [T]) {
    debug_assert_eq!(a.len(), b.len());
    let len = a.len().min(b.len());
    (&a[..len], &b[..len])
}

/// `Σ q[k] × x[k]` in blocks of [`DOT_BLOCK`], for targets without AVX2.
fn dot_portable<T: Copy + Into<i32>>(q: &[i8], x: &[T]) -> i32 {
    let (qs, xs) = (q.chunks_exact(DOT_BLOCK), x.chunks_exact(DOT_BLOCK));
    let tail = dot_scalar(qs.remainder(), xs.remainder());
    // Lane `l` adds the products of components `l` and `l + 8` of each
    // block: the pairing compilers turn into multiply-add-pairs (pmaddwd on
    // x86, smlal on ARM), 2.5 times as fast as one running sum for 16-bit `x`.
    let mut lanes = [0i32; DOT_BLOCK / 2];
    for (q, x) in qs.zip(xs) {
        for (l, lane) in lanes.iter_mut().enumerate() {
            *lane += i32::from(q[l]) * x[l].into() + i32::from(q[l + DOT_BLOCK / 2]) * x[l + DOT_BLOCK / 2].into();
        }
    }
    lanes.iter().sum::<i32>() + tail
}

/// The plain running sum, for what is left after the blocks.
fn dot_scalar<T: Copy + Into<i32>>(q: &[i8], x: &[T]) -> i32 {
    q.iter().zip(x).map(|(&q, &x)| i32::from(q) * x.into()).sum()
}

/// `acc[k] += scale × (f32::from(q[k]) × unit)` for every `k`: a quantised
/// row, de-quantised and weighted, added to a running sum.
pub(crate) fn add_dequantised(acc: &mut [f32], scale: f32, q: &[i8], unit: f32) {
    avx2_first!(add_dequantised(acc, scale, q, unit));
    add_dequantised_portable(acc, scale, q, unit);
}

#[inline(always)]
fn add_dequantised_portable(acc: &mut [f32], scale: f32, q: &[i8], unit: f32) {
    acc.iter_mut().zip(q).for_each(|(a, &q)| *a += scale * (f32::from(q) * unit));
}

/// `acc[k] += x × row[k]` for every `k`, for each `(x, row)` of `xs` against
/// the consecutive `acc.len()`-wide rows of `matrix`: a vector times a
/// row-major matrix, read row by row.
pub(crate) fn add_vector_times_matrix(acc: &mut [f32], xs: &[f32], matrix: &[f32]) {
    avx2_first!(add_vector_times_matrix(acc, xs, matrix));
    add_vector_times_matrix_portable(acc, xs, matrix);
}

#[inline(always)]
fn add_vector_times_matrix_portable(acc: &mut [f32], xs: &[f32], matrix: &[f32]) {
    for (x, row) in xs.iter().zip(matrix.chunks_exact(acc.len().max(1))) {
        acc.iter_mut().zip(row).for_each(|(a, w)| *a += x * w);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// A row's components, sixteen at a time widened to 16 bits.
    pub(super) trait Widen: Copy + Into<i32> {
        /// The sixteen components from `p` as 16-bit lanes.
        ///
        /// # Safety
        /// The CPU has AVX2, and sixteen components from `p` are readable (within one slice).
        unsafe fn widen16(p: *const Self) -> __m256i;
    }

    impl Widen for i8 {
        #[target_feature(enable = "avx2")]
        unsafe fn widen16(p: *const i8) -> __m256i {
            // SAFETY: the caller keeps sixteen bytes from `p` within the row.
            _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(p.cast()) })
        }
    }

    impl Widen for i16 {
        #[target_feature(enable = "avx2")]
        unsafe fn widen16(p: *const i16) -> __m256i {
            // SAFETY: the caller keeps sixteen components from `p` within the row.
            unsafe { _mm256_loadu_si256(p.cast()) }
        }
    }

    /// [`super::dot_i8_i16`] and [`super::dot_i8_i8`] sixteen components at
    /// a time: both rows as 16-bit lanes, multiplied-and-added in pairs into
    /// 32-bit sums. Four blocks go per turn of the loop, into two sums, so a
    /// 128-wide row (the network's usual width) takes two turns and no tail.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dot<T: Widen>(q: &[i8], x: &[T]) -> i32 {
        let len = q.len().min(x.len());
        // SAFETY (every `block` below): `at + 16 <= len` each time.
        let block = |at: usize| unsafe { madd16(q, x, at) };
        let (mut even, mut odd) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        let mut at = 0;
        while at + 64 <= len {
            even = _mm256_add_epi32(even, _mm256_add_epi32(block(at), block(at + 32)));
            odd = _mm256_add_epi32(odd, _mm256_add_epi32(block(at + 16), block(at + 48)));
            at += 64;
        }
        while at + 16 <= len {
            even = _mm256_add_epi32(even, block(at));
            at += 16;
        }
        let sum = lane_sum(_mm256_add_epi32(even, odd));
        match at == len {
            true => sum,
            false => sum.wrapping_add(super::dot_scalar(&q[at..len], &x[at..len])),
        }
    }

    /// Components `at..at + 16` of both rows multiplied and added in pairs.
    ///
    /// # Safety
    /// The CPU has AVX2, and `at + 16` is within both rows.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn madd16<T: Widen>(q: &[i8], x: &[T], at: usize) -> __m256i {
        // SAFETY: sixteen components from `at` are within both rows (the caller's promise).
        unsafe { _mm256_madd_epi16(i8::widen16(q.as_ptr().add(at)), T::widen16(x.as_ptr().add(at))) }
    }

    /// The sum of eight 32-bit lanes (wrapping, as the lanes do: the exact
    /// sum fits, so the wrapped one is it).
    #[target_feature(enable = "avx2")]
    fn lane_sum(sums: __m256i) -> i32 {
        let four = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256::<1>(sums));
        let two = _mm_add_epi32(four, _mm_shuffle_epi32::<0b01_00_11_10>(four));
        let one = _mm_add_epi32(two, _mm_shuffle_epi32::<0b10_11_00_01>(two));
        _mm_cvtsi128_si32(one)
    }

    /// [`super::add_dequantised`] compiled for AVX2 (the compiler widens the loop).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn add_dequantised(acc: &mut [f32], scale: f32, q: &[i8], unit: f32) {
        super::add_dequantised_portable(acc, scale, q, unit);
    }

    /// [`super::add_vector_times_matrix`] compiled for AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn add_vector_times_matrix(acc: &mut [f32], xs: &[f32], matrix: &[f32]) {
        super::add_vector_times_matrix_portable(acc, xs, matrix);
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn the_int8_dot_is_exact_at_the_extremes_of_the_widest_row() {
        let widest = usize::from(u16::MAX);
        let (low, high) = (vec![i8::MIN; widest], vec![i8::MAX; widest]);
        assert_eq!(i64::from(dot_i8_i8(&low, &low)), 128 * 128 * widest as i64);
        assert_eq!(i64::from(dot_i8_i8(&low, &high)), -128 * 127 * widest as i64);
        assert_eq!(i64::from(dot_portable(&low, &low)), 128 * 128 * widest as i64);
    }

    /// The AVX2 kernel itself, not through the dispatch: on an x86-64 runner
    /// without AVX2 the dispatched tests would only ever see the portable form.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_dot_product_is_exact_for_both_row_widths() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: its dot product is not run here");
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for len in [0, 15, 16, 17, 64, 80, 128, 131, 230] {
            let (q, b): (Vec<i8>, Vec<i8>) = (0..len).map(|_| (rng.random::<i8>(), rng.random::<i8>())).unzip();
            let x: Vec<i16> = (0..len).map(|_| rng.random()).collect();
            let exact = |x: &[i64]| q.iter().zip(x).map(|(&q, &x)| i64::from(q) * x).sum::<i64>();
            let (b_wide, x_wide): (Vec<i64>, Vec<i64>) = (b.iter().map(|&v| v.into()).collect(), x.iter().map(|&v| v.into()).collect());
            // SAFETY: the CPU has AVX2 (checked above).
            let (int8, levels) = unsafe { (x86::dot(&q, &b), x86::dot(&q, &x)) };
            assert_eq!(i64::from(int8), exact(&b_wide), "int8 rows of {len}");
            assert_eq!(i64::from(levels), exact(&x_wide), "16-bit levels of {len}");
        }
    }

    #[test]
    fn the_dispatched_kernels_give_what_the_portable_ones_give_to_the_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for len in [0, 1, 15, 16, 17, 33, 128, 131] {
            let q: Vec<i8> = (0..len).map(|_| rng.random()).collect();
            let x: Vec<i16> = (0..len).map(|_| rng.random()).collect();
            let exact: i64 = q.iter().zip(&x).map(|(&q, &x)| i64::from(q) * i64::from(x)).sum();
            assert_eq!(i64::from(dot_i8_i16(&q, &x)), exact, "dot over {len}");
            assert_eq!(i64::from(dot_portable(&q, &x)), exact, "portable dot over {len}");
            let b: Vec<i8> = (0..len).map(|_| rng.random()).collect();
            let exact: i64 = q.iter().zip(&b).map(|(&q, &b)| i64::from(q) * i64::from(b)).sum();
            assert_eq!(i64::from(dot_i8_i8(&q, &b)), exact, "int8 dot over {len}");
            assert_eq!(i64::from(dot_portable(&q, &b)), exact, "portable int8 dot over {len}");

            let start: Vec<f32> = (0..len).map(|_| rng.random_range(-3.0..3.0)).collect();
            let (scale, unit) = (rng.random_range(-2.0..2.0), rng.random_range(0.0..0.1));
            let (mut wide, mut portable) = (start.clone(), start.clone());
            add_dequantised(&mut wide, scale, &q, unit);
            add_dequantised_portable(&mut portable, scale, &q, unit);
            assert_eq!(wide.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), portable.iter().map(|v| v.to_bits()).collect::<Vec<_>>());

            let xs: Vec<f32> = (0..7).map(|_| rng.random_range(-1.0..1.0)).collect();
            let matrix: Vec<f32> = (0..7 * len).map(|_| rng.random_range(-1.0..1.0)).collect();
            let (mut wide, mut portable) = (start.clone(), start);
            add_vector_times_matrix(&mut wide, &xs, &matrix);
            add_vector_times_matrix_portable(&mut portable, &xs, &matrix);
            assert_eq!(wide.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), portable.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
    }
}
