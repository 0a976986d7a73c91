//! Every item's links (neighbours or successors) in one Rice-coded bit stream,
//! as a pack carries them and as the engine holds them, decoded as they are
//! read. Per list, least significant bit first:
//!
//! - its link count, Rice-coded under [`COUNT_K`]; an empty list ends there;
//! - its scale as a bfloat16 (16 bits: the top half of the f32, the same
//!   precision as the int8 weights it scales), the Rice parameter of its index
//!   gaps (5 bits) and of its weights (3 bits), and whether any weight is
//!   negative (1 bit);
//! - per link, in ascending item order, the gap from the index before (the
//!   first from 0) and the weight: as is when none is negative, zigzag-coded
//!   otherwise.
//!
//! Each list picks the parameters that code it shortest, so a list of
//! clustered neighbours costs less than one of indices spread at random.

use super::rice::{self, BitWriter, PADDING_BYTES};
use super::{in_bounds, NeighbourList};
use crate::error::PackError;

/// Rice parameter of a list's link count.
const COUNT_K: u32 = 4;
/// Bits of a list's gap parameter, and the largest it may be.
const GAP_K_BITS: u32 = 5;
const MAX_GAP_K: u32 = 31;
/// Bits of a list's weight parameter, and the largest it may be.
const WEIGHT_K_BITS: u32 = 3;
const MAX_WEIGHT_K: u32 = 7;

/// `x` rounded to the nearest bfloat16, as its 16 bits.
fn bf16_bits(x: f32) -> u16 {
    let bits = u64::from(x.to_bits());
    ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) as u16
}

fn from_bf16_bits(bits: u32) -> f32 {
    f32::from_bits(bits << 16)
}

/// `x` at the precision a pack carries a list's scale in (bfloat16).
pub(super) fn at_scale_precision(x: f32) -> f32 {
    from_bf16_bits(u32::from(bf16_bits(x)))
}

fn weight_code(q: i8, signed: bool) -> u32 {
    if signed {
        ((i32::from(q) << 1) ^ (i32::from(q) >> 31)) as u32
    } else {
        q as u32
    }
}

fn weight_from_code(code: u32, signed: bool) -> i8 {
    if signed {
        ((code >> 1) as i32 ^ -((code & 1) as i32)) as i8
    } else {
        code as i8
    }
}

/// The largest code a weight may have (one less than a power of two, so that
/// the codes of a list are checked at once through their bitwise or).
fn max_weight_code(signed: bool) -> u32 {
    if signed {
        255
    } else {
        127
    }
}

fn bit_position(at: u64) -> Result<u32, PackError> {
    u32::try_from(at).map_err(|_| PackError::Malformed("catalogue too large"))
}

/// Every item's links; `starts` has `n + 1` bit positions in `bytes`, which
/// end with [`PADDING_BYTES`] zero bytes.
#[derive(Debug, Clone, Default)]
pub(super) struct Links {
    starts: Vec<u32>,
    bytes: Vec<u8>,
    max_scale: f32,
}

impl Links {
    /// Packs `lists` (each in ascending item order, as a verified pack holds
    /// them); a scale is carried to bfloat16 precision.
    pub(super) fn new(lists: &[NeighbourList]) -> Result<Self, PackError> {
        let mut writer = BitWriter::default();
        let mut starts = Vec::with_capacity(lists.len() + 1);
        for list in lists {
            starts.push(bit_position(writer.len())?);
            write_list(&mut writer, list)?;
        }
        starts.push(bit_position(writer.len())?);
        let max_scale = lists.iter().map(|l| at_scale_precision(l.scale)).fold(0.0, f32::max);
        Ok(Links { starts, bytes: padded(&writer.into_bytes()), max_scale })
    }

    /// `n` items without links: each list is its count, 0, a 1 bit and
    /// [`COUNT_K`] 0 bits (laid out directly: a phone loads this for every
    /// pack without transitions, and the encoder stays out of its library).
    pub(super) fn empty(n: usize) -> Self {
        let width = (COUNT_K + 1) as usize;
        let mut bytes = vec![0u8; (n * width).div_ceil(8) + PADDING_BYTES];
        (0..n).for_each(|i| bytes[i * width / 8] |= 1 << (i * width % 8));
        Links { starts: (0..=n).map(|i| (i * width) as u32).collect(), bytes, max_scale: 0.0 }
    }

