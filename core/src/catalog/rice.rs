//! Rice codes in a little-endian bit stream, the code a pack's link lists are
//! written in: a value `v` under parameter `k` is `v >> k` in unary (that many
//! 0 bits, then a 1) followed by the low `k` bits of `v`. Near-optimal for
//! the geometric gaps between random ascending indices (12.8 bits a gap for
//! 40 of 100k items, against an entropy of 12.6) and for the skewed magnitudes
//! of quantised weights. A quotient of [`ESCAPE`] or more is written as
//! [`ESCAPE`] 0 bits and the value in 32 bits, so that every code fits one
//! 64-bit read.

/// Quotients from here on are escaped.
const ESCAPE: u32 = 16;
/// Bits a reader may look past the last code: a stream is kept with this many
/// zero bytes after it.
pub(super) const PADDING_BYTES: usize = 8;
/// Bits of a 64-bit read that are surely the stream's (it starts up to 7 bits
/// into its first byte).
const SURE_BITS: u32 = 57;

fn low_bits(value: u64, width: u32) -> u64 {
    value & ((1u64 << width) - 1)
}

/// A bit stream being written, least significant bit first.
#[derive(Default)]
pub(super) struct BitWriter {
    bytes: Vec<u8>,
    /// Bits written.
    len: u64,
}

impl BitWriter {
    /// Appends the low `width` bits of `value` (`width` at most 32).
    pub(super) fn bits(&mut self, value: u64, width: u32) {
        let mut value = low_bits(value, width);
        let mut left = width;
        while left > 0 {
            let used = (self.len % 8) as u32;
            if used == 0 {
                self.bytes.push(0);
            }
            let take = left.min(8 - used);
            *self.bytes.last_mut().expect("a byte was pushed") |= (low_bits(value, take) as u8) << used;
            value >>= take;
            left -= take;
            self.len += u64::from(take);
        }
    }

    /// Appends `value` Rice-coded under `k` (at most 31).
    pub(super) fn rice(&mut self, value: u32, k: u32) {
        let quotient = value >> k;
        if quotient < ESCAPE {
            self.bits(1 << quotient, quotient + 1);
            self.bits(u64::from(value), k);
        } else {
            self.bits(0, ESCAPE);
            self.bits(u64::from(value), 32);
        }
    }

