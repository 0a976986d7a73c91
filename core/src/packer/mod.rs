//! Builds catalogue packs off-device, from a catalogue and (optionally) an
//! interaction log the app's backend lawfully holds: item-to-item neighbours
//! (log-likelihood co-occurrence, EASE, time-decayed co-occurrence or the
//! sequential model), directional "what comes next" transitions and popularity.
//! Compiled only with the `packer` feature, so the dense solver never reaches
//! the mobile library.
//!
//! The log-likelihood model is sparse: its memory follows the interactions, so
//! it builds packs for catalogues of any size. EASE and the sequential model
//! are dense (n² and 4n² Gram matrices) and refuse, naming the sparse model,
//! when they would not fit the machine's memory.

mod als;
mod cooccurrence;
mod ease;
mod input;
mod learned;
mod llr;
mod network;
mod sequential;
mod subset;
mod synthetic;
mod transitions;

use std::collections::BTreeMap;

pub use als::AlsConfig;
pub use cooccurrence::CooccurrenceConfig;
pub use ease::EaseConfig;
pub use network::NetworkConfig;
pub use input::{read_catalog_csv, read_catalog_json, read_factors_csv, read_interactions_csv, CatalogInput, InteractionsInput};
pub use learned::{part_files, read_learned, write_learned};
pub use llr::LlrConfig;
pub use sequential::SequentialConfig;
pub use subset::{restrict, Restricted, Subset};
pub use synthetic::synthetic_pack;
pub use transitions::TransitionConfig;

use crate::catalog::{
    CatalogPack, Category, Embeddings, Item, NeighbourList, PackMeta, RankerWeights, EMBEDDING_WEIGHT, NETWORK_WEIGHT, REPURCHASE_WEIGHT, TREND_WEIGHT,
};
use crate::network::SequenceNetwork;
use crate::repurchase::ORDER_WINDOW_MS;

/// One interaction from the backend's log (item given by its index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    /// Any stable per-user key.
    pub user: u32,
    /// Index into the item list.
    pub item: u32,
    /// When it happened, in ms since the Unix epoch.
    pub timestamp_ms: i64,
}

/// Which item-to-item model the pack carries.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemModel {
    /// Co-occurrence in users' baskets scored by log-likelihood ratio (sparse, any size).
    Llr(LlrConfig),
    /// Distance-discounted co-occurrence, cosine-normalised.
    Cooccurrence(CooccurrenceConfig),
    /// EASE (closed-form ridge regression item-to-item), pruned to the top K.
    Ease(EaseConfig),
    /// Ridge regression from the recent items and the decayed history to the next
    /// few items, pruned to the top K; its recent block replaces the counted transitions.
    Sequential(SequentialConfig),
}

impl ItemModel {
    /// The model's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            ItemModel::Llr(_) => "llr",
            ItemModel::Cooccurrence(_) => "cooccurrence",
            ItemModel::Ease(_) => "ease",
            ItemModel::Sequential(_) => "sequential",
        }
    }

    /// Bytes the model's dense matrices take at `n` items (none for the sparse models).
    pub fn dense_bytes(&self, n: usize) -> u64 {
        let square = (n as u64).saturating_mul(n as u64).saturating_mul(8);
        match self {
            // The Gram matrix, its factor, the inverse and the weights.
            ItemModel::Ease(_) => square.saturating_mul(4),
            // The 2n × 2n Gram matrix and its factor, the 2n × n right-hand side and solution.
            ItemModel::Sequential(_) => square.saturating_mul(12),
            ItemModel::Llr(_) | ItemModel::Cooccurrence(_) => 0,
        }
    }
}

/// Where item embeddings come from, if the pack carries any.
#[derive(Debug, Clone, PartialEq)]
pub enum EmbeddingSource {
    /// No embeddings.
    None,
    /// Learned here with implicit ALS.
    Als(AlsConfig),
    /// Trained elsewhere (e.g. Spark MLlib ALS): row-major, `dim` per catalogue item.
    Precomputed {
        /// Dimensions per item.
        dim: usize,
        /// `dim` values per item, in catalogue order.
        rows: Vec<f32>,
    },
}

