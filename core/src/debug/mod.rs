//! The model inspector's snapshot: what [`crate::inspect`] reports, plus the
//! current list with every signal's share of each score, why named items are
//! or are not listed, the interests, the hour-of-week engagement and the ranker's
//! on-device adjustments, as one versioned JSON document a developer pulls from
//! a test device. Aggregates only by default; sensitive items and categories
//! never appear in it.

use serde::{Deserialize, Serialize};

use crate::events::StoredEvent;
use crate::inspect::{InspectReport, Weighted};
use crate::timing::BestTime;

#[cfg(feature = "debug-api")]
mod build;
#[cfg(feature = "debug-api")]
pub(crate) use build::{build, DebugInputs};

/// The `format` field of every snapshot.
pub const SNAPSHOT_FORMAT: &str = "mizan-debug-snapshot";
/// The snapshot layout's version: fields are only ever added within a version.
pub const SNAPSHOT_VERSION: u32 = 1;
/// Most items a snapshot lists, and most items it may be asked about.
pub const MAX_DEBUG_ITEMS: u32 = 100;

/// What a snapshot holds beyond the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct DebugOptions {
    /// How many of the current top items to list, each explained (1..=[`MAX_DEBUG_ITEMS`]).
    pub top_n: u32,
    /// Items to explain whether listed or not, with why not (at most [`MAX_DEBUG_ITEMS`]).
    pub item_ids: Vec<String>,
    /// Also include the stored events (never those on sensitive items). Off by
    /// default: a snapshot holds aggregates only.
    pub include_raw_events: bool,
    /// The moment to describe; the device clock if `None`.
    pub now_ms: Option<i64>,
    /// The person's offset from UTC in minutes, to place quiet hours (22:00–08:00 local).
    pub utc_offset_minutes: i32,
    /// The app's per-item daily impression cap, as in its `recommend` requests.
    pub max_impressions_per_item_per_day: Option<u32>,
    /// The app's per-category daily impression cap, likewise.
    pub max_impressions_per_category_per_day: Option<u32>,
}

impl Default for DebugOptions {
    fn default() -> Self {
        DebugOptions {
            top_n: 10,
            item_ids: Vec::new(),
            include_raw_events: false,
            now_ms: None,
            utc_offset_minutes: 0,
            max_impressions_per_item_per_day: None,
            max_impressions_per_category_per_day: None,
        }
    }
}

/// The model inspector's document ([`SNAPSHOT_FORMAT`], [`SNAPSHOT_VERSION`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DebugSnapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// The layout version ([`SNAPSHOT_VERSION`]).
    pub version: u32,
    /// The moment described.
    pub taken_at_ms: i64,
    /// What [`crate::Engine::inspect`] reports: store health, policy, consents, pack.
    pub inspect: InspectReport,
    /// Each ranker weight: the pack's default and the one in force on the device.
    pub weights: Vec<WeightRow>,
    /// The profile's strongest interests.
    pub interests: Interests,
    /// Notification opens and session starts by hour of the week.
    pub engagement: Engagement,
    /// The current top items, as `recommend` lists them with default knobs and
    /// the options' caps.
    pub recommendations: Vec<ExplainedItem>,
    /// The items the developer asked about, listed or not.
    pub named_items: Vec<NamedItem>,
    /// Stored events, only when asked for ([`DebugOptions::include_raw_events`]).
    pub raw_events: Option<RawEvents>,
}

impl DebugSnapshot {
    /// The snapshot as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a snapshot is plain data")
    }
}

/// One ranker weight, as shipped and as in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightRow {
    /// The weight's name (as in `--weights name=value`).
    pub name: String,
    /// The pack's value.
    pub pack: f64,
    /// The value ranking uses: the pack's, adjusted by what the device learned from clicks.
    pub in_force: f64,
}

/// The profile's interests, strongest first; never sensitive ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interests {
    /// Category affinities, scaled to at most 1 in absolute value.
    pub categories: Vec<Weighted>,
    /// Item interests (decayed; negative after dismissals or low ratings).
    pub items: Vec<ItemWeight>,
    /// Items in the profile, listed or not.
    pub items_in_profile: u64,
}

/// An item with a weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemWeight {
    /// Catalogue id.
    pub item_id: String,
    /// Display title.
    pub title: String,
    /// The weight.
    pub weight: f64,
}

