//! Scoring, re-ranking and explanations. A candidate's score is the sum of
//! named contributions (history neighbours, category interest, popularity), so
//! every recommendation can say which signals put it there. The history's
//! neighbour evidence is kept with the profile ([`crate::evidence`]); a
//! ranking adds what moves with every event and scores candidates only.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::catalog::{Catalog, RankerWeights};
use crate::exploration::ExplorationOrder;
use crate::link_cache::LinkCache;
use crate::model::{recent_weight, ItemInterest, UserProfile, RECENT_ITEMS};
use crate::network::{HiddenLevels, SourceRows};
use crate::online::ScoreFeatures;
use crate::repurchase::{self, RhythmBasis};

/// The kind of signal behind a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// Associated with an item in the person's history.
    RelatedToHistory,
    /// Often comes next after something the person engaged with recently.
    FollowsRecent,
    /// In a category the person engages with.
    CategoryInterest,
    /// Popular among everyone (or within one of its categories).
    Popular,
    /// Popular lately, shown to someone coming back after a break (or new).
    Trending,
    /// Rarely seen by others: a novelty boost.
    New,
    /// Chosen to explore a category the person has not shown interest in yet.
    Exploration,
    /// Bought before, and due again by the person's own rhythm (or the usual one).
    BuyAgain,
}

/// One signal that contributed to an item's score, worded as association.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// The kind of signal.
    pub kind: ReasonKind,
    /// Human-readable wording, e.g. "Because you viewed Green Tea".
    pub text: String,
    /// The history item behind a [`ReasonKind::RelatedToHistory`] reason.
    pub source_item_id: Option<String>,
    /// The category behind a category or popularity reason.
    pub category: Option<String>,
    /// How much this signal added to the score.
    pub contribution: f32,
}

/// How long a list is unless the request says otherwise; explaining an item
/// and learning from feedback score it among the candidates of such a list.
pub const DEFAULT_LIST_LEN: u32 = 10;

/// How many reasons a listed item carries, strongest first: a list shows one
/// or two, and [`crate::Engine::explain`] gives every reason for one item.
pub const LISTED_REASONS: usize = 3;

/// The most drafts an item can have (two related to its history, one of
/// every other kind but exploration, which only leads): a buffer's room.
const DRAFTS: usize = 8;

/// A reason before it is worded: what ordering reads, and what it will say.
#[derive(Debug, Clone, Copy)]
struct Draft<'c> {
    kind: ReasonKind,
    contribution: f32,
    said: Said<'c>,
}

impl<'c> Draft<'c> {
    fn new(kind: ReasonKind, contribution: f64, said: Said<'c>) -> Self {
        Draft { kind, contribution: contribution as f32, said }
    }
}

/// What a reason will say.
#[derive(Debug, Clone, Copy)]
enum Said<'c> {
    /// "Because you viewed …", naming the history item found through
    /// [`Source`], and how it is associated.
    History(Source, &'static str),
    BuyAgain,
    Category(&'c str),
    /// Popular or trending, within the item's category when it has one.
    Prior(Option<&'c str>),
    New,
    Exploration(&'c str),
}

/// Where the history item a reason names is found.
#[derive(Debug, Clone, Copy)]
enum Source {
    Known(u32),
    /// The recent item that supports it most in the sequence network.
    Network,
    /// The recent item whose embedding lies closest.
    ClosestRecent,
}

/// One ranked item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// Catalogue id.
    pub item_id: String,
    /// Display title.
    pub title: String,
    /// Final score (higher is better); comparable within one list only.
    pub score: f32,
    /// Contributing signals, strongest first; never empty. A listed item
    /// carries at most [`LISTED_REASONS`]; an explained item carries them all.
    pub reasons: Vec<Reason>,
}

/// What to rank and how.
#[derive(Debug, Clone, PartialEq)]
pub struct RankOptions {
    /// How many items to return.
    pub k: usize,
    /// Re-rank only these item indices instead of the whole catalogue.
    pub candidates: Option<Vec<u32>>,
    /// Also return items the person already bought or interacted with.
    pub include_seen: bool,
    /// 0 = pure relevance; 1 = maximal spread across categories (MMR).
    pub diversity: f32,
    /// Whether the profile may be used (personalisation consent).
    pub personalised: bool,
    /// The moment the ranking is for.
    pub now_ms: i64,
    /// Share of the list (0–0.5) given to exploration by Thompson sampling over categories.
    pub exploration: f32,
    /// Weight of a boost for items few others had (0 = none).
    pub novelty: f32,
    /// Seed of the exploration's random draws.
    pub seed: u64,
    /// What the list is for: discovery, buying again, or both.
    pub mode: RecommendMode,
}

/// What a list is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendMode {
    /// What the person may like next: items they bought stay hidden unless
    /// repeatable, and how due a repeatable item is does not count.
    Discover,
    /// Only what the person bought before, most due first ("Buy it again").
    BuyAgain,
    /// Both: repeatable items the person buys are scored by how due they
    /// are beside everything else (on a catalogue without repeatable items,
    /// the same as [`Self::Discover`]).
    #[default]
    Mixed,
}

/// Tag of items a person may buy again and again (groceries, consumables):
/// having bought one does not hide it.
pub const REPEATABLE_TAG: &str = "repeatable";

/// What feedback imposes on a ranking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Never returned (active "not interested", frequency caps).
    pub excluded: BTreeSet<u32>,
    /// Score penalties of fading "not interested".
    pub penalties: BTreeMap<u32, f64>,
    /// Categories whose items are never returned (active "not interested", caps).
    pub excluded_categories: BTreeSet<u32>,
    /// Score penalties of fading "not interested" in a category, for each of its items.
    pub category_penalties: BTreeMap<u32, f64>,
    /// Per category: (clicks, impressions), for exploration.
    pub category_feedback: BTreeMap<u32, (f64, f64)>,
}

/// History evidence for one candidate: a summed score and its strongest source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Evidence {
    pub(crate) sum: f64,
    /// The largest positive contribution, and its source ([`NO_SOURCE`] if none).
    top: f64,
    source: u32,
}

const NO_SOURCE: u32 = u32::MAX;

impl Default for Evidence {
    fn default() -> Self {
        Evidence { sum: 0.0, top: 0.0, source: NO_SOURCE }
    }
}

impl Evidence {
    fn add(&mut self, source: u32, contribution: f64) {
        self.sum += contribution;
        if contribution > self.top {
            (self.top, self.source) = (contribution, source);
        }
    }

    /// The strongest positive source and its contribution.
    fn top_source(&self) -> Option<(u32, f64)> {
        (self.source != NO_SOURCE).then_some((self.source, self.top))
    }
}

/// At least how many items with the strongest history evidence become
/// candidates ([`evidence_candidates`]).
pub const MIN_EVIDENCE_CANDIDATES: usize = 128;
/// How many of the person's strongest categories contribute their heads
/// (together as many items as the list has places).
pub const CATEGORY_CANDIDATES: usize = 4;

/// Each history item's share of one item's neighbour evidence, and of its
/// transition evidence, as `(source, share)` pairs.
#[cfg(feature = "debug-api")]
pub(crate) type EvidenceShares = (Vec<(u32, f64)>, Vec<(u32, f64)>);

/// A scored candidate as ordering reads it; the parts of the few listed are
/// computed again (exactly as they were) rather than kept for every candidate.
#[derive(Debug, Clone, Copy)]
struct Scored {
    /// The total score and the index as one integer that orders as the
    /// totals do (by `f64::total_cmp`), then by lower index: selecting and
    /// sorting the head compares integers alone.
    key: u128,
    /// How due it is to be bought again (what "buy it again" orders by first).
    due: f64,
}

impl Scored {
    fn new(index: u32, total: f64, due: f64) -> Self {
        let bits = total.to_bits();
        let ordered = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
        Scored { key: (u128::from(ordered) << 32) | u128::from(u32::MAX - index), due }
    }

    fn index(&self) -> u32 {
        u32::MAX - self.key as u32
    }

    fn total(&self) -> f64 {
        let ordered = (self.key >> 32) as u64;
        f64::from_bits(if ordered >> 63 == 1 { ordered & !(1 << 63) } else { !ordered })
    }
}

/// Buffers an engine keeps across rankings: the evidence gathered per request
/// (valid where a bit says so), candidate marks (reset by a generation stamp,
/// not cleared), the candidate list and their scores, and the latest items'
/// links decoded. Once grown, a ranking reuses them instead of allocating in
/// proportion to the catalogue or the history.
#[derive(Debug, Default)]
pub struct Scratch {
    stamp: u32,
    /// Per catalogue item, the sequence term of its neighbour evidence,
    /// current when its bit in `touched_bits` is set.
    neighbour: Vec<f64>,
    /// Transition evidence of the few items that follow the recent ones, in
    /// the order they were first reached.
    sequence: Vec<(u32, Evidence)>,
    /// One bit per catalogue item: set for the items in `sequence`, whose
    /// place there `sequence_at` then holds (so no lookup searches).
    in_sequence: Vec<u64>,
    /// Per catalogue item in `sequence`, its place there.
    sequence_at: Vec<u32>,
    touched: Vec<u32>,
    /// One bit per catalogue item: set for the items in `touched`.
    touched_bits: Vec<u64>,
    marks: Vec<u32>,
    /// Per catalogue item, its place among the profile's items when it is
    /// one of them (what else a slot holds is stale, and checked against).
    profile_at: Vec<u32>,
    candidates: Vec<u32>,
    logits: Vec<f64>,
    strongest: StrongestKeys,
    scored: Vec<Scored>,
    /// The latest items' neighbour links and the very latest items' transitions, decoded.
    neighbour_links: LinkCache,
    transition_links: LinkCache,
}

