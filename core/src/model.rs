//! The on-device user model. [`ModelState`] is updated incrementally from each
//! stored event (so it can be snapshotted and need not replay the log), keyed by
//! item id so it survives catalogue swaps. [`UserProfile`] is its view through
//! one catalogue at one moment; sensitive and unknown items never enter it.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, RankerWeights};
use crate::events::{hash_token, EventKind, StoredEvent};
use crate::evidence::{EvidenceView, NeighbourEvidence, SourceUnits};
use crate::feedback::SUPPRESSION_FULL_DAYS;
use crate::repurchase::{Due, PurchaseRhythm, RhythmBasis};

/// Long-term interest halves every 21 days.
pub const LONG_HALF_LIFE_MS: f64 = 21.0 * 86_400_000.0;
/// Short-term (session) interest halves every 6 hours.
pub const SHORT_HALF_LIFE_MS: f64 = 6.0 * 3_600_000.0;
/// The trend (what is popular now) takes half its weight once this long has
/// passed since someone's last event, and grows towards all of it after that:
/// within a session what they just did says more, after a break what is new does.
pub const RETURN_HALF_LIFE_MS: f64 = 86_400_000.0;
/// Items re-bought on the person's own rhythm from which their repeat profile
/// is strong enough to bound the trend.
pub const STRONG_REPEAT_ITEMS: usize = 3;
/// The most of the trend weight in force for someone with a strong repeat profile.
pub const REPEAT_TREND_SHARE: f64 = 0.25;
/// Weight of a query token, before decay.
const SEARCH_TERM_WEIGHT: f64 = 2.0;
/// The sequence term of an item halves every this many positions back.
pub const SEQUENCE_HALF_LIFE_STEPS: f64 = 8.0;
/// Only this many positions back carry a sequence term (the packer's sequential
/// model is learned on exactly this window).
pub const SEQUENCE_WINDOW: usize = 30;
/// How many of the latest items pass their sequence term on through their
/// links (two half-lives: each older one would weigh at most a quarter of the
/// latest). On ML-1M, leaving out positions 16–29 left HR@10 unchanged with the
/// headline model and raised it with an EASE pack, and saved 2.5–3 µs of link
/// decoding per request.
pub const SEQUENCE_LINK_ITEMS: usize = 16;
/// How many recent items feed "what comes next".
pub const RECENT_ITEMS: usize = 5;
/// Each step back weighs this much of the step after it in "what comes next".
pub const RECENT_DECAY: f64 = 0.5;

/// Weight of the item `back` positions before the latest among the recent items
/// that feed "what comes next": [`RECENT_DECAY`]^back.
pub fn recent_weight(back: usize) -> f64 {
    RECENT_DECAY.powi(back as i32)
}

/// Sequence weight of the item `back` positions before the latest: halves every
/// [`SEQUENCE_HALF_LIFE_STEPS`] (read from a table within the window, which
/// every ranking walks).
pub fn history_weight(back: usize) -> f64 {
    static WINDOW: LazyLock<[f64; SEQUENCE_WINDOW]> = LazyLock::new(|| std::array::from_fn(halvings));
    WINDOW.get(back).copied().unwrap_or_else(|| halvings(back))
}

/// 0.5^(`back` / [`SEQUENCE_HALF_LIFE_STEPS`]).
fn halvings(back: usize) -> f64 {
    0.5f64.powf(back as f64 / SEQUENCE_HALF_LIFE_STEPS)
}

/// A sum of exponentially decaying contributions, kept at a reference time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Decayed {
    value: f64,
    at_ms: i64,
}

impl Decayed {
    /// Adds `weight` observed at `t_ms`; out-of-order times are handled exactly.
    pub fn add(&mut self, weight: f64, t_ms: i64, half_life_ms: f64) {
        if self.value == 0.0 || t_ms >= self.at_ms {
            self.value = self.value * decay(t_ms.saturating_sub(self.at_ms), half_life_ms) + weight;
            self.at_ms = t_ms;
        } else {
            self.value += weight * decay(self.at_ms.saturating_sub(t_ms), half_life_ms);
        }
    }

    /// The value carried to `reference_ms`, forwards or backwards.
    fn as_of(&self, reference_ms: i64, half_life_ms: f64) -> f64 {
        self.value * 0.5f64.powf(reference_ms.saturating_sub(self.at_ms) as f64 / half_life_ms)
    }

    /// The value as of `now_ms` (never grows for a `now` before the reference time).
    pub fn at(&self, now_ms: i64, half_life_ms: f64) -> f64 {
        self.value * decay(now_ms.saturating_sub(self.at_ms).max(0), half_life_ms)
    }
}

fn decay(elapsed_ms: i64, half_life_ms: f64) -> f64 {
    0.5f64.powf(elapsed_ms.max(0) as f64 / half_life_ms)
}

/// What the model keeps about one item the person interacted with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemState {
    long: Decayed,
    short: Decayed,
    strongest_kind: EventKind,
    strongest_weight: f64,
    last_ms: i64,
    last_positive: Option<(i64, u64)>,
    purchased: bool,
    last_dismissed_ms: Option<i64>,
    /// The times of its orders, once bought (boxed: most items never are).
    rhythm: Option<Box<PurchaseRhythm>>,
}