impl EmbeddingSource {
    /// Dimensions per item (0 without embeddings).
    fn dim(&self) -> usize {
        match self {
            EmbeddingSource::None => 0,
            EmbeddingSource::Als(c) => c.factors,
            EmbeddingSource::Precomputed { dim, .. } => *dim,
        }
    }
}

/// How a pack is learned.
#[derive(Debug, Clone, PartialEq)]
pub struct PackerConfig {
    /// The item-to-item model.
    pub model: ItemModel,
    /// The directional transitions (counted; under the sequential model only
    /// `top_k` applies, to its learned recent block).
    pub transitions: TransitionConfig,
    /// Item embeddings.
    pub embeddings: EmbeddingSource,
    /// The sequence network, if the pack carries one.
    pub network: Option<NetworkConfig>,
    /// How fast an interaction stops counting towards the trend (what is popular
    /// now): it counts half after this many days before the newest interaction.
    pub trend_half_life_days: f64,
    /// Memory a dense model may take, in bytes; `None`: what the machine has available.
    pub memory_budget_bytes: Option<u64>,
    /// The log is of purchases: mark items people buy again as repeatable ([`mark_consumables`]).
    pub mark_consumables: bool,
}

/// The trend's half-life packs are built with, chosen on the ML-1M temporal
/// validation split (`examples/movielens/eval.sh`).
pub const TREND_HALF_LIFE_DAYS: f64 = 2.0;

impl Default for PackerConfig {
    fn default() -> Self {
        PackerConfig {
            model: ItemModel::Cooccurrence(CooccurrenceConfig::default()),
            transitions: TransitionConfig::default(),
            embeddings: EmbeddingSource::None,
            network: None,
            trend_half_life_days: TREND_HALF_LIFE_DAYS,
            memory_budget_bytes: None,
            mark_consumables: false,
        }
    }
}

impl PackerConfig {
    /// Refuses a dense model whose matrices at `n` items would not fit the
    /// memory budget (before any input is read, when called first).
    pub fn check_fits(&self, n: usize) -> Result<(), PackerError> {
        let needed = self.model.dense_bytes(n);
        let budget = self.memory_budget_bytes.unwrap_or_else(available_memory_bytes);
        if needed > budget {
            let (needed_mb, budget_mb) = (needed >> 20, budget >> 20);
            return Err(PackerError::TooLarge { model: self.model.name(), items: n, needed_mb, budget_mb });
        }
        Ok(())
    }
}

/// Why a pack could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PackerError {
    /// An input file is malformed.
    #[error("input line {line}: {reason}")]
    Input {
        /// 1-based line (or record) number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An input file could not be read.
    #[error("cannot read input: {0}")]
    Io(#[from] std::io::Error),
    /// A model could not be fitted: a dense solve failed (the regularised Gram
    /// matrix was not positive definite), a setting is out of range, or there is
    /// nothing to learn from.
    #[error("model fitting failed: {0}")]
    Solver(String),
    /// A dense model would not fit in memory.
    #[error("the {model} model needs {needed_mb} MB for {items} items, past the {budget_mb} MB available; use the sparse `llr` model (--model llr), whose memory follows the interactions")]
    TooLarge {
        /// The model refused.
        model: &'static str,
        /// Catalogue items.
        items: usize,
        /// Memory its dense matrices would take, in MB.
        needed_mb: u64,
        /// Memory it may take, in MB.
        budget_mb: u64,
    },
}

/// One item's learned list: `(item index, weight)`, strongest first (ties by index).
pub type Row = Vec<(u32, f32)>;

/// What a pack learns from the interaction log, before it is quantised: the
/// same whether it was learned here ([`learn`]) or by the Spark job and read
/// back ([`read_learned`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Learned {
    /// The item model's name ([`ItemModel::name`]), which sets the pack's default weights.
    pub model: String,
    /// Per item, its neighbours.
    pub neighbours: Vec<Row>,
    /// Per item, what comes next.
    pub transitions: Vec<Row>,
    /// Interactions per item.
    pub counts: Vec<f64>,
    /// Interactions per item, each counting ½ per trend half-life before [`Self::trend_as_of_ms`].
    pub trend_counts: Vec<f64>,
    /// The newest interaction's time, when the trend is as of.
    pub trend_as_of_ms: i64,
    /// Per item, how many people used it, and how many of them used it again later.
    pub repeat_users: Vec<(u64, u64)>,
    /// Per item, the median time between a person's orders of it, in whole
    /// hours (at least 1; 0 when nobody came back to it).
    pub repeat_gap_hours: Vec<u32>,
}

