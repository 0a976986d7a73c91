//! Neighbour evidence kept event by event. For every catalogue item, the sum
//! over the person's items of their decayed interest times their link to it,
//! so that a ranking reads one number per item instead of walking the links of
//! the whole history. The sums are fixed-point integers: they do not depend on
//! the order of their terms, so keeping them up to date gives exactly what a
//! rebuild from the log gives.

use std::sync::Arc;

use crate::catalog::Catalog;
use crate::model::{LONG_HALF_LIFE_MS, SHORT_HALF_LIFE_MS};
use crate::rank::{strength_key, StrongestKeys};

/// Fractional bits of the fixed-point units: a unit is 2^-20 of an interest of
/// one through the catalogue's strongest link.
const UNIT_BITS: i32 = 20;
/// Units are kept as of a reference time, the start of the day (UTC) of the
/// person's newest event: within a day the short-term interest grows at most
/// 16-fold, and moving to a new day rebuilds the sums.
pub const REFERENCE_STEP_MS: i64 = 86_400_000;

/// What one of the person's items adds to the sums per quantised step of a
/// link, long- and short-term, as of the reference time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SourceUnits {
    long: i64,
    short: i64,
}

/// The sums for every catalogue item, and which of the person's items link to
/// it, shared (copy on write) between the index that keeps them and the
/// profiles that read them.
#[derive(Debug, Clone, Default)]
pub struct EvidenceTotals {
    /// Per item, its long- and short-term sums side by side (one cache line per update).
    sums: Vec<[i64; 2]>,
    /// Per item, the latest link to it ([`NO_LINK`] if none): an index into `next`.
    heads: Vec<u32>,
    /// Per link of the person's items, the next link to the same item: lists
    /// threaded through one array, each source's links in one block.
    next: Vec<u32>,
    /// Per link of the person's items, its quantised weight (what explanations
    /// read, so that they need not decode the list again).
    link_weights: Vec<i8>,
    /// Per link of the person's items, its source (what explanations look
    /// for, found without a search).
    link_sources: Vec<u32>,
    /// The items some of the person's items link to, in the order they were first linked.
    linked: Vec<u32>,
    /// One bit per catalogue item: set for the person's items (the sources).
    sources: Vec<u64>,
}

/// The end of a list in [`EvidenceTotals::next`].
const NO_LINK: u32 = u32::MAX;

impl EvidenceTotals {
    /// The person's items that link to item `i`, latest first, each with the
    /// quantised weight of that link.
    pub fn sources_of(&self, i: u32) -> impl Iterator<Item = (u32, i8)> + '_ {
        let mut at = self.heads.get(i as usize).copied().unwrap_or(NO_LINK);
        std::iter::from_fn(move || {
            let link = at as usize;
            let (&next, &q, &source) = (self.next.get(link)?, self.link_weights.get(link)?, self.link_sources.get(link)?);
            at = next;
            Some((source, q))
        })
    }

    /// Item `i`'s long- and short-term sums, in units.
    fn sums(&self, i: u32) -> [i64; 2] {
        self.sums.get(i as usize).copied().unwrap_or_default()
    }

    /// Adds `units` × each of `source`'s links (`new_source`: recording it among the items that link to each).
    fn add(&mut self, catalog: &Catalog, source: u32, units: SourceUnits, new_source: bool) {
        if new_source {
            if let Some(bits) = self.sources.get_mut(source as usize / 64) {
                *bits |= 1 << (source % 64);
            }
        }
        let new_source = new_source && self.next.len() < NO_LINK as usize;
        for (target, q) in catalog.neighbours(source).quantised() {
            let (t, q) = (target as usize, i64::from(q));
            // Wrapping: integer sums stay exact and order-free even past any range a pack should reach.
            let [long, short] = &mut self.sums[t];
            *long = long.wrapping_add(units.long.wrapping_mul(q));
            *short = short.wrapping_add(units.short.wrapping_mul(q));
            if new_source {
                if self.heads[t] == NO_LINK {
                    self.linked.push(target);
                }
                let link = self.next.len() as u32;
                self.next.push(self.heads[t]);
                self.link_weights.push(q as i8);
                self.link_sources.push(source);
                self.heads[t] = link;
            }
        }
    }
}