impl ItemState {
    /// The state before the first event (of `kind`, at `t_ms`) on an item.
    fn first(kind: EventKind, t_ms: i64) -> Self {
        ItemState {
            long: Decayed::default(),
            short: Decayed::default(),
            strongest_kind: kind,
            strongest_weight: f64::MIN,
            last_ms: t_ms,
            last_positive: None,
            purchased: false,
            last_dismissed_ms: None,
            rhythm: None,
        }
    }
}

impl ItemState {
    /// Folds in one event on the item, of interest `weight`.
    fn observe(&mut self, event: &StoredEvent, weight: f64) {
        let t = event.timestamp_ms;
        self.long.add(weight, t, LONG_HALF_LIFE_MS);
        self.short.add(weight, t, SHORT_HALF_LIFE_MS);
        self.last_ms = self.last_ms.max(t);
        if weight > self.strongest_weight {
            self.strongest_weight = weight;
            self.strongest_kind = event.kind;
        }
        if weight > 0.0 && self.last_positive.is_none_or(|p| (t, event.seq) > p) {
            self.last_positive = Some((t, event.seq));
        }
        if event.kind == EventKind::Purchase {
            self.purchased = true;
            self.rhythm.get_or_insert_default().add(t);
        }
        if event.kind == EventKind::Dismiss {
            self.last_dismissed_ms = Some(self.last_dismissed_ms.map_or(t, |d| d.max(t)));
        }
    }

    /// The long- and short-term interest carried to `reference_ms`.
    pub(crate) fn interest_as_of(&self, reference_ms: i64, long_half_life_ms: f64, short_half_life_ms: f64) -> (f64, f64) {
        (self.long.as_of(reference_ms, long_half_life_ms), self.short.as_of(reference_ms, short_half_life_ms))
    }
}

/// Everything learned from the event log, updated one event at a time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelState {
    items: BTreeMap<String, ItemState>,
    query_terms: BTreeMap<String, Decayed>,
    hours: [Decayed; 24],
    /// Notification opens and session starts per UTC hour of the week (Monday 00:00 first).
    engagement: Vec<Decayed>,
    /// How many notification opens and session starts were applied.
    pub engagement_events: u64,
    /// Events applied.
    pub events: u64,
    /// Events applied per kind.
    pub by_kind: BTreeMap<EventKind, u64>,
    /// Oldest event time.
    pub first_ms: Option<i64>,
    /// Newest event time.
    pub last_ms: Option<i64>,
    /// Highest sequence number applied.
    pub max_seq: Option<u64>,
}

/// What one event changed about its item, as [`ModelState::apply`] returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The item's state after the event.
    pub state: ItemState,
    /// Whether it was the first event on the item.
    pub new_item: bool,
}

impl ModelState {
    /// Folds one stored event into the model; returns what it changed about
    /// its item (none without an item).
    pub fn apply(&mut self, event: &StoredEvent) -> Option<Applied> {
        let t = event.timestamp_ms;
        self.events += 1;
        *self.by_kind.entry(event.kind).or_default() += 1;
        self.first_ms = Some(self.first_ms.map_or(t, |f| f.min(t)));
        self.last_ms = Some(self.last_ms.map_or(t, |l| l.max(t)));
        self.max_seq = Some(self.max_seq.map_or(event.seq, |m| m.max(event.seq)));
        let hour = (t.rem_euclid(86_400_000) / 3_600_000) as usize;
        self.hours[hour].add(1.0, t, LONG_HALF_LIFE_MS);
        if matches!(event.kind, EventKind::NotificationOpen | EventKind::SessionStart) {
            if self.engagement.len() != HOURS_PER_WEEK {
                self.engagement = vec![Decayed::default(); HOURS_PER_WEEK];
            }
            self.engagement[hour_of_week(t)].add(1.0, t, LONG_HALF_LIFE_MS);
            self.engagement_events += 1;
        }
        for token in &event.query_tokens {
            self.query_terms.entry(token.clone()).or_default().add(SEARCH_TERM_WEIGHT, t, LONG_HALF_LIFE_MS);
        }
        if event.item_id.is_empty() {
            return None;
        }
        let weight = event.interest_weight();
        // One lookup for an item seen before (most events), a second to insert a new one.
        let (state, new_item) = match self.items.get_mut(&event.item_id) {
            Some(item) => {
                item.observe(event, weight);
                (item.clone(), false)
            }
            None => {
                let mut item = ItemState::first(event.kind, t);
                item.observe(event, weight);
                self.items.insert(event.item_id.clone(), item.clone());
                (item, true)
            }
        };
        Some(Applied { state, new_item })
    }

    /// Decayed activity per UTC hour of day.
    pub fn active_hours(&self, now_ms: i64) -> Vec<f64> {
        self.hours.iter().map(|h| h.at(now_ms, LONG_HALF_LIFE_MS)).collect()
    }

    /// Decayed notification opens and session starts per UTC hour of the week
    /// (Monday 00:00 first); all zero without any.
    pub fn engagement_by_hour_of_week(&self, now_ms: i64) -> Vec<f64> {
        let mut out = vec![0.0; HOURS_PER_WEEK];
        for (o, e) in out.iter_mut().zip(&self.engagement) {
            *o = e.at(now_ms, LONG_HALF_LIFE_MS);
        }
        out
    }
}

