//! Catalogue packs: the signed, compact bundle of population-level knowledge
//! (items, categories, item-to-item neighbours, popularity and what is popular
//! now, default ranker weights) that the app ships, and its verified in-memory form.
//!
//! The wire format (one version, named sections) is in [`format`].

mod format;
mod links;
mod rice;
mod tables;
mod vectors;

use std::sync::atomic::{AtomicU64, Ordering};

use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

use crate::error::PackError;
use crate::network::SequenceNetwork;

pub use format::{payload_from_sections, sign_payload, PACK_FORMAT_VERSION};
pub use links::LinkList;
use links::Links;
use tables::{IdIndex, ItemTable};

/// Categories that are never used to profile a person unless an explicit purpose allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveCategory {
    /// Health, medicine, pharmacy.
    Health,
    /// Religion and belief.
    Religion,
    /// Politics.
    Politics,
    /// Sexuality.
    Sexuality,
    /// Debt, loans, financial hardship.
    Finances,
    /// Products aimed at children.
    Children,
}

/// Describes where a pack came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackMeta {
    /// Monotonic version chosen by the app's backend.
    pub pack_version: u64,
    /// When the pack was built, in ms since the Unix epoch.
    pub built_at_ms: i64,
    /// Free-text description of the data the pack was learned from.
    pub source: String,
    /// The part of a larger catalogue the pack holds, when it was restricted to
    /// one (travels in its own optional section, not in the meta section).
    #[serde(skip)]
    pub coverage: Option<Coverage>,
}

/// What part of a larger catalogue a pack covers (e.g. one market or section of a shop).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// How the catalogue was restricted, e.g. `categories: Dairy, Bakery`.
    pub subset: String,
    /// Items in the catalogue it was taken from.
    pub source_items: u64,
}

/// A catalogue category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// Display name.
    pub name: String,
    /// Set when the category is sensitive.
    pub sensitive: Option<SensitiveCategory>,
}

/// A catalogue item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable string id used by the app.
    pub id: String,
    /// Display title (used in explanations).
    pub title: String,
    /// Indices into [`CatalogPack::categories`].
    pub categories: Vec<u32>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Set when the item itself is sensitive, whatever its categories.
    pub sensitive: Option<SensitiveCategory>,
    /// First moment the item may be recommended, if limited.
    pub available_from_ms: Option<i64>,
    /// Last moment the item may be recommended, if limited.
    pub available_until_ms: Option<i64>,
}

/// An item's top neighbours with int8-quantised weights: weight = q × scale / 127.
/// A pack stores them in item order, Rice-coded: each index as its gap from the
/// one before, the scale as a bfloat16 (see `links.rs`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeighbourList {
    /// The largest absolute weight in the list.
    pub scale: f32,
    /// Neighbour item indices (in ascending order once read from a pack).
    pub items: Vec<u32>,
    /// Quantised weights, parallel to `items`.
    pub weights: Vec<i8>,
}

/// Quantises `values` to int8 against their largest magnitude: returns (scale, q)
/// with value ≈ q × scale / 127.
fn quantise_int8(values: impl Iterator<Item = f32> + Clone) -> (f32, Vec<i8>) {
    let scale = largest_magnitude(values.clone());
    (scale, values.map(|w| int8_against(w, scale)).collect())
}

/// The largest absolute value of `values` (0 for none).
fn largest_magnitude(values: impl Iterator<Item = f32>) -> f32 {
    values.map(f32::abs).fold(0.0f32, f32::max)
}

/// `w` as a multiple of `scale / 127`, clamped to ±127.
fn int8_against(w: f32, scale: f32) -> i8 {
    if scale > 0.0 {
        (w / scale * 127.0).round().clamp(-127.0, 127.0) as i8
    } else {
        0
    }
}

impl NeighbourList {
    /// Quantises `(item, weight)` pairs into a list in item order, against
    /// their largest magnitude at the precision a pack carries it (as a pack stores it).
    pub fn quantise(pairs: &[(u32, f32)]) -> Self {
        let scale = links::at_scale_precision(largest_magnitude(pairs.iter().map(|p| p.1)));
        let weights = pairs.iter().map(|p| int8_against(p.1, scale)).collect();
        NeighbourList { scale, items: pairs.iter().map(|p| p.0).collect(), weights }.into_item_order()
    }

    /// The same list with its entries sorted by item index.
    fn into_item_order(self) -> Self {
        let mut pairs: Vec<(u32, i8)> = self.items.into_iter().zip(self.weights).collect();
        pairs.sort_unstable();
        let (items, weights) = pairs.into_iter().unzip();
        NeighbourList { scale: self.scale, items, weights }
    }

    /// Iterates `(neighbour index, weight)`.
    pub fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.items.iter().zip(&self.weights).map(move |(&i, &q)| (i, f32::from(q) * self.scale / 127.0))
    }
}