/// Users an item needs before its repeat share can mark it consumable.
pub const CONSUMABLE_MIN_USERS: u64 = 5;
/// Share of an item's users who come back to it that marks it consumable.
pub const CONSUMABLE_REPEAT_SHARE: f64 = 0.25;
/// A catalogue tag that keeps an item from being marked consumable by the data.
pub const NOT_REPEATABLE_TAG: &str = "not-repeatable";

/// Whether the log shows an item to be bought again and again: enough users,
/// and a quarter of them came back to it at a later time.
fn consumable((users, repeaters): (u64, u64)) -> bool {
    users >= CONSUMABLE_MIN_USERS && repeaters as f64 >= CONSUMABLE_REPEAT_SHARE * users as f64
}

/// Marks the items a purchase log shows to be re-bought ([`consumable`]) as
/// repeatable, unless the catalogue tags them either way (its tags override
/// the data). Only for logs of purchases: people come back to what they view
/// whatever it is. Returns how many items were marked.
pub fn mark_consumables(items: &mut [Item], learned: &Learned) -> usize {
    let mut marked = 0;
    for (item, &stats) in items.iter_mut().zip(&learned.repeat_users) {
        let tagged = item.tags.iter().any(|t| t == crate::rank::REPEATABLE_TAG || t == NOT_REPEATABLE_TAG);
        if !tagged && consumable(stats) {
            item.tags.push(crate::rank::REPEATABLE_TAG.to_string());
            marked += 1;
        }
    }
    marked
}

/// People who came back to an item before its own median gap is its interval;
/// with fewer, the median over its first category's items that have one.
pub const INTERVAL_MIN_REPEATERS: u64 = 3;

/// The pack's repurchase prior ([`CatalogPack::repurchase_hours`]): for each
/// item tagged repeatable, the median time between a person's orders of it
/// (hours, at most 65,535), from its own repeat buyers, else from its
/// category's; 0 for the others, and empty when no item has one.
pub fn repurchase_hours(items: &[Item], learned: &Learned) -> Vec<u16> {
    let own = |i: usize| (learned.repeat_users[i].1 >= INTERVAL_MIN_REPEATERS && learned.repeat_gap_hours[i] > 0).then_some(learned.repeat_gap_hours[i]);
    let repeatable = |item: &Item| item.tags.iter().any(|t| t == crate::rank::REPEATABLE_TAG);
    let mut by_category: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate().filter(|(_, item)| repeatable(item)) {
        if let (Some(hours), Some(&c)) = (own(i), item.categories.first()) {
            by_category.entry(c).or_default().push(hours);
        }
    }
    let category_median: BTreeMap<u32, u32> = by_category
        .into_iter()
        .map(|(c, mut hours)| {
            hours.sort_unstable();
            (c, hours[hours.len() / 2])
        })
        .collect();
    let hours: Vec<u16> = items
        .iter()
        .enumerate()
        .map(|(i, item)| match repeatable(item) {
            true => own(i).or_else(|| category_median.get(item.categories.first()?).copied()).map_or(0, |h| u16::try_from(h).unwrap_or(u16::MAX)),
            false => 0,
        })
        .collect();
    if hours.iter().all(|&h| h == 0) {
        Vec::new()
    } else {
        hours
    }
}