impl Scratch {
    /// Starts a ranking over `n` items: every slot and mark becomes stale.
    fn begin(&mut self, n: usize) {
        if self.neighbour.len() != n {
            self.in_sequence = vec![0; n.div_ceil(64)];
            self.sequence_at = vec![0; n];
            self.touched_bits = vec![0; n.div_ceil(64)];
            self.neighbour = vec![0.0; n];
            self.marks = vec![0; n];
            self.profile_at = vec![0; n];
            self.stamp = 0;
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.stamp = 1;
        }
        for &i in &self.touched {
            self.touched_bits[i as usize / 64] = 0;
        }
        self.touched.clear();
        for &(i, _) in &self.sequence {
            self.in_sequence[i as usize / 64] = 0;
        }
        self.sequence.clear();
        self.candidates.clear();
        self.logits.clear();
        self.scored.clear();
    }

    /// The sequence term of item `i`'s neighbour evidence, made current (0 if it was stale).
    fn neighbour(&mut self, i: u32) -> &mut f64 {
        if !self.is_touched(i) {
            self.neighbour[i as usize] = 0.0;
            self.touched.push(i);
            self.touched_bits[i as usize / 64] |= 1 << (i % 64);
        }
        &mut self.neighbour[i as usize]
    }

    /// Item `i`'s transition evidence, while it is being gathered.
    fn sequence(&mut self, i: u32) -> &mut Evidence {
        let at = if self.is_in_sequence(i) {
            self.sequence_at[i as usize] as usize
        } else {
            // Every item with evidence is touched, whichever kind it has.
            self.neighbour(i);
            self.in_sequence[i as usize / 64] |= 1 << (i % 64);
            self.sequence_at[i as usize] = self.sequence.len() as u32;
            self.sequence.push((i, Evidence::default()));
            self.sequence.len() - 1
        };
        &mut self.sequence[at].1
    }

    /// Item `i`'s evidence gathered in this ranking: the sequence term of its
    /// neighbour evidence, and its transition evidence.
    #[inline]
    fn evidence(&self, i: u32) -> (Evidence, Evidence) {
        let neighbour = Evidence { sum: if self.is_touched(i) { self.neighbour[i as usize] } else { 0.0 }, ..Evidence::default() };
        let sequence = match self.is_in_sequence(i) {
            true => self.sequence[self.sequence_at[i as usize] as usize].1,
            false => Evidence::default(),
        };
        (neighbour, sequence)
    }

    /// Whether item `i` has transition evidence gathered in this ranking.
    fn is_in_sequence(&self, i: u32) -> bool {
        self.in_sequence.get(i as usize / 64).is_some_and(|bits| bits & (1 << (i % 64)) != 0)
    }

    /// Notes where each of the profile's `items` (in item order) is among them.
    fn note_profile_items(&mut self, items: &[(u32, ItemInterest)]) {
        for (at, &(i, _)) in items.iter().enumerate() {
            if let Some(slot) = self.profile_at.get_mut(i as usize) {
                *slot = at as u32;
            }
        }
    }

    /// Where item `i` is among the profile's `items`, if it is one of them.
    #[inline]
    fn profile_place(&self, items: &[(u32, ItemInterest)], i: u32) -> Option<usize> {
        let at = *self.profile_at.get(i as usize)? as usize;
        items.get(at).is_some_and(|&(j, _)| j == i).then_some(at)
    }

    /// Whether item `i` has evidence gathered in this ranking.
    fn is_touched(&self, i: u32) -> bool {
        self.touched_bits.get(i as usize / 64).is_some_and(|bits| bits & (1 << (i % 64)) != 0)
    }

    /// Adds `i` to the candidates once.
    fn candidate(&mut self, i: u32) {
        if let Some(mark) = self.marks.get_mut(i as usize) {
            if *mark != self.stamp {
                *mark = self.stamp;
                self.candidates.push(i);
            }
        }
    }

    pub(crate) fn is_candidate(&self, i: u32) -> bool {
        self.marks.get(i as usize).is_some_and(|&m| m == self.stamp)
    }
}

/// Everything personal that scoring reads beside the evidence, computed once per ranking.
#[derive(Default)]
pub(crate) struct Signals {
    /// The sequence network's hidden state for the person (empty without one).
    hidden: HiddenLevels,
    /// ln Σ exp(logit) over the candidates, and ln n: a logit minus the first plus
    /// the second is the network's log-odds against a uniform pick.
    log_sum: f64,
    ln_n: f64,
    /// The person's taste over the pack's embeddings (empty without them).
    taste: Vec<f32>,
}

/// Per-candidate score parts before re-ranking.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScoreParts {
    pub(crate) neighbour: Evidence,
    pub(crate) sequence: Evidence,
    /// The sequence network's log-odds of coming next (0 without a network).
    pub(crate) network: f64,
    pub(crate) category: f64,
    pub(crate) popularity: f64,
    /// What is popular now, times the share of its weight in force for this person.
    pub(crate) trend: f64,
    /// The cosine between the item's embedding and the person's taste.
    pub(crate) embedding: f64,
    pub(crate) novelty: f64,
    pub(crate) penalty: f64,
    /// How due the item is to be bought again (0 unless the person bought it
    /// and the list may count that).
    pub(crate) repurchase: f64,
}

impl ScoreParts {
    /// The parts the online ranker weighs, in [`crate::online::FEATURE_NAMES`] order.
    fn features(&self) -> ScoreFeatures {
        [self.neighbour.sum, self.sequence.sum, self.network, self.category, self.popularity]
    }

    /// Each part with its weight, in the order [`Self::total`] sums them
    /// (novelty counts once, a penalty against the score).
    #[cfg(feature = "debug-api")]
    pub(crate) fn weighted(&self, w: &RankerWeights) -> [(&'static str, f64, f64); 10] {
        [
            ("neighbour", self.neighbour.sum, f64::from(w.neighbour)),
            ("transition", self.sequence.sum, f64::from(w.transition)),
            ("network", self.network, f64::from(w.network)),
            ("category", self.category, f64::from(w.category)),
            ("popularity", self.popularity, f64::from(w.popularity)),
            ("trend", self.trend, f64::from(w.trend)),
            ("embedding", self.embedding, f64::from(w.embedding)),
            ("repurchase", self.repurchase, f64::from(w.repurchase)),
            ("novelty", self.novelty, 1.0),
            ("penalty", self.penalty, -1.0),
        ]
    }

    /// The score: the sum of the weighted parts (written out, not summed over
    /// [`Self::weighted`]: this is the hot path, and the mobile library's size).
    pub(crate) fn total(&self, w: &RankerWeights) -> f64 {
        f64::from(w.neighbour) * self.neighbour.sum
            + f64::from(w.transition) * self.sequence.sum
            + f64::from(w.network) * self.network
            + f64::from(w.category) * self.category
            + f64::from(w.popularity) * self.popularity
            + f64::from(w.trend) * self.trend
            + f64::from(w.embedding) * self.embedding
            + f64::from(w.repurchase) * self.repurchase
            + self.novelty
            - self.penalty
    }
}

/// How a listed item got its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// By its score, `relevance_rank` (from 0) among the scored items before
    /// diversity re-ranking.
    Relevance { relevance_rank: usize },
    /// Chosen to explore `category`.
    Exploration { category: u32 },
}

/// One item of a ranked list, before it is worded.
pub(crate) struct Listed {
    pub(crate) index: u32,
    pub(crate) parts: ScoreParts,
    pub(crate) total: f64,
    pub(crate) placement: Placement,
}

/// Which items a ranking scores.
#[derive(Clone, Copy)]
struct Pool<'x> {
    /// The length of the list asked for (0 for one item's score).
    k: usize,
    /// Only these (the app's candidates).
    explicit: Option<&'x [u32]>,
    /// Also these (items being explained or learned from).
    extra: &'x [u32],
    /// Whether the person's own items may be listed.
    include_seen: bool,
    mode: RecommendMode,
}

/// Ranks items for one person.
pub struct Ranker<'a> {
    catalog: &'a Catalog,
    profile: &'a UserProfile,
    weights: &'a RankerWeights,
    filters: &'a Filters,
    full_scan: bool,
    /// The history rows the network's source searches read, once the first needs them.
    source_rows: OnceCell<SourceRows>,
}

impl<'a> Ranker<'a> {
    /// A ranker over `catalog` for `profile` under `filters`, scoring the
    /// candidates that can reach a list.
    pub fn new(catalog: &'a Catalog, profile: &'a UserProfile, weights: &'a RankerWeights, filters: &'a Filters) -> Self {
        Ranker { catalog, profile, weights, filters, full_scan: false, source_rows: OnceCell::new() }
    }

    /// Scores every catalogue item instead of the candidates (the reference ranking).
    pub fn with_full_scan(self, full_scan: bool) -> Self {
        Ranker { full_scan, ..self }
    }

    /// The top `k` items with reasons.
    pub fn rank(&self, options: &RankOptions, s: &mut Scratch) -> Vec<Recommendation> {
        let (listed, _) = self.rank_listed(options, s);
        let mut drafts = Vec::with_capacity(DRAFTS);
        listed.iter().map(|l| self.listed_recommendation(l, options.mode, LISTED_REASONS, &mut drafts)).collect()
    }