/// Item embeddings, int8-quantised per item: value = q × scales[item] / 127.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embeddings {
    /// Dimensions per item.
    pub dim: u16,
    /// Per item, the largest absolute component.
    pub scales: Vec<f32>,
    /// Row-major quantised components, `dim` per item.
    pub values: Vec<i8>,
}

impl Embeddings {
    /// Quantises row-major `rows` of `dim` components each.
    pub fn quantise(dim: usize, rows: &[f32]) -> Self {
        let mut scales = Vec::with_capacity(rows.len() / dim.max(1));
        let mut values = Vec::with_capacity(rows.len());
        for row in rows.chunks(dim.max(1)) {
            let (scale, q) = quantise_int8(row.iter().copied());
            scales.push(scale);
            values.extend(q);
        }
        Embeddings { dim: dim as u16, scales, values }
    }

    /// A person's taste: the embeddings of `most_recent_first` weighted as the
    /// history block weighs them ([`crate::model::history_weight`]), summed and
    /// scaled to unit length (empty without history).
    pub fn taste(&self, most_recent_first: &[u32]) -> Vec<f32> {
        if most_recent_first.is_empty() {
            return Vec::new();
        }
        let mut taste = vec![0f64; usize::from(self.dim)];
        for (back, &item) in most_recent_first.iter().enumerate() {
            let weight = crate::model::history_weight(back);
            taste.iter_mut().zip(self.vector(item)).for_each(|(t, x)| *t += weight * f64::from(x));
        }
        let norm = taste.iter().map(|x| x * x).sum::<f64>().sqrt();
        taste.iter().map(|&x| if norm > 0.0 { (x / norm) as f32 } else { 0.0 }).collect()
    }

    /// The cosine between item `index` and a unit-length `taste` (0 for a zero
    /// vector). Read from the int8 values directly: the item's scale cancels.
    pub fn cosine(&self, index: u32, taste: &[f32]) -> f64 {
        let dim = usize::from(self.dim);
        let values = &self.values[index as usize * dim..(index as usize + 1) * dim];
        let (dot, norm) = values.iter().zip(taste).fold((0.0f64, 0.0f64), |(dot, norm), (&q, &t)| {
            let q = f64::from(q);
            (dot + q * f64::from(t), norm + q * q)
        });
        if norm > 0.0 && self.scales[index as usize] > 0.0 {
            dot / norm.sqrt()
        } else {
            0.0
        }
    }

    /// The de-quantised vector of item `index`.
    pub fn vector(&self, index: u32) -> impl Iterator<Item = f32> + '_ {
        let factor = self.factor(index);
        self.row(index).iter().map(move |&q| f32::from(q) * factor)
    }

    /// Item `index`'s quantised components.
    pub fn row(&self, index: u32) -> &[i8] {
        let dim = usize::from(self.dim);
        &self.values[index as usize * dim..(index as usize + 1) * dim]
    }

    /// What one quantised unit of item `index`'s components is worth.
    pub fn factor(&self, index: u32) -> f32 {
        self.scales[index as usize] / 127.0
    }

    /// The dot product of rows `a` and `b`'s quantised components, exact.
    pub fn dot_rows(&self, a: u32, b: u32) -> i32 {
        crate::kernels::dot_i8_i8(self.row(a), self.row(b))
    }

    /// The dot product of item `index`'s quantised components with integer
    /// levels `x`, exact: the caller keeps `128 × max |x| × dim` within `i32`.
    pub fn dot_levels(&self, index: u32, x: &[i16]) -> i32 {
        debug_assert_eq!(x.len(), usize::from(self.dim));
        crate::kernels::dot_i8_i16(self.row(index), x)
    }
}

/// Ranker weights used until the device has learned its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankerWeights {
    /// Weight of item-to-item evidence from the user's history.
    pub neighbour: f32,
    /// Weight of "what comes next" transitions from the most recent items.
    pub transition: f32,
    /// Weight of the user's category affinity.
    pub category: f32,
    /// Weight of the popularity prior.
    pub popularity: f32,
    /// Extra weight of very recent events (the short-term interest, which halves
    /// every 6 hours): what someone did in the last hours predicts what they want next.
    pub session_boost: f32,
    /// Extra weight of the items engaged with most recently by position in the
    /// history (halving every 8 steps back), whatever the clock says: rating or
    /// browsing bursts happen within minutes.
    pub sequence_boost: f32,
    /// Weight of the sequence network's "what comes next" log-odds, when the pack has one.
    pub network: f32,
    /// Weight of what is popular now (the pack's trend) for someone coming back
    /// after a break: it takes effect as time passes since their last event (half
    /// of it after [`crate::model::RETURN_HALF_LIFE_MS`]) and in full before any history.
    pub trend: f32,
    /// Weight of how close an item's embedding lies to the person's taste (the
    /// cosine with their recent items' embeddings, decayed as the history is),
    /// when the pack carries embeddings.
    pub embedding: f32,
    /// Weight of how due an item the person bought is to be bought again
    /// ([`crate::repurchase`]), for repeatable items (and every item bought in
    /// a "buy it again" list).
    pub repurchase: f32,
}