    /// The section a pack carries: the list count (u32 LE), then the bit stream.
    pub(super) fn to_wire(&self) -> Vec<u8> {
        let stream = &self.bytes[..self.bytes.len() - PADDING_BYTES];
        let mut out = Vec::with_capacity(4 + stream.len());
        out.extend_from_slice(&((self.starts.len() - 1) as u32).to_le_bytes());
        out.extend_from_slice(stream);
        out
    }

    /// Reads and checks a section for a catalogue of `n` items: one list per
    /// item, scales non-negative and within [`super::MAX_PACK_VALUE`], parameters
    /// in range, every index below `n`, every weight an int8, and nothing after
    /// the last list but zero bits to the byte's end.
    pub(super) fn from_wire(body: &[u8], n: usize, section: &'static str) -> Result<Self, PackError> {
        let bad = || PackError::Malformed(section);
        let (count, stream) = body.split_first_chunk::<4>().ok_or_else(bad)?;
        if u32::from_le_bytes(*count) as usize != n {
            return Err(bad());
        }
        let bytes = padded(stream);
        let end = 8 * stream.len();
        let (mut starts, mut max_scale, mut at) = (Vec::with_capacity(n + 1), 0.0f32, 0usize);
        for _ in 0..n {
            starts.push(bit_position(at as u64)?);
            let list = LinkList::at(&bytes, &mut at);
            // Every link takes at least two bits: a count past what is left is refused before it is looped over.
            let fits = at <= end && list.count as usize <= (end - at) / 2;
            if !fits || !in_bounds(list.scale) || list.scale < 0.0 || list.gap_k > MAX_GAP_K || list.weight_k > MAX_WEIGHT_K {
                return Err(bad());
            }
            let (mut item, mut codes) = (0u64, 0u32);
            let mut add = |(gap, code): (u32, u32)| {
                item += u64::from(gap);
                codes |= code;
            };
            for _ in 0..list.count / 2 {
                rice::read_two_rice_pairs(&bytes, &mut at, list.gap_k, list.weight_k).into_iter().for_each(&mut add);
            }
            if list.count % 2 == 1 {
                add(rice::read_rice_pair(&bytes, &mut at, list.gap_k, list.weight_k));
            }
            if at > end || codes > max_weight_code(list.signed) {
                return Err(bad());
            }
            if list.count > 0 && item >= n as u64 {
                return Err(PackError::Malformed("neighbour list out of range"));
            }
            max_scale = max_scale.max(list.scale);
        }
        starts.push(bit_position(at as u64)?);
        let tail_is_zero = at % 8 == 0 || stream.last().is_some_and(|&last| last >> (at % 8) == 0);
        if at.div_ceil(8) != stream.len() || !tail_is_zero {
            return Err(bad());
        }
        Ok(Links { starts, bytes, max_scale })
    }

    /// The lists again, as the builder holds them.
    pub(super) fn lists(&self) -> Vec<NeighbourList> {
        (0..self.starts.len() as u32 - 1)
            .map(|i| {
                let list = self.of(i);
                let (items, weights) = list.quantised().unzip();
                NeighbourList { scale: list.scale, items, weights }
            })
            .collect()
    }

    /// Item `i`'s links.
    #[inline]
    pub(super) fn of(&self, i: u32) -> LinkList<'_> {
        let mut at = self.starts[i as usize] as usize;
        LinkList::at(&self.bytes, &mut at)
    }

    /// The largest weight any list may carry.
    pub(super) fn max_scale(&self) -> f32 {
        self.max_scale
    }

    /// Bytes held, for reports.
    pub(super) fn heap_bytes(&self) -> usize {
        4 * self.starts.capacity() + self.bytes.capacity()
    }
}

fn padded(stream: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(stream.len() + PADDING_BYTES);
    bytes.extend_from_slice(stream);
    bytes.extend_from_slice(&[0; PADDING_BYTES]);
    bytes
}