    /// The top `k` items with their score parts, and what scoring read beside
    /// the evidence (for scoring further items against the same ranking).
    pub(crate) fn rank_listed(&self, options: &RankOptions, s: &mut Scratch) -> (Vec<Listed>, Signals) {
        let pool = Pool { k: options.k, explicit: options.candidates.as_deref(), extra: &[], include_seen: options.include_seen, mode: options.mode };
        let signals = self.prepare(pool, options.personalised, s);
        let mut scored = std::mem::take(&mut s.scored);
        self.score_candidates(0, options, &signals, s, &mut scored);
        let slots = explore_slots(options);
        if scored.len() < options.k - slots && options.candidates.is_none() && options.mode != RecommendMode::BuyAgain {
            // Too few candidates were eligible: every other item becomes one (rare,
            // e.g. a small catalogue mostly filtered out), so the list is short only
            // when the catalogue is.
            let first_new = s.candidates.len();
            (0..self.catalog.len() as u32).for_each(|i| s.candidate(i));
            self.score_candidates(first_new, options, &signals, s, &mut scored);
        }
        // Only the head that selection and re-ranking can reach needs an order.
        let due_first = options.mode == RecommendMode::BuyAgain;
        let order = |a: &Scored, b: &Scored| {
            let due = if due_first { b.due.total_cmp(&a.due) } else { std::cmp::Ordering::Equal };
            due.then(b.key.cmp(&a.key))
        };
        let diversity = if due_first { 0.0 } else { options.diversity };
        // Without diversity the list is the first k (exploration's unfilled places included).
        let head = if diversity.clamp(0.0, 1.0) == 0.0 { options.k } else { mmr_pool_len(options.k - slots) }.min(scored.len());
        if head < scored.len() {
            scored.select_nth_unstable_by(head, order);
            scored.truncate(head);
        }
        scored.sort_unstable_by(order);
        let picked = mmr(self.catalog, &scored, options.k - slots, diversity);
        let listed_at = |n: usize, placement| {
            let (index, total) = (scored[n].index(), scored[n].total());
            Listed { index, parts: self.scored_parts(index, None, &signals, s, options), total, placement }
        };
        let mut list: Vec<Listed> = picked.iter().map(|&n| listed_at(n, Placement::Relevance { relevance_rank: n })).collect();
        let taken: BTreeSet<u32> = picked.iter().map(|&n| scored[n].index()).collect();
        let explored = self.explore(&taken, slots, options, &signals, s);
        // Exploration slots nothing could fill (e.g. a catalogue without
        // categories) go to the next best items: a list is short only when
        // fewer items are eligible than asked for.
        let unfilled = slots - explored.len();
        let spare = (0..scored.len()).filter(|n| !picked.contains(n) && explored.iter().all(|l| l.index != scored[*n].index()));
        let fills: Vec<usize> = spare.take(unfilled).collect();
        list.extend(fills.iter().map(|&n| listed_at(n, Placement::Relevance { relevance_rank: n })));
        list.extend(explored);
        s.scored = scored;
        if options.personalised {
            s.note_profile_items(&self.profile.items);
            list.iter_mut().for_each(|l| self.strongest_source(l.index, &mut l.parts.neighbour, s));
        }
        (list, signals)
    }

    /// A listed item as the host sees it, with its `max` strongest reasons;
    /// explored items, and every item of a "buy it again" list, lead with why
    /// they are there.
    fn listed_recommendation(&self, listed: &Listed, mode: RecommendMode, max: usize, drafts: &mut Vec<Draft<'a>>) -> Recommendation {
        let lead = match (listed.placement, mode) {
            (Placement::Exploration { category }, _) => Some(Draft::new(ReasonKind::Exploration, 0.0, Said::Exploration(&self.catalog.category(category).name))),
            (_, RecommendMode::BuyAgain) => Some(self.buy_again_draft(&listed.parts)),
            _ => None,
        };
        self.worded(listed.index, &listed.parts, listed.total, lead, max, drafts)
    }

    /// Scores the eligible candidates from position `from` on into `scored`.
    fn score_candidates(&self, from: usize, options: &RankOptions, signals: &Signals, s: &Scratch, scored: &mut Vec<Scored>) {
        for n in from..s.candidates.len() {
            let i = s.candidates[n];
            if self.is_eligible(i, options) {
                let parts = self.scored_parts(i, s.logits.get(n).copied(), signals, s, options);
                scored.push(Scored::new(i, parts.total(self.weights), parts.repurchase));
            }
        }
    }

    /// An item's parts under `options` (with novelty); `logit` is its network
    /// logit when already computed.
    pub(crate) fn scored_parts(&self, i: u32, logit: Option<f64>, signals: &Signals, s: &Scratch, options: &RankOptions) -> ScoreParts {
        let mut parts = self.parts(i, logit, signals, s, options.personalised, options.mode);
        parts.novelty = f64::from(options.novelty) * (1.0 - parts.popularity);
        parts
    }

    /// Gathers the person's history evidence and the items to score, and
    /// computes what scoring reads beside them.
    fn prepare(&self, pool: Pool<'_>, personalised: bool, s: &mut Scratch) -> Signals {
        s.begin(self.catalog.len());
        let mut signals = Signals::default();
        if personalised {
            self.gather_evidence(s);
            if let Some(e) = &self.catalog.embeddings() {
                if self.weights.embedding != 0.0 {
                    signals.taste = e.taste(&self.profile.recent);
                }
            }
        }
        self.gather_candidates(pool, personalised, s);
        if let Some(net) = &self.catalog.network() {
            if self.network_in_use(personalised) {
                signals.hidden = net.hidden_state(&self.profile.recent);
                s.logits.extend(s.candidates.iter().map(|&j| net.logit(&signals.hidden, j)));
                signals.log_sum = crate::network::log_sum_exp(&s.logits);
                signals.ln_n = (self.catalog.len() as f64).ln();
            }
        }
        signals
    }

    /// Whether the sequence network scores this ranking's candidates.
    fn network_in_use(&self, personalised: bool) -> bool {
        personalised && self.weights.network != 0.0 && !self.profile.recent.is_empty() && self.catalog.network().is_some()
    }

    /// Adds to the neighbour evidence kept with the profile its sequence term
    /// (the latest items' links), and gathers the transition weight from the
    /// most recent items (halving per step back).
    fn gather_evidence(&self, s: &mut Scratch) {
        let mut cache = std::mem::take(&mut s.neighbour_links);
        for &(source, weight) in &self.profile.sequence_sources {
            for &(target, q) in cache.links(self.catalog, source, |out| out.extend(self.catalog.neighbours(source).quantised())) {
                *s.neighbour(target) += weight * f64::from(q);
            }
        }
        s.neighbour_links = cache;
        let mut cache = std::mem::take(&mut s.transition_links);
        for (age, &source) in self.profile.recent.iter().take(RECENT_ITEMS).enumerate() {
            let transitions = self.catalog.transitions(source);
            let unit = transitions.scaled_unit(recent_weight(age));
            for &(target, q) in cache.links(self.catalog, source, |out| out.extend(transitions.quantised())) {
                s.sequence(target).add(source, unit * f64::from(q));
            }
        }
        s.transition_links = cache;
    }

    /// Item `i`'s neighbour and transition evidence, before the ranker's
    /// weights (the neighbour evidence without its strongest source, which
    /// [`Self::strongest_source`] finds for the few items that need it).
    #[inline]
    fn evidence(&self, i: u32, s: &Scratch) -> (Evidence, Evidence) {
        let (mut neighbour, sequence) = s.evidence(i);
        neighbour.sum += self.profile.evidence.total(i);
        (neighbour, sequence)
    }

    /// The history item that adds most to `target`'s neighbour evidence,
    /// recorded in its [`Evidence`]: only the items that link to it are looked
    /// at, found through the places [`Scratch::note_profile_items`] noted.
    fn strongest_source(&self, target: u32, evidence: &mut Evidence, s: &Scratch) {
        for (source, q) in self.profile.evidence.sources_of(target) {
            let Some(at) = s.profile_place(&self.profile.items, source) else {
                continue;
            };
            let contribution = self.profile.source_weights[at] * f64::from(q);
            if contribution > evidence.top || (contribution == evidence.top && contribution > 0.0 && source < evidence.source) {
                (evidence.top, evidence.source) = (contribution, source);
            }
        }
    }

    /// Each history item's share of item `i`'s neighbour evidence and of its
    /// transition evidence, before the ranker's weights (the debug path: it
    /// walks every source's links for one target).
    #[cfg(feature = "debug-api")]
    pub(crate) fn evidence_shares(&self, i: u32) -> EvidenceShares {
        let neighbour = self
            .profile
            .items
            .iter()
            .zip(&self.profile.source_weights)
            .filter_map(|(&(source, _), &weight)| {
                let q = self.catalog.neighbours(source).quantised().find(|&(target, _)| target == i)?.1;
                Some((source, weight * f64::from(q)))
            })
            .collect();
        let transition = self
            .profile
            .recent
            .iter()
            .take(RECENT_ITEMS)
            .enumerate()
            .filter_map(|(age, &source)| {
                let contribution = self.catalog.transitions(source).scaled(recent_weight(age)).find(|&(target, _)| target == i)?.1;
                Some((source, contribution))
            })
            .collect();
        (neighbour, transition)
    }

    /// The items a ranking scores: the app's candidates if it gave any; every
    /// item under a full scan; otherwise those with the strongest history
    /// evidence, every successor of the recent items, the heads of the person's
    /// strongest categories and what is most popular overall (as many as the
    /// list has places, [`category_head`]), what is most popular now, and (when
    /// seen items may be listed) the recent items themselves.
    fn gather_candidates(&self, pool: Pool<'_>, personalised: bool, s: &mut Scratch) {
        let n = self.catalog.len() as u32;
        match pool.explicit {
            Some(explicit) => explicit.iter().filter(|&&i| i < n).for_each(|&i| s.candidate(i)),
            None if pool.mode == RecommendMode::BuyAgain => self.profile.repurchase.iter().for_each(|&(i, _)| s.candidate(i)),
            None if self.full_scan => (0..n).for_each(|i| s.candidate(i)),
            None => {
                let w = self.weights;
                let mut strongest = std::mem::take(&mut s.strongest);
                strongest.clear(evidence_candidates(pool.k).min(n as usize));
                for at in 0..s.sequence.len() {
                    let (i, sequence) = s.sequence[at];
                    if sequence.source != NO_SOURCE {
                        s.candidate(i);
                    }
                }
                for &i in &s.touched {
                    let (neighbour, sequence) = self.evidence(i, s);
                    let strength = f64::from(w.neighbour) * neighbour.sum + f64::from(w.transition) * sequence.sum;
                    if StrongestKeys::above(strength, strongest.bar()) {
                        strongest.offer(strength_key(strength, i));
                    }
                }
                // Items only the kept sums point to: no sequence or transition term.
                if personalised {
                    self.profile.evidence.offer_linked(f64::from(w.neighbour), |i| s.is_touched(i), &mut strongest);
                }
                // In no particular order: nothing scoring computes depends on it
                // (the network's softmax sums exactly, see `log_sum_exp`).
                strongest.finish().iter().for_each(|&key| s.candidate(u32::MAX - key as u32));
                s.strongest = strongest;
                for c in self.profile.strongest_categories(CATEGORY_CANDIDATES) {
                    self.catalog.category_items(c).iter().take(category_head(pool.k)).for_each(|&i| s.candidate(i));
                }
                self.catalog.popular_head().iter().take(pool.k).chain(self.catalog.trending_head()).for_each(|&i| s.candidate(i));
                if pool.include_seen {
                    self.profile.recent.iter().for_each(|&i| s.candidate(i));
                }
                if pool.mode == RecommendMode::Mixed {
                    let repeatable = self.profile.repurchase.iter().filter(|(i, _)| self.catalog.is_repeatable(*i));
                    repeatable.for_each(|&(i, _)| s.candidate(i));
                }
            }
        }
        pool.extra.iter().filter(|&&i| i < n).for_each(|&i| s.candidate(i));
    }