/// A request dated more than this before the moment a pack's trend describes
/// gets no trend: what will be popular is not "now" yet. Only a wrong device
/// clock, or an evaluation replaying the past, asks that.
pub const TREND_CLOCK_TOLERANCE_MS: i64 = 86_400_000;

/// How much the trend counts for someone returning after a long break, chosen on
/// the ML-1M temporal validation split (`examples/movielens/eval.sh`).
pub const TREND_WEIGHT: f32 = 0.5;

/// How much the cosine between an item's embedding and the person's taste
/// counts, chosen on ML-1M validation with an EASE pack and 32 implicit-ALS
/// factors (`mizan eval --model ease --als-factors 32`, BENCHMARKS.md).
pub const EMBEDDING_WEIGHT: f32 = 2.0;

/// How much being due to be bought again counts, chosen on the validation
/// baskets of the seeded household simulator (`mizan eval-basket`,
/// BENCHMARKS.md: 4 and 8 within 0.003 NDCG@10, the smaller kept so that a
/// shop selling more than groceries still lists new things).
pub const REPURCHASE_WEIGHT: f32 = 4.0;

/// How much a sequence network's log-odds count beside the item-to-item
/// evidence, chosen on ML-1M validation (`examples/movielens/eval.sh`): the
/// default, and what packs with a network ship.
pub const NETWORK_WEIGHT: f32 = 0.01;

impl Default for RankerWeights {
    fn default() -> Self {
        RankerWeights {
            neighbour: 1.0,
            transition: 0.6,
            category: 0.35,
            popularity: 0.15,
            session_boost: 3.0,
            sequence_boost: 2.0,
            network: NETWORK_WEIGHT,
            trend: TREND_WEIGHT,
            embedding: EMBEDDING_WEIGHT,
            repurchase: REPURCHASE_WEIGHT,
        }
    }
}

/// The names of the ranker weights, as packs and the CLI spell them.
pub const WEIGHT_NAMES: [&str; 10] =
    ["neighbour", "transition", "category", "popularity", "session_boost", "sequence_boost", "network", "trend", "embedding", "repurchase"];

impl RankerWeights {
    /// Every weight 0: a pack without any part.
    pub fn zero() -> Self {
        RankerWeights::from_named(std::iter::empty())
    }

    /// Every weight with its name, in [`WEIGHT_NAMES`] order.
    pub fn named(&self) -> [(&'static str, f32); 10] {
        let w = self;
        let values = [w.neighbour, w.transition, w.category, w.popularity, w.session_boost, w.sequence_boost, w.network, w.trend, w.embedding, w.repurchase];
        std::array::from_fn(|i| (WEIGHT_NAMES[i], values[i]))
    }

    /// The weight called `name`, if there is one.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut f32> {
        Some(match name {
            "neighbour" => &mut self.neighbour,
            "transition" => &mut self.transition,
            "category" => &mut self.category,
            "popularity" => &mut self.popularity,
            "session_boost" => &mut self.session_boost,
            "sequence_boost" => &mut self.sequence_boost,
            "network" => &mut self.network,
            "trend" => &mut self.trend,
            "embedding" => &mut self.embedding,
            "repurchase" => &mut self.repurchase,
            _ => return None,
        })
    }

    /// Weights from (name, value) pairs: unknown names are ignored (a newer
    /// pack's parts), missing ones are 0 (the pack has no such part).
    pub fn from_named<'a>(pairs: impl IntoIterator<Item = (&'a str, f32)>) -> Self {
        let mut w = RankerWeights {
            neighbour: 0.0,
            transition: 0.0,
            category: 0.0,
            popularity: 0.0,
            session_boost: 0.0,
            sequence_boost: 0.0,
            network: 0.0,
            trend: 0.0,
            embedding: 0.0,
            repurchase: 0.0,
        };
        for (name, value) in pairs {
            if let Some(slot) = w.get_mut(name) {
                *slot = value;
            }
        }
        w
    }
}

/// The decoded contents of a pack.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogPack {
    /// Provenance.
    pub meta: PackMeta,
    /// All categories.
    pub categories: Vec<Category>,
    /// All items.
    pub items: Vec<Item>,
    /// Per item (same order as `items`), its strongest neighbours.
    pub neighbours: Vec<NeighbourList>,
    /// Per item, the items that most often come next after it.
    pub transitions: Vec<NeighbourList>,
    /// Per item, popularity in 0..=65535 (relative to the most popular).
    pub popularity: Vec<u16>,
    /// Per item, what is popular now in 0..=65535 (relative to the item most
    /// popular now): interactions weighed by how recent they were when the pack
    /// was built. All zero in packs from before format 4.
    pub trend: Vec<u16>,
    /// The moment the trend describes: the newest interaction it counts, in ms
    /// since the Unix epoch. Requests dated well before it get no trend.
    pub trend_as_of_ms: i64,
    /// Optional item embeddings (implicit ALS, or factors trained elsewhere).
    pub embeddings: Option<Embeddings>,
    /// Optional sequence network scoring what comes next.
    pub network: Option<SequenceNetwork>,
    /// Per item (empty when the pack knows no purchase rhythms), the median
    /// time between a person's orders of it in hours, 0 for items people do
    /// not buy again and again: the prior of the on-device repurchase rhythm.
    pub repurchase_hours: Vec<u16>,
    /// Cold-start ranker weights.
    pub default_weights: RankerWeights,
}