/// Engagement by hour of the week, and the best-time answer it gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Engagement {
    /// Decayed notification opens and session starts per UTC hour of the week,
    /// Monday 00:00 UTC first (168 values).
    pub by_hour_of_week: Vec<f64>,
    /// Notification opens and session starts counted.
    pub events: u64,
    /// The offset from UTC the quiet hours are placed with.
    pub utc_offset_minutes: i32,
    /// The UTC hours of the week (indices into `by_hour_of_week`) that fall in
    /// the quiet hours, 22:00–08:00 local.
    pub quiet_hours_of_week: Vec<u32>,
    /// `best_time`'s answer for the next week.
    pub best_time: BestTimeSummary,
}

/// `best_time`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestTimeSummary {
    /// The start of the suggested hour, ms since the Unix epoch.
    pub at_ms: i64,
    /// Its local hour.
    pub local_hour: u8,
    /// Its local weekday, Monday = 0.
    pub weekday: u8,
    /// 0–1.
    pub confidence: f32,
    /// Whether a default was used (too little data or no consent).
    pub fallback: bool,
}

impl From<BestTime> for BestTimeSummary {
    fn from(b: BestTime) -> Self {
        BestTimeSummary { at_ms: b.at_ms, local_hour: b.local_hour, weekday: b.weekday, confidence: b.confidence, fallback: b.fallback }
    }
}

/// One signal's share of an item's score: an item's contributions sum to its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The signal: neighbour, transition, network, category, popularity, trend,
    /// embedding, novelty or penalty.
    pub signal: String,
    /// The signal's value for the item, before weighting.
    pub value: f64,
    /// Its weight in force (novelty 1; a penalty −1).
    pub weight: f64,
    /// `weight × value`: what it adds to the score.
    pub contribution: f64,
    /// The strongest history items (or categories) behind it, never sensitive ones.
    pub sources: Vec<Source>,
}

/// A history item or category behind a signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Item id, or category name.
    pub id: String,
    /// Item title, or category name.
    pub title: String,
    /// Its share of the signal's contribution (weighted).
    pub contribution: f64,
}

/// A listed item with its whole explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainedItem {
    /// Place in the list, from 1.
    pub position: u32,
    /// Catalogue id.
    pub item_id: String,
    /// Display title.
    pub title: String,
    /// The score `recommend` gives it (the sum of `contributions`).
    pub score: f64,
    /// Every signal's share of the score.
    pub contributions: Vec<Contribution>,
    /// Every reason for its score, strongest first. `recommend` lists at most
    /// [`crate::rank::LISTED_REASONS`]: an explored or "buy it again" item's
    /// lead, then the first of these.
    pub reasons: Vec<String>,
    /// How it got its place: not part of the score.
    pub placement: PlacementSummary,
}

/// How a listed item got its place. Diversity re-ranking (MMR) and exploration
/// reorder the list without changing any score: this is the part of a list's
/// order its scores do not explain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementSummary {
    /// "relevance" (by score, then diversity re-ranking) or "exploration".
    pub kind: String,
    /// Its rank by score alone among the eligible items, from 1 (relevance only).
    pub relevance_rank: Option<u32>,
    /// The category explored (exploration only).
    pub category: Option<String>,
}

/// An item the developer asked about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedItem {
    /// The id as asked.
    pub item_id: String,
    /// Whether it is listed, and if not, why.
    pub verdict: Verdict,
    /// Its score were it ranked (none for unknown and sensitive items).
    pub score: Option<f64>,
    /// Every signal's share of that score.
    pub contributions: Vec<Contribution>,
}

/// Whether a named item is in the list, and if not, the first reason it is not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    /// In the list at this position (from 1).
    Listed {
        /// Place in the list.
        position: u32,
    },
    /// Not in the catalogue.
    Unknown,
    /// In a sensitive category: never described in a snapshot.
    Sensitive,
    /// Outside its availability window.
    Unavailable,
    /// The person said "not interested" in it or its category (within 30 days).
    NotInterested,
    /// Hidden by a frequency cap on it or its category.
    Capped,
    /// Already bought or engaged with, and not repeatable.
    Seen,
    /// Not among the candidates the ranking scored (no history evidence, not a
    /// head of the person's categories, not popular or trending).
    OutsideCandidates,
    /// Scored, but below the listed items.
    BelowCut {
        /// The lowest score that made the list.
        lowest_listed_score: Option<f64>,
    },
}

/// Stored events, when asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawEvents {
    /// The events, oldest first, as stored (query words hashed unless the
    /// search-terms purpose was granted when they were recorded).
    pub events: Vec<StoredEvent>,
    /// Events on sensitive items left out.
    pub sensitive_left_out: u64,
}