/// Hours in a week.
pub const HOURS_PER_WEEK: usize = 168;

/// The UTC hour of the week of `t_ms`, Monday 00:00 = 0 (1970-01-01 was a Thursday).
pub fn hour_of_week(t_ms: i64) -> usize {
    let hours = t_ms.div_euclid(3_600_000);
    ((hours + 3 * 24).rem_euclid(HOURS_PER_WEEK as i64)) as usize
}

/// What the profile holds about one catalogue item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemInterest {
    /// Decayed interest (negative after dismissals or low ratings).
    pub score: f64,
    /// The kind of event that signalled most, for explanations.
    pub strongest_kind: EventKind,
    /// Time of the latest event on the item.
    pub last_ms: i64,
    /// Whether the person bought it.
    pub purchased: bool,
    /// Whether the person marked it "not interested" within the last 30 days.
    pub dismissed: bool,
}

/// A person's profile through one catalogue at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserProfile {
    /// Interest per catalogue item index, in index order.
    pub items: Vec<(u32, ItemInterest)>,
    /// Affinity per category index, scaled to at most 1 in absolute value.
    pub categories: BTreeMap<u32, f64>,
    /// The same per category index, 0 where `categories` has none (read per scored item).
    #[serde(skip)]
    pub(crate) affinity: Vec<f64>,
    /// Items in the history that the catalogue does not know.
    pub unknown_items: usize,
    /// Sensitive items in the history, left out of the profile.
    pub sensitive_items_ignored: usize,
    /// The largest absolute item interest, for scaling.
    pub max_item_interest: f64,
    /// The latest items engaged with positively, most recent first (at most
    /// [`SEQUENCE_WINDOW`]; transitions read the first [`RECENT_ITEMS`]).
    pub recent: Vec<u32>,
    /// Time since the last event on an item the profile may use (none without history).
    pub away_ms: Option<i64>,
    /// How much of the trend weight is in force: [`Self::share_for_time_away`],
    /// or none when the profile's moment is before the pack's trend.
    pub trend_share: f64,
    /// The neighbour evidence of the whole history, scaled as [`Self::scaled_interest`].
    #[serde(skip)]
    pub(crate) evidence: EvidenceView,
    /// Per item (parallel to `items`), its weight per quantised step of its
    /// neighbour links, the sequence term included.
    #[serde(skip)]
    pub(crate) source_weights: Vec<f64>,
    /// The latest [`SEQUENCE_LINK_ITEMS`] items and their sequence term's weight
    /// per quantised step of their links: the part of the neighbour evidence
    /// read per ranking.
    #[serde(skip)]
    pub(crate) sequence_sources: Vec<(u32, f64)>,
    /// How due each item the person bought is, in item order.
    pub repurchase: Vec<(u32, Due)>,
    /// The typical interval at which the person re-buys their staples (the
    /// geometric mean over items bought at least twice); none before any such item.
    pub restock_interval_ms: Option<f64>,
}

/// What a [`ProfileIndex`] keeps per item.
#[derive(Debug, Clone, PartialEq)]
struct IndexEntry {
    state: ItemState,
    /// What the item adds to the neighbour evidence.
    units: SourceUnits,
    /// Its long- and short-term interest carried to the evidence's reference time.
    as_of_reference: (f64, f64),
}

impl IndexEntry {
    /// Carries the interest to `evidence`'s reference time, and the units with it.
    fn carry_to(&mut self, evidence: &NeighbourEvidence, catalog: &Catalog, index: u32) {
        self.as_of_reference = self.state.interest_as_of(evidence.reference_ms(), LONG_HALF_LIFE_MS, SHORT_HALF_LIFE_MS);
        self.units = evidence.units(catalog, index, self.as_of_reference);
    }
}

/// The part of a person's profile that does not depend on the moment: which of
/// the model's items the catalogue knows and the profile may use, their state,
/// and their order by latest positive event. Kept up to date event by event
/// ([`Self::apply`]); rebuilt only when the catalogue, the consent to sensitive
/// profiling or the model as a whole changes. A profile at a moment is then
/// one pass over the person's items, with no lookups by id.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileIndex {
    allow_sensitive: bool,
    /// Per item, its state and what it adds to the neighbour evidence.
    entries: BTreeMap<u32, IndexEntry>,
    /// The time of the newest event on an entry.
    newest_ms: Option<i64>,
    evidence: NeighbourEvidence,
    order: BTreeSet<((i64, u64), u32)>,
    unknown_items: usize,
    sensitive_items_ignored: usize,
    /// Category per query term (its words and their hashes), for search interest.
    query_categories: HashMap<String, u32>,
}