impl CatalogPack {
    /// Serialises and signs the pack with `signer`.
    pub fn sign(&self, signer: &Ed25519KeyPair) -> Vec<u8> {
        format::sign_payload(&format::encode_payload(self), signer)
    }

    /// The name and size in bytes of each section of a signed pack, in order
    /// (after checking the signature against `trusted_keys`).
    pub fn section_sizes(bytes: &[u8], trusted_keys: &[Vec<u8>]) -> Result<Vec<(String, usize)>, PackError> {
        format::section_sizes(format::verified_payload(bytes, trusted_keys)?)
    }

    /// Checks the signature against `trusted_keys` (raw 32-byte Ed25519 public
    /// keys) and only then decodes and checks the contents.
    pub fn verify(bytes: &[u8], trusted_keys: &[Vec<u8>]) -> Result<Self, PackError> {
        let pack = format::decode_payload(format::verified_payload(bytes, trusted_keys)?)?.into_pack();
        pack.check_consistency()?;
        Ok(pack)
    }

    fn check_consistency(&self) -> Result<(), PackError> {
        let n = self.items.len();
        if self.neighbours.len() != n || self.transitions.len() != n {
            return Err(PackError::Malformed("per-item tables differ in length"));
        }
        let n_cat = self.categories.len() as u32;
        if self.items.iter().any(|i| i.id.is_empty() || i.categories.iter().any(|&c| c >= n_cat)) {
            return Err(PackError::Malformed("item with empty id or unknown category"));
        }
        let bad_list = |l: &NeighbourList| l.items.len() != l.weights.len() || !in_bounds(l.scale) || l.items.iter().any(|&i| i as usize >= n);
        if self.neighbours.iter().chain(&self.transitions).any(bad_list) {
            return Err(PackError::Malformed("neighbour list out of range"));
        }
        check_model(n, &self.popularity, &self.trend, self.embeddings.as_ref(), self.network.as_ref(), &self.repurchase_hours, &self.default_weights)
    }
}

/// Checks the per-item tables and model parts of a catalogue of `n` items
/// (items and links are checked as they are laid out).
fn check_model(
    n: usize,
    popularity: &[u16],
    trend: &[u16],
    embeddings: Option<&Embeddings>,
    network: Option<&SequenceNetwork>,
    repurchase_hours: &[u16],
    w: &RankerWeights,
) -> Result<(), PackError> {
    if popularity.len() != n || trend.len() != n {
        return Err(PackError::Malformed("per-item tables differ in length"));
    }
    if let Some(e) = embeddings {
        let dim = usize::from(e.dim);
        if dim == 0 || e.scales.len() != n || e.values.len() != n * dim || !e.scales.iter().all(|&s| in_bounds(s)) {
            return Err(PackError::Malformed("embeddings"));
        }
    }
    if network.is_some_and(|net| !net.is_consistent(n)) {
        return Err(PackError::Malformed("sequence network"));
    }
    if !repurchase_hours.is_empty() && repurchase_hours.len() != n {
        return Err(PackError::Malformed("repurchase intervals"));
    }
    if !w.named().iter().all(|&(_, x)| in_bounds(x)) || w.session_boost < 0.0 || w.sequence_boost < 0.0 {
        return Err(PackError::Malformed("default weights"));
    }
    Ok(())
}

/// The largest magnitude a pack may give a weight, a scale or a network value.
/// Real packs stay far below it (EASE and LLR weights under 1, the sequential
/// model's boost 40); bounded so, no sum a ranking makes can overflow to an
/// infinity or a NaN, even from a hostile pack signed by a trusted key.
pub const MAX_PACK_VALUE: f32 = 1.0e6;

/// Whether `x` is a value a pack may carry: finite and within [`MAX_PACK_VALUE`].
pub(crate) fn in_bounds(x: f32) -> bool {
    x.is_finite() && x.abs() <= MAX_PACK_VALUE
}

/// The raw public key of a signing key pair, for [`CatalogPack::verify`].
pub fn public_key(signer: &Ed25519KeyPair) -> Vec<u8> {
    signer.public_key().as_ref().to_vec()
}