fn write_list(writer: &mut BitWriter, list: &NeighbourList) -> Result<(), PackError> {
    writer.rice(list.items.len() as u32, COUNT_K);
    if list.items.is_empty() {
        return Ok(());
    }
    let mut previous = 0u32;
    let mut gaps = Vec::with_capacity(list.items.len());
    for &item in &list.items {
        gaps.push(item.checked_sub(previous).ok_or(PackError::Malformed("neighbour list out of order"))?);
        previous = item;
    }
    let signed = list.weights.iter().any(|&q| q < 0);
    let codes: Vec<u32> = list.weights.iter().map(|&q| weight_code(q, signed)).collect();
    let gap_k = rice::best_k(gaps.iter().copied(), MAX_GAP_K);
    let weight_k = rice::best_k(codes.iter().copied(), MAX_WEIGHT_K);
    writer.bits(u64::from(bf16_bits(list.scale)), 16);
    writer.bits(u64::from(gap_k), GAP_K_BITS);
    writer.bits(u64::from(weight_k), WEIGHT_K_BITS);
    writer.bits(u64::from(signed), 1);
    for (&gap, &code) in gaps.iter().zip(&codes) {
        writer.rice(gap, gap_k);
        writer.rice(code, weight_k);
    }
    Ok(())
}

/// One item's links, decoded as they are iterated.
#[derive(Debug, Clone, Copy)]
pub struct LinkList<'a> {
    bytes: &'a [u8],
    /// Bit position of the first link.
    first: usize,
    count: u32,
    scale: f32,
    gap_k: u32,
    weight_k: u32,
    signed: bool,
}

impl<'a> LinkList<'a> {
    /// Reads a list's header at `*at`, leaving `*at` at its first link.
    #[inline]
    fn at(bytes: &'a [u8], at: &mut usize) -> Self {
        let count = rice::read_rice(bytes, at, COUNT_K);
        let mut list = LinkList { bytes, first: *at, count, scale: 0.0, gap_k: 0, weight_k: 0, signed: false };
        if count > 0 {
            list.scale = from_bf16_bits(rice::read_bits(bytes, at, 16));
            list.gap_k = rice::read_bits(bytes, at, GAP_K_BITS);
            list.weight_k = rice::read_bits(bytes, at, WEIGHT_K_BITS);
            list.signed = rice::read_bits(bytes, at, 1) == 1;
            list.first = *at;
        }
        list
    }