impl ProfileIndex {
    /// The index of everything `model` holds through `catalog`. With
    /// `allow_sensitive` (an explicit consent purpose) sensitive items count too.
    /// With the store's `token_key`, searches kept as keyed hashes count towards
    /// the categories they name.
    pub fn build(model: &ModelState, catalog: &Catalog, allow_sensitive: bool, token_key: Option<&[u8]>) -> Self {
        let query_categories = catalog
            .categories()
            .iter()
            .enumerate()
            .filter(|(_, c)| allow_sensitive || c.sensitive.is_none())
            .flat_map(|(i, c)| {
                let name = c.name.to_lowercase();
                let hashed = token_key.map(|key| (hash_token(key, &name), i as u32));
                hashed.into_iter().chain([(name, i as u32)])
            })
            .collect();
        let mut index = ProfileIndex {
            allow_sensitive,
            entries: BTreeMap::new(),
            newest_ms: None,
            evidence: NeighbourEvidence::empty_at(catalog, 0, 0),
            order: BTreeSet::new(),
            unknown_items: 0,
            sensitive_items_ignored: 0,
            query_categories,
        };
        for (id, state) in &model.items {
            index.insert(id, state, true, catalog, false);
        }
        if let Some(newest) = index.newest_ms {
            index.rebuild_evidence(catalog, NeighbourEvidence::reference_for(newest));
        }
        index
    }

    /// Takes in what an event changed about the item `id`, as [`ModelState::apply`] returns it.
    pub fn update(&mut self, id: &str, applied: &Applied, catalog: &Catalog) {
        if self.insert(id, &applied.state, applied.new_item, catalog, true) {
            let reference = self.newest_ms.map_or(0, NeighbourEvidence::reference_for);
            self.rebuild_evidence(catalog, reference);
        }
    }

    /// Records the item's state if the profile may use it, and with
    /// `keep_evidence` its change to the neighbour evidence; returns whether
    /// the evidence must be rebuilt instead (its reference time moved).
    fn insert(&mut self, id: &str, state: &ItemState, new_item: bool, catalog: &Catalog, keep_evidence: bool) -> bool {
        let index = match catalog.index_of(id) {
            None => {
                self.unknown_items += usize::from(new_item);
                return false;
            }
            Some(index) if catalog.is_sensitive(index) && !self.allow_sensitive => {
                self.sensitive_items_ignored += usize::from(new_item);
                return false;
            }
            Some(index) => index,
        };
        self.newest_ms = Some(self.newest_ms.map_or(state.last_ms, |n| n.max(state.last_ms)));
        let moved = keep_evidence && self.newest_ms.map_or(0, NeighbourEvidence::reference_for) != self.evidence.reference_ms();
        let (entry, old_units, old_positive) = match self.entries.entry(index) {
            Entry::Occupied(e) => {
                let e = e.into_mut();
                let (old_units, old_positive) = (e.units, e.state.last_positive);
                e.state = state.clone();
                (e, Some(old_units), old_positive)
            }
            Entry::Vacant(v) => (v.insert(IndexEntry { state: state.clone(), units: SourceUnits::default(), as_of_reference: (0.0, 0.0) }), None, None),
        };
        if keep_evidence && !moved {
            entry.carry_to(&self.evidence, catalog, index);
            self.evidence.update(catalog, index, old_units, entry.units);
        }
        if old_positive != state.last_positive {
            if let Some(p) = old_positive {
                self.order.remove(&(p, index));
            }
            if let Some(p) = state.last_positive {
                self.order.insert((p, index));
            }
        }
        moved
    }

    /// Whether a profile still shares the evidence (recording would then copy it).
    #[cfg(test)]
    pub(crate) fn evidence_is_shared(&self) -> bool {
        self.evidence.is_shared()
    }

    /// Recomputes every entry's evidence units and the sums as of `reference_ms`.
    fn rebuild_evidence(&mut self, catalog: &Catalog, reference_ms: i64) {
        let links = self.entries.keys().map(|&i| catalog.neighbours(i).len()).sum();
        self.evidence = NeighbourEvidence::empty_at(catalog, reference_ms, links);
        for (&index, entry) in &mut self.entries {
            entry.carry_to(&self.evidence, catalog, index);
            self.evidence.update(catalog, index, None, entry.units);
        }
    }

    /// The profile as of `now_ms` (interest as of the newest event, for a
    /// moment before it); very recent interest counts `session_boost` times extra.
    pub fn profile(&self, model: &ModelState, catalog: &Catalog, weights: &RankerWeights, now_ms: i64) -> UserProfile {
        let mut profile = UserProfile::default();
        self.profile_into(&mut profile, model, catalog, weights, now_ms);
        profile
    }