/// A verified pack in its compact in-memory form, indexed for lookups.
#[derive(Debug, Clone)]
pub struct Catalog {
    meta: PackMeta,
    categories: Vec<Category>,
    weights: RankerWeights,
    popularity: Vec<u16>,
    trend: Vec<u16>,
    trend_as_of_ms: i64,
    embeddings: Option<Embeddings>,
    network: Option<SequenceNetwork>,
    repurchase_hours: Vec<u16>,
    items: ItemTable,
    index: IdIndex,
    neighbours: Links,
    transitions: Links,
    sensitive: Vec<bool>,
    /// Per category, its items, most popular first (ties by index).
    category_items: Vec<Vec<u32>>,
    /// The categories that are not sensitive, in index order.
    open_categories: Vec<u32>,
    /// The [`HEAD_LEN`] most popular items, most popular first.
    popular_head: Vec<u32>,
    /// The [`HEAD_LEN`] items most popular now, first first.
    trending_head: Vec<u32>,
    /// Unique to this catalogue among those made in the process (a clone keeps it).
    instance: u64,
}

/// The next [`Catalog::instance`].
static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(0);

/// How many of the most popular (and most popular now) items a catalogue keeps
/// at hand as candidates.
pub const HEAD_LEN: usize = 64;

/// The items of `pool` ordered by `key` (larger first, ties by index).
fn by_key_desc(mut pool: Vec<u32>, key: &[u16]) -> Vec<u32> {
    pool.sort_unstable_by(|&a, &b| key[b as usize].cmp(&key[a as usize]).then(a.cmp(&b)));
    pool
}

/// The `len` items with the largest `key` (ties by index), largest first.
fn head(key: &[u16], len: usize) -> Vec<u32> {
    let mut all: Vec<u32> = (0..key.len() as u32).collect();
    let order = |&a: &u32, &b: &u32| key[b as usize].cmp(&key[a as usize]).then(a.cmp(&b));
    if all.len() > len {
        all.select_nth_unstable_by(len, order);
        all.truncate(len);
    }
    all.sort_unstable_by(order);
    all
}

/// How many bytes a catalogue holds in memory, by part (for reports and benches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CatalogFootprint {
    /// Ids, titles, categories and flags of the items.
    pub items: usize,
    /// The id index.
    pub index: usize,
    /// Neighbour and transition links.
    pub links: usize,
    /// Item embeddings and the sequence network.
    pub vectors: usize,
    /// Popularity, trend, and the per-category and head lists.
    pub other: usize,
}

impl Catalog {
    /// Checks a pack and lays it out compactly. Fails if its contents are
    /// inconsistent or item ids repeat.
    pub fn new(pack: CatalogPack) -> Result<Self, PackError> {
        pack.check_consistency()?;
        Catalog::assemble(format::Decoded {
            items: ItemTable::new(&pack.items)?,
            neighbours: Links::new(&pack.neighbours)?,
            transitions: Links::new(&pack.transitions)?,
            meta: pack.meta,
            categories: pack.categories,
            popularity: pack.popularity,
            weights: pack.default_weights,
            trend: pack.trend,
            trend_as_of_ms: pack.trend_as_of_ms,
            embeddings: pack.embeddings,
            network: pack.network,
            repurchase_hours: pack.repurchase_hours,
        })
    }

    /// Verifies signed bytes and lays the pack out, with no allocation per item.
    pub fn from_signed(bytes: &[u8], trusted_keys: &[Vec<u8>]) -> Result<Self, PackError> {
        let decoded = format::decode_payload(format::verified_payload(bytes, trusted_keys)?)?;
        let d = &decoded;
        check_model(d.items.len(), &d.popularity, &d.trend, d.embeddings.as_ref(), d.network.as_ref(), &d.repurchase_hours, &d.weights)?;
        Catalog::assemble(decoded)
    }