    /// Iterates `(item index, weight)` in ascending item order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, f32)> + 'a {
        let scale = self.scale;
        self.quantised().map(move |(item, q)| (item, f32::from(q) * scale / 127.0))
    }

    /// Iterates `(item index, factor × weight)` in ascending item order, with
    /// the de-quantisation folded into one multiplication per link.
    pub fn scaled(&self, factor: f64) -> impl Iterator<Item = (u32, f64)> + 'a {
        let unit = self.scaled_unit(factor);
        self.quantised().map(move |(item, q)| (item, unit * f64::from(q)))
    }

    /// What one quantisation step weighs times `factor`, as [`Self::scaled`] multiplies it in.
    pub(crate) fn scaled_unit(&self, factor: f64) -> f64 {
        factor * f64::from(self.scale) / 127.0
    }

    /// Iterates `(item index, quantised weight)` in ascending item order: a
    /// weight is the quantised value times [`Self::unit`].
    #[inline]
    pub fn quantised(&self) -> impl Iterator<Item = (u32, i8)> + 'a {
        let LinkList { bytes, first, gap_k, weight_k, signed, .. } = *self;
        let (mut at, mut item) = (first, 0u32);
        (0..self.count).map(move |_| {
            let (gap, code) = rice::read_rice_pair(bytes, &mut at, gap_k, weight_k);
            item = item.wrapping_add(gap);
            (item, weight_from_code(code, signed))
        })
    }

    /// The weight of one quantisation step.
    pub fn unit(&self) -> f64 {
        f64::from(self.scale) / 127.0
    }

    /// How many links there are.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_read_back_what_was_packed() {
        let lists = vec![NeighbourList::quantise(&[(3, 0.5), (70_000, -1.0), (200, 0.25)]), NeighbourList::default(), NeighbourList::quantise(&[(0, 2.0)])];
        let links = Links::new(&lists).unwrap();
        for (i, list) in lists.iter().enumerate() {
            assert_eq!(links.of(i as u32).iter().collect::<Vec<_>>(), list.iter().collect::<Vec<_>>());
            assert_eq!(links.of(i as u32).len(), list.items.len());
        }
        assert_eq!(links.max_scale(), 2.0);
        let small = vec![NeighbourList::quantise(&[(1, 0.5), (2, -1.0)]), NeighbourList::default(), NeighbourList::quantise(&[(0, 2.0)])];
        let wire = Links::new(&small).unwrap().to_wire();
        assert_eq!(Links::from_wire(&wire, 3, "neighbours").unwrap().lists(), small, "the section reads back the lists");
        assert_eq!(Links::from_wire(&wire, 2, "neighbours").unwrap_err(), PackError::Malformed("neighbours"), "one list per item");
        assert_eq!(Links::from_wire(&links.to_wire(), 3, "neighbours").unwrap_err(), PackError::Malformed("neighbour list out of range"));
        let mut truncated = wire.clone();
        truncated.pop();
        assert_eq!(Links::from_wire(&truncated, 3, "neighbours").unwrap_err(), PackError::Malformed("neighbours"));
        let mut trailing = wire.clone();
        trailing.push(0);
        assert_eq!(Links::from_wire(&trailing, 3, "neighbours").unwrap_err(), PackError::Malformed("neighbours"), "a byte past the lists");
        for n in [0, 1, 2, 9] {
            let empty = Links::empty(n);
            assert_eq!(empty.lists(), vec![NeighbourList::default(); n]);
            assert_eq!(empty.to_wire(), Links::new(&vec![NeighbourList::default(); n]).unwrap().to_wire(), "{n} empty lists as the encoder writes them");
        }
        let unordered = NeighbourList { scale: 1.0, items: vec![5, 2], weights: vec![1, 1] };
        assert_eq!(Links::new(&[unordered]).unwrap_err(), PackError::Malformed("neighbour list out of order"));
    }

    #[test]
    fn hostile_headers_are_refused_without_reading_past_the_section() {
        let hostile = |build: &dyn Fn(&mut BitWriter)| {
            let mut writer = BitWriter::default();
            build(&mut writer);
            let mut body = 1u32.to_le_bytes().to_vec();
            body.extend(writer.into_bytes());
            Links::from_wire(&body, 1, "neighbours")
        };
        let header = |w: &mut BitWriter, count: u32, scale: f32, signed: u64| {
            w.rice(count, COUNT_K);
            w.bits(u64::from(bf16_bits(scale)), 16);
            w.bits(3, GAP_K_BITS);
            w.bits(3, WEIGHT_K_BITS);
            w.bits(signed, 1);
        };
        assert!(hostile(&|w| header(w, u32::MAX, 1.0, 0)).is_err(), "a count past the section");
        assert!(hostile(&|w| header(w, 1, f32::NAN, 0)).is_err(), "a scale that is not a number");
        assert!(hostile(&|w| header(w, 1, -1.0, 0)).is_err(), "a negative scale");
        assert!(hostile(&|w| header(w, 1, 2.0e6, 0)).is_err(), "a scale past the bound");
        let weight = |code: u32, signed: u64| {
            hostile(&|w| {
                header(w, 1, 1.0, signed);
                w.rice(0, 3);
                w.rice(code, 3);
            })
        };
        assert!(weight(127, 0).is_ok() && weight(255, 1).is_ok());
        assert!(weight(128, 0).is_err() && weight(256, 1).is_err(), "weights past an int8");
        let links = weight(255, 1).unwrap();
        assert_eq!(links.of(0).quantised().collect::<Vec<_>>(), vec![(0, -128)]);
    }

    #[test]
    fn random_indices_cost_about_their_entropy() {
        // 40 links at pseudo-random indices of 100k items: 12.6 bits of index entropy each.
        let mut state = 7u64;
        let mut next = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u32 % 100_000
        };
        let lists: Vec<NeighbourList> = (0..200).map(|_| NeighbourList::quantise(&(0..40).map(|r| (next(), 1.0 / (r + 1) as f32)).collect::<Vec<_>>())).collect();
        let bytes_per_list = Links::new(&lists).unwrap().to_wire().len() as f64 / 200.0;
        assert!((90.0..100.0).contains(&bytes_per_list), "{bytes_per_list} bytes per list of 40");
    }
}