    /// Thompson sampling over categories ([`ExplorationOrder`]): categories not
    /// yet in the list first, best draw first, each contributing its most
    /// popular eligible item (among the app's candidates, if it gave any).
    fn explore(&self, taken: &BTreeSet<u32>, slots: usize, options: &RankOptions, signals: &Signals, s: &Scratch) -> Vec<Listed> {
        if slots == 0 {
            return Vec::new();
        }
        let in_list: BTreeSet<u32> = taken.iter().flat_map(|&i| self.catalog.item_categories(i).iter().copied()).collect();
        let mut out: Vec<Listed> = Vec::new();
        let mut chosen: BTreeSet<u32> = BTreeSet::new();
        let mut order = ExplorationOrder::new(self.catalog, &self.filters.category_feedback, &in_list, options.seed);
        while out.len() < slots {
            let Some(category) = order.next() else { break };
            let best = self.catalog.category_items(category).iter().copied().find(|&i| {
                !taken.contains(&i)
                    && !chosen.contains(&i)
                    && !self.catalog.is_sensitive(i)
                    && (options.candidates.is_none() || s.is_candidate(i))
                    && self.is_eligible(i, options)
            });
            if let Some(i) = best {
                chosen.insert(i);
                let parts = self.scored_parts(i, None, signals, s, options);
                let total = parts.total(self.weights);
                out.push(Listed { index: i, parts, total, placement: Placement::Exploration { category } });
            }
        }
        out
    }

    /// The score breakdown for any one item, eligible or not, scored among
    /// the candidates of a list of [`DEFAULT_LIST_LEN`].
    pub fn explain(&self, index: u32, personalised: bool, s: &mut Scratch) -> Recommendation {
        let pool = Pool { k: DEFAULT_LIST_LEN as usize, explicit: None, extra: &[index], include_seen: true, mode: RecommendMode::Mixed };
        let signals = self.prepare(pool, personalised, s);
        let mut parts = self.parts(index, None, &signals, s, personalised, RecommendMode::Mixed);
        if personalised {
            s.note_profile_items(&self.profile.items);
            self.strongest_source(index, &mut parts.neighbour, s);
        }
        let total = parts.total(self.weights);
        self.recommendation(index, &parts, total)
    }

    #[inline]
    pub(crate) fn is_eligible(&self, i: u32, options: &RankOptions) -> bool {
        if (i as usize) >= self.catalog.len() || !self.catalog.is_available(i, options.now_ms) || self.filters.excluded.contains(&i) {
            return false;
        }
        if !self.filters.excluded_categories.is_empty() && self.catalog.item_categories(i).iter().any(|c| self.filters.excluded_categories.contains(c)) {
            return false;
        }
        if options.mode == RecommendMode::BuyAgain {
            // Only what the person bought (nothing without consent to use it).
            return options.personalised && self.profile.due(i).is_some() && !self.profile.interest(i).is_some_and(|x| x.dismissed);
        }
        if !options.personalised {
            return true;
        }
        let interest = self.profile.interest(i);
        if interest.is_some_and(|x| x.dismissed) {
            return false;
        }
        let repeatable = self.catalog.is_repeatable(i);
        options.include_seen || repeatable || interest.is_none()
    }

    /// Each of `items`' personalised score parts, as the online ranker learns from them.
    pub fn features(&self, items: &[u32], s: &mut Scratch) -> Vec<ScoreFeatures> {
        let pool = Pool { k: DEFAULT_LIST_LEN as usize, explicit: None, extra: items, include_seen: true, mode: RecommendMode::Mixed };
        let signals = self.prepare(pool, true, s);
        items.iter().map(|&i| self.parts(i, None, &signals, s, true, RecommendMode::Mixed).features()).collect()
    }

    fn parts(&self, i: u32, logit: Option<f64>, signals: &Signals, s: &Scratch, personalised: bool, mode: RecommendMode) -> ScoreParts {
        let (neighbour, sequence) = match personalised {
            true => self.evidence(i, s),
            false => Default::default(),
        };
        let network = match &self.catalog.network() {
            Some(net) if !signals.hidden.is_empty() => logit.unwrap_or_else(|| net.logit(&signals.hidden, i)) - signals.log_sum + signals.ln_n,
            _ => 0.0,
        };
        let item_penalty = self.filters.penalties.get(&i).copied().unwrap_or(0.0);
        let category_penalty: f64 = match self.filters.category_penalties.is_empty() {
            true => 0.0,
            false => self.catalog.item_categories(i).iter().filter_map(|c| self.filters.category_penalties.get(c)).sum(),
        };
        ScoreParts {
            neighbour,
            sequence,
            network,
            category: if personalised { self.profile.category_affinity(self.catalog, i) } else { 0.0 },
            popularity: f64::from(self.catalog.popularity(i)),
            trend: f64::from(self.catalog.trend(i)) * self.profile.trend_share,
            embedding: match &self.catalog.embeddings() {
                Some(e) if !signals.taste.is_empty() => e.cosine(i, &signals.taste),
                _ => 0.0,
            },
            novelty: 0.0,
            penalty: item_penalty + category_penalty,
            repurchase: match personalised && self.counts_repurchase(i, mode) {
                true => self.profile.due(i).map_or(0.0, |due| due.score),
                false => 0.0,
            },
        }
    }

    /// Whether how due item `i` is counts in a list for `mode`: for repeatable
    /// items beside discovery, for everything bought in "buy it again".
    fn counts_repurchase(&self, i: u32, mode: RecommendMode) -> bool {
        match mode {
            RecommendMode::Discover => false,
            RecommendMode::BuyAgain => true,
            RecommendMode::Mixed => self.catalog.is_repeatable(i),
        }
    }

    /// Item `i` with every reason for its score, strongest first.
    pub(crate) fn recommendation(&self, i: u32, parts: &ScoreParts, total: f64) -> Recommendation {
        self.worded(i, parts, total, None, usize::MAX, &mut Vec::with_capacity(DRAFTS))
    }

    /// Item `i` with `lead` (when it has one) and then its strongest reasons,
    /// `max` in all. Each reason is drafted first (kind and contribution) and
    /// only those listed are worded: the history item behind a network or
    /// embedding reason is looked for, and the text written, for those alone.
    /// `drafts` is a buffer, reused across a list's items.
    fn worded(&self, i: u32, parts: &ScoreParts, total: f64, lead: Option<Draft<'a>>, max: usize, drafts: &mut Vec<Draft<'a>>) -> Recommendation {
        self.draft(i, parts, drafts);
        // The lead takes the place of the same reason among the others.
        let led_by_draft = lead.is_some_and(|l| drafts.iter().any(|d| d.kind == l.kind));
        drafts.retain(|d| lead.is_none_or(|l| d.kind != l.kind));
        let mut reasons = Vec::with_capacity(max.min(drafts.len() + 2));
        reasons.extend(lead.and_then(|l| self.word(i, &l)));
        let listed_before = reasons.len();
        for draft in drafts.iter() {
            if reasons.len() >= max {
                break;
            }
            reasons.extend(self.word(i, draft));
        }
        if reasons.len() == listed_before && !led_by_draft && reasons.len() < max {
            // Nothing else to say: it is there as something new.
            reasons.extend(self.word(i, &Draft::new(ReasonKind::New, parts.novelty, Said::New)));
        }
        Recommendation { item_id: self.catalog.id(i).to_string(), title: self.catalog.title(i).to_string(), score: total as f32, reasons }
    }