/// Learns a pack. Deterministic: the same inputs give the same pack, byte for byte once signed.
pub fn build_pack(
    meta: PackMeta,
    categories: Vec<Category>,
    items: Vec<Item>,
    interactions: &[Interaction],
    config: &PackerConfig,
) -> Result<CatalogPack, PackerError> {
    let n = items.len();
    config.check_fits(n)?;
    let timed = user_histories(interactions, n);
    let histories = item_sequences(&timed);
    let learned = learn_lists(&timed, &histories, n, config)?;
    let embeddings = match &config.embeddings {
        EmbeddingSource::None => None,
        EmbeddingSource::Als(c) => Some(als::learn(&histories, n, c)?),
        EmbeddingSource::Precomputed { rows, .. } => Some(rows.clone()),
    };
    let network = config.network.as_ref().map(|c| network::learn(&histories, n, c)).transpose()?;
    let mut items = items;
    let intervals = match config.mark_consumables {
        true => {
            mark_consumables(&mut items, &learned);
            repurchase_hours(&items, &learned)
        }
        false => Vec::new(),
    };
    let mut pack = assemble(meta, categories, items, learned, embeddings.map(|rows| (config.embeddings.dim(), rows)), network)?;
    pack.repurchase_hours = intervals;
    Ok(pack)
}

/// Learns the item model, transitions, popularity and trend (everything but
/// embeddings and the network), as `mizan pack learn` writes them.
pub fn learn(interactions: &[Interaction], n: usize, config: &PackerConfig) -> Result<Learned, PackerError> {
    config.check_fits(n)?;
    let timed = user_histories(interactions, n);
    learn_lists(&timed, &item_sequences(&timed), n, config)
}

fn learn_lists(timed: &[Vec<(i64, u32)>], histories: &[Vec<u32>], n: usize, config: &PackerConfig) -> Result<Learned, PackerError> {
    let (neighbours, transitions) = match &config.model {
        ItemModel::Llr(c) => (llr::learn(timed, n, c)?, transitions::learn(histories, n, &config.transitions)?),
        ItemModel::Cooccurrence(c) => (cooccurrence::learn(timed, n, c), transitions::learn(histories, n, &config.transitions)?),
        ItemModel::Ease(c) => (ease::learn(histories, n, c)?, transitions::learn(histories, n, &config.transitions)?),
        ItemModel::Sequential(c) => {
            let lists = sequential::learn(histories, n, c, config.transitions.top_k)?;
            (lists.neighbours, lists.transitions)
        }
    };
    let mut counts = vec![0.0f64; n];
    for &i in histories.iter().flatten() {
        counts[i as usize] += 1.0;
    }
    let trend_as_of_ms = timed.iter().flatten().map(|s| s.0).max().unwrap_or(0);
    let trend_counts = recent_counts(timed, n, config.trend_half_life_days, trend_as_of_ms)?;
    let (repeat_users, repeat_gap_hours) = repeat_stats(timed, n);
    Ok(Learned { model: config.model.name().into(), neighbours, transitions, counts, trend_counts, trend_as_of_ms, repeat_users, repeat_gap_hours })
}

/// Per item, its users and how many of them used it again at a later time;
/// and the median gap between one person's orders of it (interactions within
/// [`ORDER_WINDOW_MS`] of the order's first are the same order), in whole hours.
fn repeat_stats(timed: &[Vec<(i64, u32)>], n: usize) -> (Vec<(u64, u64)>, Vec<u32>) {
    let mut users = vec![(0u64, 0u64); n];
    let mut gaps: Vec<Vec<u32>> = vec![Vec::new(); n];
    // Per item of one history (chronological): its first time, the start of
    // its latest order, and whether it came again later.
    let mut seen: BTreeMap<u32, (i64, i64, bool)> = BTreeMap::new();
    for history in timed {
        seen.clear();
        for &(t, i) in history {
            let (first, order, again) = seen.entry(i).or_insert((t, t, false));
            *again |= t > *first;
            let gap = t.saturating_sub(*order);
            if gap >= ORDER_WINDOW_MS {
                gaps[i as usize].push(u32::try_from(gap.saturating_add(1_800_000) / 3_600_000).unwrap_or(u32::MAX));
                *order = t;
            }
        }
        for (&i, &(_, _, again)) in &seen {
            users[i as usize].0 += 1;
            users[i as usize].1 += u64::from(again);
        }
    }
    let medians = gaps
        .into_iter()
        .map(|mut g| {
            g.sort_unstable();
            g.get(g.len() / 2).copied().unwrap_or(0)
        })
        .collect();
    (users, medians)
}