/// Equal sums, and the same items linking to each item whatever order they came in.
impl PartialEq for EvidenceTotals {
    fn eq(&self, other: &Self) -> bool {
        let sorted = |t: &EvidenceTotals, i: u32| {
            let mut sources: Vec<u32> = t.sources_of(i).map(|(source, _)| source).collect();
            sources.sort_unstable();
            sources
        };
        self.sums == other.sums && self.heads.len() == other.heads.len() && (0..self.heads.len() as u32).all(|i| sorted(self, i) == sorted(other, i))
    }
}

/// The person's neighbour evidence through one catalogue: the sums, the
/// reference time they are kept at and what fixes their units.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourEvidence {
    totals: Arc<EvidenceTotals>,
    reference_ms: i64,
    /// The catalogue's strongest list scale, which units are relative to.
    max_scale: f64,
}

/// The start of the reference step holding `t_ms` (saturating at the earliest time).
fn reference_of(t_ms: i64) -> i64 {
    t_ms.saturating_sub(t_ms.rem_euclid(REFERENCE_STEP_MS))
}

/// `x` in units (NaN and infinities saturate; an empty pack gives 0).
fn fixed(x: f64) -> i64 {
    (x * f64::from(1u32 << UNIT_BITS)).round() as i64
}

impl NeighbourEvidence {
    /// The reference time a person whose newest event is at `newest_ms` is kept at.
    pub fn reference_for(newest_ms: i64) -> i64 {
        reference_of(newest_ms)
    }

    /// The reference time the sums are kept at.
    pub fn reference_ms(&self) -> i64 {
        self.reference_ms
    }

    /// What item `index`, of long- and short-term interest `(long, short)` as
    /// of the reference time, adds per quantised link step.
    pub fn units(&self, catalog: &Catalog, index: u32, (long, short): (f64, f64)) -> SourceUnits {
        let relative = if self.max_scale > 0.0 { catalog.neighbours(index).unit() * 127.0 / self.max_scale } else { 0.0 };
        SourceUnits { long: fixed(long * relative), short: fixed(short * relative) }
    }

    /// Replaces source `index`'s units `old` (none if it is new) with `new`.
    pub fn update(&mut self, catalog: &Catalog, index: u32, old: Option<SourceUnits>, new: SourceUnits) {
        let delta = match old {
            Some(old) => SourceUnits { long: new.long.wrapping_sub(old.long), short: new.short.wrapping_sub(old.short) },
            None => new,
        };
        if delta != SourceUnits::default() || old.is_none() {
            Arc::make_mut(&mut self.totals).add(catalog, index, delta, old.is_none());
        }
    }

    /// No evidence yet through `catalog`, kept as of `reference_ms`, with room for `links` links.
    pub fn empty_at(catalog: &Catalog, reference_ms: i64, links: usize) -> Self {
        let n = catalog.len();
        let (sums, heads, sources) = (vec![[0; 2]; n], vec![NO_LINK; n], vec![0; n.div_ceil(64)]);
        let mut totals = EvidenceTotals { sums, heads, next: Vec::new(), link_weights: Vec::new(), link_sources: Vec::new(), linked: Vec::new(), sources };
        totals.next.reserve_exact(links);
        totals.link_weights.reserve_exact(links);
        totals.link_sources.reserve_exact(links);
        NeighbourEvidence { totals: Arc::new(totals), reference_ms, max_scale: f64::from(catalog.max_neighbour_scale()) }
    }

    /// Whether a view still shares the sums (recording would then copy them).
    #[cfg(test)]
    pub(crate) fn is_shared(&self) -> bool {
        Arc::strong_count(&self.totals) > 1
    }

    /// The sums as a ranking at `now_ms` reads them: `long`/`short` weigh the
    /// long- and short-term parts (interest scaling and session boost included).
    pub fn view(&self, now_ms: i64, long: f64, short: f64) -> EvidenceView {
        let elapsed = now_ms.saturating_sub(self.reference_ms).max(0) as f64;
        let unit = self.max_scale / 127.0 / f64::from(1u32 << UNIT_BITS);
        EvidenceView {
            totals: Some(Arc::clone(&self.totals)),
            long: long * unit * 0.5f64.powf(elapsed / LONG_HALF_LIFE_MS),
            short: short * unit * 0.5f64.powf(elapsed / SHORT_HALF_LIFE_MS),
        }
    }
}

/// The neighbour evidence as one ranking reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceView {
    totals: Option<Arc<EvidenceTotals>>,
    long: f64,
    short: f64,
}

impl EvidenceView {
    /// Item `i`'s evidence from the whole history, before the sequence term.
    pub fn total(&self, i: u32) -> f64 {
        self.totals.as_ref().map_or(0.0, |t| {
            let [long, short] = t.sums(i);
            self.long * long as f64 + self.short * short as f64
        })
    }