    /// Every signal behind item `i`'s score that a reason could name, into
    /// `drafts`, strongest first (ties by kind, in declaration order), none worded yet.
    fn draft(&self, i: u32, parts: &ScoreParts, drafts: &mut Vec<Draft<'a>>) {
        let w = self.weights;
        drafts.clear();
        if let Some((source, contribution)) = parts.neighbour.top_source() {
            drafts.push(Draft::new(ReasonKind::RelatedToHistory, f64::from(w.neighbour) * contribution, Said::History(Source::Known(source), "often chosen together")));
        }
        let network_part = f64::from(w.network) * parts.network.max(0.0);
        match parts.sequence.top_source() {
            Some((source, contribution)) => {
                let contribution = f64::from(w.transition) * contribution + network_part;
                drafts.push(Draft::new(ReasonKind::FollowsRecent, contribution, Said::History(Source::Known(source), "often chosen next")));
            }
            None if network_part > 0.0 => drafts.push(Draft::new(ReasonKind::FollowsRecent, network_part, Said::History(Source::Network, "often chosen next"))),
            None => {}
        }
        let embedding_part = f64::from(w.embedding) * parts.embedding;
        if embedding_part > 0.0 {
            drafts.push(Draft::new(ReasonKind::RelatedToHistory, embedding_part, Said::History(Source::ClosestRecent, "liked by the same people")));
        }
        if parts.repurchase > 0.0 {
            drafts.push(self.buy_again_draft(parts));
        }
        let category = self.display_category(i);
        if let Some(name) = category.filter(|_| parts.category > 0.0) {
            drafts.push(Draft::new(ReasonKind::CategoryInterest, f64::from(w.category) * parts.category, Said::Category(name)));
        }
        for (kind, part, weight) in [(ReasonKind::Popular, parts.popularity, w.popularity), (ReasonKind::Trending, parts.trend, w.trend)] {
            if part > 0.0 {
                drafts.push(Draft::new(kind, f64::from(weight) * part, Said::Prior(category)));
            }
        }
        if parts.novelty > 0.0 {
            drafts.push(Draft::new(ReasonKind::New, parts.novelty, Said::New));
        }
        // Stable: equal drafts keep the order above.
        drafts.sort_by(|a, b| b.contribution.total_cmp(&a.contribution).then((a.kind as u8).cmp(&(b.kind as u8))));
    }

    /// "Buy it again", with what how due the item is adds to its score.
    fn buy_again_draft(&self, parts: &ScoreParts) -> Draft<'a> {
        Draft::new(ReasonKind::BuyAgain, f64::from(self.weights.repurchase) * parts.repurchase, Said::BuyAgain)
    }

    /// The reason `draft` words for item `i`; none when the history item
    /// behind it is sensitive or cannot be found.
    fn word(&self, i: u32, draft: &Draft<'a>) -> Option<Reason> {
        let reason = |text: String, source_item_id: Option<String>, category: Option<&str>| Reason {
            kind: draft.kind,
            text,
            source_item_id,
            category: category.map(str::to_string),
            contribution: draft.contribution,
        };
        Some(match draft.said {
            Said::History(source, association) => {
                let source = match source {
                    Source::Known(source) => source,
                    Source::Network => self.network_source(i)?,
                    Source::ClosestRecent => self.closest_recent(i)?,
                };
                if self.catalog.is_sensitive(source) {
                    return None;
                }
                let verb = self.profile.interest(source).map_or("viewed", |s| s.strongest_kind.verb());
                let text = words(&["Because you ", verb, " ", self.catalog.title(source), " (", association, ")"]);
                reason(text, Some(self.catalog.id(source).to_string()), None)
            }
            Said::BuyAgain => return self.buy_again_reason(i, f64::from(draft.contribution)),
            Said::Category(name) => reason(words(&["You often look at ", name]), None, Some(name)),
            Said::Prior(category) => {
                let (word, fallback) = if draft.kind == ReasonKind::Trending { ("Trending", "now") } else { ("Popular", "with everyone") };
                let text = category.map_or_else(|| words(&[word, " ", fallback]), |name| words(&[word, " in ", name]));
                reason(text, None, category)
            }
            Said::New => reason("Something new for you".to_string(), None, None),
            Said::Exploration(name) => reason(words(&["Something different to explore: popular in ", name]), None, Some(name)),
        })
    }

    /// "You usually buy this every 7 days — last bought 6 days ago", for an item the person bought.
    fn buy_again_reason(&self, i: u32, contribution: f64) -> Option<Reason> {
        let due = self.profile.due(i)?;
        let (every, ago) = (repurchase::every(due.interval_ms), repurchase::ago(due.since_ms));
        let text = match due.basis {
            RhythmBasis::Own => format!("You usually buy this {every} — last bought {ago}"),
            RhythmBasis::Usual => format!("You bought this {ago} — people usually buy it again {every}"),
            RhythmBasis::Unknown => format!("You bought this {ago}"),
        };
        Some(Reason { kind: ReasonKind::BuyAgain, text, source_item_id: None, category: None, contribution: contribution as f32 })
    }

    /// The recent item, other than `i` and not sensitive, whose embedding lies closest to `i`'s.
    pub(crate) fn closest_recent(&self, i: u32) -> Option<u32> {
        let embeddings = self.catalog.embeddings()?;
        let target = embeddings.taste(&[i]);
        self.profile
            .recent
            .iter()
            .copied()
            .filter(|&r| r != i && !self.catalog.is_sensitive(r))
            .map(|r| (r, embeddings.cosine(r, &target)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(r, _)| r)
    }

    /// The recent item that most supports `i` in the sequence network.
    pub(crate) fn network_source(&self, i: u32) -> Option<u32> {
        let net = self.catalog.network()?;
        net.strongest_source(self.source_rows.get_or_init(|| net.source_rows(&self.profile.recent)), i)
    }

    /// The first non-sensitive category of an item; sensitive names never appear in reasons.
    fn display_category(&self, i: u32) -> Option<&'a str> {
        self.catalog.item_categories(i).iter().map(|&c| self.catalog.category(c)).find(|c| c.sensitive.is_none()).map(|c| c.name.as_str())
    }
}

/// The wording of a reason: `parts` joined in one allocation of the right
/// size (`format!` grows its string as it goes; `concat` brings 2 KB of
/// separator-specialised code to the mobile library).
fn words(parts: &[&str]) -> String {
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|p| text.push_str(p));
    text
}

/// How many of the `k` places go to exploration (none in "buy it again").
fn explore_slots(options: &RankOptions) -> usize {
    if options.mode == RecommendMode::BuyAgain {
        return 0;
    }
    let share = f64::from(options.exploration.clamp(0.0, 0.5));
    ((options.k as f64 * share).round() as usize).min(options.k)
}

/// How deep MMR re-ranks for `k` places: re-ranking deeper than a few times k
/// never changes the outcome in practice.
fn mmr_pool_len(k: usize) -> usize {
    k.saturating_mul(5).max(30)
}

/// How many items with the strongest history evidence become candidates for
/// a list of `k`: as many as re-ranking may look at (seen items counted), and
/// at least [`MIN_EVIDENCE_CANDIDATES`]. Weaker evidence seldom earns a place: on ML-1M
/// a list of 20 drawn from 256 hit no more often than from 128 (HR@10 the same
/// with the headline model, lower with an EASE pack), and took 3–4 µs longer.
fn evidence_candidates(k: usize) -> usize {
    mmr_pool_len(k).max(MIN_EVIDENCE_CANDIDATES)
}

/// How many of each of the person's strongest categories' most popular items
/// become candidates for a list of `k`: the [`CATEGORY_CANDIDATES`] categories
/// share k places, as the popular head offers its first k. On ML-1M neither
/// changed a list in the strong split at any size (none at all included), and
/// in the temporal split 5 per category and 20 popular lost nothing against
/// 32 and 64 (HR@10 0.1146 and 0.1195 both), for 6% fewer instructions per
/// call. The trending head is kept whole: cut to 20, the temporal validation
/// split lost 0.011 HR@10 (what is new now, the history cannot point to).
fn category_head(k: usize) -> usize {
    k.div_ceil(CATEGORY_CANDIDATES)
}

/// A candidate's evidence and index as one integer that orders by evidence
/// (at single precision), then by lower index: selecting the largest keys
/// needs only integer comparisons.
pub(crate) fn strength_key(strength: f64, i: u32) -> u64 {
    let bits = (strength as f32).to_bits();
    let ordered = if bits >> 31 == 1 { !bits } else { bits | 0x8000_0000 };
    (u64::from(ordered) << 32) | u64::from(u32::MAX - i)
}

/// The `limit` largest of a stream of distinct keys. Keys
/// under a floor that rises as the stream goes are dropped at once, so a pass
/// over every item keeps few and selects among at most twice as many.
#[derive(Debug)]
pub(crate) struct StrongestKeys {
    keys: Vec<u64>,
    limit: usize,
    /// Keys below it cannot be among the largest.
    floor: u64,
    /// A strength at or below which an item's key falls under the floor, so
    /// that a pass compares strengths and makes keys only for those above:
    /// NaN (nothing is below) before there is a floor, or when it is at the
    /// lowest strength.
    bar: f64,
}

impl Default for StrongestKeys {
    fn default() -> Self {
        StrongestKeys { keys: Vec::new(), limit: MIN_EVIDENCE_CANDIDATES, floor: 0, bar: f64::NAN }
    }
}

impl StrongestKeys {
    /// Starts over, to keep the `limit` largest keys (at least one).
    fn clear(&mut self, limit: usize) {
        self.keys.clear();
        self.limit = limit.max(1);
        self.floor = 0;
        self.bar = f64::NAN;
    }

    /// Considers `key`.
    #[inline]
    pub(crate) fn offer(&mut self, key: u64) {
        if key >= self.floor {
            self.keys.push(key);
            if self.keys.len() >= self.limit.saturating_mul(2) {
                self.cut();
            }
        }
    }

    /// The strength at or below which keys fall under the floor.
    #[inline]
    pub(crate) fn bar(&self) -> f64 {
        self.bar
    }

    /// Whether an item of this strength may pass a floor whose bar is `bar`
    /// (its key is then worth making).
    #[inline]
    pub(crate) fn above(strength: f64, bar: f64) -> bool {
        !matches!(strength.partial_cmp(&bar), Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal))
    }

    /// Keeps the largest keys; the smallest of them sets the floor.
    fn cut(&mut self) {
        self.keys.select_nth_unstable_by(self.limit - 1, |a, b| b.cmp(a));
        self.keys.truncate(self.limit);
        self.floor = self.keys[self.limit - 1].saturating_add(1);
        let ordered = (self.floor >> 32) as u32;
        let bits = if ordered >> 31 == 1 { ordered & 0x7fff_ffff } else { !ordered };
        self.bar = match f32::from_bits(bits) {
            f if f == f32::NEG_INFINITY => f64::NAN,
            f => f64::from(f.next_down()),
        };
    }

    /// The largest keys offered, in no order.
    fn finish(&mut self) -> &[u64] {
        if self.keys.len() > self.limit {
            self.cut();
        }
        &self.keys
    }
}