    /// [`Self::profile`] written over `profile`, whose lists keep their
    /// allocations: a ranking then allocates nothing in proportion to the history.
    pub(crate) fn profile_into(&self, profile: &mut UserProfile, model: &ModelState, catalog: &Catalog, weights: &RankerWeights, now_ms: i64) {
        // The affinity is kept at one slot per category, zero but where the
        // last profile had a category: those are zeroed again, not every slot
        // (a shop may have thousands of categories, a person a few dozen).
        let mut affinity = std::mem::take(&mut profile.affinity);
        match affinity.len() == catalog.categories().len() {
            true => profile.categories.keys().for_each(|&c| affinity[c as usize] = 0.0),
            false => {
                affinity.clear();
                affinity.resize(catalog.categories().len(), 0.0);
            }
        }
        *profile = UserProfile {
            unknown_items: self.unknown_items,
            sensitive_items_ignored: self.sensitive_items_ignored,
            items: emptied(&mut profile.items),
            affinity,
            recent: emptied(&mut profile.recent),
            source_weights: emptied(&mut profile.source_weights),
            sequence_sources: emptied(&mut profile.sequence_sources),
            repurchase: emptied(&mut profile.repurchase),
            ..UserProfile::default()
        };
        let boost = f64::from(weights.session_boost);
        let sequence_boost = f64::from(weights.sequence_boost);
        // Steps back are counted among the items the profile may use, so that
        // sensitive or unknown items cannot shift anyone else's recency.
        profile.recent.extend(self.order.iter().rev().take(SEQUENCE_WINDOW).map(|&(_, i)| i));
        let mut steps_back: Vec<(u32, usize)> = profile.recent.iter().enumerate().map(|(rank, &i)| (i, rank)).collect();
        steps_back.sort_unstable();
        // Category sums gather in the (zeroed) affinity slots; the categories
        // reached are noted as they are first reached (again, harmlessly, if a
        // sum came back to zero: the map below keeps each once).
        let mut reached: Vec<u32> = Vec::new();
        // Every item's interest is its interest as of the evidence's reference
        // time, decayed by the same two factors; a moment before the newest
        // event counts as that event's, so that no interest grows.
        let elapsed = now_ms.max(self.newest_ms.unwrap_or(now_ms)).saturating_sub(self.evidence.reference_ms());
        let (long_decay, short_decay) = (decay(elapsed, LONG_HALF_LIFE_MS), decay(elapsed, SHORT_HALF_LIFE_MS));
        // Both in item order: the recent items are found walking beside the entries.
        let mut recent_backs = steps_back.iter().peekable();
        for (&index, IndexEntry { state, as_of_reference: (long, short), .. }) in &self.entries {
            while recent_backs.next_if(|&&(i, _)| i < index).is_some() {}
            let sequence = match recent_backs.peek() {
                Some(&&(i, back)) if i == index => sequence_boost * history_weight(back),
                _ => 0.0,
            };
            let (long, short) = (long * long_decay, short * short_decay);
            let score = long + boost * short + sequence;
            let cats = catalog.item_categories(index);
            let share = score / cats.len() as f64;
            for &c in cats {
                let sum = &mut profile.affinity[c as usize];
                if *sum == 0.0 {
                    reached.push(c);
                }
                *sum += share;
            }
            let dismissed = state.last_dismissed_ms.is_some_and(|d| now_ms.saturating_sub(d) < SUPPRESSION_FULL_DAYS * 86_400_000);
            let interest = ItemInterest { score, strongest_kind: state.strongest_kind, last_ms: state.last_ms, purchased: state.purchased, dismissed };
            profile.items.push((index, interest));
            if let Some(due) = state.rhythm.as_ref().and_then(|r| r.due(now_ms, catalog.repurchase_interval_ms(index))) {
                profile.repurchase.push((index, due));
            }
        }
        profile.categories = reached.iter().map(|&c| (c, profile.affinity[c as usize])).collect();
        for (term, weight) in &model.query_terms {
            if let Some(&c) = self.query_categories.get(term) {
                *profile.categories.entry(c).or_default() += weight.at(now_ms, LONG_HALF_LIFE_MS);
            }
        }
        let max_cat = profile.categories.values().map(|v| v.abs()).fold(0.0, f64::max);
        if max_cat > 0.0 {
            profile.categories.values_mut().for_each(|v| *v /= max_cat);
        }
        for (&c, &a) in &profile.categories {
            if let Some(slot) = profile.affinity.get_mut(c as usize) {
                *slot = a;
            }
        }

        profile.max_item_interest = profile.items.iter().map(|(_, i)| i.score.abs()).fold(0.0, f64::max);
        let inverse = if profile.max_item_interest > 0.0 { 1.0 / profile.max_item_interest } else { 0.0 };
        profile.evidence = self.evidence.view(now_ms, inverse, boost * inverse);
        for entry in self.entries.values() {
            profile.source_weights.push(profile.evidence.source_weight(entry.units));
        }
        for &(i, back) in steps_back.iter().filter(|&&(_, back)| back < SEQUENCE_LINK_ITEMS) {
            let weight = sequence_boost * history_weight(back) * catalog.neighbours(i).unit() * inverse;
            profile.sequence_sources.push((i, weight));
            if let Ok(at) = profile.items.binary_search_by_key(&i, |&(j, _)| j) {
                profile.source_weights[at] += weight;
            }
        }
        profile.away_ms = profile.items.iter().map(|(_, i)| i.last_ms).max().map(|last| now_ms.saturating_sub(last).max(0));
        let (mut staples, mut ln_sum) = (0.0, 0.0);
        for (_, due) in profile.repurchase.iter().filter(|(_, d)| d.basis == RhythmBasis::Own) {
            staples += 1.0;
            ln_sum += due.interval_ms.ln();
        }
        profile.restock_interval_ms = (staples > 0.0).then(|| (ln_sum / staples).exp());
        profile.trend_share = if catalog.trend_in_force(now_ms) { profile.share_for_time_away() } else { 0.0 };
    }
}

/// `list` emptied and taken, its allocation kept.
fn emptied<T>(list: &mut Vec<T>) -> Vec<T> {
    let mut list = std::mem::take(list);
    list.clear();
    list
}