    /// Whether item `i` may be one of the person's items: always without
    /// kept sums (most items a ranking looks at are not, and need no search).
    pub(crate) fn may_hold(&self, i: u32) -> bool {
        self.totals.as_ref().is_none_or(|t| t.sources.get(i as usize / 64).is_some_and(|bits| bits & (1 << (i % 64)) != 0))
    }

    /// A source's weight per quantised step of its links, by the same
    /// arithmetic as the sums (for explanations).
    pub fn source_weight(&self, units: SourceUnits) -> f64 {
        self.long * units.long as f64 + self.short * units.short as f64
    }

    /// Offers to `out`, for every item some of the person's items link to
    /// and `skip` does not name, its [`strength_key`]: its evidence before the
    /// sequence term times `weight`, and the item.
    pub(crate) fn offer_linked(&self, weight: f64, skip: impl Fn(u32) -> bool, out: &mut StrongestKeys) {
        let Some(t) = &self.totals else { return };
        let (long, short) = (weight * self.long, weight * self.short);
        let strength = |[l, s]: [i64; 2]| long * l as f64 + short * s as f64;
        // Most items are weaker than the strongest kept so far: one comparison
        // each, and a key only for the few above.
        let mut bar = out.bar();
        let mut consider = |i: u32, sums: [i64; 2], linked: bool| {
            let v = strength(sums);
            if StrongestKeys::above(v, bar) && linked && !skip(i) {
                out.offer(strength_key(v, i));
                bar = out.bar();
            }
        };
        // A short history links to few items: visit those; a long one to most: scan them all in order.
        if t.linked.len() < t.heads.len() / 2 {
            t.linked.iter().for_each(|&i| consider(i, t.sums[i as usize], true));
        } else {
            let all = t.sums.iter().zip(&t.heads).enumerate();
            all.for_each(|(i, (&sums, &head))| consider(i as u32, sums, head != NO_LINK));
        }
    }

    /// The person's items that link to item `i`, each with the quantised
    /// weight of that link.
    pub fn sources_of(&self, i: u32) -> impl Iterator<Item = (u32, i8)> + '_ {
        self.totals.iter().flat_map(move |t| t.sources_of(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::tiny_pack;
    use crate::catalog::RankerWeights;
    use crate::events::{EventKind, StoredEvent};
    use crate::model::{model_of, ProfileIndex};

    fn view(item: &str, t: i64) -> StoredEvent {
        StoredEvent { seq: 0, kind: EventKind::View, item_id: item.into(), timestamp_ms: t, dwell_secs: None, rating: None, query_tokens: vec![] }
    }

    /// Events and requests at the ends of time keep every sum and score
    /// finite and panic nowhere (the reference time saturates).
    #[test]
    fn extreme_times_keep_the_evidence_finite() {
        let catalog = Catalog::new(tiny_pack()).unwrap();
        for (a, b) in [(i64::MIN, i64::MIN), (i64::MIN, i64::MAX), (i64::MAX, i64::MAX), (0, i64::MAX), (-1, 1)] {
            let model = model_of(&[view("a", a), view("b", b)]);
            let index = ProfileIndex::build(&model, &catalog, false, None);
            for now in [i64::MIN, -1, 0, 1_780_000_000_000, i64::MAX] {
                let profile = index.profile(&model, &catalog, &RankerWeights::default(), now);
                assert!((0..3).all(|i| profile.evidence.total(i).is_finite()), "events at {a} and {b}, now {now}");
                assert!(profile.source_weights.iter().all(|w| w.is_finite()));
            }
        }
    }

    /// The item linking to another is recorded once, and the sums follow
    /// the link's sign: "a" links to "b" (0.8) only.
    #[test]
    fn sums_follow_the_links_and_remember_who_links() {
        let catalog = Catalog::new(tiny_pack()).unwrap();
        let now = 1_780_000_000_000;
        let model = model_of(&[view("a", now), view("a", now)]);
        let profile = ProfileIndex::build(&model, &catalog, false, None).profile(&model, &catalog, &RankerWeights::default(), now);
        assert_eq!(profile.evidence.sources_of(1).collect::<Vec<_>>(), vec![(0, 127)]);
        assert_eq!(profile.evidence.sources_of(0).count(), 0);
        assert!(profile.evidence.total(1) > 0.0 && profile.evidence.total(0) == 0.0 && profile.evidence.total(2) == 0.0);
    }
}