    /// Bits written so far.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// The stream's bytes, its last one padded with 0 bits.
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Bits that `value` takes Rice-coded under `k`.
pub(super) fn rice_len(value: u32, k: u32) -> u64 {
    let quotient = value >> k;
    if quotient < ESCAPE {
        u64::from(quotient + 1 + k)
    } else {
        u64::from(ESCAPE + 32)
    }
}

/// The parameter up to `max_k` that codes `values` in the fewest bits.
pub(super) fn best_k(values: impl Iterator<Item = u32> + Clone, max_k: u32) -> u32 {
    (0..=max_k).min_by_key(|&k| values.clone().map(|v| rice_len(v, k)).sum::<u64>()).unwrap_or(0)
}

/// The 64 bits from bit `at` on, of a stream followed by [`PADDING_BYTES`]
/// zero bytes; `at` is at most the stream's length in bits (callers check it).
#[inline]
fn window(bytes: &[u8], at: usize) -> u64 {
    let start = at / 8;
    let mut word = [0u8; 8];
    if let Some(eight) = bytes.get(start..start + 8) {
        word.copy_from_slice(eight);
    }
    u64::from_le_bytes(word) >> (at % 8)
}

/// Reads `width` bits (at most 32) at `*at`, advancing it.
#[inline]
pub(super) fn read_bits(bytes: &[u8], at: &mut usize, width: u32) -> u32 {
    let value = low_bits(window(bytes, *at), width) as u32;
    *at += width as usize;
    value
}

/// The value Rice-coded under `k` at the bottom of `word`, and the bits it takes.
#[inline]
fn decode(word: u64, k: u32) -> (u32, u32) {
    let quotient = word.trailing_zeros();
    if quotient < ESCAPE {
        (((u64::from(quotient) << k) | low_bits(word >> (quotient + 1), k)) as u32, quotient + 1 + k)
    } else {
        ((word >> ESCAPE) as u32, ESCAPE + 32)
    }
}

/// Reads a value Rice-coded under `k` at `*at`, advancing it. A hostile stream
/// may claim more than 32 bits; the value is then cut to 32 and the caller,
/// which checks the position against the stream's end, refuses it by range.
#[inline]
pub(super) fn read_rice(bytes: &[u8], at: &mut usize, k: u32) -> u32 {
    let (value, used) = decode(window(bytes, *at), k);
    *at += used as usize;
    value
}

/// Reads two values, Rice-coded under `k1` and `k2`, at `*at`, advancing it:
/// from one 64-bit read when both fit in its [`SURE_BITS`] (a gap
/// and a weight almost always do), which spares the second read's wait.
#[inline]
pub(super) fn read_rice_pair(bytes: &[u8], at: &mut usize, k1: u32, k2: u32) -> (u32, u32) {
    let word = window(bytes, *at);
    let (first, used) = decode(word, k1);
    // A code that seems to run past the bits read is read again from its start.
    let (second, used2) = match decode(word >> used, k2) {
        (value, used2) if used + used2 <= SURE_BITS => (value, used2),
        _ => decode(window(bytes, *at + used as usize), k2),
    };
    *at += (used + used2) as usize;
    (first, second)
}

/// Reads two pairs as [`read_rice_pair`] does: from one 64-bit read when all
/// four codes fit in its [`SURE_BITS`] (typical gaps and weights
/// take under 20 bits a pair), which spares the next read's wait in a pass
/// over every link of a pack.
#[inline]
pub(super) fn read_two_rice_pairs(bytes: &[u8], at: &mut usize, k1: u32, k2: u32) -> [(u32, u32); 2] {
    let word = window(bytes, *at);
    let (a, u1) = decode(word, k1);
    let (b, u2) = decode(word >> u1, k2);
    let (c, u3) = decode(word.checked_shr(u1 + u2).unwrap_or(0), k1);
    let (d, u4) = decode(word.checked_shr(u1 + u2 + u3).unwrap_or(0), k2);
    let used = u1 + u2 + u3 + u4;
    if used <= SURE_BITS {
        *at += used as usize;
        [(a, b), (c, d)]
    } else {
        [read_rice_pair(bytes, at, k1, k2), read_rice_pair(bytes, at, k1, k2)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_in_the_bits_they_claim() {
        let values = [0u32, 1, 2, 7, 100, 2_439, 65_535, 1 << 20, u32::MAX];
        for k in [0, 3, 11, 31] {
            let mut writer = BitWriter::default();
            writer.bits(0b101, 3);
            values.iter().for_each(|&v| writer.rice(v, k));
            let expected: u64 = 3 + values.iter().map(|&v| rice_len(v, k)).sum::<u64>();
            assert_eq!(writer.len(), expected, "k = {k}");
            let mut bytes = writer.into_bytes();
            bytes.extend([0; PADDING_BYTES]);
            let mut at = 0;
            assert_eq!(read_bits(&bytes, &mut at, 3), 0b101);
            for &v in &values {
                assert_eq!(read_rice(&bytes, &mut at, k), v, "k = {k}");
            }
            assert_eq!(at as u64, expected);
            let mut at = 3;
            for pair in values.chunks_exact(2) {
                assert_eq!(read_rice_pair(&bytes, &mut at, k, k), (pair[0], pair[1]), "k = {k}");
            }
            let mut at = 3;
            for four in values.chunks_exact(4) {
                assert_eq!(read_two_rice_pairs(&bytes, &mut at, k, k), [(four[0], four[1]), (four[2], four[3])], "k = {k}");
            }
            assert_eq!(at as u64, 3 + values[..8].iter().map(|&v| rice_len(v, k)).sum::<u64>());
        }
    }

    #[test]
    fn the_best_parameter_fits_the_spread_of_the_values() {
        assert_eq!(best_k([0u32, 1, 0, 2].into_iter(), 24), 0);
        assert_eq!(best_k([2_100u32, 3_000, 2_500, 4_000].into_iter(), 24), 11);
        assert!(best_k([u32::MAX; 3].into_iter(), 24) <= 24);
    }
}