/// Maximal marginal relevance: picks `k` positions of `scored` (sorted best
/// first), trading relevance against category overlap with what is already picked.
fn mmr(catalog: &Catalog, scored: &[Scored], k: usize, diversity: f32) -> Vec<usize> {
    let lambda = f64::from(diversity.clamp(0.0, 1.0));
    if lambda == 0.0 || scored.is_empty() {
        return (0..k.min(scored.len())).collect();
    }
    let pool = &scored[..scored.len().min(mmr_pool_len(k))];
    let (hi, lo) = (pool[0].total(), pool[pool.len() - 1].total());
    let range = (hi - lo).max(1e-12);
    let entries = pool.iter().map(|p| MmrEntry::new((1.0 - lambda) * ((p.total() - lo) / range), catalog.item_categories(p.index()))).collect();
    pick_diverse(entries, k, lambda)
}

/// A position of the pool MMR picks from.
struct MmrEntry<'c> {
    relevance: f64,
    categories: &'c [u32],
    /// Its largest category overlap with the first `seen` picks.
    overlap: f64,
    seen: usize,
    open: bool,
}

impl<'c> MmrEntry<'c> {
    fn new(relevance: f64, categories: &'c [u32]) -> Self {
        MmrEntry { relevance, categories, overlap: 0.0, seen: 0, open: true }
    }
}

/// Greedy MMR over `entries` (by relevance, highest first): each pick is the
/// open position with the largest relevance − `lambda` × overlap, the first on
/// ties. A position's value is at most its relevance, so a pick looks down
/// the pool only until the relevance falls to the best value found, and
/// brings the overlaps of the positions it looks at up to date with the picks
/// made since it last did: the picks of updating every position after every
/// pick, with a few positions looked at per pick.
fn pick_diverse(mut entries: Vec<MmrEntry<'_>>, k: usize, lambda: f64) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::with_capacity(k);
    while picked.len() < k.min(entries.len()) {
        let mut best = (usize::MAX, f64::MIN);
        for n in 0..entries.len() {
            let entry = &entries[n];
            if entry.relevance <= best.1 {
                break;
            }
            if !entry.open {
                continue;
            }
            let overlap = picked[entry.seen..].iter().map(|&p| category_overlap(entry.categories, entries[p].categories)).fold(entry.overlap, f64::max);
            (entries[n].overlap, entries[n].seen) = (overlap, picked.len());
            let value = entries[n].relevance - lambda * overlap;
            if value > best.1 {
                best = (n, value);
            }
        }
        // No value above the lowest (NaN relevance): the first open position.
        let best = if best.0 == usize::MAX { entries.iter().position(|e| e.open).unwrap_or_default() } else { best.0 };
        entries[best].open = false;
        picked.push(best);
    }
    picked
}