impl UserProfile {
    /// The profile of `model` through `catalog` as of `now_ms`, built from
    /// scratch (what [`ProfileIndex`] maintains). With `allow_sensitive` (an
    /// explicit consent purpose) sensitive items count too.
    pub fn build(model: &ModelState, catalog: &Catalog, weights: &RankerWeights, now_ms: i64, allow_sensitive: bool) -> Self {
        ProfileIndex::build(model, catalog, allow_sensitive, None).profile(model, catalog, weights, now_ms)
    }

    /// What the profile holds about item `index`, if anything.
    pub fn interest(&self, index: u32) -> Option<&ItemInterest> {
        if !self.evidence.may_hold(index) {
            return None;
        }
        self.items.binary_search_by_key(&index, |(i, _)| *i).ok().map(|at| &self.items[at].1)
    }

    /// The profile of someone without history (or consent) at `now_ms`: only
    /// what the pack says for everyone applies.
    pub fn anonymous(catalog: &Catalog, now_ms: i64) -> Self {
        UserProfile { trend_share: if catalog.trend_in_force(now_ms) { 1.0 } else { 0.0 }, ..UserProfile::default() }
    }

    /// None right after an event, half after [`RETURN_HALF_LIFE_MS`] away, all
    /// of it without any history. Someone who re-buys staples is away only past
    /// their usual interval (a weekly shopper back after six days is on
    /// schedule), and with [`STRONG_REPEAT_ITEMS`] staples the trend takes at
    /// most [`REPEAT_TREND_SHARE`]: their own rhythm says more than what is new.
    pub fn share_for_time_away(&self) -> f64 {
        let Some(away) = self.away_ms else {
            return 1.0;
        };
        let beyond_rhythm = away as f64 - self.restock_interval_ms.unwrap_or(0.0);
        let share = 1.0 - 0.5f64.powf(beyond_rhythm.max(0.0) / RETURN_HALF_LIFE_MS);
        let staples = self.repurchase.iter().filter(|(_, d)| d.basis == RhythmBasis::Own).count();
        if staples >= STRONG_REPEAT_ITEMS {
            share.min(REPEAT_TREND_SHARE)
        } else {
            share
        }
    }

    /// How due item `index` is to be bought again (none if the person never bought it).
    pub fn due(&self, index: u32) -> Option<&Due> {
        if !self.evidence.may_hold(index) {
            return None;
        }
        self.repurchase.binary_search_by_key(&index, |(i, _)| *i).ok().map(|at| &self.repurchase[at].1)
    }

    /// Item interest scaled to [-1, 1].
    pub fn scaled_interest(&self, interest: &ItemInterest) -> f64 {
        if self.max_item_interest > 0.0 {
            interest.score / self.max_item_interest
        } else {
            0.0
        }
    }

    /// Up to `k` categories with a positive affinity, strongest first (ties by index).
    pub fn strongest_categories(&self, k: usize) -> Vec<u32> {
        let mut positive: Vec<(f64, u32)> = self.categories.iter().filter(|(_, &a)| a > 0.0).map(|(&c, &a)| (a, c)).collect();
        positive.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        positive.into_iter().take(k).map(|(_, c)| c).collect()
    }

    /// Category affinity of an item: the mean over its categories.
    pub fn category_affinity(&self, catalog: &Catalog, index: u32) -> f64 {
        let cats = catalog.item_categories(index);
        if cats.is_empty() {
            return 0.0;
        }
        cats.iter().map(|&c| self.affinity.get(c as usize).copied().unwrap_or(0.0)).sum::<f64>() / cats.len() as f64
    }
}