/// Quantises what was learned into a pack, with optional item factors
/// (`(dim, rows)`, row-major) and a trained network.
pub fn assemble(
    meta: PackMeta,
    categories: Vec<Category>,
    items: Vec<Item>,
    learned: Learned,
    factors: Option<(usize, Vec<f32>)>,
    network: Option<SequenceNetwork>,
) -> Result<CatalogPack, PackerError> {
    let n = items.len();
    let sized = [
        learned.neighbours.len(),
        learned.transitions.len(),
        learned.counts.len(),
        learned.trend_counts.len(),
        learned.repeat_users.len(),
        learned.repeat_gap_hours.len(),
    ];
    if sized.iter().any(|&len| len != n) {
        return Err(PackerError::Input { line: 0, reason: format!("what was learned covers {sized:?} items, the catalogue {n}") });
    }
    let embeddings = match factors {
        Some((dim, rows)) if dim == 0 || rows.len() != dim * n || !rows.iter().all(|v| v.is_finite()) => {
            return Err(PackerError::Input { line: 0, reason: format!("factors must be {dim} finite values per item") });
        }
        Some((dim, rows)) => Some(Embeddings::quantise(dim, &rows)),
        None => None,
    };
    let default_weights = default_weights(&learned.model, network.is_some(), embeddings.is_some());
    let quantise = |rows: Vec<Row>| rows.iter().map(|row| NeighbourList::quantise(row)).collect();
    Ok(CatalogPack {
        meta,
        categories,
        items,
        neighbours: quantise(learned.neighbours),
        transitions: quantise(learned.transitions),
        popularity: log_scaled(&learned.counts),
        trend: log_scaled(&learned.trend_counts),
        trend_as_of_ms: learned.trend_as_of_ms,
        embeddings,
        default_weights,
        network,
        repurchase_hours: Vec::new(),
    })
}

/// The ranker weights a pack ships with for its item model. Sequential packs are
/// scored almost entirely by the learned blocks (and the network, if any), at the
/// weights chosen on ML-1M validation; popularity only breaks ties and orders the
/// list before consent.
fn default_weights(model: &str, with_network: bool, with_embeddings: bool) -> RankerWeights {
    let network = if with_network { NETWORK_WEIGHT } else { 0.0 };
    match model {
        // Embeddings add nothing to the sequential model and its network on ML-1M
        // validation (BENCHMARKS.md), so its packs leave them unweighed.
        "sequential" => RankerWeights {
            neighbour: 1.0,
            transition: 1.0,
            category: 0.0,
            popularity: 0.001,
            session_boost: 0.0,
            sequence_boost: 40.0,
            network,
            trend: TREND_WEIGHT,
            embedding: 0.0,
            repurchase: REPURCHASE_WEIGHT,
        },
        _ => RankerWeights { network, embedding: if with_embeddings { EMBEDDING_WEIGHT } else { 0.0 }, ..RankerWeights::default() },
    }
}

/// The full (unpruned) EASE weight matrix for `histories` (item indices per
/// user), row-major `n × n`: entry `i * n + j` is how much having `i` supports `j`.
/// For evaluation baselines; packs carry the pruned form.
pub fn ease_weights(histories: &[Vec<u32>], n: usize, lambda: f64) -> Result<Vec<f32>, PackerError> {
    let b = ease::weights(histories, n, lambda)?;
    Ok((0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| b[(i, j)] as f32).collect())
}

/// Memory the machine has available now (Linux's `MemAvailable`), or 8 GiB
/// where that cannot be read.
fn available_memory_bytes() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let available_kb = meminfo.lines().find_map(|l| l.strip_prefix("MemAvailable:")?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok());
    available_kb.map_or(8 << 30, |kb| kb.saturating_mul(1024))
}