    /// Indexes a checked, laid-out pack.
    fn assemble(d: format::Decoded) -> Result<Self, PackError> {
        let n = d.items.len();
        let index = IdIndex::new(&d.items, n)?;
        let sensitive = (0..n as u32)
            .map(|i| d.items.item_sensitive(i).is_some() || d.items.categories(i).iter().any(|&c| d.categories[c as usize].sensitive.is_some()))
            .collect();
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); d.categories.len()];
        for i in 0..n as u32 {
            d.items.categories(i).iter().for_each(|&c| members[c as usize].push(i));
        }
        let category_items = members.into_iter().map(|m| by_key_desc(m, &d.popularity)).collect();
        let (popular_head, trending_head) = (head(&d.popularity, HEAD_LEN), head(&d.trend, HEAD_LEN));
        let open_categories = (0..d.categories.len() as u32).filter(|&c| d.categories[c as usize].sensitive.is_none()).collect();
        Ok(Catalog {
            neighbours: d.neighbours,
            transitions: d.transitions,
            meta: d.meta,
            categories: d.categories,
            weights: d.weights,
            popularity: d.popularity,
            trend: d.trend,
            trend_as_of_ms: d.trend_as_of_ms,
            embeddings: d.embeddings,
            network: d.network,
            repurchase_hours: d.repurchase_hours,
            items: d.items,
            index,
            sensitive,
            category_items,
            open_categories,
            popular_head,
            trending_head,
            instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Which catalogue this is: unique among the catalogues made in the
    /// process, so that what was derived from one is never read as another's.
    pub(crate) fn instance(&self) -> u64 {
        self.instance
    }

    /// Where the pack came from.
    pub fn meta(&self) -> &PackMeta {
        &self.meta
    }

    /// All categories.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The categories that are not sensitive, in index order.
    pub fn open_categories(&self) -> &[u32] {
        &self.open_categories
    }

    /// The ranker weights the pack ships.
    pub fn weights(&self) -> &RankerWeights {
        &self.weights
    }

    /// The pack's item embeddings, if any.
    pub fn embeddings(&self) -> Option<&Embeddings> {
        self.embeddings.as_ref()
    }

    /// The pack's sequence network, if any.
    pub fn network(&self) -> Option<&SequenceNetwork> {
        self.network.as_ref()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.popularity.len()
    }

    /// Whether the catalogue has no items.
    pub fn is_empty(&self) -> bool {
        self.popularity.is_empty()
    }

    /// Looks up an item's index by id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.index.get(&self.items, id)
    }

    /// The id of the item at `index`.
    pub fn id(&self, index: u32) -> &str {
        self.items.id(index)
    }

    /// The display title of the item at `index`.
    pub fn title(&self, index: u32) -> &str {
        self.items.title(index)
    }

    /// The categories of the item at `index`.
    pub fn item_categories(&self, index: u32) -> &[u32] {
        self.items.categories(index)
    }

    /// Whether the item may be bought again and again (tagged [`crate::rank::REPEATABLE_TAG`]).
    pub fn is_repeatable(&self, index: u32) -> bool {
        self.items.is_repeatable(index)
    }

    /// The median time between a person's orders of the item across the
    /// pack's data, for items people buy again and again.
    pub fn repurchase_interval_ms(&self, index: u32) -> Option<f64> {
        let hours = *self.repurchase_hours.get(index as usize).filter(|&&h| h > 0)?;
        Some(f64::from(hours) * 3_600_000.0)
    }

    /// The category at `index`.
    pub fn category(&self, index: u32) -> &Category {
        &self.categories[index as usize]
    }

    /// Whether the item belongs to any sensitive category.
    pub fn is_sensitive(&self, index: u32) -> bool {
        self.sensitive[index as usize]
    }

    /// Popularity of the item in 0..=1.
    pub fn popularity(&self, index: u32) -> f32 {
        f32::from(self.popularity[index as usize]) / f32::from(u16::MAX)
    }

    /// How popular the item is now (as of the pack's build), in 0..=1.
    pub fn trend(&self, index: u32) -> f32 {
        f32::from(self.trend[index as usize]) / f32::from(u16::MAX)
    }

    /// Whether the trend describes `now_ms` or a moment before it (within
    /// [`TREND_CLOCK_TOLERANCE_MS`]); not for a request dated before it.
    pub fn trend_in_force(&self, now_ms: i64) -> bool {
        now_ms >= self.trend_as_of_ms.saturating_sub(TREND_CLOCK_TOLERANCE_MS)
    }

    /// The items of category `c`, most popular first (ties by index).
    pub fn category_items(&self, c: u32) -> &[u32] {
        &self.category_items[c as usize]
    }

    /// The [`HEAD_LEN`] most popular items, most popular first.
    pub fn popular_head(&self) -> &[u32] {
        &self.popular_head
    }

    /// The [`HEAD_LEN`] items most popular now, most popular first.
    pub fn trending_head(&self) -> &[u32] {
        &self.trending_head
    }

    /// The item's neighbours.
    pub fn neighbours(&self, index: u32) -> LinkList<'_> {
        self.neighbours.of(index)
    }

    /// The largest weight of any item's neighbour list (quantised weights are
    /// relative to their list's).
    pub fn max_neighbour_scale(&self) -> f32 {
        self.neighbours.max_scale()
    }

    /// The items that most often follow this one.
    pub fn transitions(&self, index: u32) -> LinkList<'_> {
        self.transitions.of(index)
    }

    /// Whether the item may be recommended at `now_ms`.
    pub fn is_available(&self, index: u32, now_ms: i64) -> bool {
        let (from, until) = self.items.window(index);
        from.is_none_or(|from| now_ms >= from) && until.is_none_or(|until| now_ms <= until)
    }

    /// The bytes this catalogue holds in memory, by part.
    pub fn footprint(&self) -> CatalogFootprint {
        let embeddings = self.embeddings.as_ref().map_or(0, |e| e.values.len() + 4 * e.scales.len());
        let network =
            self.network.as_ref().map_or(0, |n| n.input.values.len() + 4 * (n.input.scales.len() + n.hidden.len() + n.hidden_bias.len() + n.output_bias.len()));
        let lists: usize = self.category_items.iter().map(|c| 4 * c.len() + 24).sum();
        CatalogFootprint {
            items: self.items.heap_bytes() + self.sensitive.len(),
            index: self.index.heap_bytes(),
            links: self.neighbours.heap_bytes() + self.transitions.heap_bytes(),
            vectors: embeddings + network,
            other: 2 * (self.popularity.len() + self.trend.len()) + lists + 4 * (self.popular_head.len() + self.trending_head.len()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// When the test pack's trend was taken: the other modules' tests' "now".
    pub(crate) const TREND_AS_OF_MS: i64 = 1_780_000_000_000;

    pub(crate) fn signer(seed: u8) -> Ed25519KeyPair {
        Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap()
    }

    pub(crate) fn tiny_pack() -> CatalogPack {
        let item = |id: &str, cat: u32| Item {
            id: id.into(),
            title: id.to_uppercase(),
            categories: vec![cat],
            tags: vec![],
            sensitive: None,
            available_from_ms: None,
            available_until_ms: None,
        };
        CatalogPack {
            meta: PackMeta { pack_version: 1, built_at_ms: 0, source: "test".into(), coverage: None },
            categories: vec![
                Category { name: "fruit".into(), sensitive: None },
                Category { name: "pharmacy".into(), sensitive: Some(SensitiveCategory::Health) },
            ],
            items: vec![item("a", 0), item("b", 0), item("c", 1)],
            neighbours: vec![NeighbourList::quantise(&[(1, 0.8)]), NeighbourList::quantise(&[(0, 0.8), (2, 0.1)]), NeighbourList::default()],
            transitions: vec![NeighbourList::default(), NeighbourList::default(), NeighbourList::quantise(&[(0, 0.5)])],
            popularity: vec![65535, 30000, 100],
            trend: vec![100, 65535, 30000],
            trend_as_of_ms: TREND_AS_OF_MS,
            embeddings: Some(Embeddings::quantise(2, &[1.0, 0.0, 0.9, 0.1, -0.5, 0.5])),
            network: None,
            repurchase_hours: Vec::new(),
            default_weights: RankerWeights::default(),
        }
    }

    #[test]
    fn values_past_the_bound_are_refused_even_when_signed() {
        let too_big = MAX_PACK_VALUE * 2.0;
        let mut weights = tiny_pack();
        weights.default_weights.popularity = too_big;
        let mut scale = tiny_pack();
        scale.neighbours[0].scale = too_big;
        let mut embedding = tiny_pack();
        embedding.embeddings.as_mut().unwrap().scales[1] = -too_big;
        for (what, pack) in [("weights", weights), ("list scale", scale), ("embedding scale", embedding)] {
            let verified = CatalogPack::verify(&pack.sign(&signer(1)), &[public_key(&signer(1))]);
            assert!(matches!(verified, Err(PackError::Malformed(_))), "{what}: {verified:?}");
        }
    }

    #[test]
    fn repurchase_intervals_travel_in_their_section_and_bad_ones_are_refused() {
        let pack = CatalogPack { repurchase_hours: vec![168, 0, 240], ..tiny_pack() };
        let catalog = Catalog::from_signed(&pack.sign(&signer(1)), &[public_key(&signer(1))]).unwrap();
        assert_eq!((catalog.repurchase_interval_ms(0), catalog.repurchase_interval_ms(1)), (Some(168.0 * 3_600_000.0), None));
        assert_eq!(CatalogPack::verify(&pack.sign(&signer(1)), &[public_key(&signer(1))]).unwrap(), pack);
        for bad in [vec![168, 0], vec![168; 4]] {
            let pack = CatalogPack { repurchase_hours: bad.clone(), ..tiny_pack() };
            let verified = Catalog::from_signed(&pack.sign(&signer(1)), &[public_key(&signer(1))]);
            assert!(matches!(verified, Err(PackError::Malformed("repurchase intervals"))), "{bad:?}");
            assert!(Catalog::new(pack).is_err());
        }
    }

    #[test]
    fn signed_pack_round_trips() {
        let bytes = tiny_pack().sign(&signer(1));
        let pack = CatalogPack::verify(&bytes, &[public_key(&signer(1))]).unwrap();
        assert_eq!(pack, tiny_pack());
    }

    #[test]
    fn refuses_tampered_truncated_and_foreign_packs() {
        let pack = CatalogPack { network: Some(crate::network::tests::successor_network(3)), ..tiny_pack() };
        let bytes = pack.sign(&signer(1));
        assert_eq!(CatalogPack::verify(&bytes, &[public_key(&signer(1))]).unwrap(), pack);
        let trusted = [public_key(&signer(1))];
        for i in 0..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x01;
            assert!(CatalogPack::verify(&t, &trusted).is_err(), "flip at byte {i} accepted");
        }
        for len in 0..bytes.len() {
            assert!(CatalogPack::verify(&bytes[..len], &trusted).is_err(), "truncation to {len} accepted");
        }
        assert_eq!(CatalogPack::verify(&bytes, &[public_key(&signer(2))]), Err(PackError::BadSignature));
        assert_eq!(CatalogPack::verify(&bytes, &[]), Err(PackError::NoTrustedKey));
        assert_eq!(CatalogPack::verify(b"hello world", &trusted), Err(PackError::NotAPack));
    }

    #[test]
    fn taste_follows_the_recent_items_and_cosine_measures_closeness() {
        let e = Embeddings::quantise(2, &[1.0, 0.0, 0.0, 2.0, 1.0, 1.0]);
        assert!(e.taste(&[]).is_empty());
        let taste = e.taste(&[1, 0]);
        assert!(taste[1] > taste[0] && taste[0] > 0.0, "the latest item weighs most: {taste:?}");
        assert!((taste.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-5, "unit length");
        assert!((e.cosine(1, &e.taste(&[1])) - 1.0).abs() < 1e-5);
        assert!(e.cosine(0, &e.taste(&[1])).abs() < 1e-5, "orthogonal");
        assert!((e.cosine(2, &e.taste(&[0])) - 0.5f64.sqrt()).abs() < 1e-2);
    }

    #[test]
    fn lists_are_stored_in_item_order_and_read_back() {
        let mut pack = tiny_pack();
        pack.neighbours[1] = NeighbourList { scale: 1.0, items: vec![2, 0], weights: vec![1, 2] };
        let read = CatalogPack::verify(&pack.sign(&signer(1)), &[public_key(&signer(1))]).unwrap();
        assert_eq!(read.neighbours[1], NeighbourList { scale: 1.0, items: vec![0, 2], weights: vec![2, 1] });
        assert_eq!(read.neighbours[1].iter().collect::<Vec<_>>(), vec![(0, 2.0 / 127.0), (2, 1.0 / 127.0)]);
    }

    #[test]
    fn refuses_links_that_run_past_the_catalogue() {
        let mut pack = tiny_pack();
        pack.neighbours[0] = NeighbourList { scale: 1.0, items: vec![1, u32::MAX], weights: vec![1, 1] };
        let bytes = pack.sign(&signer(1));
        assert_eq!(CatalogPack::verify(&bytes, &[public_key(&signer(1))]), Err(PackError::Malformed("neighbour list out of range")));
    }

    #[test]
    fn refuses_a_sequence_network_of_the_wrong_shape() {
        let pack = CatalogPack { network: Some(crate::network::tests::successor_network(4)), ..tiny_pack() };
        let bytes = pack.sign(&signer(1));
        assert_eq!(CatalogPack::verify(&bytes, &[public_key(&signer(1))]), Err(PackError::Malformed("sequence network")));
    }

    #[test]
    fn quantisation_error_is_bounded() {
        let pairs: Vec<(u32, f32)> = (0..50).map(|i| (i, (i as f32 * 0.37).sin())).collect();
        let list = NeighbourList::quantise(&pairs);
        for ((_, w), (_, q)) in pairs.iter().zip(list.iter()) {
            assert!((w - q).abs() <= list.scale / 254.0 + 1e-6);
        }
    }

    #[test]
    fn embedding_quantisation_error_is_bounded() {
        let rows: Vec<f32> = (0..64).map(|i| (i as f32 * 0.71).cos() * 3.0).collect();
        let e = Embeddings::quantise(16, &rows);
        for (item, row) in rows.chunks(16).enumerate() {
            for (v, q) in row.iter().zip(e.vector(item as u32)) {
                assert!((v - q).abs() <= e.scales[item] / 254.0 + 1e-6);
            }
        }
    }

    /// Rows multiplied in integers give the product of their de-quantised
    /// vectors, also at the extremes of the quantised range.
    #[test]
    fn row_dot_products_match_the_vectors() {
        let rows: Vec<f32> = (0..4 * 128).map(|i| (i as f32 * 0.53).sin() * (1 + i % 5) as f32).collect();
        let mut e = Embeddings::quantise(128, &rows);
        e.values[128..256].fill(-128);
        for (a, b) in [(0, 1), (1, 1), (2, 3), (0, 3)] {
            let expected: f64 = e.vector(a).zip(e.vector(b)).map(|(x, y)| f64::from(x) * f64::from(y)).sum();
            let dot = e.dot_rows(a, b) as f32 * e.factor(a) * e.factor(b);
            assert!((f64::from(dot) - expected).abs() <= 1e-5 * expected.abs().max(1.0), "rows {a} and {b}");
        }
    }

    #[test]
    fn sensitivity_and_availability() {
        let mut pack = tiny_pack();
        pack.items[0].available_until_ms = Some(100);
        let catalog = Catalog::new(pack).unwrap();
        assert!(catalog.is_sensitive(2) && !catalog.is_sensitive(0));
        assert!(catalog.is_available(0, 100) && !catalog.is_available(0, 101));
    }
}