/// Folds events into a fresh model.
#[cfg(test)]
pub(crate) fn model_of<'a>(events: impl IntoIterator<Item = &'a StoredEvent>) -> ModelState {
    let mut model = ModelState::default();
    for e in events {
        model.apply(e);
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::tiny_pack;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_780_000_000_000;

    fn ev(kind: EventKind, item: &str, ts: i64) -> StoredEvent {
        StoredEvent { seq: ts as u64, kind, item_id: item.into(), timestamp_ms: ts, dwell_secs: None, rating: None, query_tokens: vec![] }
    }

    fn profile(events: &[StoredEvent]) -> UserProfile {
        UserProfile::build(&model_of(events), &Catalog::new(tiny_pack()).unwrap(), &RankerWeights::default(), NOW, false)
    }

    #[test]
    fn decayed_sums_do_not_depend_on_event_order() {
        let mut a = Decayed::default();
        let mut b = Decayed::default();
        let points = [(1.0, 5 * DAY), (2.0, DAY), (4.0, 9 * DAY)];
        points.iter().for_each(|&(w, t)| a.add(w, t, LONG_HALF_LIFE_MS));
        points.iter().rev().for_each(|&(w, t)| b.add(w, t, LONG_HALF_LIFE_MS));
        assert!((a.at(20 * DAY, LONG_HALF_LIFE_MS) - b.at(20 * DAY, LONG_HALF_LIFE_MS)).abs() < 1e-9);
        let direct: f64 = points.iter().map(|&(w, t)| w * 0.5f64.powf((20 * DAY - t) as f64 / LONG_HALF_LIFE_MS)).sum();
        assert!((a.at(20 * DAY, LONG_HALF_LIFE_MS) - direct).abs() < 1e-9);
    }

    /// Interest is carried from the evidence's reference time by one factor
    /// per half-life, which is the per-item decay to within rounding; a moment
    /// before the newest event (a clock set back) sees the interest as of it.
    #[test]
    fn interest_is_the_decayed_sum_and_a_moment_before_the_newest_event_is_that_event() {
        let events = [ev(EventKind::Purchase, "a", NOW - 60 * DAY), ev(EventKind::View, "b", NOW - DAY - 3_600_000)];
        let (model, catalog, weights) = (model_of(&events), Catalog::new(tiny_pack()).unwrap(), RankerWeights::default());
        let index = ProfileIndex::build(&model, &catalog, false, None);
        for now in [NOW - DAY, NOW, NOW + 40 * DAY] {
            let p = index.profile(&model, &catalog, &weights, now);
            for (id, i) in [("a", 0), ("b", 1)] {
                let state = &model.items[id];
                let direct = state.long.at(now, LONG_HALF_LIFE_MS) + f64::from(weights.session_boost) * state.short.at(now, SHORT_HALF_LIFE_MS);
                let sequence = f64::from(weights.sequence_boost) * history_weight(usize::from(i == 0));
                assert!((p.interest(i).unwrap().score - sequence - direct).abs() < 1e-9 * direct.max(1.0), "{id} at {now}");
            }
        }
        let newest = NOW - DAY - 3_600_000;
        assert_eq!(index.profile(&model, &catalog, &weights, newest - 30 * DAY).items, index.profile(&model, &catalog, &weights, newest).items);
    }

    #[test]
    fn recent_and_committed_events_weigh_more_and_sensitive_ones_are_ignored() {
        let p = profile(&[
            ev(EventKind::Purchase, "a", NOW - 60 * DAY),
            ev(EventKind::Purchase, "b", NOW - DAY),
            ev(EventKind::View, "c", NOW),
            ev(EventKind::View, "zzz", NOW),
        ]);
        assert!(p.interest(1).unwrap().score > p.interest(0).unwrap().score);
        assert!(p.interest(2).is_none());
        assert!(!p.categories.contains_key(&1));
        assert_eq!((p.sensitive_items_ignored, p.unknown_items), (1, 1));
        assert_eq!(p.items.iter().filter(|(_, i)| i.purchased).count(), 2);
        assert_eq!(p.recent, vec![1, 0], "most recent first, sensitive and unknown items left out");
        assert_eq!(p.away_ms, Some(DAY), "time away is counted from the last item the profile may use");
    }

    #[test]
    fn the_trend_counts_more_the_longer_someone_has_been_away_and_never_before_its_moment() {
        assert_eq!(NOW, crate::catalog::tests::TREND_AS_OF_MS, "the test pack's trend describes now");
        assert_eq!(profile(&[]).trend_share, 1.0, "in full without history");
        assert_eq!(profile(&[ev(EventKind::View, "a", NOW)]).trend_share, 0.0, "none right after an event");
        let half = profile(&[ev(EventKind::View, "a", NOW - RETURN_HALF_LIFE_MS as i64)]).trend_share;
        assert!((half - 0.5).abs() < 1e-9, "{half}");
        let after_a_month = profile(&[ev(EventKind::View, "a", NOW - 30 * DAY)]).trend_share;
        assert!(after_a_month > 0.99 && after_a_month <= 1.0, "{after_a_month}");
        assert_eq!(profile(&[ev(EventKind::View, "a", NOW + DAY)]).trend_share, 0.0, "an event stamped later than now is not time away");

        let catalog = Catalog::new(tiny_pack()).unwrap();
        let tolerance = crate::catalog::TREND_CLOCK_TOLERANCE_MS;
        for (moment, share) in [(NOW + 365 * DAY, 1.0), (NOW - tolerance, 1.0), (NOW - tolerance - 1, 0.0)] {
            let built = UserProfile::build(&model_of(&[]), &catalog, &RankerWeights::default(), moment, false).trend_share;
            assert_eq!(built, share, "no trend before the moment it describes, a year after it still");
            assert_eq!(UserProfile::anonymous(&catalog, moment).trend_share, share);
        }
        assert_eq!(UserProfile::anonymous(&catalog, NOW).trend_share, 1.0);
    }

    /// A weekly shopper back after six days is on schedule: no trend. After a
    /// month away the trend counts again, but with three staples bought on
    /// their own rhythm at most [`REPEAT_TREND_SHARE`] of it.
    #[test]
    fn the_trend_is_judged_against_the_persons_own_rhythm() {
        let weekly = |items: &[&str], last: i64| -> Vec<StoredEvent> {
            items.iter().flat_map(|&id| (0..4).map(move |w| ev(EventKind::Purchase, id, last - w * 7 * DAY))).collect()
        };
        let on_schedule = profile(&weekly(&["a"], NOW - 6 * DAY));
        assert!((on_schedule.restock_interval_ms.unwrap() - 7.0 * DAY as f64).abs() < 1.0);
        assert_eq!(on_schedule.trend_share, 0.0, "six days after a weekly shop is not a break");
        let a_day_late = profile(&weekly(&["a"], NOW - 8 * DAY)).trend_share;
        assert!((a_day_late - 0.5).abs() < 1e-6, "{a_day_late}");
        let viewer = profile(&[ev(EventKind::View, "a", NOW - 6 * DAY)]).trend_share;
        assert!(viewer > 0.98, "without a rhythm six days away is a break: {viewer}");
        let mut staples = weekly(&["a", "b"], NOW - 40 * DAY);
        let one_staple = profile(&staples).trend_share;
        assert!(one_staple > 0.99, "{one_staple}");
        staples.extend(weekly(&["zzz"], NOW - 40 * DAY));
        let mut catalog_pack = tiny_pack();
        catalog_pack.items[2].categories = vec![0];
        let catalog = Catalog::new(catalog_pack).unwrap();
        let three = UserProfile::build(&model_of(&staples), &catalog, &RankerWeights::default(), NOW, false);
        assert_eq!(three.repurchase.len(), 2, "unknown items have no rhythm here");
        staples.extend(weekly(&["c"], NOW - 40 * DAY));
        let strong = UserProfile::build(&model_of(&staples), &catalog, &RankerWeights::default(), NOW, false);
        assert_eq!(strong.trend_share, REPEAT_TREND_SHARE, "three staples bound the trend");
    }

    /// The packer learns its history block on exactly the last `SEQUENCE_WINDOW`
    /// items, so nothing older may carry a sequence term on the device.
    #[test]
    fn only_the_sequence_window_carries_a_sequence_term() {
        let mut pack = tiny_pack();
        let first = pack.items[0].clone();
        pack.items = (0..SEQUENCE_WINDOW + 5).map(|i| crate::catalog::Item { id: format!("i{i}"), ..first.clone() }).collect();
        let n = pack.items.len();
        (pack.neighbours, pack.transitions, pack.popularity, pack.trend) = (vec![Default::default(); n], vec![Default::default(); n], vec![0; n], vec![0; n]);
        pack.embeddings = None;
        let events: Vec<StoredEvent> = (0..n).map(|i| StoredEvent { seq: i as u64, ..ev(EventKind::View, &format!("i{i}"), NOW) }).collect();
        let p = UserProfile::build(&model_of(&events), &Catalog::new(pack).unwrap(), &RankerWeights::default(), NOW, false);
        let score = |back: usize| p.interest((n - 1 - back) as u32).unwrap().score;
        assert!(score(SEQUENCE_WINDOW - 1) > score(SEQUENCE_WINDOW));
        assert_eq!(score(SEQUENCE_WINDOW), score(SEQUENCE_WINDOW + 4), "beyond the window only long-term interest is left");
        let linked: BTreeSet<u32> = p.sequence_sources.iter().map(|&(i, _)| i).collect();
        assert_eq!(linked, (n - SEQUENCE_LINK_ITEMS..n).map(|i| i as u32).collect(), "the latest items' links carry it on");
    }

    /// The index kept event by event equals the one built from scratch, and so
    /// do the profiles it gives, over seeded random histories that mix every
    /// kind of event, repeats, out-of-order times, unknown and sensitive items;
    /// also when written over one profile kept across all of them.
    #[test]
    fn the_index_kept_event_by_event_equals_a_rebuild() {
        use rand::{Rng, SeedableRng};
        let catalog = Catalog::new(tiny_pack()).unwrap();
        let weights = RankerWeights::default();
        let kinds = [EventKind::View, EventKind::Purchase, EventKind::Dismiss, EventKind::AddToCart, EventKind::Rating];
        let mut reused = UserProfile::default();
        for seed in 0..20u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let allow_sensitive = seed % 2 == 0;
            let mut model = ModelState::default();
            let mut index = ProfileIndex::build(&model, &catalog, allow_sensitive, None);
            for seq in 0..200u64 {
                let item = ["a", "b", "c", "zzz", ""][rng.random_range(0..5)];
                let mut event = ev(kinds[rng.random_range(0..kinds.len())], item, NOW - rng.random_range(0..40 * DAY));
                event.seq = seq;
                event.rating = (event.kind == EventKind::Rating).then(|| rng.random_range(1.0..5.0));
                if item.is_empty() {
                    event.kind = EventKind::Search;
                    event.query_tokens = vec!["fruit".into()];
                }
                if let Some(applied) = model.apply(&event) {
                    index.update(&event.item_id, &applied, &catalog);
                }
                if seq % 25 == 24 {
                    assert_eq!(index, ProfileIndex::build(&model, &catalog, allow_sensitive, None), "seed {seed}, event {seq}");
                    let now = NOW + rng.random_range(-DAY..DAY);
                    let rebuilt = UserProfile::build(&model, &catalog, &weights, now, allow_sensitive);
                    assert_eq!(index.profile(&model, &catalog, &weights, now), rebuilt, "seed {seed}, event {seq}");
                    index.profile_into(&mut reused, &model, &catalog, &weights, now);
                    assert_eq!(reused, rebuilt, "seed {seed}, event {seq}, over an earlier profile");
                }
            }
        }
    }

    #[test]
    fn dismissal_turns_interest_negative() {
        let p = profile(&[ev(EventKind::View, "a", NOW), ev(EventKind::Dismiss, "a", NOW)]);
        assert!(p.interest(0).unwrap().score < 0.0);
        assert!(p.interest(0).unwrap().dismissed);
    }
}