/// Each user's `(timestamp, item index)` in chronological order (ties broken by
/// item index), users in ascending key order; out-of-range items are dropped.
fn user_histories(interactions: &[Interaction], n: usize) -> Vec<Vec<(i64, u32)>> {
    let mut by_user: BTreeMap<u32, Vec<(i64, u32)>> = BTreeMap::new();
    for i in interactions.iter().filter(|i| (i.item as usize) < n) {
        by_user.entry(i.user).or_default().push((i.timestamp_ms, i.item));
    }
    by_user
        .into_values()
        .map(|mut h| {
            h.sort_unstable();
            h
        })
        .collect()
}

/// The item sequences of chronological `(timestamp, item)` histories.
fn item_sequences(timed: &[Vec<(i64, u32)>]) -> Vec<Vec<u32>> {
    timed.iter().map(|h| h.iter().map(|&(_, item)| item).collect()).collect()
}

/// The `k` largest positive weights of a row, strongest first (ties by index).
fn strongest(row: impl Iterator<Item = (u32, f32)>, k: usize) -> Row {
    let mut pairs: Row = row.filter(|(_, w)| *w > 0.0 && w.is_finite()).collect();
    strongest_first(&mut pairs);
    pairs.truncate(k);
    pairs.shrink_to_fit(); // rows are kept for every item until the pack is assembled
    pairs
}

/// Orders weights strongest first, ties by index.
fn strongest_first(pairs: &mut [(u32, f32)]) {
    pairs.sort_unstable_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
}

/// What is popular at `as_of_ms`, per item: each interaction in `histories`
/// (`(timestamp, item)` per user) counts ½ per `half_life_days` it lies before
/// it. The pack's trend is these counts log-scaled like popularity.
pub fn recent_counts(histories: &[Vec<(i64, u32)>], n: usize, half_life_days: f64, as_of_ms: i64) -> Result<Vec<f64>, PackerError> {
    if !(half_life_days.is_finite() && half_life_days > 0.0) {
        return Err(PackerError::Solver("the trend half-life must be a positive number of days".into()));
    }
    let mut counts = vec![0.0f64; n];
    for &(t, i) in histories.iter().flatten() {
        let age_days = (as_of_ms - t) as f64 / 86_400_000.0;
        counts[i as usize] += 0.5f64.powf(age_days / half_life_days);
    }
    Ok(counts)
}