fn category_overlap(ca: &[u32], cb: &[u32]) -> f64 {
    let shared = ca.iter().filter(|c| cb.contains(c)).count();
    let union = ca.len() + cb.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::catalog::tests::tiny_pack;
    use crate::catalog::{CatalogPack, Item, NeighbourList, WEIGHT_NAMES};
    use crate::events::{EventKind, StoredEvent};

    const NOW: i64 = 1_780_000_000_000;

    /// Looking down the pool only as far as a pick can be found picks what
    /// updating every position after every pick picks, ties and empty
    /// categories included.
    #[test]
    fn mmr_looking_down_the_pool_picks_what_eager_mmr_picks() {
        use rand::Rng;
        let eager = |entries: &[(f64, Vec<u32>)], k: usize, lambda: f64| {
            let mut overlap: Vec<Option<f64>> = vec![Some(0.0); entries.len()];
            let mut picked = Vec::new();
            while picked.len() < k.min(entries.len()) {
                let open = overlap.iter().enumerate().filter_map(|(n, o)| o.map(|o| (n, entries[n].0 - lambda * o)));
                let (best, _) = open.fold((0, f64::MIN), |best, cur| if cur.1 > best.1 { cur } else { best });
                overlap[best] = None;
                picked.push(best);
                for (n, o) in overlap.iter_mut().enumerate() {
                    if let Some(o) = o {
                        *o = o.max(category_overlap(&entries[n].1, &entries[best].1));
                    }
                }
            }
            picked
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for round in 0..300 {
            let n = rng.random_range(1..120);
            let mut entries: Vec<(f64, Vec<u32>)> = (0..n)
                .map(|_| {
                    // Coarse relevance for ties; up to three of six categories.
                    let relevance = f64::from(rng.random_range(0..8u8)) / 8.0;
                    let mut categories: Vec<u32> = (0..rng.random_range(0..4)).map(|_| rng.random_range(0..6)).collect();
                    categories.sort_unstable();
                    categories.dedup();
                    (relevance, categories)
                })
                .collect();
            entries.sort_by(|a, b| b.0.total_cmp(&a.0));
            let (k, lambda) = (rng.random_range(1..30), [0.2, 0.5, 0.9, 1.0][round % 4]);
            let lazy = pick_diverse(entries.iter().map(|(r, c)| MmrEntry::new(*r * (1.0 - lambda), c)).collect(), k, lambda);
            let reference: Vec<(f64, Vec<u32>)> = entries.iter().map(|(r, c)| (*r * (1.0 - lambda), c.clone())).collect();
            assert_eq!(lazy, eager(&reference, k, lambda), "round {round}");
        }
    }

    #[test]
    fn a_scored_key_orders_as_the_totals_then_the_lower_index_and_gives_both_back() {
        let totals = [f64::NEG_INFINITY, -3.5, -1e-300, -0.0, 0.0, 1e-300, 2.25, 7.0, f64::INFINITY];
        let items: Vec<(u32, f64)> = totals.iter().flat_map(|&t| [(0, t), (9, t), (u32::MAX - 1, t)]).collect();
        for &(i, t) in &items {
            let s = Scored::new(i, t, 0.0);
            assert_eq!((s.index(), s.total().to_bits()), (i, t.to_bits()));
            for &(j, u) in &items {
                let expected = u.total_cmp(&t).then(i.cmp(&j));
                assert_eq!(Scored::new(j, u, 0.0).key.cmp(&s.key), expected, "{i} {t} against {j} {u}");
            }
        }
    }

    /// Offering only the strengths above the bar keeps exactly the largest
    /// keys that offering every strength keeps, whatever the strengths
    /// (ties, signed zeros, infinities, NaN, subnormals).
    #[test]
    fn the_bar_drops_only_keys_under_the_floor() {
        use rand::seq::SliceRandom;
        use rand::Rng;
        let special = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e-45, -1e-45, f64::MIN_POSITIVE, 1.0, 1.0 + 1e-9];
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for round in 0..40 {
            let n = [100, 600, 5_000][round % 3];
            let strengths: Vec<f64> = (0..n)
                // Every other round without the continuous values: the floor then sits on a tie.
                .map(|_| match rng.random_range(0..if round % 2 == 0 { 2 } else { 4 }) {
                    0 => special[rng.random_range(0..special.len())],
                    1 => f64::from(rng.random_range(-3i8..3)),
                    _ => rng.random_range(-1e6..1e6) * 10f64.powi(rng.random_range(-30..30)),
                })
                .collect();
            // In any order: a ranking offers some items before the pass in item order.
            let mut order: Vec<u32> = (0..n as u32).collect();
            order.shuffle(&mut rng);
            let (mut all, mut barred) = (StrongestKeys::default(), StrongestKeys::default());
            for i in order {
                let v = strengths[i as usize];
                all.offer(strength_key(v, i));
                if StrongestKeys::above(v, barred.bar()) {
                    barred.offer(strength_key(v, i));
                }
            }
            let (mut expected, mut kept) = (all.finish().to_vec(), barred.finish().to_vec());
            expected.sort_unstable();
            kept.sort_unstable();
            let mut reference: Vec<u64> = strengths.iter().enumerate().map(|(i, &v)| strength_key(v, i as u32)).collect();
            reference.sort_unstable_by(|a, b| b.cmp(a));
            reference.truncate(MIN_EVIDENCE_CANDIDATES);
            reference.sort_unstable();
            assert_eq!((&kept, &expected), (&reference, &reference), "round {round}");
        }
    }

    fn options(personalised: bool) -> RankOptions {
        RankOptions {
            k: 10,
            candidates: None,
            include_seen: false,
            diversity: 0.0,
            personalised,
            now_ms: NOW,
            exploration: 0.0,
            novelty: 0.0,
            seed: 1,
            mode: RecommendMode::Mixed,
        }
    }

    fn view(item: &str) -> StoredEvent {
        StoredEvent { seq: 0, kind: EventKind::View, item_id: item.into(), timestamp_ms: NOW, dwell_secs: None, rating: None, query_tokens: vec![] }
    }

    #[test]
    fn history_neighbour_leads_with_a_reason_naming_the_source() {
        let catalog = Catalog::new(tiny_pack()).unwrap();
        let profile = UserProfile::build(&crate::model::model_of(&[view("b")]), &catalog, &RankerWeights::default(), NOW, false);
        let weights = RankerWeights::default();
        let none = Filters::default();
        let recs = Ranker::new(&catalog, &profile, &weights, &none).rank(&options(true), &mut Scratch::default());
        assert_eq!(recs[0].item_id, "a");
        assert_eq!(recs[0].reasons[0].kind, ReasonKind::RelatedToHistory);
        assert_eq!(recs[0].reasons[0].source_item_id.as_deref(), Some("b"));
        assert!(recs.iter().all(|r| r.item_id != "b"), "seen item excluded");
    }

    #[test]
    fn what_comes_next_after_a_recent_item_is_explained_as_such() {
        let mut pack = tiny_pack();
        pack.transitions[1] = crate::catalog::NeighbourList::quantise(&[(0, 0.9)]);
        pack.neighbours = vec![Default::default(); 3];
        let catalog = Catalog::new(pack).unwrap();
        let weights = RankerWeights { embedding: 0.0, ..RankerWeights::default() };
        let none = Filters::default();
        let profile = UserProfile::build(&crate::model::model_of(&[view("b")]), &catalog, &weights, NOW, false);
        let a = Ranker::new(&catalog, &profile, &weights, &none).explain(0, true, &mut Scratch::default());
        assert_eq!(a.reasons[0].kind, ReasonKind::FollowsRecent);
        assert!(a.reasons[0].text.contains("often chosen next"), "{}", a.reasons[0].text);
    }

    #[test]
    fn the_sequence_network_ranks_and_explains_what_comes_next() {
        let pack = CatalogPack { network: Some(crate::network::tests::successor_network(3)), ..tiny_pack() };
        let catalog = Catalog::new(pack).unwrap();
        let weights = RankerWeights { neighbour: 0.0, transition: 0.0, category: 0.0, popularity: 0.0, network: 1.0, embedding: 0.0, ..Default::default() };
        let none = Filters::default();
        let profile = UserProfile::build(&crate::model::model_of(&[view("a")]), &catalog, &weights, NOW, false);
        let recs = Ranker::new(&catalog, &profile, &weights, &none).rank(&options(true), &mut Scratch::default());
        assert_eq!(recs[0].item_id, "b", "a is followed by b");
        assert_eq!(recs[0].reasons[0].kind, ReasonKind::FollowsRecent);
        assert_eq!(recs[0].reasons[0].source_item_id.as_deref(), Some("a"));
        let cold = Ranker::new(&catalog, &UserProfile::default(), &weights, &none).rank(&options(false), &mut Scratch::default());
        assert!(cold.iter().all(|r| r.reasons.iter().all(|r| r.kind != ReasonKind::FollowsRecent)), "no network without consent");
    }

    /// Item embeddings: what lies closest to the person's recent items leads,
    /// explained by the closest one; a sensitive history item shapes no taste.
    #[test]
    fn the_taste_over_embeddings_ranks_and_explains_what_lies_close() {
        let mut pack = tiny_pack();
        // d lies close to b, far from a; c (sensitive) points away from both.
        pack.items.push(Item { id: "d".into(), title: "D".into(), ..pack.items[0].clone() });
        pack.neighbours.push(Default::default());
        pack.transitions.push(Default::default());
        pack.popularity.push(0);
        pack.trend.push(0);
        pack.embeddings = Some(crate::catalog::Embeddings::quantise(2, &[1.0, 0.0, 0.0, 1.0, -1.0, 0.2, 0.1, 1.0]));
        let catalog = Catalog::new(pack).unwrap();
        let weights = RankerWeights { neighbour: 0.0, transition: 0.0, category: 0.0, popularity: 0.0, trend: 0.0, embedding: 1.0, ..Default::default() };
        let none = Filters::default();
        let events = [view("a"), StoredEvent { timestamp_ms: NOW + 1, ..view("b") }];
        let profile = UserProfile::build(&crate::model::model_of(&events), &catalog, &weights, NOW + 1, false);
        let recs = Ranker::new(&catalog, &profile, &weights, &none).rank(&options(true), &mut Scratch::default());
        assert_eq!(recs[0].item_id, "d", "closest to the taste, which leans to the latest item");
        assert_eq!(recs[0].reasons[0].kind, ReasonKind::RelatedToHistory);
        assert_eq!(recs[0].reasons[0].source_item_id.as_deref(), Some("b"));
        assert!(recs[0].reasons[0].text.contains("liked by the same people"), "{}", recs[0].reasons[0].text);
        let with_seen = Ranker::new(&catalog, &profile, &weights, &none).rank(&RankOptions { include_seen: true, ..options(true) }, &mut Scratch::default());
        assert!(with_seen.iter().any(|r| r.item_id == "b"));
        assert!(with_seen.iter().all(|r| r.reasons.iter().all(|reason| reason.source_item_id.as_ref() != Some(&r.item_id))), "nothing is its own reason");

        let sensitive_only = UserProfile::build(&crate::model::model_of(&[view("c")]), &catalog, &weights, NOW, false);
        let recs = Ranker::new(&catalog, &sensitive_only, &weights, &none).rank(&options(true), &mut Scratch::default());
        assert!(recs.iter().all(|r| r.score == 0.0 && r.reasons.iter().all(|r| r.source_item_id.is_none())), "a sensitive item shapes no taste");
    }

    #[test]
    fn without_consent_ranking_is_by_what_is_popular_now_and_never_cites_sensitive_categories() {
        let catalog = Catalog::new(tiny_pack()).unwrap();
        let profile = UserProfile::anonymous(&catalog, NOW);
        let weights = RankerWeights::default();
        let none = Filters::default();
        let recs = Ranker::new(&catalog, &profile, &weights, &none).rank(&options(false), &mut Scratch::default());
        let ids: Vec<_> = recs.iter().map(|r| r.item_id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "a"], "by trend first: a is the most popular overall, b now");
        assert_eq!((recs[0].reasons[0].kind, recs[0].reasons[0].text.as_str()), (ReasonKind::Trending, "Trending in fruit"));
        assert_eq!(recs[1].reasons[0].text, "Trending now", "c's only category is sensitive, so none is named");
        let without_trend = RankerWeights { trend: 0.0, ..RankerWeights::default() };
        let recs = Ranker::new(&catalog, &profile, &without_trend, &none).rank(&options(false), &mut Scratch::default());
        assert_eq!(recs.iter().map(|r| r.item_id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(recs.iter().all(|r| !r.reasons.is_empty()));
        assert!(recs.iter().flat_map(|r| &r.reasons).all(|r| !r.text.contains("pharmacy")));
    }

    #[test]
    fn novelty_lifts_rarely_seen_items_with_a_reason() {
        let catalog = Catalog::new(tiny_pack()).unwrap();
        let (profile, weights, none) = (UserProfile::anonymous(&catalog, NOW), RankerWeights::default(), Filters::default());
        let ranker = Ranker::new(&catalog, &profile, &weights, &none);
        assert_eq!(ranker.rank(&options(false), &mut Scratch::default())[0].item_id, "b");
        let novel = ranker.rank(&RankOptions { novelty: 2.0, ..options(false) }, &mut Scratch::default());
        assert_eq!(novel[0].item_id, "c", "the least popular item leads");
        assert_eq!(novel[0].reasons[0].kind, ReasonKind::New);
    }

    #[test]
    fn items_outside_their_availability_window_are_not_recommended() {
        let mut pack = tiny_pack();
        pack.items[0].available_until_ms = Some(NOW - 1);
        pack.items[1].available_from_ms = Some(NOW + 1);
        let catalog = Catalog::new(pack).unwrap();
        let (profile, weights, none) = (UserProfile::default(), RankerWeights::default(), Filters::default());
        let recs = Ranker::new(&catalog, &profile, &weights, &none).rank(&options(false), &mut Scratch::default());
        assert_eq!(recs.iter().map(|r| r.item_id.as_str()).collect::<Vec<_>>(), ["c"]);
    }

    #[test]
    fn suppressed_items_never_appear() {
        let catalog = Catalog::new(tiny_pack()).unwrap();
        let profile = UserProfile::default();
        let weights = RankerWeights::default();
        let filters = Filters { excluded: [0].into(), ..Default::default() };
        let recs = Ranker::new(&catalog, &profile, &weights, &filters).rank(&options(false), &mut Scratch::default());
        assert!(recs.iter().all(|r| r.item_id != "a"));
    }

    /// A pack signed by a trusted key may still be hostile: at the largest values a
    /// pack may carry, every score stays finite (and past them the pack is refused).
    #[test]
    fn the_largest_values_a_pack_may_carry_keep_every_score_finite() {
        use crate::catalog::MAX_PACK_VALUE as MAX;
        let mut network = crate::network::tests::successor_network(3);
        network.input.scales.iter_mut().for_each(|s| *s = MAX);
        network.hidden.iter_mut().chain(&mut network.hidden_bias).chain(&mut network.output_bias).for_each(|v| *v = MAX);
        let mut pack = CatalogPack { network: Some(network), ..tiny_pack() };
        pack.neighbours.iter_mut().chain(&mut pack.transitions).for_each(|l| l.scale = MAX);
        pack.embeddings.as_mut().unwrap().scales.iter_mut().for_each(|s| *s = MAX);
        let weights = RankerWeights::from_named(WEIGHT_NAMES.iter().map(|&n| (n, MAX)));
        pack.default_weights = weights.clone();
        let catalog = Catalog::new(pack).expect("at the bounds a pack is accepted");
        let history: Vec<StoredEvent> = ["a", "b", "c", "a"].iter().map(|id| view(id)).collect();
        let profile = UserProfile::build(&crate::model::model_of(&history), &catalog, &weights, NOW, true);
        let none = Filters::default();
        let options = RankOptions { include_seen: true, ..options(true) };
        let recs = Ranker::new(&catalog, &profile, &weights, &none).rank(&options, &mut Scratch::default());
        assert!(!recs.is_empty());
        assert!(recs.iter().all(|r| r.score.is_finite()), "{:?}", recs.iter().map(|r| r.score).collect::<Vec<_>>());
    }

    /// Issue 18: k = 10 with the default exploration over a catalogue without
    /// categories gave 9 items. Slots exploration cannot fill go to the next best.
    #[test]
    fn exploration_that_finds_nothing_to_explore_never_shortens_the_list() {
        let n = 30u32;
        let item = |i: u32| Item { id: format!("i{i}"), title: format!("I{i}"), categories: vec![], ..tiny_pack().items[0].clone() };
        let pack = CatalogPack {
            items: (0..n).map(item).collect(),
            neighbours: vec![NeighbourList::default(); n as usize],
            transitions: vec![NeighbourList::default(); n as usize],
            popularity: (0..n).map(|i| (i * 1000) as u16).collect(),
            trend: vec![0; n as usize],
            embeddings: None,
            ..tiny_pack()
        };
        let catalog = Catalog::new(pack).unwrap();
        let weights = RankerWeights::default();
        let profile = UserProfile::anonymous(&catalog, NOW);
        let none = Filters::default();
        let options = RankOptions { k: 10, exploration: 0.1, ..options(false) };
        let recs = Ranker::new(&catalog, &profile, &weights, &none).rank(&options, &mut Scratch::default());
        assert_eq!(recs.len(), 10);
        let distinct: BTreeSet<&str> = recs.iter().map(|r| r.item_id.as_str()).collect();
        assert_eq!(distinct.len(), 10);
    }

    /// A catalogue of `n` items with seeded random neighbour lists (negative
    /// weights and equal weights included) and one category.
    fn random_links_pack(n: usize, rng: &mut impl rand::Rng) -> CatalogPack {
        let mut pack = tiny_pack();
        pack.items = (0..n).map(|i| Item { id: i.to_string(), title: format!("T{i}"), ..pack.items[0].clone() }).collect();
        pack.neighbours = (0..n)
            .map(|_| {
                let mut links: Vec<(u32, f32)> = (0..rng.random_range(0..12))
                    .map(|_| (rng.random_range(0..n as u32), [1.0, 0.5, -0.25, 0.125][rng.random_range(0..4)] * rng.random_range(0.1f32..4.0)))
                    .collect();
                links.sort_by_key(|l| l.0);
                links.dedup_by_key(|l| l.0);
                NeighbourList::quantise(&links)
            })
            .collect();
        (pack.transitions, pack.popularity, pack.trend, pack.embeddings) = (vec![Default::default(); n], vec![1; n], vec![1; n], None);
        pack
    }

    /// The strongest source found through the items linking to a target is
    /// the one a walk over every source's links finds, for every item, over
    /// seeded random histories (dismissals make some sources negative).
    #[test]
    fn the_strongest_source_is_found_exactly_through_the_items_linking_to_it() {
        use rand::{Rng, SeedableRng};
        for seed in 0..8u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let n = 400;
            let catalog = Catalog::new(random_links_pack(n, &mut rng)).unwrap();
            let events: Vec<StoredEvent> = (0..rng.random_range(1..300))
                .map(|seq| {
                    let kind = [EventKind::View, EventKind::Purchase, EventKind::Dismiss][rng.random_range(0..3)];
                    StoredEvent { seq, kind, timestamp_ms: NOW - rng.random_range(0..90 * 86_400_000), ..view(&rng.random_range(0..n).to_string()) }
                })
                .collect();
            let weights = RankerWeights::default();
            let profile = UserProfile::build(&crate::model::model_of(&events), &catalog, &weights, NOW, false);
            let none = Filters::default();
            let ranker = Ranker::new(&catalog, &profile, &weights, &none);
            let mut found = vec![Evidence::default(); n];
            let mut s = Scratch::default();
            s.begin(n);
            s.note_profile_items(&profile.items);
            found.iter_mut().enumerate().for_each(|(i, e)| ranker.strongest_source(i as u32, e, &s));
            for (target, found) in found.iter().enumerate() {
                let mut expected = Evidence::default();
                for (&(source, _), &weight) in profile.items.iter().zip(&profile.source_weights) {
                    if let Some((_, q)) = catalog.neighbours(source).quantised().find(|&(t, _)| t as usize == target) {
                        expected.add(source, weight * f64::from(q));
                    }
                }
                assert_eq!(found.top_source(), expected.top_source(), "seed {seed}, item {target}");
            }
        }
    }

    /// A long list draws as many items with evidence as re-ranking may look
    /// at: ranked by evidence alone, its candidates list what scoring every
    /// item lists (with the fewest, the list would end in items without evidence).
    #[test]
    fn a_long_list_draws_as_many_evidence_candidates_as_it_needs() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let n = 3_000;
        let mut pack = random_links_pack(n, &mut rng);
        pack.neighbours.iter_mut().for_each(|list| list.weights.iter_mut().for_each(|w| *w = w.abs()));
        let catalog = Catalog::new(pack).unwrap();
        let events: Vec<StoredEvent> =
            (0..400).map(|seq| StoredEvent { seq, timestamp_ms: NOW - 60_000 * seq as i64, ..view(&rng.random_range(0..n).to_string()) }).collect();
        let weights = RankerWeights { neighbour: 1.0, ..RankerWeights::zero() };
        let profile = UserProfile::build(&crate::model::model_of(&events), &catalog, &weights, NOW, false);
        let none = Filters::default();
        // A list of 150 needs more than 128 candidates with evidence, one of 270
        // more than 256. (A list longer than all the candidates falls back to
        // scoring every item, which would hide a shortfall.)
        for k in [150, 270] {
            let long = RankOptions { k, ..options(true) };
            let ranked = |full_scan: bool| {
                let ranker = Ranker::new(&catalog, &profile, &weights, &none).with_full_scan(full_scan);
                ranker.rank_listed(&long, &mut Scratch::default()).0.iter().map(|l| l.index).collect::<Vec<u32>>()
            };
            let (candidates, every_item) = (ranked(false), ranked(true));
            assert_eq!(every_item.len(), k);
            assert_eq!(candidates, every_item, "a list of {k}");
        }
    }

    /// Every item of a long history feeds the evidence: the weakest of 1,200,
    /// the only one linked to the target, still explains it.
    #[test]
    fn every_item_of_a_long_history_feeds_the_evidence() {
        let n = 1_201;
        let target = (n - 1) as u32;
        let mut pack = tiny_pack();
        pack.items = (0..n).map(|i| Item { id: i.to_string(), title: format!("T{i}"), ..pack.items[0].clone() }).collect();
        pack.neighbours =
            (0..n as u32).map(|i| if i == 0 { NeighbourList::quantise(&[(target, 1.0)]) } else { NeighbourList::quantise(&[(0, 0.01)]) }).collect();
        (pack.transitions, pack.popularity, pack.trend, pack.embeddings) = (vec![Default::default(); n], vec![0; n], vec![0; n], None);
        let catalog = Catalog::new(pack).unwrap();
        // Item 0 first and longest ago: the weakest interest.
        let events: Vec<StoredEvent> =
            (0..target).map(|i| StoredEvent { seq: u64::from(i), timestamp_ms: NOW - 60_000 * i64::from(target - i), ..view(&i.to_string()) }).collect();
        let weights = RankerWeights { neighbour: 1.0, ..RankerWeights::zero() };
        let profile = UserProfile::build(&crate::model::model_of(&events), &catalog, &weights, NOW, false);
        let explained = Ranker::new(&catalog, &profile, &weights, &Filters::default()).explain(target, true, &mut Scratch::default());
        assert!(explained.score > 0.0);
        assert_eq!(explained.reasons[0].source_item_id.as_deref(), Some("0"));
    }

    /// A listed item's reasons are the first [`LISTED_REASONS`] of all its
    /// reasons, whichever were worded: over seeded random histories, with
    /// every kind of reason (the network's and the embeddings' included),
    /// sensitive history items that must not be named, explored items and
    /// "buy it again" lists that lead with why the item is there.
    #[test]
    fn a_listed_item_carries_the_strongest_of_all_its_reasons() {
        use rand::{Rng, SeedableRng};
        let mut kinds = BTreeSet::new();
        for seed in 0..6u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let n = 120;
            let mut pack = random_links_pack(n, &mut rng);
            pack.transitions = pack.neighbours.iter().rev().cloned().collect();
            (pack.popularity, pack.trend) = ((0..n).map(|_| rng.random()).collect(), (0..n).map(|_| rng.random()).collect());
            pack.embeddings = Some(crate::catalog::Embeddings::quantise(2, &(0..2 * n).map(|_| rng.random_range(-1.0..1.0)).collect::<Vec<f32>>()));
            pack.network = Some(crate::network::tests::successor_network(n));
            pack.items.iter_mut().step_by(7).for_each(|item| item.categories = vec![1]);
            let catalog = Catalog::new(pack).unwrap();
            let events: Vec<StoredEvent> = (0..rng.random_range(1..80))
                .map(|seq| {
                    let kind = [EventKind::View, EventKind::Purchase, EventKind::View][rng.random_range(0..3)];
                    StoredEvent { seq, kind, timestamp_ms: NOW - rng.random_range(0..60 * 86_400_000), ..view(&rng.random_range(0..n).to_string()) }
                })
                .collect();
            let weights = RankerWeights { network: 1.0, embedding: 1.0, repurchase: 1.0, ..RankerWeights::default() };
            let profile = UserProfile::build(&crate::model::model_of(&events), &catalog, &weights, NOW, false);
            let none = Filters::default();
            let ranker = Ranker::new(&catalog, &profile, &weights, &none);
            for mode in [RecommendMode::Mixed, RecommendMode::BuyAgain] {
                let options = RankOptions { k: 30, exploration: 0.3, novelty: 0.5, mode, ..options(true) };
                let (listed, _) = ranker.rank_listed(&options, &mut Scratch::default());
                for l in &listed {
                    let all = ranker.listed_recommendation(l, mode, usize::MAX, &mut Vec::new()).reasons;
                    let few = ranker.listed_recommendation(l, mode, LISTED_REASONS, &mut Vec::new()).reasons;
                    assert_eq!(few, all[..all.len().min(LISTED_REASONS)], "seed {seed}, item {}", l.index);
                    assert!(all.iter().all(|r| r.source_item_id.as_deref().is_none_or(|id| !catalog.is_sensitive(catalog.index_of(id).unwrap()))));
                    kinds.extend(all.iter().map(|r| r.kind as u8));
                }
            }
        }
        assert_eq!(kinds.len(), 8, "every kind of reason was worded: {kinds:?}");
    }
}