/// `ln(1 + count)` in 0..=65535, relative to the largest.
fn log_scaled(counts: &[f64]) -> Vec<u16> {
    let max_log = counts.iter().map(|&c| c.ln_1p()).fold(0.0, f64::max);
    counts.iter().map(|&c| if max_log > 0.0 { (c.ln_1p() / max_log * f64::from(u16::MAX)).round() as u16 } else { 0 }).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::tests::signer;

    pub(crate) fn item(id: &str) -> Item {
        Item { id: id.into(), title: id.into(), categories: vec![], tags: vec![], sensitive: None, available_from_ms: None, available_until_ms: None }
    }

    pub(crate) fn meta() -> PackMeta {
        PackMeta { pack_version: 1, built_at_ms: 0, source: "test".into(), coverage: None }
    }

    fn log() -> Vec<Interaction> {
        (0..60).map(|k| Interaction { user: k % 7, item: k * 5 % 6, timestamp_ms: (k / 3) as i64 }).collect()
    }

    /// Six households buy milk weekly (one of them twice within an hour: one
    /// order), two buy coffee every ten days, everyone buys a kettle once; tea
    /// is bought once each but tagged repeatable by the shop, and eggs are
    /// re-bought weekly but tagged "not-repeatable".
    #[test]
    fn a_purchase_log_marks_consumables_and_learns_their_usual_interval() {
        const DAY: i64 = 86_400_000;
        let mut items: Vec<Item> = ["milk", "coffee", "kettle", "tea", "eggs"].iter().map(|id| Item { categories: vec![0], ..item(id) }).collect();
        items[3].tags.push(crate::rank::REPEATABLE_TAG.into());
        items[4].tags.push(NOT_REPEATABLE_TAG.into());
        let mut log = Vec::new();
        for user in 0..6u32 {
            let buy = |item: u32, t: i64| Interaction { user, item, timestamp_ms: t };
            log.extend((0..4).map(|w| buy(0, w * 7 * DAY)));
            log.extend((0..4).map(|w| buy(4, w * 7 * DAY)));
            log.extend([buy(2, DAY), buy(3, DAY)]);
            if user < 2 {
                log.extend((0..3).map(|k| buy(1, k * 10 * DAY)));
            }
        }
        log.push(Interaction { user: 0, item: 0, timestamp_ms: 30 * 60_000 });
        let config = PackerConfig { mark_consumables: true, ..Default::default() };
        let pack = build_pack(meta(), vec![Category { name: "groceries".into(), sensitive: None }], items, &log, &config).unwrap();
        let repeatable: Vec<&str> = pack.items.iter().filter(|i| i.tags.iter().any(|t| t == crate::rank::REPEATABLE_TAG)).map(|i| i.id.as_str()).collect();
        assert_eq!(repeatable, vec!["milk", "tea"], "coffee has too few buyers to be marked; the shop's tags win");
        // Milk: its own weekly median (the within-the-hour purchase is the same order);
        // tea: nobody came back to it, so its category's.
        assert_eq!(pack.repurchase_hours, vec![7 * 24, 0, 0, 7 * 24, 0]);
        let again = build_pack(meta(), vec![], pack.items.clone(), &log, &PackerConfig { mark_consumables: false, ..Default::default() }).unwrap();
        assert!(again.repurchase_hours.is_empty(), "a log of views says nothing about purchase rhythms");
    }

    #[test]
    fn same_inputs_give_byte_identical_signed_packs() {
        let items: Vec<Item> = (0..6).map(|i| item(&format!("i{i}"))).collect();
        let models = [
            ItemModel::Llr(LlrConfig::default()),
            ItemModel::Cooccurrence(CooccurrenceConfig::default()),
            ItemModel::Ease(EaseConfig::default()),
            ItemModel::Sequential(SequentialConfig::default()),
        ];
        for model in models {
            let config = PackerConfig { model, embeddings: EmbeddingSource::Als(AlsConfig { factors: 3, ..Default::default() }), ..Default::default() };
            let a = build_pack(meta(), vec![], items.clone(), &log(), &config).unwrap().sign(&signer(1));
            let b = build_pack(meta(), vec![], items.clone(), &log(), &config).unwrap().sign(&signer(1));
            assert_eq!(a, b);
        }
    }

    /// Embeddings are weighed by default where validation found them to help
    /// (EASE and co-occurrence packs), not beside the sequential model.
    #[test]
    fn embeddings_are_weighed_by_default_except_beside_the_sequential_model() {
        let items: Vec<Item> = (0..6).map(|i| item(&format!("i{i}"))).collect();
        let weight = |model: ItemModel, embeddings: EmbeddingSource| {
            build_pack(meta(), vec![], items.clone(), &log(), &PackerConfig { model, embeddings, ..Default::default() }).unwrap().default_weights.embedding
        };
        let als = || EmbeddingSource::Als(AlsConfig { factors: 3, ..Default::default() });
        assert_eq!(weight(ItemModel::Ease(EaseConfig::default()), als()), EMBEDDING_WEIGHT);
        assert_eq!(weight(ItemModel::Cooccurrence(CooccurrenceConfig::default()), als()), EMBEDDING_WEIGHT);
        assert_eq!(weight(ItemModel::Ease(EaseConfig::default()), EmbeddingSource::None), 0.0);
        assert_eq!(weight(ItemModel::Sequential(SequentialConfig::default()), als()), 0.0);
    }

    #[test]
    fn dense_models_past_the_memory_budget_refuse_and_name_the_sparse_one() {
        let items: Vec<Item> = (0..100).map(|i| item(&format!("i{i}"))).collect();
        let budget = Some(ItemModel::Ease(EaseConfig::default()).dense_bytes(100) - 1);
        for model in [ItemModel::Ease(EaseConfig::default()), ItemModel::Sequential(SequentialConfig::default())] {
            let config = PackerConfig { model, memory_budget_bytes: budget, ..Default::default() };
            let err = build_pack(meta(), vec![], items.clone(), &log(), &config).unwrap_err();
            assert!(matches!(err, PackerError::TooLarge { items: 100, .. }), "{err}");
            assert!(err.to_string().contains("--model llr"), "{err}");
        }
        let sparse = PackerConfig { model: ItemModel::Llr(LlrConfig::default()), memory_budget_bytes: Some(0), ..Default::default() };
        assert!(build_pack(meta(), vec![], items, &log(), &sparse).is_ok());
        assert_eq!(ItemModel::Ease(EaseConfig::default()).dense_bytes(100_000), 320_000_000_000);
    }

    #[test]
    fn items_people_come_back_to_are_marked_consumable_unless_the_catalogue_says_otherwise() {
        let mut items: Vec<Item> = (0..3).map(|i| item(&format!("i{i}"))).collect();
        items[2].tags.push(NOT_REPEATABLE_TAG.into());
        // Six people buy i0 and i2 twice, a week apart, and i1 once.
        let log: Vec<Interaction> = (0..6u32)
            .flat_map(|user| [(0, 0), (0, 7), (1, 0), (2, 0), (2, 7)].map(|(item, day)| Interaction { user, item, timestamp_ms: day * 86_400_000 + i64::from(user) }))
            .collect();
        let purchases = PackerConfig { mark_consumables: true, ..PackerConfig::default() };
        let unmarked = build_pack(meta(), vec![], items.clone(), &log, &PackerConfig::default()).unwrap();
        assert!(unmarked.items[0].tags.is_empty(), "only a log of purchases marks consumables");
        let pack = build_pack(meta(), vec![], items, &log, &purchases).unwrap();
        let repeatable = |i: usize| pack.items[i].tags.iter().any(|t| t == crate::rank::REPEATABLE_TAG);
        assert!(repeatable(0), "bought again by every buyer");
        assert!(!repeatable(1), "bought once");
        assert!(!repeatable(2), "the catalogue's tag overrides the data");
        let few = build_pack(meta(), vec![], (0..3).map(|i| item(&format!("i{i}"))).collect(), &log[..10], &purchases).unwrap();
        assert!(few.items[0].tags.is_empty(), "two buyers are too few to tell");
    }

    #[test]
    fn the_trend_is_what_was_chosen_lately_and_popularity_what_was_chosen_ever() {
        const DAY: i64 = 86_400_000;
        let items: Vec<Item> = (0..3).map(|i| item(&format!("i{i}"))).collect();
        let mut log: Vec<Interaction> = (0..20).map(|user| Interaction { user, item: 0, timestamp_ms: 0 }).collect();
        log.extend((0..5).map(|user| Interaction { user, item: 1, timestamp_ms: 60 * DAY }));
        let pack = build_pack(meta(), vec![], items.clone(), &log, &PackerConfig::default()).unwrap();
        assert_eq!(pack.popularity[0], u16::MAX, "chosen most ever");
        assert_eq!(pack.trend[1], u16::MAX, "chosen most lately");
        assert!(pack.trend[0] < u16::MAX / 20, "two months back counts little: {}", pack.trend[0]);
        assert_eq!((pack.popularity[2], pack.trend[2]), (0, 0));
        let slow = PackerConfig { trend_half_life_days: 365.0, ..Default::default() };
        assert!(build_pack(meta(), vec![], items.clone(), &log, &slow).unwrap().trend[0] > u16::MAX / 2, "a slow trend remembers longer");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let config = PackerConfig { trend_half_life_days: bad, ..Default::default() };
            assert!(build_pack(meta(), vec![], items.clone(), &log, &config).is_err(), "{bad}");
        }
    }

    #[test]
    fn histories_are_chronological_with_item_tie_break() {
        let log = [
            Interaction { user: 2, item: 3, timestamp_ms: 5 },
            Interaction { user: 2, item: 1, timestamp_ms: 5 },
            Interaction { user: 1, item: 0, timestamp_ms: 9 },
            Interaction { user: 2, item: 0, timestamp_ms: 1 },
            Interaction { user: 1, item: 99, timestamp_ms: 1 },
        ];
        assert_eq!(user_histories(&log, 4), vec![vec![(9, 0)], vec![(1, 0), (5, 1), (5, 3)]]);
    }
}
